/// The little EXIF work Darkroom needs: find the orientation tag in a TIFF-structured payload,
/// and rewrite it to 1 when EXIF is kept (pixels are always written upright); tell whether IFD0
/// points to a GPS IFD (``hasGPS(_:)``, for `inspect`).
enum EXIF {
    /// Tag 274, the orientation.
    static let orientationTag = 0x0112
    /// Tag 34853, the pointer to the GPS IFD.
    static let gpsTag = 0x8825

    /// Byte offset of the orientation tag's value and the byte order, or nil.
    private static func orientationEntry(_ data: [UInt8]) -> (offset: Int, littleEndian: Bool)? {
        entry(orientationTag, in: data)
    }

    /// True when IFD0 of the payload has a GPS IFD pointer (tag 34853): the file says where it was taken.
    static func hasGPS(_ data: [UInt8]?) -> Bool {
        guard let data else { return false }
        return entry(gpsTag, in: data) != nil
    }

    /// Byte offset of the value of IFD0's entry `tag` and the byte order, or nil.
    private static func entry(_ wanted: Int, in data: [UInt8]) -> (offset: Int, littleEndian: Bool)? {
        var d = data[...]
        // Tolerate a leading "Exif\0\0" (some writers keep it).
        if d.count > 6, Array(d.prefix(6)) == Array("Exif\0\0".utf8) { d = d.dropFirst(6) }
        let base = d.startIndex
        guard d.count >= 8 else { return nil }
        let little: Bool
        switch (d[base], d[base + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= d.count else { return nil }
            let a = Int(d[base + o]), b = Int(d[base + o + 1])
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ o: Int) -> Int? {
            guard let hi = u16(little ? o + 2 : o), let lo = u16(little ? o : o + 2) else { return nil }
            return hi << 16 | lo
        }
        guard let ifd = u32(4), let count = u16(ifd), count < 1000 else { return nil }
        for i in 0..<count {
            let entry = ifd + 2 + i * 12
            guard let tag = u16(entry) else { return nil }
            if tag == wanted { return (base - data.startIndex + entry + 8, little) }
        }
        return nil
    }

    /// The orientation stored in an EXIF payload, if there is one (1 when absent or invalid).
    static func orientation(of data: [UInt8]?) -> Orientation {
        data.map(orientation(in:)) ?? .up
    }

    /// The orientation stored in an EXIF payload (1 when absent or invalid).
    static func orientation(in data: [UInt8]) -> Orientation {
        guard let e = orientationEntry(data), e.offset + 2 <= data.count else { return .up }
        let a = Int(data[e.offset]), b = Int(data[e.offset + 1])
        return Orientation(exifValue: e.littleEndian ? a | b << 8 : a << 8 | b)
    }

    /// The payload with its orientation set to 1.
    static func resettingOrientation(_ data: [UInt8]) -> [UInt8] {
        guard let e = orientationEntry(data), e.offset + 2 <= data.count else { return data }
        var out = data
        out[e.offset] = e.littleEndian ? 1 : 0
        out[e.offset + 1] = e.littleEndian ? 0 : 1
        return out
    }
}

extension EXIF {
    /// The payload from its TIFF header on: a leading `Exif\0\0` (the JPEG APP1 header, which
    /// phones and exiftool also write inside an AVIF `Exif` item and some writers inside a WebP
    /// `EXIF` chunk) dropped; otherwise the first TIFF header (`II*\0`, `MM\0*`) in the first 64
    /// bytes, as libavif finds it. A payload without one comes back as it is (and is not kept:
    /// ``rewritten(_:width:height:)`` refuses it).
    static func tiffPayload(_ data: [UInt8]) -> [UInt8] {
        if data.count > 6, data[0..<6].elementsEqual("Exif\0\0".utf8) { return Array(data[6...]) }
        if hasTIFFHeader(data[...]) { return data }
        for offset in 1..<max(1, min(64, data.count - 7)) where hasTIFFHeader(data[offset...]) {
            return Array(data[offset...])
        }
        return data
    }

    private static func hasTIFFHeader(_ d: ArraySlice<UInt8>) -> Bool {
        guard d.count >= 8 else { return false }
        let s = d.startIndex
        return (d[s] == 0x49 && d[s + 1] == 0x49 && d[s + 2] == 42 && d[s + 3] == 0)
            || (d[s] == 0x4D && d[s + 1] == 0x4D && d[s + 2] == 0 && d[s + 3] == 42)
    }

