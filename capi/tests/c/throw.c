// A trap handler throws the object the trap keeps alive: the TRAP's exception
// clause catches it and reads the value stored in it.
// expect: caught 42
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @void = void\n"
    ".typedef @refi64 = ref<@i64>\n"
    ".typedef @refvoid = ref<@void>\n"
    ".funcsig @v = () -> ()\n"
    ".const @FORTYTWO <@i64> = 42\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %o = NEW <@i64>\n"
    "        %oi = GETIREF <@i64> %o\n"
    "        STORE <@i64> %oi @FORTYTWO\n"
    "        %r = [%t] TRAP <@i64> EXC(%ok(%r) %caught()) KEEPALIVE(%o)\n"
    "    %ok(<@i64> %x):\n"
    "        RET ()\n"
    "    %caught() [%e]:\n"
    "        %ec = REFCAST <@refvoid @refi64> %e\n"
    "        %i = GETIREF <@i64> %ec\n"
    "        %k = LOAD <@i64> %i\n"
    "        [%report] TRAP <> KEEPALIVE(%k)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuID inst = ctx->cur_inst(ctx, cur);
    MuValue kept[1];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    if (strcmp(ctx->name_of(ctx, inst), "@main.v1.entry.t") == 0) {
        *result = MU_REBIND_THROW_EXC;
        *exception = kept[0];
        return;
    }
    printf("caught %lld\n", (long long)ctx->handle_to_sint64(ctx, kept[0]));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
