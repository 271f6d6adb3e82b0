// swift-tools-version: 6.1
//
// darkroom-server: Darkroom's HTTP sidecar (Hummingbird) for gateways not written in Swift.
//
// A separate package (like Benchmarks/ and Fuzz/) so that the root package depends only on
// swift-argument-parser: a gateway that adds Darkroom as a versioned dependency and uses the
// `Darkroom` library resolves and fetches none of Hummingbird, SwiftNIO, swift-metrics,
// swift-prometheus or swift-service-lifecycle (scripts/check-dependency.sh checks it).
//
//   Sources/DarkroomHTTP        the routes (OpenAI-shaped multipart ones and the raw-body ones), the
//                               HTTP/1 channel, worker pool, metrics and drain service (a library, to
//                               mount in an existing Hummingbird application)
//   Sources/darkroom-server     its executable
//   Sources/CDarkroomHeap       glibc's heap statistics (mallinfo2) for /metrics
//   Tests/DarkroomHTTPTests     the HTTP tests (HummingbirdTesting's router client in process, a live
//                               server on an ephemeral port over raw sockets, the built executable)
//
//   swift build --package-path Server -c release --product darkroom-server
//   swift test --package-path Server          # scripts/test.sh runs it after the root package
import PackageDescription

let package = Package(
    name: "DarkroomServer",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "DarkroomHTTP", targets: ["DarkroomHTTP"]),
        .executable(name: "darkroom-server", targets: ["darkroom-server"]),
    ],
    dependencies: [
        // Named so the product reference works whatever the checkout folder is called.
        .package(name: "Darkroom", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // The sidecar's metrics and graceful shutdown (both already pulled in by Hummingbird).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The OpenAI-shaped routes' multipart bodies (its incremental parser, with our own bounds),
        // the request log, and the HTTP/1 channel's parts (100-continue, parser errors as JSON).
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        // Proxy mode (--upstream): the calls to the upstream provider.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // glibc's mallinfo2 for /metrics' heap gauges (<malloc.h> is not in Swift's Glibc module).
        .target(name: "CDarkroomHeap"),
        .target(
            name: "DarkroomHTTP",
            dependencies: [
                "CDarkroomHeap",
                .product(name: "Darkroom", package: "Darkroom"),
                .product(name: "DarkroomFetch", package: "Darkroom"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // GET /openapi.json serves this file as it is in the repository (OpenAPIRoute).
            resources: [.embedInCode("openapi.json")]
        ),
        .executableTarget(
            name: "darkroom-server",
            dependencies: [
                "DarkroomHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DarkroomHTTPTests",
            dependencies: [
                "DarkroomHTTP",
                .product(name: "Darkroom", package: "Darkroom"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