    /// What ``rewritten(_:width:height:)`` made of a payload.
    struct Rewrite: Equatable {
        /// The payload to embed: TIFF header onwards.
        var payload: [UInt8]
        /// What was taken out besides the thumbnail, for the warning: `the SubIFDs entry`, `a damaged GPS IFD at offset 4660`.
        var dropped: [String]
    }

    /// `tiff` (TIFF header onwards) as a kept EXIF is written: the thumbnail removed (IFD0's
    /// link to IFD1 set to 0, and the bytes of IFD1, its thumbnail and anything else no kept IFD
    /// points to zeroed, the payload cut after the last byte still used), the orientation 1
    /// (pixels are stored upright), and the pixel dimensions (IFD0 `ImageWidth`/`ImageLength`,
    /// Exif IFD `PixelXDimension`/`PixelYDimension`) set to `width` × `height` where present.
    /// Offsets are never moved, so maker notes that point into the payload stay valid.
    ///
    /// The IFDs kept are IFD0 and those its pointers lead to: the Exif IFD (0x8769), the GPS IFD
    /// (0x8825) and the interoperability IFD (0xA005, in the Exif IFD). IFD0's `SubIFDs` (0x014A,
    /// other images) and `JPEGInterchangeFormat` (0x0201/0x0202, a thumbnail) entries are
    /// removed, as is any entry of an unknown type (its size cannot be known) and a pointer to a
    /// damaged IFD; ``Rewrite/dropped`` names them. Returns nil when there is no TIFF header or
    /// IFD0 cannot be read. Every count and offset is checked against the payload (at most 1,000
    /// entries an IFD, each IFD visited once).
    static func rewritten(_ tiff: [UInt8], width: Int, height: Int) -> Rewrite? {
        var editor = Editor(tiff)
        return editor.run(width: width, height: height)
    }

    /// The rewrite: one pass over the IFDs, marking every byte range still referenced.
    private struct Editor {
        var d: [UInt8]
        var little = true
        var used: [Range<Int>] = []
        var visited: Set<Int> = []
        var dropped: [String] = []

        init(_ data: [UInt8]) { d = data }

        /// Bytes per value of each TIFF type (1 BYTE … 13 IFD); nil for an unknown type.
        static func typeSize(_ type: Int) -> Int? {
            switch type {
            case 1, 2, 6, 7: 1
            case 3, 8: 2
            case 4, 9, 11, 13: 4
            case 5, 10, 12: 8
            default: nil
            }
        }

        func u16(_ o: Int) -> Int? {
            guard o >= 0, o <= d.count - 2 else { return nil }
            return little ? Int(d[o]) | Int(d[o + 1]) << 8 : Int(d[o]) << 8 | Int(d[o + 1])
        }

        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }

        mutating func put16(_ o: Int, _ v: Int) {
            if little { d[o] = UInt8(v & 0xFF); d[o + 1] = UInt8(v >> 8 & 0xFF) } else { d[o] = UInt8(v >> 8 & 0xFF); d[o + 1] = UInt8(v & 0xFF) }
        }

        mutating func put32(_ o: Int, _ v: Int) {
            if little { put16(o, v & 0xFFFF); put16(o + 2, v >> 16 & 0xFFFF) } else { put16(o, v >> 16 & 0xFFFF); put16(o + 2, v & 0xFFFF) }
        }

        mutating func run(width: Int, height: Int) -> Rewrite? {
            guard d.count >= 8 else { return nil }
            switch (d[0], d[1]) {
            case (0x49, 0x49): little = true
            case (0x4D, 0x4D): little = false
            default: return nil
            }
            guard u16(2) == 42, let ifd0 = u32(4), ifd(at: ifd0, name: "IFD0", isZeroth: true, width: width, height: height) else { return nil }
            used.append(0..<8)
            let end = used.map(\.upperBound).max() ?? 8
            var out = [UInt8](repeating: 0, count: end)
            for range in used { out.replaceSubrange(range, with: d[range]) }
            return Rewrite(payload: out, dropped: dropped)
        }

