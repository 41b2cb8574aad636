/* lang/json_value.h -- tl values to JSON text and back.
**
** Encoding (tl_json_encode, compact, no spaces):
**   void -> null, bool -> true/false, int -> integer, float -> the shortest
**   decimal that reads back as the same double, with ".0" added to integral
**   values so they stay floats (NaN and +-Inf have no JSON form: null);
**   string -> JSON string (UTF-8 passed through, controls escaped);
**   array -> array; struct -> object with the fields in declaration order;
**   JsonObject (from parse_json) -> object in its key order;
**   tensor -> nested arrays in NumPy order (a 0-d tensor is a bare number),
**   f32/f16/bf16 elements as the shortest decimal that reads back as the
**   same f32, quantized tensors dequantized; at most TL_JSON_MAX_TENSOR
**   elements (larger ones: use save()).
**   Functions and other host objects (models, tokenizers) are refused.
**
** Decoding (tl_json_decode, via jansson): null -> void, true/false -> bool,
**   integers -> int (beyond int64: error), reals -> float, strings, arrays,
**   objects -> a JsonObject host value: `o.key` reads a key, and the methods
**   o.keys(), o.has(k), o.get(k[, default]), o.len() exist. */
#ifndef TL_LANG_JSON_VALUE_H
#define TL_LANG_JSON_VALUE_H

#include "lang/strbuf.h"
#include "lang/value.h"

#define TL_JSON_MAX_TENSOR ((int64_t)1 << 22)
/* to_json's text is at most this long (or TL_MAX_READ_BYTES when smaller). */
#define TL_JSON_MAX_TEXT ((size_t)256 << 20)

extern const tl_object_class tl_json_object_class;

/* A new empty JsonObject (owned), and setting a key of one (takes v; a key
** already there gets the new value).  parse_args builds its result this way. */
tl_status tl_json_object_new(tl_value *out);
tl_status tl_json_object_set(tl_value *obj, const char *key, tl_value v);

/* Appends the JSON text of v to b; who names the builtin in errors. */
tl_status tl_json_encode(tl_strbuf *b, const tl_value *v, const char *who);

/* Parses text (exactly one JSON value, any type) into *out (owned). */
tl_status tl_json_decode(const char *text, size_t len, const char *who, tl_value *out);

/* Formats a double / an f32 as the shortest decimal that reads back exactly;
** integral values get ".0" when add_point.  NaN/Inf give "nan", "inf", "-inf". */
void tl_json_format_double(char *buf, size_t cap, double d, bool add_point);
void tl_json_format_float(char *buf, size_t cap, float f, bool add_point);

#endif
