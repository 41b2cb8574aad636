/* runtime/quant/tile_pack.h -- helpers shared by the rows-in-lanes Q4_0
** kernels (tile8_avx2.c, tile16_avx512.c): reading 8 rows' nibbles of one
** block transposed, an activation block's code sum, the activations repacked
** block-major.  Include only from files built with AVX2 enabled, after
** quant_impl.h and avx2_common.h. */
#ifndef TL_RUNTIME_QUANT_TILE_PACK_H
#define TL_RUNTIME_QUANT_TILE_PACK_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* 16 nibble bytes of one block of rows r and r + 4 (p: the block of row 0,
** rows rs bytes apart; a Q4_0 block is the fp16 scale, then the nibbles) */
static inline __m256i tile_rows_pair(const char *p, size_t rs, int r) {
    return _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(p + 2 + (size_t)r * rs))),
        _mm_loadu_si128((const __m128i *)(p + 2 + (size_t)(r + 4) * rs)), 1);
}

/* T[j], lane r (r < 8): nibble bytes 4j..4j+3 of the block at p + r * rs */
static inline void tile_transpose8(const char *p, size_t rs, __m256i T[4]) {
    __m256i v0 = tile_rows_pair(p, rs, 0), v1 = tile_rows_pair(p, rs, 1);
    __m256i v2 = tile_rows_pair(p, rs, 2), v3 = tile_rows_pair(p, rs, 3);
    __m256i a0 = _mm256_unpacklo_epi32(v0, v1), a1 = _mm256_unpackhi_epi32(v0, v1);
    __m256i a2 = _mm256_unpacklo_epi32(v2, v3), a3 = _mm256_unpackhi_epi32(v2, v3);
    T[0] = _mm256_unpacklo_epi64(a0, a2);
    T[1] = _mm256_unpackhi_epi64(a0, a2);
    T[2] = _mm256_unpacklo_epi64(a1, a3);
    T[3] = _mm256_unpackhi_epi64(a1, a3);
}

/* The fp16 scales of one block of 4 rows (p: row 0's block, rows rs bytes
** apart) in one 64-bit word, row 0 lowest: assembled in general registers,
** since 2-byte stores read back by one vector load stall store forwarding. */
static inline uint64_t tile_scales4(const char *p, size_t rs) {
    uint16_t d0, d1, d2, d3;
    memcpy(&d0, p, 2);
    memcpy(&d1, p + rs, 2);
    memcpy(&d2, p + 2 * rs, 2);
    memcpy(&d3, p + 3 * rs, 2);
    return (uint64_t)d0 | (uint64_t)d1 << 16 | (uint64_t)d2 << 32 | (uint64_t)d3 << 48;
}

/* 64-byte aligned memory for bytes (rounded up: C11's aligned_alloc wants a
** multiple of the alignment); free() it. */
static inline void *tile_alloc64(size_t bytes) {
    size_t n = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, n ? n : 64);
}

/* the sum of an activation block's 32 signed codes */
static inline int32_t tile_code_sum(const int8_t qs[32]) {
    __m256i v = _mm256_loadu_si256((const __m256i *)qs);
    __m256i s =
        _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), v), _mm256_set1_epi16(1));
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* A one-token GEMV's per-block activation terms: 8 x the block's code sum (the
** nibbles' offset of 8) and the block's scale as f32. */
static inline void tile_gemv_acts(const blk_q8_0 *y, int64_t nb, int32_t *s8, float *dy) {
    for (int64_t b = 0; b < nb; b++) {
        s8[b] = 8 * tile_code_sum(y[b].qs);
        dy[b] = f16_to_f32_hw(y[b].d);
    }
}

/* One activation block, repacked for the tile kernels: the codes as 8 dwords,
** d as a float and -8 * (sum of the codes), so that with unsigned nibbles
** (0..15) the block's sum of (q - 8) * y is sum(nibble * y) + ns8 (stored
** negated: a kernel starts its integer sum from a broadcast load of it). */
typedef struct tile_act {
    int32_t qs[8];
    float d;
    int32_t ns8;
} tile_act;

/* A block-major copy of n_tok Q8_0 rows (act_stride bytes apart) of nb blocks:
** block b of token k at [b * n_tok + k].  NULL when out of memory; free() it. */
/* Token k's nb blocks (one Q8_0 row y) into a pack of n_tok tokens:
** block b at pack[b * n_tok + k]. */
static inline void tile_pack_act_row(const blk_q8_0 *y, int64_t nb, int64_t n_tok, int64_t k,
                                     tile_act *pack) {
    for (int64_t b = 0; b < nb; b++) {
        tile_act *p = &pack[b * n_tok + k];
        memcpy(p->qs, y[b].qs, sizeof p->qs);
        p->ns8 = -8 * tile_code_sum(y[b].qs);
        p->d = f16_to_f32_hw(y[b].d);
    }
}

static inline tile_act *tile_pack_acts(const void *act, size_t act_stride, int64_t nb,
                                       int64_t n_tok) {
    tile_act *pack = tile_alloc64((size_t)(nb * n_tok) * sizeof(tile_act));
    if (!pack) return NULL;
    for (int64_t k = 0; k < n_tok; k++)
        tile_pack_act_row((const blk_q8_0 *)((const char *)act + (size_t)k * act_stride), nb, n_tok,
                          k, pack);
    return pack;
}

#endif