        /// Reads (and edits) the IFD at `offset` and those it points to; false when it cannot be read.
        mutating func ifd(at offset: Int, name: String, isZeroth: Bool, width: Int, height: Int) -> Bool {
            guard offset >= 8, !visited.contains(offset), visited.count < 16, let count = u16(offset), count <= 1000,
                  offset + 2 + count * 12 + 4 <= d.count else { return false }
            visited.insert(offset)
            var entries: [[UInt8]] = []
            var pointers: [(tag: Int, offset: Int, name: String)] = []
            for k in 0..<count {
                let e = offset + 2 + k * 12
                guard let tag = u16(e), let type = u16(e + 2), let n = u32(e + 4) else { return false }
                let tagName = String(tag, radix: 16, uppercase: true)
                guard let size = Self.typeSize(type) else {
                    dropped.append("\(name) tag 0x\(tagName) of unknown type \(type)")
                    continue
                }
                if isZeroth && (tag == 0x014A || tag == 0x0201 || tag == 0x0202) {
                    if tag == 0x014A { dropped.append("IFD0's SubIFDs (other images)") }
                    continue
                }
                let (bytes, overflow) = n.multipliedReportingOverflow(by: size)
                if bytes > 4 {
                    guard !overflow, let at = u32(e + 8), at <= d.count, bytes <= d.count - at else {
                        dropped.append("\(name) tag 0x\(tagName) (its value lies outside the EXIF)")
                        continue
                    }
                    used.append(at..<(at + bytes))
                }
                let pointerName: String? = switch tag {
                case 0x8769 where isZeroth: "the Exif IFD"
                case 0x8825 where isZeroth: "the GPS IFD"
                case 0xA005 where name == "the Exif IFD": "the interoperability IFD"
                default: nil
                }
                if let pointerName {
                    guard n == 1, size == 4, let at = u32(e + 8) else {
                        dropped.append("\(name) tag 0x\(tagName) (a malformed IFD pointer)")
                        continue
                    }
                    pointers.append((tag, at, pointerName))
                }
                entries.append(Array(d[e..<(e + 12)]))
            }
            // The entries kept, in order, then a zero link: IFD1 (the thumbnail) and any chain are gone.
            var kept = entries
            var checkedPointers: [Int] = []
            for pointer in pointers {
                if ifd(at: pointer.offset, name: pointer.name, isZeroth: false, width: width, height: height) {
                    checkedPointers.append(pointer.tag)
                } else {
                    dropped.append("\(pointer.name) at offset \(pointer.offset) (damaged)")
                    kept.removeAll { entry in
                        let tag = little ? Int(entry[0]) | Int(entry[1]) << 8 : Int(entry[0]) << 8 | Int(entry[1])
                        return tag == pointer.tag
                    }
                }
            }
            put16(offset, kept.count)
            for (k, entry) in kept.enumerated() { d.replaceSubrange((offset + 2 + k * 12)..<(offset + 14 + k * 12), with: entry) }
            let linkAt = offset + 2 + kept.count * 12
            for o in (linkAt)..<(offset + 2 + count * 12 + 4) { d[o] = 0 }
            used.append(offset..<(linkAt + 4))
            for k in 0..<kept.count { edit(entry: offset + 2 + k * 12, in: name, isZeroth: isZeroth, width: width, height: height) }
            return true
        }

        /// Orientation 1 and the output's pixel dimensions, in an entry of IFD0 or the Exif IFD.
        mutating func edit(entry e: Int, in name: String, isZeroth: Bool, width: Int, height: Int) {
            guard let tag = u16(e), let type = u16(e + 2), u32(e + 4) == 1 else { return }
            let value: Int
            switch tag {
            case 0x0112 where isZeroth && type == 3: value = 1
            case 0x0100 where isZeroth, 0xA002 where name == "the Exif IFD": value = width
            case 0x0101 where isZeroth, 0xA003 where name == "the Exif IFD": value = height
            default: return
            }
            guard type == 3 || type == 4 else { return }
            // A SHORT that cannot hold the value becomes a LONG: both are inline in the entry.
            let asLong = type == 4 || value > 0xFFFF
            put16(e + 2, asLong ? 4 : 3)
            put32(e + 8, 0)
            if asLong { put32(e + 8, min(value, 0xFFFF_FFFF)) } else { put16(e + 8, value) }
        }
    }
}
