// Without a trap handler the first trap ends the run, and muni_execute says how.
// expect: execute: capi.run-ended
// expect:   the threads ended: client_trap @main.v1.entry.t 5
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".const @FIVE <@i64> = 5\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <> KEEPALIVE(@FIVE)\n"
    "        RET ()\n"
    "}\n";

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, NULL, NULL); }
