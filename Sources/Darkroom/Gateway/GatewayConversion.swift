#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The conversion stage of an OpenAI-compatible image gateway, as one `Sendable` value.
///
/// Give it the client's request; it turns provider bytes into what the client asked for:
/// `output_format` → format (png when not given, as OpenAI), `output_compression` → encoder
/// quality (100 when not given, as OpenAI), `background: opaque` → alpha flattened onto
/// ``backgroundColor`` for every format. It also prepares reference images, estimates the
/// megapixel bill and builds the response body.
///
/// It holds no mutable state: call it from as many tasks at once as you like.
///
/// ```swift
/// let request = try GatewayRequest(json: httpBody)
/// let stage = GatewayConversion(request: request)
/// let images = try await stage.convert(providerImages)          // n images, in parallel
/// let body = stage.responseBody(for: images, created: Int(Date().timeIntervalSince1970))
/// ```
public struct GatewayConversion: Sendable {
    public var request: GatewayRequest
    /// Refuse what OpenAI refuses (``GatewayRequest/validate(strictOpenAI:)``): `output_compression`
    /// below 100 with PNG or GIF. A transparent background with JPEG is refused either way.
    public var strictOpenAI: Bool
    /// Optional resize applied to every image (e.g. to a provider-snapped size).
    public var resize: ResizeGeometry?
    /// What `background: opaque` (and JPEG) flatten alpha onto.
    public var backgroundColor: RGBColor
    /// Pixel limit for inputs and outputs, checked before decoding and before resizing.
    public var maxPixels: Int
    /// How much damage the decoder tolerates; default: truncated or corrupt input is an error.
    public var failOn: FailOn = .truncated
    /// Most scans a JPEG input may have (``DecodeOptions/maxJPEGScans``; 1...``Limits/maxJPEGScanLimit``,
    /// checked by ``Converter``): more is ``ImageDecodingError/tooManyScans(limit:)``.
    public var maxJPEGScans: Int = DecodeOptions.defaultMaxJPEGScans
    /// The moment a conversion must stop by (``ConvertOptions/deadline``: the codecs are stopped
    /// where they can be, AVIF's cannot); `nil`: no limit. Past it ``convert(_:)-([UInt8])``
    /// throws ``DarkroomError/timeLimit(_:)``.
    public var deadline: Deadline?
    /// Which frames of an animated input are kept (``FrameSelection``; the sidecar's `frames`
    /// field): by default every frame when ``GatewayRequest/effectiveFormat`` can animate
    /// (``ImageFormat/canAnimate``), the first otherwise (``GatewayImage/framesDropped`` then says so).
    public var frames: FrameSelection = .automatic
    /// The metadata the outputs keep (the sidecar's `keep` field): by default
    /// ``MetadataKeep/default``, the provenance label only, as the library and the CLI.
    public var keep: MetadataKeep = .default

    public init(request: GatewayRequest = GatewayRequest(), strictOpenAI: Bool = false, resize: ResizeGeometry? = nil,
                backgroundColor: RGBColor = .white, maxPixels: Int = DecodeOptions.defaultMaxPixels) {
        self.request = request
        self.strictOpenAI = strictOpenAI
        self.resize = resize
        self.backgroundColor = backgroundColor
        self.maxPixels = maxPixels
    }

    /// The ``ConvertOptions`` the request maps to.
    public var convertOptions: ConvertOptions {
        ConvertOptions(format: request.effectiveFormat, quality: request.effectiveQuality, resize: resize,
                       decode: DecodeOptions(maxPixels: maxPixels, failOn: failOn, maxJPEGScans: maxJPEGScans),
                       encode: EncodeOptions(background: backgroundColor, keep: keep),
                       flattenAlpha: request.effectiveBackground == .opaque, frames: frames, deadline: deadline)
    }

    /// Converts one image: checks the request (``GatewayRequest/validate(strictOpenAI:)``, the one
    /// place OpenAI's refusals live), then runs ``Converter``.
    ///
    /// Throws ``DarkroomError/gateway(_:)`` for a refused request and everything
    /// ``Converter/convert(_:)-([UInt8])`` throws.
    public func convert(_ bytes: [UInt8]) throws(DarkroomError) -> GatewayImage {
        try request.validate(strictOpenAI: strictOpenAI)
        let result = try Converter(options: convertOptions).convert(bytes)
        // Stored sides passed the pixel limit, so the product cannot overflow.
        var image = GatewayImage(bytes: result.bytes, format: result.format, width: result.width, height: result.height,
                                 inputPixels: result.source.storedWidth * result.source.storedHeight)
        image.warnings = result.warnings
        image.frameCount = result.frameCount
        image.sourceFrameCount = result.source.frameCount
        image.framesDropped = result.framesDropped
        image.metadataWarnings = result.metadataWarnings
        image.lossless = result.lossless
        return image
    }

    /// Converts `images` in parallel (one task each); results keep the input order.
    /// Throws the first error (in input order).
    public func convert(_ images: [[UInt8]]) async throws(DarkroomError) -> [GatewayImage] {
        var out: [GatewayImage] = []
        for result in await convertEach(images) { out.append(try result.get()) }
        return out
    }

    /// Converts `images` in parallel; one result per image, in order, so a bad image does not
    /// hide the good ones.
    public func convertEach(_ images: [[UInt8]]) async -> [Result<GatewayImage, DarkroomError>] {
        await withTaskGroup(of: (Int, Result<GatewayImage, DarkroomError>).self) { group in
            for (i, bytes) in images.enumerated() {
                group.addTask { (i, Result { () throws(DarkroomError) in try self.convert(bytes) }) }
            }
            var results = [Result<GatewayImage, DarkroomError>?](repeating: nil, count: images.count)
            for await (i, r) in group { results[i] = r }
            return results.map { $0! }
        }
    }

    /// The pixel size the request resolves to for a provider.
    public func resolvedSize(profile: ProviderProfile, multiple: Int? = nil) -> PixelSize {
        profile.resolve(request, multiple: multiple)
    }

    /// Prepares reference images (≤ `options.maxReferences`, each ≤ 4 MP, PNG/JPEG/WebP).
    public func prepareReferences(_ inputs: [(name: String, bytes: [UInt8])],
                                  options: ReferencePrepOptions = ReferencePrepOptions()) throws(DarkroomError) -> [Result<PreparedReference, DarkroomError>] {
        try ReferencePrep.prepareAll(inputs, options: options)
    }

    /// The megapixel bill for references of the given sizes and `request.n` images of `output` size.
    /// Throws as ``MegapixelBilling`` `estimate`.
    public func cost(references: [PixelSize], output: PixelSize, inputPricePerMP: Double? = nil,
                     outputPricePerMP: Double? = nil) throws(DarkroomError) -> CostEstimate {
        try MegapixelBilling.estimate(references: references, output: output, n: request.count,
                                  inputPricePerMP: inputPricePerMP, outputPricePerMP: outputPricePerMP)
    }

    /// The response body for converted images (`b64_json` items).
    public func responseBody(for images: [GatewayImage], created: Int, revisedPrompts: [String?] = [],
                             usage: JSONValue? = nil) -> Data {
        ImagesResponse(images: images, created: created, revisedPrompts: revisedPrompts, usage: usage).jsonData()
    }
}
