/* lang/ast.h -- the syntax tree of a parsed chunk (a file, an import, a REPL input).
**
** Nodes live in the chunk's arena (lang/arena.h) and are freed with it.  One
** node struct serves every kind; the meaning of the child slots a..d and of
** `name`/`v` is listed next to each kind below.  Sibling lists (statements,
** arguments, parameters, ...) are chained through `next`.  Positions are
** 1-based line and byte column of the node's first token. */
#ifndef TL_LANG_AST_H
#define TL_LANG_AST_H

#include "lang/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tl_node_kind {
    /* ---- expressions */
    TL_N_INT = 1,          /* v.i                                                        */
    TL_N_FLOAT,            /* v.f                                                        */
    TL_N_STRING,           /* name = bytes (unescaped), v.len                            */
    TL_N_BOOL,             /* v.b                                                        */
    TL_N_IDENT,            /* name                                                       */
    TL_N_ARRAY,            /* a = elements                                               */
    TL_N_BINARY,           /* op, a, b                                                   */
    TL_N_UNARY,            /* op (TL_OP_NEG / TL_OP_NOT), a                              */
    TL_N_CAST,             /* a as name                                                  */
    TL_N_CALL,             /* a = callee expression, b = args                            */
    TL_N_METHOD,           /* a = receiver, name, b = args                               */
    TL_N_ASSOC,            /* name = type, name2 = function, b = args  (Type::f(args))   */
    TL_N_FIELD,            /* a = object, name                                           */
    TL_N_INDEX,            /* a = object, b = index list (exprs or TL_N_SLICE)           */
    TL_N_SLICE,            /* a = start or NULL, b = end or NULL                         */
    TL_N_STRUCTLIT,        /* name, a = TL_N_FIELDINIT list                              */
    TL_N_FIELDINIT,        /* name, a = value (also field patterns: a = pattern)          */
    TL_N_MATCH,            /* a = scrutinee, b = TL_N_ARM list                           */
    TL_N_ARM,              /* a = pattern, b = guard or NULL, c = body (expr or block)   */
    TL_N_UNSUPPORTED_EXPR, /* name = feature ("python.call")                      */
    TL_N_WILDCARD,         /* `?` in an array literal: shape(e) == [?, 64] patterns      */
    TL_N_EQMARK,           /* a = index name marked `q.` on an equation's left side      */
    /* ---- patterns */
    TL_P_WILD,   /* _                                                            */
    TL_P_LIT,    /* a = literal expression                                       */
    TL_P_BIND,   /* name                                                         */
    TL_P_TUPLE,  /* a = patterns                                                 */
    TL_P_STRUCT, /* name, a = TL_N_FIELDINIT list whose a is a pattern           */
    TL_P_OR,     /* a = alternatives                                             */
    /* ---- statements */
    TL_S_LET,         /* name, a = value, c = type or NULL                           */
    TL_S_ASSIGN,      /* a = target (ident, field or index), b = value; op = projection
                         of a tensor equation (lang/equation.h: 0 =, 1 max=, 2 min=, 3 avg=) */
    TL_S_IF,          /* a = cond, b = then block, c = else (block or if) or NULL   */
    TL_S_WHILE,       /* a = cond, b = body                                         */
    TL_S_FOR,         /* name, a = iterable, b = body                               */
    TL_S_LOOP,        /* b = body                                                   */
    TL_S_BREAK,       /*                                                            */
    TL_S_CONTINUE,    /*                                                            */
    TL_S_RETURN,      /* a = value or NULL                                          */
    TL_S_BLOCK,       /* a = statements                                             */
    TL_S_EXPR,        /* a = expression                                             */
    TL_S_TENSOR,      /* name, c = type, a = init or NULL  (tensor x: float32[2] = e) */
    TL_S_EQUATION,    /* a ~ b                                                      */
    TL_S_UNSUPPORTED, /* name = feature ("query", "learn", "infer", ...)          */
    TL_S_LEARN,       /* a = statements, b = objective, c = options (TL_N_FIELDINIT:
                         name = key, a = value expr or TL_N_STRUCTLIT name(params)) */
    TL_S_NOGRAD,      /* b = block run without recording gradients                 */
    /* ---- types */
    TL_T_NAMED,  /* name ("int", "float", "bool", "string", "void", a struct)     */
    TL_T_TENSOR, /* name = base type ("float32", ...), a = dims (TL_T_DIM list)   */
    TL_T_DIM,    /* v.i = size, or -1 for ? / a named dim                         */
    /* ---- declarations (top level) */
    TL_D_FN,          /* name, a = params (TL_D_PARAM), c = return type or NULL, b = body */
    TL_D_PARAM,       /* name, c = type or NULL                                      */
    TL_D_STRUCT,      /* name, a = fields (TL_D_PARAM)                               */
    TL_D_IMPL,        /* name = type, a = methods (TL_D_FN)                          */
    TL_D_IMPORT,      /* name = path                                                 */
    TL_D_MAIN,        /* b = body                                                    */
    TL_D_TEST,        /* name, b = body                                              */
    TL_D_BENCH,       /* name, b = body                                              */
    TL_D_UNSUPPORTED, /* name = feature ("relation", "rule", "entity", ...)      */
    TL_D_EXTERN,      /* name = library, a = TL_D_FN list (no body; op = 1: variadic) */
    /* ---- logic (lang/eval_logic.c) */
    TL_D_ENTITY,    /* name, a = TL_N_STRING members (op = 1: a closed set {..})        */
    TL_D_RELATION,  /* name, a = params (TL_D_PARAM, c = type)                          */
    TL_D_RULE,      /* a = head expression, b = body expressions                        */
    TL_D_EMBEDDING, /* name, a = TL_N_FIELDINIT list (entities / dimension / init)      */
    TL_S_QUERY,     /* a = atom, b = where-constraints or NULL                          */
    TL_S_INFER,     /* name = method (forward, backward, ...), a = query atom           */
    TL_S_WITH,      /* name = entity type, b = block                                    */
    TL_NODE_KIND_COUNT
} tl_node_kind;

