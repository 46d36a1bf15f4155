// Bad use of the C API gets a defined error on the error channel, never a crash
// (spec/13-c-api.md).
// expect: engine=bogus: NULL
// expect: colour=red: NULL
// expect: execute before any thread: capi.no-thread
// expect: bad bundle: client.load-failed
// expect: id_of an unknown name: client.no-such-id
// expect: id_of NULL: capi.null-argument
// expect: name_of an unknown ID: client.no-such-id
// expect: handle_from_func of a type: capi.not-a-function
// expect: int<0>: capi.bad-length
// expect: NULL handle: capi.null-handle
// expect: a handle of no context: capi.bad-handle
// expect: deleted handle: capi.deleted-handle
// expect: handle_to_double of an int: capi.wrong-kind
// expect: new_stack of an int: capi.wrong-kind
// expect: new_thread_nor on a funcref: capi.wrong-kind
// expect: second thread on a stack: client.stack-not-ready
// expect: load outside a trap handler: capi.not-in-trap
// expect: new_bundle: capi.unsupported
// expect: the error is read once: ok
// expect: NULL context: 0
#include "common.h"

static const char *BUNDLE =
    ".typedef @i64 = int<64>\n"
    ".funcsig @sig = (@i64) -> (@i64)\n"
    ".funcdef @id VERSION %v1 <@sig> {\n"
    "    %entry(<@i64> %a):\n"
    "        RET %a\n"
    "}\n";

int main(int argc, char **argv) {
    printf("engine=bogus: %s\n", muni_new_vm("engine=bogus") ? "a VM" : "NULL");
    printf("colour=red: %s\n", muni_new_vm("colour=red") ? "a VM" : "NULL");
    MuVM *mvm = vm_from_args(argc, argv);
    muni_execute(mvm);
    const char *msg = NULL;
    const char *code = mvm->muni_error(mvm, &msg);
    printf("execute before any thread: %s\n", code ? code : "ok");
    MuCtx *ctx = mvm->new_context(mvm);
    load(ctx, ".typedef @i64 = int<64\n");
    said(ctx, "bad bundle");
    load(ctx, BUNDLE);
    ctx->id_of(ctx, "@nope");
    said(ctx, "id_of an unknown name");
    ctx->id_of(ctx, NULL);
    said(ctx, "id_of NULL");
    ctx->name_of(ctx, 99999);
    said(ctx, "name_of an unknown ID");
    ctx->handle_from_func(ctx, ctx->id_of(ctx, "@i64"));
    said(ctx, "handle_from_func of a type");
    ctx->handle_from_sint64(ctx, 1, 0);
    said(ctx, "int<0>");
    ctx->handle_to_sint64(ctx, NULL);
    said(ctx, "NULL handle");
    ctx->handle_to_sint64(ctx, (MuValue)123456);
    said(ctx, "a handle of no context");
    MuIntValue one = ctx->handle_from_sint64(ctx, 1, 64);
    ctx->delete_value(ctx, one);
    ctx->handle_to_sint64(ctx, one);
    said(ctx, "deleted handle");
    MuIntValue two = ctx->handle_from_sint64(ctx, 2, 64);
    ctx->handle_to_double(ctx, two);
    said(ctx, "handle_to_double of an int");
    ctx->new_stack(ctx, two);
    said(ctx, "new_stack of an int");
    MuFuncRefValue f = ctx->handle_from_func(ctx, ctx->id_of(ctx, "@id"));
    ctx->new_thread_nor(ctx, f, NULL, &two, 1);
    said(ctx, "new_thread_nor on a funcref");
    MuStackRefValue s = ctx->new_stack(ctx, f);
    ctx->new_thread_nor(ctx, s, NULL, &two, 1);
    ctx->new_thread_nor(ctx, s, NULL, &two, 1);
    said(ctx, "second thread on a stack");
    ctx->load(ctx, MU_ORD_NOT_ATOMIC, two);
    said(ctx, "load outside a trap handler");
    ctx->new_bundle(ctx);
    said(ctx, "new_bundle");
    said(ctx, "the error is read once");
    printf("NULL context: %u\n", ctx->id_of(NULL, "@id"));
    muni_close_vm(mvm);
    return 0;
}
