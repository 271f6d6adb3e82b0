import CLCMS2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Colour declared by coding-independent code points (ITU-T H.273) — an AVIF's `nclx` box (or its
/// AV1 bitstream's colour description), a PNG's `cICP` chunk — converted to sRGB through lcms2.
///
/// The source profile is made with `cmsCreateRGBProfile` (`cmsCreateGrayProfile` for gray pixels)
/// from the primaries and their D65 white point, given as chromaticities as lcms2's own sRGB is,
/// and a parametric transfer curve (lcms2 adapts to its D50 connection space itself):
///
/// | transfer | curve (signal V → light L) |
/// |---|---|
/// | 1, 6, 14, 15 (BT.709, BT.601, BT.2020) | the inverse of BT.709's OETF: `L = ((V + 0.099)/1.099)^(1/0.45)`, `V/4.5` below 0.081 |
/// | 13 (sRGB), 2 (unspecified) | sRGB: `((V + 0.055)/1.055)^2.4`, `V/12.92` below 0.04045 |
/// | 4, 5 | gamma 2.2, gamma 2.8 |
/// | 7 (SMPTE 240M) | `((V + 0.1115)/1.1115)^(1/0.45)`, `V/4` below 0.0912 |
/// | 8 | linear |
/// | 16 (PQ), 18 (HLG) | high dynamic range: ``hdrToSDR(_:transfer:primaries:)`` first |
///
/// Primaries: 1 (BT.709, sRGB's), 2 (unspecified, taken as 1), 5 and 6 (BT.601 625- and 525-line),
/// 7 (SMPTE 240M, as 6), 9 (BT.2020), 12 (Display P3, SMPTE EG 432-1); all with a D65 white
/// point. Any other code point, and a PNG whose cICP declares a YCbCr matrix or narrow range, is
/// ``Conversion/unsupported(_:)``: refused, never shown in wrong colours. Primaries 1 or 2 with
/// transfer 13 or 2 are sRGB already: nothing is done.
enum CICPColour {
    /// What converting a CICP's colour to sRGB takes.
    enum Conversion: Equatable {
        /// The colour is sRGB's already (primaries 1 or 2, transfer 13 or 2).
        case none
        /// A standard-dynamic-range transfer: one lcms2 transform.
        case sdr
        /// PQ or HLG: tone-mapped to standard dynamic range, then one lcms2 transform.
        case hdr
        /// Darkroom cannot convert it; the reason names the value and what is accepted.
        case unsupported(String)
    }

    /// What converting `cicp`'s colour takes. `rgbCoded`: the samples are RGB as stored (PNG),
    /// so the matrix coefficients must be 0 (identity) and the range full; an AVIF's matrix and
    /// range are libavif's YUV → RGB conversion's, which has already run.
    static func conversion(for cicp: CICP, rgbCoded: Bool) -> Conversion {
        guard (0...1).contains(cicp.videoFullRangeFlag) else {
            return .unsupported("video full range flag \(cicp.videoFullRangeFlag) is invalid (H.273: 0 narrow range, 1 full range)")
        }
        if rgbCoded {
            guard cicp.matrix == 0 else {
                return .unsupported("matrix coefficients \(cicp.matrix) declare YCbCr samples; a PNG's cICP must declare 0 (RGB)")
            }
            guard cicp.fullRange else { return .unsupported("narrow-range (video-range) RGB is not supported; only full range is") }
        }
        guard primaries(cicp.primaries) != nil else {
            return .unsupported("colour primaries \(cicp.primaries) are not supported (accepted: \(acceptedPrimaries))")
        }
        guard let transfer = transfer(cicp.transfer) else {
            return .unsupported("transfer characteristics \(cicp.transfer) are not supported (accepted: \(acceptedTransfers))")
        }
        if isSRGB(cicp) { return .none }
        switch transfer {
        case .parametric: return .sdr
        case .pq, .hlg: return .hdr
        }
    }

    static let acceptedPrimaries = "1 BT.709/sRGB, 2 unspecified (as 1), 5 and 6 BT.601, 7 SMPTE 240M, 9 BT.2020, 12 Display P3"
    static let acceptedTransfers = "1, 6, 14 and 15 BT.709's curve; 2 unspecified and 13 sRGB; 4 gamma 2.2; 5 gamma 2.8; "
        + "7 SMPTE 240M; 8 linear; 16 PQ and 18 HLG, tone-mapped"

