/// The five container formats Darkroom reads and writes.
public enum ImageFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case png, jpeg, webp, avif, gif

    public var description: String { rawValue }

    /// The usual file extension, without the dot.
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }

    /// The MIME type, e.g. for a gateway response.
    public var mimeType: String { "image/\(rawValue)" }

    /// The formats that hold an animation when written, in the order messages name them: WebP,
    /// GIF, PNG (APNG) and AVIF (an image sequence). The one list every "can animate" check and
    /// message derives from.
    public static let animatable: [ImageFormat] = [.webp, .gif, .png, .avif]

    /// The format holds an animation when written (see ``animatable``).
    public var canAnimate: Bool { Self.animatable.contains(self) }

    /// The ``animatable`` formats as a message names them: "webp, gif, png and avif".
    public static var animatableList: String {
        let names = animatable.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// Parses a user's format name (`jpg` and `jpeg` both work; case-insensitive).
    public init?(name: String) {
        switch name.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        case "webp": self = .webp
        case "avif": self = .avif
        case "gif": self = .gif
        default: return nil
        }
    }

    /// Identifies the format from the first bytes of a file, never from its name.
    public static func sniff<C: Collection>(_ bytes: C) -> ImageFormat? where C.Element == UInt8 {
        let head = Array(bytes.prefix(32))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<offset + magic.count]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        // ISO-BMFF: size(4) 'ftyp' brand(4) minor(4) compatible brands...
        if starts(Array("ftyp".utf8), at: 4), head.count >= 12 {
            let size = Int(head[0]) << 24 | Int(head[1]) << 16 | Int(head[2]) << 8 | Int(head[3])
            let brands = Array(bytes.prefix(max(12, min(size, 256))))
            var offset = 8
            while offset + 4 <= brands.count {
                if offset == 12 { offset += 4; continue }  // minor version
                let brand = String(decoding: brands[offset..<offset + 4], as: UTF8.self)
                if brand == "avif" || brand == "avis" { return .avif }
                offset += 4
            }
        }
        return nil
    }
}
