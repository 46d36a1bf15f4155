//! Kernels shared by muni's benchmarks: Mu IR programs and how many model steps
//! each takes, so that throughput is reported in steps per second.

/// A counting loop: `@sum(n)` adds 1..n with block arguments; about 5 steps per
/// iteration, all simple (integer arithmetic, comparison, branch).
pub const SUM_LOOP: &str = r"
.typedef @i64 = int<64>
.funcsig @sum_sig = (@i64) -> (@i64)
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.funcdef @sum VERSION %v1 <@sum_sig> {
    %entry(<@i64> %n):
        BRANCH %head(%n @ZERO @ZERO)
    %head(<@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%n %i %s) %exit(%s)
    %body(<@i64> %n <@i64> %i <@i64> %s):
        %i1 = ADD <@i64> %i @ONE
        %s1 = ADD <@i64> %s %i1
        BRANCH %head(%n %i1 %s1)
    %exit(<@i64> %s):
        RET %s
}
";

/// Recursive Fibonacci: calls, returns and arithmetic.
pub const FIB: &str = r"
.typedef @i64 = int<64>
.funcsig @fib_sig = (@i64) -> (@i64)
.const @ONE <@i64> = 1
.const @TWO <@i64> = 2
.funcdef @fib VERSION %v1 <@fib_sig> {
    %entry(<@i64> %n):
        %small = SLT <@i64> %n @TWO
        BRANCH2 %small %base(%n) %rec(%n)
    %base(<@i64> %n):
        RET %n
    %rec(<@i64> %n):
        %a = SUB <@i64> %n @ONE
        %b = SUB <@i64> %n @TWO
        %fa = CALL <@fib_sig> @fib (%a)
        %fb = CALL <@fib_sig> @fib (%b)
        %r = ADD <@i64> %fa %fb
        RET %r
}
";

/// A loop over a heap array of structs: NEWHYBRID, SHIFTIREF, GETFIELDIREF, LOAD, STORE.
pub const HEAP_LOOP: &str = r"
.typedef @i64 = int<64>
.typedef @P = struct<@i64 @i64>
.typedef @Arr = hybrid<@i64 @P>
.typedef @irefP = iref<@P>
.funcsig @run_sig = (@i64) -> (@i64)
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.funcdef @run VERSION %v1 <@run_sig> {
    %entry(<@i64> %n):
        %a = NEWHYBRID <@Arr @i64> %n
        %ia = GETIREF <@Arr> %a
        %v = GETVARPARTIREF <@Arr> %ia
        BRANCH %loop(%v %n @ZERO @ZERO)
    %loop(<@irefP> %v <@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%v %n %i %s) %done(%s)
    %body(<@irefP> %v <@i64> %n <@i64> %i <@i64> %s):
        %p = SHIFTIREF <@P @i64> %v %i
        %f0 = GETFIELDIREF <@P 0> %p
        %f1 = GETFIELDIREF <@P 1> %p
        STORE <@i64> %f0 %i
        %x = LOAD <@i64> %f0
        %y = LOAD <@i64> %f1
        %t = ADD <@i64> %x %y
        %s1 = ADD <@i64> %s %t
        %i1 = ADD <@i64> %i @ONE
        BRANCH %loop(%v %n %i1 %s1)
    %done(<@i64> %s):
        RET %s
}
";

/// The fast-VM report's kernels in Mu: each `@k_*` function takes a size and returns
/// a checksum, so that the C twin's result can be compared.
pub const REPORT_MU: &str = r#"
.typedef @i1 = int<1>
.typedef @i32 = int<32>
.typedef @i64 = int<64>
.typedef @void = void
.typedef @ptrvoid = uptr<@void>
.typedef @ptri64 = uptr<@i64>
.typedef @ptri32 = uptr<@i32>
.typedef @P = struct<@i64 @i64>
.typedef @refP = ref<@P>
.typedef @Arr = hybrid<@i64 @P>
.typedef @irefP = iref<@P>
.typedef @Words = hybrid<@i64 @i64>
.typedef @refWords = ref<@Words>
.typedef @Ints = hybrid<@i64 @i32>
.typedef @refInts = ref<@Ints>
.typedef @refi64 = ref<@i64>
.funcsig @k_sig = (@i64) -> (@i64)
.funcsig @inc_sig = (@i64) -> (@i64)
.typedef @inc_fp = ufuncptr<@inc_sig>
.const @c_inc <@inc_fp> = EXTERN "muni_bench_inc"
.funcsig @cmp_sig = (@ptrvoid @ptrvoid) -> (@i32)
.typedef @cmp_fp = ufuncptr<@cmp_sig>
.funcsig @qsort_sig = (@ptrvoid @i64 @i64 @cmp_fp) -> ()
.typedef @qsort_fp = ufuncptr<@qsort_sig>
.const @qsort <@qsort_fp> = EXTERN "qsort"
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.const @TWO <@i64> = 2
.const @FOUR <@i64> = 4
.const @EIGHT <@i64> = 8
.const @MUL <@i64> = 1103515245
.const @ADDC <@i64> = 12345
.const @MASK <@i64> = 65535
.const @M1 <@i32> = -1
.const @Z32 <@i32> = 0
.const @P1 <@i32> = 1

