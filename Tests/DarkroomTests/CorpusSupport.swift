import Foundation
@testable import Darkroom

/// The rows of the shared public test corpus's MANIFEST.tsv (``TestSupport/corpus``, beside the
/// package). Tests that use it are skipped when it is absent (``TestSupport/hasCorpus``).
enum Corpus {
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
        guard let text = try? String(contentsOf: TestSupport.corpus.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8) else { return [] }
        var rows: [Row] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 16 else { continue }
            var row = Row(path: f[0], expected: f[6], width: Int(f[7]), height: Int(f[8]),
                          reference: f[12].isEmpty ? nil : f[12], bytes: Int(f[13]), frames: Int(f[11]), notes: f[15])
            if let grown = grownGIFCanvases[row.path] { (row.width, row.height) = grown }
            rows.append(row)
        }
        return rows
    }()

    /// GIFs whose first frame reaches past the logical screen: the canvas grows to hold it (Chrome's
    /// Wuffs, Pillow; docs/animation.md), while the manifest lists the screen (what pygif's suite
    /// and image-rs clip to). Their sizes here are the grown canvases.
    static let grownGIFCanvases: [String: (Int, Int)] = [
        "conform/gif/pygif-suite/image-outside-bg.gif": (4, 4),
        "conform/gif/pygif-suite/image-overlap-bg.gif": (3, 3),
        "conform/gif/image-rs/issue_1455_oversized.gif": (16, 16),
        "conform/gif/image-rs/oob.gif": (40, 40),
        "conform/gif/wuffs-artificial/frame-out-of-bounds.gif": (4, 2),
    ]

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: TestSupport.corpus.appendingPathComponent(path).path).map { [UInt8]($0) }
    }

    /// The pixel limit corpus tests decode with (the bomb files assume one near 100–250 Mpx).
    static let maxPixels = 150_000_000
}
