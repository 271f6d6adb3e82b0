import Foundation
import Testing
@testable import Darkroom

/// ``ImageDecoder/check(_:options:)`` and ``ImageDecoder/check(fileDescriptor:name:options:)``
/// report what ``ImageDecoder/decode(_:options:)`` reports, for good, cut and damaged files, from
/// memory and from a file.
@Suite struct ImageCheckTests {
    /// What a decode or check gave: format, size and warnings, or the error.
    static func outcome(_ body: () throws(DarkroomError) -> (ImageFormat, Int, Int, [DecodeWarning])) -> String {
        do {
            let (format, width, height, warnings) = try body()
            return "\(format) \(width)x\(height) \(warnings)"
        } catch {
            return "error: \(error)"
        }
    }

    static func decoded(_ bytes: [UInt8], _ options: DecodeOptions) -> String {
        outcome { () throws(DarkroomError) in
            let d = try ImageDecoder.decode(bytes, options: options)
            return (d.metadata.sourceFormat, d.image.width, d.image.height, d.metadata.warnings)
        }
    }

    static func checked(_ bytes: [UInt8], _ options: DecodeOptions) -> String {
        outcome { () throws(DarkroomError) in
            let c = try ImageDecoder.check(bytes, options: options)
            return (c.format, c.width, c.height, c.metadata.warnings)
        }
    }

    /// `bytes` written to a file in `dir`, checked from its descriptor.
    static func checkedFromFile(_ bytes: [UInt8], _ options: DecodeOptions, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("check-\(UInt32.random(in: 0...UInt32.max))").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        return outcome { () throws(DarkroomError) in
            let c = try ImageDecoder.check(fileDescriptor: fd, name: path, options: options)
            return (c.format, c.width, c.height, c.metadata.warnings)
        }
    }

    /// The file, and the file cut at several points and with flipped bytes: the variants a
    /// damaged response item brings.
    static func variants(of bytes: [UInt8]) -> [(String, [UInt8])] {
        var out = [("whole", bytes)]
        for fraction in [0.2, 0.5, 0.9] where bytes.count > 64 {
            out.append(("cut \(fraction)", Array(bytes.prefix(Int(Double(bytes.count) * fraction)))))
        }
        if bytes.count > 64 {
            out.append(("last byte cut", Array(bytes.dropLast())))
            var flipped = bytes
            for i in stride(from: bytes.count / 3, to: bytes.count, by: max(1, bytes.count / 7)) { flipped[i] ^= 0x5A }
            out.append(("flipped", flipped))
        }
        return out
    }

    static let optionSets: [(String, DecodeOptions)] = [
        ("default", DecodeOptions()),
        ("fail-on none", DecodeOptions(failOn: .none)),
        ("fail-on warning, stored orientation", DecodeOptions(applyOrientation: false, failOn: .warning)),
    ]

    /// Every variant of `bytes` under every option set: the three agree. Returns the mismatches.
    static func compare(_ name: String, _ bytes: [UInt8], in dir: URL, optionSets: [(String, DecodeOptions)] = optionSets) throws -> [String] {
        var mismatches: [String] = []
        for (variant, data) in variants(of: bytes) {
            for (label, options) in optionSets {
                let expected = decoded(data, options)
                let inMemory = checked(data, options)
                let fromFile = try checkedFromFile(data, options, in: dir)
                if inMemory != expected || fromFile != expected {
                    mismatches.append("\(name), \(variant), \(label):\n  decode    \(expected)\n  check     \(inMemory)\n  from file \(fromFile)")
                }
            }
        }
        return mismatches
    }

