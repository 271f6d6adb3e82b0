import CLCMS2

/// Colour conversion to sRGB with lcms2: embedded ICC profiles (Display P3, Adobe RGB, …) and CMYK.
enum ColorManagement {
    /// The profile's description tag, e.g. "Display P3", or nil when the profile does not parse.
    static func describe(_ profile: [UInt8]) -> String? {
        guard let handle = openProfile(profile) else { return nil }
        defer { cmsCloseProfile(handle) }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = cmsGetProfileInfoASCII(handle, cmsInfoDescription, "en", "US", &buffer, UInt32(buffer.count))
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func openProfile(_ profile: [UInt8]) -> cmsHPROFILE? {
        profile.withUnsafeBytes { cmsOpenProfileFromMemTHR(nil, $0.baseAddress, UInt32($0.count)) }
    }

    /// sRGB's transfer curve as an lcms parametric curve (type 4).
    static func srgbToneCurve() -> OpaquePointer? {
        var params: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
        return cmsBuildParametricToneCurve(nil, 4, &params)
    }

    /// True for an RGB profile whose conversion to sRGB changes no colour by more than 1 level:
    /// ``convertToSRGB(_:profile:)`` leaves pixels in it as they are (so a plan may keep them in
    /// YCbCr: ``ConversionPlan``). Judged by converting a 5 × 5 × 5 grid of colours (0, 64, 128,
    /// 192, 255 per channel) with the conversion's own intent and flags, not by the profile's name:
    /// "Display P3 Gamut with sRGB Transfer" or an Adobe RGB renamed "sRGB" are not sRGB, while
    /// the many sRGB profiles (HP's 3,144-byte one, ICC v4, Facebook's "c2") are.
    ///
    /// The check takes about 2.6 ms (mostly lcms2 building the transform) and a plan and the
    /// conversion both ask it, for each image with a profile; answers are remembered for the last
    /// 32 distinct profiles (a batch from one camera sends the same profile thousands of times).
    static func isSRGB(_ profile: [UInt8]) -> Bool {
        if let known = sRGBAnswers.withLock({ sRGBAnswerTable[profile] }) { return known }
        let answer = measuredSRGB(profile)
        sRGBAnswers.withLock {
            if sRGBAnswerTable.count >= 32 { sRGBAnswerTable.removeAll(keepingCapacity: true) }
            sRGBAnswerTable[profile] = answer
        }
        return answer
    }

    private static let sRGBAnswers = Lock()
    nonisolated(unsafe) private static var sRGBAnswerTable: [[UInt8]: Bool] = [:]

    /// ``isSRGB(_:)`` without the memory: the 5 × 5 × 5 grid through lcms2.
    private static func measuredSRGB(_ profile: [UInt8]) -> Bool {
        guard let source = openProfile(profile) else { return false }
        defer { cmsCloseProfile(source) }
        guard cmsGetColorSpace(source) == cmsSigRgbData, let target = cmsCreate_sRGBProfileTHR(nil) else { return false }
        defer { cmsCloseProfile(target) }
        guard let transform = cmsCreateTransformTHR(nil, source, kDarkroomTYPE_RGB_8, target, kDarkroomTYPE_RGB_8,
                                                    cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC),
                                                    cmsUInt32Number(cmsFLAGS_BLACKPOINTCOMPENSATION))
        else { return false }
        defer { cmsDeleteTransform(transform) }
        let levels: [UInt8] = [0, 64, 128, 192, 255]
        var grid: [UInt8] = []
        for r in levels { for g in levels { for b in levels { grid += [r, g, b] } } }
        var out = [UInt8](repeating: 0, count: grid.count)
        cmsDoTransform(transform, grid, &out, UInt32(grid.count / 3))
        return zip(grid, out).allSatisfy { abs(Int($0) - Int($1)) <= 1 }
    }

    /// Converts `image` from `profile` to sRGB. Returns nil when nothing was done (no usable
    /// profile, a profile that is already sRGB, or a colour space that does not match the pixels).
    static func convertToSRGB(_ image: Image, profile: [UInt8]) -> Image? {
        if isSRGB(profile) { return nil }
        guard let source = openProfile(profile) else { return nil }
        defer { cmsCloseProfile(source) }
        return convertToSRGB(image, source: source)
    }

