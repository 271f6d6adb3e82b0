/// A decoder that hands out its rows in order, a few at a time: libjpeg-turbo (``JPEGRowDecoder``)
/// and libpng (``PNGRowDecoder``). Used by one thread at a time.
protocol RowDecoder: AnyObject {
    /// Decoded size in pixels (after any DCT scale) and bytes per decoded row.
    var width: Int { get }
    var height: Int { get }
    var rowBytes: Int { get }
    /// The ICC profile and EXIF payload found in the header (before any row).
    var iccProfile: [UInt8]? { get }
    var exif: [UInt8]? { get }
    /// Decodes the next `count` rows into `rows`, `stride` bytes apart. On an error the rows it
    /// could not decode are filled (zeros, or libjpeg's grey) and the error is thrown; later calls
    /// are not made.
    func readRows(_ rows: UnsafeMutablePointer<UInt8>, stride: Int, count: Int) throws(DarkroomError)
}

extension RowDecoder {
    /// Every row into one new buffer (the whole-image path, from the same header parse).
    func readImage(format: PixelFormat) throws(DarkroomError) -> Image {
        let count = rowBytes * height
        precondition(width * format.bytesPerPixel == rowBytes, "the decoder's layout is the image's")
        var failure: DarkroomError?
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(DarkroomError) { try readRows(buffer.baseAddress!, stride: rowBytes, count: height) } catch { failure = error }
            initialized = count   // rows the decoder could not decode are filled too
        }
        if let failure { throw failure }
        return Image(unchecked: width, height: height, format: format, pixels: pixels)
    }
}