.funcdef @k_fib VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        %small = SLT <@i64> %n @TWO
        BRANCH2 %small %base(%n) %rec(%n)
    %base(<@i64> %n):
        RET %n
    %rec(<@i64> %n):
        %a = SUB <@i64> %n @ONE
        %b = SUB <@i64> %n @TWO
        %fa = CALL <@k_sig> @k_fib (%a)
        %fb = CALL <@k_sig> @k_fib (%b)
        %r = ADD <@i64> %fa %fb
        RET %r
}

.funcdef @k_structs VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        %a = NEWHYBRID <@Arr @i64> %n
        %ia = GETIREF <@Arr> %a
        %v = GETVARPARTIREF <@Arr> %ia
        BRANCH %fill(%v %n @ZERO)
    %fill(<@irefP> %v <@i64> %n <@i64> %i):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %fbody(%v %n %i) %sum0(%v %n)
    %fbody(<@irefP> %v <@i64> %n <@i64> %i):
        %p = SHIFTIREF <@P @i64> %v %i
        %f0 = GETFIELDIREF <@P 0> %p
        %f1 = GETFIELDIREF <@P 1> %p
        STORE <@i64> %f0 %i
        %j = ADD <@i64> %i %i
        STORE <@i64> %f1 %j
        %i1 = ADD <@i64> %i @ONE
        BRANCH %fill(%v %n %i1)
    %sum0(<@irefP> %v <@i64> %n):
        BRANCH %loop(%v %n @ZERO @ZERO)
    %loop(<@irefP> %v <@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%v %n %i %s) %done(%s)
    %body(<@irefP> %v <@i64> %n <@i64> %i <@i64> %s):
        %p = SHIFTIREF <@P @i64> %v %i
        %f0 = GETFIELDIREF <@P 0> %p
        %f1 = GETFIELDIREF <@P 1> %p
        %x = LOAD <@i64> %f0
        %y = LOAD <@i64> %f1
        %t = ADD <@i64> %x %y
        %s1 = ADD <@i64> %s %t
        %i1 = ADD <@i64> %i @ONE
        BRANCH %loop(%v %n %i1 %s1)
    %done(<@i64> %s):
        RET %s
}

.funcdef @k_copy VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        %src = NEWHYBRID <@Words @i64> %n
        %dst = NEWHYBRID <@Words @i64> %n
        %ps = COMMINST @uvm.native.pin <@refWords> (%src)
        %pd = COMMINST @uvm.native.pin <@refWords> (%dst)
        %s0 = GETVARPARTIREF PTR <@Words> %ps
        %d0 = GETVARPARTIREF PTR <@Words> %pd
        BRANCH %init(%s0 %d0 %n @ZERO)
    %init(<@ptri64> %s0 <@ptri64> %d0 <@i64> %n <@i64> %i):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %ibody(%s0 %d0 %n %i) %copy(%s0 %d0 %n @ZERO)
    %ibody(<@ptri64> %s0 <@ptri64> %d0 <@i64> %n <@i64> %i):
        %p = SHIFTIREF PTR <@i64 @i64> %s0 %i
        STORE PTR <@i64> %p %i
        %i1 = ADD <@i64> %i @ONE
        BRANCH %init(%s0 %d0 %n %i1)
    %copy(<@ptri64> %s0 <@ptri64> %d0 <@i64> %n <@i64> %i):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %cbody(%s0 %d0 %n %i) %check(%d0 %n)
    %cbody(<@ptri64> %s0 <@ptri64> %d0 <@i64> %n <@i64> %i):
        %ps = SHIFTIREF PTR <@i64 @i64> %s0 %i
        %pd = SHIFTIREF PTR <@i64 @i64> %d0 %i
        %x = LOAD PTR <@i64> %ps
        STORE PTR <@i64> %pd %x
        %i1 = ADD <@i64> %i @ONE
        BRANCH %copy(%s0 %d0 %n %i1)
    %check(<@ptri64> %d0 <@i64> %n):
        %last = SUB <@i64> %n @ONE
        %pl = SHIFTIREF PTR <@i64 @i64> %d0 %last
        %x = LOAD PTR <@i64> %pl
        RET %x
}

