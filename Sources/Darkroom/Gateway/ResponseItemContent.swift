/// What one response entry delivers.
public enum ResponseItemContent: Sendable, Equatable {
    /// Decoded `b64_json` bytes and the format sniffed from them (not from `output_format`).
    case image(bytes: [UInt8], format: ImageFormat)
    /// A link to fetch.
    case url(String)
}
