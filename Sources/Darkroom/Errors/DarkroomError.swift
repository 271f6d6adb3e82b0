/// Every failure Darkroom reports, by phase (as swift-png splits its errors): an option out of
/// range, a file that cannot be read or written, input that cannot be decoded, an image that
/// cannot be encoded, a gateway request or response document that is refused, or a conversion
/// stopped at its deadline.
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
/// Each case carries the offending value. One error value is rendered by each door in its own
/// words (``message(for:)``): where a setting fixes it, the Swift caller is told the parameter
/// (`DecodeOptions.maxPixels`), the CLI user the flag (`--max-pixels`), the HTTP client the field
/// or the server setting (`fail_on=none`). ``description`` is the Swift caller's line.
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
    /// The conversion ran past its deadline (``ConvertOptions/deadline``) and was stopped: no
    /// output was made, and the codec's memory was freed.
    case timeLimit(TimeLimitError)

    /// The one-line message in `vocabulary`'s words.
    public func message(for vocabulary: ErrorVocabulary) -> String {
        switch self {
        case let .option(e): e.description
        case let .file(e): e.message(for: vocabulary)
        case let .decoding(e): e.message(for: vocabulary)
        case let .encoding(e): e.message(for: vocabulary)
        case let .gateway(e): e.description
        case let .timeLimit(e): e.message(for: vocabulary)
        }
    }

    /// The message as a Swift caller reads it (``message(for:)`` with ``ErrorVocabulary/swift``).
    public var description: String { message(for: .swift) }
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

    /// The one-line message in `vocabulary`'s words.
    public func message(for vocabulary: ErrorVocabulary) -> String {
        switch self {
        case let .io(path, message):
            "\(path): \(message)"
        case let .outputExists(path):
            "\(path) already exists (\(vocabulary.overwrite))"
        case let .outputNotRegularFile(path, kind):
            "\(path) is \(kind), not a regular file; it is never replaced (choose another output path)"
        case let .inputTooLarge(path, size, limit):
            "\(path): \(size.map { "\($0) bytes" } ?? "more than \(limit) bytes"), over the input limit of \(limit) bytes (\(vocabulary.raiseMaxInputBytes))"
        }
    }

    public var description: String { message(for: .swift) }
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
    /// A JPEG with more scans than ``DecodeOptions/maxJPEGScans`` (`limit`): stopped while its
    /// scans were read, before any row was handed out.
    case tooManyScans(limit: Int)
    /// The colour the file declares by its code points (a PNG `cICP` chunk, an AVIF `nclx`) cannot
    /// be converted to sRGB (``DecodeOptions/convertToSRGB``), so it is refused rather than shown
    /// in wrong colours; `reason` names the value and what is accepted. Checked from the header,
    /// before any pixel is decoded.
    case unsupportedColour(ImageFormat, cicp: CICP, reason: String)

    /// The one-line message in `vocabulary`'s words.
    public func message(for vocabulary: ErrorVocabulary) -> String {
        switch self {
        case .unknownFormat:
            "not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)"
        case let .unsupportedFormat(format, accepted):
            "\(format) is not accepted here; accepted: \(accepted.map(\.rawValue).joined(separator: ", "))"
        case let .tooManyPixels(width, height, limit):
            "\(width)x\(height) = \(pixelText(width, height)) px is over the limit of \(limit) px (\(vocabulary.raiseMaxPixels))"
        case let .invalidDimensions(width, height):
            "invalid image size \(width)x\(height)"
        case let .codec(format, message):
            "cannot decode \(format): \(message)"
        case let .damaged(format, warning, failOn):
            "\(format) data is \(warning.kind == .truncated ? "truncated or corrupt" : "suspect"): \(warning.message)"
                + " (\(vocabulary.failOn(failOn)); \(vocabulary.failOnNone))"
        case let .tooManyScans(limit):
            "JPEG has more than \(limit) scan\(limit == 1 ? "" : "s") (a progressive file has about 10; \(vocabulary.raiseMaxJPEGScans))"
        case let .unsupportedColour(format, cicp, reason):
            "cannot convert the \(format)'s colour (CICP \(cicp)) to sRGB: \(reason)"
        }
    }

    public var description: String { message(for: .swift) }
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

    /// The one-line message in `vocabulary`'s words.
    public func message(for vocabulary: ErrorVocabulary) -> String {
        switch self {
        case let .tooManyPixels(width, height, limit):
            "the output \(width)x\(height) = \(pixelText(width, height)) px is over the limit of \(limit) px (\(vocabulary.raiseMaxPixels))"
        case let .formatLimit(format, width, height, maxSide, maxPixels):
            "\(width)x\(height) is too large for \(format): at most \(maxSide) px per side"
                + (maxPixels.map { " and \($0) px in all" } ?? "") + " (resize it, or choose another format)"
        case let .codec(format, message):
            "cannot encode \(format): \(message)"
        }
    }

    public var description: String { message(for: .swift) }
}

