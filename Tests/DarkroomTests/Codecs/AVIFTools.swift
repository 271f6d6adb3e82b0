import Foundation
import Testing
@testable import Darkroom

/// libavif's own command-line tools (`avifenc`, `avifdec`, libavif-bin 0.11.1, which
/// `scripts/install-deps.sh` installs): the fidelity tests make their AVIF inputs with `avifenc`
/// and check decodes against `avifdec`'s PNG output. A missing tool fails the test that needs it
/// with a message saying how to install it; no test skips for it.
enum AVIFTools {
    /// The tool's path on `PATH`; throws (failing the test) when it is not installed.
    static func path(_ tool: String) throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        Issue.record("\(tool) is not installed: run scripts/install-deps.sh (Debian package libavif-bin)")
        throw ToolMissing(tool: tool)
    }

    struct ToolMissing: Error { var tool: String }
    struct ToolFailed: Error, CustomStringConvertible {
        var command: String, status: Int32, stderr: String
        var description: String { "\(command) exited with \(status): \(stderr)" }
    }

    /// Runs `tool` with `arguments` in `directory`; throws when it exits with a failure.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path(tool))
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let result = try CLI.collect(process, stdout: out, stderr: err, what: "\(tool) \(arguments.joined(separator: " "))",
                                     timeLimit: 120)
        guard result.status == 0 else {
            throw ToolFailed(command: "\(tool) \(arguments.joined(separator: " "))", status: result.status, stderr: result.stderr)
        }
        return String(decoding: result.stdoutData, as: UTF8.self) + result.stderr
    }

    /// `image` encoded with `avifenc arguments` (the image written as a PNG first).
    static func encode(_ image: Image, _ arguments: [String]) throws -> [UInt8] {
        try encode(png: try ImageEncoder.encode(image, as: .png), arguments)
    }

    /// The PNG `png` encoded with `avifenc arguments`.
    static func encode(png: [UInt8], _ arguments: [String]) throws -> [UInt8] {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(png).write(to: dir.appendingPathComponent("in.png"))
        try run("avifenc", arguments + ["in.png", "out.avif"], in: dir)
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("out.avif")))
    }

    /// `avif` decoded by `avifdec --no-strict` (so that an invalid `clap` is not refused) to an
    /// 8-bit PNG, read back as stored (no colour conversion, no orientation): libavif's YUV → RGB
    /// of the whole coded image.
    static func decode(_ avif: [UInt8], depth: Int = 8) throws -> Image {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(avif).write(to: dir.appendingPathComponent("in.avif"))
        try run("avifdec", ["--no-strict", "--depth", String(depth), "in.avif", "out.png"], in: dir)
        let png = [UInt8](try Data(contentsOf: dir.appendingPathComponent("out.png")))
        return try ImageDecoder.decode(png, options: DecodeOptions(applyOrientation: false, convertToSRGB: false)).image
    }

    /// `avifdec --info`'s report of `avif`.
    static func info(_ avif: [UInt8]) throws -> String {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(avif).write(to: dir.appendingPathComponent("in.avif"))
        return try run("avifdec", ["--no-strict", "--info", "in.avif"], in: dir)
    }
}

/// Small pixel operations for the tests, written out here so the expected pictures do not come
/// from the code under test.
enum TestPixels {
    /// The `width × height` rectangle at (`x`, `y`).
    static func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) -> Image {
        let bpp = image.format.bytesPerPixel
        var out = Image(unchecked: width, height: height, format: image.format)
        for row in 0..<height {
            let from = ((y + row) * image.width + x) * bpp
            out.pixels.replaceSubrange(row * width * bpp..<(row + 1) * width * bpp, with: image.pixels[from..<from + width * bpp])
        }
        return out
    }

    /// Turned 90° anti-clockwise (AVIF `irot` angle 1).
    static func rotatedAnticlockwise(_ image: Image) -> Image {
        let bpp = image.format.bytesPerPixel
        var out = Image(unchecked: image.height, height: image.width, format: image.format)
        for y in 0..<image.height {
            for x in 0..<image.width {
                // (x, y) goes to (y, width − 1 − x).
                let to = ((image.width - 1 - x) * out.width + y) * bpp, from = (y * image.width + x) * bpp
                out.pixels.replaceSubrange(to..<to + bpp, with: image.pixels[from..<from + bpp])
            }
        }
        return out
    }

    /// Top and bottom exchanged (AVIF `imir` mode 0).
    static func mirroredTopToBottom(_ image: Image) -> Image {
        let rowBytes = image.width * image.format.bytesPerPixel
        var out = image
        for y in 0..<image.height {
            let from = (image.height - 1 - y) * rowBytes
            out.pixels.replaceSubrange(y * rowBytes..<(y + 1) * rowBytes, with: image.pixels[from..<from + rowBytes])
        }
        return out
    }

    /// The largest difference between two images' samples (same size and layout).
    static func maxDifference(_ a: Image, _ b: Image) -> Int {
        precondition(a.width == b.width && a.height == b.height && a.format == b.format)
        var worst = 0
        for i in a.pixels.indices { worst = max(worst, abs(Int(a.pixels[i]) - Int(b.pixels[i]))) }
        return worst
    }

    /// The offset of the first box of `type` (its size field) in an ISO-BMFF file, found by its
    /// four type bytes.
    static func boxOffset(_ type: String, in bytes: [UInt8]) -> Int? {
        let t = Array(type.utf8)
        guard bytes.count >= 8 else { return nil }
        for i in 4...(bytes.count - 4) where Array(bytes[i..<i + 4]) == t { return i - 4 }
        return nil
    }
}
