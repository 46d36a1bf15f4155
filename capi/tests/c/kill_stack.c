// A stack made before the run can be killed; then no thread can take it, and
// only the other thread runs.
// expect: kill_stack: ok
// expect: a thread on the killed stack: client.stack-not-ready
// expect: the other thread runs
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    printf("the other thread runs\n");
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    MuStackRefValue dead = ctx->new_stack(ctx, f);
    ctx->kill_stack(ctx, dead);
    said(ctx, "kill_stack");
    ctx->new_thread_nor(ctx, dead, NULL, NULL, 0);
    said(ctx, "a thread on the killed stack");
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    mvm->set_trap_handler(mvm, handler, NULL);
    return finish(mvm);
}
