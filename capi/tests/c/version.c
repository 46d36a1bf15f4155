// cur_func_ver names the version of each frame: a frame live across a
// redefinition keeps its version, a later call runs the new one.
// expect: first: @f.v1
// expect: after the redefinition, the live frame: @f.v1
// expect: a new call: @f.v2
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @f VERSION %v1 <@v> {\n"
    "    %e():\n"
    "        [%t] TRAP <>\n"
    "        [%u] TRAP <>\n"
    "        RET ()\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        CALL <@v> @f ()\n"
    "        CALL <@v> @f ()\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static int n = 0;
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    const char *ver = ctx->name_of(ctx, ctx->cur_func_ver(ctx, cur));
    ctx->close_cursor(ctx, cur);
    n++;
    if (n == 1) {
        printf("first: %s\n", ver);
        load(ctx, ".funcdef @f VERSION %v2 <@v> {\n    %e():\n        [%t] TRAP <>\n        RET ()\n}\n");
    } else if (n == 2) {
        printf("after the redefinition, the live frame: %s\n", ver);
    } else {
        printf("a new call: %s\n", ver);
    }
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