    /// Converts `image` from the lcms2 profile `source` (an RGB profile for RGB pixels, a gray one
    /// for gray pixels) to sRGB, relative colorimetric with black-point compensation, alpha
    /// copied. Returns nil when the profile's colour space does not match the pixels.
    static func convertToSRGB(_ image: Image, source: cmsHPROFILE) -> Image? {
        let space = cmsGetColorSpace(source)
        let target: cmsHPROFILE?
        if image.format.isGray {
            guard space == cmsSigGrayData else { return nil }
            let curve = srgbToneCurve()
            defer { cmsFreeToneCurve(curve) }
            target = cmsCreateGrayProfileTHR(nil, cmsD50_xyY(), curve)
        } else {
            guard space == cmsSigRgbData else { return nil }
            target = cmsCreate_sRGBProfileTHR(nil)
        }
        guard let target else { return nil }
        defer { cmsCloseProfile(target) }

        let depth16 = image.format.bitDepth == 16
        let type: cmsUInt32Number
        switch image.format.channels {
        case 1: type = depth16 ? kDarkroomTYPE_GRAY_16 : kDarkroomTYPE_GRAY_8
        case 3: type = depth16 ? kDarkroomTYPE_RGB_16 : kDarkroomTYPE_RGB_8
        case 4: type = depth16 ? kDarkroomTYPE_RGBA_16 : kDarkroomTYPE_RGBA_8
        default:  // gray + alpha: lcms has no such layout; convert the gray plane only.
            return convertGrayAlpha(image, source: source, target: target)
        }
        // 16-bit RGB from a matrix/shaper profile (every CICP profile, most RGB ICC profiles): the
        // profiles' own curves and matrices, not lcms2's precalculated 16-bit grid.
        if depth16 && !image.format.isGray && isMatrixShaper(source, input: true) && isMatrixShaper(target, input: false),
           let converted = matrixShaper16(image, source: source, target: target) {
            return converted
        }
        let flags = cmsUInt32Number(cmsFLAGS_COPY_ALPHA)
        guard let transform = cmsCreateTransformTHR(nil, source, type, target, type,
                                                    cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC),
                                                    flags | cmsUInt32Number(cmsFLAGS_BLACKPOINTCOMPENSATION))
        else { return nil }
        defer { cmsDeleteTransform(transform) }
        var out = image
        image.pixels.withUnsafeBytes { src in
            out.pixels.withUnsafeMutableBytes { dst in
                cmsDoTransformLineStride(transform, src.baseAddress, dst.baseAddress,
                                         UInt32(image.width), UInt32(image.height),
                                         UInt32(image.rowBytes), UInt32(image.rowBytes), 0, 0)
            }
        }
        return out
    }

    /// A 16-bit RGB(A) `image` from the matrix/shaper profile `source` to `target`, computed with
    /// their own data as lcms2 reads it: each channel through `source`'s tone curve
    /// (`cmsEvalToneCurveFloat`, tabulated per 16-bit value), the 3 × 3 product of `target`'s
    /// inverse colorant matrix and `source`'s (both adapted to D50 by lcms2), clipped to 0…1, then
    /// `target`'s inverse curve (`cmsReverseToneCurve`, tabulated over 65,536 steps of light);
    /// alpha kept. The same arithmetic as lcms2's relative colorimetric transform of two
    /// matrix/shaper profiles (black-point compensation changes nothing there: both blacks are 0),
    /// in double precision: lcms2's own 16-bit transform precalculates a grid whose interpolation
    /// was up to 4.3 levels of 8 bits off for Display P3 and BT.2020 → sRGB, and its unoptimised
    /// pipeline (`cmsFLAGS_NOOPTIMIZE`) took 9 times as long (docs/performance.md). nil when a
    /// tag is missing or the matrix is singular.
    static func matrixShaper16(_ image: Image, source: cmsHPROFILE, target: cmsHPROFILE) -> Image? {
        func colorants(_ profile: cmsHPROFILE) -> [[Double]]? {
            let tags = [cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag]
            var columns: [[Double]] = []
            for tag in tags {
                guard let raw = cmsReadTag(profile, tag) else { return nil }
                let xyz = raw.assumingMemoryBound(to: cmsCIEXYZ.self).pointee
                columns.append([xyz.X, xyz.Y, xyz.Z])
            }
            return (0..<3).map { row in (0..<3).map { columns[$0][row] } }
        }
        func curves(_ profile: cmsHPROFILE) -> [OpaquePointer]? {
            let tags = [cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag]
            let found = tags.compactMap { cmsReadTag(profile, $0).map { OpaquePointer($0) } }
            return found.count == 3 ? found : nil
        }
        guard let s = colorants(source), let d = colorants(target), let inverse = invert(d),
              let sourceCurves = curves(source), let targetCurves = curves(target) else { return nil }
        let m = (0..<3).map { row in (0..<3).map { col in (0..<3).reduce(0.0) { $0 + inverse[row][$1] * s[$1][col] } } }
        // Signal → light per channel, per 16-bit value; light → signal over 65,536 steps.
        let inputs: [[Double]] = sourceCurves.map { curve in
            (0...65535).map { Double(cmsEvalToneCurveFloat(curve, Float($0) / 65535)) }
        }
        var outputs: [[UInt16]] = []
        for curve in targetCurves {
            guard let reversed = cmsReverseToneCurve(curve) else { return nil }
            defer { cmsFreeToneCurve(reversed) }
            outputs.append((0...65535).map { v in
                let signal = Double(cmsEvalToneCurveFloat(reversed, Float(v) / 65535))
                return UInt16((min(max(signal, 0), 1) * 65535).rounded())
            })
        }
        let channels = image.format.channels
        let (m00, m01, m02, m10, m11, m12, m20, m21, m22) = (m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2])
        var out = image
        let (inR, inG, inB) = (inputs[0], inputs[1], inputs[2]), (outR, outG, outB) = (outputs[0], outputs[1], outputs[2])
        @inline(__always) func index(_ light: Double) -> Int { Int(min(max(light, 0), 1) * 65535 + 0.5) }
        image.pixels.withUnsafeBytes { src in
            out.pixels.withUnsafeMutableBytes { dst in
                let a = src.bindMemory(to: UInt16.self), b = dst.bindMemory(to: UInt16.self)
                inR.withUnsafeBufferPointer { inR in inG.withUnsafeBufferPointer { inG in inB.withUnsafeBufferPointer { inB in
                    outR.withUnsafeBufferPointer { outR in outG.withUnsafeBufferPointer { outG in outB.withUnsafeBufferPointer { outB in
                        for o in stride(from: 0, to: image.pixelCount * channels, by: channels) {
                            let r = inR[Int(a[o])], g = inG[Int(a[o + 1])], bl = inB[Int(a[o + 2])]
                            b[o] = outR[index(m00 * r + m01 * g + m02 * bl)]
                            b[o + 1] = outG[index(m10 * r + m11 * g + m12 * bl)]
                            b[o + 2] = outB[index(m20 * r + m21 * g + m22 * bl)]
                        }
                    } } }
                } } }
            }
        }
        return out
    }

    /// True when lcms2 transforms with `profile`'s matrix and tone curves (no lookup table for the
    /// relative colorimetric intent in that direction), so ``matrixShaper16(_:source:target:)``
    /// computes what it would.
    private static func isMatrixShaper(_ profile: cmsHPROFILE, input: Bool) -> Bool {
        cmsIsMatrixShaper(profile) != 0
            && cmsIsCLUT(profile, cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC), cmsUInt32Number(input ? LCMS_USED_AS_INPUT : LCMS_USED_AS_OUTPUT)) == 0
    }

    /// The inverse of a 3 × 3 matrix, nil when it is singular.
    private static func invert(_ m: [[Double]]) -> [[Double]]? {
        let c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1], c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2]
        let c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0]
        let det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02
        guard abs(det) > 1e-12 else { return nil }
        return [[c00 / det, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det, (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det],
                [c01 / det, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det, (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det],
                [c02 / det, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det, (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det]]
    }

    private static func convertGrayAlpha(_ image: Image, source: cmsHPROFILE, target: cmsHPROFILE) -> Image? {
        let gray = image.format == .grayAlpha8 ? PixelFormat.gray8 : .gray16
        let bps = image.format.bytesPerSample
        var plane = [UInt8](repeating: 0, count: image.pixelCount * bps)
        for i in 0..<image.pixelCount { for b in 0..<bps { plane[i * bps + b] = image.pixels[i * 2 * bps + b] } }
        guard let converted = convertPlane(plane, image: image, gray: gray, source: source, target: target) else { return nil }
        var out = image
        for i in 0..<image.pixelCount { for b in 0..<bps { out.pixels[i * 2 * bps + b] = converted.pixels[i * bps + b] } }
        return out
    }

    private static func convertPlane(_ plane: [UInt8], image: Image, gray: PixelFormat,
                                     source: cmsHPROFILE, target: cmsHPROFILE) -> Image? {
        let type = gray == .gray8 ? kDarkroomTYPE_GRAY_8 : kDarkroomTYPE_GRAY_16
        guard let transform = cmsCreateTransformTHR(nil, source, type, target, type,
                                                    cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC), 0)
        else { return nil }
        defer { cmsDeleteTransform(transform) }
        var out = Image(unchecked: image.width, height: image.height, format: gray, pixels: plane)
        plane.withUnsafeBytes { src in
            out.pixels.withUnsafeMutableBytes { dst in
                cmsDoTransform(transform, src.baseAddress, dst.baseAddress, UInt32(image.pixelCount))
            }
        }
        return out
    }

    /// CMYK (as libjpeg returns it) to sRGB. With a CMYK ICC profile lcms2 does the work;
    /// without one, the naive formula R = (1-C)(1-K) is used.
    static func cmykToSRGB(_ cmyk: [UInt8], width: Int, height: Int, inverted: Bool, profile: [UInt8]?) -> Image {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        if let profile, let source = openProfile(profile) {
            defer { cmsCloseProfile(source) }
            if cmsGetColorSpace(source) == cmsSigCmykData, let target = cmsCreate_sRGBProfileTHR(nil) {
                defer { cmsCloseProfile(target) }
                let inType = inverted ? kDarkroomTYPE_CMYK_8_REV : kDarkroomTYPE_CMYK_8
                if let transform = cmsCreateTransformTHR(nil, source, inType, target, kDarkroomTYPE_RGB_8,
                                                         cmsUInt32Number(INTENT_PERCEPTUAL),
                                                         cmsUInt32Number(cmsFLAGS_BLACKPOINTCOMPENSATION)) {
                    defer { cmsDeleteTransform(transform) }
                    cmyk.withUnsafeBytes { src in
                        rgb.withUnsafeMutableBytes { dst in
                            cmsDoTransform(transform, src.baseAddress, dst.baseAddress, UInt32(width * height))
                        }
                    }
                    return Image(unchecked: width, height: height, format: .rgb8, pixels: rgb)
                }
            }
        }
        for i in 0..<(width * height) {
            // Adobe files store inverted CMYK: the byte is already 255 - ink.
            var c = Int(cmyk[i * 4]), m = Int(cmyk[i * 4 + 1]), y = Int(cmyk[i * 4 + 2]), k = Int(cmyk[i * 4 + 3])
            if !inverted { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k }
            rgb[i * 3] = UInt8((c * k + 127) / 255)
            rgb[i * 3 + 1] = UInt8((m * k + 127) / 255)
            rgb[i * 3 + 2] = UInt8((y * k + 127) / 255)
        }
        return Image(unchecked: width, height: height, format: .rgb8, pixels: rgb)
    }
}

