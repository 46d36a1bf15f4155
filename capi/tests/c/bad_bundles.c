// load_bundle is all or nothing: a bundle that fails to verify leaves nothing
// of itself, and the next one that uses the same names loads.
// expect: bad: client.load-failed
// expect: @half after the bad one: client.no-such-id
// expect: good: ok
// expect: @half now: nonzero
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
    load(ctx, ".const @half <@i64> = 1\n.const @bad <@nosuchtype> = 2\n");
    said(ctx, "bad");
    ctx->id_of(ctx, "@half");
    said(ctx, "@half after the bad one");
    load(ctx, ".const @half <@i64> = 1\n");
    said(ctx, "good");
    printf("@half now: %s\n", ctx->id_of(ctx, "@half") ? "nonzero" : "zero");
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
