// Five threads made before muni_execute run in the order they were made.
// expect: thread 1
// expect: thread 2
// expect: thread 3
// expect: thread 4
// expect: thread 5
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @i_v = (@i64) -> ()\n"
    ".funcdef @main VERSION %v1 <@i_v> {\n"
    "    %entry(<@i64> %n):\n"
    "        [%t] TRAP <> KEEPALIVE(%n)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    printf("thread %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    for (int i = 1; i <= 5; i++) {
        MuValue n = ctx->handle_from_sint64(ctx, i, 64);
        ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, &n, 1);
    }
    mvm->set_trap_handler(mvm, handler, NULL);
    return finish(mvm);
}