    /// Primaries 1 or 2 with transfer 13 or 2: the pixels are sRGB as they are.
    static func isSRGB(_ cicp: CICP) -> Bool {
        (cicp.primaries == 1 || cicp.primaries == 2) && (cicp.transfer == 13 || cicp.transfer == 2)
    }

    /// `image` (gray, gray + alpha, RGB or RGBA, 8 or 16 bits) converted from `cicp`'s colour to
    /// sRGB, in the same layout; nil when there is nothing to do (sRGB already) or the colour is not
    /// supported (``conversion(for:rgbCoded:)`` says which, before decoding).
    static func convertToSRGB(_ image: Image, cicp: CICP) -> Image? {
        guard let primaries = primaries(cicp.primaries), let transfer = transfer(cicp.transfer), !isSRGB(cicp) else { return nil }
        switch transfer {
        case let .parametric(type, parameters):
            return withProfile(primaries, curveType: type, parameters: parameters, gray: image.format.isGray) { profile in
                ColorManagement.convertToSRGB(image, source: profile)
            }
        case .pq, .hlg:
            // Tone-mapped light, sRGB-encoded in 16 bits: lcms2's 16-bit transform is then as
            // accurate in the shadows as for any SDR source.
            let sdr = hdrToSDR(image, transfer: transfer, primaries: primaries)
            let converted = withProfile(primaries, curveType: 4, parameters: Transfer.srgbCurve, gray: image.format.isGray) { profile in
                ColorManagement.convertToSRGB(sdr, source: profile)
            }
            return converted.map { image.format.bitDepth == 8 ? $0.converted(to: image.format) : $0 }
        }
    }

    // MARK: Code points

    /// Red, green, blue and white chromaticities (x, y).
    struct Primaries: Equatable {
        var red: (x: Double, y: Double), green: (x: Double, y: Double), blue: (x: Double, y: Double)
        var white: (x: Double, y: Double) = (0.3127, 0.3290)

        static func == (a: Primaries, b: Primaries) -> Bool {
            [a.red, a.green, a.blue, a.white].elementsEqual([b.red, b.green, b.blue, b.white]) { $0 == $1 }
        }

