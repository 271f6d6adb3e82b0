import CLibAVIF
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AVIF through libavif 0.11 (dav1d/aom decode, aom encode).
enum AVIFCodec {
    private static func fail(_ r: avifResult, encoding: Bool = false) -> DarkroomError {
        let message = String(cString: avifResultToString(r))
        return encoding ? .encoding(.codec(.avif, message: message)) : .decoding(.codec(.avif, message: message))
    }

    /// libavif's refusal to parse `bytes`, said the way it can be: too many pixels when the file
    /// declares more than `maxPixels` (libavif itself parses nothing over 16384² px), else its
    /// own words with the box that is cut short named when the top level has one (its word for it
    /// is only "BMFF parsing failed").
    private static func parseFailure(_ r: avifResult, _ bytes: [UInt8], maxPixels: Int) -> DarkroomError {
        if let declared = AVIFBoxes.largestDeclaredSize(bytes) {
            do throws(DarkroomError) { try checkPixelLimit(width: declared.width, height: declared.height, limit: maxPixels) } catch { return error }
        }
        let message = String(cString: avifResultToString(r))
        guard let damage = AVIFBoxes.topLevelDamage(bytes), damage.kind == .truncated else { return fail(r) }
        return .decoding(.codec(.avif, message: "\(message) (truncated: \(damage.message))"))
    }

