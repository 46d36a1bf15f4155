// A trap handler ends the thread (MU_THREAD_EXIT): nothing after the TRAP runs,
// and the run ends normally.
// expect: trap
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        [%never] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    printf("trap\n");
    *result = MU_THREAD_EXIT;
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
