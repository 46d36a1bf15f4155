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
    "}\n";

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

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
