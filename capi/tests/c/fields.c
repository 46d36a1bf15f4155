// A trap handler allocates a struct and stores each field through
// get_field_iref; Mu reads them back.
// expect: fields 7 2.5
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i32 = int<32>\n"
    ".typedef @double = double\n"
    ".typedef @S = struct<@i32 @double>\n"
    ".typedef @refS = ref<@S>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %r = [%make] TRAP <@refS>\n"
    "        %i = GETIREF <@S> %r\n"
    "        %f0 = GETFIELDIREF <@S 0> %i\n"
    "        %f1 = GETFIELDIREF <@S 1> %i\n"
    "        %a = LOAD <@i32> %f0\n"
    "        %b = LOAD <@double> %f1\n"
    "        [%saw] TRAP <> KEEPALIVE(%a %b)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    if (strcmp(at(ctx, stack), "@main.v1.entry.make") == 0) {
        MuRefValue r = ctx->new_fixed(ctx, ctx->id_of(ctx, "@S"));
        MuIRefValue i = ctx->get_iref(ctx, r);
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, ctx->get_field_iref(ctx, i, 0), ctx->handle_from_sint32(ctx, 7, 32));
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, ctx->get_field_iref(ctx, i, 1), ctx->handle_from_double(ctx, 2.5));
        out[0] = r;
        resume_with(result, values, nvalues, freer, out, 1);
        return;
    }
    printf("fields %d %g\n", ctx->handle_to_sint32(ctx, kept(ctx, stack, 0)),
           ctx->handle_to_double(ctx, kept(ctx, stack, 1)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
