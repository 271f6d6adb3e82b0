extension Image {
    /// The image without its alpha channel, composited over `background` (straight alpha,
    /// rounded). Images without alpha are returned unchanged. Used for `background: opaque`.
    func flattenedForGateway(onto background: RGBColor) -> Image {
        guard format.hasAlpha else { return self }
        let c = format.channels, oc = c - 1
        let outFormat = format.withAlpha(false)
        let count = width * height
        let gray = (Int(background.red) * 299 + Int(background.green) * 587 + Int(background.blue) * 114 + 500) / 1000
        let bg8: [Int] = oc == 1 ? [gray] : [Int(background.red), Int(background.green), Int(background.blue)]
        if format.bitDepth == 8 {
            var out = [UInt8](repeating: 0, count: count * oc)
            for p in 0..<count {
                let a = Int(pixels[p * c + oc])
                for ch in 0..<oc {
                    out[p * oc + ch] = UInt8((Int(pixels[p * c + ch]) * a + bg8[ch] * (255 - a) + 127) / 255)
                }
            }
            return Image(width: width, height: height, format: outFormat, pixels: out)
        }
        var out = [UInt8](repeating: 0, count: count * oc * 2)
        pixels.withUnsafeBytes { srcRaw in
            out.withUnsafeMutableBytes { dstRaw in
                let src = srcRaw.bindMemory(to: UInt16.self), dst = dstRaw.bindMemory(to: UInt16.self)
                for p in 0..<count {
                    let a = Int(src[p * c + oc])
                    for ch in 0..<oc {
                        let bg = bg8[ch] * 257
                        dst[p * oc + ch] = UInt16((Int(src[p * c + ch]) * a + bg * (65535 - a) + 32767) / 65535)
                    }
                }
            }
        }
        return Image(width: width, height: height, format: outFormat, pixels: out)
    }
}
