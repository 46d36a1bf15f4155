// A trap handler loads a new version of a function: calls after it run the new
// version.
// expect: before: 1
// expect: after: 2
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v_i = () -> (@i64)\n"
    ".funcsig @v = () -> ()\n"
    ".const @ONE <@i64> = 1\n"
    ".funcdef @f VERSION %v1 <@v_i> {\n"
    "    %e():\n"
    "        RET @ONE\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %a = CALL <@v_i> @f ()\n"
    "        [%t1] TRAP <> KEEPALIVE(%a)\n"
    "        %b = CALL <@v_i> @f ()\n"
    "        [%t2] TRAP <> KEEPALIVE(%b)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    int64_t v = ctx->handle_to_sint64(ctx, kept(ctx, stack, 0));
    if (strcmp(at(ctx, stack), "@main.v1.entry.t1") == 0) {
        printf("before: %lld\n", (long long)v);
        load(ctx, ".const @TWO <@i64> = 2\n"
                  ".funcdef @f VERSION %v2 <@v_i> {\n"
                  "    %e():\n"
                  "        RET @TWO\n"
                  "}\n");
    } else {
        printf("after: %lld\n", (long long)v);
    }
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
