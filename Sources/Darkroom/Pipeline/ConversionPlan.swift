/// Everything a conversion decides, from the input's header and the options alone, before any
/// pixel is decoded: computed once per conversion (the header is parsed once, ``HeaderParses``
/// counts it in the tests), then the stages only carry it out — as libvips' `thumbnail` reads the
/// header, plans (the loader's shrink factor included), opens the loader with that factor and runs
/// its stages in order.
///
/// It decides the output format and size and checks them (the pixel limit and the format's
/// limits, once, here), the orientation applied, the shrink-on-load scale the decoder is started
/// at (``DecodeScale``), and the route the pixels take (``Route``): a JPEG's YCbCr planes straight
/// to a JPEG encoder, whole image, or rows streamed into the resampler — on one thread or two, in
/// restart bands or not, into a JPEG encoder or not, through a ring of output rows or a whole
/// output image.
struct ConversionPlan {
    /// Format, stored size and orientation from the header.
    let header: ImageHeader
    /// The orientation the pipeline applies (`.up` when ``DecodeOptions/applyOrientation`` is off).
    let orientation: Orientation
    /// The input's size once ``orientation`` is applied, in pixels.
    let upright: PixelSize
    /// The output size (upright), in pixels.
    let target: PixelSize
    /// The output size in stored orientation: what the resampler makes.
    let storedTarget: PixelSize
    /// ``ConvertOptions/format``, or the input's.
    let outputFormat: ImageFormat
    /// True when ``target`` differs from ``upright``.
    let resizes: Bool
    /// Shrink-on-load: the scale the decoder is started at.
    let decodeScale: DecodeScale
    /// The decoder's output size at ``decodeScale`` (stored orientation).
    let decodedSize: PixelSize
    /// How the pixels flow from the decoder to the encoder.
    let route: Route

    enum Route: Equatable {
        /// The decoder makes the whole image (at ``decodeScale``), which is then resized.
        case whole
        /// The decoder's rows go straight into the resampler (``StreamedResize``): no full-size
        /// source buffer exists.
        case rows(Rows)
        /// JPEG → JPEG in YCbCr (``PlanarResize``): the stored Y, Cb, Cr (or gray) planes are
        /// resized each at its own resolution and encoded as planes, streamed a row group at a
        /// time; no colour conversion or chroma resampling by libjpeg either way.
        case planes
    }

    /// The streamed route's choices.
    struct Rows: Equatable {
        /// The decoded rows' layout (8-bit gray or RGB for a JPEG; any 8-bit layout of a PNG).
        var format: PixelFormat
        /// Rows are decoded on a producer thread ahead of the resampler (2 or more threads).
        var background: Bool
        /// A JPEG with restart markers is decoded in two bands on two threads (``StreamedResize``;
        /// the stage falls back to one band when no marker lies close enough above the split).
        var restartBands: Bool
        /// The JPEG output is encoded from the resized rows as they are made, and is the output:
        /// nothing after the resize changes them (upright, no profile to convert from, and the
        /// source's metadata all in its header), and no ``ConvertOptions/targetSize`` asks for
        /// more than one encode.
        var encodeRows: Bool
        /// With ``encodeRows``: the finished rows live in a ring of this many rows until the
        /// encoder has them, instead of a whole output image (0: a whole image).
        var ringRows: Int
    }

    /// Switches that tests set on ``Converter`` to compare routes; all on in production.
    struct Switches {
        /// False: always the whole-image route (not the planar one either).
        var allowsStreaming = true
        /// False: never restart bands.
        var allowsRestartBands = true
        /// False: never the planar JPEG → JPEG route (the RGB routes instead).
        var allowsPlanes = true
        /// False: a whole output image even where a ring of rows would do.
        var allowsRingOutput = true
        /// The smallest decoded sources (pixels) split into restart bands: below it the second
        /// thread and header parse cost more than they save.
        var restartBandsMinimumPixels = 2_000_000
    }

