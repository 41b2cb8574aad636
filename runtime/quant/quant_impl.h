/* runtime/quant/quant_impl.h -- internals shared by the quantized-type files.
**
** The block layouts (ggml's, byte for byte; docs/formats.md), the
** rounding helpers the reference quantizers need, the emulation of ggml's
** AVX2 float accumulation order (8 lanes + a fixed horizontal sum), and the
** prototypes of every per-family kernel.  Only the files of runtime/quant/ include it;
** the rest of the runtime goes through runtime/quant.h and the traits table. */
#ifndef TL_RUNTIME_QUANT_IMPL_H
#define TL_RUNTIME_QUANT_IMPL_H

#include "runtime/dtype.h"
#include "runtime/half.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define QK32 32
#define QK_K 256

/* ---- block layouts (no padding: every field is 1- or 2-byte aligned) ---- */
typedef struct {
    tl_f16 d;
    uint8_t qs[16];
} blk_q4_0;
typedef struct {
    tl_f16 d, m;
    uint8_t qs[16];
} blk_q4_1;
typedef struct {
    tl_f16 d;
    uint8_t qh[4];
    uint8_t qs[16];
} blk_q5_0;
typedef struct {
    tl_f16 d, m;
    uint8_t qh[4];
    uint8_t qs[16];
} blk_q5_1;
typedef struct {
    tl_f16 d;
    int8_t qs[32];
} blk_q8_0;
typedef struct {
    tl_f16 d, s;
    int8_t qs[32];
} blk_q8_1;
typedef struct {
    uint8_t scales[16];
    uint8_t qs[64];
    tl_f16 d, dmin;
} blk_q2_K;
typedef struct {
    uint8_t hmask[32];
    uint8_t qs[64];
    uint8_t scales[12];
    tl_f16 d;
} blk_q3_K;
typedef struct {
    tl_f16 d, dmin;
    uint8_t scales[12];
    uint8_t qs[128];
} blk_q4_K;
typedef struct {
    tl_f16 d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
} blk_q5_K;
typedef struct {
    uint8_t ql[128];
    uint8_t qh[64];
    int8_t scales[16];
    tl_f16 d;
} blk_q6_K;
/* Q8_K's f32 d at offset 0 makes the struct 4-aligned; the size is still 292. */
typedef struct {
    float d;
    int8_t qs[256];
    int16_t bsums[16];
} blk_q8_K;

_Static_assert(sizeof(blk_q4_0) == 18, "q4_0");
_Static_assert(sizeof(blk_q4_1) == 20, "q4_1");
_Static_assert(sizeof(blk_q5_0) == 22, "q5_0");
_Static_assert(sizeof(blk_q5_1) == 24, "q5_1");
_Static_assert(sizeof(blk_q8_0) == 34, "q8_0");
_Static_assert(sizeof(blk_q8_1) == 36, "q8_1");
_Static_assert(sizeof(blk_q2_K) == 84, "q2_K");
_Static_assert(sizeof(blk_q3_K) == 110, "q3_K");
_Static_assert(sizeof(blk_q4_K) == 144, "q4_K");
_Static_assert(sizeof(blk_q5_K) == 176, "q5_K");
_Static_assert(sizeof(blk_q6_K) == 210, "q6_K");
_Static_assert(sizeof(blk_q8_K) == 292, "q8_K");

static inline float f16f(tl_f16 h) {
    return tl_f16_to_f32(h);
}

/* Round to nearest, ties to even, the way ggml's quantizers do it: add 1.5*2^23
** and read the low mantissa bits.  Exact for |v| <= 4194303; outside that range
** (and for NaN) it returns ggml's same deterministic garbage. */
static inline int nearest_int(float v) {
    float t = v + 12582912.0f;
    uint32_t u;
    memcpy(&u, &t, sizeof u);
    return (int)(u & 0x007fffffu) - 0x00400000;
}

/* A float -> int conversion that truncates like C's cast for the small values
** the quantizers produce, and gives 0 for NaN (C leaves that undefined). */
static inline int trunc_small(float v) {
    if (!(v > -1e9f && v < 1e9f)) return 0;
    return (int)v;
}

