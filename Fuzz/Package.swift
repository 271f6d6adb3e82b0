// swift-tools-version:5.4
//
// libFuzzer targets for Darkroom: a separate package (like Benchmarks/) so the library's own
// Package.swift stays free of unsafe flags and fuzz-only executables. Each target defines
// `LLVMFuzzerTestOneInput` and gets its `main` from libFuzzer, so it must be built with
//
//   swift build --package-path Fuzz -c debug \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// which is what scripts/fuzz.sh does (see its header for targets, seeds and limits).
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point to
// `<module>_main` and links `main` to it (so tests can import executables); with
// -parse-as-library there is no such symbol and the link fails. At 5.4 `main` comes from
// libFuzzer, as it should. (No `platforms:`: libFuzzer builds are Linux-only here.)
import PackageDescription

let targets = [
    "decode-png", "decode-jpeg", "decode-webp", "decode-avif", "decode-gif",
    "read-header", "resize-geometry", "gateway-request", "images-response", "convert", "animation",
]

let package = Package(
    name: "DarkroomFuzz",
    dependencies: [
        .package(name: "Darkroom", path: ".."),
    ],
    targets: [
        // The per-target harness code: each executable calls one function from here, so the
        // regression test (Tests/DarkroomTests/Fuzz/FuzzRegressionTests.swift) can mirror it exactly.
        .target(name: "FuzzHarness", dependencies: [.product(name: "Darkroom", package: "Darkroom")]),
    ] + targets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzHarness"], path: "Sources/Targets/\(name)")
    }
)
