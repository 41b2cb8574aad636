/* lang/logic.h -- the logic side of a .tl program: entity symbols, entity
** types (domains), declared relations with their asserted facts, rules,
** embeddings, and the cached forward model.  lang/logic_store.c owns the data;
** lang/eval_logic.c turns the syntax into runtime/datalog.h programs and runs
** queries; lang/builtins/logic.c offers it to scripts (bulk facts, tensors).
**
** Every entity name is one interned symbol (an int32 id, in order of first
** appearance).  A domain is a set of symbols with an order (the "entity
** index" used when a relation is seen as a tensor); a closed domain
** (`entity Person = {..}`) rejects other names, an open one (`entity Person`)
** grows from facts.  A relation argument typed `entity`/`concept` (or untyped)
** takes any symbol (domain -1). */
#ifndef TL_LANG_LOGIC_H
#define TL_LANG_LOGIC_H

#include "runtime/datalog.h"
#include "runtime/tensor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl_node tl_node;

typedef struct tl_domain {
    char *name;
    bool closed;
    int32_t *members; /* symbol ids, in entity-index order */
    size_t n, cap;
    int32_t *index_of; /* symbol id -> entity index + 1 (0: not a member) */
    size_t n_index;
} tl_domain;

typedef struct tl_relation {
    char *name;
    int arity;
    int dom[TL_REL_MAX_ARITY]; /* -1: any entity */
    const char *param[TL_REL_MAX_ARITY];
    tl_rel facts;
    const tl_node *decl;
} tl_relation;

typedef struct tl_embedding {
    char *name;
    int dom; /* the entity type it embeds (its own closed domain) */
    int dim;
    tl_tensor *table; /* f32 [n_entities, dim] */
} tl_embedding;

typedef struct tl_logic {
    char **sym;
    size_t n_sym, cap_sym;
    uint32_t *sym_slot; /* open addressing: symbol id + 1 */
    size_t n_slots;
    tl_domain *dom;
    int n_dom, cap_dom;
    tl_relation *rel;
    int n_rel, cap_rel;
    const tl_node **rules;
    int n_rules, cap_rules;
    tl_embedding *emb;
    int n_emb, cap_emb;
    /* the forward model of every relation, valid until facts or rules change */
    tl_rel *model;
    int model_n;
    bool model_valid;
    tl_dl_stats model_stats;
    int64_t max_rounds; /* 0: the engine's default */
    int with_dom;       /* -1, or the domain of the enclosing `with T { }` */
} tl_logic;

tl_logic *tl_logic_new(void);
void tl_logic_free(tl_logic *L);
void tl_logic_invalidate(tl_logic *L);

/* symbols */
int32_t tl_logic_intern(tl_logic *L, const char *s);       /* -1: out of memory */
int32_t tl_logic_lookup(const tl_logic *L, const char *s); /* -1: unknown */
const char *tl_logic_name(const tl_logic *L, int32_t id);
/* <0, 0, >0: numbers numerically, otherwise bytewise (for <, <=, >, >=) */
int tl_logic_compare(void *L, int32_t a, int32_t b);
int tl_logic_compare_names(const char *a, const char *b);

/* domains */
int tl_logic_find_domain(const tl_logic *L, const char *name); /* -1: none */
tl_status tl_logic_new_domain(tl_logic *L, const char *name, bool closed, int *out);
tl_status tl_logic_domain_add(tl_logic *L, int dom, int32_t sym);
bool tl_logic_in_domain(const tl_logic *L, int dom, int32_t sym); /* dom -1: any known */
/* entity index of sym in dom (-1: not a member); dom -1: the symbol id */
int64_t tl_logic_entity_index(const tl_logic *L, int dom, int32_t sym);
/* size of dom (dom -1: all symbols) */
size_t tl_logic_domain_size(const tl_logic *L, int dom);
int32_t tl_logic_domain_member(const tl_logic *L, int dom, size_t index);

/* relations */
int tl_logic_find_relation(const tl_logic *L, const char *name); /* -1: none */
/* Checks the types of t (ids) against the relation's domains, adds open-domain
** members, and inserts.  On a closed-domain miss: TL_ERR_ARG naming it. */
tl_status tl_logic_add_fact(tl_logic *L, int rel, const int32_t *t, bool *added);
/* Adds a fact given as names (interned here). */
tl_status tl_logic_add_fact_names(tl_logic *L, int rel, const char *const *names, bool *added);
/* The forward model (computed when stale); *model = L->model array. */
tl_status tl_logic_model(tl_logic *L, const tl_dl_program *p, tl_dl_error *err);

#endif
