/* lang/builtins/model.h -- the Model host object for other C code (tokenizer, stdlib glue).
** The builtins themselves are reached through the table tl_builtins_model. */
#ifndef TL_LANG_BUILTINS_MODEL_H
#define TL_LANG_BUILTINS_MODEL_H

#include "lang/value.h"
#include "runtime/model.h"

/* The model behind a Model value (borrowed: take tl_model_ref to keep it), or NULL when v is
** not a Model. */
tl_model *tl_model_from_value(const tl_value *v);

/* A new Model value holding a reference to m. */
tl_status tl_model_to_value(tl_model *m, tl_value *out);

#endif
