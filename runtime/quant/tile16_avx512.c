/* runtime/quant/tile16_avx512.c -- the 16-rows-in-lanes Q4_0 GEMM for CPUs
** with AVX-512 VNNI (see tile8.h).
**
** Same arithmetic as the AVX2 8-row tile: per block the exact integer sum of
** (nibble - 8) * y, then acc = fma(d_x * d_y, (float)sum, acc), so every output
** is bit-identical to it.  What changes is the instruction count: one
** vpdpbusd with an embedded broadcast of the activation does 64 multiply-adds
** (16 rows x 4 bytes) where AVX2 needs a broadcast, a maddubs and an add for
** 32, and the AVX2 loop is bound by how fast instructions issue.
**
** Per 16 rows, token and block the loop issues 8 vpdpbusd, one convert, one
** multiply and one FMA; on this project's Zen-4-class test machine vpdpbusd
** and the float multiply/FMA share the two 512-bit pipes, so ~80% of the
** vpdpbusd peak (~184 GMAC/s at 3.6 GHz) is the bound of ggml's order, and
** the 8-token tile reaches ~176-183 in cache (docs/performance/third_pass.md).  GGUF rows are
** packed per call, 16 rows at a time; Q4_0x16 weights (q4_0x16.h) are read in
** place for up to 8 tokens, which lets a batch's step run near the tile's rate. */
#include "runtime/quant/tile8.h"

#include "runtime/cpu.h"
#include "runtime/quant/avx2_common.h"
#include "runtime/quant/quant_impl.h"
#include "runtime/quant/q4_0x16.h"
#include "runtime/quant/tile_pack.h"

#include <stdlib.h>

/* One block of a 16-row group: q[j] (j < 4), lane r: bytes 4j..4j+3 of row
** r's nibbles (low nibbles: elements 4j..4j+3, high: 16 + 4j..); dx: the 16
** scales.  The kernels split the nibbles as they go: storing them split would
** double the packed group (576 bytes a block, 36 KB a 2048-long group: more
** than L1), and the split's logic ops run beside the multiply-adds. */
typedef struct z_blk {
    __m512i q[4];
    __m512 dx;
} z_blk;

bool tl_q4_0_tile16_available(void) {
    return tl_cpu_use_avx512vnni();
}

/* rows m, m + 4, m + 8, m + 12 of a block's nibbles in the four 128-bit lanes */
static inline __m512i rows4(const char *q, size_t rs) {
    __m512i y = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)q));
    y = _mm512_inserti32x4(y, _mm_loadu_si128((const __m128i *)(q + 4 * rs)), 1);
    y = _mm512_inserti32x4(y, _mm_loadu_si128((const __m128i *)(q + 8 * rs)), 2);
    return _mm512_inserti32x4(y, _mm_loadu_si128((const __m128i *)(q + 12 * rs)), 3);
}

/* Packs the nb blocks of the 16 rows at g (rs bytes apart) into pw: Y[m]
** holds rows m, 4 + m, 8 + m, 12 + m in its lanes, and a 4x4 dword
** transpose inside each 128-bit lane gives q[j] lane r = dword j of row r.
** The scales go through general registers (16 two-byte loads), off the
** vector pipes. */
static void pack_group(int64_t nb, const char *g, size_t rs, z_blk *pw) {
    for (int64_t b = 0; b < nb; b++) {
        const char *p = g + (size_t)b * sizeof(blk_q4_0);
        __m512i y0 = rows4(p + 2, rs), y1 = rows4(p + 2 + rs, rs);
        __m512i y2 = rows4(p + 2 + 2 * rs, rs), y3 = rows4(p + 2 + 3 * rs, rs);
        __m512i t0 = _mm512_unpacklo_epi32(y0, y1), t1 = _mm512_unpackhi_epi32(y0, y1);
        __m512i t2 = _mm512_unpacklo_epi32(y2, y3), t3 = _mm512_unpackhi_epi32(y2, y3);
        _mm512_store_si512(&pw[b].q[0], _mm512_unpacklo_epi64(t0, t2));
        _mm512_store_si512(&pw[b].q[1], _mm512_unpackhi_epi64(t0, t2));
        _mm512_store_si512(&pw[b].q[2], _mm512_unpacklo_epi64(t1, t3));
        _mm512_store_si512(&pw[b].q[3], _mm512_unpackhi_epi64(t1, t3));
        __m256i d = _mm256_setr_epi64x(
            (long long)tile_scales4(p, rs), (long long)tile_scales4(p + 4 * rs, rs),
            (long long)tile_scales4(p + 8 * rs, rs), (long long)tile_scales4(p + 12 * rs, rs));
        _mm512_store_ps(&pw[b].dx, _mm512_cvtph_ps(d));
    }
}

