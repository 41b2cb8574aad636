/* runtime/ops/einsum.c -- einsum: a general spec parser and evaluator, plus
** threaded fast paths for the two attention specs. */
#include "runtime/ops/internal.h"

#include "runtime/threadpool.h"

#include <ctype.h>

#define MAX_OPERANDS 8
#define N_LETTERS    52

static int letter_id(char c) {
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
    return -1;
}

static char letter_char(int id) {
    return id < 26 ? (char)('a' + id) : (char)('A' + id - 26);
}

typedef struct einsum_plan {
    int n; /* operands */
    int n_out, n_sum;
    int out_letters[TL_MAX_DIMS];            /* letter ids in output order */
    int sum_letters[N_LETTERS];              /* summed letters, first appearance order */
    int64_t size[N_LETTERS];                 /* -1: unused */
    int64_t stride[MAX_OPERANDS][N_LETTERS]; /* element strides in each operand's f32 copy */
    const float *data[MAX_OPERANDS];
    float *out;
    int64_t out_stride[TL_MAX_DIMS]; /* output element strides per out letter */
    int64_t n_sum_total;
} einsum_plan;

static void einsum_general(void *ctx, int64_t begin, int64_t end) {
    const einsum_plan *p = ctx;
    int64_t sidx[N_LETTERS];
    for (int64_t e = begin; e < end; e++) {
        /* decompose e into output letter indices (row-major, last fastest) */
        int64_t base[MAX_OPERANDS] = {0}, rest = e;
        for (int i = p->n_out - 1; i >= 0; i--) {
            int l = p->out_letters[i];
            int64_t v = rest % p->size[l];
            rest /= p->size[l];
            for (int k = 0; k < p->n; k++)
                base[k] += v * p->stride[k][l];
        }
        double acc = 0.0;
        for (int i = 0; i < p->n_sum; i++)
            sidx[i] = 0;
        int64_t off[MAX_OPERANDS];
        for (int64_t c = 0; c < p->n_sum_total; c++) {
            for (int k = 0; k < p->n; k++)
                off[k] = base[k];
            for (int i = 0; i < p->n_sum; i++)
                for (int k = 0; k < p->n; k++)
                    off[k] += sidx[i] * p->stride[k][p->sum_letters[i]];
            float prod = p->data[0][off[0]];
            for (int k = 1; k < p->n; k++)
                prod = prod * p->data[k][off[k]];
            acc += (double)prod;
            for (int i = p->n_sum - 1; i >= 0; i--) { /* last summed letter fastest */
                if (++sidx[i] < p->size[p->sum_letters[i]]) break;
                sidx[i] = 0;
            }
        }
        p->out[e] = (float)acc;
    }
}

/* "ihd,jhd->ihj": C[i,h,j] = sum_d A[i,h,d] B[j,h,d]; items over (i, h). */
typedef struct qk_job {
    const float *a, *b;
    float *c;
    int64_t I, H, J, D;
} qk_job;

static void einsum_qk(void *ctx, int64_t begin, int64_t end) {
    const qk_job *j = ctx;
    for (int64_t it = begin; it < end; it++) {
        int64_t h = it % j->H;
        const float *a = j->a + it * j->D;
        float *c = j->c + it * j->J;
        for (int64_t x = 0; x < j->J; x++) {
            const float *b = j->b + (x * j->H + h) * j->D;
            double s = 0.0;
            for (int64_t d = 0; d < j->D; d++)
                s += (double)(a[d] * b[d]);
            c[x] = (float)s;
        }
    }
}

/* "ihj,jhd->ihd": C[i,h,d] = sum_j A[i,h,j] B[j,h,d]; items over (i, h). */
static void einsum_pv(void *ctx, int64_t begin, int64_t end) {
    const qk_job *j = ctx; /* here J is the summed length, D the output length */
    double *acc = malloc((size_t)(j->D + 1) * sizeof(double));
    if (!acc) return;
    for (int64_t it = begin; it < end; it++) {
        int64_t h = it % j->H;
        const float *a = j->a + it * j->J;
        for (int64_t d = 0; d < j->D; d++)
            acc[d] = 0.0;
        for (int64_t x = 0; x < j->J; x++) {
            const float *b = j->b + (x * j->H + h) * j->D;
            for (int64_t d = 0; d < j->D; d++)
                acc[d] += (double)(a[x] * b[d]);
        }
        float *c = j->c + it * j->D;
        for (int64_t d = 0; d < j->D; d++)
            c[d] = (float)acc[d];
    }
    free(acc);
}