static inline int imin(int a, int b) {
    return a < b ? a : b;
}
static inline int imax(int a, int b) {
    return a > b ? a : b;
}

/* The 5-bit codes of a Q5 block (low nibbles + qh bits) minus bias. */
static inline void q5_codes(const uint8_t qs[16], const uint8_t qh4[4], int bias, int8_t q[32]) {
    uint32_t qh;
    memcpy(&qh, qh4, 4);
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(((qs[j] & 15) | (((qh >> j) & 1) << 4)) - bias);
        q[j + 16] = (int8_t)(((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - bias);
    }
}

/* ---- Q8_0 / Q8_1 quantizer helpers ---- */
static inline float amax32(const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < QK32; j++)
        amax = fmaxf(amax, fabsf(x[j]));
    return amax;
}

/* roundf (half away from zero) without the libm call: for |v| < 2^23 the
** fraction v - trunc(v) is exact, so comparing it with 0.5 decides the same. */
static inline int8_t round_away(float v) {
    if (!(v > -200.0f && v < 200.0f)) return 0; /* NaN only: |x * id| <= 127 */
    int i = (int)v;
    float frac = v - (float)i;
    if (frac >= 0.5f)
        i++;
    else if (frac <= -0.5f)
        i--;
    return (int8_t)i;
}

/* Half to even, as _mm256_round_ps(_MM_FROUND_TO_NEAREST_INT) in the default mode. */
static inline int8_t round_even(float v) {
    if (!(v > -200.0f && v < 200.0f)) return 0;
    return (int8_t)nearbyintf(v);
}

/* ---- ggml's AVX2 float accumulation, emulated exactly ---------------------
** ggml's AVX2 dot kernels keep 8 float lanes.  Per block, lane k receives the
** integer sum of the products of elements e with (e % 32) / 4 == k (converted
** to float) times the block's scale, by one fused multiply-add.  At the end the
** lanes are folded as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).  The scalar
** kernels reproduce that with fmaf, so they agree bit for bit with both the
** AVX2 kernels here and llama.cpp's. */
typedef struct {
    float v[8];
} acc8;

static inline void acc8_fma(acc8 *a, float d, const int32_t s[8]) {
    for (int k = 0; k < 8; k++)
        a->v[k] = fmaf(d, (float)s[k], a->v[k]);
}

static inline float acc8_sum(const acc8 *a) {
    float r0 = a->v[0] + a->v[4], r1 = a->v[1] + a->v[5];
    float r2 = a->v[2] + a->v[6], r3 = a->v[3] + a->v[7];
    return (r0 + r2) + (r1 + r3);
}

/* Lane sums of one 32-element group: s[k] += sum of a[e] * b[e], e in 4k..4k+3. */
static inline void lanes32(int32_t s[8], const int8_t *a, const int8_t *b) {
    for (int e = 0; e < 32; e++)
        s[e >> 2] += (int32_t)a[e] * b[e];
}

/* ---- K-quant search helpers (kquant_search.c; docs/formats.md) ---------------- */
#define GROUP_MAX_EPS 1e-15f
float tl_make_qx_quants(int n, int nmax, const float *x, int8_t *L);
float tl_make_q3_quants(int n, int nmax, const float *x, int8_t *L);
float tl_make_qkx2_quants(int n, int nmax, const float *x, const float *w, uint8_t *L,
                          float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                          int use_mad);
void tl_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m);
/* Scales of a Q4_K/Q5_K super-block written from 8 (scale, min) pairs of 6 bits. */
void tl_put_scale_min_k4(uint8_t scales[12], const uint8_t ls[8], const uint8_t lm[8]);
/* Q4_K/Q5_K weight quantization of one 256-value super-block x: the per-32 (scale, min)
** search (make_qkx2 with nmax, rmin, nstep), their 6-bit packing into scales_out with the
** f16 d/dmin, and the final levels 0..nmax in L.  Laux and w are scratch. */
void tl_kquant_scales_mins(const float *x, int nmax, float rmin, int nstep, uint8_t L[256],
                           uint8_t Laux[32], float w[32], uint8_t scales_out[12], tl_f16 *d_out,
                           tl_f16 *dmin_out);

