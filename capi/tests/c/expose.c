// A trap handler exposes a Mu function with a cookie and passes the C function
// pointer back; Mu hands it to a C function of this client, which calls it.
// expect: expose: ok
// expect: apply called with 20
// expect: result 61
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @i_i = (@i64) -> (@i64)\n"
    ".typedef @fp = ufuncptr<@i_i>\n"
    ".funcsig @apply_sig = (@fp @i64) -> (@i64)\n"
    ".typedef @apply_fp = ufuncptr<@apply_sig>\n"
    ".const @apply <@apply_fp> = EXTERN \"muni_test_apply\"\n"
    ".funcsig @v = () -> ()\n"
    ".const @TWENTY <@i64> = 20\n"
    ".const @THREE <@i64> = 3\n"
    ".funcdef @triple VERSION %v1 <@i_i> {\n"
    "    %e(<@i64> %x):\n"
    "        %y = MUL <@i64> %x @THREE\n"
    "        RET %y\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %f = [%make] TRAP <@fp>\n"
    "        %r = CCALL #DEFAULT <@apply_fp @apply_sig> @apply (%f @TWENTY)\n"
    "        [%saw] TRAP <> KEEPALIVE(%r)\n"
    "        RET ()\n"
    "}\n";

int64_t muni_test_apply(int64_t (*f)(int64_t), int64_t x) {
    printf("apply called with %lld\n", (long long)x);
    return f(x) + 1;
}

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuID inst = ctx->cur_inst(ctx, cur);
    if (strcmp(ctx->name_of(ctx, inst), "@main.v1.entry.make") == 0) {
        ctx->close_cursor(ctx, cur);
        MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@triple"));
        out[0] = ctx->expose(ctx, f, MU_CC_DEFAULT, ctx->handle_from_sint64(ctx, 5, 64));
        said(ctx, "expose");
        *result = MU_REBIND_PASS_VALUES;
        *values = out;
        *nvalues = 1;
        *freer = NULL;
        return;
    }
    MuValue kept[1];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    printf("result %lld\n", (long long)ctx->handle_to_sint64(ctx, kept[0]));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
