// A uptr crosses both ways: handle_from_ptr of a C address reaches Mu, which
// stores through it; the next trap hands a pointer back.
// expect: C sees 77
// expect: back: same pointer
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @p = uptr<@i64>\n"
    ".funcsig @v = () -> ()\n"
    ".const @SEVENTY7 <@i64> = 77\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %q = [%get] TRAP <@p>\n"
    "        STORE PTR <@i64> %q @SEVENTY7\n"
    "        [%back] TRAP <> KEEPALIVE(%q)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    static int64_t cell = 0;
    if (strcmp(at(ctx, stack), "@main.v1.entry.get") == 0) {
        out[0] = ctx->handle_from_ptr(ctx, ctx->id_of(ctx, "@p"), &cell);
        resume_with(result, values, nvalues, freer, out, 1);
        return;
    }
    printf("C sees %lld\n", (long long)cell);
    printf("back: %s\n", ctx->handle_to_ptr(ctx, kept(ctx, stack, 0)) == &cell ? "same pointer" : "another");
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
