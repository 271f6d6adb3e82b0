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
    /// The image is too large for the output format (see ``FormatLimits``); checked before encoding.
    case formatLimit(ImageFormat, width: Int, height: Int, maxSide: Int, maxPixels: Int?)
    /// The input is truncated or corrupt (or, with ``FailOn/warning``, the decoder warned) and
    /// ``DecodeOptions/failOn`` does not allow it. `warning` carries the decoder's own words.
    case damagedInput(ImageFormat, warning: DecodeWarning, failOn: FailOn)
    /// The output path exists and is not a regular file (`kind`: "a folder", "a FIFO",
    /// "a character device", …); it is never replaced, not even with --overwrite.
    case outputNotRegularFile(path: String, kind: String)
    /// The input holds more bytes than the limit. `size` is nil for a stream (standard input, a
    /// FIFO) that was stopped after `limit` bytes.
    case inputTooLarge(path: String, size: Int?, limit: Int)

    public var description: String {
        switch self {
        case .unknownFormat:
            "not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)"
        case let .unsupportedFormat(format, accepted):
            "\(format) is not accepted here; accepted: \(accepted.map(\.rawValue).joined(separator: ", "))"
        case let .tooManyPixels(width, height, limit):
            "\(width)x\(height) = \(Self.pixelText(width, height)) px is over the limit of \(limit) px (raise it with --max-pixels)"
        case let .invalidDimensions(width, height):
            "invalid image size \(width)x\(height)"
        case let .decodeFailed(format, message):
            "cannot decode \(format): \(message)"
        case let .encodeFailed(format, message):
            "cannot encode \(format): \(message)"
        case let .invalidOption(name, value, expected):
            "invalid \(name) '\(ValueParser.printable(value))': expected \(expected)"
        case let .openAIParity(code, message):
            "\(message) (\(code))"
        case let .io(path, message):
            "\(path): \(message)"
        case let .outputExists(path):
            "\(path) already exists (use --overwrite to replace it)"
        case let .formatLimit(format, width, height, maxSide, maxPixels):
            "\(width)x\(height) is too large for \(format): at most \(maxSide) px per side"
                + (maxPixels.map { " and \($0) px in all" } ?? "") + " (resize it, or choose another format)"
        case let .damagedInput(format, warning, failOn):
            "\(format) data is \(warning.kind == .truncated ? "truncated or corrupt" : "suspect"): \(warning.message)"
                + " (--fail-on \(failOn.rawValue); use --fail-on none to convert what can be decoded)"
        case let .outputNotRegularFile(path, kind):
            "\(path) is \(kind), not a regular file; it is never replaced (choose another output path)"
        case let .inputTooLarge(path, size, limit):
            "\(path): \(size.map { "\($0) bytes" } ?? "more than \(limit) bytes"), over the input limit of \(limit) bytes (raise it with --max-input-bytes)"
        }
    }

    /// `w·h` as text, or "more than 2^63" when it overflows (a header may declare anything).
    static func pixelText(_ width: Int, _ height: Int) -> String {
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        return overflow ? "more than \(Int.max)" : String(product)
    }
}
