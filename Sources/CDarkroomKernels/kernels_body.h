// The resampling kernels, written once. Included by kernels.c once per CPU level with DR_PREFIX
// (the name prefix) and DR_LEVEL (0 SSE2, 1 AVX2, 2 AVX2 + AVX-VNNI) defined, inside a
// `#pragma clang attribute push(target(...))` region; no include guard on purpose.
//
// Port of the former Swift SIMD kernels, arithmetic for arithmetic: the readable definition of
// every kernel is its scalar twin in Sources/Darkroom/Resample/ScalarKernels.swift and the output
// must be bit-identical. Integer maths wraps (unsigned lanes; signed only for the arithmetic shift),
// floats use `a + b * c` with contraction off. Every helper is static always_inline, so each
// entry point calls nothing outside this object (checked by .ci/check-kernels.sh).

#define DR_INLINE static inline __attribute__((always_inline))

// MARK: - helpers

/// Pairwise multiply-add of Int16 lanes: lane i = x[2i]·c[2i] + x[2i+1]·c[2i+1] (wrapping): `pmaddwd`.
DR_INLINE u32x8 DR(madd)(i16x16 x, i16x16 c) {
#if DR_LEVEL == 0
    __m128i lo = _mm_madd_epi16((__m128i)x.lo, (__m128i)c.lo);
    __m128i hi = _mm_madd_epi16((__m128i)x.hi, (__m128i)c.hi);
    return __builtin_shufflevector((u32x4)lo, (u32x4)hi, 0, 1, 2, 3, 4, 5, 6, 7);
#else
    return (u32x8)_mm256_madd_epi16((__m256i)x, (__m256i)c);
#endif
}

/// acc + madd(x, c), wrapping: one `vpdpwssd` with AVX-VNNI.
DR_INLINE u32x8 DR(maddAcc)(u32x8 acc, i16x16 x, i16x16 c) {
#if DR_LEVEL == 2
    return (u32x8)_mm256_dpwssd_avx_epi32((__m256i)acc, (__m256i)x, (__m256i)c);
#else
    return acc + DR(madd)(x, c);
#endif
}

DR_INLINE i16x16 DR(widen16)(u8x16 v) { return __builtin_convertvector(v, i16x16); }

DR_INLINE u8x16 DR(load16)(const uint8_t *p) { return DR_LOAD(u8x16, p); }

DR_INLINE i16x16 DR(loadI16)(const uint8_t *p) { return DR_LOAD(i16x16, p); }

/// Two rows' Int16 weights held in one Int32, broadcast to all 8 pairs.
DR_INLINE i16x16 DR(broadcastPair)(int32_t w) { return (i16x16)(i32x8)w; }

