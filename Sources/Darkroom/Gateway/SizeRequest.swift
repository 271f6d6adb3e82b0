/// The `size` request field: exact pixels (`1536x1024`), a ratio (`16:9`, resolved with the
/// resolution tier) or `auto` (the provider's default, or `aspect_ratio`/`resolution` when given).
public enum SizeRequest: Sendable, Hashable, CustomStringConvertible {
    case auto
    case pixels(PixelSize)
    case ratio(AspectRatio)

    /// Parses `WxH`, `W:H` or `auto`; throws ``DarkroomError/gateway(_:)`` (``GatewayError/invalidValue(field:value:accepted:)``).
    public init(parsing text: String) throws(DarkroomError) {
        let t = text.trimmingSpaces()
        if t.lowercased() == "auto" { self = .auto; return }
        if let p = PixelSize(parsing: t) { self = .pixels(p); return }
        if let r = AspectRatio(parsing: t) { self = .ratio(r); return }
        throw DarkroomError.gateway(.invalidValue(field: "size", value: text, accepted: ["WxH (e.g. 1024x1024)", "W:H (e.g. 16:9)", "auto"]))
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case let .pixels(p): p.description
        case let .ratio(r): r.description
        }
    }
}
