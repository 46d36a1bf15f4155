// A WATCHPOINT is off until the client enables its ID: the first one passes,
// the handler of a later TRAP enables it, and the second one traps.
// expect: trap @main.v1.off.on
// expect: watchpoint 7 at @main.v1.off.w2
// expect: went to the enabled destination
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%w1] WATCHPOINT 7 <> %off() %on()\n"
    "    %off():\n"
    "        [%on] TRAP <>\n"
    "        [%w2] WATCHPOINT 7 <> %off2() %on2()\n"
    "    %on():\n"
    "        RET ()\n"
    "    %off2():\n"
    "        RET ()\n"
    "    %on2():\n"
    "        [%done] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    const char *name = at(ctx, stack);
    if (strcmp(name, "@main.v1.off.on") == 0) {
        printf("trap %s\n", name);
        ctx->enable_watchpoint(ctx, 7);
    } else if (strcmp(name, "@main.v1.off.w2") == 0) {
        printf("watchpoint 7 at %s\n", name);
    } else {
        printf("went to the enabled destination\n");
    }
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
