/// The size and format of a file, read from its header without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var orientation: Orientation
    public var uprightWidth: Int { orientation.swapsSides ? height : width }
    public var uprightHeight: Int { orientation.swapsSides ? width : height }
}

/// Decodes any supported format into an upright, sRGB ``Image``.
public enum ImageDecoder {
    /// Reads only the header: format, stored size and orientation.
    public static func readHeader(_ bytes: [UInt8]) throws -> ImageHeader {
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.unknownFormat }
        throw DarkroomError.decodeFailed(format, message: "not implemented")
    }

    /// Decodes `bytes`; the format is sniffed from the bytes.
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.unknownFormat }
        throw DarkroomError.decodeFailed(format, message: "not implemented")
    }
}
