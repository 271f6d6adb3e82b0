import Testing
@testable import Darkroom

@Suite struct GatewaySizeTests {
    @Test func nearestAspectRatioIsMeasuredInLogSpace() {
        let r = { (w: Int, h: Int) in AspectRatio(w, h) }
        #expect(r(7, 1).nearest(in: [r(4, 1), r(8, 1)]) == r(8, 1))
        // Linear distance would pick 3:1 (|5-3| = 2 < |8-5| = 3); log distance picks 8:1.
        #expect(r(5, 1).nearest(in: [r(3, 1), r(8, 1)]) == r(8, 1))
        #expect(r(1, 5).nearest(in: [r(1, 3), r(1, 8)]) == r(1, 8))
        #expect(r(16, 10).nearest(in: ProviderProfile.flux2.aspectRatios) == r(3, 2))
        #expect(r(7, 1).nearest(in: ProviderProfile.flux2.aspectRatios) == r(21, 9))
        #expect(r(2, 1).nearest(in: []) == nil)
    }

    @Test func parsesSizesAndRatios() throws {
        #expect(PixelSize(parsing: "1024x768") == PixelSize(width: 1024, height: 768))
        #expect(PixelSize(parsing: "1024X768") == PixelSize(width: 1024, height: 768))
        #expect(PixelSize(parsing: "1024x") == nil)
        #expect(PixelSize(parsing: "-4x4") == nil)
        #expect(PixelSize(parsing: "0x4") == nil)
        #expect(AspectRatio(parsing: "21:9") == AspectRatio(21, 9))
        #expect(AspectRatio(parsing: "1.5:1") == nil)
        #expect(try SizeRequest(parsing: "AUTO") == .auto)
        #expect(try SizeRequest(parsing: "4:3") == .ratio(AspectRatio(4, 3)))
        #expect(try SizeRequest(parsing: "640x480") == .pixels(PixelSize(width: 640, height: 480)))
    }

    @Test(arguments: [
        ("0.5K", "0.5K"), ("1k", "1K"), ("2K", "2K"), ("4K", "4K"),
        ("0.25", "0.5K"), ("1", "1K"), ("4", "2K"), ("16", "4K"), ("4mp", "2K"),
        ("0.3", "0.5K"), ("3", "2K"), ("100", "4K"), ("0.01", "0.5K"),
        // Exactly between two tiers in log space: the larger one.
        ("2", "2K"), ("0.5", "1K"), ("8", "4K"),
    ])
    func resolutionMapsToNearestTier(_ text: String, _ expected: String) throws {
        #expect(try #require(ResolutionTier.parse(text)).name == expected)
    }

    @Test func resolutionRejectsGarbageAndRespectsSupportedTiers() {
        #expect(ResolutionTier.parse("abc") == nil)
        #expect(ResolutionTier.parse("0") == nil)
        #expect(ResolutionTier.parse("-1") == nil)
        // The bounded number parser (as max_mp): no hex floats, nothing over 65,536 MP.
        for text in ["0x1p3", "1e300", "65537", "99999999999999999999999", "inf", "nan"] {
            #expect(ResolutionTier.parse(text) == nil, "\(text)")
        }
        #expect(ResolutionTier.parse("65536") == .fourK)
        #expect(ResolutionTier.parse("4mp") == .twoK)
        #expect(ResolutionTier.parse("4K", supported: ProviderProfile.flux2.tiers) == .twoK)
        #expect(ResolutionTier.parse("0.5K", supported: ProviderProfile.openai.tiers) == .oneK)
        #expect(ResolutionTier.all.map(\.pixels) == [262_144, 1_048_576, 4_194_304, 16_777_216])
    }

    struct SizeCase: Sendable, CustomTestStringConvertible {
        var profile: ProviderProfile
        var fields: [String: String]
        var multiple: Int?
        var expected: String
        var testDescription: String { "\(profile.name) \(fields.sorted { $0.key < $1.key }) m=\(multiple.map(String.init) ?? "-") → \(expected)" }
    }

