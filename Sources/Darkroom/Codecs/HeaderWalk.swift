import CDarkroom
#if canImport(Glibc)
import Glibc
#endif

/// A walk over a file's container structure — PNG chunks, JPEG marker segments, the WebP RIFF
/// chunks, top-level ISO-BMFF boxes, GIF blocks — that finds damage without decoding a pixel,
/// and notes what the header decoders do not report (XMP, CICP, frames, alpha declarations).
///
/// What counts as damage: the file ends inside a chunk, segment, box or block, or before the
/// format's end marker (PNG `IEND`, JPEG EOI, GIF trailer); a RIFF size larger than the file; a
/// PNG chunk whose CRC does not match (corrupt, ``DecodeWarning/Kind/truncated``, for a critical
/// chunk; a ``DecodeWarning/Kind/warning`` for an ancillary one, which decoders drop); bytes that
/// are no marker where a JPEG marker must be. Bytes after the end marker are not damage (a JPEG
/// with an MPF second image keeps it there).
///
/// Every read is bounds-checked and every step moves forward, so any input ends the walk.
struct HeaderWalk {
    /// What is wrong with the structure, in file order (empty for an intact file).
    var damage: [DecodeWarning] = []
    /// Frames the container declares (APNG `acTL`, WebP `ANMF` chunks, GIF image blocks whose
    /// data is all in the file — a first frame cut short counts, it decodes in part —: 0 for a
    /// GIF without any), or nil when the walk does not count them (JPEG, AVIF).
    var frameCount: Int?
    /// The container declares alpha (PNG colour type 4/6 or `tRNS`, WebP `ALPH` or VP8X alpha
    /// flag, GIF transparency on any frame, an AVIF alpha `auxC`), or nil when the walk does not
    /// tell (JPEG, an AVIF without an alpha `auxC`).
    var hasAlpha: Bool?
    /// Bits per sample as stored (PNG IHDR); nil elsewhere.
    var bitDepth: Int?
    var hasEXIF = false
    var hasXMP = false
    var hasICC = false
    /// Coding-independent code points (PNG `cICP`, AVIF `colr` of type `nclx`).
    var cicp: CICP?

    init(_ bytes: [UInt8], format: ImageFormat) {
        bytes.withUnsafeBufferPointer { b in
            switch format {
            case .png: png(b)
            case .jpeg: jpeg(b)
            case .webp: webp(b)
            case .avif: avif(bytes)
            case .gif: gif(b)
            }
        }
    }

    private mutating func truncated(_ message: String) {
        damage.append(DecodeWarning(kind: .truncated, message: message))
    }

    // MARK: PNG

