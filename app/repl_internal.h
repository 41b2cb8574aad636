/* app/repl_internal.h -- what the REPL's files share: read-only walks over
** the interpreter's globals, functions and structs (app/repl_introspect.c,
** the only REPL file that sees the interpreter's internals), and the command
** table. */
#ifndef TL_APP_REPL_INTERNAL_H
#define TL_APP_REPL_INTERNAL_H

#include "app/repl.h"

/* Calls cb for each global variable (in definition order). */
void tl_repl_each_global(tl_interp *I, void (*cb)(void *ctx, const char *name, const tl_value *v),
                         void *ctx);
/* Calls cb for each user function (methods excluded) and each struct; for a
** struct, fields is a NULL-terminated list of its field names. */
void tl_repl_each_fn(tl_interp *I, void (*cb)(void *ctx, const char *name), void *ctx);
void tl_repl_each_struct(tl_interp *I,
                         void (*cb)(void *ctx, const char *name, const char *const *fields, int n),
                         void *ctx);
/* Appends "fn name(a, b)" for a user function; false when there is none. */
bool tl_repl_fn_signature(tl_interp *I, const char *name, tl_strbuf *out);
/* The // comment lines right above fn NAME's declaration, without the slashes
** (one line each); false when there are none. */
bool tl_repl_fn_doc(tl_interp *I, const char *name, tl_strbuf *out);
/* Where fn NAME is declared (the file as given; *line 1-based), or NULL. */
const char *tl_repl_fn_file(tl_interp *I, const char *name, uint32_t *line);
/* Field k of a struct value (borrowed). */
const tl_value *tl_repl_struct_field(const tl_value *v, int k);
/* The property names the REPL knows for a host-object class (NULL-terminated), or NULL. */
const char *const *tl_repl_object_props(const char *cls);
/* Field names of a struct value, or of the struct named `type`; 0 when unknown. */
int tl_repl_struct_fields(tl_interp *I, const tl_value *v, const char **names, int cap);

typedef struct tl_repl_cmd {
    const char *name; /* ":help" */
    const char *args; /* "[NAME]" */
    const char *help;
} tl_repl_cmd;
extern const tl_repl_cmd tl_repl_cmds[]; /* terminated by {0} */

#endif