    static let sizeCases: [SizeCase] = [
        SizeCase(profile: .generic, fields: [:], expected: "1024x1024"),
        SizeCase(profile: .generic, fields: ["aspect_ratio": "16:9"], expected: "1365x768"),
        SizeCase(profile: .generic, fields: ["aspect_ratio": "16:9"], multiple: 16, expected: "1360x768"),
        SizeCase(profile: .generic, fields: ["aspect_ratio": "4:3", "resolution": "1K"], expected: "1182x887"),
        SizeCase(profile: .generic, fields: ["resolution": "0.5K"], expected: "512x512"),
        SizeCase(profile: .generic, fields: ["resolution": "2K"], expected: "2048x2048"),
        SizeCase(profile: .generic, fields: ["resolution": "4K"], expected: "4096x4096"),
        SizeCase(profile: .generic, fields: ["aspect_ratio": "16:9", "resolution": "4K"], expected: "5461x3072"),
        SizeCase(profile: .generic, fields: ["aspect_ratio": "3:2", "resolution": "2K"], multiple: 32, expected: "2496x1664"),
        SizeCase(profile: .generic, fields: ["aspect_ratio": "7:1"], expected: "2709x387"),
        SizeCase(profile: .generic, fields: ["size": "auto", "aspect_ratio": "2:1"], expected: "1448x724"),
        SizeCase(profile: .generic, fields: ["size": "1536x1024", "aspect_ratio": "1:1", "resolution": "2K"], expected: "1536x1024"),
        SizeCase(profile: .generic, fields: ["size": "20000x100"], expected: "14142x70"),
        SizeCase(profile: .generic, fields: ["size": "1000x1000"], multiple: 16, expected: "1008x1008"),
        SizeCase(profile: .flux2, fields: [:], expected: "1024x1024"),
        SizeCase(profile: .flux2, fields: ["aspect_ratio": "16:9"], expected: "1360x768"),
        SizeCase(profile: .flux2, fields: ["aspect_ratio": "16:9", "resolution": "2K"], expected: "2048x1152"),
        SizeCase(profile: .flux2, fields: ["aspect_ratio": "9:16", "resolution": "2"], expected: "1152x2048"),
        SizeCase(profile: .flux2, fields: ["resolution": "4K"], expected: "2048x2048"),
        SizeCase(profile: .flux2, fields: ["aspect_ratio": "7:1"], expected: "1568x672"),
        SizeCase(profile: .flux2, fields: ["aspect_ratio": "1:1", "resolution": "0.5K"], expected: "512x512"),
        SizeCase(profile: .flux2, fields: ["size": "4096x4096"], expected: "2048x2048"),
        SizeCase(profile: .flux2, fields: ["size": "100x100"], expected: "256x256"),
        SizeCase(profile: .flux2, fields: ["size": "1000x1000"], expected: "1008x1008"),
        SizeCase(profile: .flux2, fields: ["size": "1000x1000"], multiple: 32, expected: "992x992"),
        SizeCase(profile: .flux2, fields: ["size": "16:9", "resolution": "2K"], expected: "2048x1152"),
        SizeCase(profile: .flux2, fields: ["size": "16:9", "aspect_ratio": "1:1"], expected: "1360x768"),
        SizeCase(profile: .openai, fields: [:], expected: "1024x1024"),
        SizeCase(profile: .openai, fields: ["aspect_ratio": "16:9"], expected: "1536x1024"),
        SizeCase(profile: .openai, fields: ["aspect_ratio": "9:16", "resolution": "4K"], expected: "1024x1536"),
        SizeCase(profile: .openai, fields: ["size": "1792x1024"], expected: "1536x1024"),
        SizeCase(profile: .openai, fields: ["size": "1024x1024"], expected: "1024x1024"),
        SizeCase(profile: .openai, fields: ["size": "2:3"], expected: "1024x1536"),
    ]

    @Test(arguments: sizeCases)
    func resolvesToPixelDimensions(_ c: SizeCase) throws {
        let request = try GatewayRequest(form: c.fields)
        #expect(c.profile.resolve(request, multiple: c.multiple).description == c.expected)
    }

    @Test(arguments: ProviderProfile.all)
    func resolvedSizesRespectTheProfile(_ profile: ProviderProfile) {
        let ratios = [(1, 1), (16, 9), (9, 16), (4, 3), (3, 4), (21, 9), (9, 21), (7, 1), (1, 7), (5, 4), (2, 3), (100, 1)]
        for (w, h) in ratios {
            for tier in ResolutionTier.all {
                let s = profile.resolve(aspectRatio: AspectRatio(w, h), resolution: tier)
                #expect(s.width % profile.multiple == 0 && s.height % profile.multiple == 0, "\(profile) \(w):\(h) \(tier) → \(s)")
                #expect(s.width <= profile.maxSide && s.height <= profile.maxSide, "\(profile) \(w):\(h) \(tier) → \(s)")
                #expect(s.width >= profile.minSide && s.height >= profile.minSide, "\(profile) \(w):\(h) \(tier) → \(s)")
                #expect(s.pixels <= profile.maxPixels, "\(profile) \(w):\(h) \(tier) → \(s)")
                if !profile.presetSizes.isEmpty { #expect(profile.presetSizes.contains(s)) }
            }
        }
    }

    @Test func tierPixelCountIsKeptForUnconstrainedRatios() {
        // Within 1% of the tier for moderate ratios on the generic profile.
        for (w, h) in [(1, 1), (16, 9), (4, 3), (3, 2), (21, 9)] {
            for tier in ResolutionTier.all {
                let s = ProviderProfile.generic.resolve(aspectRatio: AspectRatio(w, h), resolution: tier)
                let err = abs(Double(s.pixels) - Double(tier.pixels)) / Double(tier.pixels)
                #expect(err < 0.01, "\(w):\(h) \(tier) → \(s)")
                #expect(abs(s.ratio - Double(w) / Double(h)) < 0.01, "\(w):\(h) \(tier) → \(s)")
            }
        }
    }

    @Test func profilesAreLookedUpByName() throws {
        #expect(try ProviderProfile.named("FLUX2") == .flux2)
        #expect(try ProviderProfile.named("openai").presetSizes.count == 3)
        #expect(throws: DarkroomError.gateway(.invalidValue(field: "profile", value: "dalle", accepted: ["generic", "flux2", "openai"]))) {
            try ProviderProfile.named("dalle")
        }
    }
}
