// Helpers the C clients share: a VM from argv[1], and the error channel.
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "muni.h"

static inline MuVM *vm_from_args(int argc, char **argv) {
    MuVM *mvm = muni_new_vm(argc > 1 ? argv[1] : "");
    if (!mvm) {
        printf("no VM\n");
        exit(1);
    }
    return mvm;
}

// Prints the error the last call left ("ok" if none).
static inline void said(MuCtx *ctx, const char *what) {
    const char *msg = NULL;
    const char *code = ctx->muni_error(ctx, &msg);
    printf("%s: %s\n", what, code ? code : "ok");
}

static inline void load(MuCtx *ctx, const char *text) {
    ctx->load_bundle(ctx, (char *)text, strlen(text));
}

static inline const char *at(MuCtx *ctx, MuStackRefValue stack) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    const char *name = ctx->name_of(ctx, ctx->cur_inst(ctx, cur));
    ctx->close_cursor(ctx, cur);
    return name;
}

// The i-th keep-alive value of the trapping frame.
static inline MuValue kept(MuCtx *ctx, MuStackRefValue stack, int i) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuValue ks[8];
    ctx->dump_keepalives(ctx, cur, ks);
    ctx->close_cursor(ctx, cur);
    return ks[i];
}

// Resume after the trap with these values.
static inline void resume_with(MuTrapHandlerResult *result, MuValue **values, MuArraySize *nvalues,
                               MuValuesFreer *freer, MuValue *vals, MuArraySize n) {
    *result = MU_REBIND_PASS_VALUES;
    *values = vals;
    *nvalues = n;
    *freer = NULL;
}

// Executes, says how it went, closes the VM.
static inline int finish(MuVM *mvm) {
    muni_execute(mvm);
    const char *msg = NULL;
    const char *code = mvm->muni_error(mvm, &msg);
    printf("execute: %s\n", code ? code : "ok");
    if (code) printf("  %s\n", msg);
    muni_close_vm(mvm);
    return 0;
}

// The usual client: load `bundle`, make one thread of @main with no arguments,
// set `handler` (NULL: none), then finish.
static inline int run(int argc, char **argv, const char *bundle, MuTrapHandler handler, void *userdata) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, bundle);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    if (handler) mvm->set_trap_handler(mvm, handler, userdata);
    return finish(mvm);
}