/// A conversion stopped at its deadline (``ConvertOptions/deadline``): where it was when the
/// deadline passed. The stages check the deadline as they go (every few rows, and inside libjpeg,
/// libpng and libwebp through their progress callbacks), so a stopped conversion gives its thread
/// and its memory back within a few rows' work of the deadline; libavif has no such callback, so
/// an AVIF encode or decode, once started, runs to its end (bound it by pixels instead).
public struct TimeLimitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What a conversion was doing when its deadline passed.
    public enum Stage: String, Sendable, Hashable, CaseIterable {
        /// Reading the input's pixels.
        case decoding
        /// Resampling to the output size (or converting colour and orientation after it).
        case resizing
        /// Writing the output file (GIF: quantising to its palette, too).
        case encoding
    }

    /// The stage that saw the deadline pass.
    public var stage: Stage
    /// The codec's format: the input's while decoding, the output's while encoding; nil while resizing.
    public var format: ImageFormat?

    public init(stage: Stage, format: ImageFormat? = nil) {
        self.stage = stage
        self.format = format
    }

    /// The one-line message in `vocabulary`'s words.
    public func message(for vocabulary: ErrorVocabulary) -> String {
        let doing = format.map { "\(stage.rawValue) \($0)" } ?? stage.rawValue
        return "the conversion ran past its time limit and was stopped while \(doing) (\(vocabulary.timeLimit))"
    }

    public var description: String { message(for: .swift) }
}

/// `w·h` as text, or "more than 2^63" when it overflows (a header may declare anything).
func pixelText(_ width: Int, _ height: Int) -> String {
    let (product, overflow) = width.multipliedReportingOverflow(by: height)
    return overflow ? "more than \(Int.max)" : String(product)
}

/// Who reads an error message. The same error names the setting that would fix it in each door's
/// own words: a Swift caller the parameter, a command-line user the flag, an HTTP client the
/// request field or the server's setting.
public enum ErrorVocabulary: Sendable, Hashable, CaseIterable {
    /// A Swift caller of the library: ``DecodeOptions/maxPixels``, ``DecodeOptions/failOn``, …
    case swift
    /// A user of the `darkroom` command: `--max-pixels`, `--fail-on`, `--overwrite`, `--max-input-bytes`.
    case commandLine
    /// A client of `darkroom-server`: the `fail_on` field, the server's `--max-pixels` and `--max-body-bytes`.
    case http

    var raiseMaxJPEGScans: String {
        switch self {
        case .swift: "raise DecodeOptions.maxJPEGScans"
        case .commandLine: "raise it with --max-jpeg-scans"
        case .http: "the server's limit, set by darkroom-server --max-jpeg-scans"
        }
    }

    var raiseMaxPixels: String {
        switch self {
        case .swift: "raise DecodeOptions.maxPixels"
        case .commandLine: "raise it with --max-pixels"
        case .http: "the server's limit, set by darkroom-server --max-pixels"
        }
    }

    var raiseMaxInputBytes: String {
        switch self {
        case .swift: "raise the maxInputBytes argument"
        case .commandLine: "raise it with --max-input-bytes"
        case .http: "the server's limit, set by darkroom-server --max-body-bytes"
        }
    }

    var timeLimit: String {
        switch self {
        case .swift: "ConvertOptions.deadline"
        case .commandLine: "the deadline it was given"
        case .http: "the server's limit, set by darkroom-server --request-timeout"
        }
    }

    var overwrite: String {
        switch self {
        case .swift: "pass overwrite: true to replace it"
        case .commandLine: "use --overwrite to replace it"
        case .http: "it is not replaced"
        }
    }

    func failOn(_ policy: FailOn) -> String {
        switch self {
        case .swift: "failOn: .\(policy.rawValue)"
        case .commandLine: "--fail-on \(policy.rawValue)"
        case .http: "fail_on=\(policy.rawValue)"
        }
    }

    var failOnNone: String {
        switch self {
        case .swift: "set DecodeOptions.failOn to .none to convert what can be decoded"
        case .commandLine: "use --fail-on none to convert what can be decoded"
        case .http: "send fail_on=none to convert what can be decoded"
        }
    }
}
