// A trap handler loads a bundle with a new function and a new global; Mu's
// next TRAP gets the function's funcref from the handler and calls it.
// expect: load: ok
// expect: the new function gives 100
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v_i = () -> (@i64)\n"
    ".typedef @fr = funcref<@v_i>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %f = [%get] TRAP <@fr>\n"
    "        %x = CALL <@v_i> %f ()\n"
    "        [%saw] TRAP <> KEEPALIVE(%x)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    if (strcmp(at(ctx, stack), "@main.v1.entry.get") == 0) {
        load(ctx, ".const @HUNDRED <@i64> = 100\n"
                  ".funcdef @fresh VERSION %v1 <@v_i> {\n    %e():\n        RET @HUNDRED\n}\n");
        said(ctx, "load");
        out[0] = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@fresh"));
        resume_with(result, values, nvalues, freer, out, 1);
        return;
    }
    printf("the new function gives %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
