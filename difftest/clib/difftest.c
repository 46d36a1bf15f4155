/* The fixed C library generated programs call (difftest/src/gen.rs). Every function
 * is pure and defined on all inputs (no signed overflow, no out-of-range casts), so
 * both engines must get exactly the same answers from it. */
#include <stdint.h>

struct S1 { int64_t a; int8_t b; };        /* INTEGER, INTEGER; 7 bytes tail padding */
struct S2 { int32_t x; double d; };        /* INTEGER, SSE */
struct S3 { float a, b, c; };              /* SSE, SSE */
struct S4 { int64_t a, b, c; };            /* MEMORY: stack argument, sret result */
/* hybrid<@i32 @i8 @i16>: the variable part starts at offset 6, after the fixed part
 * without its tail padding, as C places a flexible array member. */
struct HM { int32_t a; int8_t b; int16_t v[]; };

static int64_t wrap(uint64_t x) { return (int64_t)x; }

int64_t dt_mix(int64_t a, int64_t b) { return wrap((uint64_t)a * 31u + ((uint64_t)b ^ 0x5a5au)); }
double dt_fmix(double a, int64_t b) { return a * 0.5 + (double)(b & 0xffff); }
int64_t dt_s1(struct S1 s, int64_t k) { return wrap((uint64_t)s.a * 3u + (uint64_t)s.b + (uint64_t)k); }
int64_t dt_s2(struct S2 s) { return (int64_t)s.x + (s.d > 0 ? 1 : 0) + (s.d < 0 ? 2 : 0); }
double dt_s3(struct S3 s) { return (double)s.a + 2.0 * (double)s.b - (double)s.c; }
int64_t dt_s4(struct S4 s) { return wrap((uint64_t)s.a + 10u * (uint64_t)s.b + 100u * (uint64_t)s.c); }
struct S1 dt_mk1(int64_t a) { struct S1 s = { a ^ 7, (int8_t)(a & 0x7f) }; return s; }
struct S2 dt_mk2(int64_t a) { struct S2 s = { (int32_t)(a & 0xffff), (double)(a & 0xff) * 0.25 }; return s; }
struct S4 dt_mk4(int64_t a) { struct S4 s = { a, wrap((uint64_t)a + 1u), wrap((uint64_t)a * 2u) }; return s; }

/* Five INTEGER registers used: the struct goes on the stack whole, f takes r9. */
int64_t dt_split(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, struct S1 s, int64_t f) {
    return wrap((uint64_t)a + (uint64_t)b * 2u + (uint64_t)c * 3u + (uint64_t)d * 5u +
                (uint64_t)e * 7u + (uint64_t)s.a * 11u + (uint64_t)s.b * 13u + (uint64_t)f * 17u);
}

int8_t dt_neg8(int8_t a) { return (int8_t)(0 - (uint8_t)a); }
uint16_t dt_inc16(uint16_t a) { return (uint16_t)(a + 1u); }

/* Memory of a pinned Mu object. */
int64_t dt_sum(const int64_t *p, int64_t n) {
    uint64_t s = 0;
    for (int64_t i = 0; i < n; i++) s = s * 7u + (uint64_t)p[i];
    return wrap(s);
}
/* Reads a pinned hybrid<@i32 @i8 @i16> as C lays it out, then bumps its last element. */
int64_t dt_hm(struct HM *h, int64_t n) {
    uint64_t s = (uint64_t)(int64_t)h->a * 31u + (uint64_t)(int64_t)h->b;
    for (int64_t i = 0; i < n; i++) s = s * 7u + (uint64_t)(int64_t)h->v[i];
    h->v[n - 1] = (int16_t)(uint16_t)((uint16_t)h->v[n - 1] + 1u);
    return wrap(s);
}
void dt_fill(int64_t *p, int64_t n, int64_t seed) {
    for (int64_t i = 0; i < n; i++) p[i] = wrap((uint64_t)seed + (uint64_t)(i * i));
}

/* Calls back into Mu twice. */
int64_t dt_apply(int64_t (*f)(int64_t), int64_t x) {
    return wrap((uint64_t)f(x) + (uint64_t)f(wrap((uint64_t)x + 1u)));
}
