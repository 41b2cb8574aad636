/* lang/ast.c -- small helpers over AST nodes. */
#include "lang/ast.h"

const char *tl_op_symbol(tl_binop op) {
    static const char *const sym[TL_OP_COUNT] = {
        [TL_OP_ADD] = "+",
        [TL_OP_SUB] = "-",
        [TL_OP_MUL] = "*",
        [TL_OP_DIV] = "/",
        [TL_OP_REM] = "%",
        [TL_OP_MATMUL] = "@",
        [TL_OP_HADAMARD] = "\xE2\x8A\x99",
        [TL_OP_POW] = "**",
        [TL_OP_TENSORPROD] = "\xE2\x8A\x97",
        [TL_OP_EQ] = "==",
        [TL_OP_NE] = "!=",
        [TL_OP_LT] = "<",
        [TL_OP_LE] = "<=",
        [TL_OP_GT] = ">",
        [TL_OP_GE] = ">=",
        [TL_OP_APPROX] = "\xE2\x89\x88",
        [TL_OP_AND] = "&&",
        [TL_OP_OR] = "||",
        [TL_OP_NEG] = "-",
        [TL_OP_NOT] = "!",
    };
    return (op > 0 && op < TL_OP_COUNT && sym[op]) ? sym[op] : "?";
}

size_t tl_node_list_len(const tl_node *n) {
    size_t k = 0;
    for (; n; n = n->next)
        k++;
    return k;
}

const char *tl_node_kind_name(tl_node_kind k) {
    static const char *const names[TL_NODE_KIND_COUNT] = {
        [TL_N_INT] = "int",
        [TL_N_FLOAT] = "float",
        [TL_N_STRING] = "string",
        [TL_N_BOOL] = "bool",
        [TL_N_IDENT] = "ident",
        [TL_N_ARRAY] = "array",
        [TL_N_WILDCARD] = "wildcard",
        [TL_N_EQMARK] = "marked index",
        [TL_N_BINARY] = "binary",
        [TL_N_UNARY] = "unary",
        [TL_N_CAST] = "cast",
        [TL_N_CALL] = "call",
        [TL_N_METHOD] = "method",
        [TL_N_ASSOC] = "assoc",
        [TL_N_FIELD] = "field",
        [TL_N_INDEX] = "index",
        [TL_N_SLICE] = "slice",
        [TL_N_STRUCTLIT] = "structlit",
        [TL_N_FIELDINIT] = "fieldinit",
        [TL_N_MATCH] = "match",
        [TL_N_ARM] = "arm",
        [TL_N_UNSUPPORTED_EXPR] = "unsupported_expr",
        [TL_P_WILD] = "pwild",
        [TL_P_LIT] = "plit",
        [TL_P_BIND] = "pbind",
        [TL_P_TUPLE] = "ptuple",
        [TL_P_STRUCT] = "pstruct",
        [TL_P_OR] = "por",
        [TL_S_LET] = "let",
        [TL_S_ASSIGN] = "assign",
        [TL_S_IF] = "if",
        [TL_S_WHILE] = "while",
        [TL_S_FOR] = "for",
        [TL_S_LOOP] = "loop",
        [TL_S_BREAK] = "break",
        [TL_S_CONTINUE] = "continue",
        [TL_S_RETURN] = "return",
        [TL_S_BLOCK] = "block",
        [TL_S_EXPR] = "expr",
        [TL_S_TENSOR] = "tensor",
        [TL_S_EQUATION] = "equation",
        [TL_S_UNSUPPORTED] = "unsupported",
        [TL_S_LEARN] = "learn",
        [TL_S_NOGRAD] = "no_grad",
        [TL_T_NAMED] = "tnamed",
        [TL_T_TENSOR] = "ttensor",
        [TL_T_DIM] = "tdim",
        [TL_D_FN] = "fn",
        [TL_D_PARAM] = "param",
        [TL_D_STRUCT] = "struct",
        [TL_D_IMPL] = "impl",
        [TL_D_IMPORT] = "import",
        [TL_D_MAIN] = "main",
        [TL_D_TEST] = "test",
        [TL_D_BENCH] = "bench",
        [TL_D_UNSUPPORTED] = "unsupported_decl",
        [TL_D_EXTERN] = "extern",
        [TL_D_ENTITY] = "entity",
        [TL_D_RELATION] = "relation",
        [TL_D_RULE] = "rule",
        [TL_D_EMBEDDING] = "embedding",
        [TL_S_QUERY] = "query",
        [TL_S_INFER] = "infer",
        [TL_S_WITH] = "with",
    };
    return (k > 0 && k < TL_NODE_KIND_COUNT && names[k]) ? names[k] : "?";
}
