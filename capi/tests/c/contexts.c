// Two contexts of one VM share its bundles; closing one leaves the other usable;
// a value of one context is not a handle of the other.
// expect: second context sees @main
// expect: after closing the first: @main
// expect: a value of the other context: capi.bad-handle
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
    MuCtx *two = mvm->new_context(mvm);
    printf("second context sees %s\n", two->name_of(two, two->id_of(two, "@main")));
    MuValue mine = ctx->handle_from_sint64(ctx, 1, 64);
    MuValue a = ctx->handle_from_sint64(ctx, 2, 64);
    (void)a;
    ctx->close_context(ctx);
    printf("after closing the first: %s\n", two->name_of(two, two->id_of(two, "@main")));
    two->handle_to_sint64(two, (MuValue)((uintptr_t)mine + 40));
    said(two, "a value of the other context");
    ctx = two;
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
