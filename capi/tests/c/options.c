// Options: every known key is taken, and a library that does not load, an
// unknown engine or a bad number gives no VM.
// expect: all keys: a VM
// expect: a missing library: NULL
// expect: fuel=lots: NULL
// expect: stack=-1: NULL
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        RET ()\n"
    "}\n";

int main(int argc, char **argv) {
    MuVM *all = muni_new_vm("engine=fast gc-stress=1 fuel=100 alloc=4096 stack=50");
    printf("all keys: %s\n", all ? "a VM" : "NULL");
    muni_close_vm(all);
    printf("a missing library: %s\n", muni_new_vm("lib=./no-such-library.so") ? "a VM" : "NULL");
    printf("fuel=lots: %s\n", muni_new_vm("fuel=lots") ? "a VM" : "NULL");
    printf("stack=-1: %s\n", muni_new_vm("stack=-1") ? "a VM" : "NULL");
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
