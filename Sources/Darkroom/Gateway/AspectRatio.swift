#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An aspect ratio `W:H` with positive integer terms (kept as written: 16:9 is not reduced).
public struct AspectRatio: Sendable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(_ width: Int, _ height: Int) {
        precondition(width > 0 && height > 0, "aspect ratio terms must be positive")
        self.width = width
        self.height = height
    }

    /// Parses `W:H`; nil unless both terms are integers from 1 to ``Limits/maxSide``.
    public init?(parsing text: String) {
        let parts = text.trimmingSpaces().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
              parts.allSatisfy({ $0.count <= 9 }), let w = Int(parts[0]), let h = Int(parts[1]),
              (1...Limits.maxSide).contains(w), (1...Limits.maxSide).contains(h) else { return nil }
        self.init(w, h)
    }

    public var description: String { "\(width):\(height)" }
    /// Width / height.
    public var value: Double { Double(width) / Double(height) }

    /// The ratio of `candidates` nearest to this one, measured in log space (|ln a − ln b|),
    /// so 5:1 is nearer 8:1 than 3:1. Ties go to the earlier candidate. Nil when empty.
    public func nearest(in candidates: [AspectRatio]) -> AspectRatio? {
        let target = log(value)
        var best: (ratio: AspectRatio, distance: Double)?
        for c in candidates {
            let d = abs(log(c.value) - target)
            if best == nil || d < best!.distance - 1e-12 { best = (c, d) }
        }
        return best?.ratio
    }

    public static let square = AspectRatio(1, 1)
}
