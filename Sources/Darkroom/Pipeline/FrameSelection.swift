/// Which frames of an animated input (GIF, WebP, APNG, AVIF sequence) a conversion keeps: `--frames` on the command
/// line. Frames are numbered from 0, as libvips' `page`, ImageMagick's `file.gif[0]` and
/// Pillow's `seek` number them; ranges are inclusive.
///
/// | value | text | output |
/// |---|---|---|
/// | ``automatic`` | (default) | every frame when the output format can animate (``ImageFormat/animatable``: WebP, GIF, PNG as APNG, AVIF), else the first |
/// | ``all`` | `all` | every frame; an output that cannot animate (JPEG) is refused |
/// | ``first`` | `first` | the first frame, as a still image |
/// | ``range(_:)`` | `N` or `A-B` | frame N as a still image, or frames A through B as an animation |
///
/// A still input is one frame: ``automatic``, ``all``, ``first`` and a range that starts at 0
/// convert it as they always did.
public enum FrameSelection: Sendable, Hashable, CustomStringConvertible {
    case automatic
    case all
    case first
    /// Frames `lowerBound` through `upperBound`, from 0. A range past the last frame is cut to
    /// it; one that starts past it is refused (``DarkroomError/option(_:)``) once the file is open.
    case range(ClosedRange<Int>)

    /// Parses `all`, `first`, `N` or `A-B` (case-insensitive; frames from 0, `A` ≤ `B`, each at
    /// most ``Limits/maxSide``). Throws ``DarkroomError/option(_:)`` naming `name`.
    public init(parsing text: String, name: String = "frames") throws(DarkroomError) {
        let t = text.trimmingSpaces().lowercased()
        let expected = "all, first, a frame number N or a range A-B (frames from 0)"
        switch t {
        case "all": self = .all
        case "first": self = .first
        case "auto", "automatic": self = .automatic
        default:
            let parts = t.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let a = Int(parts[0]), let b = Int(parts[parts.count - 1]), a <= b, b <= Limits.maxSide else {
                throw DarkroomError.option(OptionError(name: name, value: text, expected: expected))
            }
            self = .range(a...b)
        }
    }

    public var description: String {
        switch self {
        case .automatic: "automatic"
        case .all: "all"
        case .first: "first"
        case let .range(r): r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)"
        }
    }

    /// The frames kept of `count`, for an output that can (`animates`) or cannot animate; nil
    /// when a range starts past the last frame.
    func frames(of count: Int, animates: Bool) -> ClosedRange<Int>? {
        switch self {
        case .automatic: animates ? 0...(count - 1) : 0...0
        case .all: 0...(count - 1)
        case .first: 0...0
        case let .range(r): r.lowerBound < count ? r.lowerBound...min(r.upperBound, count - 1) : nil
        }
    }
}
