/// How much damage a decode tolerates, with libvips' `fail_on` and sharp's `failOn` names.
///
/// | policy | truncated or corrupt data | other decoder warnings |
/// |---|---|---|
/// | `none` | decoded as far as possible, reported in ``ImageMetadata/warnings`` | reported |
/// | `truncated` (default) | ``ImageDecodingError/damaged(_:warning:failOn:)`` | reported |
/// | `warning` | error | error |
///
/// "Truncated or corrupt" means pixels are missing or made up: libjpeg's premature end of file,
/// premature end of a data segment, bad Huffman/arithmetic codes and lost restart markers; a GIF
/// frame whose image data ends early. Other warnings leave the picture intact (libjpeg's
/// extraneous bytes between markers, libpng's dropped ancillary chunks with bad CRCs or bad
/// profiles). PNG, WebP and AVIF files that end early fail in their libraries whatever the policy.
public enum FailOn: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case none, truncated, warning

    public var description: String { rawValue }

    /// Parses `none`, `truncated` or `warning` (case-insensitive).
    /// Throws ``DarkroomError/option(_:)``.
    public init(parsing text: String, name: String = "fail-on") throws(DarkroomError) {
        guard let value = FailOn(rawValue: text.trimmingSpaces().lowercased()) else {
            throw DarkroomError.option(OptionError(name: name, value: text, expected: "none, truncated or warning"))
        }
        self = value
    }

    /// True when `warning` must stop the decode under this policy.
    public func rejects(_ warning: DecodeWarning) -> Bool {
        switch self {
        case .none: false
        case .truncated: warning.kind == .truncated
        case .warning: true
        }
    }
}

/// Something a decoder noticed but could decode past.
public struct DecodeWarning: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Pixels are missing or invented: the file ends early or its data is corrupt.
        case truncated
        /// The picture is intact; the file is not quite valid.
        case warning
    }

    public var kind: Kind
    /// The decoder's own words, e.g. libjpeg's "Premature end of JPEG file".
    public var message: String
    /// How many times the decoder said it (libjpeg repeats some warnings per scan or restart interval).
    public var count: Int

    public init(kind: Kind, message: String, count: Int = 1) {
        self.kind = kind
        self.message = message
        self.count = count
    }

    public var description: String {
        (kind == .truncated ? "truncated or corrupt: " : "warning: ") + message + (count > 1 ? " (\(count) times)" : "")
    }
}
