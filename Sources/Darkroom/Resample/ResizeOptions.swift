// STUB: the resampling core (issue 3) replaces this file's implementation; the API below is the contract.

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

/// Options for ``Image/resized(width:height:options:)``.
public struct ResizeOptions: Sendable, Hashable {
    public var filter: ResampleFilter
    public var alpha: AlphaHandling
    /// Worker threads over row bands; the output does not depend on it.
    public var threads: Int
    public init(filter: ResampleFilter = .lanczos3, alpha: AlphaHandling = .premultiplied, threads: Int = 1) {
        self.filter = filter
        self.alpha = alpha
        self.threads = threads
    }
}

extension Image {
    /// Returns the image resampled to `width`×`height`.
    public func resized(width: Int, height: Int, options: ResizeOptions = ResizeOptions()) -> Image {
        // STUB: nearest neighbour, replaced by the SIMD core.
        let bpp = format.bytesPerPixel
        var out = [UInt8](repeating: 0, count: width * height * bpp)
        for y in 0..<height {
            let sy = min(self.height - 1, y * self.height / height)
            for x in 0..<width {
                let sx = min(self.width - 1, x * self.width / width)
                for b in 0..<bpp { out[(y * width + x) * bpp + b] = pixels[(sy * self.width + sx) * bpp + b] }
            }
        }
        return Image(width: width, height: height, format: format, pixels: out)
    }
}