    @Test(arguments: ["kodim23.jpg", "cmyk.jpg", "gray.jpg", "hopper-orientation-6.jpg", "gray16.png", "rgb16.png", "rgba.png",
                      "palette-trns.png"])
    func agreesWithDecodeOnTestImages(_ name: String) throws {
        let mismatches = try Self.compare(name, try TestImages.bytes(name), in: try TestSupport.tempDir())
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test func agreesWithDecodeOnEncodedImages() throws {
        let dir = try TestSupport.tempDir()
        let image = FailOnTests.noise(width: 200, height: 150)
        var mismatches: [String] = []
        for format in [ImageFormat.png, .jpeg, .webp, .avif, .gif] {
            let bytes = try ImageEncoder.encode(image, as: format)
            mismatches += try Self.compare("noise.\(format)", bytes, in: dir, optionSets: Array(Self.optionSets.prefix(2)))
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test func agreesWithDecodeOnAnInterlacedPNG() throws {
        let png = Self.interlacedPNG(width: 37, height: 29)
        let decoded = try ImageDecoder.decode(png)
        #expect(decoded.image.width == 37 && decoded.image.height == 29)
        let mismatches = try Self.compare("interlaced.png", png, in: try TestSupport.tempDir())
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// A truncated image is still an error (or, with fail-on none, a truncated warning) when checked.
    @Test func aCutImageIsDamagedWhenChecked() throws {
        let dir = try TestSupport.tempDir()
        let image = FailOnTests.noise(width: 256, height: 256)
        for format in [ImageFormat.png, .jpeg, .webp] {
            let cut = FailOnTests.cut(try ImageEncoder.encode(image, as: format), to: 0.6)
            #expect(Self.checked(cut, DecodeOptions()).hasPrefix("error: "), "\(format)")
            #expect(try Self.checkedFromFile(cut, DecodeOptions(), in: dir).hasPrefix("error: "), "\(format)")
        }
        let png = FailOnTests.cut(try ImageEncoder.encode(image, as: .png), to: 0.6)
        let lenient = try ImageDecoder.check(png, options: DecodeOptions(failOn: .none))
        #expect(lenient.metadata.warnings.map(\.kind) == [.truncated])
        #expect((lenient.width, lenient.height) == (256, 256))
    }

    @Test func sizeIsUprightAsDecodeGivesIt() throws {
        let bytes = try TestImages.bytes("hopper-orientation-6.jpg")
        let decoded = try ImageDecoder.decode(bytes)
        let checked = try ImageDecoder.check(bytes)
        #expect((checked.width, checked.height) == (decoded.image.width, decoded.image.height))
        #expect(checked.metadata.orientation == decoded.metadata.orientation)
        let stored = try ImageDecoder.check(bytes, options: DecodeOptions(applyOrientation: false))
        #expect((stored.width, stored.height) == (checked.height, checked.width))
    }

    @Test func notAnImageAndAnUnreadableFile() throws {
        #expect(throws: DarkroomError.decoding(.unknownFormat)) { try ImageDecoder.check(Array("hello".utf8)) }
        #expect(throws: DarkroomError.self) { try ImageDecoder.check(fileDescriptor: -1, name: "nothing") }
    }

    /// The whole corpus, with cut and damaged variants: check agrees with decode on every one.
    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func agreesWithDecodeOnTheCorpus() throws {
        let dir = try TestSupport.tempDir()
        var mismatches: [String] = []
        var compared = 0
        let options = [("default", DecodeOptions(maxPixels: Corpus.maxPixels)),
                       ("fail-on none", DecodeOptions(maxPixels: Corpus.maxPixels, failOn: .none))]
        for row in Corpus.rows {
            guard let data = Corpus.read(row.path), data.count <= 4 << 20 else { continue }
            let variants = data.count <= 512 << 10 ? Self.variants(of: data) : [("whole", data)]
            for (variant, bytes) in variants {
                for (label, o) in options {
                    let expected = Self.decoded(bytes, o)
                    let inMemory = Self.checked(bytes, o)
                    let fromFile = try Self.checkedFromFile(bytes, o, in: dir)
                    compared += 1
                    if inMemory != expected || fromFile != expected {
                        mismatches.append("\(row.path), \(variant), \(label):\n  decode    \(expected)\n  check     \(inMemory)\n  from file \(fromFile)")
                    }
                }
            }
        }
        print("corpus check against decode: \(compared) compared, \(mismatches.count) differ")
        #expect(compared > 3000)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    // MARK: an interlaced PNG, made by hand

    /// An 8-bit RGB Adam7 PNG of a gradient, every scanline unfiltered, deflate stored blocks.
    static func interlacedPNG(width: Int, height: Int) -> [UInt8] {
        let passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        var raw: [UInt8] = []
        for (x0, y0, dx, dy) in passes {
            let w = width > x0 ? (width - x0 + dx - 1) / dx : 0
            let h = height > y0 ? (height - y0 + dy - 1) / dy : 0
            guard w > 0 && h > 0 else { continue }
            for py in 0..<h {
                raw.append(0)
                for px in 0..<w {
                    let (x, y) = (x0 + px * dx, y0 + py * dy)
                    raw += [UInt8(x * 255 / width), UInt8(y * 255 / height), UInt8((x + y) % 256)]
                }
            }
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var rest = raw[...]
        repeat {
            let block = rest.prefix(65535)
            rest = rest.dropFirst(block.count)
            let n = UInt16(block.count)
            zlib += [rest.isEmpty ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + block
        } while !rest.isEmpty
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be32(b << 16 | a)
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return be32(UInt32(body.count)) + typed + be32(crc32(typed))
        }
        let header = be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 1]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return ~crc
    }
}
