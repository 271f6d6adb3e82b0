import Foundation
import Testing
@testable import Darkroom

/// Every file of the shared corpus does what MANIFEST.tsv says: `decode-ok` decodes at the listed
/// size, `must-error` gives a typed error, and nothing crashes, hangs or allocates without bound.
@Suite(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
struct CorpusTests {
    @Test func manifestFilesAreIntact() {
        var damaged: [String] = []
        for row in Corpus.rows {
            guard let data = Corpus.read(row.path), row.bytes == nil || data.count == row.bytes else {
                damaged.append(row.path); continue
            }
        }
        #expect(Corpus.rows.count > 1000)
        #expect(damaged.isEmpty, "missing or damaged: \(damaged)")
    }

    /// Decodes one manifest row; a description of what disagrees with the manifest, or nil.
    /// Throws what the decoder throws.
    static func check(_ row: Corpus.Row, _ data: [UInt8]) throws -> String? {
        let d = try ImageDecoder.decode(data, options: DecodeOptions(maxPixels: Corpus.maxPixels, applyOrientation: false))
        if let w = row.width, let h = row.height, (d.image.width, d.image.height) != (w, h) {
            return "\(row.path): \(d.image.width)x\(d.image.height), manifest \(w)x\(h)"
        }
        if row.expected == "decode-ok", let frames = row.frames, frames != d.metadata.frameCount {
            return "\(row.path): \(d.metadata.frameCount) frames, manifest \(frames)"
        }
        return nil
    }

    @Test func decodeOkFilesDecodeAtTheirSize() {
        var failures: [String] = []
        var passed = 0
        for row in Corpus.rows where row.expected == "decode-ok" {
            guard let data = Corpus.read(row.path) else { continue }
            do {
                if let problem = try Self.check(row, data) { failures.append(problem) } else { passed += 1 }
            } catch {
                failures.append("\(row.path): \(error)")
            }
        }
        print("corpus decode-ok: \(passed) passed, \(failures.count) failed")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func mustErrorFilesGiveTypedErrors() {
        var failures: [String] = []
        var passed = 0
        for row in Corpus.rows where row.expected == "must-error" {
            guard let data = Corpus.read(row.path) else { continue }
            do {
                let d = try ImageDecoder.decode(data, options: DecodeOptions(maxPixels: Corpus.maxPixels))
                failures.append("\(row.path): decoded \(d.image.width)x\(d.image.height)")
            } catch {
                passed += 1   // typed throws: every error is a DarkroomError
            }
        }
        print("corpus must-error: \(passed) passed, \(failures.count) failed")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func optionalFilesDecodeOrFailCleanly() {
        var failures: [String] = []
        var decoded = 0, rejected = 0
        for row in Corpus.rows where row.expected == "decode-ok-or-error" {
            guard let data = Corpus.read(row.path) else { continue }
            do {
                if let problem = try Self.check(row, data) { failures.append(problem) }
                decoded += 1
            } catch is DarkroomError {
                rejected += 1
            } catch {
                failures.append("\(row.path): untyped error \(error)")
            }
        }
        print("corpus decode-ok-or-error: \(decoded) decoded, \(rejected) rejected cleanly, \(failures.count) failed")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}

/// Files with an expected picture (`reference` column) look like it: decoder output, CMYK and
/// ICC conversion, GIF transparency. Compared as 8-bit RGB flattened on white.
@Suite(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
struct CorpusReferenceTests {
    @Test func decodesMatchTheirReferencePictures() throws {
        var failures: [String] = []
        var checked = 0
        // Only sets whose reference is the same picture decoded by another decoder (others hold
        // encoder sources, stacked animation frames, resize outputs or YCbCr planes).
        let sets = ["color/", "conform/jpeg/jpeg-decoder/", "conform/jpeg/mozilla/", "conform/gif/libvips/trans-x", "conform/gif/pillow/transparent"]
        for row in Corpus.rows where row.expected == "decode-ok" && sets.contains(where: { row.path.hasPrefix($0) }) {
            guard let reference = row.reference, !reference.hasSuffix(".conf"), !reference.hasSuffix(".rgba"),
                  let data = Corpus.read(row.path), let refData = Corpus.read(reference) else { continue }
            let image = try ImageDecoder.decode(data).image.converted(to: .rgb8)
            let expected = try ImageDecoder.decode(refData).image.converted(to: .rgb8)
            guard (image.width, image.height) == (expected.width, expected.height) else {
                failures.append("\(row.path): size \(image.width)x\(image.height) vs \(expected.width)x\(expected.height)")
                continue
            }
            let p = psnr(image, expected)
            if p < 28 { failures.append("\(row.path): PSNR \(String(format: "%.1f", p)) dB against \(reference)") }
            checked += 1
        }
        print("corpus references: \(checked) checked, \(failures.count) failed")
        #expect(checked >= 30)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
