import Foundation

/// The repository's `testimages/` folder (this file is Server/Tests/DarkroomHTTPTests/TestImages.swift).
/// The root package's Tests/DarkroomTests/TestSupport.swift has more helpers; the HTTP tests need only bytes.
enum TestImages {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("testimages")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(name)))
    }
}
