// One kernel source (kernels_body.h), compiled here once per x86-64 level under its own name prefix,
// each copy between `#pragma clang attribute push(target(...))` and `pop` (Highway's
// foreach_target.h idea): no per-file or per-target compiler flags. DR_LEVEL tells the body which
// instructions it may name: 0 SSE2, 1 AVX2 (+FMA, never used for floats: contraction is off),
// 2 AVX2 + AVX-VNNI (`vpdpwssd` for multiply-add-accumulate).
#include "CDarkroomKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Unaligned, aliasing-safe vector and scalar types shared by all levels.
typedef uint8_t u8x16 __attribute__((ext_vector_type(16)));
typedef uint8_t u8x32 __attribute__((ext_vector_type(32)));
typedef int16_t i16x8 __attribute__((ext_vector_type(8)));
typedef int16_t i16x16 __attribute__((ext_vector_type(16)));
typedef uint16_t u16x8 __attribute__((ext_vector_type(8)));
typedef uint16_t u16x16 __attribute__((ext_vector_type(16)));
typedef int32_t i32x4 __attribute__((ext_vector_type(4)));
typedef int32_t i32x8 __attribute__((ext_vector_type(8)));
typedef int32_t i32x16 __attribute__((ext_vector_type(16)));
typedef uint32_t u32x2 __attribute__((ext_vector_type(2)));
typedef uint32_t u32x4 __attribute__((ext_vector_type(4)));
typedef uint32_t u32x8 __attribute__((ext_vector_type(8)));
typedef uint32_t u32x16 __attribute__((ext_vector_type(16)));
typedef float f32x4 __attribute__((ext_vector_type(4)));
typedef float f32x8 __attribute__((ext_vector_type(8)));

#define DR_UNALIGNED(T) typedef T T##_u __attribute__((aligned(1), may_alias))
DR_UNALIGNED(u8x16);
DR_UNALIGNED(u8x32);
DR_UNALIGNED(i16x16);
DR_UNALIGNED(u16x8);
DR_UNALIGNED(u16x16);
DR_UNALIGNED(u32x8);
DR_UNALIGNED(f32x4);
DR_UNALIGNED(f32x8);
typedef uint16_t u16_u __attribute__((aligned(1), may_alias));
typedef uint32_t u32_u __attribute__((aligned(1), may_alias));

#define DR_LOAD(T, p) (*(const T##_u *)(const void *)(p))
#define DR_STORE(T, p, v) (*(T##_u *)(void *)(p) = (v))

#define DR_CAT2(a, b) a##b
#define DR_CAT(a, b) DR_CAT2(a, b)
#define DR(name) DR_CAT(DR_PREFIX, name)

// 256-bit vector helpers in the SSE2 copy are static always_inline: no ABI crosses a call.
#pragma clang diagnostic ignored "-Wpsabi"

// Floats: `a + b * c` stays a multiply and an add, as in the Swift scalar reference (no FMA).
#pragma clang fp contract(off)

// ---- baseline x86-64 (SSE2)
#define DR_PREFIX darkroom_sse2_
#define DR_LEVEL 0
#include "kernels_body.h"
#undef DR_PREFIX
#undef DR_LEVEL

// ---- AVX2 + FMA (Haswell and later)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define DR_PREFIX darkroom_avx2_
#define DR_LEVEL 1
#include "kernels_body.h"
#undef DR_PREFIX
#undef DR_LEVEL
#pragma clang attribute pop

// ---- AVX2 + AVX-VNNI (Alder Lake, Sapphire Rapids and later; VEX vpdpwssd, no AVX-512)
#pragma clang attribute push(__attribute__((target("avx2,fma,avxvnni"))), apply_to = function)
#define DR_PREFIX darkroom_avxvnni_
#define DR_LEVEL 2
#include "kernels_body.h"
#undef DR_PREFIX
#undef DR_LEVEL
#pragma clang attribute pop

// (A NEON level would be a `#elif defined(__aarch64__)` block including the same body.)
#endif
