/* runtime/ops/rope_table.c -- the cos/sin tables of rotary position embedding,
** kept per calling thread from one rope call to the next.
**
** A llama layer ropes its queries and its keys at the same positions, and every
** layer of a token does the same: 44 calls a token on TinyLlama, each needing
** the same 32 cos/sin pairs (callgrind: ~35k instructions of libm a token before,
** a few hundred now; a 64-token prompt the same 44-fold over).  A table depends
** only on the position, the head size and theta_scale, so a call whose
** positions the thread's table already covers reads it; the values are the ones
** the per-row loop computed (same operations, same order). */
#include "runtime/ops/internal.h"

#include <pthread.h>

typedef struct rope_table {
    uint32_t scale_bits; /* theta_scale's bits */
    int64_t D, first, n; /* positions first .. first + n - 1, D floats each */
    size_t cap;          /* floats allocated at cs */
    float *cs;
} rope_table;

static pthread_key_t table_key;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static bool table_key_ok;

static void table_free(void *p) {
    rope_table *t = p;
    if (t) free(t->cs);
    free(t);
}

static void table_key_init(void) {
    table_key_ok = pthread_key_create(&table_key, table_free) == 0;
}

void ops_rope_row_table(int64_t position, int64_t D, float theta_scale, float *cs) {
    float theta = (float)position;
    for (int64_t i = 0; i < D / 2; i++) { /* ggml's order of operations */
        cs[2 * i] = cosf(theta);
        cs[2 * i + 1] = sinf(theta);
        theta *= theta_scale;
    }
}

const float *ops_rope_table(int64_t lo, int64_t hi, int64_t D, float theta_scale, int64_t *first) {
    if (hi < lo || hi - lo >= OPS_ROPE_TABLE_MAX || D <= 0 || D > 4096) return NULL;
    pthread_once(&table_once, table_key_init);
    if (!table_key_ok) return NULL;
    rope_table *t = pthread_getspecific(table_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t || pthread_setspecific(table_key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    uint32_t bits;
    memcpy(&bits, &theta_scale, sizeof bits);
    if (t->cs && t->scale_bits == bits && t->D == D && lo >= t->first && hi < t->first + t->n) {
        *first = t->first;
        return t->cs;
    }
    size_t need = (size_t)(hi - lo + 1) * (size_t)D;
    if (need > t->cap) {
        float *cs = realloc(t->cs, need * sizeof *cs);
        if (!cs) return NULL;
        t->cs = cs;
        t->cap = need;
    }
    for (int64_t p = lo; p <= hi; p++)
        ops_rope_row_table(p, D, theta_scale, t->cs + (size_t)(p - lo) * (size_t)D);
    t->scale_bits = bits;
    t->D = D;
    t->first = lo;
    t->n = hi - lo + 1;
    *first = lo;
    return t->cs;
}