    /// Parses the container without decoding pixels: the clean aperture's size (the coded size
    /// when the file has no valid `clap`: ``cleanAperture(of:)``) and the `irot`/`imir` orientation.
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int, orientation: Orientation) {
        try withDecoder(bytes) { decoder in
            let image = decoder.pointee.image!.pointee
            let crop = cleanAperture(of: image).rect
            return (crop?.width ?? Int(image.width), crop?.height ?? Int(image.height), orientation(of: image))
        }
    }

    /// The crop rectangle of the parsed image's clean aperture (`clap`: ``AVIFCleanAperture``):
    /// nil without one or when it is the whole coded image. An invalid aperture gives no rectangle
    /// and a ``DecodeWarning/Kind/warning``: the whole coded image is used, as browsers show it.
    static func cleanAperture(of image: avifImage) -> (rect: AVIFCleanAperture.Rect?, warning: DecodeWarning?) {
        guard image.transformFlags & AVIF_TRANSFORM_CLAP.rawValue != 0 else { return (nil, nil) }
        let c = image.clap
        let clap = AVIFCleanAperture(widthN: c.widthN, widthD: c.widthD, heightN: c.heightN, heightD: c.heightD,
                                     horizOffN: c.horizOffN, horizOffD: c.horizOffD, vertOffN: c.vertOffN, vertOffD: c.vertOffD)
        let (width, height) = (Int(image.width), Int(image.height))
        switch clap.rect(width: width, height: height) {
        case let .success(rect):
            // The whole image: nothing to crop.
            return (rect == AVIFCleanAperture.Rect(x: 0, y: 0, width: width, height: height) ? nil : rect, nil)
        case let .failure(invalid):
            return (nil, DecodeWarning(kind: .warning, message: "the clean aperture (clap: \(clap)) is invalid for the "
                                          + "\(width)x\(height) coded image: \(invalid.reason); the whole coded image is used"))
        }
    }

    /// Parses the container (libavif keeps its own default size limit, 16384² px); the caller
    /// checks Darkroom's limit on the parsed size before decoding pixels.
    private static func withDecoder<T>(_ bytes: [UInt8], _ body: (UnsafeMutablePointer<avifDecoder>) throws(DarkroomError) -> T) throws(DarkroomError) -> T {
        HeaderParses.count(.avif)
        guard let decoder = avifDecoderCreate() else { throw DarkroomError.decoding(.codec(.avif, message: "out of memory")) }
        defer { avifDecoderDestroy(decoder) }
        decoder.pointee.maxThreads = 2
        decoder.pointee.strictFlags = AVIF_STRICT_DISABLED.rawValue
        let bytes = AVIFBoxes.withExplicitFinalBoxSize(bytes)   // libavif 0.11 rejects size-0 boxes
        return try bytes.withUnsafeBufferPointer { (buf) throws(DarkroomError) in
            var r = avifDecoderSetIOMemory(decoder, buf.baseAddress, buf.count)
            guard r == AVIF_RESULT_OK else { throw fail(r) }
            r = avifDecoderParse(decoder)
            guard r == AVIF_RESULT_OK else { throw parseFailure(r, bytes, maxPixels: FormatLimits.avifMaxPixels) }
            return try body(decoder)
        }
    }

    /// The parsed image's code points when they decide its colour: no ICC profile, and primaries
    /// or transfer other than 2 (unspecified, which is sRGB's); nil otherwise.
    static func cicp(of image: avifImage) -> CICP? {
        guard image.icc.size == 0, image.colorPrimaries != 2 || image.transferCharacteristics != 2 else { return nil }
        return CICP(primaries: Int(image.colorPrimaries), transfer: Int(image.transferCharacteristics),
                    matrix: Int(image.matrixCoefficients), fullRange: image.yuvRange == AVIF_RANGE_FULL)
    }

    /// Why libavif 0.11.1's YUV → RGB conversion (`avifPrepareReformatState`) refuses `image`'s
    /// matrix coefficients, nil when it converts them. Refused there: 3 (reserved), 10 (BT.2020
    /// constant luminance), 11 (SMPTE ST 2085), 13 (chromaticity-derived constant luminance), 14
    /// (ICtCp) and above, 8 (YCgCo) in limited range, and 0 (identity) unless 4:4:4. libavif's own
    /// word for all of them is "Reformat failed".
    static func unsupportedMatrix(of image: avifImage) -> String? {
        let matrix = Int(image.matrixCoefficients)
        let accepted = "accepted: 0 identity with 4:4:4, 1 BT.709, 2 unspecified, 4–7 BT.601/SMPTE 240M, 8 YCgCo in full range, 9 BT.2020 NCL, 12 chromaticity-derived NCL"
        if matrix == 3 || matrix == 10 || matrix == 11 || matrix == 13 || matrix >= 14 {
            return "matrix coefficients \(matrix) are not supported by libavif's YUV to RGB conversion (\(accepted))"
        }
        if matrix == 8 && image.yuvRange == AVIF_RANGE_LIMITED {
            return "matrix coefficients 8 (YCgCo) in limited range are not supported by libavif's YUV to RGB conversion (\(accepted))"
        }
        if matrix == 0 && image.yuvFormat != AVIF_PIXEL_FORMAT_YUV444 {
            let samples = image.yuvFormat == AVIF_PIXEL_FORMAT_YUV400 ? "monochrome (4:0:0)" : "subsampled"
            return "matrix coefficients 0 (identity, RGB) need 4:4:4 samples; this image is \(samples) (\(accepted))"
        }
        return nil
    }

    /// ``unsupportedMatrix(of:)`` as the typed error, thrown before libavif's conversion runs.
    static func checkMatrix(_ image: avifImage) throws(DarkroomError) {
        guard let reason = unsupportedMatrix(of: image) else { return }
        let cicp = CICP(primaries: Int(image.colorPrimaries), transfer: Int(image.transferCharacteristics),
                        matrix: Int(image.matrixCoefficients), fullRange: image.yuvRange == AVIF_RANGE_FULL)
        throw .decoding(.unsupportedColour(.avif, cicp: cicp, reason: reason))
    }

    /// The EXIF orientation equivalent to the file's `irot` then `imir` properties.
    static func orientation(of image: avifImage) -> Orientation {
        let flags = image.transformFlags
        let rotation = (flags & AVIF_TRANSFORM_IROT.rawValue) != 0 ? Int(image.irot.angle) : 0
        let mirror: Int? = (flags & AVIF_TRANSFORM_IMIR.rawValue) != 0 ? Int(image.imir.mode) : nil
        // irot is anti-clockwise; EXIF .left (8) turns the stored image 90° anti-clockwise.
        let rotations: [Orientation] = [.up, .left, .down, .right]
        guard let mirror else { return rotations[rotation & 3] }
        // Compose on a probe image and find the single orientation that does the same.
        let probe = Image(unchecked: 3, height: 2, format: .gray8, pixels: [1, 2, 3, 4, 5, 6])
        let turned = probe.applying(rotations[rotation & 3]).applying(mirror == 0 ? .downMirrored : .upMirrored)
        return Orientation.allCases.first { probe.applying($0) == turned } ?? .up
    }

    /// An AVIF file with its container parsed (once) and its declared size checked, its pixels not
    /// yet decoded: ``ImageSource``'s open step for AVIF. Owns libavif's decoder and the bytes it
    /// reads from.
    final class File {
        private let decoder: UnsafeMutablePointer<avifDecoder>
        private let storage: UnsafeMutableBufferPointer<UInt8>
        /// Stored size — the clean aperture's (`clap`), or the coded size without one — and
        /// orientation (`irot`/`imir`).
        let header: ImageHeader
        /// Bits per sample (8, 10, 12).
        let depth: Int
        /// The coded size, which libavif decodes (the pixel limit applies to it).
        let codedSize: PixelSize
        /// The clean aperture cropped out of each decoded image, nil when the whole image is the picture.
        let crop: AVIFCleanAperture.Rect?
        /// What the container's properties are warned about (an invalid clean aperture, ignored).
        let warnings: [DecodeWarning]
        /// The code points that decide the colour (``ImageMetadata/cicp``): libavif's parsed ones
        /// — the `nclx` box, else the AV1 sequence header's colour description — when the file has
        /// no ICC profile and its primaries or transfer are not both 2 (unspecified); else nil.
        let cicp: CICP?
        /// A grid image libavif 0.11.1 decodes other than its boxes say, and how it is put right
        /// (``AVIFGridRepair``); or why it cannot be, thrown when the pixels are decoded (the header
        /// is still read, so `inspect` reports the file).
        private let gridRepair: Result<AVIFGridRepair?, DarkroomError>

        /// Parses the container: libavif's own size limit applies to it, `maxPixels` right after.
        /// Throws ``DarkroomError/decoding(_:)``: the container refused,
        /// ``ImageDecodingError/tooManyPixels(width:height:limit:)``, or a sequence whose frame
        /// timing would cost libavif more than ``maxTimingSteps`` (``timingSteps(frames:entries:)``).
        init(_ bytes: [UInt8], maxPixels: Int) throws(DarkroomError) {
            // libavif 0.11 accepts this HEIF violation; newer versions reject it (see AVIFBoxes).
            if AVIFBoxes.hasNonEssentialTransform(bytes) {
                throw DarkroomError.decoding(.codec(.avif, message: "transformative property marked non-essential"))
            }
            HeaderParses.count(.avif)
            guard let decoder = avifDecoderCreate() else { throw DarkroomError.decoding(.codec(.avif, message: "out of memory")) }
            decoder.pointee.maxThreads = 2
            decoder.pointee.strictFlags = AVIF_STRICT_DISABLED.rawValue
            let fixed = AVIFBoxes.withExplicitFinalBoxSize(bytes)   // libavif 0.11 rejects size-0 boxes
            let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, fixed.count))
            _ = storage.initialize(from: fixed)
            var r = avifDecoderSetIOMemory(decoder, storage.baseAddress, fixed.count)
            if r == AVIF_RESULT_OK { r = avifDecoderParse(decoder) }
            guard r == AVIF_RESULT_OK else {
                avifDecoderDestroy(decoder)
                storage.deallocate()
                throw parseFailure(r, bytes, maxPixels: min(maxPixels, FormatLimits.avifMaxPixels))
            }
            self.decoder = decoder
            self.storage = storage
            let parsed = decoder.pointee.image!.pointee
            codedSize = PixelSize(width: Int(parsed.width), height: Int(parsed.height))
            let aperture = AVIFCodec.cleanAperture(of: parsed)
            crop = aperture.rect
            warnings = (AVIFBoxes.topLevelDamage(bytes).map { [$0] } ?? []) + (aperture.warning.map { [$0] } ?? [])
            header = ImageHeader(format: .avif, width: crop?.width ?? codedSize.width, height: crop?.height ?? codedSize.height,
                                 orientation: AVIFCodec.orientation(of: parsed))
            depth = Int(parsed.depth)
            cicp = AVIFCodec.cicp(of: parsed)
            // Grids are items: a sequence's frames come from its track.
            if decoder.pointee.imageCount <= 1 {
                do throws(DarkroomError) { gridRepair = .success(try AVIFGridRepair.analyse(fixed)) } catch { gridRepair = .failure(error) }
            } else {
                gridRepair = .success(nil)
            }
            // libavif decodes the whole coded image: the limit applies to it.
            try checkPixelLimit(width: codedSize.width, height: codedSize.height, limit: maxPixels)
            let frames = max(1, Int(decoder.pointee.imageCount))
            if frames > 1 {
                let entries = AVIFBoxes.largestTimeToSampleCount(bytes)
                let steps = Self.timingSteps(frames: frames, entries: entries)
                guard steps <= Self.maxTimingSteps else {
                    throw DarkroomError.decoding(.codec(.avif, message: "a sequence of \(frames) frames with \(entries) stts timing entries needs \(steps == Int.max ? "over 2^63" : String(steps)) steps of libavif 0.11's frame timing (at most \(Self.maxTimingSteps))"))
                }
            }
        }

        /// The most timing steps a sequence may cost: about 4 s of libavif's loop (1 ns a step: `inspect`
        /// of a 20,000-frame 8x8 sequence of one duration, 2·10⁸ steps, took 0.21 s in a release
        /// build): 89,442 frames of one constant duration, or 2,000 frames of 2,000 durations.
        static let maxTimingSteps = 4_000_000_000

        /// The steps libavif 0.11 takes to time every frame of a sequence: each frame's timing
        /// (`avifDecoderNthImageTiming`, also run by `avifDecoderNextImage`) adds the durations of
        /// the frames before it, each found by walking the `stts` entries — about
        /// `frames² / 2 × min(entries, frames)` steps, which grows as the cube of a hostile file's
        /// frame count. Saturates at `Int.max`.
        static func timingSteps(frames: Int, entries: Int) -> Int {
            let (square, o1) = frames.multipliedReportingOverflow(by: frames)
            let (steps, o2) = (square / 2).multipliedReportingOverflow(by: max(1, min(entries, frames)))
            return o1 || o2 ? Int.max : steps
        }

        deinit {
            avifDecoderDestroy(decoder)
            storage.deallocate()
        }

        /// An alpha auxiliary image is declared (libavif's `alphaPresent`, known once parsed), or
        /// alpha on each tile of a grid (``AVIFGridRepair``).
        var hasAlpha: Bool {
            if decoder.pointee.alphaPresent != 0 { return true }
            if case let .success(repair?) = gridRepair, repair.tileAlpha != nil { return true }
            return false
        }
        /// Images in the file: 1, or the frames of an image sequence (`avis`).
        var frameCount: Int { max(1, Int(decoder.pointee.imageCount)) }
        /// The ICC profile of a `colr` `prof`/`rICC` box, as parsed (no pixel decoded).
        var iccProfile: [UInt8]? { Self.copy(decoder.pointee.image!.pointee.icc) }
        /// The EXIF item's payload from its TIFF header on (``EXIF/tiffPayload(_:)``: the item's
        /// `Exif\0\0`, which phones and exiftool write after the offset field, dropped).
        var exif: [UInt8]? { Self.copy(decoder.pointee.image!.pointee.exif).map(EXIF.tiffPayload) }
        /// An XMP item is present.
        var hasXMP: Bool { decoder.pointee.image!.pointee.xmp.size > 0 }
        /// The XMP item (`mime`, `application/rdf+xml`), as parsed; nil when there is none.
        var xmp: [UInt8]? { Self.copy(decoder.pointee.image!.pointee.xmp) }

        private static func copy(_ data: avifRWData) -> [UInt8]? {
            guard data.size > 0, let p = data.data else { return nil }
            return Array(UnsafeBufferPointer(start: p, count: data.size))
        }

        /// libavif's refusal to decode (its "Truncated data"), with the top-level box that is cut
        /// short named when ``warnings`` has one.
        private func naming(_ error: DarkroomError) -> DarkroomError {
            guard case let .decoding(.codec(.avif, message)) = error,
                  let cut = warnings.first(where: { $0.kind == .truncated }) else { return error }
            return .decoding(.codec(.avif, message: "\(message) (truncated: \(cut.message))"))
        }

        /// Decodes the first image (of a sequence, the first frame), cropped to its clean aperture,
        /// with the container's ``warnings``.
        func decodeFirstImage() throws(DarkroomError) -> RawDecode {
            let repair = try gridRepair.get()
            var raw: RawDecode
            do { raw = try decodePixels(decoder, crop: crop.map { ($0, codedSize) }, repair: repair) } catch { throw naming(error) }
            raw.metadata.warnings += warnings
            raw.metadata.cicp = cicp
            return raw
        }

        /// Each image's duration in milliseconds, from the sequence's timing (`avifDecoderNthImageTiming`:
        /// the track's sample durations over its timescale, rounded to the nearest ms), without
        /// decoding; `[0]` for a still image. Durations are kept as stored, as WebP's are.
        var frameDurations: [Int] {
            let count = Int(decoder.pointee.imageCount)
            guard count > 1 else { return [0] }
            return (0..<count).map { n in
                var timing = avifImageTiming()
                guard avifDecoderNthImageTiming(decoder, UInt32(n), &timing) == AVIF_RESULT_OK, timing.timescale > 0 else { return 0 }
                // durationInTimescales · 1000 / timescale, rounded, without overflow for any 64-bit values.
                let ms = (Double(timing.durationInTimescales) * 1000 / Double(timing.timescale)).rounded()
                return ms.isFinite && ms < Double(Int32.max) ? Int(ms) : Int(Int32.max)
            }
        }

        /// Decodes the next image of the sequence as straight 8-bit RGBA (an image without alpha is
        /// opaque), in stored orientation and cropped to the clean aperture; nil after the last.
        /// Throws ``DarkroomError/decoding(_:)``: libavif's refusal, or an image whose size is not
        /// the sequence's.
        func nextRGBA8() throws(DarkroomError) -> [UInt8]? {
            let r = avifDecoderNextImage(decoder)
            if r == AVIF_RESULT_NO_IMAGES_REMAINING { return nil }
            guard r == AVIF_RESULT_OK else { throw naming(fail(r)) }
            let image = decoder.pointee.image!
            let width = Int(image.pointee.width), height = Int(image.pointee.height)
            guard width == codedSize.width && height == codedSize.height else {
                throw .decoding(.codec(.avif, message: "image \(decoder.pointee.imageIndex + 1) is \(width)x\(height), the sequence \(codedSize)"))
            }
            try AVIFCodec.checkMatrix(image.pointee)
            var out = [UInt8](repeating: 0, count: width * height * 4)
            var rgb = avifRGBImage()
            avifRGBImageSetDefaults(&rgb, image)
            rgb.format = AVIF_RGB_FORMAT_RGBA
            rgb.depth = 8
            rgb.rowBytes = UInt32(width * 4)
            let converted = out.withUnsafeMutableBufferPointer { px -> avifResult in
                rgb.pixels = px.baseAddress
                return avifImageYUVToRGB(image, &rgb)
            }
            guard converted == AVIF_RESULT_OK else { throw fail(converted) }
            if let crop { AVIFCodec.cropInPlace(&out, rowBytes: width * 4, bytesPerPixel: 4, to: crop) }
            return out
        }
    }

    /// Moves the `crop` rectangle of an image whose rows are `rowBytes` apart to the start of
    /// `pixels`, rows packed, and drops the rest. Each row moves to an offset at or before its own,
    /// so the rows are moved in order within the one buffer.
    static func cropInPlace(_ pixels: inout [UInt8], rowBytes: Int, bytesPerPixel: Int, to crop: AVIFCleanAperture.Rect) {
        let cropRowBytes = crop.width * bytesPerPixel
        pixels.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            for row in 0..<crop.height {
                let from = (crop.y + row) * rowBytes + crop.x * bytesPerPixel
                (base + row * cropRowBytes).update(from: base + from, count: cropRowBytes)
            }
        }
        pixels.removeLast(pixels.count - cropRowBytes * crop.height)
    }

    /// Decodes the next image: the grid `repair` applied to its YUV planes, then RGB, then the
    /// `crop` rectangle of an image that must be the given coded size (libavif 0.11 decodes a grid
    /// at its descriptor's size, which a file may declare unlike its `ispe`: no crop then).
    private static func decodePixels(_ decoder: UnsafeMutablePointer<avifDecoder>,
                                     crop: (rect: AVIFCleanAperture.Rect, codedSize: PixelSize)?,
                                     repair: AVIFGridRepair?) throws(DarkroomError) -> RawDecode {
        let frames = Int(decoder.pointee.imageCount)
        let r = avifDecoderNextImage(decoder)
        guard r == AVIF_RESULT_OK else { throw fail(r) }
        let image = decoder.pointee.image!
        // A grid's tiles moved to their `dimg` places, or its tiles' alpha attached, in YUV.
        try repair?.apply(to: image)
        let width = Int(image.pointee.width), height = Int(image.pointee.height)
        if let crop, crop.codedSize != PixelSize(width: width, height: height) {
            throw .decoding(.codec(.avif, message: "the image decodes at \(width)x\(height), its header declares \(crop.codedSize): "
                                   + "its clean aperture (\(crop.rect)) cannot be applied"))
        }
        try AVIFCodec.checkMatrix(image.pointee)
        let hasAlpha = image.pointee.alphaPlane != nil
        let depth = image.pointee.depth > 8 ? 16 : 8
        let format = PixelFormat(channels: hasAlpha ? 4 : 3, bitDepth: depth)
        var out = Image(unchecked: width, height: height, format: format)
        var rgb = avifRGBImage()
        avifRGBImageSetDefaults(&rgb, image)
        rgb.format = hasAlpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB
        // High bit depths come back at the file's depth (10/12) and are widened below.
        rgb.depth = depth == 16 ? UInt32(image.pointee.depth) : 8
        rgb.rowBytes = UInt32(out.rowBytes)
        let converted = out.pixels.withUnsafeMutableBufferPointer { px -> avifResult in
            rgb.pixels = px.baseAddress
            return avifImageYUVToRGB(image, &rgb)
        }
        guard converted == AVIF_RESULT_OK else { throw fail(converted) }
        if depth == 16 && image.pointee.depth < 16 {
            // 10/12-bit values in 16-bit words: scale to the full 16-bit range.
            let maxIn = UInt32((1 << Int(image.pointee.depth)) - 1)
            out.pixels.withUnsafeMutableBytes { raw in
                let s = raw.bindMemory(to: UInt16.self)
                for i in s.indices { s[i] = UInt16(min(65535, (min(UInt32(s[i]), maxIn) * 65535 + maxIn / 2) / maxIn)) }
            }
        }
        if let crop = crop?.rect {
            AVIFCodec.cropInPlace(&out.pixels, rowBytes: out.rowBytes, bytesPerPixel: format.bytesPerPixel, to: crop)
            out = Image(unchecked: crop.width, height: crop.height, format: format, pixels: out.pixels)
        }
        var metadata = ImageMetadata(sourceFormat: .avif, storedWidth: out.width, storedHeight: out.height,
                                     storedBitDepth: Int(image.pointee.depth))
        metadata.frameCount = max(1, frames)
        metadata.orientation = orientation(of: image.pointee)
        let icc = image.pointee.icc, exif = image.pointee.exif
        if icc.size > 0, let p = icc.data { metadata.iccProfile = Array(UnsafeBufferPointer(start: p, count: icc.size)) }
        if exif.size > 0, let p = exif.data { metadata.exif = EXIF.tiffPayload(Array(UnsafeBufferPointer(start: p, count: exif.size))) }
        return RawDecode(image: out, metadata: metadata)
    }

    /// Labels an image to encode as sRGB in its `nclx` box, as avifenc labels an sRGB PNG: primaries
    /// 1 (BT.709), transfer 13 (sRGB), matrix 6 (BT.601, which ``encode(_:quantizer:alphaQuantizer:speed:chroma:icc:exif:)``
    /// converts RGB with), full range. Every output of a conversion is sRGB (``DecodeOptions/convertToSRGB``);
    /// with the conversion off, the pixels are written as decoded under the same label.
    static func labelSRGB(_ avif: UnsafeMutablePointer<avifImage>) {
        avif.pointee.colorPrimaries = avifColorPrimaries(AVIF_COLOR_PRIMARIES_BT709)
        avif.pointee.transferCharacteristics = avifTransferCharacteristics(AVIF_TRANSFER_CHARACTERISTICS_SRGB)
        avif.pointee.matrixCoefficients = avifMatrixCoefficients(AVIF_MATRIX_COEFFICIENTS_BT601)
        avif.pointee.yuvRange = AVIF_RANGE_FULL
    }

    static func encode(_ image: Image, quantizer: Int, alphaQuantizer: Int, speed: Int, chroma: ChromaSubsampling,
                       icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil) throws(DarkroomError) -> [UInt8] {
        precondition(!image.format.isGray)
        let depth: UInt32 = image.format.bitDepth == 16 ? 10 : 8
        let yuv = chroma == .yuv444 ? AVIF_PIXEL_FORMAT_YUV444 : AVIF_PIXEL_FORMAT_YUV420
        guard let avif = avifImageCreate(UInt32(image.width), UInt32(image.height), depth, yuv) else {
            throw DarkroomError.encoding(.codec(.avif, message: "out of memory"))
        }
        defer { avifImageDestroy(avif) }
        labelSRGB(avif)
        var rgb = avifRGBImage()
        avifRGBImageSetDefaults(&rgb, avif)
        rgb.format = image.format.hasAlpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB
        rgb.depth = UInt32(image.format.bitDepth)
        rgb.rowBytes = UInt32(image.rowBytes)
        var source = image
        if depth == 10 {
            // 16-bit samples → 10-bit range in 16-bit words, as libavif expects for rgb.depth 10.
            rgb.depth = 10
            source.pixels.withUnsafeMutableBytes { raw in
                let s = raw.bindMemory(to: UInt16.self)
                for i in s.indices { s[i] = UInt16((UInt32(s[i]) * 1023 + 32767) / 65535) }
            }
        }
        let converted = source.pixels.withUnsafeMutableBufferPointer { px -> avifResult in
            rgb.pixels = px.baseAddress
            return avifImageRGBToYUV(avif, &rgb)
        }
        guard converted == AVIF_RESULT_OK else { throw fail(converted, encoding: true) }
        if let icc, !icc.isEmpty { icc.withUnsafeBufferPointer { avifImageSetProfileICC(avif, $0.baseAddress, $0.count) } }
        // libavif 0.11 turns an EXIF orientation into irot/imir here: a kept EXIF says 1 (``EXIF/rewritten(_:width:height:)``),
        // so the upright pixels get no transform. libavif writes the item's TIFF-header offset field itself.
        if let exif, !exif.isEmpty { exif.withUnsafeBufferPointer { avifImageSetMetadataExif(avif, $0.baseAddress, $0.count) } }
        if let xmp, !xmp.isEmpty { xmp.withUnsafeBufferPointer { avifImageSetMetadataXMP(avif, $0.baseAddress, $0.count) } }

        guard let encoder = avifEncoderCreate() else { throw DarkroomError.encoding(.codec(.avif, message: "out of memory")) }
        defer { avifEncoderDestroy(encoder) }
        encoder.pointee.codecChoice = AVIF_CODEC_CHOICE_AOM
        encoder.pointee.speed = Int32(speed)
        encoder.pointee.minQuantizer = Int32(quantizer)
        encoder.pointee.maxQuantizer = Int32(quantizer)
        encoder.pointee.minQuantizerAlpha = Int32(alphaQuantizer)
        encoder.pointee.maxQuantizerAlpha = Int32(alphaQuantizer)
        // libavif 0.11 does not tile by itself: two tile columns let aom use both cores on large images.
        let cores = CPUBudget.cores()
        encoder.pointee.maxThreads = Int32(max(1, cores))
        if cores > 1 && image.width >= 1024 { encoder.pointee.tileColsLog2 = 1 }
        var output = avifRWData()
        defer { avifRWDataFree(&output) }
        let r = avifEncoderWrite(encoder, avif, &output)
        guard r == AVIF_RESULT_OK else { throw fail(r, encoding: true) }
        return Array(UnsafeBufferPointer(start: output.data, count: output.size))
    }
}
