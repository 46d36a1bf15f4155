// A trap handler that answers with a result code muapi.h does not define stops
// the run there: muni_execute says where.
// expect: trap
// expect: execute: capi.run-ended
// expect:   the threads ended: client_trap @main.v1.entry.t
#include "common.h"

static const char *BUNDLE =
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n"
;

static inline const char *at(MuCtx *ctx, MuStackRefValue stack) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    const char *name = ctx->name_of(ctx, ctx->cur_inst(ctx, cur));
    ctx->close_cursor(ctx, cur);
    return name;
}

static inline MuValue kept(MuCtx *ctx, MuStackRefValue stack, int i) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuValue ks[8];
    ctx->dump_keepalives(ctx, cur, ks);
    ctx->close_cursor(ctx, cur);
    return ks[i];
}

static inline void resume_with(MuTrapHandlerResult *result, MuValue **values, MuArraySize *nvalues,
                               MuValuesFreer *freer, MuValue *vals, MuArraySize n) {
    *result = MU_REBIND_PASS_VALUES;
    *values = vals;
    *nvalues = n;
    *freer = NULL;
}

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    printf("trap\n");
    *result = 9;
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    mvm->set_trap_handler(mvm, handler, NULL);
    muni_execute(mvm);
    const char *msg = NULL;
    const char *code = mvm->muni_error(mvm, &msg);
    printf("execute: %s\n", code ? code : "ok");
    if (code) printf("  %s\n", msg);
    muni_close_vm(mvm);
    return 0;
}
