/* runtime/context.c -- per-interpreter runtime settings (see context.h). */
#include "runtime/context.h"

static tl_context default_context = {.precision = TL_PRECISION_LLAMA};
static _Thread_local tl_context *current;

void tl_context_init(tl_context *c) {
    *c = (tl_context){.precision = TL_PRECISION_LLAMA};
}

tl_context *tl_context_current(void) {
    return current ? current : &default_context;
}

tl_context *tl_context_enter(tl_context *c) {
    tl_context *prev = current;
    current = c;
    return prev;
}

tl_status tl_context_set_threads(tl_context *c, int n) {
    if (n < 0 || n > TL_MAX_THREADS)
        return tl_fail(TL_ERR_ARG, "threads: %d is out of range (1..%d)", n, TL_MAX_THREADS);
    c->threads = n;
    return TL_OK;
}

void tl_set_precision(tl_precision p) {
    tl_context_current()->precision = p;
}

tl_precision tl_get_precision(void) {
    return tl_context_current()->precision;
}
