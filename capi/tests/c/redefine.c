// A trap handler loads a new version of a function: calls after it run the new
// version.
// expect: before: 1
// expect: after: 2
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v_i = () -> (@i64)\n"
    ".funcsig @v = () -> ()\n"
    ".const @ONE <@i64> = 1\n"
    ".funcdef @f VERSION %v1 <@v_i> {\n"
    "    %e():\n"
    "        RET @ONE\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %a = CALL <@v_i> @f ()\n"
    "        [%t1] TRAP <> KEEPALIVE(%a)\n"
    "        %b = CALL <@v_i> @f ()\n"
    "        [%t2] TRAP <> KEEPALIVE(%b)\n"
    "        RET ()\n"
    "}\n"
;


static inline int64_t kept0(MuCtx *ctx, MuStackRefValue stack, MuID *inst) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    *inst = ctx->cur_inst(ctx, cur);
    MuValue kept[4];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    return ctx->handle_to_sint64(ctx, kept[0]);
}

static inline void resume_with_nothing(MuTrapHandlerResult *result, MuValue **values, MuArraySize *nvalues, MuValuesFreer *freer) {
    *result = MU_REBIND_PASS_VALUES;
    *values = NULL;
    *nvalues = 0;
    *freer = NULL;
}

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuID inst;
    int64_t v = kept0(ctx, stack, &inst);
    if (strcmp(ctx->name_of(ctx, inst), "@main.v1.entry.t1") == 0) {
        printf("before: %lld\n", (long long)v);
        load(ctx, ".const @TWO <@i64> = 2\n"
                  ".funcdef @f VERSION %v2 <@v_i> {\n"
                  "    %e():\n"
                  "        RET @TWO\n"
                  "}\n");
    } else {
        printf("after: %lld\n", (long long)v);
    }
    resume_with_nothing(result, values, nvalues, freer);
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
