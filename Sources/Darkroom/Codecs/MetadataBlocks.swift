import CDarkroom

/// The metadata blocks the codec libraries do not hand over — XMP, IPTC-IIM and a C2PA
/// manifest — read by one walk over the container (JPEG marker segments up to the scan, PNG
/// chunks, WebP RIFF chunks, top-level ISO-BMFF boxes, GIF extensions), and the provenance label
/// of the XMP. ``ImageSource`` reads them once, when it opens a file, into ``ImageMetadata``.
///
/// Every length comes from the file and is checked against what is left of it before use; a
/// block over its limit (``Limits/maxXMPBytes``, ``Limits/maxMetadataBytes``) is not copied and
/// a PNG text is inflated into at most that limit: each becomes a problem
/// (``ImageMetadata/metadataProblems``) that a conversion reports when it would keep that block.
struct MetadataBlocks: Equatable {
    var xmp: [UInt8]?
    var iptc: [UInt8]?
    var c2pa: C2PAManifest?
    var problems: [MetadataWarning] = []

    /// Reads the blocks of `bytes`, a `format` file. `avifXMP`: an AVIF's XMP, which libavif has
    /// already read from its `mime` item.
    init(_ bytes: [UInt8], format: ImageFormat, avifXMP: [UInt8]? = nil) {
        switch format {
        case .jpeg: jpeg(bytes)
        case .png: png(bytes)
        case .webp: webp(bytes)
        case .avif:
            if let avifXMP { setXMP(avifXMP[...], from: "the AVIF XMP item") }
            avif(bytes)
        case .gif: gif(bytes)
        }
    }

    /// The blocks as ``ImageMetadata`` carries them, with the provenance label read from the XMP.
    func apply(to metadata: inout ImageMetadata) {
        metadata.xmp = xmp
        metadata.iptc = iptc
        let label: (label: String?, refused: String?) = xmp.map(XMPProvenance.read) ?? (nil, nil)
        metadata.provenance = Provenance(digitalSourceType: label.label, c2pa: c2pa)
        metadata.metadataProblems = problems
        if let refused = label.refused {
            metadata.metadataProblems.append(MetadataWarning(block: .provenance, reason: .invalid,
                message: "provenance label (the XMP's Iptc4xmpExt:DigitalSourceType) \(refused): not read, so not kept"))
        }
    }

    // MARK: Blocks

    /// Keeps the first XMP packet (trailing NUL bytes dropped, as some writers pad with them),
    /// or notes one over ``Limits/maxXMPBytes``.
    private mutating func setXMP(_ packet: ArraySlice<UInt8>, from place: String) {
        guard xmp == nil else { return }
        var end = packet.endIndex
        while end > packet.startIndex && packet[end - 1] == 0 { end -= 1 }
        let trimmed = packet[packet.startIndex..<end]
        guard !trimmed.isEmpty else { return }
        guard trimmed.count <= Limits.maxXMPBytes else {
            problems.append(MetadataWarning(block: .xmp, reason: .tooLarge,
                                            message: "XMP packet of \(trimmed.count) bytes (\(place)) is over the \(Limits.maxXMPBytes)-byte limit: not kept, and its provenance label not read"))
            return
        }
        xmp = Array(trimmed)
    }

    /// Keeps the first IPTC-IIM records, or notes them over ``Limits/maxMetadataBytes``.
    private mutating func setIPTC(_ records: ArraySlice<UInt8>, from place: String) {
        guard iptc == nil, !records.isEmpty else { return }
        guard records.count <= Limits.maxMetadataBytes else {
            problems.append(MetadataWarning(block: .iptc, reason: .tooLarge,
                                            message: "IPTC records of \(records.count) bytes (\(place)) are over the \(Limits.maxMetadataBytes)-byte limit: not kept"))
            return
        }
        iptc = Array(records)
    }