.funcdef @k_ccall VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        BRANCH %loop(%n @ZERO @ZERO)
    %loop(<@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%n %i %s) %done(%s)
    %body(<@i64> %n <@i64> %i <@i64> %s):
        %s1 = CCALL #DEFAULT <@inc_fp @inc_sig> @c_inc (%s)
        %i1 = ADD <@i64> %i @ONE
        BRANCH %loop(%n %i1 %s1)
    %done(<@i64> %s):
        RET %s
}

.funcdef @cmp VERSION %v1 <@cmp_sig> {
    %entry(<@ptrvoid> %a <@ptrvoid> %b):
        %pa = PTRCAST <@ptrvoid @ptri32> %a
        %pb = PTRCAST <@ptrvoid @ptri32> %b
        %x = LOAD PTR <@i32> %pa
        %y = LOAD PTR <@i32> %pb
        %lt = SLT <@i32> %x %y
        %gt = SGT <@i32> %x %y
        %r1 = SELECT <@i1 @i32> %gt @P1 @Z32
        %r = SELECT <@i1 @i32> %lt @M1 %r1
        RET %r
}
.expose @cmp_x = @cmp #DEFAULT @ZERO

.funcdef @k_qsort VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        %h = NEWHYBRID <@Ints @i64> %n
        %p = COMMINST @uvm.native.pin <@refInts> (%h)
        %v = GETVARPARTIREF PTR <@Ints> %p
        BRANCH %fill(%v %n @ZERO @ONE)
    %fill(<@ptri32> %v <@i64> %n <@i64> %i <@i64> %x):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %fbody(%v %n %i %x) %sort(%v %n)
    %fbody(<@ptri32> %v <@i64> %n <@i64> %i <@i64> %x):
        %x1 = MUL <@i64> %x @MUL
        %x2 = ADD <@i64> %x1 @ADDC
        %val = AND <@i64> %x2 @MASK
        %v32 = TRUNC <@i64 @i32> %val
        %pi = SHIFTIREF PTR <@i32 @i64> %v %i
        STORE PTR <@i32> %pi %v32
        %i1 = ADD <@i64> %i @ONE
        BRANCH %fill(%v %n %i1 %x2)
    %sort(<@ptri32> %v <@i64> %n):
        %base = PTRCAST <@ptri32 @ptrvoid> %v
        CCALL #DEFAULT <@qsort_fp @qsort_sig> @qsort (%base %n @FOUR @cmp_x)
        %first = LOAD PTR <@i32> %v
        %r = ZEXT <@i32 @i64> %first
        RET %r
}

.funcdef @k_pin VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        %o = NEW <@i64>
        BRANCH %loop(%o %n @ZERO)
    %loop(<@refi64> %o <@i64> %n <@i64> %i):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%o %n %i) %done(%i)
    %body(<@refi64> %o <@i64> %n <@i64> %i):
        %p = COMMINST @uvm.native.pin <@refi64> (%o)
        COMMINST @uvm.native.unpin <@refi64> (%o)
        %i1 = ADD <@i64> %i @ONE
        BRANCH %loop(%o %n %i1)
    %done(<@i64> %i):
        RET %i
}

