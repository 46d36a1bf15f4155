// A trap handler that answers with a result code muapi.h does not define stops
// the run there: muni_execute says where.
// expect: trap
// expect: execute: capi.run-ended
// expect:   the threads ended: client_trap @main.v1.entry.t
#include "common.h"

static const char *BUNDLE =
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    printf("trap\n");
    *result = 9;
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
