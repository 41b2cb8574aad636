/* lang/eval_internal.h -- the interpreter's state, shared by eval*.c only.
**
** eval.c: entry points, loading/imports, declarations, errors, scopes.
** eval_expr.c: expressions (operators, calls, indexing, match).
** eval_stmt.c: statements and blocks; eval_tensor_decl.c: tensor declarations. */
#ifndef TL_LANG_EVAL_INTERNAL_H
#define TL_LANG_EVAL_INTERNAL_H

#include "lang/builtin.h"
#include "lang/eval.h"
#include "lang/parse.h"
#include "lang/strbuf.h"
#include "lang/value_struct.h"
#include "runtime/context.h"

/* How a statement or expression finished. */
typedef enum tl_flow {
    TL_FLOW_OK = 0,
    TL_FLOW_ERR, /* error recorded in the interpreter (or exit requested) */
    TL_FLOW_BREAK,
    TL_FLOW_CONTINUE,
    TL_FLOW_RETURN, /* value in I->ret */
} tl_flow;

typedef struct tl_var {
    const char *name;
    uint32_t hash; /* of name: a lookup compares bytes only when hashes agree */
    tl_value v;
} tl_var;

/* A scope's first TL_SCOPE_INLINE variables live in the scope itself (a call's
** parameters and a few lets need no allocation); more move to the heap. */
#define TL_SCOPE_INLINE 6
typedef struct tl_scope {
    struct tl_scope *parent;
    tl_var *vars; /* inline, or heap once past TL_SCOPE_INLINE: tl_scope_free_vars */
    uint32_t n, cap;
    /* a hash index over vars once a scope is large (lang/eval.c), so 40000
    ** lets stay linear; freed by tl_scope_clear */
    uint32_t *index, index_cap;
    tl_var inline_vars[TL_SCOPE_INLINE];
} tl_scope;

typedef struct tl_named {
    const char *name;
    const char *type; /* impl type for methods */
    const tl_node *decl;
    uint32_t prev; /* 1 + the previous item with the same name, 0 = none */
} tl_named;

typedef struct tl_named_list {
    tl_named *items;
    size_t n, cap;
    uint32_t *index; /* name hash -> 1 + the latest item with that name */
    size_t index_cap;
} tl_named_list;

typedef struct tl_import_rec {
    char *realpath;
    char *display;
    bool done;
    /* module scoping (lang/eval_module.c): the parsed file, whether it was
    ** loaded by an import (not the main file), the records it imports */
    const tl_chunk *chunk;
    bool imported;
    size_t *deps;
    size_t n_deps, cap_deps;
} tl_import_rec;

/* A fresh definition epoch (process-wide counter; see tl_interp.defs_epoch). */
uint32_t tl_new_defs_epoch(void);

struct tl_interp {
    tl_chunk **chunks;
    size_t n_chunks, cap_chunks;
    tl_scope globals;
    tl_scope *cur;
    tl_named_list fns, structs, methods;
    /* renewed (tl_new_defs_epoch) by every fn/struct/method definition:
    ** invalidates the caches in AST nodes (tl_node.cache); never 0, so a
    ** zeroed node is never valid */
    uint32_t defs_epoch;
    tl_import_rec *imports;
    size_t n_imports, cap_imports;
    const tl_chunk *last_file;
    char **owned_names;
    size_t n_owned, cap_owned;

    /* error state */
    bool has_err, err_incomplete;
    tl_status err_code;
    tl_strbuf err_msg;
    const tl_chunk *err_chunk;
    uint32_t err_line, err_col;
    const tl_chunk *frame_chunk;
    uint32_t frame_line, frame_col;
    tl_strbuf err_stack;
    tl_strbuf last_frame; /* the previous frame line, for collapsing recursion */
    int frame_repeats, n_frames, frames_omitted;
    tl_strbuf err_text;
    const tl_node *flow_node; /* the break/continue that escaped */

    tl_value ret;
    int depth, max_depth;
    int64_t steps, max_steps;
    bool exiting;
    int exit_code;
    tl_value args;
    const char *stack_base;
    size_t stack_limit;
    int entry_depth;
    FILE *time_out;       /* tl run --time: per-statement times of main go here */
    tl_context rt;        /* precision, random generator, threads: entered while running */
    tl_context *outer_rt; /* the thread's context before the outermost entry */
    tl_output_fn out_fn;  /* NULL: stdout */
    void *out_user;
    struct tl_logic *logic; /* relations, facts, rules (lang/logic.h); NULL until used */
    /* equations (lang/equation.h): a fused P V result waiting for its statement, and
    ** the plan tl_eq_classify has just found valid (for tl_eq_plan_get right after) */
    struct eq_pending *eq_pending;
    const void *eq_checked;
};

