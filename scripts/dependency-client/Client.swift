// The executable of the throwaway client package that scripts/check-dependency.sh creates: a
// gateway's view of Darkroom, through the public API only (Converter, ConvertOptions(format:quality:resize:),
// ResizeGeometry(parsing:), ConversionResult's bytes, width, height, format).
//
//   darkroom-client IMAGE GEOMETRY EXPECTED_SIZE     e.g. kodim23.jpg 800x 800x533
//
// Converts IMAGE to WebP (quality 80, resized by GEOMETRY) in 100 concurrent tasks and checks every
// result: format .webp, RIFF/WEBP magic and RIFF length, the size in the WebP frame header and in the
// result equal to EXPECTED_SIZE, all 100 outputs byte-identical. Prints one line; exits 1 on any problem.
import Darkroom
import Foundation

@main struct DarkroomClient {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4 else { fail("usage: darkroom-client IMAGE GEOMETRY EXPECTED_SIZE (e.g. 800x533)") }
        let expected = arguments[3].split(separator: "x").compactMap { Int($0) }
        guard expected.count == 2 else { fail("bad expected size '\(arguments[3])'") }
        let input = [UInt8](try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
        let converter = Converter(options: ConvertOptions(format: .webp, quality: 80,
                                                          resize: try ResizeGeometry(parsing: arguments[2])))
        let tasks = 100
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: ConversionResult.self) { group in
            for _ in 0..<tasks { group.addTask { try converter.convert(input) } }
            var all: [ConversionResult] = []
            for try await result in group { all.append(result) }
            return all
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

        guard results.count == tasks, let first = results.first else { fail("\(results.count) results for \(tasks) tasks") }
        for (i, r) in results.enumerated() {
            if r.format != .webp { fail("result \(i): format \(r.format), expected webp") }
            if [r.width, r.height] != expected { fail("result \(i): \(r.width)x\(r.height), expected \(arguments[3])") }
            guard let header = webpSize(r.bytes) else { fail("result \(i): not a WebP file (RIFF/WEBP header)") }
            if [header.width, header.height] != expected {
                fail("result \(i): WebP header says \(header.width)x\(header.height), expected \(arguments[3])")
            }
            if r.bytes != first.bytes { fail("result \(i): \(r.bytes.count) bytes differ from result 0's \(first.bytes.count)") }
        }
        print("darkroom-client: \(tasks) concurrent conversions of \(URL(fileURLWithPath: arguments[1]).lastPathComponent) "
              + "(\(input.count) bytes) -> webp q80 \(first.width)x\(first.height), \(first.bytes.count) bytes each, "
              + "all identical, in \(String(format: "%.2f", seconds)) s")
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("darkroom-client: FAIL \(message)\n".utf8))
        exit(1)
    }

    /// The picture size a WebP file declares, read independently of Darkroom: the RIFF container
    /// (length = file size - 8) and the first chunk, VP8 (lossy), VP8L (lossless) or VP8X (extended).
    static func webpSize(_ b: [UInt8]) -> (width: Int, height: Int)? {
        guard b.count >= 30, b[0..<4].elementsEqual("RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) else { return nil }
        let le = { (at: Int, count: Int) in (0..<count).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        guard le(4, 4) == b.count - 8 else { return nil }
        switch String(decoding: b[12..<16], as: UTF8.self) {
        case "VP8 ":  // frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height
            guard b[23..<26].elementsEqual([0x9D, 0x01, 0x2A]) else { return nil }
            return (le(26, 2) & 0x3FFF, le(28, 2) & 0x3FFF)
        case "VP8L":  // signature 0x2f, then width - 1 and height - 1 in 14 bits each
            let bits = le(21, 4)
            return ((bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1)
        case "VP8X":  // flags and reserved (4 bytes), then canvas width - 1 and height - 1 in 24 bits each
            return (le(24, 3) + 1, le(27, 3) + 1)
        default:
            return nil
        }
    }
}
