import Foundation
import Testing
@testable import Darkroom

/// Issue #16: the library's own boundary. Every public entry that takes a size or a count from a
/// caller throws a typed error naming the value instead of trapping, allocating without bound or
/// returning nonsense.
@Suite struct LibraryBoundaryTests {
    @Test func imageSizesFromACallerAreChecked() throws {
        #expect(throws: DarkroomError.decoding(.invalidDimensions(width: 0, height: 0))) {
            try Image(width: 0, height: 0, format: .rgb8)
        }
        #expect(throws: DarkroomError.decoding(.invalidDimensions(width: -3, height: 5))) {
            try Image(width: -3, height: 5, format: .rgb8, pixels: [])
        }
        // 200,000 x 200,000 RGBA would be 160 GB: refused before any allocation.
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 200_000, height: 200_000, limit: Limits.defaultMaxPixels))) {
            try Image(width: 200_000, height: 200_000, format: .rgba8)
        }
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: Int.max, height: 2, limit: Limits.maxPixelLimit))) {
            try Image(width: Int.max, height: 2, format: .gray8, pixels: [])
        }
        #expect(throws: DarkroomError.option(OptionError(name: "pixels", value: "5 bytes",
                                                          expected: "6 bytes for 2x1 px of 3 channels at 8 bits"))) {
            try Image(width: 2, height: 1, format: .rgb8, pixels: [1, 2, 3, 4, 5])
        }
        let raised = try Image(width: 20_000, height: 1, format: .gray8, maxPixels: 20_000)
        #expect(raised.pixels.count == 20_000 && raised.pixels.allSatisfy { $0 == 0 })
        #expect(throws: DarkroomError.self) { try Image(width: 20_001, height: 1, format: .gray8, maxPixels: 20_000) }
    }

    @Test func resizeTargetsFromACallerAreChecked() throws {
        let image = TestImages.gradient(width: 16, height: 8)
        for (w, h) in [(0, 5), (-1, 5), (5, 0), (200_000, 10), (10, Limits.maxSide + 1)] {
            #expect(throws: DarkroomError.option(OptionError(name: "resize", value: "\(w)x\(h)",
                                                              expected: "sides from 1 to 65536 px")), "\(w)x\(h)") {
                try image.resized(width: w, height: h)
            }
        }
        #expect(throws: DarkroomError.encoding(.tooManyPixels(width: 65_536, height: 65_536, limit: Limits.defaultMaxPixels))) {
            try image.resized(width: 65_536, height: 65_536)
        }
        #expect(throws: DarkroomError.option(OptionError(name: "threads", value: "0", expected: "an integer from 1 to 256"))) {
            try image.resized(width: 4, height: 4, options: ResizeOptions(threads: 0))
        }
        var gray = try Image(width: 4, height: 4, format: .gray8)
        #expect(throws: DarkroomError.self) { try image.resize(into: &gray) }
        #expect(gray.pixels.allSatisfy { $0 == 0 }, "a refused destination is left as it was")
        var same = try Image(width: 4, height: 4, format: image.format)
        try image.resize(into: &same)
        #expect(same == (try image.resized(width: 4, height: 4)))
    }
}
