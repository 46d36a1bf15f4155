// Objects a trap handler makes survive the moving collector: on the fast VM
// with gc-stress=1 every allocation collects, moving every unpinned object.
// expect: first 11 second 22
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @refi64 = ref<@i64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        (%a %b) = [%make] TRAP <@refi64 @refi64>\n"
    "        %junk = NEW <@i64>\n"
    "        %more = NEW <@i64>\n"
    "        %ai = GETIREF <@i64> %a\n"
    "        %bi = GETIREF <@i64> %b\n"
    "        %x = LOAD <@i64> %ai\n"
    "        %y = LOAD <@i64> %bi\n"
    "        [%saw] TRAP <> KEEPALIVE(%x %y)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[2];
    if (strcmp(at(ctx, stack), "@main.v1.entry.make") == 0) {
        int64_t v[2] = {11, 22};
        for (int i = 0; i < 2; i++) {
            out[i] = ctx->new_fixed(ctx, ctx->id_of(ctx, "@i64"));
            ctx->store(ctx, MU_ORD_NOT_ATOMIC, ctx->get_iref(ctx, out[i]), ctx->handle_from_sint64(ctx, v[i], 64));
        }
        resume_with(result, values, nvalues, freer, out, 2);
        return;
    }
    printf("first %lld second %lld\n", (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 0)),
           (long long)ctx->handle_to_sint64(ctx, kept(ctx, stack, 1)));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) {
    char opts[64];
    snprintf(opts, sizeof opts, "%s gc-stress=1", argc > 1 ? argv[1] : "");
    MuVM *mvm = muni_new_vm(opts);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    mvm->set_trap_handler(mvm, handler, NULL);
    return finish(mvm);
}
