/// Name of the resampling kernel `Image.resized` uses on this machine: "avxvnni", "avx2", "baseline"
/// or "scalar"
/// (`DARKROOM_KERNEL` forces one).
public var resampleKernelName: String { ResampleKernel.selected.rawValue }

extension Image {
    /// A deterministic photo-like test image for benchmarks: smooth gradients, a fine texture,
    /// hard-edged blocks, 1 px lines and grain; with alpha, ramps, opaque blocks and fully
    /// transparent holes whose colour is garbage (the case premultiplication exists for).
    ///
    /// Throws as ``Image/init(width:height:format:maxPixels:)`` (sides at least 1, at most
    /// ``Limits/defaultMaxPixels`` px).
    public static func benchmarkPattern(width: Int, height: Int, format: PixelFormat) throws(DarkroomError) -> Image {
        let c = format.channels
        let alphaChannel = format.hasAlpha ? c - 1 : -1
        var img = try Image(width: width, height: height, format: format)
        let wide = format.bitDepth == 16
        img.pixels.withUnsafeMutableBytes { raw in
            var seed: UInt32 = 20_240_601
            for y in 0..<height {
                let gy = y * 255 / max(1, height - 1)
                for x in 0..<width {
                    seed = seed &* 1_664_525 &+ 1_013_904_223
                    let grain = Int(seed >> 29) - 4
                    let gx = x * 255 / max(1, width - 1)
                    let texture = ((x &* 7 &+ y &* 3) & 31) + ((x ^ y) & 15)
                    let block = ((x / 97) + (y / 61)) % 5 == 0 ? 96 : 0
                    let line = (x % 211 == 0 || y % 173 == 0) ? 255 : 0
                    let base = (y * width + x) * c
                    for ch in 0..<c {
                        var v: Int
                        if ch == alphaChannel {
                            let cell = ((x / 150) + (y / 110)) % 7
                            v = cell == 3 ? 0 : (cell == 1 ? 255 : 64 + (x + 2 * y) % 192)  // hole, opaque, ramp
                        } else {
                            let g = ch == 0 ? gx : (ch == 1 ? gy : (gx + gy) / 2)
                            v = (g * 3 + texture * 2 + block + line) / 4 + grain + (line > 0 ? 128 : 0)
                        }
                        v = max(0, min(255, v))
                        if wide {
                            raw.storeBytes(of: UInt16(v) &* 257, toByteOffset: (base + ch) * 2, as: UInt16.self)
                        } else {
                            raw[base + ch] = UInt8(v)
                        }
                    }
                }
            }
        }
        return img
    }
}
