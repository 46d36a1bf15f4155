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
    "}\n"
;

static inline const char *at(MuCtx *ctx, MuStackRefValue stack) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    const char *name = ctx->name_of(ctx, ctx->cur_inst(ctx, cur));
    ctx->close_cursor(ctx, cur);
    return name;
}

static inline MuValue kept(MuCtx *ctx, MuStackRefValue stack, int i) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuValue ks[8];
    ctx->dump_keepalives(ctx, cur, ks);
    ctx->close_cursor(ctx, cur);
    return ks[i];
}

static inline void resume_with(MuTrapHandlerResult *result, MuValue **values, MuArraySize *nvalues,
                               MuValuesFreer *freer, MuValue *vals, MuArraySize n) {
    *result = MU_REBIND_PASS_VALUES;
    *values = vals;
    *nvalues = n;
    *freer = NULL;
}

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

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    mvm->set_trap_handler(mvm, handler, NULL);
    muni_execute(mvm);
    const char *msg = NULL;
    const char *code = mvm->muni_error(mvm, &msg);
    printf("execute: %s\n", code ? code : "ok");
    if (code) printf("  %s\n", msg);
    muni_close_vm(mvm);
    return 0;
}