        /// The luminance (Y) of each primary at full drive, for a white of Y = 1: the row of the
        /// RGB → XYZ matrix that BT.2100's HLG OOTF weighs the channels with (BT.2020:
        /// 0.2627, 0.6780, 0.0593).
        var luminanceWeights: (r: Double, g: Double, b: Double) {
            // Columns: each primary's XYZ at Y = 1; scaled by s so that they add up to the white.
            func xyz(_ p: (x: Double, y: Double)) -> [Double] { [p.x / p.y, 1, (1 - p.x - p.y) / p.y] }
            let (r, g, b, w) = (xyz(red), xyz(green), xyz(blue), xyz(white))
            let m = [[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]]
            let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
            // Cramer's rule for m · s = w.
            func replaced(_ column: Int) -> Double {
                var c = m
                for row in 0..<3 { c[row][column] = w[row] }
                return c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1]) - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
                    + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0])
            }
            return (replaced(0) / det, replaced(1) / det, replaced(2) / det)
        }
    }

    /// The primaries of code point `code` (H.273 table 2), nil for one Darkroom does not convert.
    static func primaries(_ code: Int) -> Primaries? {
        switch code {
        case 1, 2: Primaries(red: (0.640, 0.330), green: (0.300, 0.600), blue: (0.150, 0.060))
        case 5: Primaries(red: (0.640, 0.330), green: (0.290, 0.600), blue: (0.150, 0.060))
        case 6, 7: Primaries(red: (0.630, 0.340), green: (0.310, 0.595), blue: (0.155, 0.070))
        case 9: Primaries(red: (0.708, 0.292), green: (0.170, 0.797), blue: (0.131, 0.046))
        case 12: Primaries(red: (0.680, 0.320), green: (0.265, 0.690), blue: (0.150, 0.060))
        default: nil
        }
    }

    /// A transfer characteristic (H.273 table 3) as Darkroom applies it.
    enum Transfer: Equatable {
        /// An lcms2 parametric curve: `type` 1 is `Y = X^g`; type 4 is `Y = (aX + b)^g` for `X ≥ d`,
        /// `Y = cX` below, with parameters `[g, a, b, c, d]`.
        case parametric(type: Int32, parameters: [Double])
        /// SMPTE ST 2084 (code point 16).
        case pq
        /// ARIB STD-B67 / BT.2100 hybrid log-gamma (code point 18).
        case hlg

        static let srgbCurve: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
        static let bt709Curve: [Double] = [1 / 0.45, 1 / 1.099, 0.099 / 1.099, 1 / 4.5, 0.081]
        static let smpte240Curve: [Double] = [1 / 0.45, 1 / 1.1115, 0.1115 / 1.1115, 1 / 4, 0.0912]
    }

    /// The transfer of code point `code`, nil for one Darkroom does not convert.
    static func transfer(_ code: Int) -> Transfer? {
        switch code {
        case 1, 6, 14, 15: .parametric(type: 4, parameters: Transfer.bt709Curve)
        case 2, 13: .parametric(type: 4, parameters: Transfer.srgbCurve)
        case 4: .parametric(type: 1, parameters: [2.2])
        case 5: .parametric(type: 1, parameters: [2.8])
        case 7: .parametric(type: 4, parameters: Transfer.smpte240Curve)
        case 8: .parametric(type: 1, parameters: [1])
        case 16: .pq
        case 18: .hlg
        default: nil
        }
    }

    /// Runs `body` with an lcms2 profile of `primaries` (a gray profile of their white point for
    /// `gray`) and the parametric curve `curveType` / `parameters` on every channel.
    private static func withProfile(_ primaries: Primaries, curveType: Int32, parameters: [Double], gray: Bool,
                                    _ body: (cmsHPROFILE) -> Image?) -> Image? {
        var parameters = parameters
        guard let curve = cmsBuildParametricToneCurve(nil, curveType, &parameters) else { return nil }
        defer { cmsFreeToneCurve(curve) }
        var white = cmsCIExyY(x: primaries.white.x, y: primaries.white.y, Y: 1)
        let profile: cmsHPROFILE?
        if gray {
            profile = cmsCreateGrayProfileTHR(nil, &white, curve)
        } else {
            func xyY(_ p: (x: Double, y: Double)) -> cmsCIExyY { cmsCIExyY(x: p.x, y: p.y, Y: 1) }
            var triple = cmsCIExyYTRIPLE(Red: xyY(primaries.red), Green: xyY(primaries.green), Blue: xyY(primaries.blue))
            var curves: [OpaquePointer?] = [curve, curve, curve]
            profile = cmsCreateRGBProfileTHR(nil, &white, &triple, &curves)
        }
        guard let profile else { return nil }
        defer { cmsCloseProfile(profile) }
        return body(profile)
    }

    // MARK: High dynamic range

    /// BT.2408's reference white ("HDR reference white", graphics white): 203 cd/m², which
    /// becomes SDR white (1.0).
    static let referenceWhite = 203.0
    /// The HLG display's nominal peak (BT.2100's OOTF, γ = 1.2 at 1000 cd/m²).
    static let hlgPeak = 1000.0
    /// Where the tone curve leaves the identity (a fraction of SDR white, linear light).
    static let knee = 0.8

    /// The tone curve applied to the largest of a pixel's three channels, `m`, in light relative
    /// to reference white: the identity up to ``knee``, then `k + (1 − k)(1 − e^(−(m − k)/(1 − k)))`,
    /// which meets the identity with the same slope and approaches 1 (SDR white) as `m` grows.
    /// Reference white itself becomes 0.926.
    static func shoulder(_ m: Double) -> Double {
        m <= knee ? m : knee + (1 - knee) * (1 - exp(-(m - knee) / (1 - knee)))
    }

    /// SMPTE ST 2084's EOTF: a PQ signal (0...1) to display light in cd/m² (0...10,000).
    static func pqToNits(_ signal: Double) -> Double {
        let m1 = 2610.0 / 16384, m2 = 2523.0 / 4096 * 128
        let c1 = 3424.0 / 4096, c2 = 2413.0 / 4096 * 32, c3 = 2392.0 / 4096 * 32
        let p = pow(max(signal, 0), 1 / m2)
        return 10000 * pow(max(p - c1, 0) / (c2 - c3 * p), 1 / m1)
    }

    /// BT.2100's inverse HLG OETF: an HLG signal (0...1) to normalised scene light (0...1).
    static func hlgToScene(_ signal: Double) -> Double {
        let a = 0.17883277, b = 1 - 4 * a, c = 0.5 - a * log(4 * a)
        let e = max(signal, 0)
        return e <= 0.5 ? e * e / 3 : (exp((e - c) / a) + b) / 12
    }

    /// sRGB's encoding of linear light (0...1).
    static func srgbEncoded(_ linear: Double) -> Double {
        linear <= 0.0031308 ? 12.92 * linear : 1.055 * pow(linear, 1 / 2.4) - 0.055
    }

    /// `image`'s PQ or HLG samples as standard-dynamic-range light in the same primaries,
    /// sRGB-encoded in 16 bits (same channels; alpha widened to 16 bits):
    ///
    /// 1. display light: PQ's EOTF (cd/m²); HLG's inverse OETF, then BT.2100's OOTF for a
    ///    1000 cd/m² display, `F = 1000 · Ys^0.2 · E` per channel, `Ys` the scene luminance
    ///    weighed with the primaries' luminances (``Primaries/luminanceWeights``);
    /// 2. divided by BT.2408's reference white, 203 cd/m² (``referenceWhite``): reference white is 1;
    /// 3. ``shoulder(_:)`` applied to the largest channel, every channel scaled by the same factor,
    ///    so hue and saturation are kept while highlights roll off below SDR white.
    static func hdrToSDR(_ image: Image, transfer: Transfer, primaries: Primaries) -> Image {
        let format = image.format
        let deep = format.bitDepth == 16
        let maxIn = deep ? 65535 : 255
        let hlg = transfer == .hlg
        // Signal → relative display light (PQ) or scene light (HLG), one entry per sample value.
        let table: [Double] = (0...maxIn).map { v in
            let signal = Double(v) / Double(maxIn)
            return hlg ? hlgToScene(signal) : pqToNits(signal) / referenceWhite
        }
        let weights = primaries.luminanceWeights
        let channels = format.channels, colours = format.isGray ? 1 : 3
        var out = Image(unchecked: image.width, height: image.height, format: PixelFormat(channels: channels, bitDepth: 16))
        // Light → sRGB-encoded 16-bit value over 65,536 steps of light (0.03 levels of 8 bits at most).
        let encoding: [UInt16] = (0...65535).map { UInt16((srgbEncoded(Double($0) / 65535) * 65535).rounded()) }
        func encoded(_ v: Double) -> UInt16 { encoding[Int(min(max(v, 0), 1) * 65535 + 0.5)] }
        image.pixels.withUnsafeBytes { source in
            out.pixels.withUnsafeMutableBytes { destination in
                let s8 = source.bindMemory(to: UInt8.self), s16 = source.bindMemory(to: UInt16.self)
                let d = destination.bindMemory(to: UInt16.self)
                for pixel in 0..<image.width * image.height {
                    let base = pixel * channels
                    func sample(_ i: Int) -> Int { deep ? Int(s16[base + i]) : Int(s8[base + i]) }
                    var r = table[sample(0)]
                    var g = colours == 3 ? table[sample(1)] : r, b = colours == 3 ? table[sample(2)] : r
                    if hlg {
                        let ys = colours == 3 ? weights.r * r + weights.g * g + weights.b * b : r
                        let gain = hlgPeak / referenceWhite * pow(max(ys, 0), 0.2)
                        (r, g, b) = (r * gain, g * gain, b * gain)
                    }
                    let m = max(r, g, b)
                    if m > knee {
                        let scale = shoulder(m) / m
                        (r, g, b) = (r * scale, g * scale, b * scale)
                    }
                    d[base] = encoded(r)
                    if colours == 3 {
                        d[base + 1] = encoded(g)
                        d[base + 2] = encoded(b)
                    }
                    if format.hasAlpha {
                        let a = sample(channels - 1)
                        d[base + channels - 1] = UInt16(deep ? a : a * 257)
                    }
                }
            }
        }
        return out
    }
}
