/// A decoded raster: the one pixel-buffer model every stage of Darkroom reads and writes.
///
/// Pixels are interleaved, rows top to bottom, tightly packed; see ``PixelFormat``.
/// `Image` is a value type (copy-on-write storage) and `Sendable`.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var format: PixelFormat
    /// `height * rowBytes` bytes. 16-bit samples are native-endian `UInt16`.
    public var pixels: [UInt8]

    /// Bytes in one row.
    public var rowBytes: Int { width * format.bytesPerPixel }
    public var pixelCount: Int { width * height }

    /// Wraps pixel bytes from a caller (e.g. a gateway's own buffer), checking what every stage
    /// relies on: both sides at least 1, `width·height` at most ``Limits/maxPixelLimit`` px, and
    /// `pixels.count == width·height·bytesPerPixel` bytes.
    ///
    /// Throws ``ImageDecodingError/invalidDimensions(width:height:)`` for a side below 1,
    /// ``ImageDecodingError/tooManyPixels(width:height:limit:)`` over the limit, and
    /// ``DarkroomError/option(_:)`` for a buffer of another size.
    public init(width: Int, height: Int, format: PixelFormat, pixels: [UInt8]) throws(DarkroomError) {
        try Self.checkSize(width: width, height: height, limit: Limits.maxPixelLimit)
        let bytes = width * height * format.bytesPerPixel
        guard pixels.count == bytes else {
            throw DarkroomError.option(OptionError(name: "pixels", value: "\(pixels.count) bytes",
                                              expected: "\(bytes) bytes for \(width)x\(height) px of \(format.channels) channels at \(format.bitDepth) bits"))
        }
        self.init(unchecked: width, height: height, format: format, pixels: pixels)
    }

    /// The same as ``init(width:height:format:pixels:)`` (its older name).
    /// Throws as ``init(width:height:format:pixels:)``.
    public static func validated(width: Int, height: Int, format: PixelFormat, pixels: [UInt8]) throws(DarkroomError) -> Image {
        try Image(width: width, height: height, format: format, pixels: pixels)
    }

    /// A zero-filled `width`×`height` image. The allocation is bounded: `width·height` at most
    /// `maxPixels` (default ``Limits/defaultMaxPixels``, 268,402,689 px; up to ``Limits/maxPixelLimit``).
    ///
    /// Throws ``ImageDecodingError/invalidDimensions(width:height:)`` for a side below 1 and
    /// ``ImageDecodingError/tooManyPixels(width:height:limit:)`` over `maxPixels`.
    public init(width: Int, height: Int, format: PixelFormat, maxPixels: Int = Limits.defaultMaxPixels) throws(DarkroomError) {
        try Self.checkSize(width: width, height: height, limit: min(max(1, maxPixels), Limits.maxPixelLimit))
        self.init(unchecked: width, height: height, format: format)
    }

    /// Throws unless both sides are at least 1 and `width·height` is at most `limit`.
    static func checkSize(width: Int, height: Int, limit: Int) throws(DarkroomError) {
        guard width > 0, height > 0 else { throw DarkroomError.decoding(.invalidDimensions(width: width, height: height)) }
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, count <= limit else {
            throw DarkroomError.decoding(.tooManyPixels(width: width, height: height, limit: limit))
        }
    }

    /// Wraps pixel bytes the library made itself: sizes already checked (a decoder's header against
    /// the pixel limit, a plan's target), so only asserted.
    init(unchecked width: Int, height: Int, format: PixelFormat, pixels: [UInt8]) {
        assert(width > 0 && height > 0 && pixels.count == width * height * format.bytesPerPixel, "pixel buffer size mismatch")
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
    }

    /// An image whose every byte `fill` writes (it gets the whole `height * rowBytes` buffer):
    /// no zero fill first, for the paths that overwrite every row anyway (the streamed resize).
    init(width: Int, height: Int, format: PixelFormat, fillingEveryByte fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        let count = width * height * format.bytesPerPixel
        self.init(unchecked: width, height: height, format: format,
                  pixels: [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                      fill(buffer.baseAddress!)
                      initialized = count
                  })
    }

    /// A zero-filled image of a size the library checked.
    init(unchecked width: Int, height: Int, format: PixelFormat) {
        self.init(unchecked: width, height: height, format: format,
                  pixels: [UInt8](repeating: 0, count: width * height * format.bytesPerPixel))
    }
}

extension Image {
    /// Reads one sample (8-bit value, or 16-bit value) at `x, y, channel`. For tests and slow paths.
    public func sample(x: Int, y: Int, channel: Int) -> Int {
        let index = (y * width + x) * format.channels + channel
        if format.bitDepth == 8 { return Int(pixels[index]) }
        return pixels.withUnsafeBytes { Int($0.load(fromByteOffset: index * 2, as: UInt16.self)) }
    }

    /// True when the image has an alpha channel with at least one sample below full opacity.
    public var hasTransparency: Bool {
        guard format.hasAlpha else { return false }
        let c = format.channels
        if format.bitDepth == 8 {
            var i = c - 1
            while i < pixels.count { if pixels[i] != 255 { return true }; i += c }
            return false
        }
        return pixels.withUnsafeBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            var i = c - 1
            while i < s.count { if s[i] != 65535 { return true }; i += c }
            return false
        }
    }
}
