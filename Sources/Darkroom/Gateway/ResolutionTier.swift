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

/// A target pixel count for generation: `0.5K` (0.25 MP), `1K` (1 MP = 1,048,576 px), `2K` (4 MP),
/// `4K` (16 MP). The image keeps its aspect ratio and has about this many pixels.
public struct ResolutionTier: Sendable, Hashable, CustomStringConvertible {
    /// The tier's name as accepted in requests, e.g. `1K`.
    public var name: String
    /// Target pixel count (width · height ≈ pixels).
    public var pixels: Int

    public init(name: String, pixels: Int) {
        self.name = name
        self.pixels = pixels
    }

    public var description: String { name }
    /// Target megapixels in units of 1,048,576 px.
    public var megapixels: Double { Double(pixels) / Double(Limits.megapixel) }

    public static let half = ResolutionTier(name: "0.5K", pixels: 262_144)
    public static let oneK = ResolutionTier(name: "1K", pixels: 1_048_576)
    public static let twoK = ResolutionTier(name: "2K", pixels: 4_194_304)
    public static let fourK = ResolutionTier(name: "4K", pixels: 16_777_216)
    /// Every tier, smallest first.
    public static let all: [ResolutionTier] = [.half, .oneK, .twoK, .fourK]

    /// Parses a tier name (`0.5K`, `1k`, …) or a megapixel number (`0.25`, `1`, `4`, `16`, `2.5`,
    /// also with an `mp` suffix) and maps it to the nearest of `supported` in log space; a value
    /// exactly between two tiers goes to the larger one. Nil when the text is neither (numbers go
    /// through ``ValueParser/megapixels(_:name:)``, as `max_mp`: above 0 up to 65,536 MP, no hex floats).
    public static func parse(_ text: String, supported: [ResolutionTier] = ResolutionTier.all) -> ResolutionTier? {
        let t = text.trimmingSpaces().lowercased()
        if let named = all.first(where: { $0.name.lowercased() == t }) {
            return supported.contains(named) ? named : nearest(pixels: Double(named.pixels), in: supported)
        }
        var number = Substring(t)
        if number.hasSuffix("mp") { number = number.dropLast(2) }
        // The one bounded number parser (as `max_mp`): decimal only (no hex floats), above 0 up to
        // ``Limits/maxMegapixels``.
        guard let pixels = try? ValueParser.megapixels(String(number.trimmingSpaces()), name: "resolution") else { return nil }
        return nearest(pixels: Double(pixels), in: supported)
    }

    /// The tier of `candidates` nearest `pixels` in log space; ties go to the larger tier.
    public static func nearest(pixels: Double, in candidates: [ResolutionTier]) -> ResolutionTier? {
        let target = log(pixels)
        var best: (tier: ResolutionTier, distance: Double)?
        for c in candidates {
            let d = abs(log(Double(c.pixels)) - target)
            if let b = best {
                if d < b.distance - 1e-9 || (abs(d - b.distance) <= 1e-9 && c.pixels > b.tier.pixels) { best = (c, d) }
            } else {
                best = (c, d)
            }
        }
        return best?.tier
    }
}
