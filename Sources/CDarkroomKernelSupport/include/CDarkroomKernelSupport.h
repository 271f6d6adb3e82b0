#ifndef CDARKROOM_KERNEL_SUPPORT_H
#define CDARKROOM_KERNEL_SUPPORT_H

/// Non-blocking prefetch of the cache line at `p` into L2 (Swift has no prefetch intrinsic).
/// Inlined into the Swift kernels; a hint only, never faults.
static inline __attribute__((always_inline)) void darkroom_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 2);
}

#endif
