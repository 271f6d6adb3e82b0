#if canImport(Glibc)
import Glibc
#endif

/// What ``ImageDecoder/decode(_:options:)`` would report about a file, found by decoding it
/// without keeping its pixels: ``ImageDecoder/check(_:options:)`` and
/// ``ImageDecoder/check(fileDescriptor:name:options:)``.
public struct ImageCheck: Sendable, Equatable {
    /// The format sniffed from the bytes.
    public var format: ImageFormat
    /// The size of the image `decode` would return at full size: upright when the options apply
    /// the orientation, as stored otherwise.
    public var width: Int
    public var height: Int
    /// The metadata `decode` would return, before any colour conversion; its
    /// ``ImageMetadata/warnings`` are those ``DecodeOptions/failOn`` allowed.
    public var metadata: ImageMetadata
}

extension ImageDecoder {
    /// Decodes `bytes` as ``decode(_:options:)`` does, to find what it would throw and warn about,
    /// without keeping the pixels: a PNG or JPEG a few rows at a time into scratch memory (every
    /// row decoded, every pass of an interlaced PNG), a still WebP into a scaled-down output;
    /// an animated WebP, AVIF and GIF are decoded whole, as `decode` decodes them.
    ///
    /// Same errors as ``decode(_:options:)``, in the same cases, and the same warnings (the
    /// codecs make the same calls on the same bytes). ``DecodeOptions/minimumSize`` is not used:
    /// every pixel is decoded at full size.
    public static func check(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(DarkroomError) -> ImageCheck {
        try options.validate()
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        guard format == .png || format == .jpeg else { return try checkWhole(bytes, format: format, options: options) }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> ImageCheck in
            try checkRows(format: format, options: options,
                          png: { () throws(DarkroomError) in try PNGRowDecoder(buffer: buffer, maxPixels: options.maxPixels, failOn: options.failOn) },
                          jpeg: { () throws(DarkroomError) in
                              let decoder = try JPEGRowDecoder(buffer: buffer)
                              decoder.maxScans = options.maxJPEGScans
                              return decoder
                          })
        }
    }

    /// ``check(_:options:)`` on the open file `fd`, from its offset 0 to its end, read with `pread`
    /// (its own offset is left alone): a PNG or JPEG 64 KiB at a time, so neither the file nor its
    /// pixels are held; a WebP, AVIF or GIF file is read whole first (a still WebP is then decoded
    /// into a scaled-down output, the others as ``decode(_:options:)`` decodes them). `name` is
    /// used in errors.
    ///
    /// Throws as ``check(_:options:)`` on the file's bytes, and ``DarkroomError/file(_:)``
    /// (``FileError/io(path:message:)``) when the file cannot be read.
    public static func check(fileDescriptor fd: CInt, name: String, options: DecodeOptions = DecodeOptions()) throws(DarkroomError) -> ImageCheck {
        try options.validate()
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DarkroomError.file(.io(path: name, message: InputFile.reason(errno))) }
        let size = Int(st.st_size)
        // The sniff looks at 32 bytes, 256 for an AVIF's brands.
        let head = try InputFile.read(fileDescriptor: fd, at: 0, count: min(size, 256), name: name)
        guard let format = ImageFormat.sniff(head) else { throw DarkroomError.decoding(.unknownFormat) }
        guard format == .png || format == .jpeg else {
            return try checkWhole(try InputFile.read(fileDescriptor: fd, at: 0, count: size, name: name), format: format, options: options)
        }
        return try checkRows(format: format, options: options,
                             png: { () throws(DarkroomError) in
                                 try PNGRowDecoder(fileDescriptor: fd, size: size, maxPixels: options.maxPixels, failOn: options.failOn)
                             },
                             jpeg: { () throws(DarkroomError) in
                                 let decoder = try JPEGRowDecoder(fileDescriptor: fd, size: size)
                                 decoder.maxScans = options.maxJPEGScans
                                 return decoder
                             })
    }

    /// A PNG or JPEG: the steps of ``ImageSource`` (open, pixel limit, every row at scale 1, the
    /// warnings past `failOn`), with rows read into scratch memory and dropped.
    private static func checkRows(format: ImageFormat, options: DecodeOptions,
                                  png: () throws(DarkroomError) -> PNGRowDecoder,
                                  jpeg: () throws(DarkroomError) -> JPEGRowDecoder) throws(DarkroomError) -> ImageCheck {
        var metadata: ImageMetadata
        let header: ImageHeader
        if format == .png {
            // The pixel limit is checked as the C stream opens, the colour before any row.
            let decoder = try png()
            try ImageSource.checkColour(decoder.metadata, format: .png, options: options)
            try decoder.checkRows()
            metadata = decoder.metadata
            metadata.warnings = decoder.finish()
            header = decoder.header
        } else {
            let decoder = try jpeg()
            try checkPixelLimit(width: decoder.storedWidth, height: decoder.storedHeight, limit: options.maxPixels)
            try decoder.start(scaleDenominator: 1, maxPixels: options.maxPixels)
            // 16 rows a call: a multiple of the shim's 4-row batches, so libjpeg is called as for
            // the whole image at once.
            let batch = 16, rowBytes = decoder.rowBytes
            var scratch = [UInt8](repeating: 0, count: rowBytes * batch)
            var y = 0
            while y < decoder.height {
                let count = min(batch, decoder.height - y)
                try scratch.withUnsafeMutableBufferPointer { (rows) throws(DarkroomError) in
                    try decoder.readRows(rows.baseAddress!, stride: rowBytes, count: count)
                }
                y += count
            }
            metadata = decoder.metadata
            header = decoder.header
        }
        metadata = try ImageSource.checked(metadata, format: format, failOn: options.failOn)
        return ImageCheck(format: format, header: header, metadata: metadata, options: options)
    }

    /// A WebP (its header, the pixel limit, its frame decoded into a small output), or an AVIF or
    /// GIF decoded as ``decode(_:options:)`` decodes it.
    private static func checkWhole(_ bytes: [UInt8], format: ImageFormat, options: DecodeOptions) throws(DarkroomError) -> ImageCheck {
        guard format == .webp else {
            var full = options
            full.minimumSize = nil
            let decoded = try decode(bytes, options: full)
            return ImageCheck(format: format, width: decoded.image.width, height: decoded.image.height, metadata: decoded.metadata)
        }
        let h = try WebPCodec.readHeader(bytes)
        try checkPixelLimit(width: h.features.width, height: h.features.height, limit: options.maxPixels)
        try WebPCodec.check(bytes, header: h)
        let header = ImageHeader(format: .webp, width: h.features.width, height: h.features.height,
                                 orientation: EXIF.orientation(of: h.container.exif))
        let metadata = try ImageSource.checked(WebPCodec.metadata(h), format: .webp, failOn: options.failOn)
        return ImageCheck(format: .webp, header: header, metadata: metadata, options: options)
    }
}

extension ImageCheck {
    /// The full-size image of a file with `header`, turned upright when `options` apply the orientation.
    init(format: ImageFormat, header: ImageHeader, metadata: ImageMetadata, options: DecodeOptions) {
        self.format = format
        width = options.applyOrientation ? header.uprightWidth : header.width
        height = options.applyOrientation ? header.uprightHeight : header.height
        self.metadata = metadata
    }
}
