/// How the samples of one pixel are laid out in an ``Image``'s bytes.
///
/// Samples are interleaved, rows are tightly packed (no padding). 16-bit samples are
/// stored as native-endian `UInt16`. Alpha, when present, is the last channel and is
/// *straight* (not premultiplied) everywhere outside the resampler.
public enum PixelFormat: String, Sendable, Hashable, CaseIterable {
    case gray8, grayAlpha8, rgb8, rgba8
    case gray16, grayAlpha16, rgb16, rgba16

    /// Number of interleaved channels (1–4).
    public var channels: Int {
        switch self {
        case .gray8, .gray16: 1
        case .grayAlpha8, .grayAlpha16: 2
        case .rgb8, .rgb16: 3
        case .rgba8, .rgba16: 4
        }
    }

    /// Bits per sample: 8 or 16.
    public var bitDepth: Int {
        switch self {
        case .gray8, .grayAlpha8, .rgb8, .rgba8: 8
        default: 16
        }
    }

    public var bytesPerSample: Int { bitDepth / 8 }
    public var bytesPerPixel: Int { channels * bytesPerSample }
    public var hasAlpha: Bool { channels == 2 || channels == 4 }
    public var isGray: Bool { channels <= 2 }

    /// Makes a format from its channel count and depth.
    public init(channels: Int, bitDepth: Int) {
        switch (channels, bitDepth) {
        case (1, 8): self = .gray8
        case (2, 8): self = .grayAlpha8
        case (3, 8): self = .rgb8
        case (4, 8): self = .rgba8
        case (1, _): self = .gray16
        case (2, _): self = .grayAlpha16
        case (3, _): self = .rgb16
        default: self = .rgba16
        }
    }

    /// The same channels at another depth.
    public func withBitDepth(_ depth: Int) -> PixelFormat { PixelFormat(channels: channels, bitDepth: depth) }

    /// The same depth with or without an alpha channel.
    public func withAlpha(_ alpha: Bool) -> PixelFormat {
        let colour = isGray ? 1 : 3
        return PixelFormat(channels: colour + (alpha ? 1 : 0), bitDepth: bitDepth)
    }
}
