// A trap handler fills an array global through get_elem_iref; Mu sums it.
// expect: sum 6.5
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @double = double\n"
    ".typedef @A = array<@double 3>\n"
    ".funcsig @v = () -> ()\n"
    ".global @a <@A>\n"
    ".const @ZERO <@i64> = 0\n"
    ".const @ONE <@i64> = 1\n"
    ".const @TWO <@i64> = 2\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%fill] TRAP <>\n"
    "        %p0 = GETELEMIREF <@A @i64> @a @ZERO\n"
    "        %p1 = GETELEMIREF <@A @i64> @a @ONE\n"
    "        %p2 = GETELEMIREF <@A @i64> @a @TWO\n"
    "        %x = LOAD <@double> %p0\n"
    "        %y = LOAD <@double> %p1\n"
    "        %z = LOAD <@double> %p2\n"
    "        %xy = FADD <@double> %x %y\n"
    "        %s = FADD <@double> %xy %z\n"
    "        [%saw] TRAP <> KEEPALIVE(%s)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    if (strcmp(at(ctx, stack), "@main.v1.entry.fill") == 0) {
        MuIRefValue a = ctx->handle_from_global(ctx, ctx->id_of(ctx, "@a"));
        double v[3] = {1.0, 2.25, 3.25};
        for (int i = 0; i < 3; i++) {
            MuIRefValue e = ctx->get_elem_iref(ctx, a, ctx->handle_from_sint64(ctx, i, 64));
            ctx->store(ctx, MU_ORD_NOT_ATOMIC, e, ctx->handle_from_double(ctx, v[i]));
        }
    } else {
        printf("sum %g\n", ctx->handle_to_double(ctx, kept(ctx, stack, 0)));
    }
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
