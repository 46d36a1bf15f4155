// A cursor walks down the trapping stack: each frame's function, then the
// frame below.
// expect: frame @inner at @inner.v1.entry.t
// expect: frame @middle at @middle.v1.entry.c
// expect: frame @main at @main.v1.entry.c
// expect: below the bottom frame: client.no-frame
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @inner VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n"
    ".funcdef @middle VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%c] CALL <@v> @inner ()\n"
    "        RET ()\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%c] CALL <@v> @middle ()\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    for (int i = 0; i < 3; i++) {
        if (i > 0) ctx->next_frame(ctx, cur);
        printf("frame %s at %s\n", ctx->name_of(ctx, ctx->cur_func(ctx, cur)),
               ctx->name_of(ctx, ctx->cur_inst(ctx, cur)));
    }
    ctx->next_frame(ctx, cur);
    said(ctx, "below the bottom frame");
    ctx->close_cursor(ctx, cur);
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
