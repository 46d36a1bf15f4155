// cmpxchg that succeeds and one that fails, and atomicrmw ADD, on a global.
// expect: cmpxchg 5 -> 6: succeeded, old 5
// expect: cmpxchg 5 -> 7: failed, old 6
// expect: atomicrmw add 10: old 6, now 16
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".global @g <@i64>\n"
    ".const @FIVE <@i64> = 5\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        STORE <@i64> @g @FIVE\n"
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
    MuIRefValue g = ctx->handle_from_global(ctx, ctx->id_of(ctx, "@g"));
    MuBool ok = 0;
    MuValue old = ctx->cmpxchg(ctx, MU_ORD_SEQ_CST, MU_ORD_SEQ_CST, 0, g,
                               ctx->handle_from_sint64(ctx, 5, 64), ctx->handle_from_sint64(ctx, 6, 64), &ok);
    printf("cmpxchg 5 -> 6: %s, old %lld\n", ok ? "succeeded" : "failed", (long long)ctx->handle_to_sint64(ctx, old));
    old = ctx->cmpxchg(ctx, MU_ORD_SEQ_CST, MU_ORD_SEQ_CST, 0, g,
                       ctx->handle_from_sint64(ctx, 5, 64), ctx->handle_from_sint64(ctx, 7, 64), &ok);
    printf("cmpxchg 5 -> 7: %s, old %lld\n", ok ? "succeeded" : "failed", (long long)ctx->handle_to_sint64(ctx, old));
    old = ctx->atomicrmw(ctx, MU_ORD_SEQ_CST, MU_ARMW_ADD, g, ctx->handle_from_sint64(ctx, 10, 64));
    MuValue now = ctx->load(ctx, MU_ORD_SEQ_CST, g);
    printf("atomicrmw add 10: old %lld, now %lld\n", (long long)ctx->handle_to_sint64(ctx, old),
           (long long)ctx->handle_to_sint64(ctx, now));
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
