// Load a bundle from memory, look up IDs, start a thread with arguments built
// from handles, and answer its traps by resuming with values read from the
// keep-alives.
// expect: id_of @add: nonzero
// expect: name_of: @add
// expect: trap at @add.v1.entry.t with 41
// expect: trap at @add.v1.entry.u with 47
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @sig = (@i64 @i64) -> (@i64)\n"
    ".funcdef @add VERSION %v1 <@sig> {\n"
    "    %entry(<@i64> %a <@i64> %b):\n"
    "        %s = ADD <@i64> %a %b\n"
    "        %r = [%t] TRAP <@i64> KEEPALIVE(%s)\n"
    "        %z = ADD <@i64> %r %s\n"
    "        [%u] TRAP <> KEEPALIVE(%z)\n"
    "        RET %z\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    MuID inst = ctx->cur_inst(ctx, cur);
    MuValue kept[1];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    int64_t v = ctx->handle_to_sint64(ctx, kept[0]);
    printf("trap at %s with %lld\n", ctx->name_of(ctx, inst), (long long)v);
    out[0] = ctx->handle_from_sint64(ctx, 6, 64);
    *result = MU_REBIND_PASS_VALUES;
    *values = out;
    *nvalues = strcmp(ctx->name_of(ctx, inst), "@add.v1.entry.t") == 0 ? 1 : 0;
    *freer = NULL;
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuID add = ctx->id_of(ctx, "@add");
    printf("id_of @add: %s\n", add ? "nonzero" : "zero");
    printf("name_of: %s\n", ctx->name_of(ctx, add));
    MuFuncRefValue f = ctx->handle_from_func(ctx, add);
    MuStackRefValue s = ctx->new_stack(ctx, f);
    MuValue args[2] = {ctx->handle_from_sint64(ctx, 40, 64), ctx->handle_from_sint64(ctx, 1, 64)};
    ctx->new_thread_nor(ctx, s, NULL, args, 2);
    mvm->set_trap_handler(mvm, handler, NULL);
    ctx->close_context(ctx);
    return finish(mvm);
}
