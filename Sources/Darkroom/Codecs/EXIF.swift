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
