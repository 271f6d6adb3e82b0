import Foundation
import Testing
import CLCMS2
@testable import Darkroom

/// `--keep icc` after a conversion to sRGB embeds lcms2's sRGB profile; its creation date is
/// fixed, so the output bytes do not change from run to run (a new-user report: they did).
@Suite struct SRGBProfileTests {
    @Test func theEmbeddedSRGBProfileHasAFixedDateAndIsValid() throws {
        let profile = try #require(ColorManagement.sRGBProfile())
        let date = (0..<6).map { Int(profile[24 + 2 * $0]) << 8 | Int(profile[25 + 2 * $0]) }
        #expect(date == [1998, 2, 9, 6, 49, 0])
        #expect(profile[84..<100].allSatisfy { $0 == 0 })
        #expect(Array(profile[36..<40]) == Array("acsp".utf8))
        #expect(Int(profile[0]) << 24 | Int(profile[1]) << 16 | Int(profile[2]) << 8 | Int(profile[3]) == profile.count)
        // lcms2 reads it back as an RGB profile.
        let handle = try #require(profile.withUnsafeBytes { cmsOpenProfileFromMem($0.baseAddress, UInt32($0.count)) })
        defer { cmsCloseProfile(handle) }
        #expect(cmsGetColorSpace(handle) == cmsSigRgbData)
    }
}
