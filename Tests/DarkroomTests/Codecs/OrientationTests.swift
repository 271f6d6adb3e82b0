import Foundation
import Testing
@testable import Darkroom

/// Oriented files (EXIF in JPEG, WebP and PNG eXIf; AVIF irot/imir) match their upright references.
@Suite(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
struct OrientationTests {
    static var rows: [Corpus.Row] {
        Corpus.rows.filter { $0.path.hasPrefix("orientation/") && $0.reference != nil && $0.expected == "decode-ok" }
    }

    @Test func orientedFilesMatchTheirUprightReferences() throws {
        var failures: [String] = []
        var checked = 0
        for row in Self.rows {
            guard let data = Corpus.read(row.path), let refData = Corpus.read(row.reference!) else { continue }
            let image = try ImageDecoder.decode(data).image.converted(to: .rgb8)
            var reference = try ImageDecoder.decode(refData).image.converted(to: .rgb8)
            // For the AVIF irot files the reference is the picture before it was stored rotated:
            // the displayed result is that reference turned by the orientation the notes name.
            if let range = row.notes.range(of: "equivalent to EXIF orientation "),
               let digit = row.notes[range.upperBound...].first?.wholeNumberValue {
                reference = reference.applying(Orientation(exifValue: digit))
            }
            guard image.width == reference.width, image.height == reference.height else {
                failures.append("\(row.path): \(image.width)x\(image.height), reference \(reference.width)x\(reference.height)")
                continue
            }
            let p = psnr(image, reference)
            // Separately JPEG-compressed copies of the same picture agree to ~25+ dB; a wrong
            // rotation or mirror drops far below (~10 dB).
            if p < 20 { failures.append("\(row.path): PSNR \(p) dB against \(row.reference!)") }
            checked += 1
        }
        print("orientation: \(checked) checked, \(failures.count) failed")
        #expect(checked >= 20)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func bundledRotatedPhotoIsUpright() throws {
        let rotated = try TestImages.decode("hopper-orientation-6.jpg")
        let upright = try TestImages.decode("hopper.jpg")
        #expect(rotated.metadata.orientation == .right)
        #expect(rotated.image.width == upright.image.width && rotated.image.height == upright.image.height)
        #expect(psnr(rotated.image, upright.image) > 25)
    }
}
