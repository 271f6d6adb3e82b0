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

    /// The file's top-level boxes walked one by one: nil when each ends within the file, else what
    /// is wrong with the first that does not. A box libavif reads (`ftyp`, `meta`, `moov`, `mdat`)
    /// cut short is ``DecodeWarning/Kind/truncated``; any other — bytes after the image's boxes
    /// that form no whole box, which libavif never reads — is a ``DecodeWarning/Kind/warning``.
    static func topLevelDamage(_ bytes: [UInt8]) -> DecodeWarning? {
        let n = bytes.count
        var i = 0
        func damage(_ type: String?, _ message: String) -> DecodeWarning {
            let read = ["ftyp", "meta", "moov", "mdat"].contains(type ?? "")
            return DecodeWarning(kind: read ? .truncated : .warning, message: read ? message : message + ": ignored")
        }
        while i < n {
            guard n - i >= 8 else { return damage(nil, "\(n - i) bytes at offset \(i) after the last box form no box header") }
            let size32 = UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let shown = String(type.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? Character($0) : "?" })
            var size = Int(size32)
            if size32 == 1 {
                guard n - i >= 16 else { return damage(type, "the file ends inside the header of box '\(shown)' at offset \(i)") }
                var large: UInt64 = 0
                for k in 0..<8 { large = large << 8 | UInt64(bytes[i + 8 + k]) }
                guard large <= UInt64(Int.max) else { return damage(type, "box '\(shown)' at offset \(i) declares \(large) bytes; the file has \(n)") }
                size = Int(large)
            } else if size32 == 0 {
                size = n - i
            }
            guard size >= 8 else { return damage(type, "box '\(shown)' at offset \(i) declares \(size) bytes (at least 8)") }
            guard size <= n - i else {
                return damage(type, "box '\(shown)' at offset \(i) needs \(size) bytes; the file ends \(n - i) bytes after its start")
            }
            i += size
        }
        return nil
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
        framedBoxes(in: bytes, range).map { ($0.type, $0.body) }
    }

    /// ``boxes(in:_:)`` with each whole box's range (header included) as well as its body's.
    static func framedBoxes(in bytes: [UInt8], _ range: Range<Int>) -> [(type: String, box: Range<Int>, body: Range<Int>)] {
        var result: [(type: String, box: Range<Int>, body: Range<Int>)] = []
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
            result.append((type, offset..<offset + size, offset + header..<offset + size))
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

/// The items of an AVIF's `meta` box as far as grids need them (HEIF, ISO/IEC 23008-12): the
/// primary item (`pitm`), each item's type (`iinf`), where its data is (`iloc`, in the file or
/// in `idat`), the references between items in file order (`iref`: `dimg`, `auxl`, `prem`), the
/// property boxes (`ipco`) and each item's associations (`ipma`), and the order in which the
/// `meta` box first mentions each item ID, which is the order of libavif 0.11.1's item list.
///
/// Every field is read bounds-checked from the bytes; counts are bounded by the bytes they
/// occupy, so a hostile header cannot make the walk allocate or loop more than its own size. A
/// malformed box ends the walk of that box: what was read before stays.
struct AVIFItems {
    /// One reference box of `iref`: `type` (`dimg`, `auxl`, …) from one item to others, in order.
    struct Reference: Equatable {
        var type: String
        var from: UInt32
        var to: [UInt32]
    }

    /// An item's data: `extents` of the file (construction method 0) or of the `idat` box (1).
    struct Location: Equatable {
        var constructionMethod: Int
        var extents: [(offset: UInt64, length: UInt64)]

        static func == (a: Location, b: Location) -> Bool {
            a.constructionMethod == b.constructionMethod && a.extents.elementsEqual(b.extents) { $0 == $1 }
        }
    }

    var primary: UInt32?
    var types: [UInt32: String] = [:]
    /// Item IDs in the order the `meta` box's children first name them (`iloc`, `iinf`, `iref`,
    /// `ipma`, as they come): libavif 0.11.1 creates its items in this order and lays out a
    /// grid's tiles in it.
    var mentionOrder: [UInt32] = []
    var references: [Reference] = []
    /// The `ipco` children: type and the whole box's bytes range.
    var properties: [(type: String, box: Range<Int>)] = []
    /// Per item: 1-based property indices with the essential bit.
    var associations: [UInt32: [(index: Int, essential: Bool)]] = [:]
    var locations: [UInt32: Location] = [:]
    /// The `idat` box's body.
    var idat: Range<Int>?

    private var mentioned: Set<UInt32> = []

    private mutating func mention(_ id: UInt32) {
        if mentioned.insert(id).inserted { mentionOrder.append(id) }
    }

    /// Parses the top-level `meta` box of `bytes`; nil without one.
    init?(_ bytes: [UInt8]) {
        guard let meta = AVIFBoxes.boxes(in: bytes, 0..<bytes.count).first(where: { $0.type == "meta" }),
              meta.body.count >= 4 else { return nil }
        for child in AVIFBoxes.boxes(in: bytes, meta.body.lowerBound + 4..<meta.body.upperBound) {
            var reader = ByteReader(bytes, child.body)
            switch child.type {
            case "pitm": parsePrimary(&reader)
            case "iloc": parseLocations(&reader)
            case "iinf": parseInfos(bytes, child.body)
            case "iref": parseReferences(bytes, child.body)
            case "iprp": parseProperties(bytes, child.body)
            case "idat": idat = child.body
            default: break
            }
        }
    }

    private mutating func parsePrimary(_ r: inout ByteReader) {
        guard let version = r.u8(), r.skip(3) else { return }
        primary = version == 0 ? r.u16().map(UInt32.init) : r.u32()
    }

    private mutating func parseLocations(_ r: inout ByteReader) {
        guard let version = r.u8(), r.skip(3), let sizes = r.u8(), let more = r.u8() else { return }
        let offsetSize = Int(sizes >> 4), lengthSize = Int(sizes & 15)
        let baseOffsetSize = Int(more >> 4), indexSize = version == 1 || version == 2 ? Int(more & 15) : 0
        guard let count = version < 2 ? r.u16().map(UInt32.init) : r.u32() else { return }
        for _ in 0..<count {
            guard let id = version < 2 ? r.u16().map(UInt32.init) : r.u32() else { return }
            var method = 0
            if version == 1 || version == 2 {
                guard let m = r.u16() else { return }
                method = Int(m & 15)
            }
            guard r.skip(2), let base = r.uint(baseOffsetSize), let extentCount = r.u16() else { return }
            var extents: [(offset: UInt64, length: UInt64)] = []
            for _ in 0..<extentCount {
                guard r.skip(indexSize), let offset = r.uint(offsetSize), let length = r.uint(lengthSize) else { return }
                let (start, overflow) = base.addingReportingOverflow(offset)
                guard !overflow else { return }
                extents.append((start, length))
            }
            mention(id)
            locations[id] = Location(constructionMethod: method, extents: extents)
        }
    }

    private mutating func parseInfos(_ bytes: [UInt8], _ body: Range<Int>) {
        var r = ByteReader(bytes, body)
        guard let version = r.u8(), r.skip(3), (version == 0 ? r.u16().map(UInt32.init) : r.u32()) != nil else { return }
        for infe in AVIFBoxes.boxes(in: bytes, r.offset..<body.upperBound) where infe.type == "infe" {
            var e = ByteReader(bytes, infe.body)
            guard let v = e.u8(), v >= 2, e.skip(3), let id = v == 2 ? e.u16().map(UInt32.init) : e.u32(),
                  e.skip(2), let type = e.fourCC() else { continue }
            mention(id)
            types[id] = type
        }
    }

    private mutating func parseReferences(_ bytes: [UInt8], _ body: Range<Int>) {
        var r = ByteReader(bytes, body)
        guard let version = r.u8(), r.skip(3) else { return }
        for box in AVIFBoxes.boxes(in: bytes, r.offset..<body.upperBound) {
            var b = ByteReader(bytes, box.body)
            guard let from = version == 0 ? b.u16().map(UInt32.init) : b.u32(), let count = b.u16() else { continue }
            mention(from)
            var to: [UInt32] = []
            for _ in 0..<count {
                guard let id = version == 0 ? b.u16().map(UInt32.init) : b.u32() else { break }
                mention(id)
                to.append(id)
            }
            references.append(Reference(type: box.type, from: from, to: to))
        }
    }

    private mutating func parseProperties(_ bytes: [UInt8], _ body: Range<Int>) {
        for child in AVIFBoxes.boxes(in: bytes, body) {
            if child.type == "ipco" {
                properties = AVIFBoxes.framedBoxes(in: bytes, child.body).map { ($0.type, $0.box) }
            } else if child.type == "ipma" {
                var r = ByteReader(bytes, child.body)
                guard let version = r.u8(), r.skip(2), let flags = r.u8(), let count = r.u32() else { continue }
                for _ in 0..<count {
                    guard let id = version < 1 ? r.u16().map(UInt32.init) : r.u32(), let n = r.u8() else { break }
                    mention(id)
                    var list: [(index: Int, essential: Bool)] = []
                    for _ in 0..<n {
                        if flags & 1 != 0 {
                            guard let v = r.u16() else { break }
                            list.append((Int(v & 0x7FFF), v & 0x8000 != 0))
                        } else {
                            guard let v = r.u8() else { break }
                            list.append((Int(v & 0x7F), v & 0x80 != 0))
                        }
                    }
                    associations[id, default: []] += list
                }
            }
        }
    }

    /// The item's property boxes (type and whole-box bytes range), in association order.
    func properties(of id: UInt32) -> [(type: String, box: Range<Int>, essential: Bool)] {
        (associations[id] ?? []).compactMap { a in
            a.index >= 1 && a.index <= properties.count ? (properties[a.index - 1].type, properties[a.index - 1].box, a.essential) : nil
        }
    }

    /// The item's `ispe` size, when it has one.
    func spatialExtents(of id: UInt32, in bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard let ispe = properties(of: id).first(where: { $0.type == "ispe" }) else { return nil }
        var r = ByteReader(bytes, ispe.box)
        guard r.skip(12), let w = r.u32(), let h = r.u32() else { return nil }
        return (Int(w), Int(h))
    }

    /// The item's data, its extents concatenated, or nil when an extent lies outside the file (or
    /// `idat`), uses another construction method, or the whole would exceed `limit` bytes.
    func data(of id: UInt32, in bytes: [UInt8], limit: Int) -> [UInt8]? {
        guard let location = locations[id] else { return nil }
        let source: Range<Int>
        switch location.constructionMethod {
        case 0: source = 0..<bytes.count
        case 1: guard let idat else { return nil }; source = idat
        default: return nil
        }
        var out: [UInt8] = []
        for extent in location.extents {
            guard extent.length > 0, extent.offset <= UInt64(source.count), extent.length <= UInt64(source.count) - extent.offset,
                  out.count + Int(extent.length) <= limit else { return nil }
            let start = source.lowerBound + Int(extent.offset)
            out += bytes[start..<start + Int(extent.length)]
        }
        return out
    }

    /// True when `id` is an alpha auxiliary image: an `auxC` property with the alpha URN.
    func isAlpha(_ id: UInt32, in bytes: [UInt8]) -> Bool {
        properties(of: id).contains { property in
            guard property.type == "auxC", property.box.count > 12 else { return false }
            let urn = bytes[(property.box.lowerBound + 12)..<property.box.upperBound].prefix { $0 != 0 }
            let text = String(decoding: urn, as: UTF8.self)
            return text == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha" || text == "urn:mpeg:hevc:2015:auxid:1"
        }
    }

    /// The items that reference `id` with `type` (e.g. the alpha items whose `auxl` names it).
    func items(referencing id: UInt32, by type: String) -> [UInt32] {
        references.filter { $0.type == type && $0.to.contains(id) }.map(\.from)
    }
}

/// Big-endian reads within a range of bytes; every read checks the bounds and returns nil past them.
struct ByteReader {
    let bytes: [UInt8]
    let range: Range<Int>
    private(set) var offset: Int

    init(_ bytes: [UInt8], _ range: Range<Int>? = nil) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        self.range = r.clamped(to: 0..<bytes.count)
        offset = self.range.lowerBound
    }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= range.upperBound - offset else { return false }
        offset += n
        return true
    }

    /// An unsigned big-endian integer of `size` bytes (0, 1, 2, 4 or 8; 0 reads nothing and gives 0).
    mutating func uint(_ size: Int) -> UInt64? {
        guard [0, 1, 2, 4, 8].contains(size), size <= range.upperBound - offset else { return nil }
        var value: UInt64 = 0
        for i in 0..<size { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += size
        return value
    }

    mutating func u8() -> UInt8? { uint(1).map { UInt8($0) } }
    mutating func u16() -> UInt16? { uint(2).map { UInt16($0) } }
    mutating func u32() -> UInt32? { uint(4).map { UInt32($0) } }

    mutating func fourCC() -> String? {
        guard 4 <= range.upperBound - offset else { return nil }
        defer { offset += 4 }
        return String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
    }
}
