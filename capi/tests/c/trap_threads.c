// A trap handler makes a stack and a thread of its own; it runs after the
// thread that trapped, with the argument the handler gave.
// expect: main traps
// expect: new_thread_nor: ok
// expect: main ends
// expect: the handler's thread got 9
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcsig @i_v = (@i64) -> ()\n"
    ".funcdef @child VERSION %v1 <@i_v> {\n"
    "    %e(<@i64> %x):\n"
    "        [%t] TRAP <> KEEPALIVE(%x)\n"
    "        RET ()\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        [%end] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    const char *name = at(ctx, stack);
    if (strcmp(name, "@main.v1.entry.t") == 0) {
        printf("main traps\n");
        MuStackRefValue s = ctx->new_stack(ctx, ctx->handle_from_func(ctx, ctx->id_of(ctx, "@child")));
        MuValue nine = ctx->handle_from_sint64(ctx, 9, 64);
        ctx->new_thread_nor(ctx, s, NULL, &nine, 1);
        said(ctx, "new_thread_nor");
    } else if (strcmp(name, "@main.v1.entry.end") == 0) {
        printf("main ends\n");
    } else {
        printf("the handler's thread got %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    }
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
