/// Animated PNG (APNG) output: each frame encoded by libpng (``PNGCodec/encode(_:compression:icc:exif:deadline:)``,
/// the still encoder and its zlib settings) and its `IDAT` data rewrapped in APNG chunks.
///
/// - The first frame is the `IDAT` image and part of the animation (an `fcTL` before it), so a
///   PNG decoder without APNG shows it; `acTL` comes before it with the frame count and
///   `num_plays` (Darkroom's plays: 0 = forever, as APNG's).
/// - A later frame covers only the rectangle of pixels that changed since the frame before
///   (1×1 when none did, so the frame count stays true), with `dispose_op` NONE: the rest of the
///   canvas is kept. The rectangle is written as it is with `blend_op` SOURCE (replaced, alpha
///   included); when every changed pixel is opaque it is also encoded with the unchanged pixels
///   transparent and `blend_op` OVER (they keep what is shown), and the smaller of the two is
///   written — transparent runs help scattered changes (−7 % on a 32×32 corpus GIF) but break
///   zlib's matches on flat backgrounds (+17 % on the 512×384 benchmark animation), so neither
///   wins always. Either way every shown frame is exactly the frame given. Its data goes into `fdAT` chunks after an `fcTL`; sequence numbers
///   count the `fcTL` and `fdAT` chunks from 0.
/// - Delays are `num/den` seconds: `ms/1000` up to 65,535 ms, `ms/10` in 1/100 s (rounded) up
///   to 655,350 ms, whole seconds beyond (at most 65,535 s); a duration of 10 ms or less is
///   written as 100 ms, what browsers show for it.
/// - `--keep` profile, EXIF, XMP and IPTC go into `iCCP`/`eXIf`/`iTXt`/`tEXt` before the image
///   data, from the first frame's encode.
///
/// Every frame is 8-bit RGBA (colour type 6). Memory: the previous frame and the file written
/// so far (the encoded frames), whatever the frame count.
final class APNGAnimWriter {
    private let width: Int, height: Int, loopCount: Int
    private let icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]?, iptc: [UInt8]?
    private var out: [UInt8] = []
    /// Where `acTL`'s data starts in ``out``: its frame count is written by ``finish()``.
    private var acTLData = 0
    private var previous: [UInt8]?
    private var sequence = 0
    private var frames = 0

    /// `loopCount`: total plays, 0 = forever. `icc`/`exif`/`xmp`/`iptc`: blocks to carry (nil: none).
    init(width: Int, height: Int, loopCount: Int, icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil, iptc: [UInt8]? = nil) {
        self.width = width
        self.height = height
        self.loopCount = loopCount
        self.icc = icc
        self.exif = exif
        self.xmp = xmp
        self.iptc = iptc
    }

    /// The `delay_num`/`delay_den` pair for a frame shown `ms` milliseconds (see the type's notes).
    static func delay(milliseconds ms: Int) -> (numerator: Int, denominator: Int) {
        if ms <= 10 { return (100, 1000) }
        if ms <= 65535 { return (ms, 1000) }
        if ms <= 655_350 { return (min(65535, (ms + 5) / 10), 100) }
        return (min(65535, (ms + 500) / 1000), 1)
    }

    /// Adds the next frame (straight RGBA8, `width × height`), shown for `durationMs` ms.
    /// Throws libpng's refusal as ``ImageEncodingError/codec(_:message:)``.
    func add(_ image: Image, durationMs: Int) throws(DarkroomError) {
        precondition(image.width == width && image.height == height && image.format == .rgba8)
        let delay = Self.delay(milliseconds: durationMs)
        if frames == 0 {
            let png = try PNGCodec.encode(image, icc: icc, exif: exif, xmp: xmp, iptc: iptc)
            let chunks = try Self.chunks(png)
            out = APNGScan.signature
            var wroteControl = false
            for (type, range) in chunks {
                switch type {
                case "IHDR":
                    out.append(contentsOf: png[range])
                case "IDAT":
                    if !wroteControl {
                        writeControl(frames: 0)
                        writeFrameControl(x: 0, y: 0, width: width, height: height, delay: delay, over: false)
                        wroteControl = true
                    }
                    out.append(contentsOf: png[range])   // the IDAT chunk as libpng wrote it
                case "IEND":
                    break
                default:
                    // iCCP, eXIf, the XMP and IPTC text and whatever else comes before the image data.
                    if !wroteControl { out.append(contentsOf: png[range]) }
                }
            }
            guard wroteControl else { throw .encoding(.codec(.png, message: "libpng wrote no image data")) }
        } else {
            let (rect, sub, masked) = changes(image)
            var png = try PNGCodec.encode(sub, icc: nil, exif: nil)
            var over = false
            if let masked {
                let alternative = try PNGCodec.encode(masked, icc: nil, exif: nil)
                if alternative.count < png.count { (png, over) = (alternative, true) }
            }
            writeFrameControl(x: rect.x, y: rect.y, width: rect.width, height: rect.height, delay: delay, over: over)
            for (type, range) in try Self.chunks(png) where type == "IDAT" {
                // fdAT: the sequence number, then the IDAT chunk's data.
                let data = png[(range.lowerBound + 8)..<(range.upperBound - 4)]
                APNGScan.append(chunk: "fdAT", (APNGScan.bytes32(sequence) + data)[...], to: &out)
                sequence += 1
            }
        }
        previous = image.pixels
        frames += 1
    }

    /// Ends the file (IEND) with the frame count in `acTL` and returns it. Throws
    /// ``ImageEncodingError/codec(_:message:)`` when no frame was added.
    func finish() throws(DarkroomError) -> [UInt8] {
        guard frames > 0 else { throw .encoding(.codec(.png, message: "an animation needs a frame")) }
        out.replaceSubrange(acTLData..<(acTLData + 4), with: APNGScan.bytes32(frames))
        let crc = APNGScan.crc(out, acTLData - 4, 12)
        out.replaceSubrange((acTLData + 8)..<(acTLData + 12), with: APNGScan.bytes32(Int(crc)))
        APNGScan.append(chunk: "IEND", [][...], to: &out)
        return out
    }

    /// `acTL` with `frames` (patched by ``finish()``) and the loop count as `num_plays`.
    private func writeControl(frames: Int) {
        acTLData = out.count + 8
        let plays = min(max(loopCount, 0), 0x7FFF_FFFF)
        APNGScan.append(chunk: "acTL", (APNGScan.bytes32(frames) + APNGScan.bytes32(plays))[...], to: &out)
    }

    /// An `fcTL` for the rectangle, dispose NONE, blend OVER or SOURCE.
    private func writeFrameControl(x: Int, y: Int, width: Int, height: Int, delay: (numerator: Int, denominator: Int),
                                   over: Bool) {
        var data = APNGScan.bytes32(sequence) + APNGScan.bytes32(width) + APNGScan.bytes32(height)
        data += APNGScan.bytes32(x) + APNGScan.bytes32(y)
        data += [UInt8(delay.numerator >> 8), UInt8(delay.numerator & 0xFF),
                 UInt8(delay.denominator >> 8), UInt8(delay.denominator & 0xFF), 0, over ? 1 : 0]
        APNGScan.append(chunk: "fcTL", data[...], to: &out)
        sequence += 1
    }

    /// What a later frame may write: the bounding box of the pixels that differ from the previous
    /// frame (two transparent pixels are equal whatever their colour; a 1×1 box at the origin when
    /// none does), its pixels, and — when every changed pixel is opaque — its pixels with the
    /// unchanged ones transparent, for blend OVER (nil otherwise).
    private func changes(_ image: Image) -> (rect: (x: Int, y: Int, width: Int, height: Int), pixels: Image, masked: Image?) {
        let previous = previous ?? []
        var x0 = width, y0 = height, x1 = 0, y1 = 0
        var changedOpaque = true
        image.pixels.withUnsafeBufferPointer { now in
            previous.withUnsafeBufferPointer { before in
                for y in 0..<height {
                    var o = y * width * 4
                    for x in 0..<width {
                        if !Self.same(now, before, o) {
                            if x < x0 { x0 = x }
                            if x >= x1 { x1 = x + 1 }
                            if y < y0 { y0 = y }
                            y1 = y + 1
                            if now[o + 3] != 255 { changedOpaque = false }
                        }
                        o += 4
                    }
                }
            }
        }
        let rect = x0 < x1 ? (x: x0, y: y0, width: x1 - x0, height: y1 - y0) : (x: 0, y: 0, width: 1, height: 1)
        var sub = Image(unchecked: rect.width, height: rect.height, format: .rgba8)
        for row in 0..<rect.height {
            let a = ((rect.y + row) * width + rect.x) * 4
            sub.pixels.replaceSubrange((row * rect.width * 4)..<((row + 1) * rect.width * 4),
                                       with: image.pixels[a..<(a + rect.width * 4)])
        }
        guard x0 < x1 && changedOpaque else { return (rect, sub, nil) }
        var masked = sub
        image.pixels.withUnsafeBufferPointer { now in
            previous.withUnsafeBufferPointer { before in
                masked.pixels.withUnsafeMutableBufferPointer { out in
                    for row in 0..<rect.height {
                        var o = ((rect.y + row) * width + rect.x) * 4
                        var d = row * rect.width * 4
                        for _ in 0..<rect.width {
                            // Unchanged: transparent black, which OVER leaves as shown.
                            if Self.same(now, before, o) { out[d] = 0; out[d + 1] = 0; out[d + 2] = 0; out[d + 3] = 0 }
                            o += 4
                            d += 4
                        }
                    }
                }
            }
        }
        return (rect, sub, masked)
    }

    /// The pixels at `o` are equal: both transparent, or the same RGBA.
    @inline(__always)
    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ o: Int) -> Bool {
        (a[o + 3] == 0 && b[o + 3] == 0) || (a[o] == b[o] && a[o + 1] == b[o + 1] && a[o + 2] == b[o + 2] && a[o + 3] == b[o + 3])
    }

    /// The chunks of a PNG libpng wrote: each type and the range of the whole chunk (length to CRC).
    private static func chunks(_ png: [UInt8]) throws(DarkroomError) -> [(String, Range<Int>)] {
        var result: [(String, Range<Int>)] = []
        var pos = 8
        while png.count - pos >= 12 {
            let length = APNGScan.be32(png, pos)
            guard length <= png.count - pos - 12 else { break }
            result.append((APNGScan.type(png, pos), pos..<(pos + 12 + length)))
            pos += 12 + length
        }
        guard pos == png.count else { throw .encoding(.codec(.png, message: "libpng's output has a broken chunk at offset \(pos)")) }
        return result
    }
}
