/// Finds metadata blocks in a PNG, JPEG or WebP file without decoding it, so reference prep
/// only passes a file through byte for byte when there is nothing to strip. The decoder reports
/// ICC and EXIF; this also sees text chunks, XMP, IPTC, C2PA (PNG `caBX`, WebP `C2PA`, JPEG
/// APP11) and comments.
enum EmbeddedMetadata {
    /// Names of the metadata blocks found, e.g. `["iTXt", "eXIf"]`, `["APP1", "COM"]`, `["XMP "]`.
    /// Empty when there are none (or the format is not PNG, JPEG or WebP).
    static func blocks(in bytes: [UInt8]) -> [String] {
        switch ImageFormat.sniff(bytes) {
        case .png: png(bytes)
        case .jpeg: jpeg(bytes)
        case .webp: webp(bytes)
        default: []
        }
    }

    private static let pngMetadata: Set<String> = ["tEXt", "zTXt", "iTXt", "eXIf", "iCCP", "tIME", "caBX"]

    private static func png(_ b: [UInt8]) -> [String] {
        var found: [String] = []
        var i = 8
        while i + 8 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            let type = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            if pngMetadata.contains(type) { found.append(type) }
            if type == "IEND" { break }
            i += 12 + length
        }
        return found
    }

    private static func jpeg(_ b: [UInt8]) -> [String] {
        var found: [String] = []
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { break }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { break }  // start of scan / end of image
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            // APP0 (JFIF) and APP14 (Adobe colour transform) describe the pixels; other APPn and COM are metadata.
            if (0xE1...0xEF).contains(marker) && marker != 0xEE { found.append("APP\(marker - 0xE0)") }
            if marker == 0xFE { found.append("COM") }
            i += 2 + length
        }
        return found
    }

    private static func webp(_ b: [UInt8]) -> [String] {
        var found: [String] = []
        var i = 12
        while i + 8 <= b.count {
            let fourcc = String(decoding: b[i..<(i + 4)], as: UTF8.self)
            let size = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            if ["EXIF", "XMP ", "ICCP", "C2PA"].contains(fourcc) { found.append(fourcc) }
            i += 8 + size + (size & 1)
        }
        return found
    }
}
