// Two threads made before muni_execute run one after the other; each reports its
// arguments through a trap; a double and a narrow integer cross as handles.
// expect: thread got 7 and 2.5
// expect: thread got -3 and 0.25
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i8 = int<8>\n"
    ".typedef @i64 = int<64>\n"
    ".typedef @double = double\n"
    ".funcsig @sig = (@i8 @double) -> (@i64)\n"
    ".funcdef @report VERSION %v1 <@sig> {\n"
    "    %entry(<@i8> %a <@double> %d):\n"
    "        [%t] TRAP <> KEEPALIVE(%a %d)\n"
    "        %r = SEXT <@i8 @i64> %a\n"
    "        RET %r\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuValue kept[2];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    printf("thread got %d and %g\n", ctx->handle_to_sint8(ctx, kept[0]),
           ctx->handle_to_double(ctx, kept[1]));
    *result = MU_REBIND_PASS_VALUES;
    *values = NULL;
    *nvalues = 0;
    *freer = NULL;
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@report"));
    MuValue a[2] = {ctx->handle_from_sint8(ctx, 7, 8), ctx->handle_from_double(ctx, 2.5)};
    MuValue b[2] = {ctx->handle_from_sint8(ctx, -3, 8), ctx->handle_from_double(ctx, 0.25)};
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, a, 2);
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, b, 2);
    mvm->set_trap_handler(mvm, handler, NULL);
    return finish(mvm);
}
