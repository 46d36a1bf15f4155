// A trap handler makes a hybrid, fills its variable part through element and
// shifted irefs, and Mu sums it.
// expect: fill: ok
// expect: sum 60
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @H = hybrid<@i64 @i64>\n"
    ".typedef @refH = ref<@H>\n"
    ".funcsig @v = () -> ()\n"
    ".const @ZERO <@i64> = 0\n"
    ".const @ONE <@i64> = 1\n"
    ".const @TWO <@i64> = 2\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %h = [%make] TRAP <@refH>\n"
    "        %i = GETIREF <@H> %h\n"
    "        %var = GETVARPARTIREF <@H> %i\n"
    "        %a = LOAD <@i64> %var\n"
    "        %p1 = SHIFTIREF <@i64 @i64> %var @ONE\n"
    "        %b = LOAD <@i64> %p1\n"
    "        %p2 = SHIFTIREF <@i64 @i64> %var @TWO\n"
    "        %c = LOAD <@i64> %p2\n"
    "        %ab = ADD <@i64> %a %b\n"
    "        %s = ADD <@i64> %ab %c\n"
    "        [%sum] TRAP <> KEEPALIVE(%s)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    if (strcmp(at(ctx, stack), "@main.v1.entry.make") == 0) {
        MuRefValue h = ctx->new_hybrid(ctx, ctx->id_of(ctx, "@H"), ctx->handle_from_sint64(ctx, 3, 64));
        MuIRefValue var = ctx->get_var_part_iref(ctx, ctx->get_iref(ctx, h));
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, var, ctx->handle_from_sint64(ctx, 10, 64));
        MuIRefValue one = ctx->shift_iref(ctx, var, ctx->handle_from_sint64(ctx, 1, 64));
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, one, ctx->handle_from_sint64(ctx, 20, 64));
        MuIRefValue two = ctx->shift_iref(ctx, var, ctx->handle_from_sint64(ctx, 2, 64));
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, two, ctx->handle_from_sint64(ctx, 30, 64));
        said(ctx, "fill");
        out[0] = h;
        resume_with(result, values, nvalues, freer, out, 1);
        return;
    }
    printf("sum %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
