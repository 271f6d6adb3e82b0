/// An image file opened for decoding: its header parsed once, no pixel decoded yet.
///
/// This is the first step of every decode, as libvips' `thumbnail` reads the header before it
/// plans: ``header`` and the facts below are what a plan is computed from; the source is then
/// told the plan's ``DecodeScale`` and gives its pixels, either as rows
/// (``startRows(scale:)``, JPEG and non-interlaced PNG) or as a whole image
/// (``decodeImage(scale:)``), in stored orientation and without colour conversion. The input
/// pixel limit (``DecodeOptions/maxPixels``) is checked here, on the declared size, before any
/// pixel buffer exists.
///
/// `buffer` must be `bytes`' storage and stay valid while the source exists: open it inside
/// `bytes.withUnsafeBufferPointer` (JPEG and PNG decoders read from it as they go).
final class ImageSource {
    let format: ImageFormat
    /// Format, stored size and orientation.
    let header: ImageHeader
    /// What the file holds besides pixels, as far as its header tells (JPEG and PNG: all of it, as
    /// nothing after the pixels is used; warnings come with ``finishRows()``).
    private(set) var headerMetadata: ImageMetadata
    /// The layout of the rows ``startRows(scale:)`` gives, or nil when the pixels come only whole
    /// (WebP, AVIF, GIF, a CMYK JPEG, an interlaced PNG).
    let rowFormat: PixelFormat?
    /// An 8-bit YCbCr or gray JPEG whose stored planes can be read as they are
    /// (``startPlanes(scale:)``): no RGB-coded, CMYK or YCCK file.
    let readsPlanes: Bool
    /// A single-scan Huffman JPEG with restart markers: it may be decoded in two bands at once
    /// (``JPEGRowDecoder/restartLayout`` gives the layout once started).
    let hasRestartMarkers: Bool

    /// A PNG's animation chunks (nil for a still PNG and other formats): the frames a conversion
    /// reads through ``AnimationReader``, and their damage, which ``Converter`` and ``ImageInspection``
    /// report (a still decode gives the IDAT image and reports only its own damage).
    private(set) var apng: APNGScan?

    private var opened: Opened
    private let bytes: [UInt8]
    private let buffer: UnsafeBufferPointer<UInt8>
    private let options: DecodeOptions
    /// Where decoding stops (``ConvertOptions/deadline``): handed to the JPEG and PNG decoders
    /// (libjpeg's progress monitor, libpng's row callback), checked by the GIF decoder every 64
    /// rows and before and after a WebP or AVIF decode (one call that cannot be stopped).
    private let deadline: Deadline?

    private enum Opened {
        case jpeg(JPEGRowDecoder)
        case png(PNGRowDecoder)
        case webp(WebPCodec.Header)
        case avif(AVIFCodec.File)
        case gif
    }

