// The handler gets the userdata given to set_trap_handler, and the freer it
// returns is called with its values and data once muni has read them.
// expect: userdata: hello
// expect: freer called with hello's values
// expect: got 5
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %x = [%t] TRAP <@i64>\n"
    "        [%saw] TRAP <> KEEPALIVE(%x)\n"
    "        RET ()\n"
    "}\n";

static void free_values(MuValue *values, MuCPtr data) {
    printf("freer called with %s's values\n", values ? (const char *)data : "no");
}

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    if (strcmp(at(ctx, stack), "@main.v1.entry.t") == 0) {
        printf("userdata: %s\n", (const char *)userdata);
        out[0] = ctx->handle_from_sint64(ctx, 5, 64);
        resume_with(result, values, nvalues, freer, out, 1);
        *freer = free_values;
        *freerdata = userdata;
        return;
    }
    printf("got %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    mvm->set_trap_handler(mvm, handler, "hello");
    return finish(mvm);
}
