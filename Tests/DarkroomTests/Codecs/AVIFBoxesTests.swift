import Testing
@testable import Darkroom

/// The `ipma` essential-bit check for transformative AVIF properties.
@Suite struct AVIFBoxesTests {
    static func box(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let size = UInt32(8 + body.count)
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
            + Array(type.utf8) + body
    }

    /// ftyp + meta(iprp(ipco(properties), ipma)), with one item associated with `associations`.
    static func file(properties: [String], ipmaVersion: UInt8 = 0, wide: Bool = false, associations: [UInt8]) -> [UInt8] {
        let ipco = box("ipco", properties.flatMap { box($0, [0, 0, 0, 0]) })
        let count = UInt8(wide ? associations.count / 2 : associations.count)
        let itemID: [UInt8] = ipmaVersion < 1 ? [0, 1] : [0, 0, 0, 1]
        let ipma = box("ipma", [ipmaVersion, 0, 0, wide ? 1 : 0, 0, 0, 0, 1] + itemID + [count] + associations)
        let meta = box("meta", [0, 0, 0, 0] + box("hdlr", Array(repeating: 0, count: 20)) + box("iprp", ipco + ipma))
        return box("ftyp", Array("avif\0\0\0\0mif1avif".utf8)) + meta
    }

    @Test func findsNonEssentialTransforms() {
        let properties = ["ispe", "av1C", "irot", "imir", "clap"]
        // 7-bit indices: high bit = essential.
        #expect(!AVIFBoxes.hasNonEssentialTransform(Self.file(properties: properties, associations: [0x01, 0x82, 0x83, 0x84, 0x85])))
        #expect(AVIFBoxes.hasNonEssentialTransform(Self.file(properties: properties, associations: [0x01, 0x82, 0x03])))
        #expect(AVIFBoxes.hasNonEssentialTransform(Self.file(properties: properties, associations: [0x01, 0x05])))
        #expect(!AVIFBoxes.hasNonEssentialTransform(Self.file(properties: properties, associations: [0x01, 0x02])))
        // Version 1 (32-bit item IDs) with 15-bit indices.
        #expect(AVIFBoxes.hasNonEssentialTransform(
            Self.file(properties: properties, ipmaVersion: 1, wide: true, associations: [0x80, 0x02, 0x00, 0x04])))
        #expect(!AVIFBoxes.hasNonEssentialTransform(
            Self.file(properties: properties, ipmaVersion: 1, wide: true, associations: [0x80, 0x02, 0x80, 0x04])))
        // Index 0 and indices past the property list mean nothing.
        #expect(!AVIFBoxes.hasNonEssentialTransform(Self.file(properties: properties, associations: [0x00, 0x09])))
    }

    @Test func malformedBoxesAreNoFinding() {
        let good = Self.file(properties: ["irot"], associations: [0x01])
        #expect(AVIFBoxes.hasNonEssentialTransform(good))
        for n in 0..<good.count {
            // Every truncation: no trap; a cut-off ipma/ipco is simply not a finding (or still one).
            _ = AVIFBoxes.hasNonEssentialTransform(Array(good.prefix(n)))
        }
        var huge = good
        huge[24] = 0xFF   // meta (after the 24-byte ftyp) claims more bytes than the file has
        #expect(!AVIFBoxes.hasNonEssentialTransform(huge))
        #expect(!AVIFBoxes.hasNonEssentialTransform([]))
    }

    @Test func sizeZeroFinalBoxGetsAnExplicitSize() {
        let file = Self.file(properties: ["ispe"], associations: [0x81])
        var sizeZero = file
        sizeZero[24..<28] = [0, 0, 0, 0]   // meta, after the 24-byte ftyp, "extends to the end"
        #expect(AVIFBoxes.withExplicitFinalBoxSize(sizeZero) == file)
        #expect(AVIFBoxes.withExplicitFinalBoxSize(file) == file)
        #expect(AVIFBoxes.withExplicitFinalBoxSize(Array(file.prefix(30))) == Array(file.prefix(30)))
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func corpusFileIsRejected() throws {
        let bytes = try #require(Corpus.read("corrupt/avif/clap_irot_imir_non_essential.avif"))
        #expect(throws: DarkroomError.decoding(.codec(.avif, message: "transformative property marked non-essential"))) {
            try ImageDecoder.decode(bytes)
        }
        // Correctly marked transforms are not affected.
        for row in Corpus.rows where row.path.hasSuffix(".avif") && row.expected == "decode-ok" {
            let file = try #require(Corpus.read(row.path))
            #expect(!AVIFBoxes.hasNonEssentialTransform(file), "\(row.path)")
        }
    }
}
