import Foundation
import Testing
@testable import Darkroom

/// `--keep` on the built binary: the default, a list, a refused value; metadata warnings on
/// standard error and in `--json`; `inspect`'s provenance.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"))
struct MetadataCLITests {
    static let label = MetadataFidelityTests.label

    /// A folder holding `in.jpg`: the labelled JPEG with a C2PA manifest (``MetadataFidelityTests/jpegWithC2PA()``).
    static func folder() throws -> (dir: URL, segment: Int) {
        let dir = try TestSupport.tempDir()
        let (jpeg, segment) = try MetadataFidelityTests.jpegWithC2PA()
        try Data(jpeg).write(to: dir.appendingPathComponent("in.jpg"))
        return (dir, segment)
    }

    @Test func theDefaultKeepsTheLabelAndReportsTheManifest() throws {
        let (dir, segment) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["convert", "in.jpg", "-f", "png", "-o", "out.png"], in: dir)
        #expect(r.status == 0)
        let out = [UInt8](try Data(contentsOf: dir.appendingPathComponent("out.png")))
        #expect(r.stderr == """
            darkroom: in.jpg: metadata: C2PA manifest (JPEG APP11, \(segment) bytes) dropped: its signature covers the input's bytes, \
            which a conversion changes (re-sign the output to keep a manifest)
            in.jpg → out.png (png, 48x32, \(out.count) bytes)

            """)
        #expect(try ExifTool.tags(out) == ["XMP-iptcExt:DigitalSourceType": Self.label])
    }

    @Test func jsonRecordsCarryTheMetadataWarnings() throws {
        let (dir, segment) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["convert", "in.jpg", "-f", "gif", "--keep", "icc,exif", "--json", "-o", "out.gif"], in: dir)
        #expect(r.status == 0)
        let (items, _) = try CLI.jsonLines(r.stdoutData)
        let warnings = try #require(items.first?["warnings"] as? [[String: Any]])
        #expect(warnings.map { $0["kind"] as? String } == ["metadata", "metadata"])
        #expect(warnings.map { $0["block"] as? String } == ["c2pa", "provenance"])
        #expect(warnings.map { $0["reason"] as? String } == ["invalidated", "not_kept"])
        #expect(warnings[1]["message"] as? String
                    == "provenance label \(Self.label) not kept: keep icc,exif leaves it out (add provenance to keep it; keep none strips it without a warning)")
        #expect(r.stderr.contains("darkroom: in.jpg: metadata: C2PA manifest (JPEG APP11, \(segment) bytes) dropped"))
    }

    @Test func anUnknownKeepValueIsAUsageError() throws {
        let r = try CLI.run(["convert", "in.jpg", "--keep", "icc,gps", "-o", "out.png"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--keep"))
        #expect(r.stderr.contains("icc,gps"))
    }

    @Test func inspectShowsTheProvenance() throws {
        let (dir, segment) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["inspect", "in.jpg"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: r.stdoutData, as: UTF8.self) == """
            in.jpg: jpeg 48x32, 0.001 MP (billed 1), 8-bit, no alpha, colour none (sRGB assumed), 1 frame, metadata XMP C2PA, \
            provenance \(Self.label), C2PA manifest (JPEG APP11, \(segment) bytes)

            """)
        let json = try CLI.run(["inspect", "--json", "in.jpg"], in: dir)
        let (items, _) = try CLI.jsonLines(json.stdoutData)
        let provenance = try #require(items.first?["provenance"] as? [String: Any])
        #expect(provenance["digital_source_type"] as? String == Self.label)
        #expect((provenance["c2pa"] as? [String: Any])?["container"] as? String == "JPEG APP11")
        #expect((provenance["c2pa"] as? [String: Any])?["bytes"] as? Int == segment)
        #expect((items.first?["metadata"] as? [String: Bool])?["c2pa"] == true)
    }
}
