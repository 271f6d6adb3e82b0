/// Shrink-on-load: the scale a decoder is started at, so a large image that is about to be
/// shrunk is never decoded at full size (libvips' `thumbnail` tells its loaders a `shrink`; sharp's
/// `fastShrinkOnLoad`; Pillow's `draft`).
///
/// Sizes here are in stored orientation (the file's own rows and columns).
enum DecodeScale: Sendable, Equatable {
    /// Every pixel.
    case full
    /// libjpeg DCT scaling by 1/`denominator` (2, 4 or 8): each side becomes ⌈side / denominator⌉.
    case jpeg(denominator: Int)
    /// libwebp's scaled decoding straight to this size (both sides smaller than the stored ones).
    case webp(PixelSize)

    /// The smallest decode of a `stored`-size `format` image that keeps both sides at least
    /// `minimum` (stored orientation): the one place the shrink-on-load factor is chosen, as
    /// libvips' `vips_thumbnail_find_jpegshrink` is for its loaders.
    ///
    /// - JPEG: the largest DCT scale of 1/8, 1/4, 1/2 that keeps both sides (libjpeg rounds up).
    /// - WebP: scaled decoding to `stored · s`, s = the larger of the two side ratios, when s ≤ ½
    ///   (a smaller reduction costs libwebp more than the filter pass it saves).
    /// - PNG, AVIF and GIF have no cheaper reduced decode: always ``full``.
    static func largest(for format: ImageFormat, stored: PixelSize, minimum: PixelSize) -> DecodeScale {
        switch format {
        case .jpeg:
            for d in [8, 4, 2] where (stored.width + d - 1) / d >= minimum.width && (stored.height + d - 1) / d >= minimum.height {
                return .jpeg(denominator: d)
            }
            return .full
        case .webp:
            let s = max(Double(minimum.width) / Double(stored.width), Double(minimum.height) / Double(stored.height))
            guard s <= 0.5 else { return .full }
            let size = PixelSize(width: max(1, Int((Double(stored.width) * s).rounded(.up))),
                                 height: max(1, Int((Double(stored.height) * s).rounded(.up))))
            return size.width < stored.width && size.height < stored.height ? .webp(size) : .full
        case .png, .avif, .gif:
            return .full
        }
    }

    /// The decoded size of a `stored`-size image at this scale.
    func decodedSize(of stored: PixelSize) -> PixelSize {
        switch self {
        case .full: stored
        case let .jpeg(d): PixelSize(width: (stored.width + d - 1) / d, height: (stored.height + d - 1) / d)
        case let .webp(size): size
        }
    }

    /// libwebp's scaled size, nil for any other scale.
    var webpSize: PixelSize? {
        if case let .webp(size) = self { return size }
        return nil
    }

    /// libjpeg's scale denominator (1 for a full decode).
    var jpegDenominator: Int {
        if case let .jpeg(d) = self { return d }
        return 1
    }
}
