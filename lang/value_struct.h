/* lang/value_struct.h -- the layouts of the values lang/eval owns: struct
** instances and user function values.  Both start with their refcount, as
** lang/value.c expects.  Their AST nodes live in chunks the interpreter keeps
** alive until tl_interp_free(). */
#ifndef TL_LANG_VALUE_STRUCT_H
#define TL_LANG_VALUE_STRUCT_H

#include "lang/ast.h"
#include "lang/value.h"

struct tl_struct_value {
    int32_t refcount;
    const tl_node *decl; /* TL_D_STRUCT: name, a = fields (TL_D_PARAM) in order */
    uint32_t n;
    tl_value fields[]; /* in declaration order */
};

struct tl_function {
    int32_t refcount;
    const tl_node *decl;   /* TL_D_FN */
    const char *self_type; /* impl type for methods, else NULL */
};

/* Index of a field by name, or -1. */
int tl_struct_field_index(const tl_struct_value *s, const char *name);

#endif
