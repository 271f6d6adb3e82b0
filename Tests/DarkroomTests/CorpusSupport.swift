import Foundation
@testable import Darkroom

/// The shared public test corpus (`../shared/corpus` beside the package), described by MANIFEST.tsv.
/// Tests that use it are skipped when it is absent.
enum Corpus {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/corpus")

    static var isPresent: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent("MANIFEST.tsv").path) }

    struct Row: Sendable, CustomStringConvertible {
        var path: String
        var expected: String
        var width: Int?
        var height: Int?
        var reference: String?
        var bytes: Int?
        var frames: Int?
        var notes: String
        var description: String { path }
    }

    static let rows: [Row] = {
        guard let text = try? String(contentsOf: root.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8) else { return [] }
        var rows: [Row] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 16 else { continue }
            rows.append(Row(path: f[0], expected: f[6], width: Int(f[7]), height: Int(f[8]),
                            reference: f[12].isEmpty ? nil : f[12], bytes: Int(f[13]), frames: Int(f[11]), notes: f[15]))
        }
        return rows
    }()

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: root.appendingPathComponent(path).path).map { [UInt8]($0) }
    }

    /// The pixel limit corpus tests decode with (the bomb files assume one near 100–250 Mpx).
    static let maxPixels = 150_000_000
}

/// Peak signal-to-noise ratio of two 8-bit images of the same size and layout.
func psnr(_ a: Image, _ b: Image) -> Double {
    precondition(a.width == b.width && a.height == b.height && a.format == b.format)
    var sum = 0.0
    for i in a.pixels.indices { let d = Double(a.pixels[i]) - Double(b.pixels[i]); sum += d * d }
    let mse = sum / Double(a.pixels.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}