tl_status tl_op_einsum(const char *spec, int n, const tl_tensor *const *operands, tl_tensor **out) {
    *out = NULL;
    if (n < 1 || n > MAX_OPERANDS)
        return tl_fail(TL_ERR_ARG, "einsum: %d operands (1..%d supported)", n, MAX_OPERANDS);
    for (int k = 0; k < n; k++) {
        tl_status st = ops_require_plain("einsum", operands[k]);
        if (st != TL_OK) return st;
    }
    /* parse: terms separated by ',', optional "->out"; spaces ignored */
    int terms[MAX_OPERANDS][TL_MAX_DIMS], term_len[MAX_OPERANDS] = {0};
    int out_l[TL_MAX_DIMS], n_out = 0, n_terms = 0;
    bool has_arrow = false;
    int count[N_LETTERS] = {0};
    const char *s = spec;
    n_terms = 1;
    for (; *s; s++) {
        char c = *s;
        if (isspace((unsigned char)c)) continue;
        if (c == ',') {
            if (has_arrow) return tl_fail(TL_ERR_ARG, "einsum: ',' after '->' in \"%s\"", spec);
            if (++n_terms > MAX_OPERANDS)
                return tl_fail(TL_ERR_ARG, "einsum: too many terms in \"%s\"", spec);
            continue;
        }
        if (c == '-' && s[1] == '>') {
            if (has_arrow) return tl_fail(TL_ERR_ARG, "einsum: two '->' in \"%s\"", spec);
            has_arrow = true;
            s++;
            continue;
        }
        int l = letter_id(c);
        if (l < 0) return tl_fail(TL_ERR_ARG, "einsum: unexpected '%c' in \"%s\"", c, spec);
        if (has_arrow) {
            for (int i = 0; i < n_out; i++)
                if (out_l[i] == l)
                    return tl_fail(TL_ERR_ARG, "einsum: output letter '%c' repeated", c);
            if (n_out == TL_MAX_DIMS)
                return tl_fail(TL_ERR_ARG, "einsum: output has too many dims");
            out_l[n_out++] = l;
        } else {
            int t = n_terms - 1;
            if (term_len[t] == TL_MAX_DIMS)
                return tl_fail(TL_ERR_ARG, "einsum: a term has too many letters");
            terms[t][term_len[t]++] = l;
            count[l]++;
        }
    }
    if (n_terms != n)
        return tl_fail(TL_ERR_ARG, "einsum: \"%s\" has %d term%s but %d operand%s given", spec,
                       n_terms, n_terms == 1 ? "" : "s", n, n == 1 ? " was" : "s were");
    einsum_plan p;
    memset(&p, 0, sizeof p);
    p.n = n;
    for (int l = 0; l < N_LETTERS; l++)
        p.size[l] = -1;
    for (int k = 0; k < n; k++) {
        const tl_tensor *t = operands[k];
        char sh[96];
        if (term_len[k] != t->n_dims)
            return tl_fail(TL_ERR_SHAPE,
                           "einsum: term %d of \"%s\" has %d letters but operand %s has %d dims",
                           k + 1, spec, term_len[k], OPS_SHAPE(t, sh), t->n_dims);
        int64_t es = 1;
        for (int a = t->n_dims - 1; a >= 0; a--) { /* .tl axis a is ggml dim n-1-a */
            int l = terms[k][a];
            int64_t len = t->ne[t->n_dims - 1 - a];
            if (p.size[l] >= 0 && p.size[l] != len)
                return tl_fail(TL_ERR_SHAPE,
                               "einsum: letter '%c' is %lld in one place and %lld in another",
                               letter_char(l), (long long)p.size[l], (long long)len);
            p.size[l] = len;
            p.stride[k][l] += es;
            es *= len;
        }
    }
    if (!has_arrow) { /* implicit output: letters seen exactly once, sorted */
        for (int l = 0; l < N_LETTERS; l++)
            if (count[l] == 1) {
                if (n_out == TL_MAX_DIMS)
                    return tl_fail(TL_ERR_ARG, "einsum: output has too many dims");
                out_l[n_out++] = l;
            }
    }
    for (int i = 0; i < n_out; i++)
        if (p.size[out_l[i]] < 0)
            return tl_fail(TL_ERR_ARG, "einsum: output letter '%c' is not in any input",
                           letter_char(out_l[i]));
    p.n_out = n_out;
    memcpy(p.out_letters, out_l, sizeof(int) * (size_t)n_out);
    bool in_out[N_LETTERS] = {false};
    for (int i = 0; i < n_out; i++)
        in_out[out_l[i]] = true;
    bool added[N_LETTERS] = {false};
    p.n_sum_total = 1;
    for (int k = 0; k < n; k++)
        for (int a = 0; a < term_len[k]; a++) {
            int l = terms[k][a];
            if (in_out[l] || added[l]) continue;
            added[l] = true;
            p.sum_letters[p.n_sum++] = l;
            if (__builtin_mul_overflow(p.n_sum_total, p.size[l], &p.n_sum_total))
                return tl_fail(TL_ERR_ARG,
                               "einsum: \"%s\" sums over more than 2^63 terms per output element",
                               spec);
        }
    int64_t ne[TL_MAX_DIMS], total = 1, work;
    for (int i = 0; i < n_out; i++) {
        ne[n_out - 1 - i] = p.size[out_l[i]];
        if (__builtin_mul_overflow(total, p.size[out_l[i]], &total))
            return tl_fail(TL_ERR_NOMEM, "einsum: the output of \"%s\" has more than 2^63 elements",
                           spec);
    }
    if (__builtin_mul_overflow(total, p.n_sum_total, &work))
        return tl_fail(TL_ERR_ARG, "einsum: \"%s\" needs more than 2^63 multiply-adds", spec);
    /* operands as contiguous f32 */
    float *bufs[MAX_OPERANDS] = {0};
    tl_status st = TL_OK;
    for (int k = 0; k < n && st == TL_OK; k++)
        st = ops_to_f32("einsum", operands[k], &bufs[k]);
    float *o = NULL;
    if (st == TL_OK) st = ops_alloc("einsum", (size_t)total * sizeof(float), (void **)&o);
    if (st == TL_OK && total > 0) {
        for (int k = 0; k < n; k++)
            p.data[k] = bufs[k];
        p.out = o;
        const char *norm = NULL;
        char compact[64];
        size_t cl = 0;
        for (const char *c = spec; *c && cl + 1 < sizeof compact; c++)
            if (!isspace((unsigned char)*c)) compact[cl++] = *c;
        compact[cl] = '\0';
        norm = compact;
        if (n == 2 && strcmp(norm, "ihd,jhd->ihj") == 0) {
            qk_job j = {bufs[0],
                        bufs[1],
                        o,
                        p.size[letter_id('i')],
                        p.size[letter_id('h')],
                        p.size[letter_id('j')],
                        p.size[letter_id('d')]};
            tl_parallel_for(j.I * j.H, 1 + 4096 / (j.J * j.D + 1), einsum_qk, &j);
        } else if (n == 2 && strcmp(norm, "ihj,jhd->ihd") == 0) {
            qk_job j = {bufs[0],
                        bufs[1],
                        o,
                        p.size[letter_id('i')],
                        p.size[letter_id('h')],
                        p.size[letter_id('j')],
                        p.size[letter_id('d')]};
            tl_parallel_for(j.I * j.H, 1 + 4096 / (j.J * j.D + 1), einsum_pv, &j);
        } else {
            tl_parallel_for(total, 1 + 4096 / (p.n_sum_total * n + 1), einsum_general, &p);
        }
    }
    if (st == TL_OK) st = ops_from_f32(o, TL_DTYPE_F32, n_out, ne, out);
    for (int k = 0; k < n; k++)
        free(bufs[k]);
    free(o);
    return st;
}
