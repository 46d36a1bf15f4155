// A copied cursor moves on its own: the original stays at the top frame.
// expect: copy at @main
// expect: original at @leaf
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".funcsig @v = () -> ()\n"
    ".funcdef @leaf VERSION %v1 <@v> {\n"
    "    %e():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        CALL <@v> @leaf ()\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue a = ctx->new_cursor(ctx, stack);
    MuFCRefValue b = ctx->copy_cursor(ctx, a);
    ctx->next_frame(ctx, b);
    printf("copy at %s\n", ctx->name_of(ctx, ctx->cur_func(ctx, b)));
    printf("original at %s\n", ctx->name_of(ctx, ctx->cur_func(ctx, a)));
    ctx->close_cursor(ctx, b);
    ctx->close_cursor(ctx, a);
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
