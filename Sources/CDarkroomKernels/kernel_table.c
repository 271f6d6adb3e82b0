// The per-level kernel tables (see darkroom_kernel_table in CDarkroomKernels.h): kept out of
// kernels.c, whose object .ci/check-kernels.sh requires to reference nothing.
#include "CDarkroomKernels.h"

#if defined(__x86_64__)
#define DR_TABLE(P)                                                                                  \
    {                                                                                                \
        P##interleaveRowsU8, P##verticalPairsU8, P##verticalPairs2U8, P##premultiplyInterleaveRowsU8, \
        P##pairPixelsU8, P##horizontalU8, P##unpremultiplyU8, P##loadU16, P##verticalF32,            \
        P##horizontalF32                                                                             \
    }

static const darkroom_kernel_table tables[3] = {
    DR_TABLE(darkroom_sse2_),
    DR_TABLE(darkroom_avx2_),
    DR_TABLE(darkroom_avxvnni_),
};

const darkroom_kernel_table *darkroom_kernels(int level) {
    return level >= 0 && level < 3 ? &tables[level] : NULL;
}
#endif
