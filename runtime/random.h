/* runtime/random.h -- the seeded pseudo-random generator behind rand/randn and
** the samplers.
**
** Generator: xoshiro256** (Blackman & Vigna), state seeded from a 64-bit seed
** through splitmix64.  Uniform floats take the top 24 bits: k * 2^-24 in
** [0, 1); uniform doubles the top 53 bits.  Normals use the Box-Muller
** transform on two uniform doubles (u1 in (0, 1]): sqrt(-2 ln u1) * cos(2 pi u2),
** one normal per pair (the sine half is discarded, so the stream does not
** depend on how many values were asked for before).
**
** The generator of the current context (runtime/context.h: one per
** interpreter, else the process default) is tl_random_global(), seeded by
** tl_random_seed(), or on first use from the TL_SEED environment variable
** (which `tl run --seed S` sets); otherwise the seed is 0x5eed.  Same seed,
** same sequence of calls → same values.  Call from the thread that uses the
** context. */
#ifndef TL_RUNTIME_RANDOM_H
#define TL_RUNTIME_RANDOM_H

#include <stdint.h>

typedef struct tl_rng {
    uint64_t s[4];
} tl_rng;

void tl_rng_seed(tl_rng *r, uint64_t seed);
uint64_t tl_rng_next(tl_rng *r);
float tl_rng_uniform_f32(tl_rng *r);  /* [0, 1) */
double tl_rng_uniform_f64(tl_rng *r); /* [0, 1) */
double tl_rng_normal(tl_rng *r);      /* mean 0, variance 1 */

/* The current context's generator and its seeding. */
tl_rng *tl_random_global(void);
void tl_random_seed(uint64_t seed);

#endif