.funcdef @k_alloc VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        BRANCH %loop(%n @ZERO @ZERO)
    %loop(<@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%n %i %s) %done(%s)
    %body(<@i64> %n <@i64> %i <@i64> %s):
        %o = NEW <@P>
        %io = GETIREF <@P> %o
        %f = GETFIELDIREF <@P 0> %io
        STORE <@i64> %f %i
        %x = LOAD <@i64> %f
        %s1 = ADD <@i64> %s %x
        %i1 = ADD <@i64> %i @ONE
        BRANCH %loop(%n %i1 %s1)
    %done(<@i64> %s):
        RET %s
}
// SWAPSTACK round trips with an echoing coroutine (spec/12).
.typedef @k_sref = stackref
.funcsig @k_s_v = (@k_sref) -> ()
.funcsig @k_i_v = (@i64) -> ()
.const @K_ONE <@i64> = 1
.const @K_ZERO <@i64> = 0
.const @K_ALL <@i32> = 1
.global @k_done <@i64>
.funcdef @k_echo VERSION %v1 <@k_s_v> {
    %entry(<@k_sref> %from):
        %v = SWAPSTACK %from RET_WITH <@i64> PASS_VALUES <> ()
        BRANCH %loop(%from %v)
    %loop(<@k_sref> %from <@i64> %v):
        %w = SWAPSTACK %from RET_WITH <@i64> PASS_VALUES <@i64> (%v)
        BRANCH %loop(%from %w)
}
.funcdef @k_swap VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        %me = COMMINST @uvm.current_stack
        %s = COMMINST @uvm.new_stack <[@k_s_v]> (@k_echo)
        SWAPSTACK %s RET_WITH <> PASS_VALUES <@k_sref> (%me)
        BRANCH %loop(%s %n @K_ZERO)
    %loop(<@k_sref> %s <@i64> %n <@i64> %i):
        %done = SGE <@i64> %i %n
        BRANCH2 %done %end(%s %i) %go(%s %n %i)
    %go(<@k_sref> %s <@i64> %n <@i64> %i):
        %i1 = ADD <@i64> %i @K_ONE
        %r = SWAPSTACK %s RET_WITH <@i64> PASS_VALUES <@i64> (%i1)
        BRANCH %loop(%s %n %r)
    %end(<@k_sref> %s <@i64> %i):
        COMMINST @uvm.kill_stack (%s)
        RET %i
}
// Threads made and joined one at a time (a futex wait for each).
.funcdef @k_worker VERSION %v1 <@k_i_v> {
    %entry(<@i64> %x):
        STORE SEQ_CST <@i64> @k_done @K_ONE
        %w = COMMINST @uvm.futex.wake <@i64> (@k_done @K_ALL)
        RET ()
}
.funcdef @k_threads VERSION %v1 <@k_sig> {
    %entry(<@i64> %n):
        BRANCH %loop(%n @K_ZERO)
    %loop(<@i64> %n <@i64> %i):
        %done = SGE <@i64> %i %n
        BRANCH2 %done %end(%i) %go(%n %i)
    %go(<@i64> %n <@i64> %i):
        STORE SEQ_CST <@i64> @k_done @K_ZERO
        %s = COMMINST @uvm.new_stack <[@k_i_v]> (@k_worker)
        %t = NEWTHREAD %s PASS_VALUES <@i64> (%i)
        %w = COMMINST @uvm.futex.wait <@i64> (@k_done @K_ZERO)
        %i1 = ADD <@i64> %i @K_ONE
        BRANCH %loop(%n %i1)
    %end(<@i64> %i):
        RET %i
}
"#;

