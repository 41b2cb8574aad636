/* runtime/dtype.h -- element types and the per-type traits table.
**
** Type ids follow ggml's numbering (GGUF stores them verbatim), so a GGUF
** tensor's type maps to a tl_dtype without a table.  Types ggml has that we do
** not implement (IQ*, TQ*, ...) are not in the enum; the GGUF reader rejects
** them with "unsupported tensor type".  TL_DTYPE_BOOL is ours.
**
** Block types: a row of n elements is n / blck blocks of `size` bytes.  Plain
** types have blck == 1.  A quantized weight row is multiplied with an
** activation row by first converting the activation to `dot_type` with that
** type's from_f32 (llama.cpp's rounding: Q8_0 for the 32-blocks, Q8_K for
** K-quants, F16 for F16), then calling vec_dot.  Rows are the unit of work:
** kernels never see strides. */
#ifndef TL_RUNTIME_DTYPE_H
#define TL_RUNTIME_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tl_dtype {
    TL_DTYPE_F32 = 0,
    TL_DTYPE_F16 = 1,
    TL_DTYPE_Q4_0 = 2,
    TL_DTYPE_Q4_1 = 3,
    TL_DTYPE_Q5_0 = 6,
    TL_DTYPE_Q5_1 = 7,
    TL_DTYPE_Q8_0 = 8,
    TL_DTYPE_Q8_1 = 9,
    TL_DTYPE_Q2_K = 10,
    TL_DTYPE_Q3_K = 11,
    TL_DTYPE_Q4_K = 12,
    TL_DTYPE_Q5_K = 13,
    TL_DTYPE_Q6_K = 14,
    TL_DTYPE_Q8_K = 15,
    TL_DTYPE_I8 = 24,
    TL_DTYPE_I16 = 25,
    TL_DTYPE_I32 = 26,
    TL_DTYPE_I64 = 27,
    TL_DTYPE_F64 = 28,
    TL_DTYPE_BF16 = 30,
    TL_DTYPE_BOOL = 40, /* one byte, 0 or 1; not a GGUF type */
    TL_DTYPE_COUNT
} tl_dtype;

/* Converts n elements (n a multiple of blck) of a row to f32. */
typedef void (*tl_to_f32_fn)(const void *src, float *dst, int64_t n);
/* Converts n f32 values to a row of this type (quantizes for block types). */
typedef void (*tl_from_f32_fn)(const float *src, void *dst, int64_t n);
/* *out = dot(x, y) over n elements; x is a row of this type, y a row of dot_type. */
typedef void (*tl_vec_dot_fn)(int64_t n, float *out, const void *x, const void *y);

typedef struct tl_type_traits {
    const char *name;    /* "f32", "q4_0", ... (lower case, as llama.cpp prints) */
    int64_t blck;        /* elements per block (1 for plain types)              */
    size_t size;         /* bytes per block                                     */
    bool quantized;      /* a block type                                        */
    bool supported;      /* false: known id, no kernels (rejected by loaders)   */
    tl_to_f32_fn to_f32; /* the kernels of the table's variant (scalar or AVX2)  */
    tl_from_f32_fn from_f32;
    tl_vec_dot_fn vec_dot;
    tl_dtype dot_type; /* the activation type vec_dot wants                   */
} tl_type_traits;

/* The traits of a type, or NULL when dt is not a valid id. */
const tl_type_traits *tl_dtype_traits(tl_dtype dt);

/* Lower-case name, or "?" for an invalid id. */
const char *tl_dtype_name(tl_dtype dt);

/* Parses a name as printed by tl_dtype_name ("q4_0", "F16", ...; any case). */
bool tl_dtype_from_name(const char *name, tl_dtype *out);

bool tl_dtype_is_valid(int id);

/* Bytes taken by a row of n elements, or 0 when n is not a multiple of blck. */
size_t tl_dtype_row_size(tl_dtype dt, int64_t n);

/* Chooses the kernel variant once (the AVX2 kernels when the CPU allows,
** runtime/cpu.h; runtime/quant/select.c).  Idempotent and thread-safe;
** tl_dtype_traits calls it, so explicit calls are optional. */
void tl_runtime_init(void);

/* The whole traits table of one kernel variant, indexed by tl_dtype: avx2 =
** false the scalar reference kernels, true the AVX2 ones where a type has them
** (the scalar table on builds without x86 kernels).  Both tables are static
** const (runtime/quant/traits.c); tl_dtype_traits reads the chosen one. */
const tl_type_traits *tl_dtype_traits_table(bool avx2);

#endif