/* ---- per-family kernels --------------------------------------------------
** _to_f32: dequantize; _quantize: llama.cpp's reference quantizer
** (quantize_row_*_ref); _quantize_act: the CPU backend's activation quantizer
** when it differs from the reference; _dot: x of this type . y of dot_type. */
#define TL_QUANT_FAMILY(T)                                                                         \
    void tl_##T##_to_f32(const void *src, float *dst, int64_t n);                                  \
    void tl_##T##_quantize(const float *src, void *dst, int64_t n);
TL_QUANT_FAMILY(q4_0)
TL_QUANT_FAMILY(q4_1)
TL_QUANT_FAMILY(q5_0)
TL_QUANT_FAMILY(q5_1)
TL_QUANT_FAMILY(q8_0)
TL_QUANT_FAMILY(q8_1)
TL_QUANT_FAMILY(q2_K)
TL_QUANT_FAMILY(q3_K)
TL_QUANT_FAMILY(q4_K)
TL_QUANT_FAMILY(q5_K)
TL_QUANT_FAMILY(q6_K)
TL_QUANT_FAMILY(q8_K)
#undef TL_QUANT_FAMILY

void tl_f16_to_f32_row(const void *src, float *dst, int64_t n);
void tl_f16_from_f32_row(const float *src, void *dst, int64_t n);
void tl_f16_dot(int64_t n, float *out, const void *x, const void *y);
float tl_f16_fold(float sum[4][8]);
/* f32.c: llama.cpp's one-row F32 dot, and its sgemm order for F32 and F16 */
void tl_f32_dot(int64_t n, float *out, const void *x, const void *y);
void tl_f32_dot_sg(int64_t n, float *out, const void *x, const void *y);
void tl_f16_dot_sg(int64_t n, float *out, const void *x, const void *y);
float tl_sgemm_fold(const float l[8]);

void tl_q8_0_quantize_act(const float *src, void *dst, int64_t n);
void tl_q8_1_quantize_act(const float *src, void *dst, int64_t n);

void tl_q4_0_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q4_0_dot_rp(int64_t n, float *out, const void *x, const void *y);
void tl_q4_K_dot_rp(int64_t n, float *out, const void *x, const void *y);
void tl_q4_K_dot_rpg(int64_t n, float *out, const void *x, const void *y);
void tl_q2_K_dot_rp(int64_t n, float *out, const void *x, const void *y);
void tl_q2_K_dot_rpg(int64_t n, float *out, const void *x, const void *y);
void tl_q4_1_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q5_0_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q5_1_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q8_0_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q8_1_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q2_K_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q3_K_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q4_K_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q5_K_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q6_K_dot(int64_t n, float *out, const void *x, const void *y);
void tl_q8_K_dot(int64_t n, float *out, const void *x, const void *y);

/* AVX2 + FMA + F16C versions (*_avx2.c; call only when cpu.h says so). */
void tl_q4_0_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q8_0_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q4_1_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q5_0_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q5_1_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q2_K_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q3_K_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q5_K_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q4_K_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q6_K_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_f16_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_f32_dot_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_f32_dot_sg_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_f16_dot_sg_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q4_0_dot4_avx2(int64_t n, float out[4], const void *const x[4], const void *y);
void tl_q8_0_dot4_avx2(int64_t n, float out[4], const void *const x[4], const void *y);
void tl_q4_0_dot_4x2_avx2(int64_t n, float out[8], const void *const x[4], const void *const y[2]);
void tl_q8_0_dot_4x2_avx2(int64_t n, float out[8], const void *const x[4], const void *const y[2]);
void tl_q4_0_dot_rp_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q4_0_dot4_rp_avx2(int64_t n, float out[4], const void *const x[4], const void *y);
void tl_q4_0_dot_4x2_rp_avx2(int64_t n, float out[8], const void *const x[4],
                             const void *const y[2]);
void tl_q4_K_dot_rp_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q4_K_dot_rpg_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q2_K_dot_rp_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q2_K_dot_rpg_avx2(int64_t n, float *out, const void *x, const void *y);
void tl_q8_K_quantize_avx2(const float *src, void *dst, int64_t n);
void tl_q8_0_quantize_act_avx2(const float *src, void *dst, int64_t n);

#endif