    /// Parses the header of `bytes` (already sniffed as `format`) and checks its declared size
    /// against `options.maxPixels`. Throws ``DarkroomError/decoding(_:)``: the codec's refusal,
    /// ``ImageDecodingError/invalidDimensions(width:height:)`` or
    /// ``ImageDecodingError/tooManyPixels(width:height:limit:)``, and ``ImageDecodingError/unsupportedColour(_:cicp:reason:)``
    /// when `options` convert to sRGB (``checkColour(_:format:options:)``). `deadline`: where decoding stops
    /// (``DarkroomError/timeLimit(_:)``); the header is read either way.
    init(_ bytes: [UInt8], buffer: UnsafeBufferPointer<UInt8>, format: ImageFormat, options: DecodeOptions,
         deadline: Deadline? = nil) throws(DarkroomError) {
        self.bytes = bytes
        self.buffer = buffer
        self.format = format
        self.options = options
        self.deadline = deadline
        var blocksXMP: [UInt8]?
        switch format {
        case .jpeg:
            let decoder = try JPEGRowDecoder(buffer: buffer)
            decoder.deadline = deadline
            decoder.maxScans = options.maxJPEGScans
            try checkPixelLimit(width: decoder.storedWidth, height: decoder.storedHeight, limit: options.maxPixels)
            header = decoder.header
            headerMetadata = decoder.metadata
            rowFormat = decoder.isCMYK ? nil : decoder.pixelFormat
            hasRestartMarkers = decoder.hasRestartMarkers
            readsPlanes = decoder.canReadPlanes && !decoder.isCMYK
            opened = .jpeg(decoder)
        case .png:
            // The pixel limit is checked by the C stream as it opens, before its row buffers.
            let decoder = try PNGRowDecoder(buffer: buffer, maxPixels: options.maxPixels, failOn: options.failOn)
            decoder.deadline = deadline
            header = decoder.header
            var metadata = decoder.metadata
            // APNG: the frames, their timing and the loop count from a walk over the chunks.
            let scan = APNGScan(bytes)
            apng = scan
            if let scan, scan.animates {
                metadata.frameCount = scan.frames.count
                metadata.loopCount = scan.plays
                metadata.durationMs = scan.frames.map(\.durationMs).reduce(0, +)
            } else {
                metadata.frameCount = 1
            }
            headerMetadata = metadata
            rowFormat = decoder.isInterlaced ? nil : decoder.format
            hasRestartMarkers = false
            readsPlanes = false
            opened = .png(decoder)
        case .webp:
            let h = try WebPCodec.readHeader(bytes)
            try checkPixelLimit(width: h.features.width, height: h.features.height, limit: options.maxPixels)
            header = ImageHeader(format: .webp, width: h.features.width, height: h.features.height,
                                 orientation: EXIF.orientation(of: h.container.exif))
            headerMetadata = WebPCodec.metadata(h)
            rowFormat = nil
            hasRestartMarkers = false
            readsPlanes = false
            opened = .webp(h)
        case .avif:
            let file = try AVIFCodec.File(bytes, maxPixels: options.maxPixels)
            header = file.header
            var metadata = ImageMetadata(sourceFormat: .avif, storedWidth: file.header.width,
                                         storedHeight: file.header.height, storedBitDepth: file.depth)
            metadata.cicp = file.cicp
            blocksXMP = file.xmp
            // A sequence: its images and their timing (no pixel decoded); no loop count (forever).
            metadata.frameCount = file.frameCount
            if file.frameCount > 1 {
                metadata.loopCount = 0
                metadata.durationMs = file.frameDurations.reduce(0, +)
            }
            headerMetadata = metadata
            rowFormat = nil
            hasRestartMarkers = false
            readsPlanes = false
            opened = .avif(file)
        case .gif:
            let screen = try GIFDecoder.readHeader(bytes)
            try checkPixelLimit(width: screen.width, height: screen.height, limit: options.maxPixels)
            header = ImageHeader(format: .gif, width: screen.width, height: screen.height, orientation: .up)
            var metadata = ImageMetadata(sourceFormat: .gif, storedWidth: screen.width, storedHeight: screen.height, storedBitDepth: 8)
            // The frames, their timing and the loop count, from a walk over the blocks (no pixel decoded).
            if let scan = try? GIFDecoder.scan(bytes) {
                metadata.frameCount = scan.frames.count
                metadata.loopCount = scan.loopCount
                metadata.durationMs = scan.frames.map(GIFFrames.durationMilliseconds).reduce(0, +)
            }
            headerMetadata = metadata
            rowFormat = nil
            hasRestartMarkers = false
            readsPlanes = false
            opened = .gif
        }
        // XMP, IPTC, C2PA and the provenance label: one walk over the container, once.
        blocks = MetadataBlocks(bytes, format: format, avifXMP: blocksXMP)
        var withBlocks = headerMetadata
        blocks.apply(to: &withBlocks)
        headerMetadata = withBlocks
        try Self.checkColour(headerMetadata, format: format, options: options)
    }

    /// Refuses, before any pixel is decoded, a file whose colour is decided by code points
    /// (``ImageMetadata/cicp``) that ``CICPColour`` cannot convert to sRGB, when `options` convert
    /// to sRGB: ``ImageDecodingError/unsupportedColour(_:cicp:reason:)``.
    static func checkColour(_ metadata: ImageMetadata, format: ImageFormat, options: DecodeOptions) throws(DarkroomError) {
        guard options.convertToSRGB, let cicp = metadata.cicp else { return }
        if case let .unsupported(reason) = CICPColour.conversion(for: cicp, rgbCoded: format == .png) {
            throw .decoding(.unsupportedColour(format, cicp: cicp, reason: reason))
        }
    }

    /// The metadata blocks the codec libraries do not read (``MetadataBlocks``), read when the
    /// file was opened; a whole-image decode's metadata gets them too.
    private let blocks: MetadataBlocks

    /// The stored size.
    var storedSize: PixelSize { PixelSize(width: header.width, height: header.height) }

    /// A WebP file's bitstream features (alpha, animation), nil for other formats.
    var webpFeatures: WebPCodec.Features? {
        if case let .webp(h) = opened { h.features } else { nil }
    }

    /// An AVIF file's parsed container (alpha, frames, ICC, EXIF, XMP), nil for other formats.
    var avifFile: AVIFCodec.File? {
        if case let .avif(file) = opened { file } else { nil }
    }

    /// Starts the row decoder at `scale` and returns it (JPEG, or a PNG with ``rowFormat``).
    /// Throws the codec's refusal.
    func startRows(scale: DecodeScale) throws(DarkroomError) -> RowDecoder {
        switch opened {
        case let .jpeg(decoder):
            try decoder.start(scaleDenominator: scale.jpegDenominator, maxPixels: options.maxPixels)
            return decoder
        case let .png(decoder):
            return decoder
        default:
            preconditionFailure("rows come only from a JPEG or a non-interlaced PNG (rowFormat)")
        }
    }

    /// Starts a JPEG's raw plane decode at `scale` (``readsPlanes``): the decoder, whose
    /// ``JPEGRowDecoder/readPlanes(_:)`` gives the planes, and their layout. Throws the codec's
    /// refusal or ``ImageDecodingError/tooManyPixels(width:height:limit:)``.
    func startPlanes(scale: DecodeScale) throws(DarkroomError) -> (decoder: JPEGRowDecoder, layout: JPEGPlaneLayout) {
        guard case let .jpeg(decoder) = opened, readsPlanes else { preconditionFailure("planes come only from a YCbCr or gray JPEG") }
        let layout = try decoder.startPlanes(scaleDenominator: scale.jpegDenominator, maxPixels: options.maxPixels)
        return (decoder, layout)
    }

