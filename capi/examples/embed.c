// Embeds muni: load a bundle, start a function, answer its trap.
// expect: trap: the sum is 42
// expect: done
#include <stdio.h>
#include <string.h>
#include "muni.h"

static char bundle[] =
    ".typedef @i64 = int<64>\n"
    ".funcsig @sig = (@i64 @i64) -> (@i64)\n"
    ".funcdef @add VERSION %v1 <@sig> {\n"
    "  %entry(<@i64> %a <@i64> %b):\n"
    "    %s = ADD <@i64> %a %b\n"
    "    [%t] TRAP <> KEEPALIVE(%s)\n"
    "    RET %s\n"
    "}\n";

static void on_trap(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue cursor = ctx->new_cursor(ctx, stack);
    MuValue kept[1];
    ctx->dump_keepalives(ctx, cursor, kept);
    ctx->close_cursor(ctx, cursor);
    printf("trap: the sum is %lld\n", (long long)ctx->handle_to_sint64(ctx, kept[0]));
    *result = MU_REBIND_PASS_VALUES;   // resume after the TRAP, with no values
    *nvalues = 0;
}

int main(int argc, char **argv) {
    MuVM *mvm = muni_new_vm(argc > 1 ? argv[1] : "engine=fast");
    MuCtx *ctx = mvm->new_context(mvm);
    ctx->load_bundle(ctx, bundle, strlen(bundle));
    MuFuncRefValue add = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@add"));
    MuValue args[2] = {ctx->handle_from_sint64(ctx, 40, 64), ctx->handle_from_sint64(ctx, 2, 64)};
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, add), NULL, args, 2);
    mvm->set_trap_handler(mvm, on_trap, NULL);
    muni_execute(mvm);
    const char *why, *code = mvm->muni_error(mvm, &why);
    printf("%s\n", code ? why : "done");
    muni_close_vm(mvm);
    return code != NULL;
}
