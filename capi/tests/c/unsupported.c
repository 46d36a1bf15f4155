// Functions muni does not support yet (the IR builder, HAIL, thread-locals,
// tagged references) report capi.unsupported; none is NULL.
// expect: new_bundle: capi.unsupported
// expect: load_hail: capi.unsupported
// expect: new_type_int: capi.unsupported
// expect: get_threadlocal: capi.unsupported
// expect: tr64_is_fp: capi.unsupported
// expect: extract_value: capi.unsupported
// expect: every field is filled
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
    ctx->new_bundle(ctx);
    said(ctx, "new_bundle");
    ctx->load_hail(ctx, "", 0);
    said(ctx, "load_hail");
    ctx->new_type_int(ctx, NULL, 8);
    said(ctx, "new_type_int");
    ctx->get_threadlocal(ctx, NULL);
    said(ctx, "get_threadlocal");
    ctx->tr64_is_fp(ctx, NULL);
    said(ctx, "tr64_is_fp");
    ctx->extract_value(ctx, NULL, 0);
    said(ctx, "extract_value");
    void **fields = (void **)ctx;
    size_t n = (sizeof(MuCtx) / sizeof(void *));
    int all = 1;
    for (size_t i = 1; i < n; i++) all &= fields[i] != NULL;
    void **vmf = (void **)mvm;
    for (size_t i = 1; i < sizeof(MuVM) / sizeof(void *); i++) all &= vmf[i] != NULL;
    printf("%s\n", all ? "every field is filled" : "a field is NULL");
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    return finish(mvm);
}
