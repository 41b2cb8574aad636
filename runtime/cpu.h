/* runtime/cpu.h -- what the CPU can do, asked once (cpuid + xgetbv).
**
** Kernels are chosen from this at start-up (tl_runtime_init in dtype.h): the
** AVX2 kernels need AVX2, FMA and F16C, and an OS that saves the YMM state.
** The environment variable TL_NO_AVX2=1 makes tl_cpu_use_avx2() false, which
** forces the scalar reference kernels everywhere (tests use it to compare);
** TL_NO_AVX512=1 keeps AVX2 but turns off the AVX-512 VNNI kernels. */
#ifndef TL_RUNTIME_CPU_H
#define TL_RUNTIME_CPU_H

#include <stdbool.h>

typedef struct tl_cpu_features {
    bool avx; /* AVX with OS support for the YMM registers */
    bool avx2;
    bool fma;
    bool f16c;
    bool avx512; /* AVX-512 F, BW and VL with OS support for the ZMM state */
    bool avx512vnni;
} tl_cpu_features;

/* The features of this CPU (detected on first call, then cached). */
const tl_cpu_features *tl_cpu_features_get(void);

/* True when the AVX2/FMA/F16C kernels may run and TL_NO_AVX2 is not set. */
bool tl_cpu_use_avx2(void);

/* True when the AVX-512 VNNI kernels may run: AVX2 is usable, the CPU has
** AVX-512 F/BW/VL/VNNI and neither TL_NO_AVX2 nor TL_NO_AVX512 is set.  Those
** kernels give the same bits as the AVX2 ones; they only issue fewer
** instructions. */
bool tl_cpu_use_avx512vnni(void);

#endif
