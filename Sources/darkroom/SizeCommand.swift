import ArgumentParser
import Darkroom

/// `darkroom size`: resolve a gateway size request to provider-valid pixel dimensions.
struct SizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "size",
        abstract: "Resolve WxH, W:H or aspect ratio + resolution tier to pixel dimensions.",
        discussion: """
            --size wins over --aspect-ratio and --resolution. A W:H size is a ratio resolved with the \
            resolution tier (default 1K = 1,048,576 px). Ratios and tiers are mapped to the nearest the \
            profile supports (log space); sides are rounded to --multiple and clamped to the profile's range.
            Profiles: generic (any ratio, sides 1-14142), flux2 (max 2048x2048, multiple 16), \
            openai (1024x1024, 1536x1024, 1024x1536).
            Examples: darkroom size --aspect-ratio 16:9 --resolution 2K --profile flux2   → 2048x1152
            """)

    @Option(parsing: .unconditional, help: "Requested size: WxH, W:H or auto.")
    var size: String?

    @Option(parsing: .unconditional, help: "Aspect ratio W:H (any; mapped to the nearest the profile supports).")
    var aspectRatio: String?

    @Option(parsing: .unconditional, help: "Resolution tier 0.5K, 1K, 2K, 4K, or megapixels (0.25, 1, 4, 16).")
    var resolution: String?

    @Option(parsing: .unconditional, help: "Snap both sides to a multiple of this, 1 to 4096 (default: the profile's).")
    var multiple: String?

    @Option(help: "Provider profile: generic, flux2 or openai.")
    var profile: String = "generic"

    @Flag(help: "Print {\"width\":W,\"height\":H}.")
    var json = false

    func run() throws {
        let resolved: PixelSize
        do {
            var fields: [String: String] = [:]
            if let size { fields["size"] = size }
            if let aspectRatio { fields["aspect_ratio"] = aspectRatio }
            if let resolution { fields["resolution"] = resolution }
            let multiple = try self.multiple.map { try ValueParser.integer($0, name: "multiple", in: ProviderProfile.multipleRange) }
            let request = try GatewayRequest(form: fields)
            resolved = try ProviderProfile.named(profile).resolve(request, multiple: multiple)
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        if json {
            Console.json(["width": .int(resolved.width), "height": .int(resolved.height)])
        } else {
            Console.line(resolved.description)
        }
    }
}
