/// A minimal ISO-BMFF walk over an AVIF file's item properties, for one check libavif 0.11 skips.
///
/// HEIF (ISO/IEC 23008-12) requires the transformative properties `clap`, `irot` and `imir` to be
/// marked essential wherever an item is associated with them; newer libavif rejects a file that
/// does not. Path: `meta` → `iprp` → `ipco` (the property boxes, referenced by 1-based index) and
/// `ipma` (per item, a list of property indices, each with an "essential" bit).
///
/// Every read is bounds-checked. A malformed or missing box is simply "no finding": libavif
/// reports its own errors for those.
enum AVIFBoxes {
    private static let transformative: Set<String> = ["clap", "irot", "imir"]

    /// True when any item is associated with `clap`, `irot` or `imir` without the essential bit.
    static func hasNonEssentialTransform(_ bytes: [UInt8]) -> Bool {
        guard let meta = boxes(in: bytes, 0..<bytes.count).first(where: { $0.type == "meta" }),
              meta.body.count >= 4 else { return false }
        // `meta` is a full box: version and flags come before its children.
        let metaChildren = meta.body.lowerBound + 4..<meta.body.upperBound
        guard let iprp = boxes(in: bytes, metaChildren).first(where: { $0.type == "iprp" }) else { return false }
        let iprpChildren = boxes(in: bytes, iprp.body)
        guard let ipco = iprpChildren.first(where: { $0.type == "ipco" }) else { return false }
        let properties = boxes(in: bytes, ipco.body).map(\.type)
        for ipma in iprpChildren where ipma.type == "ipma" {
            for (index, essential) in associations(in: bytes, ipma.body) where !essential {
                // Property indices are 1-based; 0 means "no property".
                if index >= 1, index <= properties.count, transformative.contains(properties[index - 1]) {
                    return true
                }
            }
        }
        return false
    }

