/* runtime/ops/vexpf.c -- ops_vexpf_ok: whether the AVX2 expf kernels may stand
** in for the C library's expf (see expf_kernels.h). */
#include "runtime/ops/expf_kernels.h"

#include "runtime/quant.h" /* tl_kernels_use_avx2: the variant select.c chose */

#include <math.h>
#include <pthread.h>
#include <string.h>

static bool vexpf_ok;
static pthread_once_t vexpf_once = PTHREAD_ONCE_INIT;

/* The check set: 4096 inputs spread over [-104, 89] (underflow to overflow),
** the values around the special-case bounds, and the tiny ones. */
#define CHECK_N 4160
static void vexpf_check(void) {
    if (!tl_kernels_use_avx2()) return;
    static float x[CHECK_N], y[CHECK_N];
    int n = 0;
    for (int i = 0; i < 4096; i++)
        x[n++] = -104.0f + 193.0f * (float)i / 4096.0f + 1e-3f * (float)(i % 7);
    const float edge[] = {88.0f,    -88.0f,    88.72f,  -103.28f, -103.97f, 0.0f,
                          -0.0f,    1e-30f,    -1e-30f, 1e-45f,   0.5f,     -0.5f,
                          0.34657f, -0.34657f, 1.0f,    -1.0f,    10.0f,    -10.0f,
                          INFINITY, -INFINITY, NAN,     87.99f,   -87.99f,  3e-8f};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        x[n++] = edge[i];
    tl_expf_avx2(x, y, n);
    for (int i = 0; i < n; i++) {
        float want = expf(x[i]);
        if (memcmp(&want, &y[i], sizeof want) != 0) return;
    }
    vexpf_ok = true;
}

bool ops_vexpf_ok(void) {
    pthread_once(&vexpf_once, vexpf_check);
    return vexpf_ok;
}
