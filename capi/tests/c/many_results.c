// A TRAP with three results of different widths, all given by the handler.
// expect: sum 7000301
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i8 = int<8>\n"
    ".typedef @i32 = int<32>\n"
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        (%a %b %c) = [%get] TRAP <@i8 @i32 @i64>\n"
    "        %a2 = ZEXT <@i8 @i64> %a\n"
    "        %b2 = SEXT <@i32 @i64> %b\n"
    "        %ab = ADD <@i64> %a2 %b2\n"
    "        %s = ADD <@i64> %ab %c\n"
    "        [%saw] TRAP <> KEEPALIVE(%s)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[3];
    if (strcmp(at(ctx, stack), "@main.v1.entry.get") == 0) {
        out[0] = ctx->handle_from_uint8(ctx, 1, 8);
        out[1] = ctx->handle_from_sint32(ctx, 300, 32);
        out[2] = ctx->handle_from_sint64(ctx, 7000000, 64);
        resume_with(result, values, nvalues, freer, out, 3);
        return;
    }
    printf("sum %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
