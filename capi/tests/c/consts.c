// handle_from_const and handle_from_expose in a trap handler: a constant's value,
// and a statically exposed function's C function pointer.
// expect: const 1234
// expect: handle_from_expose: ok
// expect: handle_to_fp: ok
// expect: exposed function: a C function pointer
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @i_i = (@i64) -> (@i64)\n"
    ".funcsig @v = () -> ()\n"
    ".const @K <@i64> = 1234\n"
    ".const @ZERO <@i64> = 0\n"
    ".const @TWO <@i64> = 2\n"
    ".funcdef @twice VERSION %v1 <@i_i> {\n"
    "    %e(<@i64> %x):\n"
    "        %y = MUL <@i64> %x @TWO\n"
    "        RET %y\n"
    "}\n"
    ".expose @twice_x = @twice #DEFAULT @ZERO\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuValue k = ctx->handle_from_const(ctx, ctx->id_of(ctx, "@K"));
    printf("const %lld\n", (long long)ctx->handle_to_sint64(ctx, k));
    MuValue x = ctx->handle_from_expose(ctx, ctx->id_of(ctx, "@twice_x"));
    said(ctx, "handle_from_expose");
    int64_t (*f)(int64_t) = (int64_t (*)(int64_t))ctx->handle_to_fp(ctx, x);
    said(ctx, "handle_to_fp");
    printf("exposed function: %s\n", f ? "a C function pointer" : "NULL");
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
