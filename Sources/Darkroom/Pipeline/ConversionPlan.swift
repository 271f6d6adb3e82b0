/// What a conversion decides from the input's header alone, before any pixel is decoded:
/// computed once per conversion (the header is parsed once, ``HeaderParses`` counts it in the
/// tests), it drives the rest — the pixel limit, the output size and its limits, the orientation,
/// and the shrink-on-load size the decoder is told (as libvips' `thumbnail` tells its loaders).
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
    let outputFormat: ImageFormat
    /// True when ``target`` differs from ``upright``.
    let resizes: Bool
    /// The smallest decode size shrink-on-load may choose (upright, as ``DecodeOptions/minimumSize``),
    /// or nil for a full-size decode.
    let minimumDecodeSize: (width: Int, height: Int)?

    /// Plans a conversion. `fitFormatLimits`: first fit the input within the output format's
    /// side limits (``FormatLimits/fitting(width:height:)``; reference prep) instead of refusing
    /// an output over them.
    ///
    /// Throws ``ImageDecodingError/tooManyPixels(width:height:limit:)`` for an input over
    /// ``DecodeOptions/maxPixels``, and as ``Converter`` does for an output over the limits.
    init(header: ImageHeader, options: ConvertOptions, outputFormat: ImageFormat,
         fitFormatLimits: Bool = false) throws(DarkroomError) {
        try checkPixelLimit(width: header.width, height: header.height, limit: options.decode.maxPixels)
        self.header = header
        self.outputFormat = outputFormat
        orientation = options.decode.applyOrientation ? header.orientation : .up
        upright = orientation.swapsSides ? PixelSize(width: header.height, height: header.width)
            : PixelSize(width: header.width, height: header.height)
        var base = (width: upright.width, height: upright.height)
        if fitFormatLimits { base = FormatLimits.of(outputFormat).fitting(width: base.width, height: base.height) }
        let size = options.resize?.targetSize(width: base.width, height: base.height) ?? base
        target = PixelSize(width: size.width, height: size.height)
        try Self.checkOutput(target, format: outputFormat, options: options)
        storedTarget = orientation.swapsSides ? PixelSize(width: target.height, height: target.width) : target
        resizes = target != upright
        if options.shrinkOnLoad, resizes {
            let minimum = options.shrinkOnLoadMinimum(for: (target.width, target.height))
            // The decoder swaps the minimum by the file's orientation; when the pipeline does not
            // apply it, the stored sides are meant.
            minimumDecodeSize = options.decode.applyOrientation || !header.orientation.swapsSides
                ? minimum : (minimum.height, minimum.width)
        } else {
            minimumDecodeSize = nil
        }
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
