import ArgumentParser
import Darkroom
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `darkroom bench resize`: times the resampling core in process (the peer harness's contract).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time Darkroom's cores in process.", subcommands: [Resize.self, BenchEncodeCommand.self])

    struct Resize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the resampler on a deterministic synthetic image fit within --fit-pixels.",
            discussion: """
                Each run resamples into one destination allocated before the runs (Image.resize(into:)), as \
                the peer harness times fast_image_resize; --fresh-output times Image.resized instead, which \
                also allocates and first-touches the destination.
                """)

        @Option(parsing: .unconditional, help: "Source size WxH, at most 268,402,689 px.") var size = "6000x4000"
        @Option(parsing: .unconditional, help: "Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.") var channels = "4"
        @Option(parsing: .unconditional, help: "Bits per sample: 8 or 16.") var bitDepth = "8"
        @Option(help: "Alpha handling.") var alpha: AlphaHandling = .premultiplied
        @Option(help: "Resampling filter.") var filter: ResampleFilter = .lanczos3
        @Option(parsing: .unconditional, help: "Fit within this many pixels (both sides floored), 1 to 2^36.") var fitPixels = "4194304"
        @Option(parsing: .unconditional, help: "Timed runs (one untimed warm-up first), 1 to 1000.") var runs = "5"
        @Option(parsing: .unconditional, help: "Worker threads, 1 to 256.") var threads = "1"
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Time this raw interleaved file (--size, --channels, --bit-depth) instead of the synthetic image.")
        var input: String?
        @Option(help: "Write the last result as raw interleaved samples (for PSNR checks).") var output: String?
        @Flag(help: "Allocate a new destination in every run (Image.resized).") var freshOutput = false

        /// The numeric options, each through its bounded parser (a usage error names the value and
        /// the accepted range).
        struct Values {
            var size: PixelSize, format: PixelFormat, fitPixels: Int, runs: Int, threads: Int
        }

        func values() throws(DarkroomError) -> Values {
            guard let size = PixelSize(parsing: self.size), size.pixels <= DecodeOptions.defaultMaxPixels else {
                throw .option(OptionError(name: "size", value: self.size,
                                          expected: "WxH with at most \(DecodeOptions.defaultMaxPixels) px, e.g. 6000x4000"))
            }
            let channels = try ValueParser.integer(self.channels, name: "channels", in: 1...4)
            guard let depth = Int(bitDepth), depth == 8 || depth == 16 else {
                throw .option(OptionError(name: "bit-depth", value: bitDepth, expected: "8 or 16"))
            }
            return Values(size: size, format: PixelFormat(channels: channels, bitDepth: depth),
                          fitPixels: try ValueParser.pixelLimit(fitPixels, name: "fit-pixels"),
                          runs: try ValueParser.integer(runs, name: "runs", in: 1...1000),
                          threads: try ValueParser.integer(threads, name: "threads", in: 1...Limits.maxThreads))
        }

        func validate() throws {
            do { _ = try values() } catch { throw ValidationError("\(error)") }
        }

        func run() throws {
            let v = try values()
            let format = v.format, runs = v.runs
            let alphaHandling = alpha, resample = filter
            let parts = [v.size.width, v.size.height]
            var image: Image
            if let input {
                let expected = parts[0] * parts[1] * format.bytesPerPixel
                let data: [UInt8]
                do throws(DarkroomError) {
                    data = try InputFile.read(input, limit: expected, image: false)
                } catch {
                    var reason = "\(error)"
                    if case .file(.inputTooLarge) = error { reason = "holds more than \(expected) bytes" }
                    if case let .file(.io(_, message)) = error { reason = message }
                    Console.info("darkroom: --input \(input): \(reason); expected exactly \(expected) bytes (--size \(v.size) x \(format.bytesPerPixel) bytes per pixel)")
                    throw ExitCode(ExitStatus.usage)
                }
                guard data.count == expected else {
                    Console.info("darkroom: --input \(input) holds \(data.count) bytes; expected exactly \(expected) (--size \(v.size) x \(format.bytesPerPixel) bytes per pixel)")
                    throw ExitCode(ExitStatus.usage)
                }
                image = try Image(width: parts[0], height: parts[1], format: format, pixels: data)
            } else {
                image = try Image.benchmarkPattern(width: parts[0], height: parts[1], format: format)
            }
            let target = try fitWithin(width: parts[0], height: parts[1], maxPixels: v.fitPixels)
            let options = ResizeOptions(filter: resample, alpha: alphaHandling, threads: v.threads)
            // Timed like the peers' harness times fir: resampling into a destination allocated once
            // (`--fresh-output` times `Image.resized`, which also allocates and first-touches it).
            var out = try image.resized(width: target.width, height: target.height, options: options)
            var checksum = out.pixels.count
            var times = [Double]()
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                if freshOutput {
                    out = try image.resized(width: target.width, height: target.height, options: options)
                } else {
                    try image.resize(into: &out, options: options)
                }
                let t1 = DispatchTime.now().uptimeNanoseconds
                checksum &+= Int(out.pixels[out.pixels.count / 2])
                times.append(Double(t1 - t0) / 1e6)
            }
            if let output {
                do { try OutputFile.write(out.pixels, to: output, overwrite: true) } catch {
                    Console.error(output, error)
                    throw ExitCode(ExitStatus.someFailed)
                }
            }
            _ = checksum
            let sorted = times.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            let round3 = { (v: Double) in (v * 1000).rounded() / 1000 }
            let src = "\(parts[0])x\(parts[1])", dst = "\(target.width)x\(target.height)"
            if json {
                Console.json([
                    "src": .string(src), "dst": .string(dst), "channels": .int(format.channels), "bit_depth": .int(format.bitDepth),
                    "filter": .string(resample.rawValue), "alpha": .string(alphaHandling.rawValue), "threads": .int(v.threads),
                    "runs": .int(runs), "median_ms": .double(round3(median)), "min_ms": .double(round3(sorted[0])),
                    "kernel": .string(resampleKernelName),
                ])
            } else {
                Console.line("resize \(src) -> \(dst) \(format.rawValue) \(resample.rawValue) alpha=\(alphaHandling.rawValue) "
                    + "threads=\(v.threads) kernel=\(resampleKernelName): median \(Console.fixed(median, 2)) ms, "
                    + "min \(Console.fixed(sorted[0], 2)) ms over \(runs) runs")
            }
        }
    }
}