DR_INLINE u32x16 DR(join8)(u32x8 a, u32x8 b) {
    return __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

/// (v >> shift) (arithmetic) clamped to 0...255 and narrowed to bytes.
DR_INLINE u8x16 DR(shiftClampNarrow)(u32x16 v, int shift) {
    i32x16 c = (i32x16)v >> shift;
    c = __builtin_elementwise_max(c, (i32x16)0);
    c = __builtin_elementwise_min(c, (i32x16)255);
    return __builtin_convertvector(c, u8x16);
}

/// min(max(v, 0), 65535) per lane, as the Swift selects (x < 0 ? 0 : x, then x > 65535 ? 65535 : x).
DR_INLINE f32x4 DR(clamp65535)(f32x4 v) {
    i32x4 neg = v < 0;
    f32x4 x = (f32x4)((i32x4)v & ~neg);
    i32x4 over = x > 65535;
    return (f32x4)(((i32x4)x & ~over) | ((i32x4)(f32x4)65535 & over));
}

static inline uint32_t DR(rowFactor)(int32_t shift) { return 1u << ((uint32_t)(shift - 1) & 31); }

// MARK: - 8-bit vertical pass (layout independent: every byte of a row is one sample)

/// 32 bytes of row a and of row b interleaved byte by byte into 64 bytes at `d`.
DR_INLINE void DR(storeInterleaved)(u8x32 a, u8x32 b, uint8_t *d) {
    u8x32 lo = __builtin_shufflevector(a, b, 0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 8, 40, 9, 41,
                                       10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47);
    u8x32 hi = __builtin_shufflevector(a, b, 16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55, 24,
                                       56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63);
    DR_STORE(u8x32, d, lo);
    DR_STORE(u8x32, d + 32, hi);
}

/// Rows a and b interleaved byte by byte (a[i] at 2i, b[i] at 2i + 1): the layout the vertical
/// kernel reads. `count` bytes of each row; `dst` gets 2·count bytes.
void DR(interleaveRowsU8)(const uint8_t *a, const uint8_t *b, uint8_t *dst, ptrdiff_t count) {
    ptrdiff_t x = 0;
    while (x + 32 <= count) {
        DR(storeInterleaved)(DR_LOAD(u8x32, a + x), DR_LOAD(u8x32, b + x), dst + 2 * x);
        x += 32;
    }
    while (x < count) {
        dst[2 * x] = a[x];
        dst[2 * x + 1] = b[x];
        x += 1;
    }
}

/// 4 RGBA pixels (16 bytes) as `pairPixelsU8` lays them out: R0 R1 G0 G1 B0 B1 A0 A1 R2 R3 … as Int16.
DR_INLINE i16x16 DR(pairedRGBA)(u8x16 v) {
    return DR(widen16)(__builtin_shufflevector(v, v, 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15));
}

/// Stores 16 output columns at column x: bytes at out + x, or with `paired` (RGBA rows) already
/// rewritten for the horizontal kernel, 32 bytes at out + 2x.
DR_INLINE void DR(storeColumns)(u8x16 v, uint8_t *out, ptrdiff_t x, bool paired) {
    if (paired) {
        DR_STORE(i16x16, out + 2 * x, DR(pairedRGBA)(v));
    } else {
        DR_STORE(u8x16, out + x, v);
    }
}

/// The last, partial block of a row: `n` < 16 columns (`paired`: the whole block).
DR_INLINE void DR(storeLastColumns)(u8x16 v, uint8_t *out, ptrdiff_t x, ptrdiff_t n, bool paired) {
    if (paired) {
        DR(storeColumns)(v, out, x, true);
    } else {
        for (ptrdiff_t i = 0; i < n; i++) out[x + i] = v[i];
    }
}

/// The 8-bit vertical pass over pair-interleaved rows (see `interleaveRowsU8`):
/// out[x] = clamp((2^(shift-1) + Σ_k lo(coeffs[k])·pairs[k][2x] + hi(coeffs[k])·pairs[k][2x+1]) >> shift, 0, 255).
/// Pair buffers must be readable 64 bytes past 2·count. With `paired` (RGBA rows) the row is stored
/// as `pairPixelsU8` would rewrite it (2·count bytes, rounded up to 16 columns).
void DR(verticalPairsU8)(const uint8_t *const *pairs, const int32_t *coeffs, ptrdiff_t pairCount, ptrdiff_t shift,
                         uint8_t *out, ptrdiff_t count, bool paired) {
    const u32x8 round = (u32x8)DR(rowFactor)((int32_t)shift);
    const int sh = (int)((uint32_t)shift & 31);
    ptrdiff_t x = 0;
    while (x + 64 <= count) {
        u32x8 a0 = round, a1 = round, a2 = round, a3 = round, a4 = round, a5 = round, a6 = round, a7 = round;
        for (ptrdiff_t k = 0; k < pairCount; k++) {
            i16x16 c = DR(broadcastPair)(coeffs[k]);
            const uint8_t *p = pairs[k] + 2 * x;
            a0 = DR(maddAcc)(a0, DR(widen16)(DR(load16)(p)), c);
            a1 = DR(maddAcc)(a1, DR(widen16)(DR(load16)(p + 16)), c);
            a2 = DR(maddAcc)(a2, DR(widen16)(DR(load16)(p + 32)), c);
            a3 = DR(maddAcc)(a3, DR(widen16)(DR(load16)(p + 48)), c);
            a4 = DR(maddAcc)(a4, DR(widen16)(DR(load16)(p + 64)), c);
            a5 = DR(maddAcc)(a5, DR(widen16)(DR(load16)(p + 80)), c);
            a6 = DR(maddAcc)(a6, DR(widen16)(DR(load16)(p + 96)), c);
            a7 = DR(maddAcc)(a7, DR(widen16)(DR(load16)(p + 112)), c);
        }
        DR(storeColumns)(DR(shiftClampNarrow)(DR(join8)(a0, a1), sh), out, x, paired);
        DR(storeColumns)(DR(shiftClampNarrow)(DR(join8)(a2, a3), sh), out, x + 16, paired);
        DR(storeColumns)(DR(shiftClampNarrow)(DR(join8)(a4, a5), sh), out, x + 32, paired);
        DR(storeColumns)(DR(shiftClampNarrow)(DR(join8)(a6, a7), sh), out, x + 48, paired);
        x += 64;
    }
    while (x < count) {  // 16 columns at a time; the last block may read padding and stores only what is left
        u32x8 a0 = round, a1 = round;
        for (ptrdiff_t k = 0; k < pairCount; k++) {
            i16x16 c = DR(broadcastPair)(coeffs[k]);
            const uint8_t *p = pairs[k] + 2 * x;
            a0 = DR(maddAcc)(a0, DR(widen16)(DR(load16)(p)), c);
            a1 = DR(maddAcc)(a1, DR(widen16)(DR(load16)(p + 16)), c);
        }
        u8x16 v = DR(shiftClampNarrow)(DR(join8)(a0, a1), sh);
        if (x + 16 <= count) {
            DR(storeColumns)(v, out, x, paired);
        } else {
            DR(storeLastColumns)(v, out, x, count - x, paired);
        }
        x += 16;
    }
}

/// Stores the 48 columns x ..< x + 48 (three blocks of 16) of one output row, or only those below `count`.
DR_INLINE void DR(storeBlock48)(u8x16 v0, u8x16 v1, u8x16 v2, uint8_t *out, ptrdiff_t x, ptrdiff_t count,
                                bool paired) {
    if (x + 48 <= count) {
        DR(storeColumns)(v0, out, x, paired);
        DR(storeColumns)(v1, out, x + 16, paired);
        DR(storeColumns)(v2, out, x + 32, paired);
        return;
    }
    u8x16 vs[3] = {v0, v1, v2};
    for (int b = 0; b < 3; b++) {
        ptrdiff_t at = x + 16 * b, n = count - at;
        if (n >= 16) {
            DR(storeColumns)(vs[b], out, at, paired);
        } else if (n > 0) {
            DR(storeLastColumns)(vs[b], out, at, n, paired);
        }
    }
}

/// `verticalPairsU8` for two output rows at once over the same pairs (each pair widened once and
/// multiplied with both rows' weights); pair buffers must be readable 96 bytes past 2·count. Pairs
/// 0..<bothFrom belong to row 0 only, bothFrom..<bothTo to both, bothTo..<pairCount to row 1 only;
/// `coeffs0`/`coeffs1` are indexed by pair. `prefetch`/`prefetchBytes`: memory to hint into cache
/// meanwhile (no effect on the result).
void DR(verticalPairs2U8)(const uint8_t *const *pairs, const int32_t *coeffs0, const int32_t *coeffs1,
                          ptrdiff_t pairCount, ptrdiff_t bothFrom, ptrdiff_t bothTo, ptrdiff_t shift, uint8_t *out0,
                          uint8_t *out1, ptrdiff_t count, bool paired, const void *prefetch,
                          ptrdiff_t prefetchBytes) {
    const u32x8 round = (u32x8)DR(rowFactor)((int32_t)shift);
    const int sh = (int)((uint32_t)shift & 31);
    // Prefetch hints for the source rows the next call will need, spread over the column blocks.
    const char *hintBase = (const char *)prefetch;
    const ptrdiff_t blocks = (count + 47) / 48 + 1;
    const ptrdiff_t lines = prefetchBytes / 64;
    const ptrdiff_t perBlock = hintBase == 0 ? 0 : (lines + blocks - 1) / blocks;
    ptrdiff_t line = 0;
    ptrdiff_t x = 0;
    // 48 columns at a time: 12 accumulators keep 12 independent multiply-add chains in flight.
    while (x < count) {
        if (hintBase) {
            for (ptrdiff_t n = perBlock; n > 0 && line < lines; n--, line++) __builtin_prefetch(hintBase + line * 64, 0, 2);
        }
        u32x8 a0 = round, a1 = round, a2 = round, a3 = round, a4 = round, a5 = round;
        u32x8 b0 = round, b1 = round, b2 = round, b3 = round, b4 = round, b5 = round;
        ptrdiff_t k = 0;
        for (; k < bothFrom; k++) {  // pairs in row 0's window only
            i16x16 c = DR(broadcastPair)(coeffs0[k]);
            const uint8_t *p = pairs[k] + 2 * x;
            a0 = DR(maddAcc)(a0, DR(widen16)(DR(load16)(p)), c);
            a1 = DR(maddAcc)(a1, DR(widen16)(DR(load16)(p + 16)), c);
            a2 = DR(maddAcc)(a2, DR(widen16)(DR(load16)(p + 32)), c);
            a3 = DR(maddAcc)(a3, DR(widen16)(DR(load16)(p + 48)), c);
            a4 = DR(maddAcc)(a4, DR(widen16)(DR(load16)(p + 64)), c);
            a5 = DR(maddAcc)(a5, DR(widen16)(DR(load16)(p + 80)), c);
        }
        for (; k < bothTo; k++) {  // pairs in both windows: widened once, used twice
            i16x16 c = DR(broadcastPair)(coeffs0[k]);
            i16x16 d = DR(broadcastPair)(coeffs1[k]);
            const uint8_t *p = pairs[k] + 2 * x;
            i16x16 v0 = DR(widen16)(DR(load16)(p)), v1 = DR(widen16)(DR(load16)(p + 16));
            a0 = DR(maddAcc)(a0, v0, c); b0 = DR(maddAcc)(b0, v0, d);
            a1 = DR(maddAcc)(a1, v1, c); b1 = DR(maddAcc)(b1, v1, d);
            i16x16 v2 = DR(widen16)(DR(load16)(p + 32)), v3 = DR(widen16)(DR(load16)(p + 48));
            a2 = DR(maddAcc)(a2, v2, c); b2 = DR(maddAcc)(b2, v2, d);
            a3 = DR(maddAcc)(a3, v3, c); b3 = DR(maddAcc)(b3, v3, d);
            i16x16 v4 = DR(widen16)(DR(load16)(p + 64)), v5 = DR(widen16)(DR(load16)(p + 80));
            a4 = DR(maddAcc)(a4, v4, c); b4 = DR(maddAcc)(b4, v4, d);
            a5 = DR(maddAcc)(a5, v5, c); b5 = DR(maddAcc)(b5, v5, d);
        }
        for (; k < pairCount; k++) {  // pairs in row 1's window only
            i16x16 d = DR(broadcastPair)(coeffs1[k]);
            const uint8_t *p = pairs[k] + 2 * x;
            b0 = DR(maddAcc)(b0, DR(widen16)(DR(load16)(p)), d);
            b1 = DR(maddAcc)(b1, DR(widen16)(DR(load16)(p + 16)), d);
            b2 = DR(maddAcc)(b2, DR(widen16)(DR(load16)(p + 32)), d);
            b3 = DR(maddAcc)(b3, DR(widen16)(DR(load16)(p + 48)), d);
            b4 = DR(maddAcc)(b4, DR(widen16)(DR(load16)(p + 64)), d);
            b5 = DR(maddAcc)(b5, DR(widen16)(DR(load16)(p + 80)), d);
        }
        DR(storeBlock48)(DR(shiftClampNarrow)(DR(join8)(a0, a1), sh), DR(shiftClampNarrow)(DR(join8)(a2, a3), sh),
                         DR(shiftClampNarrow)(DR(join8)(a4, a5), sh), out0, x, count, paired);
        DR(storeBlock48)(DR(shiftClampNarrow)(DR(join8)(b0, b1), sh), DR(shiftClampNarrow)(DR(join8)(b2, b3), sh),
                         DR(shiftClampNarrow)(DR(join8)(b4, b5), sh), out1, x, count, paired);
        x += 48;
    }
}

// MARK: - 8-bit premultiply (for the rows the vertical pass reads)

/// (t + (t >> 8)) >> 8 per lane, computed as (t · 257) >> 16 (equal for every t < 2^16): `pmulhuw`.
DR_INLINE u16x16 DR(divide255Rounded)(u16x16 t) {
    return __builtin_convertvector((__builtin_convertvector(t, u32x16) * 257) >> 16, u16x16);
}

/// 8 RGBA pixels premultiplied, c' = (t + (t >> 8)) >> 8 with t = c·a + 128, as two vectors of
/// 16-bit lanes: (R, B) and (G, A) per pixel. Alpha goes through the same formula with factor 255.
DR_INLINE void DR(premultipliedRGBAHalves)(u32x8 px, u16x16 *rb, u16x16 *ga) {
    u32x8 a32 = px >> 24;
    u16x16 a = (u16x16)(a32 | (a32 << 16));
    u16x16 a255 = (u16x16)(a32 | (u32x8)(255u << 16));
    u16x16 v = (u16x16)px;
    *rb = DR(divide255Rounded)((v & 0x00FF) * a + 128);
    *ga = DR(divide255Rounded)((v >> 8) * a255 + 128);
}

/// Interleaves the 16-bit lanes of l and h (l0 h0 l1 h1 …) into 64 bytes at `d`.
DR_INLINE void DR(storeInterleaved16)(u16x16 l, u16x16 h, uint8_t *d) {
    u16x16 lo = __builtin_shufflevector(l, h, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    u16x16 hi = __builtin_shufflevector(l, h, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    DR_STORE(u16x16, d, lo);
    DR_STORE(u16x16, d + 32, hi);
}

/// One pixel premultiplied, scalar (row tails).
DR_INLINE void DR(premultiplyPixel)(const uint8_t *src, uint8_t *dst, ptrdiff_t channels) {
    uint32_t a = src[channels - 1];
    for (ptrdiff_t c = 0; c < channels - 1; c++) {
        uint32_t t = (uint32_t)src[c] * a + 128;
        dst[c] = (uint8_t)((t + (t >> 8)) >> 8);
    }
    dst[channels - 1] = (uint8_t)a;
}

/// Rows a and b premultiplied (2 or 4 channels, as `ScalarKernels.premultiplyU8`) and interleaved
/// as by `interleaveRowsU8`, in one pass: `dst` gets 2 · pixels · channels bytes.
void DR(premultiplyInterleaveRowsU8)(const uint8_t *a, const uint8_t *b, uint8_t *dst, ptrdiff_t pixels,
                                     ptrdiff_t channels) {
    ptrdiff_t i = 0;
    if (channels == 4) {
        while (i + 8 <= pixels) {
            u16x16 la, ha, lb, hb;
            DR(premultipliedRGBAHalves)(DR_LOAD(u32x8, a + i * 4), &la, &ha);
            DR(premultipliedRGBAHalves)(DR_LOAD(u32x8, b + i * 4), &lb, &hb);
            DR(storeInterleaved16)(la | (lb << 8), ha | (hb << 8), dst + i * 8);
            i += 8;
        }
    } else {
        while (i + 16 <= pixels) {
            u16x16 va = DR_LOAD(u16x16, a + i * 2);
            u16x16 vb = DR_LOAD(u16x16, b + i * 2);
            u16x16 ga = DR(divide255Rounded)((va & 0x00FF) * (va >> 8) + 128);
            u16x16 gb = DR(divide255Rounded)((vb & 0x00FF) * (vb >> 8) + 128);
            DR(storeInterleaved16)(ga | (gb << 8), (va >> 8) | (vb & 0xFF00), dst + i * 4);
            i += 16;
        }
    }
    while (i < pixels) {
        uint8_t ta[4], tb[4];
        DR(premultiplyPixel)(a + i * channels, ta, channels);
        DR(premultiplyPixel)(b + i * channels, tb, channels);
        for (ptrdiff_t c = 0; c < channels; c++) {
            dst[2 * (i * channels + c)] = ta[c];
            dst[2 * (i * channels + c) + 1] = tb[c];
        }
        i += 1;
    }
}

// MARK: - 8-bit horizontal pass

/// Rewrites one intermediate row for the horizontal kernel: pixels in pairs (2q, 2q+1) with each
/// channel's two samples adjacent, RGB padded to 4 lanes: RGBA/RGB → R0 R1 G0 G1 B0 B1 A0 A1 (X = 0),
/// gray+alpha → G0 G1 A0 A1, gray unchanged; samples widened to Int16. `dst` gets
/// `2 · lanes · pixels` bytes (lanes = 4, 4, 2, 1), rounded up to whole pairs. `src` must be
/// readable 16 bytes past its end.
void DR(pairPixelsU8)(const uint8_t *src, uint8_t *dst, ptrdiff_t pixels, ptrdiff_t channels) {
    ptrdiff_t i = 0;
    const u8x16 zero = (u8x16)0;
    switch (channels) {
    case 4:
        for (; i < pixels; i += 4) DR_STORE(i16x16, dst + i * 8, DR(pairedRGBA)(DR(load16)(src + i * 4)));
        break;
    case 3:
        for (; i < pixels; i += 4) {
            u8x16 v = DR(load16)(src + i * 3);
            DR_STORE(i16x16, dst + i * 8,
                     DR(widen16)(__builtin_shufflevector(v, zero, 0, 3, 1, 4, 2, 5, 16, 16, 6, 9, 7, 10, 8, 11, 16, 16)));
        }
        break;
    case 2:
        for (; i < pixels; i += 8) {
            u8x16 v = DR(load16)(src + i * 2);
            DR_STORE(i16x16, dst + i * 4,
                     DR(widen16)(__builtin_shufflevector(v, v, 0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15)));
        }
        break;
    default:  // plain widening copy
        for (; i < pixels; i += 16) DR_STORE(i16x16, dst + 2 * i, DR(widen16)(DR(load16)(src + i)));
        break;
    }
}

/// The 8 pair sums folded to one pixel by halving: lane c is the channel-c total for `lanes`
/// 4, 2, 1; lanes >= `lanes` are 0.
DR_INLINE u32x4 DR(fold)(u32x8 v, int lanes) {
    u32x4 q = v.lo + v.hi;
    if (lanes == 4) return q;
    u32x2 d = q.lo + q.hi;
    if (lanes == 2) return (u32x4){d[0], d[1], 0, 0};
    return (u32x4){d[0] + d[1], 0, 0, 0};
}

DR_INLINE void DR(horizontalU8Rows)(const uint8_t *src, ptrdiff_t s1, ptrdiff_t s2, ptrdiff_t s3, uint8_t *dst,
                                    ptrdiff_t dstStride, ptrdiff_t rows, ptrdiff_t dstWidth, ptrdiff_t channels,
                                    const int lanes, const int32_t *starts, const int32_t *groups,
                                    const int16_t *coeffs, ptrdiff_t coeffStride, ptrdiff_t shift) {
    const u32x16 round = (u32x16)DR(rowFactor)((int32_t)shift);
    const int sh = (int)((uint32_t)shift & 31);
    const uint8_t *rawCoeffs = (const uint8_t *)coeffs;
    for (ptrdiff_t i = 0; i < dstWidth; i++) {
        const uint8_t *p = src + (ptrdiff_t)starts[i] * lanes * 2;
        const uint8_t *c = rawCoeffs + i * coeffStride * 2;
        u32x8 a0 = (u32x8)0, a1 = a0, a2 = a0, a3 = a0;
        ptrdiff_t g = groups[i];
        if (g == 4) {  // the common case (e.g. Lanczos3 at 2-2.5x): no loop, a tree of adds per row
            i16x16 w0 = DR(loadI16)(c), w1 = DR(loadI16)(c + 32), w2 = DR(loadI16)(c + 64), w3 = DR(loadI16)(c + 96);
#define DR_ROW(q)                                                                                  \
    (DR(maddAcc)(DR(madd)(DR(loadI16)(q), w0), DR(loadI16)((q) + 32), w1) +                       \
     DR(maddAcc)(DR(madd)(DR(loadI16)((q) + 64), w2), DR(loadI16)((q) + 96), w3))
            a0 = DR_ROW(p);
            a1 = DR_ROW(p + s1);
            a2 = DR_ROW(p + s2);
            a3 = DR_ROW(p + s3);
#undef DR_ROW
            g = 0;
        }
        while (g > 0) {
            i16x16 w = DR(loadI16)(c);
            a0 = DR(maddAcc)(a0, DR(loadI16)(p), w);
            a1 = DR(maddAcc)(a1, DR(loadI16)(p + s1), w);
            a2 = DR(maddAcc)(a2, DR(loadI16)(p + s2), w);
            a3 = DR(maddAcc)(a3, DR(loadI16)(p + s3), w);
            p += 32;
            c += 32;
            g -= 1;
        }
        // Row j's pixel in lanes 4j ..< 4j + channels.
        u32x8 b01 = __builtin_shufflevector(DR(fold)(a0, lanes), DR(fold)(a1, lanes), 0, 1, 2, 3, 4, 5, 6, 7);
        u32x8 b23 = __builtin_shufflevector(DR(fold)(a2, lanes), DR(fold)(a3, lanes), 0, 1, 2, 3, 4, 5, 6, 7);
        u8x16 out = DR(shiftClampNarrow)(DR(join8)(b01, b23) + round, sh);
        u32x4 px = (u32x4)out;
        uint8_t *o = dst + i * channels;
        // Row j's pixel is px[j]; rows are stored with constant lane indices (a loop over j would
        // index the vector through the stack).
#define DR_PUT(j)                                                                                  \
    do {                                                                                           \
        uint8_t *oj = o + (j) * dstStride;                                                         \
        uint32_t v = px[j];                                                                        \
        switch (channels) {                                                                        \
        case 4: DR_STORE(u32, oj, v); break;                                                       \
        case 3:                                                                                    \
            if (i + 1 < dstWidth) { /* 4-byte store; the spare byte is overwritten by pixel i + 1 */ \
                DR_STORE(u32, oj, v);                                                              \
            } else {                                                                               \
                DR_STORE(u16, oj, (uint16_t)v);                                                    \
                oj[2] = (uint8_t)(v >> 16);                                                        \
            }                                                                                      \
            break;                                                                                 \
        case 2: DR_STORE(u16, oj, (uint16_t)v); break;                                             \
        default: oj[0] = (uint8_t)v; break;                                                        \
        }                                                                                          \
    } while (0)
        DR_PUT(0);
        if (rows > 1) DR_PUT(1);
        if (rows > 2) DR_PUT(2);
        if (rows > 3) DR_PUT(3);
#undef DR_PUT
    }
}

/// The totals of four pixels' 8-lane pair sums, pixel k in lane k: two rounds of in-lane
/// horizontal adds (`vphaddd`'s lane order) and one add of the halves. Integer sums wrap, so any
/// order gives the scalar reference's result.
DR_INLINE u32x4 DR(sum4)(u32x8 a0, u32x8 a1, u32x8 a2, u32x8 a3) {
    u32x8 h01 = __builtin_shufflevector(a0, a1, 0, 2, 8, 10, 4, 6, 12, 14) +
                __builtin_shufflevector(a0, a1, 1, 3, 9, 11, 5, 7, 13, 15);
    u32x8 h23 = __builtin_shufflevector(a2, a3, 0, 2, 8, 10, 4, 6, 12, 14) +
                __builtin_shufflevector(a2, a3, 1, 3, 9, 11, 5, 7, 13, 15);
    u32x8 h = __builtin_shufflevector(h01, h23, 0, 2, 8, 10, 4, 6, 12, 14) +
              __builtin_shufflevector(h01, h23, 1, 3, 9, 11, 5, 7, 13, 15);
    return h.lo + h.hi;
}

/// One pixel's taps on one row: `g` groups of 16 taps from `p`, weights from `c`.
DR_INLINE u32x8 DR(taps1)(const uint8_t *p, const uint8_t *c, ptrdiff_t g) {
    u32x8 a = (u32x8)0;
    for (ptrdiff_t k = 0; k < g; k++) a = DR(maddAcc)(a, DR(loadI16)(p + 32 * k), DR(loadI16)(c + 32 * k));
    return a;
}

/// The one-channel horizontal pass (gray, and each JPEG plane of the planar route), four output
/// pixels of four rows at a time: each pixel's taps are summed per row by `pmaddwd` as in
/// `horizontalU8Rows`, but the four pixels' sums of a row are folded together (`sum4`) and the
/// 16 results narrowed at once, one 4-byte store per row, instead of a fold, a narrow and a
/// byte store per pixel. Returns the pixels done (a multiple of 4); the caller finishes the rest.
DR_INLINE ptrdiff_t DR(horizontalU8Gray4)(const uint8_t *src, ptrdiff_t s1, ptrdiff_t s2, ptrdiff_t s3, uint8_t *dst,
                                        ptrdiff_t dstStride, ptrdiff_t rows, ptrdiff_t dstWidth,
                                        const int32_t *starts, const int32_t *groups, const int16_t *coeffs,
                                        ptrdiff_t coeffStride, ptrdiff_t shift) {
    const u32x16 round = (u32x16)DR(rowFactor)((int32_t)shift);
    const int sh = (int)((uint32_t)shift & 31);
    const uint8_t *rawCoeffs = (const uint8_t *)coeffs;
    const ptrdiff_t rowOffset[4] = {0, s1, s2, s3};
    ptrdiff_t i = 0;
    for (; i + 4 <= dstWidth; i += 4) {
        const uint8_t *p0 = src + (ptrdiff_t)starts[i] * 2, *p1 = src + (ptrdiff_t)starts[i + 1] * 2;
        const uint8_t *p2 = src + (ptrdiff_t)starts[i + 2] * 2, *p3 = src + (ptrdiff_t)starts[i + 3] * 2;
        const uint8_t *c0 = rawCoeffs + i * coeffStride * 2, *c1 = c0 + coeffStride * 2;
        const uint8_t *c2 = c1 + coeffStride * 2, *c3 = c2 + coeffStride * 2;
        u32x4 r[4];
        if (groups[i] == 1 && groups[i + 1] == 1 && groups[i + 2] == 1 && groups[i + 3] == 1) {
            // The common case (up to 16 taps: Lanczos3 down to about 2.5x): weights loaded once.
            i16x16 w0 = DR(loadI16)(c0), w1 = DR(loadI16)(c1), w2 = DR(loadI16)(c2), w3 = DR(loadI16)(c3);
            for (int j = 0; j < 4; j++) {
                ptrdiff_t o = rowOffset[j];
                r[j] = DR(sum4)(DR(madd)(DR(loadI16)(p0 + o), w0), DR(madd)(DR(loadI16)(p1 + o), w1),
                                DR(madd)(DR(loadI16)(p2 + o), w2), DR(madd)(DR(loadI16)(p3 + o), w3));
            }
        } else {
            for (int j = 0; j < 4; j++) {
                ptrdiff_t o = rowOffset[j];
                r[j] = DR(sum4)(DR(taps1)(p0 + o, c0, groups[i]), DR(taps1)(p1 + o, c1, groups[i + 1]),
                                DR(taps1)(p2 + o, c2, groups[i + 2]), DR(taps1)(p3 + o, c3, groups[i + 3]));
            }
        }
        u32x16 all = __builtin_shufflevector(__builtin_shufflevector(r[0], r[1], 0, 1, 2, 3, 4, 5, 6, 7),
                                             __builtin_shufflevector(r[2], r[3], 0, 1, 2, 3, 4, 5, 6, 7), 0, 1, 2,
                                             3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        u32x4 px = (u32x4)DR(shiftClampNarrow)(all + round, sh);
        // Row j's four pixels are px[j]; constant lane indices (a loop would go through the stack).
        DR_STORE(u32, dst + i, px[0]);
        if (rows > 1) DR_STORE(u32, dst + dstStride + i, px[1]);
        if (rows > 2) DR_STORE(u32, dst + 2 * dstStride + i, px[2]);
        if (rows > 3) DR_STORE(u32, dst + 3 * dstStride + i, px[3]);
    }
    return i;
}

/// Horizontal pass over up to 4 rows at once (`rows` 1...4; row j at `src + j * srcStride`, output at
/// `dst + j * dstStride`) of rows prepared by `pairPixelsU8`. Per output pixel i, `groups[i]`
/// 16-lane Int16 coefficient vectors at `coeffs + i * coeffStride` cover 16 / lanes taps each, from
/// the pair-aligned source pixel `starts[i]`; each is one `pmaddwd` per row. Source rows must be
/// readable 64 bytes past their end (zero weights cover the overrun). Premultiplied output is
/// unpremultiplied afterwards by `unpremultiplyU8`.
void DR(horizontalU8)(const uint8_t *src, ptrdiff_t srcStride, uint8_t *dst, ptrdiff_t dstStride, ptrdiff_t rows,
                      ptrdiff_t dstWidth, ptrdiff_t channels, const int32_t *starts, const int32_t *groups,
                      const int16_t *coeffs, ptrdiff_t coeffStride, ptrdiff_t shift) {
    // Missing rows (rows < 4) re-read row 0 and are not stored.
    ptrdiff_t s1 = rows > 1 ? srcStride : 0, s2 = rows > 2 ? 2 * srcStride : 0, s3 = rows > 3 ? 3 * srcStride : 0;
    switch (channels) {
    case 3:
    case 4:
        DR(horizontalU8Rows)(src, s1, s2, s3, dst, dstStride, rows, dstWidth, channels, 4, starts, groups, coeffs,
                             coeffStride, shift);
        break;
    case 2:
        DR(horizontalU8Rows)(src, s1, s2, s3, dst, dstStride, rows, dstWidth, 2, 2, starts, groups, coeffs,
                             coeffStride, shift);
        break;
    default: {
        ptrdiff_t done = DR(horizontalU8Gray4)(src, s1, s2, s3, dst, dstStride, rows, dstWidth, starts, groups,
                                               coeffs, coeffStride, shift);
        if (done < dstWidth)
            DR(horizontalU8Rows)(src, s1, s2, s3, dst + done, dstStride, rows, dstWidth - done, 1, 1, starts + done,
                                 groups + done, coeffs + done * coeffStride, coeffStride, shift);
        break;
    }
    }
}

/// min(v, 255) per lane for v < 2^31: the sign of 255 - v selects 255.
DR_INLINE u32x8 DR(min255)(u32x8 v) {
    u32x8 over = (u32x8)0 - (((u32x8)255 - v) >> 31);  // all ones where v > 255
    return (v & ~over) | (over & 255);
}

/// Unpremultiplies a row of 8-bit RGBA or gray+alpha pixels in place:
/// colour = min(255, (c · recip[a]) >> 16), recip[a] = ceil(255·2^16/a), recip[0] = 2^16 (identity).
/// Blocks of 8 pixels whose alphas are all 0 or 255 are left as they are.
void DR(unpremultiplyU8)(uint8_t *row, ptrdiff_t pixels, ptrdiff_t channels, const uint32_t *recip) {
    ptrdiff_t i = 0;
    if (channels == 4) {
        while (i + 8 <= pixels) {
            u32x8 px = DR_LOAD(u32x8, row + i * 4);
            u32x8 a = px >> 24;
            u32x8 t = (a + 1) & 0xFE;  // 0 exactly when a is 0 or 255: nothing to do
            u32x4 t4 = t.lo | t.hi;
            u32x2 t2 = t4.lo | t4.hi;
            if ((t2[0] | t2[1]) != 0) {
                u32x8 r;
                for (int l = 0; l < 8; l++) r[l] = recip[a[l]];
                u32x8 c0 = DR(min255)(((px & 0xFF) * r) >> 16);
                u32x8 c1 = DR(min255)((((px >> 8) & 0xFF) * r) >> 16);
                u32x8 c2 = DR(min255)((((px >> 16) & 0xFF) * r) >> 16);
                u32x8 out = c0 | (c1 << 8) | (c2 << 16) | (px & 0xFF000000u);
                DR_STORE(u32x8, row + i * 4, out);
            }
            i += 8;
        }
    } else if (channels == 2) {
        while (i + 8 <= pixels) {
            u16x8 v = DR_LOAD(u16x8, row + i * 2);
            u32x8 px = __builtin_convertvector(v, u32x8);
            u32x8 a = px >> 8;
            u32x8 t = (a + 1) & 0xFE;
            u32x4 t4 = t.lo | t.hi;
            u32x2 t2 = t4.lo | t4.hi;
            if ((t2[0] | t2[1]) != 0) {
                u32x8 r;
                for (int l = 0; l < 8; l++) r[l] = recip[a[l]];
                u32x8 out = DR(min255)(((px & 0xFF) * r) >> 16) | (a << 8);
                DR_STORE(u16x8, row + i * 2, __builtin_convertvector(out, u16x8));
            }
            i += 8;
        }
    }
    while (i < pixels) {
        ptrdiff_t base = i * channels;
        uint32_t r = recip[row[base + channels - 1]];
        for (ptrdiff_t c = 0; c < channels - 1; c++) {
            uint32_t v = ((uint32_t)row[base + c] * r) >> 16;
            row[base + c] = (uint8_t)(v < 255 ? v : 255);
        }
        i += 1;
    }
}

// MARK: - 16-bit path (Float32 coefficients, Float intermediate)

/// 16-bit samples to Float; with `premultiply` (2 or 4 channels) colour becomes
/// Float(c) · (Float(a) · (1/65535)) and alpha stays Float(a).
void DR(loadU16)(const uint16_t *src, float *dst, ptrdiff_t pixels, ptrdiff_t channels, bool premultiply) {
    const ptrdiff_t n = pixels * channels;
    const float inv = 1.0f / 65535.0f;
    const f32x8 ones = (f32x8)1.0f;
    ptrdiff_t i = 0;
#define DR_CONVERT(at) __builtin_convertvector(DR_LOAD(u16x8, src + (at)), f32x8)
    if (premultiply && channels == 4) {
        for (; i + 8 <= n; i += 8) {
            f32x8 f = DR_CONVERT(i);
            f32x8 al = __builtin_shufflevector(f, f, 3, 3, 3, 3, 7, 7, 7, 7) * inv;
            f32x8 m = __builtin_shufflevector(al, ones, 0, 1, 2, 11, 4, 5, 6, 15);
            DR_STORE(f32x8, dst + i, f * m);
        }
    } else if (premultiply && channels == 2) {
        for (; i + 8 <= n; i += 8) {
            f32x8 f = DR_CONVERT(i);
            f32x8 al = __builtin_shufflevector(f, f, 1, 1, 3, 3, 5, 5, 7, 7) * inv;
            f32x8 m = __builtin_shufflevector(al, ones, 0, 9, 2, 11, 4, 13, 6, 15);
            DR_STORE(f32x8, dst + i, f * m);
        }
    } else if (!premultiply) {
        for (; i + 8 <= n; i += 8) DR_STORE(f32x8, dst + i, DR_CONVERT(i));
    }
#undef DR_CONVERT
    for (; i < n; i++) {  // whole pixels remain (8 is a multiple of 2 and 4)
        ptrdiff_t c = i % channels;
        float v = (float)src[i];
        if (premultiply && c < channels - 1) {
            dst[i] = v * ((float)src[i - c + channels - 1] * inv);
        } else {
            dst[i] = v;
        }
    }
}

/// out[x] = Σ_k coeffs[k] * rows[k][x], accumulated from 0 in tap order (acc = acc + c * v).
void DR(verticalF32)(const float *const *rows, const float *coeffs, ptrdiff_t taps, float *out, ptrdiff_t count) {
    ptrdiff_t x = 0;
    for (; x + 32 <= count; x += 32) {
        f32x8 a0 = (f32x8)0.0f, a1 = a0, a2 = a0, a3 = a0;
        for (ptrdiff_t k = 0; k < taps; k++) {
            f32x8 c = (f32x8)coeffs[k];
            const float *p = rows[k] + x;
            a0 = a0 + c * DR_LOAD(f32x8, p);
            a1 = a1 + c * DR_LOAD(f32x8, p + 8);
            a2 = a2 + c * DR_LOAD(f32x8, p + 16);
            a3 = a3 + c * DR_LOAD(f32x8, p + 24);
        }
        DR_STORE(f32x8, out + x, a0);
        DR_STORE(f32x8, out + x + 8, a1);
        DR_STORE(f32x8, out + x + 16, a2);
        DR_STORE(f32x8, out + x + 24, a3);
    }
    for (; x + 8 <= count; x += 8) {
        f32x8 a0 = (f32x8)0.0f;
        for (ptrdiff_t k = 0; k < taps; k++) a0 = a0 + (f32x8)coeffs[k] * DR_LOAD(f32x8, rows[k] + x);
        DR_STORE(f32x8, out + x, a0);
    }
    for (; x < count; x++) {
        float acc = 0;
        for (ptrdiff_t k = 0; k < taps; k++) acc = acc + coeffs[k] * rows[k][x];
        out[x] = acc;
    }
}

/// Clamp, unpremultiply, clamp, round one pixel (see `horizontalF32`).
DR_INLINE void DR(storeU16)(f32x4 sum, uint16_t *o, ptrdiff_t channels, bool unpremultiply) {
    f32x4 acc = DR(clamp65535)(sum);
    if (unpremultiply) {
        ptrdiff_t alphaLane = channels - 1;
        float a = acc[alphaLane];
        if (a >= 0.5f) {
            f32x4 f = (f32x4)(65535.0f / a);
            f[alphaLane] = 1;
            acc = DR(clamp65535)(acc * f);
        }
    }
    u32x4 bits = (u32x4)(acc + (f32x4)12582912.0f);
    for (ptrdiff_t ch = 0; ch < channels; ch++) o[ch] = (uint16_t)bits[ch];
}

/// Horizontal Float pass storing UInt16: per pixel and channel acc = Σ_k c_k · src[(start+k)·C + ch]
/// in tap order; with `unpremultiply` colour *= 65535 / A when the clamped alpha A >= 0.5; then
/// clamp to 0...65535 and round half to even (x + 1.5·2^23, low mantissa bits). `src` must be
/// readable 4 floats past its last sample. Four pixels with equal tap counts run their (unchanged)
/// accumulation chains side by side.
void DR(horizontalF32)(const float *src, uint16_t *dst, ptrdiff_t dstWidth, ptrdiff_t channels, const int32_t *starts,
                       const int32_t *counts, const float *coeffs, ptrdiff_t coeffStride, bool unpremultiply) {
    const ptrdiff_t step = channels;  // in floats
    ptrdiff_t i = 0;
    while (i < dstWidth) {
        ptrdiff_t n = counts[i];
        if (i + 3 < dstWidth && counts[i + 1] == n && counts[i + 2] == n && counts[i + 3] == n) {
            f32x4 a0 = (f32x4)0.0f, a1 = a0, a2 = a0, a3 = a0;
            const float *c0 = coeffs + i * coeffStride, *c1 = c0 + coeffStride, *c2 = c1 + coeffStride,
                        *c3 = c2 + coeffStride;
            const float *o0 = src + (ptrdiff_t)starts[i] * step, *o1 = src + (ptrdiff_t)starts[i + 1] * step;
            const float *o2 = src + (ptrdiff_t)starts[i + 2] * step, *o3 = src + (ptrdiff_t)starts[i + 3] * step;
            for (ptrdiff_t k = 0; k < n; k++) {
                a0 = a0 + (f32x4)c0[k] * DR_LOAD(f32x4, o0);
                a1 = a1 + (f32x4)c1[k] * DR_LOAD(f32x4, o1);
                a2 = a2 + (f32x4)c2[k] * DR_LOAD(f32x4, o2);
                a3 = a3 + (f32x4)c3[k] * DR_LOAD(f32x4, o3);
                o0 += step; o1 += step; o2 += step; o3 += step;
            }
            DR(storeU16)(a0, dst + i * channels, channels, unpremultiply);
            DR(storeU16)(a1, dst + (i + 1) * channels, channels, unpremultiply);
            DR(storeU16)(a2, dst + (i + 2) * channels, channels, unpremultiply);
            DR(storeU16)(a3, dst + (i + 3) * channels, channels, unpremultiply);
            i += 4;
        } else {
            f32x4 acc = (f32x4)0.0f;
            const float *c = coeffs + i * coeffStride;
            const float *o = src + (ptrdiff_t)starts[i] * step;
            for (ptrdiff_t k = 0; k < n; k++) {
                acc = acc + (f32x4)c[k] * DR_LOAD(f32x4, o);
                o += step;
            }
            DR(storeU16)(acc, dst + i * channels, channels, unpremultiply);
            i += 1;
        }
    }
}

#undef DR_INLINE
