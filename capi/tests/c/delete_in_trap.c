// A value deleted in a trap handler is not usable again; another still is.
// expect: deleted: capi.deleted-handle
// expect: kept: 3
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".const @THREE <@i64> = 3\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <> KEEPALIVE(@THREE @THREE)\n"
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
    MuValue a = kept(ctx, stack, 0), b = kept(ctx, stack, 1);
    ctx->delete_value(ctx, a);
    ctx->handle_to_sint64(ctx, a);
    said(ctx, "deleted");
    printf("kept: %lld\n", (long long)ctx->handle_to_sint64(ctx, b));
    resume_with(result, values, nvalues, freer, NULL, 0);
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
