/// Every failure Darkroom reports, by phase (as swift-png splits its errors): an option out of
/// range, a file that cannot be read or written, input that cannot be decoded, an image that
/// cannot be encoded, or a gateway request or response document that is refused.
///
/// Public throwing functions state it with typed throws (`throws(DarkroomError)`), so callers
/// switch on the phase instead of casting:
///
/// ```swift
/// do {
///     let result = try converter.convert(bytes)
///     print(result.width, result.height)
/// } catch .decoding(let error) {
///     print(error)        // the client's bytes are not a usable image: HTTP 422 (413 when too large)
/// } catch .option(let error) {
///     print(error.name)   // a bad option value: HTTP 400
/// } catch {
///     print(error)        // .encoding, .file, .gateway
/// }
/// ```
///
/// Each case carries the offending value; ``description`` is the one line every door prints
/// (the CLI after `darkroom: FILE:`, the HTTP service as `error.message`).
public enum DarkroomError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An option value is out of range or unknown (a flag, a query field, a library option).
    case option(OptionError)
    /// Reading or writing a file failed.
    case file(FileError)
    /// The input is not a usable image.
    case decoding(ImageDecodingError)
    /// The image cannot be written in the asked format.
    case encoding(ImageEncodingError)
    /// The gateway refused a request field or a response document (OpenAI's field names).
    case gateway(GatewayError)

    public var description: String {
        switch self {
        case let .option(e): e.description
        case let .file(e): e.description
        case let .decoding(e): e.description
        case let .encoding(e): e.description
        case let .gateway(e): e.description
        }
    }
}

/// An option value that is out of range or not one of the accepted values.
///
/// `name` is the option as the CLI spells it (`quality`, `max-pixels`, `resize`); `value` the
/// text or number given; `expected` what is accepted, e.g. "an integer from 0 to 100".
public struct OptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var value: String
    public var expected: String

    public init(name: String, value: String, expected: String) {
        self.name = name
        self.value = value
        self.expected = expected
    }

    public var description: String {
        "invalid \(name) '\(printableText(value))': expected \(expected)"
    }
}

/// A file that cannot be read or written. `path` is the path as given (`-` shown as
/// "standard input"/"standard output").
public enum FileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed; `message` is the reason (`strerror` or a plainer sentence).
    case io(path: String, message: String)
    /// The output exists and overwriting was not allowed.
    case outputExists(path: String)
    /// The output path exists and is not a regular file (`kind`: "a folder", "a FIFO",
    /// "a character device", …); it is never replaced, not even with --overwrite.
    case outputNotRegularFile(path: String, kind: String)
    /// The input holds more bytes than the limit. `size` is nil for a stream (standard input, a
    /// FIFO, a download) that was stopped after `limit` bytes.
    case inputTooLarge(path: String, size: Int?, limit: Int)

    public var description: String {
        switch self {
        case let .io(path, message):
            "\(path): \(message)"
        case let .outputExists(path):
            "\(path) already exists (use --overwrite to replace it)"
        case let .outputNotRegularFile(path, kind):
            "\(path) is \(kind), not a regular file; it is never replaced (choose another output path)"
        case let .inputTooLarge(path, size, limit):
            "\(path): \(size.map { "\($0) bytes" } ?? "more than \(limit) bytes"), over the input limit of \(limit) bytes (raise it with --max-input-bytes)"
        }
    }
}

/// Input that is not a usable image.
public enum ImageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not PNG, JPEG, WebP, AVIF or GIF (the format is sniffed from the bytes).
    case unknownFormat
    /// The format is recognised but not accepted here (e.g. a GIF as a reference image).
    case unsupportedFormat(ImageFormat, accepted: [ImageFormat])
    /// The header declares more pixels than ``DecodeOptions/maxPixels``; checked before any
    /// pixel buffer is allocated.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The header declares a zero or impossible size.
    case invalidDimensions(width: Int, height: Int)
    /// The codec library rejected the data; `message` is its own words.
    case codec(ImageFormat, message: String)
    /// The input is truncated or corrupt (or, with ``FailOn/warning``, the decoder warned) and
    /// ``DecodeOptions/failOn`` does not allow it. `warning` carries the decoder's own words.
    case damaged(ImageFormat, warning: DecodeWarning, failOn: FailOn)

    public var description: String {
        switch self {
        case .unknownFormat:
            "not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)"
        case let .unsupportedFormat(format, accepted):
            "\(format) is not accepted here; accepted: \(accepted.map(\.rawValue).joined(separator: ", "))"
        case let .tooManyPixels(width, height, limit):
            "\(width)x\(height) = \(pixelText(width, height)) px is over the limit of \(limit) px (raise it with --max-pixels)"
        case let .invalidDimensions(width, height):
            "invalid image size \(width)x\(height)"
        case let .codec(format, message):
            "cannot decode \(format): \(message)"
        case let .damaged(format, warning, failOn):
            "\(format) data is \(warning.kind == .truncated ? "truncated or corrupt" : "suspect"): \(warning.message)"
                + " (--fail-on \(failOn.rawValue); use --fail-on none to convert what can be decoded)"
        }
    }
}

/// An image that cannot be written as asked.
public enum ImageEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The planned output has more pixels than the limit (``DecodeOptions/maxPixels`` bounds
    /// outputs as well as inputs); checked before decoding.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The image is too large for the output format (see ``FormatLimits``); checked before
    /// decoding when the output size is planned, and again before the codec runs.
    case formatLimit(ImageFormat, width: Int, height: Int, maxSide: Int, maxPixels: Int?)
    /// The codec library failed; `message` is its own words.
    case codec(ImageFormat, message: String)

    public var description: String {
        switch self {
        case let .tooManyPixels(width, height, limit):
            "the output \(width)x\(height) = \(pixelText(width, height)) px is over the limit of \(limit) px (raise it with --max-pixels)"
        case let .formatLimit(format, width, height, maxSide, maxPixels):
            "\(width)x\(height) is too large for \(format): at most \(maxSide) px per side"
                + (maxPixels.map { " and \($0) px in all" } ?? "") + " (resize it, or choose another format)"
        case let .codec(format, message):
            "cannot encode \(format): \(message)"
        }
    }
}

/// `w·h` as text, or "more than 2^63" when it overflows (a header may declare anything).
func pixelText(_ width: Int, _ height: Int) -> String {
    let (product, overflow) = width.multipliedReportingOverflow(by: height)
    return overflow ? "more than \(Int.max)" : String(product)
}
