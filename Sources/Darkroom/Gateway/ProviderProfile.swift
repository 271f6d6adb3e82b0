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

/// What sizes a provider accepts, as data: the table ``all`` holds one row per provider and
/// ``resolve(size:aspectRatio:resolution:multiple:)`` is the only code.
public struct ProviderProfile: Sendable, Hashable, CustomStringConvertible {
    /// The name used on the command line (`--profile flux2`).
    public var name: String
    /// Aspect ratios the provider supports; requests are mapped to the nearest (log space).
    /// Empty = any ratio.
    public var aspectRatios: [AspectRatio]
    /// Resolution tiers the provider supports; requests are mapped to the nearest.
    public var tiers: [ResolutionTier]
    /// Both sides are snapped to a multiple of this (1 = no snapping).
    public var multiple: Int
    /// The multiples accepted from outside (`--multiple`, the HTTP `multiple` field): 1 to 4096;
    /// ``resolve(size:aspectRatio:resolution:multiple:)`` clamps to it.
    public static let multipleRange = 1...4096
    public var minSide: Int
    public var maxSide: Int
    /// Largest width · height.
    public var maxPixels: Int
    /// When not empty, the only sizes the provider produces: a request maps to the preset whose
    /// aspect ratio is nearest (log space).
    public var presetSizes: [PixelSize]

    public init(name: String, aspectRatios: [AspectRatio], tiers: [ResolutionTier], multiple: Int,
                minSide: Int, maxSide: Int, maxPixels: Int, presetSizes: [PixelSize] = []) {
        self.name = name
        self.aspectRatios = aspectRatios
        self.tiers = tiers
        self.multiple = multiple
        self.minSide = minSide
        self.maxSide = maxSide
        self.maxPixels = maxPixels
        self.presetSizes = presetSizes
    }

    public var description: String { name }

    // MARK: The table

    /// No provider limits: any ratio, every tier, sides 1–14142, no snapping.
    public static let generic = ProviderProfile(
        name: "generic", aspectRatios: [], tiers: ResolutionTier.all, multiple: 1,
        minSide: 1, maxSide: 14142, maxPixels: 14142 * 14142)

    /// Black Forest Labs FLUX.2 (pro/flex/dev): up to 2048x2048 (4 MP), sides multiple of 16,
    /// custom sides from 256 (Replicate's documented range).
    public static let flux2 = ProviderProfile(
        name: "flux2",
        aspectRatios: [AspectRatio(1, 1), AspectRatio(4, 3), AspectRatio(3, 4), AspectRatio(3, 2), AspectRatio(2, 3),
                       AspectRatio(16, 9), AspectRatio(9, 16), AspectRatio(21, 9), AspectRatio(9, 21),
                       AspectRatio(5, 4), AspectRatio(4, 5)],
        tiers: [.half, .oneK, .twoK], multiple: 16, minSide: 256, maxSide: 2048, maxPixels: 2048 * 2048)

    /// OpenAI gpt-image-1: exactly 1024x1024, 1536x1024 or 1024x1536.
    public static let openai = ProviderProfile(
        name: "openai", aspectRatios: [AspectRatio(1, 1), AspectRatio(3, 2), AspectRatio(2, 3)],
        tiers: [.oneK], multiple: 16, minSide: 1024, maxSide: 1536, maxPixels: 1536 * 1024,
        presetSizes: [PixelSize(width: 1024, height: 1024), PixelSize(width: 1536, height: 1024),
                      PixelSize(width: 1024, height: 1536)])

    /// Every profile, by name.
    public static let all: [ProviderProfile] = [.generic, .flux2, .openai]

    /// Looks a profile up by name (case-insensitive).
    /// Throws ``DarkroomError/gateway(_:)`` (``GatewayError/invalidValue(field:value:accepted:)``) for an unknown name.
    public static func named(_ name: String) throws(DarkroomError) -> ProviderProfile {
        guard let p = all.first(where: { $0.name == name.lowercased() }) else {
            throw DarkroomError.gateway(.invalidValue(field: "profile", value: name, accepted: all.map(\.name)))
        }
        return p
    }

