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

        @Option(help: "Source size WxH.") var size = "6000x4000"
        @Option(help: "Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.") var channels = 4
        @Option(help: "Bits per sample: 8 or 16.") var bitDepth = 8
        @Option(help: "Alpha handling.") var alpha: AlphaHandling = .premultiplied
        @Option(help: "Resampling filter.") var filter: ResampleFilter = .lanczos3
        @Option(help: "Fit within this many pixels (both sides floored).") var fitPixels = 4_194_304
        @Option(help: "Timed runs (one untimed warm-up first).") var runs = 5
        @Option(help: "Worker threads.") var threads = 1
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Time this raw interleaved file (--size, --channels, --bit-depth) instead of the synthetic image.")
        var input: String?
        @Option(help: "Write the last result as raw interleaved samples (for PSNR checks).") var output: String?
        @Flag(help: "Allocate a new destination in every run (Image.resized).") var freshOutput = false

        func run() throws {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0 else {
                throw ValidationError("--size must be WxH, e.g. 6000x4000")
            }
            guard (1...4).contains(channels) else { throw ValidationError("--channels must be 1, 2, 3 or 4") }
            guard bitDepth == 8 || bitDepth == 16 else { throw ValidationError("--bit-depth must be 8 or 16") }
            let alphaHandling = alpha, resample = filter
            guard runs >= 1, threads >= 1, fitPixels >= 1 else { throw ValidationError("--runs, --threads, --fit-pixels must be >= 1") }
            let format = PixelFormat(channels: channels, bitDepth: bitDepth)
            var image = Image.benchmarkPattern(width: 1, height: 1, format: format)
            if let input {
                let data = try Data(contentsOf: URL(fileURLWithPath: input))
                guard data.count == parts[0] * parts[1] * format.bytesPerPixel else {
                    throw ValidationError("--input holds \(data.count) bytes, expected \(parts[0] * parts[1] * format.bytesPerPixel)")
                }
                image = Image(width: parts[0], height: parts[1], format: format, pixels: [UInt8](data))
            } else {
                image = Image.benchmarkPattern(width: parts[0], height: parts[1], format: format)
            }
            let target = fitWithin(width: parts[0], height: parts[1], maxPixels: fitPixels)
            let options = ResizeOptions(filter: resample, alpha: alphaHandling, threads: threads)
            // Timed like the peers' harness times fir: resampling into a destination allocated once
            // (`--fresh-output` times `Image.resized`, which also allocates and first-touches it).
            var out = image.resized(width: target.width, height: target.height, options: options)
            var checksum = out.pixels.count
            var times = [Double]()
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                if freshOutput {
                    out = image.resized(width: target.width, height: target.height, options: options)
                } else {
                    image.resize(into: &out, options: options)
                }
                let t1 = DispatchTime.now().uptimeNanoseconds
                checksum &+= Int(out.pixels[out.pixels.count / 2])
                times.append(Double(t1 - t0) / 1e6)
            }
            if let output {
                try Data(out.pixels).write(to: URL(fileURLWithPath: output))
            }
            _ = checksum
            let sorted = times.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            let round3 = { (v: Double) in (v * 1000).rounded() / 1000 }
            let src = "\(parts[0])x\(parts[1])", dst = "\(target.width)x\(target.height)"
            if json {
                Console.json([
                    "src": src, "dst": dst, "channels": channels, "bit_depth": bitDepth, "filter": resample.rawValue,
                    "alpha": alphaHandling.rawValue, "threads": threads, "runs": runs,
                    "median_ms": round3(median), "min_ms": round3(sorted[0]), "kernel": resampleKernelName,
                ])
            } else {
                Console.line("resize \(src) -> \(dst) \(format.rawValue) \(resample.rawValue) alpha=\(alphaHandling.rawValue) "
                    + "threads=\(threads) kernel=\(resampleKernelName): median \(Console.fixed(median, 2)) ms, "
                    + "min \(Console.fixed(sorted[0], 2)) ms over \(runs) runs")
            }
        }
    }
}
