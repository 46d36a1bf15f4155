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
    "}\n";

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
    resume_with(result, values, nvalues, freer, NULL, 0);
}

int main(int argc, char **argv) { return run(argc, argv, BUNDLE, handler, NULL); }