/* acc += w (unsigned bytes) . the dword at mem broadcast to all 16 lanes.
** Written in asm because GCC does not fold the broadcast into vpdpbusd. */
#define DOT_BCAST(acc, w, mem)                                                                     \
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(mem))

/* The weights of one block of a 16-row group, from either form: a z_blk
** (x16 = 0: packed on this call, scales already f32) or Q4_0x16 (x16 = 1:
** laid out ahead of time, q4_0x16.h; read in place, scales widened here). */
#define WBLK_BYTES(x16) ((x16) ? TL_Q4_0X16_BLOCK : (int)sizeof(z_blk))
static inline __attribute__((always_inline)) __m512i wblk_q(const char *w, int x16, int j) {
    return x16 ? _mm512_loadu_si512(w + 32 + 64 * j) : _mm512_load_si512(w + 64 * j);
}
static inline __attribute__((always_inline)) __m512 wblk_dx(const char *w, int x16) {
    return x16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w))
               : _mm512_load_ps((const float *)(w + offsetof(z_blk, dx)));
}

/* 16 rows x 4 tokens (k..k+3); each token's sum runs as two chains (low and
** high nibbles) so that the multiply-add latency is hidden. */
static inline __attribute__((always_inline)) void tile_16x4(int64_t nb, const char *pw, int x16,
                                                            const tile_act *pa, int64_t n_tok,
                                                            int64_t k, const char *next, float *out,
                                                            size_t out_stride) {
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int64_t b = 0; b < nb; b++) {
        if (next) {
            /* 16 rows x 18 bytes = 288 bytes of the next group per block */
            for (int l = 0; l < 288; l += 64)
                _mm_prefetch(next + b * 288 + l, _MM_HINT_T1);
        }
        const char *W = pw + b * WBLK_BYTES(x16);
        const tile_act *A = pa + b * n_tok + k;
        __m512i s0 = _mm512_set1_epi32(A[0].ns8), s1 = _mm512_set1_epi32(A[1].ns8);
        __m512i s2 = _mm512_set1_epi32(A[2].ns8), s3 = _mm512_set1_epi32(A[3].ns8);
        __m512i t0 = _mm512_setzero_si512(), t1 = t0, t2 = t0, t3 = t0;
        for (int j = 0; j < 4; j++) {
            __m512i v = wblk_q(W, x16, j);
            __m512i q = _mm512_and_si512(v, m4), h = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            DOT_BCAST(s0, q, A[0].qs[j]);
            DOT_BCAST(s1, q, A[1].qs[j]);
            DOT_BCAST(s2, q, A[2].qs[j]);
            DOT_BCAST(s3, q, A[3].qs[j]);
            DOT_BCAST(t0, h, A[0].qs[j + 4]);
            DOT_BCAST(t1, h, A[1].qs[j + 4]);
            DOT_BCAST(t2, h, A[2].qs[j + 4]);
            DOT_BCAST(t3, h, A[3].qs[j + 4]);
        }
        __m512 dx = wblk_dx(W, x16);
        acc0 = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(A[0].d)),
                               _mm512_cvtepi32_ps(_mm512_add_epi32(s0, t0)), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(A[1].d)),
                               _mm512_cvtepi32_ps(_mm512_add_epi32(s1, t1)), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(A[2].d)),
                               _mm512_cvtepi32_ps(_mm512_add_epi32(s2, t2)), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(A[3].d)),
                               _mm512_cvtepi32_ps(_mm512_add_epi32(s3, t3)), acc3);
    }
    _mm512_storeu_ps(out, acc0);
    _mm512_storeu_ps(out + out_stride, acc1);
    _mm512_storeu_ps(out + 2 * out_stride, acc2);
    _mm512_storeu_ps(out + 3 * out_stride, acc3);
}