    /// The largest image spatial extents (`ispe`) the item properties declare, for a clear
    /// "too many pixels" error when libavif refuses to parse a file over its own size limit.
    static func largestDeclaredSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard let meta = boxes(in: bytes, 0..<bytes.count).first(where: { $0.type == "meta" }),
              meta.body.count >= 4,
              let iprp = boxes(in: bytes, meta.body.lowerBound + 4..<meta.body.upperBound).first(where: { $0.type == "iprp" }),
              let ipco = boxes(in: bytes, iprp.body).first(where: { $0.type == "ipco" }) else { return nil }
        var largest: (width: Int, height: Int)?
        for property in boxes(in: bytes, ipco.body) where property.type == "ispe" {
            // Full box: version and flags, then 32-bit width and height.
            guard let w = uint32(bytes, property.body.lowerBound + 4, end: property.body.upperBound),
                  let h = uint32(bytes, property.body.lowerBound + 8, end: property.body.upperBound) else { continue }
            // UInt64: two 32-bit sides can overflow Int (0xFFFFFFFF² > Int.max).
            let area = UInt64(w) * UInt64(h)
            if largest.map({ area > UInt64($0.width) * UInt64($0.height) }) ?? true { largest = (Int(w), Int(h)) }
        }
        return largest
    }

    /// The file with a top-level box size of 0 ("extends to the end of the file", which ISO-BMFF
    /// allows and newer libavif accepts) written out as an explicit size: libavif 0.11 rejects it
    /// (e.g. a final `meta` box holding its data in `idat`). Other files come back unchanged.
    static func withExplicitFinalBoxSize(_ bytes: [UInt8]) -> [UInt8] {
        var offset = 0
        while bytes.count - offset >= 8, let size32 = uint32(bytes, offset, end: bytes.count) {
            var size = Int(size32)
            if size32 == 0 {
                let remaining = bytes.count - offset
                guard remaining <= Int(UInt32.max) else { return bytes }
                var patched = bytes
                for i in 0..<4 { patched[offset + i] = UInt8(truncatingIfNeeded: remaining >> (24 - 8 * i)) }
                return patched
            }
            if size32 == 1 {
                guard let high = uint32(bytes, offset + 8, end: bytes.count),
                      let low = uint32(bytes, offset + 12, end: bytes.count), high == 0 else { return bytes }
                size = Int(low)
            }
            guard size >= 8, size <= bytes.count - offset else { return bytes }
            offset += size
        }
        return bytes
    }

    /// The largest `entry_count` of the time-to-sample (`stts`) boxes of the file's tracks
    /// (`moov` → `trak` → `mdia` → `minf` → `stbl` → `stts`); 0 without a track. libavif 0.11
    /// walks these entries for every frame's timing (``AVIFCodec/File``'s bound).
    static func largestTimeToSampleCount(_ bytes: [UInt8]) -> Int {
        var largest = 0
        for moov in boxes(in: bytes, 0..<bytes.count) where moov.type == "moov" {
            for trak in boxes(in: bytes, moov.body) where trak.type == "trak" {
                for mdia in boxes(in: bytes, trak.body) where mdia.type == "mdia" {
                    for minf in boxes(in: bytes, mdia.body) where minf.type == "minf" {
                        for stbl in boxes(in: bytes, minf.body) where stbl.type == "stbl" {
                            for stts in boxes(in: bytes, stbl.body) where stts.type == "stts" {
                                if let count = uint32(bytes, stts.body.lowerBound + 4, end: stts.body.upperBound) {
                                    largest = max(largest, Int(count))
                                }
                            }
                        }
                    }
                }
            }
        }
        return largest
    }

    /// The boxes laid out back to back in `range`; stops at the first malformed header.
    static func boxes(in bytes: [UInt8], _ range: Range<Int>) -> [(type: String, body: Range<Int>)] {
        var result: [(type: String, body: Range<Int>)] = []
        var offset = range.lowerBound
        while range.upperBound - offset >= 8 {
            guard let size32 = uint32(bytes, offset, end: range.upperBound) else { break }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            var header = 8
            var size = Int(size32)
            if size32 == 1 {
                // 64-bit size follows the type.
                guard let high = uint32(bytes, offset + 8, end: range.upperBound),
                      let low = uint32(bytes, offset + 12, end: range.upperBound),
                      high == 0 else { break }
                size = Int(low)
                header = 16
            } else if size32 == 0 {
                size = range.upperBound - offset     // extends to the end of the enclosing range
            }
            guard size >= header, size <= range.upperBound - offset else { break }
            result.append((type, offset + header..<offset + size))
            offset += size
        }
        return result
    }

    /// The (property index, essential) pairs of every item in an `ipma` body.
    static func associations(in bytes: [UInt8], _ body: Range<Int>) -> [(index: Int, essential: Bool)] {
        var result: [(index: Int, essential: Bool)] = []
        let end = body.upperBound
        guard let versionAndFlags = uint32(bytes, body.lowerBound, end: end),
              let entryCount = uint32(bytes, body.lowerBound + 4, end: end) else { return [] }
        let version = versionAndFlags >> 24
        let wideIndices = versionAndFlags & 1 != 0         // 15-bit indices instead of 7-bit
        var offset = body.lowerBound + 8
        for _ in 0..<entryCount {
            offset += version < 1 ? 2 : 4                   // item_ID
            guard offset < end else { return result }
            let count = Int(bytes[offset])
            offset += 1
            for _ in 0..<count {
                if wideIndices {
                    guard offset + 2 <= end else { return result }
                    let value = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                    result.append((value & 0x7FFF, value & 0x8000 != 0))
                    offset += 2
                } else {
                    guard offset < end else { return result }
                    let value = Int(bytes[offset])
                    result.append((value & 0x7F, value & 0x80 != 0))
                    offset += 1
                }
            }
        }
        return result
    }

    /// A big-endian 32-bit value at `offset`, if it ends at or before `end`.
    private static func uint32(_ bytes: [UInt8], _ offset: Int, end: Int) -> UInt32? {
        guard offset >= 0, offset <= min(end, bytes.count) - 4 else { return nil }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
