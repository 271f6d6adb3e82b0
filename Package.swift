// swift-tools-version: 6.1
//
// Darkroom: local image post-processing for an OpenAI-compatible image gateway.
//
// Layout (one folder per concern):
//   Sources/Darkroom            the library (Image, Codecs, Color, Resample, Gateway, Pipeline)
//   Sources/CDarkroomKernels    SIMD resampling kernels in C: one source compiled per CPU level
//                               (SSE2, AVX2, AVX2 + AVX-VNNI) with target attributes, no build flags
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
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // System libraries (apt: libpng-dev libjpeg-dev libwebp-dev libavif-dev libgif-dev liblcms2-dev).
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CLibWebP", pkgConfig: "libwebpdemux", providers: [.apt(["libwebp-dev"])]),
        // No pkgConfig: libavif's .pc adds only -DAVIF_DLL (a Windows dllimport switch that SwiftPM
        // refuses with a warning on every build) and -lavif, which the module map links already.
        .systemLibrary(name: "CLibAVIF", providers: [.apt(["libavif-dev"])]),
        .systemLibrary(name: "CGIFLib", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),

        // C shims: wrappers that own libjpeg's and libpng's setjmp/longjmp, the CPU check, library versions.
        .target(name: "CDarkroom", dependencies: ["CLibJPEG", "CLibPNG"]),

        // Resampling kernels: one C source compiled once per CPU level inside the object
        // (`#pragma clang attribute push(target(...))`), picked at run time in Swift. No unsafe build flags,
        // so the package stays usable as a versioned dependency.
        .target(name: "CDarkroomKernels"),

        .target(
            name: "Darkroom",
            dependencies: [
                "CDarkroom", "CLibWebP", "CLibAVIF", "CGIFLib", "CLCMS2",
                "CDarkroomKernels",
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
