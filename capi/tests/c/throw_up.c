// An exception thrown at a TRAP with no exception clause unwinds to the
// caller's CALL, whose clause catches it.
// expect: caller caught 8
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @void = void\n"
    ".typedef @refi64 = ref<@i64>\n"
    ".typedef @refvoid = ref<@void>\n"
    ".funcsig @v = () -> ()\n"
    ".funcsig @r_v = (@refi64) -> ()\n"
    ".const @EIGHT <@i64> = 8\n"
    ".funcdef @callee VERSION %v1 <@r_v> {\n"
    "    %e(<@refi64> %o):\n"
    "        [%t] TRAP <> KEEPALIVE(%o)\n"
    "        RET ()\n"
    "}\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %o = NEW <@i64>\n"
    "        %oi = GETIREF <@i64> %o\n"
    "        STORE <@i64> %oi @EIGHT\n"
    "        [%c] CALL <@r_v> @callee (%o) EXC(%ok() %caught())\n"
    "    %ok():\n"
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
    if (strcmp(at(ctx, stack), "@callee.v1.e.t") == 0) {
        *result = MU_REBIND_THROW_EXC;
        *exception = kept(ctx, stack, 0);
        return;
    }
    printf("caller caught %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
