import Benchmark
import Darkroom
import class Foundation.ProcessInfo

// Resampling core: 24 MP -> 4 MP (6000x4000 -> 2508x1672, the fit-within-4-MP case) and
// 4 MP -> 1 MP (2048x2048 -> 1024x1024), per filter, layout and thread count. Counts are kept
// modest: every benchmark stops after 5 iterations or 2 s. With DARKROOM_BENCH_SMOKE=1 each runs
// once without warm-up (scripts/bench-smoke.sh, CI: the suite must build and run, not measure).
//
// Sources are the deterministic `Image.benchmarkPattern` (the same picture `darkroom bench resize`
// times), built once per size and layout.

nonisolated(unsafe) var sources: [String: Image] = [:]

func source(_ width: Int, _ height: Int, _ format: PixelFormat) -> Image {
    let key = "\(width)x\(height)-\(format.rawValue)"
    if let img = sources[key] { return img }
    let img = try! Image.benchmarkPattern(width: width, height: height, format: format)  // constant sizes, within the limits
    sources[key] = img
    return img
}

func resizeBenchmark(_ name: String, from src: (Int, Int), format: PixelFormat, filter: ResampleFilter,
                     alpha: AlphaHandling = .premultiplied, threads: Int = 1) {
    let target = try! fitWithin(width: src.0, height: src.1, maxPixels: src.0 * src.1 / (src.0 * src.1 > 10_000_000 ? 6 : 4))
    let options = ResizeOptions(filter: filter, alpha: alpha, threads: threads)
    Benchmark(name) { benchmark in
        let img = source(src.0, src.1, format)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try img.resized(width: target.width, height: target.height, options: options))
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    let smoke = ProcessInfo.processInfo.environment["DARKROOM_BENCH_SMOKE"] == "1"
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: smoke ? 0 : 1,
        maxDuration: .seconds(2),
        maxIterations: smoke ? 1 : 5
    )
    let big = (6000, 4000), mid = (2048, 2048)
    // Every layout, Lanczos3, one thread.
    for format in PixelFormat.allCases {
        resizeBenchmark("lanczos3 \(format.rawValue) 24MP->4MP", from: big, format: format, filter: .lanczos3)
        resizeBenchmark("lanczos3 \(format.rawValue) 4MP->1MP", from: mid, format: format, filter: .lanczos3)
    }
    // Every filter on RGBA8 (premultiplied) and RGB8.
    for filter in ResampleFilter.allCases where filter != .lanczos3 {
        for format in [PixelFormat.rgba8, .rgb8] {
            resizeBenchmark("\(filter.rawValue) \(format.rawValue) 24MP->4MP", from: big, format: format, filter: filter)
            resizeBenchmark("\(filter.rawValue) \(format.rawValue) 4MP->1MP", from: mid, format: format, filter: filter)
        }
    }
    // Alpha ignored, and thread counts.
    resizeBenchmark("lanczos3 rgba8 alpha-ignore 24MP->4MP", from: big, format: .rgba8, filter: .lanczos3, alpha: .ignore)
    for threads in [2, 4] {
        for format in [PixelFormat.rgba8, .rgb8] {
            resizeBenchmark("lanczos3 \(format.rawValue) 24MP->4MP threads=\(threads)", from: big, format: format,
                            filter: .lanczos3, threads: threads)
        }
    }
}
