/* runtime/quant/register.c -- the kernel table of the block types: every
** variant (scalar, AVX2) and dot order of each type, static const
** (runtime/quant.h: the *_of lookups for tests and benchmarks, the *_order
** lookups in the variant runtime/quant/select.c chose).  The traits tables
** (runtime/quant/traits.c) name the same ROW-order kernels; the unit test
** test_quant_tables checks that they agree. */
#include "runtime/quant.h"
#include "runtime/quant/quant_impl.h"

/* Kernels per dot order (tl_dot_order): [0] ggml's one-row order, [1] the
** order of llama.cpp's repacked GEMV, [2] of its repacked GEMM (NULL where a
** type has none: [2] falls back to [1], [1] to [0]). */
typedef struct entry {
    tl_dtype dt;
    tl_quant_kernels scalar;
    tl_quant_kernels avx2; /* NULL members: use the scalar one */
    tl_from_f32_fn quantize_ref;
    tl_vec_dot_fn dot_scalar[3], dot_avx2[3];
    tl_vec_dot4_fn dot4_scalar[3], dot4_avx2[3];
    tl_vec_dot_4x2_fn tile_avx2[3]; /* NULL: no fused tile */
} entry;

/* dot4 from four single-row calls, for the types without a fused version. */
#define DOT4_LOOP(NAME, DOT)                                                                       \
    static void NAME(int64_t n, float out[4], const void *const x[4], const void *y) {             \
        for (int r = 0; r < 4; r++)                                                                \
            DOT(n, &out[r], x[r], y);                                                              \
    }
DOT4_LOOP(dot4_f16, tl_f16_dot)
DOT4_LOOP(dot4_f16_sg, tl_f16_dot_sg)
DOT4_LOOP(dot4_f32, tl_f32_dot)
DOT4_LOOP(dot4_f32_sg, tl_f32_dot_sg)
DOT4_LOOP(dot4_q4_0, tl_q4_0_dot)
DOT4_LOOP(dot4_q4_0_rp, tl_q4_0_dot_rp)
DOT4_LOOP(dot4_q4_1, tl_q4_1_dot)
DOT4_LOOP(dot4_q5_0, tl_q5_0_dot)
DOT4_LOOP(dot4_q5_1, tl_q5_1_dot)
DOT4_LOOP(dot4_q8_0, tl_q8_0_dot)
DOT4_LOOP(dot4_q8_1, tl_q8_1_dot)
DOT4_LOOP(dot4_q2_K, tl_q2_K_dot)
DOT4_LOOP(dot4_q3_K, tl_q3_K_dot)
DOT4_LOOP(dot4_q4_K, tl_q4_K_dot)
DOT4_LOOP(dot4_q2_K_rp, tl_q2_K_dot_rp)
DOT4_LOOP(dot4_q2_K_rpg, tl_q2_K_dot_rpg)
DOT4_LOOP(dot4_q4_K_rp, tl_q4_K_dot_rp)
DOT4_LOOP(dot4_q4_K_rpg, tl_q4_K_dot_rpg)
DOT4_LOOP(dot4_q5_K, tl_q5_K_dot)
DOT4_LOOP(dot4_q6_K, tl_q6_K_dot)
DOT4_LOOP(dot4_q8_K, tl_q8_K_dot)

#ifdef TL_X86_KERNELS /* else no *_avx2.c is compiled: X86() names nothing */
#define X86(F) F
DOT4_LOOP(dot4_q2_K_rp_avx2, tl_q2_K_dot_rp_avx2)
DOT4_LOOP(dot4_q2_K_rpg_avx2, tl_q2_K_dot_rpg_avx2)
DOT4_LOOP(dot4_q4_K_rp_avx2, tl_q4_K_dot_rp_avx2)
DOT4_LOOP(dot4_q4_K_rpg_avx2, tl_q4_K_dot_rpg_avx2)
DOT4_LOOP(dot4_f16_avx2, tl_f16_dot_avx2)
DOT4_LOOP(dot4_f16_sg_avx2, tl_f16_dot_sg_avx2)
DOT4_LOOP(dot4_f32_avx2, tl_f32_dot_avx2)
DOT4_LOOP(dot4_f32_sg_avx2, tl_f32_dot_sg_avx2)
DOT4_LOOP(dot4_q4_K_avx2, tl_q4_K_dot_avx2)
DOT4_LOOP(dot4_q4_1_avx2, tl_q4_1_dot_avx2)
DOT4_LOOP(dot4_q5_0_avx2, tl_q5_0_dot_avx2)
DOT4_LOOP(dot4_q5_1_avx2, tl_q5_1_dot_avx2)
DOT4_LOOP(dot4_q2_K_avx2, tl_q2_K_dot_avx2)
DOT4_LOOP(dot4_q3_K_avx2, tl_q3_K_dot_avx2)
DOT4_LOOP(dot4_q5_K_avx2, tl_q5_K_dot_avx2)
DOT4_LOOP(dot4_q6_K_avx2, tl_q6_K_dot_avx2)
#else
#define X86(F) NULL
#endif