    // MARK: Resolving

    /// Resolves a request to pixel dimensions this provider accepts.
    ///
    /// - `size: WxH` is taken as is, then snapped and clamped (or mapped to the nearest preset).
    /// - `size: W:H` is a ratio, resolved with `resolution` (default 1K).
    /// - otherwise `aspectRatio` (default 1:1) and `resolution` (default 1K), each mapped to the
    ///   nearest supported value; `size: auto` counts as not given.
    ///
    /// For a ratio r and a tier of P pixels the exact size is w = √(P·r), h = √(P/r); both sides
    /// are rounded to the nearest multiple (`multiple` overrides the profile's), scaled down and
    /// floored when over ``maxSide`` or ``maxPixels``, and raised to ``minSide``.
    public func resolve(size: SizeRequest? = nil, aspectRatio: AspectRatio? = nil, resolution: ResolutionTier? = nil,
                        multiple: Int? = nil) -> PixelSize {
        let m = min(max(1, multiple ?? self.multiple), Self.multipleRange.upperBound)
        let tier = ResolutionTier.nearest(pixels: Double((resolution ?? .oneK).pixels), in: tiers) ?? .oneK
        var ratio = aspectRatio ?? .square
        switch size {
        case let .pixels(p):
            if !presetSizes.isEmpty { return nearestPreset(ratio: p.ratio) }
            return constrain(width: Double(p.width), height: Double(p.height), multiple: m)
        case let .ratio(r):
            ratio = r
        case .auto, nil:
            break
        }
        let mapped = aspectRatios.isEmpty ? ratio : (ratio.nearest(in: aspectRatios) ?? ratio)
        if !presetSizes.isEmpty { return nearestPreset(ratio: mapped.value) }
        let pixels = Double(tier.pixels)
        return constrain(width: (pixels * mapped.value).squareRoot(), height: (pixels / mapped.value).squareRoot(), multiple: m)
    }

    /// Resolves the size fields of a request.
    public func resolve(_ request: GatewayRequest, multiple: Int? = nil) -> PixelSize {
        resolve(size: request.size, aspectRatio: request.aspectRatio, resolution: request.resolution, multiple: multiple)
    }

    private func nearestPreset(ratio: Double) -> PixelSize {
        var best = presetSizes[0]
        var bestDistance = Double.infinity
        for p in presetSizes {
            let d = abs(log(p.ratio) - log(ratio))
            if d < bestDistance - 1e-12 { best = p; bestDistance = d }
        }
        return best
    }

    /// Snaps exact dimensions to the multiple and the profile's limits.
    func constrain(width ew: Double, height eh: Double, multiple m: Int) -> PixelSize {
        let md = Double(m)
        let maxSideSnapped = max(m, (maxSide / m) * m)
        let minSideSnapped = min(maxSideSnapped, ((minSide + m - 1) / m) * m)
        func nearest(_ x: Double) -> Int { max(m, Int((x / md).rounded()) * m) }
        func down(_ x: Double) -> Int { max(m, Int((x / md + 1e-9).rounded(.down)) * m) }  // 1e-9: 2047.9999… is 2048
        func fits(_ w: Int, _ h: Int) -> Bool { w <= maxSide && h <= maxSide && w * h <= maxPixels }

        let scale = Swift.min(1, Double(maxSide) / ew, Double(maxSide) / eh, (Double(maxPixels) / (ew * eh)).squareRoot())
        var w: Int, h: Int
        if scale < 1 {
            (w, h) = (down(ew * scale), down(eh * scale))
        } else {
            (w, h) = (nearest(ew), nearest(eh))
            if !fits(w, h) { (w, h) = (down(ew), down(eh)) }
        }
        w = Swift.min(Swift.max(w, minSideSnapped), maxSideSnapped)
        h = Swift.min(Swift.max(h, minSideSnapped), maxSideSnapped)
        return PixelSize(width: w, height: h)
    }
}
