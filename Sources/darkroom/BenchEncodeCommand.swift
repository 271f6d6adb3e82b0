import ArgumentParser
import Darkroom
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `darkroom bench encode`: times one encoder in process on a decoded image.
struct BenchEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Time an encoder at its default (or given) settings on an image file, in process.")

    @Argument(help: "Image to decode once and encode repeatedly.")
    var input: String

    @Option(name: [.customShort("f"), .long], help: "Output format.")
    var format: ImageFormat

    @Option(name: [.customShort("q"), .customLong("quality")], parsing: .unconditional, help: "Quality 0-100 (default: the format's default).")
    var quality: String?

    @Option(parsing: .unconditional, help: "AVIF speed 0-10.")
    var speed: String?

    @Option(parsing: .unconditional, help: "Timed runs (after one warm-up), 1 to 1000.")
    var runs: String = "5"

    /// The numeric options through their bounded parsers.
    func values() throws(DarkroomError) -> (quality: Int?, speed: Int?, runs: Int) {
        (try quality.map { (q) throws(DarkroomError) in try ValueParser.quality(q) },
         try speed.map { (s) throws(DarkroomError) in try ValueParser.integer(s, name: "speed", in: Limits.avifSpeed) },
         try ValueParser.integer(runs, name: "runs", in: 1...1000))
    }

    func validate() throws {
        do { _ = try values() } catch { throw ValidationError("\(error)") }
    }

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let (quality, speed, runs) = try values()
        let decoded: DecodedImage
        do {
            decoded = try ImageDecoder.decode(InputOutput.read(input))
        } catch {
            Console.error(input, error)   // names the file, without the convert-only hints
            throw ExitCode(ExitStatus.someFailed)
        }
        let options = EncodeOptions(quality: quality, speed: speed)
        var bytes = try ImageEncoder.encode(decoded.image, as: format, options: options)
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            bytes = try ImageEncoder.encode(decoded.image, as: format, options: options)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        let median = times[times.count / 2], minimum = times[0]
        let size = "\(decoded.image.width)x\(decoded.image.height)"
        if json {
            Console.json(["input": .string(input), "size": .string(size), "format": .string(format.rawValue),
                          "quality": .int(quality ?? QualityCurve.webDefault(for: format)), "runs": .int(times.count),
                          "median_ms": .double((median * 10).rounded() / 10), "min_ms": .double((minimum * 10).rounded() / 10),
                          "bytes": .int(bytes.count)])
        } else {
            Console.line("\(format) \(size): median \(Console.fixed(median, 1)) ms, min \(Console.fixed(minimum, 1)) ms, \(bytes.count) bytes")
        }
    }
}
