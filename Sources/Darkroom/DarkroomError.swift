/// Every failure Darkroom reports. Each case carries the offending value, so the CLI can print
/// one useful line and tests can assert the exact case.
public enum DarkroomError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not PNG, JPEG, WebP, AVIF or GIF.
    case unknownFormat
    /// The format is recognised but not accepted here (e.g. a GIF as a reference image).
    case unsupportedFormat(ImageFormat, accepted: [ImageFormat])
    /// The image declares more pixels than the limit; checked before any pixel buffer is allocated.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The file claims a zero or impossible size.
    case invalidDimensions(width: Int, height: Int)
    /// The codec library rejected the data; `message` is its own words.
    case decodeFailed(ImageFormat, message: String)
    case encodeFailed(ImageFormat, message: String)
    /// An option value is out of range or unknown.
    case invalidOption(name: String, value: String, expected: String)
    /// Strict OpenAI parity refused the request (`code` is OpenAI's error code).
    case openAIParity(code: String, message: String)
    /// Reading or writing a file failed.
    case io(path: String, message: String)
    /// The output exists and overwriting was not allowed.
    case outputExists(path: String)

    public var description: String {
        switch self {
        case .unknownFormat:
            "not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)"
        case let .unsupportedFormat(format, accepted):
            "\(format) is not accepted here; accepted: \(accepted.map(\.rawValue).joined(separator: ", "))"
        case let .tooManyPixels(width, height, limit):
            // The product can overflow Int for sides read from a hostile header (AVIF ispe: 32 bits each).
            "image is \(width)x\(height) = \(width.multipliedReportingOverflow(by: height).overflow ? "over \(Int.max)" : "\(width * height)") px, over the limit of \(limit) px (raise it with --max-pixels)"
        case let .invalidDimensions(width, height):
            "invalid image size \(width)x\(height)"
        case let .decodeFailed(format, message):
            "cannot decode \(format): \(message)"
        case let .encodeFailed(format, message):
            "cannot encode \(format): \(message)"
        case let .invalidOption(name, value, expected):
            "invalid \(name) '\(value)': expected \(expected)"
        case let .openAIParity(code, message):
            "\(message) (\(code))"
        case let .io(path, message):
            "\(path): \(message)"
        case let .outputExists(path):
            "\(path) already exists (use --overwrite to replace it)"
        }
    }
}