/// The C twins of the report's kernels, compiled by gcc -O2.
pub const REPORT_C: &str = r#"
#include <ucontext.h>
#include <pthread.h>
static ucontext_t c_main_ctx, c_co_ctx;
static long c_val;
static char c_co_stack[1 << 16];
static void c_echo(void) {
    for (;;) swapcontext(&c_co_ctx, &c_main_ctx);
}
/* swapcontext round trips with an echoing coroutine. */
long c_swap(long n) {
    getcontext(&c_co_ctx);
    c_co_ctx.uc_stack.ss_sp = c_co_stack;
    c_co_ctx.uc_stack.ss_size = sizeof c_co_stack;
    c_co_ctx.uc_link = 0;
    makecontext(&c_co_ctx, c_echo, 0);
    long i = 0;
    while (i < n) {
        c_val = i + 1;
        swapcontext(&c_main_ctx, &c_co_ctx);
        i = c_val;
    }
    return i;
}
static void *c_thr(void *a) { return a; }
/* Threads made and joined one at a time. */
long c_threads(long n) {
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, 0, c_thr, 0)) return -1;
        pthread_join(t, 0);
    }
    return n;
}
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
long muni_bench_inc(long x) { return x + 1; }
long c_fib(long n) { return n < 2 ? n : c_fib(n - 1) + c_fib(n - 2); }
struct P { long a, b; };
long c_structs(long n) {
    struct P *v = malloc(sizeof(struct P) * (n ? n : 1));
    for (long i = 0; i < n; i++) { v[i].a = i; v[i].b = i + i; }
    long s = 0;
    for (long i = 0; i < n; i++) s += v[i].a + v[i].b;
    free(v);
    return s;
}
long c_copy(long n) {
    long *src = malloc(8 * n), *dst = malloc(8 * n);
    for (long i = 0; i < n; i++) src[i] = i;
    for (long i = 0; i < n; i++) dst[i] = src[i];
    long r = dst[n - 1];
    free(src); free(dst);
    return r;
}
long (*volatile c_inc_ptr)(long) = muni_bench_inc;
long c_ccall(long n) { long s = 0; for (long i = 0; i < n; i++) s = c_inc_ptr(s); return s; }
static int cmp(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return x < y ? -1 : x > y; }
long c_qsort(long n) {
    int *v = malloc(4 * n);
    uint64_t x = 1;
    for (long i = 0; i < n; i++) { x = x * 1103515245 + 12345; v[i] = (int)(x & 65535); }
    qsort(v, n, 4, cmp);
    long r = v[0];
    free(v);
    return r;
}
long c_alloc(long n) {
    long s = 0;
    for (long i = 0; i < n; i++) { struct P *volatile p = malloc(sizeof *p); p->a = i; s += p->a; free(p); }
    return s;
}
"#;

/// The report's kernels: label, name (`@k_NAME` in [`REPORT_MU`], `c_NAME` in
/// [`REPORT_C`]) and argument.
pub const KERNELS: &[(&str, &str, u64)] = &[
    ("recursive fib(27)", "fib", 27),
    ("loop over a heap array of 1M structs", "structs", 1_000_000),
    ("memcpy-like loop, 1M words through PTR", "copy", 1_000_000),
    ("1M CCALLs of a trivial C function", "ccall", 1_000_000),
    ("qsort of 100k ints, Mu comparator", "qsort", 100_000),
    ("1M small allocations (vs malloc/free)", "alloc", 1_000_000),
    (
        "1M SWAPSTACK round trips (vs swapcontext)",
        "swap",
        1_000_000,
    ),
    (
        "10k threads made and joined (vs pthreads)",
        "threads",
        10_000,
    ),
];

/// The budgets the report's kernels run under: fuel and allocation unbounded (the
/// program is compiled without fuel checks), a deep stack for the recursive kernels.
pub const REPORT_BUDGETS: spec_model::Budgets = spec_model::Budgets {
    fuel: u64::MAX,
    alloc: u64::MAX,
    stack: 1_000_000,
};

/// A C kernel of [`REPORT_C`]: `long c_NAME(long)`.
pub type CKernel = unsafe extern "C" fn(i64) -> i64;

/// Compiles [`REPORT_C`] with gcc -O2 (cached by [`spec_model::clib`]) and loads it
/// into the process (for the fast VM's `EXTERN`s too).
///
/// # Panics
/// If gcc is missing or fails, or the library does not load: a benchmark cannot
/// run without it.
pub fn build_c_kernels() {
    let lib = spec_model::clib::build("kernels", REPORT_C).expect("gcc builds the kernels");
    spec_model::load_library(lib.to_str().expect("utf-8 path")).expect("load kernels");
}

/// The C kernel `c_NAME`, after [`build_c_kernels`].
///
/// # Panics
/// If it is not loaded.
#[must_use]
pub fn c_kernel(name: &str) -> CKernel {
    let c = std::ffi::CString::new(format!("c_{name}")).expect("no NUL");
    // SAFETY: dlsym only reads the name; the library was loaded with RTLD_GLOBAL.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
    assert!(!p.is_null(), "c_{name} not found");
    // SAFETY: every c_* kernel in REPORT_C has the C type long(long).
    unsafe { std::mem::transmute::<*mut libc::c_void, CKernel>(p) }
}