    private mutating func note(_ block: MetadataWarning.Block, _ message: String) {
        problems.append(MetadataWarning(block: block, reason: .invalid, message: message))
    }

    /// The IPTC-NAA record (resource 0x0404) of Photoshop image resources (`8BIM` blocks: the
    /// signature, a 16-bit id, a Pascal name padded to an even length, a 32-bit size, the data
    /// padded to an even length), or nil.
    static func iptcResource(_ b: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var i = b.startIndex
        while b.endIndex - i >= 12 {
            guard b[i..<(i + 4)].elementsEqual("8BIM".utf8) else { return nil }
            let id = Int(b[i + 4]) << 8 | Int(b[i + 5])
            let nameLength = Int(b[i + 6])
            var j = i + 6 + 1 + nameLength
            if (1 + nameLength) % 2 == 1 { j += 1 }
            guard b.endIndex - j >= 4 else { return nil }
            let size = Int(b[j]) << 24 | Int(b[j + 1]) << 16 | Int(b[j + 2]) << 8 | Int(b[j + 3])
            j += 4
            guard size <= b.endIndex - j else { return nil }
            if id == 0x0404 { return b[j..<(j + size)] }
            i = j + size + (size & 1)
        }
        return nil
    }

    // MARK: JPEG

    private mutating func jpeg(_ b: [UInt8]) {
        let xmpHeader = Array("http://ns.adobe.com/xap/1.0/\0".utf8)
        let extendedHeader = Array("http://ns.adobe.com/xmp/extension/\0".utf8)
        let photoshop = Array("Photoshop 3.0\0".utf8)
        var resources: [UInt8] = []
        var resourcesTooLarge = false
        var extended = (segments: 0, bytes: 0)
        var c2paBytes = 0
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else {
                // Stray bytes between segments: libjpeg skips to the next marker, and so does this walk.
                guard let next = b[i...].firstIndex(of: 0xFF) else { break }
                i = next
                continue
            }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { break }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, length <= b.count - i - 2 else { break }
            let body = b[(i + 4)..<(i + 2 + length)]
            switch marker {
            case 0xE1:
                if body.starts(with: xmpHeader) {
                    setXMP(body.dropFirst(xmpHeader.count), from: "JPEG APP1")
                } else if body.starts(with: extendedHeader) {
                    extended.segments += 1
                    extended.bytes += body.count
                }
            case 0xED where body.starts(with: photoshop):
                // Photoshop spreads large resources over consecutive APP13 segments.
                let data = body.dropFirst(photoshop.count)
                if resources.count + data.count <= Limits.maxMetadataBytes { resources += data } else { resourcesTooLarge = true }
            case 0xEB where Self.isC2PA(jumbf: body):
                c2paBytes += length + 2
            default: break
            }
            i += 2 + length
        }
        if resourcesTooLarge {
            problems.append(MetadataWarning(block: .iptc, reason: .tooLarge,
                                            message: "Photoshop APP13 resources over the \(Limits.maxMetadataBytes)-byte limit: their IPTC records are not kept"))
        } else if let records = Self.iptcResource(resources[...]) {
            setIPTC(records, from: "JPEG APP13")
        }
        if extended.segments > 0 {
            note(.xmp, "extended XMP (\(extended.segments) APP1 segment\(extended.segments == 1 ? "" : "s"), \(extended.bytes) bytes) is not kept: Darkroom writes the standard XMP packet only")
        }
        if c2paBytes > 0 { c2pa = C2PAManifest(container: "JPEG APP11", byteCount: c2paBytes) }
    }

    /// A JPEG APP11 JUMBF segment of a C2PA manifest store: the `JP` common identifier, the box
    /// instance and packet sequence numbers, then a `jumb` superbox whose `jumd` description box
    /// has the C2PA type (a UUID starting with the bytes `c2pa`).
    static func isC2PA(jumbf body: ArraySlice<UInt8>) -> Bool {
        let s = body.startIndex
        guard body.count >= 28, body[s] == 0x4A, body[s + 1] == 0x50 else { return false }
        return body[(s + 12)..<(s + 16)].elementsEqual("jumb".utf8) && body[(s + 20)..<(s + 24)].elementsEqual("jumd".utf8)
            && body[(s + 24)..<(s + 28)].elementsEqual("c2pa".utf8)
    }

    // MARK: PNG

    private mutating func png(_ b: [UInt8]) {
        var i = 8
        var c2paBytes = 0
        var xmpFromProfile: ArraySlice<UInt8>?
        while i + 12 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length <= b.count - i - 12 else { break }
            let type = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            let data = b[(i + 8)..<(i + 8 + length)]
            switch type {
            case "iTXt", "tEXt", "zTXt":
                if let (keyword, text) = pngText(type, data, at: i) {
                    switch keyword {
                    case "XML:com.adobe.xmp": setXMP(text, from: "PNG \(type) XML:com.adobe.xmp")
                    case "Raw profile type xmp":
                        if xmpFromProfile == nil { xmpFromProfile = rawProfile(text, keyword: keyword)?[...] }
                    case "Raw profile type APP1":
                        let header = Array("http://ns.adobe.com/xap/1.0/\0".utf8)
                        if xmpFromProfile == nil, let payload = rawProfile(text, keyword: keyword), payload.starts(with: header) {
                            xmpFromProfile = payload.dropFirst(header.count)
                        }
                    case "Raw profile type iptc", "Raw profile type 8bim":
                        guard iptc == nil, let payload = rawProfile(text, keyword: keyword) else { break }
                        if payload.first == 0x1C {
                            setIPTC(payload[...], from: "PNG \(keyword)")
                        } else if let records = Self.iptcResource(payload[...]) {
                            setIPTC(records, from: "PNG \(keyword)")
                        }
                    default: break
                    }
                }
            case "caBX":
                c2paBytes += length
            case "IEND":
                i = b.count
                continue
            default: break
            }
            i += 12 + length
        }
        if xmp == nil, let xmpFromProfile { setXMP(xmpFromProfile, from: "PNG Raw profile type xmp") }
        if c2paBytes > 0 { c2pa = C2PAManifest(container: "PNG caBX", byteCount: c2paBytes) }
    }

    /// The keyword and the text of a `tEXt`, `zTXt` or `iTXt` chunk whose keyword is one Darkroom
    /// reads (compressed text inflated into at most its block's limit), or nil.
    private mutating func pngText(_ type: String, _ data: ArraySlice<UInt8>, at offset: Int) -> (String, ArraySlice<UInt8>)? {
        guard let nul = data.firstIndex(of: 0), nul - data.startIndex <= 79 else { return nil }
        let keyword = String(decoding: data[data.startIndex..<nul], as: UTF8.self)
        guard keyword == "XML:com.adobe.xmp" || keyword.hasPrefix("Raw profile type ") else { return nil }
        let limit = keyword.hasSuffix("xmp") ? Limits.maxXMPBytes : Limits.maxMetadataBytes
        // A raw profile is hex: two characters a byte, and a short header.
        let textLimit = keyword == "XML:com.adobe.xmp" ? limit : 2 * limit + limit / 16 + 64
        var rest = data[(nul + 1)...]
        var compressed = false
        switch type {
        case "zTXt":
            guard rest.first == 0 else { return nil }
            rest = rest.dropFirst()
            compressed = true
        case "iTXt":
            guard rest.count >= 2, rest.first! <= 1, rest[rest.startIndex + 1] == 0 else { return nil }
            compressed = rest.first == 1
            rest = rest.dropFirst(2)
            // Language tag and translated keyword, each ended by a NUL.
            for _ in 0..<2 {
                guard let end = rest.firstIndex(of: 0) else { return nil }
                rest = rest[(end + 1)...]
            }
        default: break
        }
        // Uncompressed text is a slice of the file: its size is checked where it is kept.
        guard compressed else { return (keyword, rest) }
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        let rc = rest.withUnsafeBufferPointer { darkroom_inflate($0.baseAddress, $0.count, textLimit, &out, &count) }
        defer { darkroom_free(out) }
        switch rc {
        case 0: return (keyword, (out.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])[...])
        case -2:
            tooLarge(keyword, "over \(textLimit) bytes once inflated", type: type, at: offset)
        default:
            note(keyword.hasSuffix("iptc") || keyword.hasSuffix("8bim") ? .iptc : .xmp,
                 "PNG \(type) chunk '\(keyword)' at offset \(offset) does not inflate (damaged zlib data): not kept")
        }
        return nil
    }

    private mutating func tooLarge(_ keyword: String, _ size: String, type: String, at offset: Int) {
        let iptc = keyword.hasSuffix("iptc") || keyword.hasSuffix("8bim")
        let what = iptc ? "IPTC records are" : "XMP packet is"
        let limit = iptc ? Limits.maxMetadataBytes : Limits.maxXMPBytes
        problems.append(MetadataWarning(block: iptc ? .iptc : .xmp, reason: .tooLarge,
                                        message: "PNG \(type) chunk '\(keyword)' at offset \(offset) holds \(size): its \(what) over the \(limit)-byte limit: not kept"
                                            + (iptc ? "" : ", and its provenance label not read")))
    }

    /// The payload of an ImageMagick raw profile (`\n<name>\n<decimal length>\n<hex digits>`),
    /// or nil with a problem noted.
    private mutating func rawProfile(_ text: ArraySlice<UInt8>, keyword: String) -> [UInt8]? {
        let block: MetadataWarning.Block = keyword.hasSuffix("iptc") || keyword.hasSuffix("8bim") ? .iptc : .xmp
        guard let payload = Self.rawProfilePayload(text) else {
            note(block, "PNG text chunk '\(keyword)' is not a raw profile (a newline, a name, a decimal length and that many hex-coded bytes): not kept")
            return nil
        }
        return payload
    }

    /// The bytes of a raw profile, or nil when the text is not one or its hex digits do not give
    /// the length it declares (at most ``Limits/maxMetadataBytes``, or ``Limits/maxXMPBytes``).
    static func rawProfilePayload(_ t: ArraySlice<UInt8>) -> [UInt8]? {
        var i = t.startIndex
        guard i < t.endIndex, t[i] == 0x0A else { return nil }
        i += 1
        while i < t.endIndex && t[i] != 0x0A { i += 1 }
        guard i < t.endIndex else { return nil }
        i += 1
        while i < t.endIndex && (t[i] == 0x20 || t[i] == 0x09) { i += 1 }
        var declared = 0, digits = 0
        while i < t.endIndex, (0x30...0x39).contains(t[i]) {
            digits += 1
            guard digits <= 9 else { return nil }
            declared = declared * 10 + Int(t[i] - 0x30)
            i += 1
        }
        guard digits > 0, declared > 0, declared <= max(Limits.maxMetadataBytes, Limits.maxXMPBytes),
              i < t.endIndex, t[i] == 0x0A else { return nil }
        i += 1
        var out: [UInt8] = []
        out.reserveCapacity(min(declared, (t.endIndex - i) / 2))
        var high: UInt8?
        while i < t.endIndex && out.count < declared {
            let c = t[i]
            i += 1
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            case 0x41...0x46: v = c - 0x41 + 10
            case 0x20, 0x0A, 0x0D, 0x09: continue
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out.count == declared ? out : nil
    }

    // MARK: WebP

    private mutating func webp(_ b: [UInt8]) {
        guard b.count >= 12 else { return }
        var i = 12
        while i + 8 <= b.count {
            let fourcc = String(decoding: b[i..<(i + 4)], as: UTF8.self)
            let size = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            guard size <= b.count - i - 8 else { break }
            let data = b[(i + 8)..<(i + 8 + size)]
            switch fourcc {
            case "XMP ": setXMP(data, from: "WebP XMP chunk")
            case "C2PA": c2pa = C2PAManifest(container: "WebP C2PA", byteCount: size)
            default: break
            }
            i += 8 + size + (size & 1)
        }
    }

    // MARK: AVIF

    /// C2PA's ISO-BMFF box: a top-level `uuid` box of this extended type.
    static let c2paUUID: [UInt8] = [0xD8, 0xFE, 0xC3, 0xD6, 0x1B, 0x0E, 0x48, 0x3C, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7E, 0xC4, 0x81]

    private mutating func avif(_ b: [UInt8]) {
        for box in AVIFBoxes.boxes(in: b, 0..<b.count) where box.type == "uuid" || box.type == "jumb" {
            let body = b[box.body]
            let isC2PA = box.type == "uuid" ? body.starts(with: Self.c2paUUID)
                : body.count >= 16 && body[(body.startIndex + 4)..<(body.startIndex + 8)].elementsEqual("jumd".utf8)
                    && body[(body.startIndex + 8)..<(body.startIndex + 12)].elementsEqual("c2pa".utf8)
            if isC2PA, c2pa == nil {
                c2pa = C2PAManifest(container: "AVIF \(box.type)", byteCount: box.body.count + 8)
            }
        }
    }

    // MARK: GIF

    /// The XMP of a `XMP DataXMP` application extension: the raw packet, written so that its bytes
    /// read as sub-blocks, up to the 258-byte "magic trailer" (0x01, 0xFF … 0x00) and the terminator.
    private mutating func gif(_ b: [UInt8]) {
        let identifier = Array("XMP DataXMP".utf8)
        guard b.count >= 13 else { return }
        var searchedXMP = false
        var i = 13
        if b[10] & 0x80 != 0 { i += 3 << (Int(b[10] & 7) + 1) }
        func skipSubBlocks(_ j: inout Int) -> Bool {
            while j < b.count {
                let size = Int(b[j])
                j += 1
                if size == 0 { return true }
                j += size
            }
            return false
        }
        while i < b.count {
            switch b[i] {
            case 0x21:
                guard i + 2 < b.count else { return }
                if !searchedXMP, b[i + 1] == 0xFF, b[i + 2] == 11, i + 14 <= b.count, b[(i + 3)..<(i + 14)].elementsEqual(identifier) {
                    // The first such extension only, and its packet searched within the XMP limit
                    // (plus the trailer): the walk stays linear in the file whatever it holds.
                    searchedXMP = true
                    let start = i + 14
                    let end = min(b.count, start + Limits.maxXMPBytes + 258)
                    // The trailer starts 0x01 0xFF 0xFE 0xFD … and ends 0x01 0x00 0x00.
                    var k = start
                    while k + 4 <= end, !(b[k] == 0x01 && b[k + 1] == 0xFF && b[k + 2] == 0xFE && b[k + 3] == 0xFD) { k += 1 }
                    if k + 4 <= end {
                        setXMP(b[start..<k], from: "GIF XMP application extension")
                    } else {
                        note(.xmp, "the GIF XMP application extension at offset \(i) has no end (its 258-byte trailer) within the \(Limits.maxXMPBytes)-byte limit: not kept")
                    }
                }
                var j = i + 2
                guard skipSubBlocks(&j) else { return }
                i = j
            case 0x2C:
                guard i + 10 <= b.count else { return }
                var j = i + 10
                if b[i + 9] & 0x80 != 0 { j += 3 << (Int(b[i + 9] & 7) + 1) }
                j += 1
                guard j <= b.count, skipSubBlocks(&j) else { return }
                i = j
            default:
                return
            }
        }
    }
}
