/* runtime/npy.h -- tensors to and from NumPy's .npy format (version 1.0-3.0).
**
** The .npy file is: the magic "\x93NUMPY", a version byte pair, a header
** length (u16 for 1.0, u32 for 2.0/3.0), a Python-literal dict
**     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
** padded with spaces and a newline so the data starts on a 64-byte boundary,
** then the raw elements in C order (the last axis fastest).  NumPy shapes are
** outermost first, exactly the .tl shape, so a tl tensor with ne = {3, 2}
** is written with shape (2, 3) and its bytes unchanged.
**
** Types written: f32 '<f4', f16 '<f2', f64 '<f8', i8 '|i1', i16 '<i2',
** i32 '<i4', i64 '<i8', bool '|b1'.  bf16 has no NumPy type: it is written
** as f32 (every bf16 value is exactly an f32, so nothing is lost, but load
** gives back an f32 tensor).  Quantized block types are refused (dequantize
** first).  Views are written in their logical order.
**
** Types read: the above plus '|u1' -> i16, '<u2' -> i32, '<u4' -> i64
** (widened, exact); big-endian descriptors ('>f4', ...) are byte-swapped;
** 'fortran_order': True is transposed into C order.  Anything else (object
** arrays, structured dtypes, u8, complex) fails with TL_ERR_UNSUPPORTED, a
** malformed or truncated file with TL_ERR_FORMAT.  The module does no file
** renaming: callers wanting atomic writes pass a temporary FILE *. */
#ifndef TL_RUNTIME_NPY_H
#define TL_RUNTIME_NPY_H

#include "runtime/status.h"
#include "runtime/tensor.h"

#include <stddef.h>
#include <stdio.h>

/* Writes t as a .npy stream to f.  I/O errors are TL_ERR_IO with strerror. */
tl_status tl_npy_write(FILE *f, const tl_tensor *t);

/* Parses a whole .npy file held in memory; *out is a new contiguous tensor. */
tl_status tl_npy_parse(const void *data, size_t len, tl_tensor **out);

/* Reads and parses the file at path; errors name the path and the OS reason. */
tl_status tl_npy_load(const char *path, tl_tensor **out);

#endif
