/// The convolution filter used to resample.
public enum ResampleFilter: String, Sendable, Hashable, CaseIterable {
    case nearest, box, bilinear
    case catmullRom = "catmull-rom"
    case mitchell, lanczos2, lanczos3
}

/// How an alpha channel is treated while resampling.
public enum AlphaHandling: String, Sendable, Hashable, CaseIterable {
    /// Colour is weighted by alpha (premultiplied) so transparent pixels never bleed colour.
    case premultiplied
    /// Every channel is filtered independently (for opaque data; faster).
    case ignore
}

/// Options for ``Image/resized(width:height:options:maxPixels:)``.
public struct ResizeOptions: Sendable, Hashable {
    public var filter: ResampleFilter
    public var alpha: AlphaHandling
    /// Worker threads over row bands, 1…``Limits/maxThreads``; the output does not depend on it.
    public var threads: Int
    public init(filter: ResampleFilter = .lanczos3, alpha: AlphaHandling = .premultiplied, threads: Int = 1) {
        self.filter = filter
        self.alpha = alpha
        self.threads = threads
    }
}

extension Image {
    /// Returns the image resampled to `width`×`height` pixels by separable convolution with
    /// `options.filter` (support scaled by the shrink factor, so downscaling is anti-aliased).
    /// 8-bit samples use Int16 fixed-point weights, 16-bit samples Float32; alpha is straight on
    /// both sides and weighted (premultiplied) inside unless `options.alpha` is `.ignore`.
    ///
    /// The target is bounded before anything is allocated: sides 1…``Limits/maxSide`` (the
    /// coefficient tables grow with the side) and `width·height` at most `maxPixels` (default
    /// ``Limits/defaultMaxPixels``). Throws ``DarkroomError/option(_:)`` for a side or thread
    /// count out of range and ``ImageEncodingError/tooManyPixels(width:height:limit:)`` over `maxPixels`.
    public func resized(width: Int, height: Int, options: ResizeOptions = ResizeOptions(),
                        maxPixels: Int = Limits.defaultMaxPixels) throws(DarkroomError) -> Image {
        try Self.checkResizeTarget(width: width, height: height, options: options, maxPixels: maxPixels)
        return resized(width: width, height: height, options: options, kernel: .selected)
    }

    /// Resamples into `destination`, whose width, height and format say the target. Reusing one
    /// destination across calls skips allocating and first-touching a new buffer each time (about
    /// 4 ms for 4 MP RGBA); the result equals ``resized(width:height:options:maxPixels:)``.
    ///
    /// Throws ``DarkroomError/option(_:)`` when `destination`'s pixel format is not this image's,
    /// or its side or `options.threads` is out of range.
    public func resize(into destination: inout Image, options: ResizeOptions = ResizeOptions()) throws(DarkroomError) {
        guard destination.format == format else {
            throw .option(OptionError(name: "destination format", value: "\(destination.format.channels) channels at \(destination.format.bitDepth) bits",
                                      expected: "the source's, \(format.channels) channels at \(format.bitDepth) bits"))
        }
        try Self.checkResizeTarget(width: destination.width, height: destination.height, options: options,
                                   maxPixels: Limits.maxPixelLimit)
        resize(into: &destination, options: options, kernel: .selected)
    }

    /// The bounds of a caller's resize target (see ``resized(width:height:options:maxPixels:)``).
    static func checkResizeTarget(width: Int, height: Int, options: ResizeOptions, maxPixels: Int) throws(DarkroomError) {
        guard (1...Limits.maxSide).contains(width), (1...Limits.maxSide).contains(height) else {
            throw .option(OptionError(name: "resize", value: "\(width)x\(height)", expected: "sides from 1 to \(Limits.maxSide) px"))
        }
        try ValueParser.check(options.threads, name: "threads", in: 1...Limits.maxThreads)
        if width * height > maxPixels {
            throw .encoding(.tooManyPixels(width: width, height: height, limit: maxPixels))
        }
    }

    /// `resized` on a chosen kernel implementation (tests compare them); the target is checked.
    func resized(width: Int, height: Int, options: ResizeOptions, kernel: ResampleKernel) -> Image {
        resizedUnlessStopped(width: width, height: height, options: options, kernel: kernel, deadline: nil)!
    }

    /// `resized`, stopped at `deadline` (checked every 16 output rows of each band): nil when it passed
    /// before every row was made.
    func resizedUnlessStopped(width: Int, height: Int, options: ResizeOptions, kernel: ResampleKernel,
                              deadline: Deadline?) -> Image? {
        assert(width > 0 && height > 0, "resize target sides must be positive")
        if width == self.width && height == self.height { return self }
        let count = width * height * format.bytesPerPixel
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            resample(into: buffer.baseAddress!, width: width, height: height, options: options, kernel: kernel,
                     deadline: deadline)
            initialized = count
        }
        // A band stops early only once the deadline has passed, and it stays passed.
        if deadline.hasPassed { return nil }
        return Image(unchecked: width, height: height, format: format, pixels: out)
    }

    func resize(into destination: inout Image, options: ResizeOptions, kernel: ResampleKernel) {
        assert(destination.format == format, "resize destination must have the source's pixel format")
        if destination.width == width && destination.height == height {
            destination.pixels = pixels
            return
        }
        let (w, h) = (destination.width, destination.height)
        destination.pixels.withUnsafeMutableBufferPointer { buffer in
            resample(into: buffer.baseAddress!, width: w, height: h, options: options, kernel: kernel)
        }
    }

    /// Writes the `width`×`height` resampled image to `dst` (`width · height · bytesPerPixel` bytes).
    private func resample(into dst: UnsafeMutablePointer<UInt8>, width: Int, height: Int, options: ResizeOptions,
                          kernel: ResampleKernel, deadline: Deadline? = nil) {
        let bpp = format.bytesPerPixel
        let threads = max(1, options.threads)
        pixels.withUnsafeBufferPointer { srcBuffer in
            let src = srcBuffer.baseAddress!
            if options.filter == .nearest {
                resizeNearest(src: src, srcWidth: self.width, srcHeight: self.height, dst: dst,
                              dstWidth: width, dstHeight: height, bytesPerPixel: bpp)
                return
            }
            var plan = Resampler(srcWidth: self.width, srcHeight: self.height, dstWidth: width, dstHeight: height,
                                 format: format, alpha: options.alpha, kernel: kernel)
            plan.deadline = deadline
            if format.bitDepth == 8 {
                plan.resizeU8(src: src, dst: dst, filter: options.filter, threads: threads)
            } else {
                UnsafeRawPointer(src).withMemoryRebound(to: UInt16.self, capacity: self.pixelCount * format.channels) { s16 in
                    UnsafeMutableRawPointer(dst).withMemoryRebound(to: UInt16.self, capacity: width * height * format.channels) { d16 in
                        plan.resizeU16(src: s16, dst: d16, filter: options.filter, threads: threads)
                    }
                }
            }
        }
    }
}
