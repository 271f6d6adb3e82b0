// swift-tools-version: 6.1
//
// Darkroom: local image post-processing for an OpenAI-compatible image gateway.
//
// Layout (one folder per concern):
//   Sources/Darkroom            the library (Image, Codecs, Color, Resample, Gateway, Pipeline)
//   Sources/DarkroomKernels     SIMD resampling kernels, baseline x86-64 build
//   Sources/DarkroomKernelsAVX2 the same kernel source (symlink), built for haswell (AVX2+FMA)
//   Sources/DarkroomKernelsVNNI the same again, built for alderlake (AVX2 + AVX-VNNI: vpdpwssd)
//   Sources/CDarkroom           C shims: libjpeg/libpng setjmp error handling, CPU feature check
//   Sources/C*                  system library module maps (Debian -dev packages)
//   Sources/darkroom            the CLI: argument parsing and printing only
//   Sources/DarkroomHTTP        the HTTP sidecar (Hummingbird) for gateways not written in Swift
//   Sources/darkroom-server     its executable
//   Benchmarks/                 package-benchmark suites (a separate package, see its Package.swift)
import PackageDescription

let package = Package(
    name: "Darkroom",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Darkroom", targets: ["Darkroom"]),
        .executable(name: "darkroom", targets: ["darkroom"]),
        .executable(name: "darkroom-server", targets: ["darkroom-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // The sidecar's metrics and graceful shutdown (both already pulled in by Hummingbird).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System libraries (apt: libpng-dev libjpeg-dev libwebp-dev libavif-dev libgif-dev liblcms2-dev).
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CLibWebP", pkgConfig: "libwebpdemux", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CLibAVIF", pkgConfig: "libavif", providers: [.apt(["libavif-dev"])]),
        .systemLibrary(name: "CGIFLib", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),

        // The only C code: wrappers that own libjpeg's and libpng's setjmp/longjmp, and a CPU check.
        .target(name: "CDarkroom", dependencies: ["CLibJPEG", "CLibPNG"]),

        // Resampling kernels, compiled twice from one source file and picked at run time.
        .target(name: "CDarkroomKernelSupport"),  // header-only: a prefetch hint for the kernels
        .target(name: "DarkroomKernels", dependencies: ["CDarkroomKernelSupport"]),
        .target(
            name: "DarkroomKernelsAVX2",
            dependencies: ["CDarkroomKernelSupport"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]
        ),
        .target(
            name: "DarkroomKernelsVNNI",
            dependencies: ["CDarkroomKernelSupport"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "alderlake"])]
        ),

        .target(
            name: "Darkroom",
            dependencies: [
                "CDarkroom", "CLibWebP", "CLibAVIF", "CGIFLib", "CLCMS2",
                "DarkroomKernels", "DarkroomKernelsAVX2", "DarkroomKernelsVNNI",
            ]
        ),
        .executableTarget(
            name: "darkroom",
            dependencies: [
                "Darkroom",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "DarkroomHTTP",
            dependencies: [
                "Darkroom",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "darkroom-server",
            dependencies: [
                "DarkroomHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "DarkroomTests",
            dependencies: [
                "Darkroom", "DarkroomHTTP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
