import Testing
@testable import Darkroom

@Suite struct ResampleGeometryTests {
    /// Public API with any Int: a typed error for what is no image size or cap, else a result
    /// within `maxPixels`; nothing traps.
    @Test func fitWithinExtremeIntegersDoNotTrap() throws {
        for (w, h, cap) in [(Int.max, Int.max, Int.max), (Int.max, 1, Int.max), (Int.max, Int.max, 1), (3, Int.max, Int.max / 2),
                            (1 << 36, 1, 1 << 36), (1 << 18, 1 << 18, 1), (Int.min, 1, 1), (1, 1, Int.min)] {
            do {
                let r = try fitWithin(width: w, height: h, maxPixels: cap)
                let (area, overflow) = r.width.multipliedReportingOverflow(by: r.height)
                #expect(!overflow && area <= cap && r.width >= 1 && r.height >= 1, "\(w)x\(h) cap \(cap) -> \(r)")
                #expect(w.multipliedReportingOverflow(by: h).partialValue <= Limits.maxPixelLimit && cap <= Limits.maxPixelLimit)
            } catch {
                guard case .option = error else { Issue.record("\(w)x\(h) cap \(cap): \(error)"); continue }
                let inRange = w >= 1 && h >= 1 && !w.multipliedReportingOverflow(by: h).overflow && w * h <= Limits.maxPixelLimit
                    && (1...Limits.maxPixelLimit).contains(cap)
                #expect(!inRange, "\(w)x\(h) cap \(cap) refused")
            }
        }
    }

    @Test func fitWithinExactCases() throws {
        #expect(try fitWithin(width: 6000, height: 4000, maxPixels: 4_194_304) == (2508, 1672))
        #expect(try fitWithin(width: 4000, height: 3000, maxPixels: 4_194_304) == (2364, 1773))
        #expect(try fitWithin(width: 2000, height: 1000, maxPixels: 4_194_304) == (2000, 1000))  // already within
        #expect(try fitWithin(width: 4096, height: 4096, maxPixels: 4_194_304) == (2048, 2048))
        #expect(try fitWithin(width: 100_000, height: 1, maxPixels: 100) == (100, 1))  // never 0, still capped
        #expect(try fitWithin(width: 1, height: 100_000, maxPixels: 100) == (1, 100))
        #expect(try fitWithin(width: 5, height: 5, maxPixels: 1) == (1, 1))
    }

    @Test func fitWithinNeverExceedsTheCap() throws {
        var seed: UInt64 = 42
        for _ in 0..<2000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let w = Int(seed >> 50) + 1, h = Int((seed >> 30) & 0x3FFF) + 1, cap = Int((seed >> 8) & 0x3F_FFFF) + 1
            let r = try fitWithin(width: w, height: h, maxPixels: cap)
            #expect(r.width >= 1 && r.height >= 1 && r.width <= w && r.height <= h)
            #expect(r.width * r.height <= max(cap, 1) || w * h <= cap)
        }
    }

    static let cases: [(String, (Int, Int))] = [  // for a 6000x4000 input
        ("800x600", (800, 533)), ("800x", (800, 533)), ("800", (800, 533)), ("x600", (900, 600)),
        ("800x600^", (900, 600)), ("800x600!", (800, 600)), ("800x600>", (800, 533)),
        ("8000x6000>", (6000, 4000)), ("8000x6000<", (8000, 5333)), ("800x600<", (6000, 4000)),
        ("50%", (3000, 2000)), ("50x25%", (3000, 1000)), ("12.5%", (750, 500)),
        ("4194304@", (2508, 1672)), ("4mp", (2508, 1672)), ("4MP", (2508, 1672)), ("0.5mp", (886, 591)),
        ("30000000@", (6000, 4000)), ("0.1%", (6, 4)), ("0.0001%", (1, 1)), ("1x1!", (1, 1)), (" 800x600 ", (800, 533)),
    ]

    @Test func parsesAndSizes() throws {
        for (text, expected) in Self.cases {
            let g = try ResizeGeometry(parsing: text)
            let size = g.targetSize(width: 6000, height: 4000)
            #expect(size == expected, "\(text)")
            #expect(g.description == text)
        }
        // Sides never reach 0.
        #expect(try ResizeGeometry(parsing: "1x1").targetSize(width: 6000, height: 10) == (1, 1))
        #expect(try ResizeGeometry(parsing: "1%").targetSize(width: 10, height: 10) == (1, 1))
        #expect(try ResizeGeometry(parsing: "2@").targetSize(width: 1000, height: 1) == (2, 1))
    }

    /// Issue #16: geometry numbers take ValueParser's one decimal grammar (as --max-mp does).
    @Test func geometryNumbersUseTheOneDecimalGrammar() throws {
        #expect(try ResizeGeometry(parsing: "1e1mp").targetSize(width: 6000, height: 4000)
                == ResizeGeometry(parsing: "10mp").targetSize(width: 6000, height: 4000))
        #expect(try ResizeGeometry(parsing: "1e3%").targetSize(width: 10, height: 10) == (100, 100))
        #expect(try ResizeGeometry(parsing: ".5mp").targetSize(width: 6000, height: 4000) == (886, 591))
        #expect(try ResizeGeometry(maxPixels: 4_194_304).targetSize(width: 6000, height: 4000) == (2508, 1672))
        #expect(throws: DarkroomError.self) { try ResizeGeometry(maxPixels: 0) }
    }

    @Test(arguments: ["", "x", "abc", "800x600x2", "-5x5", "0x0", "0x100", "800y600", "50", "%", "0%", "-50%",
                      "0mp", "mp", "@", "0@", "1.5@", "800x600^!", "800^", "x600!", "nan%", "0x10%", "4 mp"])
    func rejectsInvalidGeometry(text: String) {
        if text == "50" { return }  // "50" is valid (width 50); kept in the list to document it
        #expect(throws: DarkroomError.self) { try ResizeGeometry(parsing: text) }
        do {
            _ = try ResizeGeometry(parsing: text)
        } catch let DarkroomError.option(error) {
            let (name, value, expected) = (error.name, error.value, error.expected)
            #expect(name == "resize" && value == text)
            #expect(expected.contains("WxH^") && expected.contains("N@") && expected.contains("mp"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
