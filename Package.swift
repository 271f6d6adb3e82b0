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
//   Sources/DarkroomFetch       safe image downloads (libcurl, loaded at run time; CDarkroomFetch)
//   Sources/darkroom            the CLI: argument parsing and printing only
//   Server/                     the HTTP sidecar (DarkroomHTTP on Hummingbird, darkroom-server): a separate
//                               package, so a client of the library resolves no Hummingbird/NIO tree
//   Benchmarks/                 package-benchmark suites (a separate package, see its Package.swift)
//   Fuzz/                       libFuzzer targets (a separate package)
//
// The dependencies are swift-argument-parser, for the CLI, and swift-docc-plugin, for the docs.
// A client that uses only the `Darkroom` product resolves Darkroom and swift-argument-parser
// (fetched, not built for it) and nothing else; SwiftPM 6.3 does not resolve the plugin for it:
// scripts/check-dependency.sh checks exactly that set.
import PackageDescription

let package = Package(
    name: "Darkroom",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Darkroom", targets: ["Darkroom"]),
        .executable(name: "darkroom", targets: ["darkroom"]),
        // Image downloads under a policy (http(s) only, no private addresses, byte and time caps):
        // the CLI's `decode --download`, and for the HTTP sidecar. Not part of `Darkroom`.
        .library(name: "DarkroomFetch", targets: ["DarkroomFetch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` from a fresh clone (scripts/docs.sh adds the
        // options). Used by no product, so a client of the library does not resolve it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // System libraries (apt: libpng-dev libjpeg-dev libwebp-dev libavif-dev libgif-dev liblcms2-dev zlib1g-dev).
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CLibWebP", pkgConfig: "libwebpdemux", providers: [.apt(["libwebp-dev"])]),
        // No pkgConfig: libavif's .pc adds only -DAVIF_DLL (a Windows dllimport switch that SwiftPM
        // refuses with a warning on every build) and -lavif, which the module map links already.
        .systemLibrary(name: "CLibAVIF", providers: [.apt(["libavif-dev"])]),
        .systemLibrary(name: "CGIFLib", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),
        // zlib (libpng's own dependency): the PNG shim inflates zTXt and compressed iTXt metadata text.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // C shims: wrappers that own libjpeg's and libpng's setjmp/longjmp, the CPU check, library versions.
        .target(name: "CDarkroom", dependencies: ["CLibJPEG", "CLibPNG", "CZlib"]),

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
        // libcurl's easy API for DarkroomFetch. libcurl is opened with dlopen on the first download,
        // not linked, so the CLI starts without it; building needs <curl/curl.h> (apt:
        // libcurl4-openssl-dev), running a download libcurl.so.4 (libcurl4).
        .target(name: "CDarkroomFetch"),
        .target(name: "DarkroomFetch", dependencies: ["Darkroom", "CDarkroomFetch"]),

        .executableTarget(
            name: "darkroom",
            dependencies: [
                "Darkroom",
                "DarkroomFetch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "DarkroomTests",
            dependencies: ["Darkroom", "DarkroomFetch"]
        ),
    ]
)
