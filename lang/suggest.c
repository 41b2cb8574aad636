/* lang/suggest.c -- edit distance and "did you mean" (see suggest.h). */
#include "lang/suggest.h"

#include "lang/eval_internal.h"

#include <string.h>

int tl_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 100;
    int d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

typedef struct pick {
    const char *word, *best;
    int dist, limit;
} pick;

static void consider(pick *p, const char *cand) {
    if (!cand || strcmp(cand, p->word) == 0) return;
    int d = tl_edit_distance(p->word, cand);
    if (d <= p->limit && d < p->dist) {
        p->dist = d;
        p->best = cand;
    }
}

static pick pick_for(const char *word) {
    size_t len = strlen(word);
    int limit = len < 3 ? -1 : len / 3 > 1 ? (int)(len / 3) : 1; /* none for 'i', 'b' */
    return (pick){.word = word, .dist = limit + 1, .limit = limit};
}

const char *tl_suggest(const char *word, const char *const *words, size_t n) {
    pick p = pick_for(word);
    for (size_t i = 0; i < n; i++)
        consider(&p, words[i]);
    return p.best;
}

const char *tl_suggest_name(tl_interp *I, const char *name) {
    pick p = pick_for(name);
    for (const tl_scope *s = I->cur; s; s = s->parent)
        for (uint32_t i = 0; i < s->n; i++)
            consider(&p, s->vars[i].name);
    if (I->cur != &I->globals)
        for (uint32_t i = 0; i < I->globals.n; i++)
            consider(&p, I->globals.vars[i].name);
    for (size_t i = 0; i < I->fns.n; i++)
        consider(&p, I->fns.items[i].name);
    for (size_t i = 0;; i++) {
        const tl_builtin_def *d = tl_builtin_at(i);
        if (!d) break;
        consider(&p, d->name);
    }
    return p.best;
}
