import Foundation
import Testing
@testable import Darkroom

/// Issue #16: the plan decides every route before any pixel is decoded.
@Suite struct ConversionPlanTests {
    @Test func thePlanDecidesScaleAndRoute() throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")   // 768x512
        let toJPEG = try TestPlan.plan(jpeg, ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: "100x100"),
                                                            resampling: ResizeOptions(threads: 2)))
        #expect(toJPEG.decodeScale == .jpeg(denominator: 2))   // 384x256 keeps twice 100x67
        #expect(toJPEG.decodedSize == PixelSize(width: 384, height: 256))
        #expect(toJPEG.target == PixelSize(width: 100, height: 67))
        if ResampleKernel.selected != .scalar {
            #expect(toJPEG.route == .planes)   // JPEG to JPEG in YCbCr (PlanarRouteTests)
            var rgb = ConversionPlan.Switches()
            rgb.allowsPlanes = false
            let rows = try TestPlan.plan(jpeg, ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: "100x100"),
                                                              resampling: ResizeOptions(threads: 2)), switches: rgb)
            #expect(rows.route == .rows(.init(format: .rgb8, background: true, restartBands: false, encodeRows: true, ringRows: 64)))
        }
        let fast = try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "100x100"), fast: true))
        #expect(fast.decodeScale == .jpeg(denominator: 4))     // 192x128 covers 100x67
        let noResize = try TestPlan.plan(jpeg, ConvertOptions(format: .webp))
        #expect(noResize.decodeScale == .full && noResize.route == .whole && !noResize.resizes)
        let nearest = try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%"),
                                                             resampling: ResizeOptions(filter: .nearest)))
        #expect(nearest.route == .whole)
    }

    @Test func outputLimitsAreCheckedAtPlanning() throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")
        #expect(throws: DarkroomError.encoding(.formatLimit(.webp, width: 19_200, height: 12_800, maxSide: 16_383, maxPixels: nil))) {
            try TestPlan.plan(jpeg, ConvertOptions(format: .webp, resize: try ResizeGeometry(parsing: "2500%")))
        }
        #expect(throws: DarkroomError.encoding(.tooManyPixels(width: 24_576, height: 16_384, limit: Limits.defaultMaxPixels))) {
            try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "3200%")))
        }
    }
}
