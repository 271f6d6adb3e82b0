/// Conversions between pixel formats: depth, gray ↔ RGB, adding alpha, and flattening alpha
/// onto a background colour.
extension Image {
    /// Returns the image in `target` format. Alpha that must go is flattened onto `background`
    /// (straight alpha, blended in the encoded sRGB values as browsers do).
    public func converted(to target: PixelFormat, background: RGBColor = .white) -> Image {
        if format == target { return self }
        var image = self
        if image.format.bitDepth == 16 && target.bitDepth == 8 { image = image.to8Bit() }
        if image.format.hasAlpha && !target.hasAlpha { image = image.flattened(onto: background) }
        if image.format.isGray && !target.isGray { image = image.expandedToRGB() }
        if !image.format.isGray && target.isGray { image = image.toGray() }
        if !image.format.hasAlpha && target.hasAlpha { image = image.addingOpaqueAlpha() }
        if image.format.bitDepth == 8 && target.bitDepth == 16 { image = image.to16Bit() }
        precondition(image.format == target)
        return image
    }

    /// 16 → 8 bits per sample, rounded.
    func to8Bit() -> Image {
        guard format.bitDepth == 16 else { return self }
        let count = width * height * format.channels
        var out = [UInt8](repeating: 0, count: count)
        pixels.withUnsafeBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            for i in 0..<count { out[i] = UInt8((UInt32(s[i]) * 255 + 32767) / 65535) }
        }
        return Image(unchecked: width, height: height, format: format.withBitDepth(8), pixels: out)
    }

    /// 8 → 16 bits per sample (v · 257).
    func to16Bit() -> Image {
        guard format.bitDepth == 8 else { return self }
        let count = width * height * format.channels
        var out = [UInt8](repeating: 0, count: count * 2)
        out.withUnsafeMutableBytes { raw in
            let d = raw.bindMemory(to: UInt16.self)
            for i in 0..<count { d[i] = UInt16(pixels[i]) * 257 }
        }
        return Image(unchecked: width, height: height, format: format.withBitDepth(16), pixels: out)
    }

    /// Removes the alpha channel by compositing over `background`.
    func flattened(onto background: RGBColor) -> Image {
        guard format.hasAlpha else { return self }
        let c = format.channels, colour = c - 1
        let n = pixelCount
        let target = format.withAlpha(false)
        var out = Image(unchecked: width, height: height, format: target)
        let bg: [Int] = format.isGray
            ? [(Int(background.red) * 299 + Int(background.green) * 587 + Int(background.blue) * 114 + 500) / 1000]
            : [Int(background.red), Int(background.green), Int(background.blue)]
        if format.bitDepth == 8 {
            pixels.withUnsafeBufferPointer { s in
                out.pixels.withUnsafeMutableBufferPointer { d in
                    for i in 0..<n {
                        let a = Int(s[i * c + colour])
                        for ch in 0..<colour {
                            d[i * colour + ch] = UInt8((Int(s[i * c + ch]) * a + bg[ch] * (255 - a) + 127) / 255)
                        }
                    }
                }
            }
        } else {
            pixels.withUnsafeBytes { sRaw in
                out.pixels.withUnsafeMutableBytes { dRaw in
                    let s = sRaw.bindMemory(to: UInt16.self), d = dRaw.bindMemory(to: UInt16.self)
                    for i in 0..<n {
                        let a = Int(s[i * c + colour])
                        for ch in 0..<colour {
                            let b = bg[ch] * 257
                            d[i * colour + ch] = UInt16((Int(s[i * c + ch]) * a + b * (65535 - a) + 32767) / 65535)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Drops the alpha channel without compositing (for alpha known to be opaque).
    func droppingAlpha() -> Image {
        guard format.hasAlpha else { return self }
        let bps = format.bytesPerSample, c = format.channels
        let keep = (c - 1) * bps, stride = c * bps
        var out = [UInt8](repeating: 0, count: pixelCount * keep)
        pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<pixelCount { for b in 0..<keep { d[i * keep + b] = s[i * stride + b] } }
            }
        }
        return Image(unchecked: width, height: height, format: format.withAlpha(false), pixels: out)
    }

    /// Gray (+alpha) → RGB (+alpha).
    func expandedToRGB() -> Image {
        guard format.isGray else { return self }
        let bps = format.bytesPerSample, c = format.channels
        let target = PixelFormat(channels: c + 2, bitDepth: format.bitDepth)
        var out = [UInt8](repeating: 0, count: pixelCount * target.bytesPerPixel)
        pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<pixelCount {
                    let si = i * c * bps, di = i * (c + 2) * bps
                    for ch in 0..<3 { for b in 0..<bps { d[di + ch * bps + b] = s[si + b] } }
                    if c == 2 { for b in 0..<bps { d[di + 3 * bps + b] = s[si + bps + b] } }
                }
            }
        }
        return Image(unchecked: width, height: height, format: target, pixels: out)
    }

    /// RGB (+alpha) → gray (+alpha) with Rec. 601 luma weights.
    func toGray() -> Image {
        guard !format.isGray else { return self }
        let target = PixelFormat(channels: format.channels - 2, bitDepth: format.bitDepth)
        var out = Image(unchecked: width, height: height, format: target)
        let c = format.channels, tc = target.channels
        for i in 0..<pixelCount {
            let x = i % width, y = i / width
            let r = sample(x: x, y: y, channel: 0), g = sample(x: x, y: y, channel: 1), b = sample(x: x, y: y, channel: 2)
            let luma = (r * 299 + g * 587 + b * 114 + 500) / 1000
            out.setSample(x: x, y: y, channel: 0, luma)
            if c == 4 { out.setSample(x: x, y: y, channel: tc - 1, sample(x: x, y: y, channel: 3)) }
        }
        return out
    }

    /// Adds a fully opaque alpha channel.
    func addingOpaqueAlpha() -> Image {
        guard !format.hasAlpha else { return self }
        let bps = format.bytesPerSample, c = format.channels
        let target = format.withAlpha(true)
        let inStride = c * bps, outStride = (c + 1) * bps
        var out = [UInt8](repeating: 0xFF, count: pixelCount * outStride)
        pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<pixelCount { for b in 0..<inStride { d[i * outStride + b] = s[i * inStride + b] } }
            }
        }
        return Image(unchecked: width, height: height, format: target, pixels: out)
    }

    mutating func setSample(x: Int, y: Int, channel: Int, _ value: Int) {
        let index = (y * width + x) * format.channels + channel
        if format.bitDepth == 8 { pixels[index] = UInt8(value); return }
        pixels.withUnsafeMutableBytes { $0.storeBytes(of: UInt16(value), toByteOffset: index * 2, as: UInt16.self) }
    }
}
