// Integers of every width cross both ways: handle_from_sint8 of -1 reads back
// as 255 unsigned, int<1> keeps its low bit, and the sign of int<12> survives.
// expect: sint8 -1 as uint8: 255
// expect: uint16 65535 as sint16: -1
// expect: int<1> of 3: 1
// expect: int<12> of -5 as sint64: -5
// expect: uint64 max as sint64: -1
// expect: sint32 min: -2147483648
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        RET ()\n"
    "}\n";

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    printf("sint8 -1 as uint8: %u\n", ctx->handle_to_uint8(ctx, ctx->handle_from_sint8(ctx, -1, 8)));
    printf("uint16 65535 as sint16: %d\n", ctx->handle_to_sint16(ctx, ctx->handle_from_uint16(ctx, 65535, 16)));
    printf("int<1> of 3: %u\n", ctx->handle_to_uint32(ctx, ctx->handle_from_uint32(ctx, 3, 1)));
    printf("int<12> of -5 as sint64: %lld\n", (long long)ctx->handle_to_sint64(ctx, ctx->handle_from_sint32(ctx, -5, 12)));
    printf("uint64 max as sint64: %lld\n", (long long)ctx->handle_to_sint64(ctx, ctx->handle_from_uint64(ctx, UINT64_MAX, 64)));
    printf("sint32 min: %d\n", ctx->handle_to_sint32(ctx, ctx->handle_from_sint32(ctx, INT32_MIN, 32)));
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
