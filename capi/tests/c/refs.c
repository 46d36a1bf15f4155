// ref_eq of one object reached twice, and of two objects.
// expect: same object: 1
// expect: different objects: 0
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @refi64 = ref<@i64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %a = NEW <@i64>\n"
    "        %b = NEW <@i64>\n"
    "        [%t] TRAP <> KEEPALIVE(%a %a %b)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuValue a1 = kept(ctx, stack, 0), a2 = kept(ctx, stack, 1), b = kept(ctx, stack, 2);
    printf("same object: %d\n", ctx->ref_eq(ctx, a1, a2));
    printf("different objects: %d\n", ctx->ref_eq(ctx, a1, b));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