extension ColorManagement {
    /// A standard sRGB ICC profile (written when `--keep icc` follows a conversion to sRGB).
    static func sRGBProfile() -> [UInt8]? { sRGBProfileBytes }

    /// lcms2's sRGB profile, made once. lcms2 stamps the creation time into the header (ICC.1
    /// §7.2.8, bytes 24–35); that is set to the date of the IEC 61966-2-1 profile (1998-02-09
    /// 06:49:00), so the same conversion writes the same bytes on every run. The profile ID
    /// (bytes 84–99, an MD5 lcms2 leaves at zero: "not computed") stays zero.
    private static let sRGBProfileBytes: [UInt8]? = {
        guard let profile = cmsCreate_sRGBProfileTHR(nil) else { return nil }
        defer { cmsCloseProfile(profile) }
        var size: UInt32 = 0
        guard cmsSaveProfileToMem(profile, nil, &size) != 0, size >= 128 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        guard cmsSaveProfileToMem(profile, &bytes, &size) != 0 else { return nil }
        let date: [UInt16] = [1998, 2, 9, 6, 49, 0]
        for (i, field) in date.enumerated() {
            bytes[24 + 2 * i] = UInt8(field >> 8)
            bytes[25 + 2 * i] = UInt8(field & 0xFF)
        }
        for i in 84..<100 { bytes[i] = 0 }
        return bytes
    }()
}