    private mutating func png(_ b: UnsafeBufferPointer<UInt8>) {
        let n = b.count
        var i = 8
        var sawIDAT = false, sawIEND = false, cut = false, idatEnded = false, reportedSplitIDAT = false
        var frames: Int?
        while i < n {
            guard n - i >= 12 else {
                truncated("the file ends inside the chunk header at offset \(i)")
                cut = true
                break
            }
            let length = be32(b, i)
            let type = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 4)..<(i + 8)]), as: UTF8.self)
            guard length <= 0x7FFF_FFFF else {
                truncated("chunk '\(printable(type))' at offset \(i) declares \(length) bytes (at most 2^31-1)")
                cut = true
                break
            }
            guard length <= n - i - 12 else {
                truncated("chunk '\(printable(type))' at offset \(i) needs \(length + 12) bytes; the file ends \(n - i) bytes after its start")
                cut = true
                break
            }
            let data = i + 8
            let stored = UInt32(be32(b, data + length))
            let computed = darkroom_crc32(b.baseAddress! + i + 4, length + 4)
            if stored != computed {
                let critical = (b[i + 4] & 0x20) == 0
                damage.append(DecodeWarning(kind: critical ? .truncated : .warning,
                                            message: "CRC mismatch in chunk '\(printable(type))' at offset \(i)"))
            }
            switch type {
            case "IHDR" where length >= 13:
                bitDepth = Int(b[data + 8])
                let colourType = b[data + 9]
                hasAlpha = (hasAlpha ?? false) || colourType == 4 || colourType == 6
            case "tRNS": hasAlpha = true
            case "IDAT":
                if idatEnded && !reportedSplitIDAT {
                    truncated("IDAT chunk at offset \(i) after other chunks: the image data must be consecutive")
                    reportedSplitIDAT = true
                }
                sawIDAT = true
            case "acTL" where length >= 8:
                let declared = be32(b, data)
                if (1...0x7FFF_FFFF).contains(declared) {
                    frames = declared
                } else {
                    // Decoders ignore such an animation and show the default image.
                    damage.append(DecodeWarning(kind: .warning, message: "acTL chunk declares \(declared) frames (1 to 2^31-1)"))
                }
            case "iCCP": hasICC = true
            case "eXIf": hasEXIF = true
            case "cICP" where length >= 4:
                cicp = CICP(primaries: Int(b[data]), transfer: Int(b[data + 1]), matrix: Int(b[data + 2]), videoFullRangeFlag: Int(b[data + 3]))
            case "iTXt", "tEXt", "zTXt":
                let keyword = Array("XML:com.adobe.xmp".utf8) + [0]
                if length >= keyword.count, Array(b[data..<(data + keyword.count)]) == keyword { hasXMP = true }
            default: break
            }
            if sawIDAT && type != "IDAT" { idatEnded = true }
            i = data + length + 4
            if type == "IEND" { sawIEND = true; break }
        }
        if !cut && !sawIDAT { truncated("no IDAT chunk: the image data is missing") }
        if !cut && !sawIEND { truncated("no IEND chunk: the file ends after \(n) bytes without it") }
        frameCount = frames.map { max(1, $0) } ?? 1
        if hasAlpha == nil { hasAlpha = false }
    }

    // MARK: JPEG

    private mutating func jpeg(_ b: UnsafeBufferPointer<UInt8>) {
        let n = b.count
        var i = 2   // after SOI
        var extraneousReported = false
        while true {
            guard i < n else { truncated("no EOI marker: the file ends after \(n) bytes"); return }
            if b[i] != 0xFF {
                // libjpeg skips to the next marker ("extraneous bytes before marker"): so does the walk.
                let start = i
                guard let next = find(0xFF, in: b, from: i) else {
                    truncated("no EOI marker: the file ends after \(n) bytes"); return
                }
                i = next
                if !extraneousReported {
                    damage.append(DecodeWarning(kind: .warning, message: "\(i - start) extraneous bytes before the marker at offset \(i)"))
                    extraneousReported = true
                }
                continue
            }
            guard i + 1 < n else { truncated("no EOI marker: the file ends after \(n) bytes"); return }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }                   // fill byte
            if marker == 0xD9 { return }                              // EOI
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            guard n - i >= 4 else {
                truncated("the file ends inside the header of marker 0xFF\(hex(marker)) at offset \(i)"); return
            }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2 else {
                truncated("marker 0xFF\(hex(marker)) at offset \(i) declares a length of \(length) (at least 2)"); return
            }
            guard length <= n - i - 2 else {
                truncated("segment 0xFF\(hex(marker)) at offset \(i) needs \(length + 2) bytes; the file ends \(n - i) bytes after its start")
                return
            }
            let body = i + 4, bodyLength = length - 2
            switch marker {
            case 0xE1:
                if starts(b, body, bodyLength, "Exif\0\0") { hasEXIF = true }
                if starts(b, body, bodyLength, "http://ns.adobe.com/xap/1.0/\0") { hasXMP = true }
            case 0xE2:
                if starts(b, body, bodyLength, "ICC_PROFILE\0") { hasICC = true }
            default: break
            }
            i += 2 + length
            if marker == 0xDA {
                // Entropy-coded data: the next marker is a 0xFF not followed by 0x00 (stuffing),
                // a restart marker or a fill byte.
                var j = i
                while true {
                    guard let ff = find(0xFF, in: b, from: j) else {
                        truncated("no EOI marker: the file ends in scan data after \(n) bytes"); return
                    }
                    var k = ff + 1
                    while k < n && b[k] == 0xFF { k += 1 }
                    guard k < n else { truncated("no EOI marker: the file ends in scan data after \(n) bytes"); return }
                    if b[k] == 0x00 || (0xD0...0xD7).contains(b[k]) { j = k + 1; continue }
                    i = k - 1
                    break
                }
            }
        }
    }

    // MARK: WebP

    private mutating func webp(_ b: UnsafeBufferPointer<UInt8>) {
        let n = b.count
        guard n >= 12 else { truncated("the file ends inside the RIFF header"); return }
        let declared = le32(b, 4) + 8
        if declared > n {
            truncated("the RIFF header declares \(declared) bytes; the file has \(n)")
        }
        let end = min(declared, n)
        var i = 12
        var frames = 0, alpha = false
        while i < end {
            guard end - i >= 8 else { truncated("the file ends inside the chunk header at offset \(i)"); break }
            let fourcc = String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + 4)]), as: UTF8.self)
            let size = le32(b, i + 4)
            guard size <= end - i - 8 else {
                truncated("chunk '\(printable(fourcc))' at offset \(i) needs \(size + 8) bytes; the file ends \(end - i) bytes after its start")
                break
            }
            let data = i + 8
            switch fourcc {
            case "VP8X" where size >= 1:
                if b[data] & 0x10 != 0 { alpha = true }
            case "ALPH": alpha = true
            case "VP8L" where size >= 5:
                // The lossless header: signature 0x2F, 14-bit width-1, 14-bit height-1, alpha_is_used.
                if b[data + 4] & 0x10 != 0 { alpha = true }
            case "ANMF": frames += 1
            case "ICCP": hasICC = true
            case "EXIF": hasEXIF = true
            case "XMP ": hasXMP = true
            default: break
            }
            i = data + size + (size & 1)
        }
        frameCount = max(1, frames)
        hasAlpha = alpha
    }

    // MARK: AVIF (ISO-BMFF)

    private mutating func avif(_ bytes: [UInt8]) {
        let n = bytes.count
        // The top-level boxes' damage is the AVIF reader's (`AVIFCodec.File`, through
        // `AVIFBoxes.topLevelDamage`), so that inspect, check and convert say the same.
        // Colour: the `colr` properties of the item properties (meta → iprp → ipco).
        guard let meta = AVIFBoxes.boxes(in: bytes, 0..<n).first(where: { $0.type == "meta" }), meta.body.count >= 4,
              let iprp = AVIFBoxes.boxes(in: bytes, meta.body.lowerBound + 4..<meta.body.upperBound).first(where: { $0.type == "iprp" }),
              let ipco = AVIFBoxes.boxes(in: bytes, iprp.body).first(where: { $0.type == "ipco" }) else { return }
        for property in AVIFBoxes.boxes(in: bytes, ipco.body) where property.type == "colr" && property.body.count >= 4 {
            let body = property.body.lowerBound
            let colourType = String(decoding: bytes[body..<(body + 4)], as: UTF8.self)
            if colourType == "nclx" && property.body.count >= 11 && cicp == nil {
                func u16(_ o: Int) -> Int { Int(bytes[body + o]) << 8 | Int(bytes[body + o + 1]) }
                cicp = CICP(primaries: u16(4), transfer: u16(6), matrix: u16(8), fullRange: bytes[body + 10] & 0x80 != 0)
            }
            if colourType == "prof" || colourType == "rICC" { hasICC = true }
        }
        // An alpha auxiliary image: an `auxC` property with the alpha URN (libavif 0.11 misses
        // some, e.g. alpha beside a grid).
        for property in AVIFBoxes.boxes(in: bytes, ipco.body) where property.type == "auxC" && property.body.count > 4 {
            let urn = String(decoding: bytes[(property.body.lowerBound + 4)..<property.body.upperBound].prefix(while: { $0 != 0 }), as: UTF8.self)
            if urn == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha" || urn == "urn:mpeg:hevc:2015:auxid:1" { hasAlpha = true }
        }
    }

    // MARK: GIF

    private mutating func gif(_ b: UnsafeBufferPointer<UInt8>) {
        let n = b.count
        guard n >= 13 else { truncated("the file ends inside the logical screen descriptor"); return }
        var i = 13
        let packed = b[10]
        if packed & 0x80 != 0 { i += 3 << (Int(packed & 7) + 1) }
        var frames = 0
        var alpha = false
        defer {
            frameCount = frames
            hasAlpha = alpha
        }
        /// Skips data sub-blocks from `i` through the terminator; false when the file ends first.
        func skipSubBlocks(_ i: inout Int) -> Bool {
            while i < n {
                let size = Int(b[i])
                i += 1
                if size == 0 { return true }
                i += size
            }
            return false
        }
        while true {
            guard i < n else {
                truncated("no trailer: the file ends after \(frames) frame\(frames == 1 ? "" : "s") (\(n) bytes)"); return
            }
            switch b[i] {
            case 0x3B:
                return
            case 0x21:
                guard n - i >= 2 else { truncated("the file ends inside the extension at offset \(i)"); return }
                let label = b[i + 1]
                if label == 0xF9 && n - i >= 4 && b[i + 2] >= 4 && b[i + 3] & 1 != 0 { alpha = true }
                if label == 0xFF && n - i >= 14 && b[i + 2] == 11 && starts(b, i + 3, 11, "XMP DataXMP") { hasXMP = true }
                if label == 0xFF && n - i >= 14 && b[i + 2] == 11 && starts(b, i + 3, 11, "ICCRGBG1012") { hasICC = true }
                var j = i + 2
                guard skipSubBlocks(&j) else { truncated("the file ends inside the extension at offset \(i)"); return }
                i = j
            case 0x2C:
                guard n - i >= 11 else { truncated("the file ends inside the descriptor of frame \(frames + 1) at offset \(i)"); return }
                let local = b[i + 9]
                var j = i + 10
                if local & 0x80 != 0 { j += 3 << (Int(local & 7) + 1) }
                j += 1   // LZW minimum code size
                guard j <= n, skipSubBlocks(&j) else {
                    // A frame cut short is not counted, except a first frame (its rows decode).
                    truncated("the file ends in the image data of frame \(frames + 1) (offset \(i))")
                    if frames == 0 && j <= n { frames = 1 }
                    return
                }
                frames += 1
                i = j
            default:
                // Decoders stop here (giflib) or skip ahead (Pillow): the frames before are intact.
                damage.append(DecodeWarning(kind: .warning, message: "byte 0x\(hex(b[i])) at offset \(i) starts no GIF block; "
                                            + "the \(n - i) bytes from there are ignored (after \(frames) frame\(frames == 1 ? "" : "s"))"))
                return
            }
        }
    }

    // MARK: Bytes

    private func be32(_ b: UnsafeBufferPointer<UInt8>, _ o: Int) -> Int {
        Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
    }

    private func le32(_ b: UnsafeBufferPointer<UInt8>, _ o: Int) -> Int {
        Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24
    }

    /// True when the `count` bytes at `offset` start with `text`.
    private func starts(_ b: UnsafeBufferPointer<UInt8>, _ offset: Int, _ count: Int, _ text: String) -> Bool {
        let t = Array(text.utf8)
        guard count >= t.count, offset + t.count <= b.count else { return false }
        for k in 0..<t.count where b[offset + k] != t[k] { return false }
        return true
    }

    /// The offset of the next `byte` at or after `from` (memchr), or nil.
    private func find(_ byte: UInt8, in b: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < b.count, let base = b.baseAddress else { return nil }
        guard let p = memchr(base + from, Int32(byte), b.count - from) else { return nil }
        return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    /// A chunk type or box name as text: bytes outside printable ASCII as `?`.
    private func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? Character($0) : "?" })
    }
}
