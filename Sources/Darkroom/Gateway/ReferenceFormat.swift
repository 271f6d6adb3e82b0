/// The format a prepared reference image is written in.
public enum ReferenceFormat: String, Sendable, Hashable, CaseIterable {
    /// The input's own format (PNG, JPEG or WebP).
    case keep
    case png, jpeg, webp

    /// Parses `keep`, `png`, `jpeg`/`jpg` or `webp`; throws ``DarkroomError/gateway(_:)`` (``GatewayError/invalidValue(field:value:accepted:)``).
    public init(parsing text: String) throws(DarkroomError) {
        let t = text.lowercased()
        if t == "jpg" { self = .jpeg; return }
        guard let f = ReferenceFormat(rawValue: t) else {
            throw DarkroomError.gateway(.invalidValue(field: "format", value: text, accepted: ReferenceFormat.allCases.map(\.rawValue)))
        }
        self = f
    }

    /// The output format for an input of `source` format.
    public func resolve(source: ImageFormat) -> ImageFormat {
        switch self {
        case .keep: source
        case .png: .png
        case .jpeg: .jpeg
        case .webp: .webp
        }
    }
}
