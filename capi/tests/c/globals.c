// A trap handler stores into a global cell; Mu reads it and stores its double;
// the next trap reads that back.
// expect: Mu read 21
// expect: C read 42
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @v = () -> ()\n"
    ".global @g <@i64>\n"
    ".global @h <@i64>\n"
    ".const @TWO <@i64> = 2\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        [%set] TRAP <>\n"
    "        %x = LOAD <@i64> @g\n"
    "        [%saw] TRAP <> KEEPALIVE(%x)\n"
    "        %y = MUL <@i64> %x @TWO\n"
    "        STORE <@i64> @h %y\n"
    "        [%get] TRAP <>\n"
    "        RET ()\n"
    "}\n"
;


static inline int64_t kept0(MuCtx *ctx, MuStackRefValue stack, MuID *inst) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    *inst = ctx->cur_inst(ctx, cur);
    MuValue kept[4];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    return ctx->handle_to_sint64(ctx, kept[0]);
}

static inline void resume_with_nothing(MuTrapHandlerResult *result, MuValue **values, MuArraySize *nvalues, MuValuesFreer *freer) {
    *result = MU_REBIND_PASS_VALUES;
    *values = NULL;
    *nvalues = 0;
    *freer = NULL;
}

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    const char *at = ctx->name_of(ctx, ctx->cur_inst(ctx, cur));
    if (strcmp(at, "@main.v1.entry.set") == 0) {
        MuIRefValue g = ctx->handle_from_global(ctx, ctx->id_of(ctx, "@g"));
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, g, ctx->handle_from_sint64(ctx, 21, 64));
    } else if (strcmp(at, "@main.v1.entry.saw") == 0) {
        MuValue kept[1];
        ctx->dump_keepalives(ctx, cur, kept);
        printf("Mu read %lld\n", (long long)ctx->handle_to_sint64(ctx, kept[0]));
    } else {
        MuIRefValue h = ctx->handle_from_global(ctx, ctx->id_of(ctx, "@h"));
        printf("C read %lld\n", (long long)ctx->handle_to_sint64(ctx, ctx->load(ctx, MU_ORD_NOT_ATOMIC, h)));
    }
    ctx->close_cursor(ctx, cur);
    resume_with_nothing(result, values, nvalues, freer);
}

int main(int argc, char **argv) {
    MuVM *mvm = vm_from_args(argc, argv);
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, BUNDLE);
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@main"));
    ctx->new_thread_nor(ctx, ctx->new_stack(ctx, f), NULL, NULL, 0);
    mvm->set_trap_handler(mvm, handler, NULL);
    muni_execute(mvm);
    const char *msg = NULL;
    const char *code = mvm->muni_error(mvm, &msg);
    printf("execute: %s\n", code ? code : "ok");
    if (code) printf("  %s\n", msg);
    muni_close_vm(mvm);
    return 0;
}
