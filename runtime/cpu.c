/* runtime/cpu.c -- cpuid feature detection (see cpu.h). */
#include "runtime/cpu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static tl_cpu_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

static void detect(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    features.fma = (c >> 12) & 1;
    features.f16c = (c >> 29) & 1;
    /* the OS must save XMM (bit 1) and YMM (bit 2) state */
    features.avx = avx && osxsave && (xgetbv0() & 6) == 6;
    if (features.avx && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        features.avx2 = (b >> 5) & 1;
        /* F (b16), BW (b30), VL (b31); the OS must save opmask, ZMM0-15 upper
        ** halves and ZMM16-31 (XCR0 bits 5, 6, 7) */
        bool f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
        features.avx512 = f && bw && vl && (xgetbv0() & 0xe6) == 0xe6;
        features.avx512vnni = features.avx512 && ((c >> 11) & 1);
    }
    if (!features.avx) features.avx2 = features.fma = features.f16c = false;
    if (!features.avx2) features.avx512 = features.avx512vnni = false;
#endif
}

const tl_cpu_features *tl_cpu_features_get(void) {
    pthread_once(&features_once, detect);
    return &features;
}

/* The environment switches, read once (they are set before a process starts). */
static bool no_avx2, no_avx512;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static bool env_set(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static void read_env(void) {
    no_avx2 = env_set("TL_NO_AVX2");
    no_avx512 = env_set("TL_NO_AVX512");
}

bool tl_cpu_use_avx2(void) {
    const tl_cpu_features *f = tl_cpu_features_get();
    pthread_once(&env_once, read_env);
    return !no_avx2 && f->avx2 && f->fma && f->f16c;
}

bool tl_cpu_use_avx512vnni(void) {
    pthread_once(&env_once, read_env);
    return !no_avx512 && tl_cpu_use_avx2() && tl_cpu_features_get()->avx512vnni;
}