/* 16 rows x 8 tokens (k..k+7): each packed weight vector is split once for
** 8 tokens, and each token's sum is one chain of 8 multiply-adds (8 chains
** in flight hide the latency), so a block costs per token 8 vpdpbusd, one
** convert, one multiply and one FMA. */
#define T8_DOT(i, w, j) DOT_BCAST(s##i, w, A[i].qs[j])
#define T8_ALL(w, j)                                                                               \
    T8_DOT(0, w, j);                                                                               \
    T8_DOT(1, w, j);                                                                               \
    T8_DOT(2, w, j);                                                                               \
    T8_DOT(3, w, j);                                                                               \
    T8_DOT(4, w, j);                                                                               \
    T8_DOT(5, w, j);                                                                               \
    T8_DOT(6, w, j);                                                                               \
    T8_DOT(7, w, j)
#define T8_ACC(i)                                                                                  \
    acc##i = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(A[i].d)), _mm512_cvtepi32_ps(s##i),  \
                             acc##i)
static inline __attribute__((always_inline)) void tile_16x8(int64_t nb, const char *pw, int x16,
                                                            const tile_act *pa, int64_t n_tok,
                                                            int64_t k, const char *next, float *out,
                                                            size_t out_stride) {
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    __m512 acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
    for (int64_t b = 0; b < nb; b++) {
        if (next) {
            for (int l = 0; l < 288; l += 64)
                _mm_prefetch(next + b * 288 + l, _MM_HINT_T1);
        }
        const char *W = pw + b * WBLK_BYTES(x16);
        const tile_act *A = pa + b * n_tok + k;
        __m512i s0 = _mm512_set1_epi32(A[0].ns8), s1 = _mm512_set1_epi32(A[1].ns8);
        __m512i s2 = _mm512_set1_epi32(A[2].ns8), s3 = _mm512_set1_epi32(A[3].ns8);
        __m512i s4 = _mm512_set1_epi32(A[4].ns8), s5 = _mm512_set1_epi32(A[5].ns8);
        __m512i s6 = _mm512_set1_epi32(A[6].ns8), s7 = _mm512_set1_epi32(A[7].ns8);
        for (int j = 0; j < 4; j++) {
            __m512i v = wblk_q(W, x16, j);
            __m512i q = _mm512_and_si512(v, m4);
            T8_ALL(q, j);
            __m512i h = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            T8_ALL(h, j + 4);
        }
        __m512 dx = wblk_dx(W, x16);
        T8_ACC(0);
        T8_ACC(1);
        T8_ACC(2);
        T8_ACC(3);
        T8_ACC(4);
        T8_ACC(5);
        T8_ACC(6);
        T8_ACC(7);
    }
    _mm512_storeu_ps(out, acc0);
    _mm512_storeu_ps(out + out_stride, acc1);
    _mm512_storeu_ps(out + 2 * out_stride, acc2);
    _mm512_storeu_ps(out + 3 * out_stride, acc3);
    _mm512_storeu_ps(out + 4 * out_stride, acc4);
    _mm512_storeu_ps(out + 5 * out_stride, acc5);
    _mm512_storeu_ps(out + 6 * out_stride, acc6);
    _mm512_storeu_ps(out + 7 * out_stride, acc7);
}

static inline __attribute__((always_inline)) void tile_16x1(int64_t nb, const char *pw, int x16,
                                                            const tile_act *pa, int64_t n_tok,
                                                            int64_t k, float *out) {
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const char *W = pw + b * WBLK_BYTES(x16);
        const tile_act *A = pa + b * n_tok + k;
        __m512i s = _mm512_set1_epi32(A->ns8), t = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            __m512i v = wblk_q(W, x16, j);
            DOT_BCAST(s, _mm512_and_si512(v, m4), A->qs[j]);
            DOT_BCAST(t, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4), A->qs[j + 4]);
        }
        acc = _mm512_fmadd_ps(_mm512_mul_ps(wblk_dx(W, x16), _mm512_set1_ps(A->d)),
                              _mm512_cvtepi32_ps(_mm512_add_epi32(s, t)), acc);
    }
    _mm512_storeu_ps(out, acc);
}

