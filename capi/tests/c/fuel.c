// A fuel budget from the options ends a loop that never would: muni_execute
// says the thread ran out of fuel.
// expect: execute: capi.run-ended
// expect:   the threads ended: exhausted fuel
#include "common.h"

static const char *BUNDLE =
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        BRANCH %loop()\n"
    "    %loop():\n"
    "        BRANCH %loop()\n"
    "}\n";

int main(int argc, char **argv) {
    char opts[64];
    snprintf(opts, sizeof opts, "%s fuel=10000", argc > 1 ? argv[1] : "");
    MuVM *mvm = muni_new_vm(opts);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
