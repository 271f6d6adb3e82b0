#ifndef CDARKROOM_H
#define CDARKROOM_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU has AVX2 and FMA (the DarkroomKernelsAVX2 module may run), else 0.
int darkroom_cpu_has_avx2_fma(void);

#endif
