/* runtime/random.c -- xoshiro256** seeded by splitmix64; Box-Muller normals. */
#include "runtime/random.h"

#include "runtime/context.h"

#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tl_rng_seed(tl_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t tl_rng_next(tl_rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float tl_rng_uniform_f32(tl_rng *r) {
    return (float)(tl_rng_next(r) >> 40) * 0x1.0p-24f;
}

double tl_rng_uniform_f64(tl_rng *r) {
    return (double)(tl_rng_next(r) >> 11) * 0x1.0p-53;
}

double tl_rng_normal(tl_rng *r) {
    double u1 = 1.0 - tl_rng_uniform_f64(r); /* (0, 1] */
    double u2 = tl_rng_uniform_f64(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

tl_rng *tl_random_global(void) {
    tl_context *c = tl_context_current();
    if (!c->rng_seeded) {
        const char *env = getenv("TL_SEED"); /* set by `tl run --seed S` */
        uint64_t seed = 0x5eed;
        if (env && *env) seed = strtoull(env, NULL, 0);
        tl_rng_seed(&c->rng, seed);
        c->rng_seeded = true;
    }
    return &c->rng;
}

void tl_random_seed(uint64_t seed) {
    tl_context *c = tl_context_current();
    tl_rng_seed(&c->rng, seed);
    c->rng_seeded = true;
}
