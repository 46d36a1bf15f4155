// MuVM's own id_of and name_of, before any bundle and after one; an unknown
// name or ID is an error on the VM's channel.
// expect: before a bundle: client.no-such-id
// expect: @main round trip: @main
// expect: unknown ID: client.no-such-id
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
    const char *why = NULL;
    mvm->id_of(mvm, "@main");
    const char *c0 = mvm->muni_error(mvm, &why);
    printf("before a bundle: %s\n", c0 ? c0 : "ok");
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    printf("@main round trip: %s\n", mvm->name_of(mvm, mvm->id_of(mvm, "@main")));
    mvm->name_of(mvm, 77777);
    const char *c1 = mvm->muni_error(mvm, &why);
    printf("unknown ID: %s\n", c1 ? c1 : "ok");
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