/* The nb blocks of one group of Q4_0x16 weights (q4_0x16.h) into pw: the
** nibble dwords are already in place; only the scales widen to f32. */
static void unpack_x16(int64_t nb, const char *p, z_blk *pw) {
    for (int64_t b = 0; b < nb; b++, p += TL_Q4_0X16_BLOCK) {
        for (int j = 0; j < 4; j++)
            _mm512_store_si512(&pw[b].q[j], _mm512_loadu_si512(p + 32 + 64 * j));
        _mm512_store_ps(&pw[b].dx, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)));
    }
}

/* One 16-row group (pw: packed z_blk blocks, or Q4_0x16 blocks when x16)
** starting at row g against all n_tok tokens. */
static inline __attribute__((always_inline)) void
tiles_16_in(int64_t nb, int64_t g, const char *next, const char *pw, int x16, const tile_act *pack,
            int64_t n_tok, float *out, size_t out_stride) {
    float *o = out + (size_t)g;
    int64_t k = 0;
    for (; k + 8 <= n_tok; k += 8, next = NULL)
        tile_16x8(nb, pw, x16, pack, n_tok, k, next, o + (size_t)k * out_stride, out_stride);
    for (; k + 4 <= n_tok; k += 4, next = NULL)
        tile_16x4(nb, pw, x16, pack, n_tok, k, next, o + (size_t)k * out_stride, out_stride);
    for (; k < n_tok; k++)
        tile_16x1(nb, pw, x16, pack, n_tok, k, o + (size_t)k * out_stride);
}
static void tiles_16(int64_t nb, int64_t g, const char *next, const z_blk *pw, const tile_act *pack,
                     int64_t n_tok, float *out, size_t out_stride) {
    tiles_16_in(nb, g, next, (const char *)pw, 0, pack, n_tok, out, out_stride);
}
static void tiles_16_x16(int64_t nb, int64_t g, const char *next, const char *pw,
                         const tile_act *pack, int64_t n_tok, float *out, size_t out_stride) {
    tiles_16_in(nb, g, next, pw, 1, pack, n_tok, out, out_stride);
}

/* One 16-row group of GGUF rows starting at row g against all n_tok tokens. */
static void group_16(int64_t nb, const char *w, size_t w_stride, int64_t g, const char *next,
                     z_blk *pw, const tile_act *pack, int64_t n_tok, float *out,
                     size_t out_stride) {
    pack_group(nb, w + (size_t)g * w_stride, w_stride, pw);
    tiles_16(nb, g, next, pw, pack, n_tok, out, out_stride);
}

bool tl_q4_0x16_gemm_available(void) {
    return tl_cpu_use_avx512vnni();
}

/* Row groups [r0, r1) of Q4_0x16 weights against nb-block activations packed
** for n_tok tokens. */
static tl_status gemm_x16(int64_t nb, const void *packed, int64_t r0, int64_t r1, int64_t r_ahead,
                          const tile_act *pack, int64_t n_tok, float *out, size_t out_stride) {
    /* Up to 8 tokens (a batch's step) each block is read once: in place.
    ** More tokens read it once per 8: then widening the scales once into an
    ** aligned copy is 2-3% faster (a 64-token prompt). */
    const bool copy = n_tok > 8;
    z_blk *pw = copy ? tile_alloc64((size_t)nb * sizeof(*pw)) : NULL;
    if (copy && !pw) return tl_fail(TL_ERR_NOMEM, "q4_0x16_gemm: out of memory");
    const size_t group = (size_t)nb * TL_Q4_0X16_BLOCK;
    for (int64_t g = r0; g < r1; g += 16) {
        const char *p = (const char *)packed + (size_t)(g / 16) * group;
        const char *next = g + 16 < (r1 > r_ahead ? r1 : r_ahead) ? p + group : NULL;
        if (copy) {
            unpack_x16(nb, p, pw);
            tiles_16(nb, g, next, pw, pack, n_tok, out, out_stride);
        } else {
            tiles_16_x16(nb, g, next, p, pack, n_tok, out, out_stride);
        }
    }
    free(pw);
    return TL_OK;
}

