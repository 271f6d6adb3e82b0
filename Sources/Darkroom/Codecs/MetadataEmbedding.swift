/// Writes XMP and IPTC into the JPEG and PNG files libjpeg and libpng made (they write the ICC
/// profile and EXIF themselves): the segments or chunks are inserted into the encoded bytes, as
/// exiftool and ImageMagick lay them out. WebP's `XMP ` chunk goes through libwebpmux
/// (``WebPCodec``), AVIF's XMP item through libavif (``AVIFCodec``); GIF holds none.
///
/// The sizes were checked by ``OutputMetadata`` (one JPEG segment each).
enum MetadataEmbedding {
    /// The JPEG APP1 namespace header of standard XMP.
    static let xmpHeader = Array("http://ns.adobe.com/xap/1.0/\0".utf8)
    /// The JPEG APP13 header of Photoshop image resources.
    static let photoshopHeader = Array("Photoshop 3.0\0".utf8)

    /// `jpeg` with an APP1 XMP segment and an APP13 segment holding `iptc` as Photoshop resource
    /// 0x0404 (IPTC-NAA), after the APPn segments libjpeg wrote (JFIF, Exif, ICC) and before the
    /// tables. The bytes come back unchanged when both are nil.
    static func jpeg(_ jpeg: [UInt8], xmp: [UInt8]?, iptc: [UInt8]?) -> [UInt8] {
        guard xmp != nil || iptc != nil, jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { return jpeg }
        var at = 2
        // libjpeg's own output: marker segments back to back, each with its length.
        while at + 4 <= jpeg.count, jpeg[at] == 0xFF, (0xE0...0xEF).contains(jpeg[at + 1]) {
            at += 2 + (Int(jpeg[at + 2]) << 8 | Int(jpeg[at + 3]))
        }
        at = min(at, jpeg.count)
        var segments: [UInt8] = []
        if let xmp { segments += segment(0xE1, xmpHeader + xmp) }
        if let iptc { segments += segment(0xED, photoshopHeader + photoshopResources(iptc: iptc)) }
        var out = Array(jpeg[0..<at])
        out.reserveCapacity(jpeg.count + segments.count)
        out += segments
        out += jpeg[at...]
        return out
    }

    /// A marker segment: `FF`, the marker, the 16-bit length (itself included), the body.
    private static func segment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] {
        let length = body.count + 2
        return [0xFF, marker, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)] + body
    }

    /// Photoshop image resources holding one resource, IPTC-NAA (0x0404): `8BIM`, the id, an
    /// empty Pascal name padded to two bytes, the 32-bit size, the records padded to an even length.
    static func photoshopResources(iptc: [UInt8]) -> [UInt8] {
        var out = Array("8BIM".utf8) + [0x04, 0x04, 0x00, 0x00] + APNGScan.bytes32(iptc.count) + iptc
        if iptc.count % 2 == 1 { out.append(0) }
        return out
    }

    /// `png` with an `iTXt` `XML:com.adobe.xmp` chunk (uncompressed, as the XMP specification
    /// asks) and a `tEXt` `Raw profile type iptc` chunk (Photoshop resources in hex, as exiftool
    /// writes IPTC into a PNG and reads it back) before the first `IDAT`. Unchanged when both are nil.
    static func png(_ png: [UInt8], xmp: [UInt8]?, iptc: [UInt8]?) -> [UInt8] {
        guard xmp != nil || iptc != nil else { return png }
        var at = 8
        while png.count - at >= 12 {
            let length = APNGScan.be32(png, at)
            guard length <= png.count - at - 12, APNGScan.type(png, at) != "IDAT" else { break }
            at += 12 + length
        }
        var chunks: [UInt8] = []
        if let xmp {
            // Keyword, NUL, compression flag 0 and method 0, empty language tag and translated keyword.
            APNGScan.append(chunk: "iTXt", (Array("XML:com.adobe.xmp".utf8) + [0, 0, 0, 0, 0] + xmp)[...], to: &chunks)
        }
        if let iptc {
            APNGScan.append(chunk: "tEXt", (Array("Raw profile type iptc".utf8) + [0] + rawProfile("iptc", photoshopResources(iptc: iptc)))[...],
                            to: &chunks)
        }
        var out = Array(png[0..<at])
        out.reserveCapacity(png.count + chunks.count)
        out += chunks
        out += png[at...]
        return out
    }

    /// ImageMagick's raw profile text: a newline, the name, a newline, the length right-aligned in
    /// 8 characters, a newline, then the bytes in lowercase hex, 72 digits a line.
    static func rawProfile(_ name: String, _ payload: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        let length = String(payload.count)
        var out = Array("\n\(name)\n\(String(repeating: " ", count: max(0, 8 - length.count)))\(length)\n".utf8)
        out.reserveCapacity(out.count + payload.count * 2 + payload.count / 36 + 2)
        for (k, byte) in payload.enumerated() {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
            if k % 36 == 35 { out.append(0x0A) }
        }
        if payload.count % 36 != 0 { out.append(0x0A) }
        return out
    }
}