    /// A second JPEG row decoder over the same bytes, started at `scale`, that replaces the first
    /// (whose rows were partly read): the restart-band stage's one-band retry. The header is not
    /// counted as parsed again: the plan already holds it.
    func restartRows(scale: DecodeScale) throws(DarkroomError) -> RowDecoder {
        guard case .jpeg = opened else { preconditionFailure("only a JPEG's rows are decoded in restart bands") }
        let decoder = try JPEGRowDecoder(buffer: buffer, countsParse: false)
        decoder.deadline = deadline
        decoder.maxScans = options.maxJPEGScans
        try decoder.start(scaleDenominator: scale.jpegDenominator, maxPixels: options.maxPixels)
        opened = .jpeg(decoder)
        return decoder
    }

    /// The metadata once every row was read: ``headerMetadata`` with the decoder's warnings.
    /// Throws ``ImageDecodingError/damaged(_:warning:failOn:)`` for a warning ``DecodeOptions/failOn`` refuses.
    func finishRows() throws(DarkroomError) -> ImageMetadata {
        try checked(metadataAfterRows())
    }

    /// ``headerMetadata`` with what the row decoder warned about (a PNG's trailing chunks read).
    private func metadataAfterRows() -> ImageMetadata {
        var metadata = headerMetadata
        switch opened {
        case let .jpeg(decoder): metadata.warnings = decoder.warnings
        case let .png(decoder): metadata.warnings = decoder.finish()
        default: preconditionFailure("rows come only from a JPEG or a PNG")
        }
        return metadata
    }

    /// Decodes the whole image at `scale` (stored orientation; a CMYK JPEG made sRGB, every other
    /// format's colour as stored). Throws the codec's refusal and
    /// ``ImageDecodingError/damaged(_:warning:failOn:)`` for damage ``DecodeOptions/failOn`` refuses.
    func decodeImage(scale: DecodeScale) throws(DarkroomError) -> DecodedImage {
        var raw: RawDecode
        switch opened {
        case let .jpeg(decoder):
            try decoder.start(scaleDenominator: scale.jpegDenominator, maxPixels: options.maxPixels)
            if decoder.isCMYK {
                // CMYK/YCCK: libjpeg's CMYK rows, made sRGB through the embedded profile (or the
                // naive formula).
                let cmyk = try decoder.readImage(format: .rgba8)
                var metadata = metadataAfterRows()
                let image = ColorManagement.cmykToSRGB(cmyk.pixels, width: cmyk.width, height: cmyk.height,
                                                       inverted: decoder.adobeInverted, profile: metadata.iccProfile)
                metadata.convertedToSRGB = true
                metadata.iccApplied = true
                raw = RawDecode(image: image, metadata: metadata)
            } else {
                raw = RawDecode(image: try decoder.readImage(format: decoder.pixelFormat), metadata: metadataAfterRows())
            }
        case let .png(decoder):
            raw = RawDecode(image: try decoder.readImage(format: decoder.format), metadata: metadataAfterRows())
        case let .webp(h):
            // One WebPDecode call, which cannot be stopped: checked before and after.
            try deadline.check(.decoding, .webp)
            raw = try WebPCodec.decode(bytes, header: h, scaledTo: scale.webpSize)
            try deadline.check(.decoding, .webp)
        case let .avif(file):
            // libavif has no progress or abort callback: checked before and after.
            try deadline.check(.decoding, .avif)
            raw = try file.decodeFirstImage()
            try deadline.check(.decoding, .avif)
        case .gif:
            raw = try GIFCodec.decode(bytes, maxPixels: options.maxPixels, deadline: deadline)
        }
        raw.metadata.orientation = header.orientation
        blocks.apply(to: &raw.metadata)
        return DecodedImage(image: raw.image, metadata: try checked(raw.metadata))
    }

    /// `metadata` once ``DecodeOptions/failOn`` has allowed its warnings, with the ICC profile described.
    private func checked(_ metadata: ImageMetadata) throws(DarkroomError) -> ImageMetadata {
        try Self.checked(metadata, format: format, failOn: options.failOn)
    }

    /// `metadata` of a `format` file once `failOn` has allowed its warnings, with the ICC profile
    /// described. Throws ``ImageDecodingError/damaged(_:warning:failOn:)`` for the first warning refused.
    static func checked(_ metadata: ImageMetadata, format: ImageFormat, failOn: FailOn) throws(DarkroomError) -> ImageMetadata {
        if let rejected = metadata.warnings.first(where: failOn.rejects) {
            throw DarkroomError.decoding(.damaged(format, warning: rejected, failOn: failOn))
        }
        var metadata = metadata
        if let profile = metadata.iccProfile { metadata.iccDescription = ColorManagement.describe(profile) }
        return metadata
    }
}
