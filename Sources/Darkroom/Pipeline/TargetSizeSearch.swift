#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The quality search of a ``TargetSize``: the highest quality in `floor...cap` whose encode is at
/// most `maxBytes`, in at most `maxAttempts` encodes of one image.
///
/// The answer is one of `floor - 1` (nothing fits: unmet) … `cap`; the search keeps the range of
/// answers still possible, `low...high` (`low` is the highest quality seen to fit, `high` one below
/// the lowest seen not to). Each encode at `q` in `low + 1...high` leaves `q...high` (it fits) or
/// `low...q - 1` (it does not). The first encode is at the cap; the next ones interpolate the
/// logarithm of the size linearly in quality between the nearest sizes seen on either side (below
/// any fit seen: from the lowest size over the target, along a slope measured or assumed), and the
/// guess is clamped so that what is left could still be halved down to one answer with the encodes
/// left (at most 2^(r − 1) answers on either side of an encode with r encodes left). So the search
/// ends in `maxAttempts` encodes whatever the sizes are, and with sizes that grow with quality, the
/// answer is exact: Q fits and Q + 1 does not (or Q is the cap).
struct TargetSizeSearch {
    /// The largest output accepted, in bytes.
    let maxBytes: Int
    /// The lowest quality tried (``TargetSize/minQuality``, or the cap when that is lower).
    let floor: Int
    /// The highest quality tried (``EncodeOptions/quality``, or 100).
    let cap: Int
    /// The encoder's step size as a function of quality, on a log scale (``scale(_:quality:)``):
    /// ln(size) is close to a straight line in it, where it is far from one in Q itself.
    let format: ImageFormat
    /// d ln(size) / d ``scale(_:quality:)`` assumed until two sizes on one side are seen.
    let slope: Double
    /// Encodes at most.
    let maxAttempts: Int

    /// The search for `target` of a `format` output under `encode` (its quality, when set, is the cap).
    init(_ target: TargetSize, format: ImageFormat, encode: EncodeOptions, maxAttempts: Int = TargetSize.maxAttempts) {
        let cap = encode.quality ?? Limits.quality.upperBound
        self.init(maxBytes: target.maxBytes, floor: min(target.minQuality, cap), cap: cap, format: format,
                  maxAttempts: maxAttempts)
    }

    init(maxBytes: Int, floor: Int, cap: Int, format: ImageFormat = .jpeg, maxAttempts: Int = TargetSize.maxAttempts) {
        precondition(floor <= cap && cap - floor + 2 <= 1 << maxAttempts, "more answers than the encodes can settle")
        (self.maxBytes, self.floor, self.cap, self.format, self.maxAttempts) = (maxBytes, floor, cap, format, maxAttempts)
        slope = Self.assumedSlope(format)
    }

    /// −ln(quantiser step), up to a constant, at quality `q` (``QualityCurve``'s mappings):
    /// JPEG: libjpeg's table scale (5000/Q below 50, else 200 − 2Q, in per cent) plus 10 for the
    /// tables' rounding and floor of 1; WebP: libwebp's quantiser index 127·(1 − c^(1/3)) with
    /// c = 2Q/300 below 75, else 2Q/100 − 1, plus 10; AVIF: the AV1 quantizer, whose step grows
    /// about exponentially with it. PNG and GIF: Q itself.
    static func scale(_ format: ImageFormat, quality q: Int) -> Double {
        switch format {
        case .jpeg:
            let q = QualityCurve.jpegQuality(q)
            return -log(Double(q < 50 ? 5000 / q : 200 - 2 * q) + 10)
        case .webp:
            let c = Double(QualityCurve.webpQuality(q)) / 100
            let linear = c < 0.75 ? c * 2 / 3 : 2 * c - 1
            return -log(127 * (1 - cbrt(linear)) + 10)
        case .avif:
            return -Double(QualityCurve.avifQuantizer(q))
        case .png, .gif:
            return Double(q)
        }
    }

    /// d ln(size) / d scale assumed from the cap down, measured on photos (kodim23 and the
    /// corpus; see docs/performance.md).
    static func assumedSlope(_ format: ImageFormat) -> Double {
        switch format {
        case .jpeg: 0.7
        case .webp: 1.0
        case .avif: 0.055
        case .png, .gif: 0.03
        }
    }

    /// What the search found: the output's bytes and quality, whether they fit, and every attempt.
    struct Found<Output> {
        var bytes: Output
        var quality: Int
        var met: Bool
        var attempts: [TargetSize.Attempt]
    }

    /// Runs the search: `encode` makes the output (bytes; a test's stand-in) at a quality.
    /// Throws what `encode` throws.
    func run<Output: Collection>(_ encode: (Int) throws(DarkroomError) -> Output) throws(DarkroomError) -> Found<Output> {
        var low = floor - 1
        var high = cap
        var sizes: [Int: Int] = [:]
        var attempts: [TargetSize.Attempt] = []
        var fit: (quality: Int, bytes: Output)?
        var smallest: (quality: Int, bytes: Output)?
        while low < high {
            let left = maxAttempts - attempts.count
            precondition(left >= 1 && high - low + 1 <= 1 << left)
            let half = 1 << (left - 1)
            let q = min(max(guess(low: low, high: high, sizes: sizes), low + 1, high + 1 - half), high, low + half)
            let out = try encode(q)
            attempts.append(TargetSize.Attempt(quality: q, bytes: out.count))
            sizes[q] = out.count
            if out.count <= maxBytes {
                (low, fit) = (q, (q, out))
            } else {
                high = q - 1
                if smallest.map({ out.count < $0.bytes.count }) ?? true { smallest = (q, out) }
            }
        }
        if let fit, low >= floor { return Found(bytes: fit.bytes, quality: fit.quality, met: true, attempts: attempts) }
        guard let smallest else { preconditionFailure("an unmet search encoded at least once") }
        return Found(bytes: smallest.bytes, quality: smallest.quality, met: false, attempts: attempts)
    }

    /// The next quality to try (before clamping), from the sizes seen so far: the highest quality
    /// in `low + 1...high` whose size, on the line ln(size) = a + b·scale(Q) through the nearest
    /// sizes seen on either side, is at most the target (the lowest of them when none is).
    func guess(low: Int, high: Int, sizes: [Int: Int]) -> Int {
        // `low` fits (when ≥ floor); `high + 1` does not.
        guard high < cap, let over = sizes[high + 1] else { return high }
        let target = log(Double(maxBytes))
        let x0 = Self.scale(format, quality: high + 1), y0 = log(Double(over))
        var b = slope
        if low >= floor, let under = sizes[low] {
            let dx = x0 - Self.scale(format, quality: low), dy = y0 - log(Double(under))
            guard dx > 0, dy > 0 else { return (low + high + 1) / 2 }
            b = dy / dx
        } else if let next = sizes.keys.filter({ $0 > high + 1 }).min(), let nextSize = sizes[next] {
            // Nothing fits yet: the slope of the two lowest sizes seen, within 4× of the assumed one.
            let dx = Self.scale(format, quality: next) - x0, dy = log(Double(nextSize)) - y0
            if dx > 0, dy > 0 { b = min(max(dy / dx, slope / 4), slope * 4) }
        }
        var q = high
        while q > low + 1, y0 + b * (Self.scale(format, quality: q) - x0) > target { q -= 1 }
        return q
    }
}
