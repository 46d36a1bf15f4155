/* C side of native/found.uir: shapes of calls and callbacks on which difftest's
 * generator found fast-VM bugs. */
#include <stdint.h>

/* A void function: a CCALL of it has no result to wait for. */
void found_bump(int64_t *p) { *p += 1; }

/* Calls back once and returns what the callback returned, plus one. */
int64_t found_apply(int64_t (*f)(int64_t), int64_t x) { return f(x) + 1; }

/* A result in memory (24 bytes: returned through a hidden pointer). */
struct big { int64_t a, b, c; };

/* Calls back twice; the second callback ends the run (it throws into C), so it
 * returns zero and the sum C stores is that of the zero struct. */
void found_big(struct big (*f)(int64_t), int64_t *out) {
    struct big r = f(0);
    int64_t first = r.a + r.b + r.c;
    r = f(1);
    out[0] = first;
    out[1] = r.a + r.b + r.c;
}
