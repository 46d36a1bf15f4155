// A call of a function that has no version traps to the client, which loads a
// bundle defining it and resumes: the call then runs the new version.
// expect: undefined function: @lazy
// expect: load: ok
// expect: got 43
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @i_i = (@i64) -> (@i64)\n"
    ".funcsig @v = () -> ()\n"
    ".const @FORTYTWO <@i64> = 42\n"
    ".funcdecl @lazy <@i_i>\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %r = CALL <@i_i> @lazy (@FORTYTWO)\n"
    "        [%report] TRAP <> KEEPALIVE(%r)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuID fn = ctx->cur_func(ctx, cur);
    MuID inst = ctx->cur_inst(ctx, cur);
    if (inst == 0) {
        ctx->close_cursor(ctx, cur);
        printf("undefined function: %s\n", ctx->name_of(ctx, fn));
        load(ctx, ".const @ONE <@i64> = 1\n"
                  ".funcdef @lazy VERSION %v1 <@i_i> {\n"
                  "    %e(<@i64> %x):\n"
                  "        %y = ADD <@i64> %x @ONE\n"
                  "        RET %y\n"
                  "}\n");
        said(ctx, "load");
    } else {
        MuValue kept[1];
        ctx->dump_keepalives(ctx, cur, kept);
        ctx->close_cursor(ctx, cur);
        printf("got %lld\n", (long long)ctx->handle_to_sint64(ctx, kept[0]));
    }
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
