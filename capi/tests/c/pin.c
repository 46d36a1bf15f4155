// A trap handler allocates an object, pins it, writes through the pointer from
// C, unpins it and reads it back through the context; Mu gets the reference.
// expect: through the pointer: 99
// expect: Mu read 99
// expect: execute: ok
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".typedef @refi64 = ref<@i64>\n"
    ".funcsig @v = () -> ()\n"
    ".funcdef @main VERSION %v1 <@v> {\n"
    "    %entry():\n"
    "        %r = [%make] TRAP <@refi64>\n"
    "        %i = GETIREF <@i64> %r\n"
    "        %x = LOAD <@i64> %i\n"
    "        [%saw] TRAP <> KEEPALIVE(%x)\n"
    "        RET ()\n"
    "}\n";

static void handler(MuCtx *ctx, MuThreadRefValue thread, MuStackRefValue stack, MuWPID wpid,
                    MuTrapHandlerResult *result, MuStackRefValue *new_stack, MuValue **values,
                    MuArraySize *nvalues, MuValuesFreer *freer, MuCPtr *freerdata,
                    MuRefValue *exception, MuCPtr userdata) {
    static MuValue out[1];
    MuID inst;
    MuFCRefValue cur = ctx->new_cursor(ctx, stack);
    inst = ctx->cur_inst(ctx, cur);
    if (strcmp(ctx->name_of(ctx, inst), "@main.v1.entry.make") == 0) {
        ctx->close_cursor(ctx, cur);
        MuRefValue r = ctx->new_fixed(ctx, ctx->id_of(ctx, "@i64"));
        MuIRefValue ir = ctx->get_iref(ctx, r);
        ctx->store(ctx, MU_ORD_NOT_ATOMIC, ir, ctx->handle_from_sint64(ctx, 7, 64));
        int64_t *p = (int64_t *)ctx->handle_to_ptr(ctx, ctx->pin(ctx, r));
        *p = 99;
        ctx->unpin(ctx, r);
        printf("through the pointer: %lld\n", (long long)ctx->handle_to_sint64(ctx, ctx->load(ctx, MU_ORD_NOT_ATOMIC, ir)));
        out[0] = r;
        *result = MU_REBIND_PASS_VALUES;
        *values = out;
        *nvalues = 1;
        *freer = NULL;
        return;
    }
    MuValue kept[1];
    ctx->dump_keepalives(ctx, cur, kept);
    ctx->close_cursor(ctx, cur);
    printf("Mu read %lld\n", (long long)ctx->handle_to_sint64(ctx, kept[0]));
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