/* A type with one dot order; AFROM/ADOT/ADOT4/ATILE: its AVX2 kernels (NULL: none). */
#define ENTRY(DT, T, FROM, DOT, DOTTYPE, AFROM, ADOT, ADOT4, ATILE)                                \
    {                                                                                              \
        .dt = DT, .scalar = {tl_##T##_to_f32, FROM, DOT, DOTTYPE},                                 \
        .avx2 = {NULL, AFROM, ADOT, DOTTYPE}, .quantize_ref = tl_##T##_quantize,                   \
        .dot_scalar = {DOT}, .dot_avx2 = {ADOT}, .dot4_scalar = {dot4_##T}, .dot4_avx2 = {ADOT4},  \
        .tile_avx2 = {                                                                             \
            ATILE                                                                                  \
        }                                                                                          \
    }

/* Every table entry is fixed at compile time: nothing writes it. */
static const entry table[] = {
    /* F16 and F32: ROW and REPACK are ggml's one-row dot, REPACK_GEMM llamafile's
    ** sgemm order (tl_quant_gemm_rows_order uses it for two or more rows) */
    {.dt = TL_DTYPE_F16,
     .scalar = {tl_f16_to_f32_row, tl_f16_from_f32_row, tl_f16_dot, TL_DTYPE_F16},
     .avx2 = {NULL, NULL, X86(tl_f16_dot_avx2), TL_DTYPE_F16},
     .quantize_ref = tl_f16_from_f32_row,
     .dot_scalar = {tl_f16_dot, tl_f16_dot, tl_f16_dot_sg},
     .dot_avx2 = {X86(tl_f16_dot_avx2), X86(tl_f16_dot_avx2), X86(tl_f16_dot_sg_avx2)},
     .dot4_scalar = {dot4_f16, dot4_f16, dot4_f16_sg},
     .dot4_avx2 = {X86(dot4_f16_avx2), X86(dot4_f16_avx2), X86(dot4_f16_sg_avx2)}},
    {.dt = TL_DTYPE_F32,
     .scalar = {NULL, NULL, tl_f32_dot, TL_DTYPE_F32},
     .avx2 = {NULL, NULL, X86(tl_f32_dot_avx2), TL_DTYPE_F32},
     .dot_scalar = {tl_f32_dot, tl_f32_dot, tl_f32_dot_sg},
     .dot_avx2 = {X86(tl_f32_dot_avx2), X86(tl_f32_dot_avx2), X86(tl_f32_dot_sg_avx2)},
     .dot4_scalar = {dot4_f32, dot4_f32, dot4_f32_sg},
     .dot4_avx2 = {X86(dot4_f32_avx2), X86(dot4_f32_avx2), X86(dot4_f32_sg_avx2)}},
    {.dt = TL_DTYPE_Q4_0,
     .scalar = {tl_q4_0_to_f32, tl_q4_0_quantize, tl_q4_0_dot, TL_DTYPE_Q8_0},
     .avx2 = {NULL, NULL, X86(tl_q4_0_dot_avx2), TL_DTYPE_Q8_0},
     .quantize_ref = tl_q4_0_quantize,
     .dot_scalar = {tl_q4_0_dot, tl_q4_0_dot_rp},
     .dot_avx2 = {X86(tl_q4_0_dot_avx2), X86(tl_q4_0_dot_rp_avx2)},
     .dot4_scalar = {dot4_q4_0, dot4_q4_0_rp},
     .dot4_avx2 = {X86(tl_q4_0_dot4_avx2), X86(tl_q4_0_dot4_rp_avx2)},
     .tile_avx2 = {X86(tl_q4_0_dot_4x2_avx2), X86(tl_q4_0_dot_4x2_rp_avx2)}},
    ENTRY(TL_DTYPE_Q4_1, q4_1, tl_q4_1_quantize, tl_q4_1_dot, TL_DTYPE_Q8_1, NULL,
          X86(tl_q4_1_dot_avx2), X86(dot4_q4_1_avx2), NULL),
    ENTRY(TL_DTYPE_Q5_0, q5_0, tl_q5_0_quantize, tl_q5_0_dot, TL_DTYPE_Q8_0, NULL,
          X86(tl_q5_0_dot_avx2), X86(dot4_q5_0_avx2), NULL),
    ENTRY(TL_DTYPE_Q5_1, q5_1, tl_q5_1_quantize, tl_q5_1_dot, TL_DTYPE_Q8_1, NULL,
          X86(tl_q5_1_dot_avx2), X86(dot4_q5_1_avx2), NULL),
    ENTRY(TL_DTYPE_Q8_0, q8_0, tl_q8_0_quantize_act, tl_q8_0_dot, TL_DTYPE_Q8_0,
          X86(tl_q8_0_quantize_act_avx2), X86(tl_q8_0_dot_avx2), X86(tl_q8_0_dot4_avx2),
          X86(tl_q8_0_dot_4x2_avx2)),
    ENTRY(TL_DTYPE_Q8_1, q8_1, tl_q8_1_quantize_act, tl_q8_1_dot, TL_DTYPE_Q8_1, NULL, NULL, NULL,
          NULL),
    {.dt = TL_DTYPE_Q2_K,
     .scalar = {tl_q2_K_to_f32, tl_q2_K_quantize, tl_q2_K_dot, TL_DTYPE_Q8_K},
     .avx2 = {NULL, NULL, X86(tl_q2_K_dot_avx2), TL_DTYPE_Q8_K},
     .quantize_ref = tl_q2_K_quantize,
     .dot_scalar = {tl_q2_K_dot, tl_q2_K_dot_rp, tl_q2_K_dot_rpg},
     .dot_avx2 = {X86(tl_q2_K_dot_avx2), X86(tl_q2_K_dot_rp_avx2), X86(tl_q2_K_dot_rpg_avx2)},
     .dot4_scalar = {dot4_q2_K, dot4_q2_K_rp, dot4_q2_K_rpg},
     .dot4_avx2 = {X86(dot4_q2_K_avx2), X86(dot4_q2_K_rp_avx2), X86(dot4_q2_K_rpg_avx2)}},
    ENTRY(TL_DTYPE_Q3_K, q3_K, tl_q3_K_quantize, tl_q3_K_dot, TL_DTYPE_Q8_K, NULL,
          X86(tl_q3_K_dot_avx2), X86(dot4_q3_K_avx2), NULL),
    {.dt = TL_DTYPE_Q4_K,
     .scalar = {tl_q4_K_to_f32, tl_q4_K_quantize, tl_q4_K_dot, TL_DTYPE_Q8_K},
     .avx2 = {NULL, NULL, X86(tl_q4_K_dot_avx2), TL_DTYPE_Q8_K},
     .quantize_ref = tl_q4_K_quantize,
     .dot_scalar = {tl_q4_K_dot, tl_q4_K_dot_rp, tl_q4_K_dot_rpg},
     .dot_avx2 = {X86(tl_q4_K_dot_avx2), X86(tl_q4_K_dot_rp_avx2), X86(tl_q4_K_dot_rpg_avx2)},
     .dot4_scalar = {dot4_q4_K, dot4_q4_K_rp, dot4_q4_K_rpg},
     .dot4_avx2 = {X86(dot4_q4_K_avx2), X86(dot4_q4_K_rp_avx2), X86(dot4_q4_K_rpg_avx2)}},
    ENTRY(TL_DTYPE_Q5_K, q5_K, tl_q5_K_quantize, tl_q5_K_dot, TL_DTYPE_Q8_K, NULL,
          X86(tl_q5_K_dot_avx2), X86(dot4_q5_K_avx2), NULL),
    ENTRY(TL_DTYPE_Q6_K, q6_K, tl_q6_K_quantize, tl_q6_K_dot, TL_DTYPE_Q8_K, NULL,
          X86(tl_q6_K_dot_avx2), X86(dot4_q6_K_avx2), NULL),
    ENTRY(TL_DTYPE_Q8_K, q8_K, tl_q8_K_quantize, tl_q8_K_dot, TL_DTYPE_Q8_K,
          X86(tl_q8_K_quantize_avx2), NULL, NULL, NULL),
};
#define N_ENTRIES (sizeof table / sizeof table[0])

static const entry *find(tl_dtype dt) {
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (table[i].dt == dt) return &table[i];
    return NULL;
}

bool tl_quant_kernels_of(tl_dtype dt, bool avx2, tl_quant_kernels *out) {
    const entry *e = find(dt);
    if (!e) return false;
    *out = e->scalar;
    if (avx2) {
        if (e->avx2.from_f32) out->from_f32 = e->avx2.from_f32;
        if (e->avx2.vec_dot) out->vec_dot = e->avx2.vec_dot;
    }
    return true;
}

/* GEMM order -> GEMV order -> row order, whichever the type has first. */
static int order_index(const entry *e, tl_dot_order order) {
    int o = order == TL_DOT_ORDER_REPACK_GEMM ? 2 : order == TL_DOT_ORDER_REPACK ? 1 : 0;
    while (o > 0 && !e->dot_scalar[o])
        o--;
    return o;
}

tl_dot_order tl_quant_llama_order(tl_dtype dt, int64_t n_rows) {
    if (dt == TL_DTYPE_F32 || dt == TL_DTYPE_F16) return TL_DOT_ORDER_REPACK; /* by call size */
    bool repacked = dt == TL_DTYPE_Q4_0 || dt == TL_DTYPE_Q4_K || dt == TL_DTYPE_Q2_K;
    return repacked && n_rows % 8 == 0 ? TL_DOT_ORDER_REPACK : TL_DOT_ORDER_ROW;
}

tl_vec_dot_fn tl_quant_vec_dot_order_of(tl_dtype dt, tl_dot_order order, bool avx2) {
    const entry *e = find(dt);
    if (!e) return NULL;
    int o = order_index(e, order);
    return avx2 && e->dot_avx2[o] ? e->dot_avx2[o] : e->dot_scalar[o];
}

tl_vec_dot4_fn tl_quant_vec_dot4_order_of(tl_dtype dt, tl_dot_order order, bool avx2) {
    const entry *e = find(dt);
    if (!e) return NULL;
    int o = order_index(e, order);
    return avx2 && e->dot4_avx2[o] ? e->dot4_avx2[o] : e->dot4_scalar[o];
}

tl_vec_dot_4x2_fn tl_quant_vec_dot_4x2_order_of(tl_dtype dt, tl_dot_order order, bool avx2) {
    const entry *e = find(dt);
    if (!e || !avx2) return NULL;
    return e->tile_avx2[order_index(e, order)];
}

tl_vec_dot_fn tl_quant_vec_dot_order(tl_dtype dt, tl_dot_order order) {
    return tl_quant_vec_dot_order_of(dt, order, tl_kernels_use_avx2());
}

tl_vec_dot4_fn tl_quant_vec_dot4_order(tl_dtype dt, tl_dot_order order) {
    return tl_quant_vec_dot4_order_of(dt, order, tl_kernels_use_avx2());
}

tl_vec_dot_4x2_fn tl_quant_vec_dot_4x2_order(tl_dtype dt, tl_dot_order order) {
    return tl_quant_vec_dot_4x2_order_of(dt, order, tl_kernels_use_avx2());
}

tl_status tl_quantize_rows(tl_dtype dt, const float *src, void *dst, int64_t nrows,
                           int64_t n_per_row) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    if (!t) return tl_fail(TL_ERR_TYPE, "quantize: invalid type id %d", (int)dt);
    if (nrows < 0 || n_per_row < 0 || n_per_row % t->blck != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "quantize: row length %lld is not a multiple of %s's block "
                       "size %lld",
                       (long long)n_per_row, t->name, (long long)t->blck);
    tl_from_f32_fn fn = NULL;
    if (dt == TL_DTYPE_F32 || dt == TL_DTYPE_BF16) {
        fn = t->from_f32;
    } else {
        const entry *e = find(dt);
        if (e) fn = e->quantize_ref;
    }
    if (!fn) return tl_fail(TL_ERR_UNSUPPORTED, "quantize: no quantizer for type %s", t->name);
    size_t row = tl_dtype_row_size(dt, n_per_row);
    for (int64_t r = 0; r < nrows; r++)
        fn(src + r * n_per_row, (char *)dst + (size_t)r * row, n_per_row);
    return TL_OK;
}

tl_status tl_dequantize_rows(tl_dtype dt, const void *src, float *dst, int64_t nrows,
                             int64_t n_per_row) {
    const tl_type_traits *t = tl_dtype_traits(dt);
    if (!t || !t->to_f32)
        return tl_fail(TL_ERR_UNSUPPORTED, "dequantize: unsupported type %s", tl_dtype_name(dt));
    if (nrows < 0 || n_per_row < 0 || n_per_row % t->blck != 0)
        return tl_fail(TL_ERR_SHAPE,
                       "dequantize: row length %lld is not a multiple of %s's block "
                       "size %lld",
                       (long long)n_per_row, t->name, (long long)t->blck);
    size_t row = tl_dtype_row_size(dt, n_per_row);
    for (int64_t r = 0; r < nrows; r++)
        t->to_f32((const char *)src + (size_t)r * row, dst + r * n_per_row, n_per_row);
    return TL_OK;
}

/* ---- the ROW-order forms (quant.h) ---------------------------------------- */
tl_vec_dot4_fn tl_quant_vec_dot4(tl_dtype dt) {
    return tl_quant_vec_dot4_order(dt, TL_DOT_ORDER_ROW);
}

tl_vec_dot4_fn tl_quant_vec_dot4_of(tl_dtype dt, bool avx2) {
    return tl_quant_vec_dot4_order_of(dt, TL_DOT_ORDER_ROW, avx2);
}

tl_vec_dot_4x2_fn tl_quant_vec_dot_4x2(tl_dtype dt) {
    return tl_quant_vec_dot_4x2_order(dt, TL_DOT_ORDER_ROW);
}
