// A value deleted in a trap handler is not usable again; another still is.
// expect: deleted: capi.deleted-handle
// expect: kept: 3
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".const @THREE <@i64> = 3\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <> KEEPALIVE(@THREE @THREE)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuValue a = kept(ctx, stack, 0), b = kept(ctx, stack, 1);
    ctx->delete_value(ctx, a);
    ctx->handle_to_sint64(ctx, a);
    said(ctx, "deleted");
    printf("kept: %lld\n", (long long)ctx->handle_to_sint64(ctx, b));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
