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