typedef enum tl_binop {
    TL_OP_NONE = 0,
    TL_OP_ADD,
    TL_OP_SUB,
    TL_OP_MUL,
    TL_OP_DIV,
    TL_OP_REM,
    TL_OP_MATMUL,
    TL_OP_HADAMARD,
    TL_OP_POW,
    TL_OP_TENSORPROD,
    TL_OP_EQ,
    TL_OP_NE,
    TL_OP_LT,
    TL_OP_LE,
    TL_OP_GT,
    TL_OP_GE,
    TL_OP_APPROX,
    TL_OP_AND,
    TL_OP_OR,
    TL_OP_NEG,
    TL_OP_NOT,
    TL_OP_COUNT
} tl_binop;

typedef struct tl_chunk tl_chunk;
typedef struct tl_node tl_node;

struct tl_node {
    uint16_t kind; /* tl_node_kind */
    uint16_t op;   /* tl_binop for TL_N_BINARY / TL_N_UNARY */
    uint32_t line, col;
    const tl_chunk *chunk; /* source of this node (for error positions) */
    tl_node *next;         /* next sibling in a list */
    tl_node *a, *b, *c;
    const char *name, *name2;
    union {
        int64_t i;
        double f;
        bool b;
        size_t len;
    } v;
    /* An evaluation cache, written by the evaluator only (the parser leaves it
    ** zero): what a call's name resolved to, or a type annotation's class,
    ** valid while cache_epoch equals the interpreter's definition epoch. */
    const void *cache;
    uint32_t cache_epoch;
};

/* Symbol of an operator for messages ("+", "@", "and", ...). */
const char *tl_op_symbol(tl_binop op);
/* Number of nodes in a sibling list. */
size_t tl_node_list_len(const tl_node *n);
/* A short name of a node kind for debugging dumps ("call", "if", ...). */
const char *tl_node_kind_name(tl_node_kind k);

#endif
