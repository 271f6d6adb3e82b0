#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The moment a conversion must stop by (``ConvertOptions/deadline``): a plain value, an instant
/// on the system's monotonic clock (`CLOCK_MONOTONIC`, in nanoseconds), so the codecs' C callbacks
/// compare against it with one `clock_gettime` and no call back into Swift.
///
/// A conversion checks it where the work is: every few rows while decoding, resizing and handing
/// rows to an encoder; inside libjpeg (its progress monitor, also during the long progressive
/// decode and the progressive or optimised Huffman passes at the end of an encode), libpng (its
/// row callback, reading and writing) and libwebp (its encoder's progress hook: `WebPEncode` is
/// one long call); in the GIF palette quantiser and dither. Past it the conversion throws
/// ``DarkroomError/timeLimit(_:)``, frees its codec state and buffers and makes no output.
///
/// libavif 0.11 has no progress or abort callback: an AVIF encode or decode is checked before it
/// starts and after it ends, never during, so bound AVIF work by its pixels instead
/// (`darkroom-server --max-avif-pixels`). A WebP decode (one `WebPDecode` call) and the ICC
/// conversion to sRGB are likewise checked only before and after.
///
/// Make one with ``init(after:)`` (a duration from now), ``init(_:)`` (an instant of the
/// continuous clock) or ``init(nanoseconds:)``; `nil` in the options means no limit.
public struct Deadline: Sendable, Hashable, Comparable {
    /// The instant in nanoseconds on `CLOCK_MONOTONIC` (on Linux also the clock of
    /// `DispatchTime.uptimeNanoseconds`).
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` on `CLOCK_MONOTONIC`.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// `duration` from now; a zero or negative duration is a deadline that has already passed.
    public init(after duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanos = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        let now = Deadline.now.nanoseconds
        if nanos <= 0 {
            nanoseconds = now - min(now, UInt64(min(-nanos, Double(UInt64.max / 2))))
        } else {
            nanoseconds = now &+ UInt64(min(nanos, Double(UInt64.max / 4)))
        }
    }

    /// The same moment as `instant` on the continuous clock (the clock of Swift's `Task.sleep`).
    public init(_ instant: ContinuousClock.Instant) {
        self.init(after: ContinuousClock.now.duration(to: instant))
    }

    /// Now, on `CLOCK_MONOTONIC`.
    public static var now: Deadline { Deadline(nanoseconds: monotonicNanoseconds()) }

    /// Whether the deadline is now or past.
    public var hasPassed: Bool { monotonicNanoseconds() >= nanoseconds }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Throws ``DarkroomError/timeLimit(_:)`` for `stage` (and the codec's `format`) once the
    /// deadline has passed.
    @inline(__always)
    func check(_ stage: TimeLimitError.Stage, _ format: ImageFormat? = nil) throws(DarkroomError) {
        if hasPassed { throw .timeLimit(TimeLimitError(stage: stage, format: format)) }
    }
}

extension Optional where Wrapped == Deadline {
    /// ``Deadline/check(_:_:)`` when there is a deadline; nothing without one.
    @inline(__always)
    func check(_ stage: TimeLimitError.Stage, _ format: ImageFormat? = nil) throws(DarkroomError) {
        if let deadline = self { try deadline.check(stage, format) }
    }

    /// True when there is a deadline and it has passed.
    var hasPassed: Bool { self?.hasPassed ?? false }

    /// The nanoseconds the C shims compare against: 0 for no deadline.
    var cValue: UInt64 { self.map { max(1, $0.nanoseconds) } ?? 0 }
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of every ``Deadline`` (the C shims read the same clock).
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