static tl_status x16_check(const char *op, int64_t n, int64_t r0, int64_t r1, int64_t n_tok) {
    if (n % QK32 != 0 || r0 < 0 || r1 < r0 || r0 % 16 || r1 % 16 || n_tok < 0)
        return tl_fail(TL_ERR_ARG, "%s: bad row length %lld, range [%lld, %lld) or %lld tokens", op,
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    return TL_OK;
}

tl_status tl_q4_0x16_gemm(int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                          size_t act_stride, int64_t n_tok, float *out, size_t out_stride) {
    tl_status st = x16_check("q4_0x16_gemm", n, r0, r1, n_tok);
    if (st != TL_OK || r0 == r1 || n_tok == 0) return st;
    int64_t nb = n / QK32;
    tile_act *pack = tile_pack_acts(act, act_stride, nb, n_tok);
    if (!pack) return tl_fail(TL_ERR_NOMEM, "q4_0x16_gemm: out of memory");
    st = gemm_x16(nb, packed, r0, r1, r1, pack, n_tok, out, out_stride);
    free(pack);
    return st;
}

struct tl_q4_0x16_acts {
    int64_t nb, n_tok;
    tile_act *pack; /* block b of token k at pack[b * n_tok + k] */
};

tl_q4_0x16_acts *tl_q4_0x16_acts_new(int64_t n, int64_t n_tok) {
    if (!tl_q4_0x16_gemm_available() || n % QK32 != 0 || n < 0 || n_tok < 0) return NULL;
    tl_q4_0x16_acts *a = malloc(sizeof *a);
    if (!a) return NULL;
    a->nb = n / QK32;
    a->n_tok = n_tok;
    a->pack = tile_alloc64((size_t)(a->nb * n_tok) * sizeof(tile_act));
    if (!a->pack) {
        free(a);
        return NULL;
    }
    return a;
}

void tl_q4_0x16_acts_set(tl_q4_0x16_acts *a, int64_t k, const void *act) {
    if (a && k >= 0 && k < a->n_tok) tile_pack_act_row(act, a->nb, a->n_tok, k, a->pack);
}

void tl_q4_0x16_acts_free(tl_q4_0x16_acts *a) {
    if (a) free(a->pack);
    free(a);
}

tl_status tl_q4_0x16_gemm_acts(const void *packed, int64_t r0, int64_t r1, int64_t r_ahead,
                               const tl_q4_0x16_acts *a, float *out, size_t out_stride) {
    if (!a) return tl_fail(TL_ERR_ARG, "q4_0x16_gemm: no activations");
    tl_status st = x16_check("q4_0x16_gemm", a->nb * QK32, r0, r1, a->n_tok);
    if (st != TL_OK || r0 == r1 || a->n_tok == 0) return st;
    return gemm_x16(a->nb, packed, r0, r1, r_ahead, a->pack, a->n_tok, out, out_stride);
}

tl_status tl_q4_0_gemm_tile16(int64_t n, const void *w, size_t w_stride, int64_t r0, int64_t r1,
                              const void *act, size_t act_stride, int64_t n_tok, float *out,
                              size_t out_stride) {
    if (n % QK32 != 0 || r0 < 0 || r1 < r0 || n_tok < 0)
        return tl_fail(TL_ERR_ARG,
                       "gemm_tile16: bad row length %lld, range [%lld, %lld) or %lld tokens",
                       (long long)n, (long long)r0, (long long)r1, (long long)n_tok);
    int64_t nb = n / QK32, r16 = r0 + (r1 - r0) / 16 * 16;
    if (r16 > r0 && n_tok > 0) {
        tile_act *pack = tile_pack_acts(act, act_stride, nb, n_tok);
        z_blk *pw = tile_alloc64((size_t)nb * sizeof(*pw));
        if (!pack || !pw) {
            free(pack);
            free(pw);
            return tl_fail(TL_ERR_NOMEM, "gemm_tile16: out of memory");
        }
        const char *W = w;
        for (int64_t g = r0; g < r16; g += 16) {
            const char *next = g + 16 < r16 ? W + (size_t)(g + 16) * w_stride : NULL;
            group_16(nb, W, w_stride, g, next, pw, pack, n_tok, out, out_stride);
        }
        /* 1..15 rows left: one more group ending at r1, overlapping the last
        ** one (its rows are recomputed to the same bits, inside [r0, r1)) */
        if (r16 < r1) group_16(nb, W, w_stride, r1 - 16, NULL, pw, pack, n_tok, out, out_stride);
        free(pack);
        free(pw);
        return TL_OK;
    }
    if (r0 < r1)
        return tl_q4_0_gemm_tile8(n, w, w_stride, r0, r1, act, act_stride, n_tok, out, out_stride);
    return TL_OK;
}
