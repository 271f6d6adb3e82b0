// swift-tools-version: 6.1
//
// package-benchmark suites for Darkroom (a separate package so the library's own build and
// `swift test` stay free of the benchmark dependency tree).
//
//   cd Benchmarks && swift package benchmark                      # everything (slow)
//   cd Benchmarks && swift package benchmark --filter 'lanczos3 rgba8 24MP.*'
import PackageDescription

let package = Package(
    name: "DarkroomBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Named so the product reference works whatever the checkout folder is called.
        .package(name: "Darkroom", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ResampleBenchmarks",
            dependencies: [
                .product(name: "Darkroom", package: "Darkroom"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "ResampleBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
