// Bad use inside a trap handler gets a defined error too, and the run goes on.
// expect: load of an int: client.not-an-iref
// expect: store of a double into an int: client.type-mismatch
// expect: field 5 of a struct: client.bad-index
// expect: closing a trap's context: capi.trap-context
// expect: a closed cursor: client.bad-cursor
// expect: a bad atomicrmw operation: capi.bad-flag
// expect: expose with another convention: capi.bad-flag
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @S = struct<@i64 @i64>\n"
    ".typedef @double = double\n"
    ".funcsig @v = () -> ()\n"
    ".global @g <@i64>\n"
    ".global @s <@S>\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%t] TRAP <>\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuValue one = ctx->handle_from_sint64(ctx, 1, 64);
    ctx->load(ctx, MU_ORD_NOT_ATOMIC, one);
    said(ctx, "load of an int");
    MuIRefValue g = ctx->handle_from_global(ctx, ctx->id_of(ctx, "@g"));
    ctx->store(ctx, MU_ORD_NOT_ATOMIC, g, ctx->handle_from_double(ctx, 1.0));
    said(ctx, "store of a double into an int");
    MuIRefValue s = ctx->handle_from_global(ctx, ctx->id_of(ctx, "@s"));
    ctx->get_field_iref(ctx, s, 5);
    said(ctx, "field 5 of a struct");
    ctx->close_context(ctx);
    said(ctx, "closing a trap's context");
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    ctx->close_cursor(ctx, cur);
    ctx->cur_func(ctx, cur);
    said(ctx, "a closed cursor");
    ctx->atomicrmw(ctx, MU_ORD_SEQ_CST, 0x77, g, one);
    said(ctx, "a bad atomicrmw operation");
    ctx->expose(ctx, ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main")), 9, one);
    said(ctx, "expose with another convention");
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
