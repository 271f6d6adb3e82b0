#ifndef CDARKROOM_KERNELS_H
#define CDARKROOM_KERNELS_H
// The SIMD resampling kernels, written once in C (kernels_body.h) and compiled into one object
// several times under different names, once per CPU level (kernels.c):
//   darkroom_sse2_*     baseline x86-64 (SSE2), runs anywhere
//   darkroom_avx2_*     target("avx2,fma")           — only call when darkroom_cpu_has_avx2_fma()
//   darkroom_avxvnni_*  target("avx2,fma,avxvnni")  — only call when darkroom_cpu_has_avx_vnni()
// No per-target compiler flags: each level's functions carry their own target attribute, so the
// package stays usable as a versioned dependency. The run-time choice is made in Swift
// (Sources/Darkroom/Resample/ResampleKernel.swift). A future NEON level would add an arm64 prefix
// here and in kernels.c; today non-x86 builds declare nothing and use the scalar reference.
//
// The readable definition of every kernel is its scalar twin in
// Sources/Darkroom/Resample/ScalarKernels.swift; the output must be bit-identical.
// Documentation of each kernel: kernels_body.h.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define DARKROOM_KERNELS_X86 1

#pragma clang assume_nonnull begin

#define DARKROOM_KERNEL_DECLS(P)                                                                                  \
    void P##interleaveRowsU8(const uint8_t *a, const uint8_t *b, uint8_t *dst, ptrdiff_t count);                  \
    void P##verticalPairsU8(const uint8_t *_Nonnull const *_Nonnull pairs, const int32_t *coeffs, ptrdiff_t pairCount,             \
                            ptrdiff_t shift, uint8_t *out, ptrdiff_t count, bool paired);                         \
    void P##verticalPairs2U8(const uint8_t *_Nonnull const *_Nonnull pairs, const int32_t *coeffs0, const int32_t *coeffs1,       \
                             ptrdiff_t pairCount, ptrdiff_t bothFrom, ptrdiff_t bothTo, ptrdiff_t shift,         \
                             uint8_t *out0, uint8_t *out1, ptrdiff_t count, bool paired,                          \
                             const void *_Nullable prefetch, ptrdiff_t prefetchBytes);                            \
    void P##premultiplyInterleaveRowsU8(const uint8_t *a, const uint8_t *b, uint8_t *dst, ptrdiff_t pixels,       \
                                        ptrdiff_t channels);                                                      \
    void P##pairPixelsU8(const uint8_t *src, uint8_t *dst, ptrdiff_t pixels, ptrdiff_t channels);                 \
    void P##horizontalU8(const uint8_t *src, ptrdiff_t srcStride, uint8_t *dst, ptrdiff_t dstStride,              \
                         ptrdiff_t rows, ptrdiff_t dstWidth, ptrdiff_t channels, const int32_t *starts,           \
                         const int32_t *groups, const int16_t *coeffs, ptrdiff_t coeffStride, ptrdiff_t shift);   \
    void P##unpremultiplyU8(uint8_t *row, ptrdiff_t pixels, ptrdiff_t channels, const uint32_t *recip);           \
    void P##loadU16(const uint16_t *src, float *dst, ptrdiff_t pixels, ptrdiff_t channels, bool premultiply);      \
    void P##verticalF32(const float *_Nonnull const *_Nonnull rows, const float *coeffs, ptrdiff_t taps, float *out,               \
                        ptrdiff_t count);                                                                         \
    void P##horizontalF32(const float *src, uint16_t *dst, ptrdiff_t dstWidth, ptrdiff_t channels,                \
                          const int32_t *starts, const int32_t *counts, const float *coeffs,                      \
                          ptrdiff_t coeffStride, bool unpremultiply);

DARKROOM_KERNEL_DECLS(darkroom_sse2_)
DARKROOM_KERNEL_DECLS(darkroom_avx2_)
DARKROOM_KERNEL_DECLS(darkroom_avxvnni_)

/// One CPU level's kernels as a table of function pointers, chosen once per resize (simdjson's
/// implementation object, Pillow's `ResampleHorizontal = ...`): the resampler calls through it,
/// with no per-row switch on the level. The tables live in kernel_table.c, outside the kernels'
/// own object, so that object still references nothing (.ci/check-kernels.sh).
typedef struct darkroom_kernel_table {
    void (*interleaveRowsU8)(const uint8_t *a, const uint8_t *b, uint8_t *dst, ptrdiff_t count);
    void (*verticalPairsU8)(const uint8_t *_Nonnull const *_Nonnull pairs, const int32_t *coeffs, ptrdiff_t pairCount,
                            ptrdiff_t shift, uint8_t *out, ptrdiff_t count, bool paired);
    void (*verticalPairs2U8)(const uint8_t *_Nonnull const *_Nonnull pairs, const int32_t *coeffs0, const int32_t *coeffs1,
                             ptrdiff_t pairCount, ptrdiff_t bothFrom, ptrdiff_t bothTo, ptrdiff_t shift,
                             uint8_t *out0, uint8_t *out1, ptrdiff_t count, bool paired,
                             const void *_Nullable prefetch, ptrdiff_t prefetchBytes);
    void (*premultiplyInterleaveRowsU8)(const uint8_t *a, const uint8_t *b, uint8_t *dst, ptrdiff_t pixels,
                                        ptrdiff_t channels);
    void (*pairPixelsU8)(const uint8_t *src, uint8_t *dst, ptrdiff_t pixels, ptrdiff_t channels);
    void (*horizontalU8)(const uint8_t *src, ptrdiff_t srcStride, uint8_t *dst, ptrdiff_t dstStride,
                         ptrdiff_t rows, ptrdiff_t dstWidth, ptrdiff_t channels, const int32_t *starts,
                         const int32_t *groups, const int16_t *coeffs, ptrdiff_t coeffStride, ptrdiff_t shift);
    void (*unpremultiplyU8)(uint8_t *row, ptrdiff_t pixels, ptrdiff_t channels, const uint32_t *recip);
    void (*loadU16)(const uint16_t *src, float *dst, ptrdiff_t pixels, ptrdiff_t channels, bool premultiply);
    void (*verticalF32)(const float *_Nonnull const *_Nonnull rows, const float *coeffs, ptrdiff_t taps, float *out,
                        ptrdiff_t count);
    void (*horizontalF32)(const float *src, uint16_t *dst, ptrdiff_t dstWidth, ptrdiff_t channels,
                          const int32_t *starts, const int32_t *counts, const float *coeffs,
                          ptrdiff_t coeffStride, bool unpremultiply);
} darkroom_kernel_table;

/// The kernels of `level`: 0 SSE2, 1 AVX2 + FMA, 2 AVX2 + FMA + AVX-VNNI (the caller checks the
/// CPU first); NULL for any other level.
const darkroom_kernel_table *_Nullable darkroom_kernels(int level);

#pragma clang assume_nonnull end
#endif

#endif
