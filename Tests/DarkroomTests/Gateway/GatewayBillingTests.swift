import Foundation
import Testing
@testable import Darkroom

@Suite struct GatewayBillingTests {
    @Test(arguments: [
        (1024, 1024, 1), (1025, 1024, 2), (2048, 2048, 4), (1920, 1080, 2), (1, 1, 1),
        (512, 512, 1), (4000, 3000, 12), (1536, 1024, 2), (2364, 1773, 4), (1024, 1023, 1),
    ])
    func billsCeilOfMegapixels(_ w: Int, _ h: Int, _ mp: Int) throws {
        #expect(try MegapixelBilling.billedMegapixels(width: w, height: h) == mp)
    }

    /// Issue #16: an image count or a size out of range is a typed error naming it (it was
    /// clamped, or billed as 0 MP); the largest accepted values cannot overflow.
    @Test func countsAndSizesOutOfRangeAreErrorsNotBills() throws {
        let big = PixelSize(width: 65_536, height: 65_536)  // 4096 MP
        let most = try MegapixelBilling.estimate(references: [PixelSize(width: 4000, height: 3000)], output: big,
                                                 n: MegapixelBilling.maxImageCount)
        #expect(most.output.billedMegapixels == 4096 * MegapixelBilling.maxImageCount)
        #expect(most.totalMegapixels == 4096 * MegapixelBilling.maxImageCount + 4)
        for n in [10_000_000_000_000_000, MegapixelBilling.maxImageCount + 1, 0, -3] {
            #expect(throws: DarkroomError.option(OptionError(name: "n", value: "\(n)", expected: "an integer from 1 to 10000"))) {
                try MegapixelBilling.estimate(references: [PixelSize](), output: PixelSize(width: 1024, height: 1024), n: n)
            }
        }
        for (w, h) in [(-1, 100), (0, 0), (Int.max, 2), (1 << 37, 1)] {
            #expect(throws: DarkroomError.self, "\(w)x\(h)") { try MegapixelBilling.billedMegapixels(width: w, height: h) }
            #expect(throws: DarkroomError.self, "\(w)x\(h)") { try MegapixelBilling.referenceCost(width: w, height: h) }
            #expect(throws: DarkroomError.self, "\(w)x\(h)") {
                try MegapixelBilling.estimate(references: [PixelSize](), output: PixelSize(width: w, height: h))
            }
        }
        #expect(try MegapixelBilling.billedMegapixels(width: 1 << 36, height: 1) == 65_536)
    }

    @Test func referencesCountAtLeastOneMegapixel() throws {
        let small = try MegapixelBilling.referenceCost(width: 512, height: 512)
        #expect(small == ReferenceCost(source: "512x512", width: 512, height: 512, resizedWidth: 512, resizedHeight: 512,
                                       billedMegapixels: 1))
        let four = try MegapixelBilling.referenceCost(width: 2048, height: 2048, source: "a.png")
        #expect(four.billedMegapixels == 4)
        #expect(!four.resized)
        #expect(try MegapixelBilling.referenceCost(width: 1920, height: 1080).billedMegapixels == 2)
    }

    @Test(arguments: [(4000, 3000, 2364, 1773), (6000, 4000, 2508, 1672), (2400, 2000, 2243, 1869), (3024, 4032, 1773, 2364)])
    func largeReferencesAreCountedAfterTheirResize(_ w: Int, _ h: Int, _ rw: Int, _ rh: Int) throws {
        #expect(try ReferencePrep.fitted(width: w, height: h) == PixelSize(width: rw, height: rh))
        let cost = try MegapixelBilling.referenceCost(width: w, height: h)
        #expect(cost.resizedWidth == rw && cost.resizedHeight == rh)
        #expect(cost.resized)
        #expect(cost.billedMegapixels == 4)
    }

    @Test func fittedLeavesSmallImagesAlone() throws {
        #expect(try ReferencePrep.fitted(width: 2048, height: 2048) == PixelSize(width: 2048, height: 2048))
        #expect(try ReferencePrep.fitted(width: 512, height: 512) == PixelSize(width: 512, height: 512))
    }

    @Test func estimateAddsReferencesAndOutputTimesN() throws {
        let bill = try MegapixelBilling.estimate(
            references: [PixelSize(width: 2048, height: 2048), PixelSize(width: 512, height: 512)],
            output: PixelSize(width: 1920, height: 1080), n: 3, inputPricePerMP: 0.01, outputPricePerMP: 0.02)
        #expect(bill.referenceMegapixels == 5)
        #expect(bill.output == OutputCost(width: 1920, height: 1080, n: 3, billedMegapixels: 6))
        #expect(bill.totalMegapixels == 11)
        #expect(bill.totalPrice == 0.17)
    }

    @Test func estimateWithALargeReference() throws {
        let bill = try MegapixelBilling.estimate(
            references: [PixelSize(width: 4000, height: 3000), PixelSize(width: 512, height: 512)],
            output: PixelSize(width: 1024, height: 1024), n: 2, inputPricePerMP: 0.015, outputPricePerMP: 0.03)
        #expect(bill.references.map(\.billedMegapixels) == [4, 1])
        #expect(bill.totalMegapixels == 7)
        #expect(bill.totalPrice == 0.135)
    }

    @Test func estimateJSONHasTheDocumentedShape() throws {
        let bill = try MegapixelBilling.estimate(references: [(source: "ref.png", size: PixelSize(width: 1025, height: 1024))],
                                             output: PixelSize(width: 1024, height: 1024))
        #expect(bill.totalPrice == nil)
        let expected: JSONValue = .object([
            "references": .array([.object(["source": .string("ref.png"), "width": .int(1025), "height": .int(1024),
                                           "resized_width": .int(1025), "resized_height": .int(1024), "billed_mp": .int(2)])]),
            "output": .object(["width": .int(1024), "height": .int(1024), "n": .int(1), "billed_mp": .int(1)]),
            "total_mp": .int(3), "total_price": .null,
        ])
        #expect(bill.json == expected)
        #expect(String(decoding: bill.json.jsonData(), as: UTF8.self).hasPrefix(#"{"output":{"billed_mp":1,"height":1024,"n":1,"width":1024}"#))
    }

    @Test func onlyOnePriceCountsTheOtherAsZero() throws {
        let bill = try MegapixelBilling.estimate(references: [PixelSize(width: 100, height: 100)],
                                             output: PixelSize(width: 2048, height: 2048), n: 2, outputPricePerMP: 0.25)
        #expect(bill.totalMegapixels == 9)
        #expect(bill.totalPrice == 2.0)
    }
}