/* errors */
tl_flow tl_err_at(tl_interp *I, const tl_node *n, tl_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
tl_flow tl_err_status(tl_interp *I, const tl_node *n, tl_status st);
void tl_push_frame(tl_interp *I, const char *fn_name, const char *type, const tl_node *site);
tl_flow tl_guard(tl_interp *I, const tl_node *n);

/* scopes */
/* Adds (or, for a name already there with the same type, replaces) a declaration in a
** function / struct / method table (lang/eval_scope.c). */
tl_status tl_named_put(tl_named_list *l, const char *name, const char *type, const tl_node *decl);
tl_var *tl_scope_lookup(tl_interp *I, const char *name);
/* false: no scope has ever declared name (so it is unbound); true: look it up */
bool tl_scope_maybe_bound(const char *name);
tl_status tl_scope_declare(tl_scope *s, const char *name, tl_value v); /* takes v */
void tl_scope_clear(tl_scope *s);
/* Frees the variables' storage (after tl_scope_clear); the scope can be reused. */
void tl_scope_free_vars(tl_scope *s);

/* tables */
const tl_node *tl_find_fn(tl_interp *I, const char *name);
const tl_node *tl_find_struct(tl_interp *I, const char *name);
const tl_node *tl_find_method(tl_interp *I, const char *type, const char *name);
/* The fn a name means at `site` (lang/eval_module.c): inside an imported file, its
** own fns first, then those of the files it imports (breadth first); else (the main
** file, the REPL, or no module match) tl_find_fn. */
const tl_node *tl_find_fn_at(tl_interp *I, const tl_node *site, const char *name);
/* Records that the file of chunk `importer` imports record `idx`. */
tl_status tl_module_add_dep(tl_interp *I, const tl_chunk *importer, size_t idx);

/* evaluation */
tl_flow tl_eval_expr(tl_interp *I, const tl_node *n, tl_value *out);
/* An array literal node; nested numeric literals become one tensor when tensorize. */
tl_flow tl_eval_array_literal(tl_interp *I, const tl_node *n, bool tensorize, tl_value *out);
/* target (a TL_N_INDEX) = v where *slot is the variable's tensor: copy-on-write when the
** tensor or its storage is shared or not ours; v is broadcast and cast to the tensor's dtype. */
tl_flow tl_assign_tensor_index(tl_interp *I, const tl_node *target, tl_value *slot,
                               const tl_value *v);
tl_flow tl_exec_stmt(tl_interp *I, const tl_node *n, tl_value *last);
/* Runs a statement list in the current scope; *last (optional) = value of the
** final statement when it yields one. */
tl_flow tl_exec_list(tl_interp *I, const tl_node *stmts, tl_value *last);
/* Runs a block in a new child scope of the current one. */
tl_flow tl_exec_block(tl_interp *I, const tl_node *block, tl_value *last);
tl_flow tl_call_user(tl_interp *I, const tl_node *fn, const char *type, const tl_node *site,
                     int argc, const tl_value *argv, tl_value *out);
tl_flow tl_call_value(tl_interp *I, const tl_value *callee, const tl_node *site, int argc,
                      const tl_value *argv, tl_value *out);
/* What a type check is checking, spelled out only when the check fails:
** "<kind> <a>" or, with b, "<kind> <a>.<b>"; an argument reads
** "argument <arg> (<a>) of <b>". */
typedef struct tl_what {
    const char *kind; /* "let", "tensor", "field", "return value of", "argument" */
    const char *a, *b;
    int arg; /* 1-based, for "argument" */
} tl_what;
tl_flow tl_check_type(tl_interp *I, const tl_node *site, const tl_node *type, tl_value *v,
                      const tl_what *what);
tl_flow tl_tensor_decl(tl_interp *I, const tl_node *n);
/* A rectangular nested array of numbers (or a number) as a tensor of dtype dt
** (eval_tensor_decl.c); false, with *out void, when v is not one: *st is TL_OK
** for "not rectangular / not numbers", else the error (a number dt cannot hold). */
bool tl_array_to_tensor(const tl_value *v, tl_dtype dt, tl_value *out, tl_status *st);
bool tl_values_equal(const tl_value *a, const tl_value *b);
/* The same with an error for values nested deeper than TL_VALUE_MAX_DEPTH
** (lang/value_walk.c: bounded recursion, linear in shared containers). */
#define TL_VALUE_MAX_DEPTH 2000
tl_status tl_values_equal_checked(const tl_value *a, const tl_value *b, bool *equal);
/* Would storing v inside container `into` make a reference cycle? */
bool tl_value_would_cycle(const tl_value *v, const void *into);
void tl_type_str(tl_strbuf *b, const tl_node *type);

#endif
