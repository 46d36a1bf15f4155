/* The C side of abi.uir: what gcc makes of the layouts and calls that existing Mu
 * implementations get wrong (tail padding, a hybrid's variable part, struct
 * arguments in registers, on the stack and returned through sret, small integers,
 * variadic functions and %al). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct TP { int64_t a; int8_t b; };              /* 16 bytes: 7 of tail padding */
struct H { int64_t a; int8_t b; int32_t v[]; };  /* v at 12, not at 16 */
struct P2 { int32_t x, y; };                     /* one INTEGER eightbyte */
struct DF { double d; int64_t i; };              /* SSE then INTEGER */
struct F3 { float a, b, c; };                    /* two SSE eightbytes */
struct Big { int64_t a, b, c; };                 /* MEMORY: on the stack, sret */
struct LL { int64_t a, b; };                     /* two INTEGER eightbytes */

long abi_sizeof_tp(void) { return sizeof(struct TP); }
long abi_offsetof_hv(void) { return offsetof(struct H, v); }
long abi_sizeof_h(void) { return sizeof(struct H); }

long abi_sum_tp(const struct TP *p, long n) {
    long s = 0;
    for (long i = 0; i < n; i++) s += p[i].a * 10 + p[i].b;
    return s;
}

long abi_sum_h(const struct H *h, long n) {
    long s = h->a * 1000 + h->b * 100;
    for (long i = 0; i < n; i++) s += h->v[i];
    return s;
}

long abi_p2(struct P2 p) { return (long)p.x * 1000 + p.y; }
double abi_df(struct DF s) { return s.d + (double)s.i; }
float abi_f3(struct F3 s) { return s.a + s.b * 2 + s.c * 3; }
long abi_big(struct Big b) { return b.a + 10 * b.b + 100 * b.c; }
struct Big abi_make_big(long x) { struct Big b = {x, x + 1, x + 2}; return b; }
struct P2 abi_make_p2(int x) { struct P2 p = {x, -x}; return p; }
struct DF abi_make_df(double d) { struct DF s = {d * 2, (int64_t)d}; return s; }

/* Five INTEGER registers taken: the two-eightbyte struct does not fit in r9 alone,
 * so all of it goes on the stack, and the next long takes r9. */
long abi_split(long a, long b, long c, long d, long e, struct LL s, long f) {
    return a + b + c + d + e + s.a * 100 + s.b * 1000 + f * 10000;
}

/* Small integers arrive extended as their C types say. */
long abi_ext(int8_t a, uint8_t b, int16_t c, uint16_t d) { return (long)a + b + c + d; }
int8_t abi_neg8(int8_t a) { return (int8_t)-a; }

/* No state on the C side: every run of a script must give the same answers. */
long abi_add(long a, long b) { return a + b; }

/* Calls back into Mu; the callback may end the run (abi.uir @apply_thrower). */
long abi_apply(long (*f)(long), long x) { return f(x) + 1; }

/* Variadic functions (ccall.al). Mu has no variadic funcsigs: a CCALL lists the
 * types of the actual arguments, and passes in %al the number of vector registers
 * they use. gcc's prologue saves xmm0-7 for va_arg only when %al is not 0. */
double abi_vsum(int n, ...) {
    va_list ap;
    va_start(ap, n);
    double s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, double) * (i + 1);
    va_end(ap);
    return s;
}

/* n pairs (long k, double d): the sum of k * d. */
double abi_vmix(int n, ...) {
    va_list ap;
    va_start(ap, n);
    double s = 0;
    for (int i = 0; i < n; i++) {
        long k = va_arg(ap, long);
        s += (double)k * va_arg(ap, double);
    }
    va_end(ap);
    return s;
}

/* The %al it was called with, which C cannot read: a function in assembly. */
long abi_al(void);
__asm__(".text\n"
        ".globl abi_al\n"
        ".type abi_al, @function\n"
        "abi_al:\n"
        "\tmovzbl %al, %eax\n"
        "\tret\n"
        ".size abi_al, .-abi_al\n");