    /// Plans the conversion of `source` (opened, header parsed and within the input pixel limit).
    /// `fitFormatLimits`: first fit the input within the output format's side limits
    /// (``FormatLimits/fitting(width:height:)``; reference prep) instead of refusing an output over them.
    ///
    /// Throws ``DarkroomError/option(_:)`` for a resize whose output has a side over
    /// ``Limits/maxSide``, ``ImageEncodingError/tooManyPixels(width:height:limit:)`` for an output
    /// over ``DecodeOptions/maxPixels`` and ``ImageEncodingError/formatLimit(_:width:height:maxSide:maxPixels:)``
    /// for one the output format cannot hold.
    init(source: ImageSource, options: ConvertOptions, fitFormatLimits: Bool = false,
         switches: Switches = Switches()) throws(DarkroomError) {
        header = source.header
        outputFormat = options.format ?? source.format
        orientation = options.decode.applyOrientation ? header.orientation : .up
        let stored = source.storedSize
        upright = stored.applying(orientation)
        var base = upright
        if fitFormatLimits {
            let fitted = FormatLimits.of(outputFormat).fitting(width: base.width, height: base.height)
            base = PixelSize(width: fitted.width, height: fitted.height)
        }
        let size = options.resize?.targetSize(width: base.width, height: base.height) ?? base.tuple
        target = PixelSize(width: size.width, height: size.height)
        try Self.checkOutput(target, format: outputFormat, options: options)
        storedTarget = target.applying(orientation)
        resizes = target != upright

        // Shrink-on-load: keep at least twice the target for the final filter pass (libvips'
        // rule), or the target itself with `fast` (Pillow's draft); DecodeScale picks the factor.
        if options.shrinkOnLoad, resizes {
            let factor = options.fast ? 1 : 2
            let minimum = PixelSize(width: min(storedTarget.width * factor, Limits.maxSide),
                                    height: min(storedTarget.height * factor, Limits.maxSide))
            decodeScale = DecodeScale.largest(for: source.format, stored: stored, minimum: minimum)
        } else {
            decodeScale = .full
        }
        decodedSize = decodeScale.decodedSize(of: stored)

        // JPEG → JPEG with nothing that needs RGB: the planes, resized as stored.
        if switches.allowsStreaming, switches.allowsPlanes, Self.takesPlanes(source: source, options: options, outputFormat: outputFormat,
                                                   orientation: orientation) {
            route = .planes
            return
        }
        // The route: rows streamed into the resampler where the resize can take them.
        guard switches.allowsStreaming, resizes, let rowFormat = source.rowFormat, rowFormat.bitDepth == 8,
              options.resampling.filter != .nearest, ResampleKernel.selected != .scalar else {
            route = .whole
            return
        }
        let threads = options.resampling.threads
        let restartBands = switches.allowsRestartBands && threads > 1 && source.hasRestartMarkers
            && decodedSize != storedTarget && decodedSize.pixels >= switches.restartBandsMinimumPixels
            && storedTarget.height >= 64
        let finalRows = orientation == .up && !(options.decode.convertToSRGB && source.headerMetadata.hasColourToConvert)
        // Under a target size the resized image is encoded more than once: it must exist whole.
        let encodeRows = outputFormat == .jpeg && (rowFormat == .gray8 || rowFormat == .rgb8) && finalRows
            && options.targetSize == nil
        route = .rows(Rows(format: rowFormat, background: threads > 1, restartBands: restartBands, encodeRows: encodeRows,
                           ringRows: switches.allowsRingOutput && encodeRows && !restartBands ? 64 : 0))
    }

    /// The planar route's conditions: a YCbCr or gray JPEG (not RGB-coded, CMYK or YCCK) to a
    /// JPEG, upright as stored, no ICC profile to convert from (none, an sRGB one, which the
    /// conversion to sRGB leaves as it is, or ``DecodeOptions/convertToSRGB`` off), a convolution
    /// filter and the SIMD kernels (the stripes stream like the rows route). Under a target size the
    /// resized planes are kept whole and encoded at each quality tried (``PlanarResize/record(_:)``).
    static func takesPlanes(source: ImageSource, options: ConvertOptions, outputFormat: ImageFormat,
                            orientation: Orientation) -> Bool {
        guard source.format == .jpeg, outputFormat == .jpeg, source.readsPlanes, orientation == .up,
              !options.flattenAlpha, options.resampling.filter != .nearest,
              ResampleKernel.selected != .scalar else { return false }
        guard options.decode.convertToSRGB, let profile = source.headerMetadata.iccProfile else { return true }
        return ColorManagement.isSRGB(profile)
    }

    /// The output must have sides up to ``Limits/maxSide`` and fit the pixel limit and the output format.
    private static func checkOutput(_ size: PixelSize, format: ImageFormat, options: ConvertOptions) throws(DarkroomError) {
        if size.width > Limits.maxSide || size.height > Limits.maxSide, let geometry = options.resize {
            throw .option(OptionError(name: "resize", value: geometry.text,
                                      expected: "an output with sides up to \(Limits.maxSide) px (it gives \(size.width)x\(size.height))"))
        }
        let (pixels, overflow) = size.width.multipliedReportingOverflow(by: size.height)
        if overflow || pixels > options.decode.maxPixels {
            throw .encoding(.tooManyPixels(width: size.width, height: size.height, limit: options.decode.maxPixels))
        }
        try FormatLimits.check(format, width: size.width, height: size.height)
    }
}
