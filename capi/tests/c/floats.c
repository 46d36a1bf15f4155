// A TRAP's results are a float and a double from the handler; Mu adds them.
// expect: sum 3.75
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @float = float\n"
    ".typedef @double = double\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        (%f %d) = [%get] TRAP <@float @double>\n"
    "        %e = FPEXT <@float @double> %f\n"
    "        %s = FADD <@double> %e %d\n"
    "        [%saw] TRAP <> KEEPALIVE(%s)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[2];
    if (strcmp(at(ctx, stack), "@main.v1.entry.get") == 0) {
        out[0] = ctx->handle_from_float(ctx, 1.5f);
        out[1] = ctx->handle_from_double(ctx, 2.25);
        resume_with(result, values, nvalues, freer, out, 2);
        return;
    }
    printf("sum %g\n", ctx->handle_to_double(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
