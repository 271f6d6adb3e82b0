import Foundation
import Testing
@testable import Darkroom

/// AVIF grids decode as HEIF lays them out and as avifdec 1.x, browsers and Pillow show them,
/// where libavif 0.11.1 does not (``AVIFGridRepair``): tiles in the order of the `dimg`
/// reference (not of their item IDs), and alpha attached to each tile instead of to the grid.
/// Grids are made with `avifenc --grid` (normal order); the `dimg` order is then rewritten in the
/// `iref` box, and grids with alpha on each tile are assembled here from avifenc's one-tile files.
@Suite struct AVIFGridTests {
    /// A picture with a different colour (and alpha) at every pixel.
    static func picture(width: Int, height: Int, alpha: Bool) -> Image {
        var image = Image(unchecked: width, height: height, format: alpha ? .rgba8 : .rgb8)
        let c = image.format.channels
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * c
                image.pixels[o] = UInt8((x * 2) % 256)
                image.pixels[o + 1] = UInt8((y * 3) % 256)
                image.pixels[o + 2] = UInt8((x * 5 + y * 7) % 256)
                if alpha { image.pixels[o + 3] = UInt8(255 - (x + 2 * y) % 200) }
            }
        }
        return image
    }

    /// `image`'s cells (`rows × columns` of `tileWidth × tileHeight`), cell `j` taking the
    /// contents of cell `order[j]`.
    static func rearranged(_ image: Image, rows: Int, columns: Int, order: [Int]) -> Image {
        let tw = image.width / columns, th = image.height / rows
        var out = image
        for (cell, from) in order.enumerated() {
            let tile = TestPixels.crop(image, x: (from % columns) * tw, y: (from / columns) * th, width: tw, height: th)
            let bpp = image.format.bytesPerPixel
            for row in 0..<th {
                let to = (((cell / columns) * th + row) * image.width + (cell % columns) * tw) * bpp
                out.pixels.replaceSubrange(to..<to + tw * bpp, with: tile.pixels[row * tw * bpp..<(row + 1) * tw * bpp])
            }
        }
        return out
    }

    /// `avif` with the `to` list of the `dimg` reference from item `from` replaced by `to`
    /// (16-bit item IDs, `iref` version 0; the same number of IDs, so no size changes).
    static func rewritingDimg(_ avif: [UInt8], from: UInt16, to: [UInt16]) throws -> [UInt8] {
        let type = Array("dimg".utf8)
        var out = avif
        for i in 4..<(avif.count - 8) where Array(avif[i..<i + 4]) == type && avif[i + 4] == UInt8(from >> 8) && avif[i + 5] == UInt8(from & 0xFF) {
            let count = Int(avif[i + 6]) << 8 | Int(avif[i + 7])
            try #require(count == to.count)
            for (k, id) in to.enumerated() {
                out[i + 8 + 2 * k] = UInt8(id >> 8)
                out[i + 9 + 2 * k] = UInt8(id & 0xFF)
            }
            return out
        }
        Issue.record("no dimg reference from item \(from)")
        return avif
    }

    static let asStored = DecodeOptions(convertToSRGB: false)

    @Test func normalOrderNeedsNothing() throws {
        let source = Self.picture(width: 128, height: 128, alpha: true)
        let avif = try AVIFTools.encode(source, ["-l", "--grid", "2x2"])
        #expect(try AVIFGridRepair.analyse(avif) == nil)
        let decoded = try ImageDecoder.decode(avif, options: Self.asStored)
        #expect(decoded.image == source)
        #expect(decoded.image == (try AVIFTools.decode(avif)))
    }

    /// Tiles named by `dimg` in reverse (and in a shuffled) order: each cell shows the tile its
    /// `dimg` position names; avifdec 0.11.1 shows them in item order.
    @Test(arguments: [[5, 4, 3, 2], [3, 5, 2, 4]])
    func dimgOrderDecidesTheLayout(order: [UInt16]) throws {
        let source = Self.picture(width: 128, height: 128, alpha: false)
        let normal = try AVIFTools.encode(source, ["-l", "--grid", "2x2"])
        let avif = try Self.rewritingDimg(normal, from: 1, to: order)
        let expected = Self.rearranged(source, rows: 2, columns: 2, order: order.map { Int($0) - 2 })
        #expect(try ImageDecoder.decode(avif, options: Self.asStored).image == expected)
        #expect(try AVIFTools.decode(avif) == source, "libavif 0.11.1 lays the tiles out in item order")
        // A conversion and check agree.
        #expect(try ImageDecoder.decode(try Converter(options: ConvertOptions(format: .png)).convert(avif).bytes).image == expected)
        #expect(try ImageDecoder.check(avif).width == 128)
    }

    /// The colour and the alpha grid each by its own `dimg` order.
    @Test func alphaGridFollowsItsOwnOrder() throws {
        let source = Self.picture(width: 128, height: 128, alpha: true)
        let normal = try AVIFTools.encode(source, ["-l", "--grid", "2x2"])
        // avifenc: colour grid 1 (tiles 2–5), alpha grid 6 (tiles 7–10).
        let both = try Self.rewritingDimg(try Self.rewritingDimg(normal, from: 1, to: [5, 4, 3, 2]), from: 6, to: [10, 9, 8, 7])
        #expect(try ImageDecoder.decode(both, options: Self.asStored).image == Self.rearranged(source, rows: 2, columns: 2, order: [3, 2, 1, 0]))
        let alphaOnly = try Self.rewritingDimg(normal, from: 6, to: [8, 7, 10, 9])
        let decoded = try ImageDecoder.decode(alphaOnly, options: Self.asStored).image
        let moved = Self.rearranged(source, rows: 2, columns: 2, order: [1, 0, 3, 2])
        for i in 0..<(128 * 128) {
            let rgbSame = decoded.pixels[i * 4..<i * 4 + 3].elementsEqual(source.pixels[i * 4..<i * 4 + 3])
            if !rgbSame || decoded.pixels[i * 4 + 3] != moved.pixels[i * 4 + 3] {
                Issue.record("pixel \(i): colour in place, alpha moved expected"); break
            }
        }
    }

    /// A 4:2:0 lossy 1x5 grid (libavif's `sofa_grid1x5_420_reversed_dimg_order.avif` made here):
    /// the tiles' bitstreams are the picture's own, so the decode equals avifenc's grid of the
    /// rearranged picture, sample for sample.
    @Test func lossyReversedGridEqualsTheRearrangedPicture() throws {
        let source = Self.picture(width: 64, height: 320, alpha: false)
        let settings = ["-y", "420", "--min", "10", "--max", "10", "-j", "1", "--grid", "1x5"]
        let normal = try AVIFTools.encode(source, settings)
        let reversed = try Self.rewritingDimg(normal, from: 1, to: [6, 5, 4, 3, 2])
        let rearranged = try AVIFTools.encode(Self.rearranged(source, rows: 5, columns: 1, order: [4, 3, 2, 1, 0]), settings)
        #expect(try ImageDecoder.decode(reversed, options: Self.asStored).image == (try AVIFTools.decode(rearranged)))
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func corpusReversedGrid() throws {
        let normal = try #require(Corpus.read("conform/avif/libavif/sofa_grid1x5_420.avif"))
        let reversed = try #require(Corpus.read("conform/avif/libavif/sofa_grid1x5_420_reversed_dimg_order.avif"))
        let a = try ImageDecoder.decode(normal, options: Self.asStored).image
        let b = try ImageDecoder.decode(reversed, options: Self.asStored).image
        #expect((b.width, b.height) == (1024, 770))
        // 154-row tiles: the first tile of the reversed file is the normal file's last, and the last
        // its first (away from the tiles' first and last rows, whose chroma is upsampled with
        // their neighbours').
        #expect(TestPixels.crop(b, x: 0, y: 4, width: 1024, height: 146) == TestPixels.crop(a, x: 0, y: 620, width: 1024, height: 146))
        #expect(TestPixels.crop(b, x: 0, y: 620, width: 1024, height: 146) == TestPixels.crop(a, x: 0, y: 4, width: 1024, height: 146))
        #expect(b != a)
    }

    /// A grid whose last column is cropped (output 120 wide with 64-pixel tiles): tiles may move
    /// only between cells of one visible size; moving one into the cropped column is refused.
    @Test func cropMismatchIsRefused() throws {
        let source = Self.picture(width: 128, height: 64, alpha: false)
        let normal = try AVIFTools.encode(source, ["-l", "--grid", "2x1"])
        // The grid descriptor (version 0, flags 0, rows-1 0, columns-1 1, 128, 64) is in mdat, the
        // grid's ispe in ipco: make both 120 wide.
        let descriptor: [UInt8] = [0, 0, 0, 1, 0, 128, 0, 64]
        let at = try #require((0...(normal.count - 8)).first { Array(normal[$0..<$0 + 8]) == descriptor })
        let ispe = Array("ispe".utf8) + [0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 0, 64]
        let ispeAt = try #require((0...(normal.count - 16)).first { Array(normal[$0..<$0 + 16]) == ispe })
        var cropped = normal
        cropped[at + 5] = 120
        cropped[ispeAt + 11] = 120
        #expect(try ImageDecoder.decode(cropped, options: Self.asStored).image == TestPixels.crop(source, x: 0, y: 0, width: 120, height: 64))
        let swapped = try Self.rewritingDimg(cropped, from: 1, to: [3, 2])
        let message = "the colour grid's tiles are in another order than their items (dimg [3, 2], libavif 0.11.1 lays them out as [2, 3]), "
            + "and tile 3 would move from a 56x64 cell to a 64x64 one: it cannot be put right"
        #expect(throws: DarkroomError.decoding(.codec(.avif, message: message))) { try ImageDecoder.decode(swapped) }
        // inspect still reads the header.
        #expect(try ImageInspection.inspect(swapped).storedWidth == 120)
    }

    // MARK: Alpha on each tile

    /// A grid AVIF assembled from one-tile RGBA files made by avifenc (item 1 colour, item 2 its
    /// alpha): item 1 the grid, 2… the colour tiles, then their alpha items, `auxl` from each
    /// alpha item to its tile (for the cells in `alphaOn`), `dimg` in `order` (indices of the
    /// tiles). Items in ID order in every box, so libavif 0.11.1's order is the ID order.
    static func assembleGrid(tiles: [[UInt8]], rows: Int, columns: Int, width: Int, height: Int,
                             order: [Int]? = nil, alphaOn: Set<Int>? = nil) throws -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { u32(8 + body.count) + Array(type.utf8) + body }
        let n = tiles.count
        let alphaOn = alphaOn ?? Set(0..<n)
        var properties: [[UInt8]] = [box("ispe", [0, 0, 0, 0] + u32(width) + u32(height))]
        var associations: [[UInt8]] = [[0x81]]   // the grid: its ispe
        var payloads: [[UInt8]] = [[0, 0, UInt8(rows - 1), UInt8(columns - 1)] + u16(width) + u16(height)]
        var types = ["grid"]
        var alphaItems: [(alpha: Int, tile: Int)] = []
        for pass in 0..<2 {
            for (k, file) in tiles.enumerated() where pass == 0 || alphaOn.contains(k) {
                let items = try #require(AVIFItems(file))
                let colour = try #require(items.primary)
                let id = pass == 0 ? colour : try #require(items.items(referencing: colour, by: "auxl").first)
                payloads.append(try #require(items.data(of: id, in: file, limit: file.count)))
                var list: [UInt8] = []
                for property in items.properties(of: id) {
                    properties.append(Array(file[property.box]))
                    list.append(UInt8(properties.count) | (property.essential ? 0x80 : 0))
                }
                associations.append(list)
                types.append("av01")
                if pass == 1 { alphaItems.append((types.count, 2 + k)) }
            }
        }
        let tileIDs = (order ?? Array(0..<n)).map { $0 + 2 }
        let iref = box("iref", [0, 0, 0, 0] + box("dimg", u16(1) + u16(n) + tileIDs.flatMap(u16))
                       + alphaItems.flatMap { box("auxl", u16($0.alpha) + u16(1) + u16($0.tile)) })
        let iinf = box("iinf", [0, 0, 0, 0] + u16(types.count)
                       + types.enumerated().flatMap { box("infe", [2, 0, 0, 0] + u16($0.offset + 1) + [0, 0] + Array($0.element.utf8) + [0]) })
        let ipma = box("ipma", [0, 0, 0, 0] + u32(types.count)
                       + associations.enumerated().flatMap { u16($0.offset + 1) + [UInt8($0.element.count)] + $0.element })
        let iprp = box("iprp", box("ipco", properties.flatMap { $0 }) + ipma)
        let hdlr = box("hdlr", [0, 0, 0, 0, 0, 0, 0, 0] + Array("pict".utf8) + [UInt8](repeating: 0, count: 13))
        let pitm = box("pitm", [0, 0, 0, 0, 0, 1])
        let ftyp = box("ftyp", Array("avif".utf8) + [0, 0, 0, 0] + Array("avifmif1miaf".utf8))
        func iloc(_ base: Int) -> [UInt8] {
            var body: [UInt8] = [0, 0, 0, 0, 0x44, 0x00] + u16(payloads.count)
            var offset = base
            for (i, payload) in payloads.enumerated() {
                body += u16(i + 1) + u16(0) + u16(1) + u32(offset) + u32(payload.count)
                offset += payload.count
            }
            return box("iloc", body)
        }
        let metaSize = 12 + hdlr.count + pitm.count + iloc(0).count + iinf.count + iref.count + iprp.count
        let meta = box("meta", [0, 0, 0, 0] + hdlr + pitm + iloc(ftyp.count + metaSize + 8) + iinf + iref + iprp)
        return ftyp + meta + box("mdat", payloads.flatMap { $0 })
    }

    /// One-tile lossless RGBA files of `source`'s cells.
    static func tileFiles(_ source: Image, rows: Int, columns: Int) throws -> [[UInt8]] {
        let tw = source.width / columns, th = source.height / rows
        return try (0..<rows * columns).map { cell in
            try AVIFTools.encode(TestPixels.crop(source, x: (cell % columns) * tw, y: (cell / columns) * th, width: tw, height: th), ["-l"])
        }
    }

    /// Alpha attached to each tile: decoded with it (libavif 0.11.1 drops it, avifdec shows none).
    @Test func alphaOnEachTileIsKept() throws {
        let source = Self.picture(width: 128, height: 128, alpha: true)
        let tiles = try Self.tileFiles(source, rows: 2, columns: 2)
        let avif = try Self.assembleGrid(tiles: tiles, rows: 2, columns: 2, width: 128, height: 128)
        #expect(try AVIFTools.decode(avif).format == .rgb8, "avifdec 0.11.1 finds no alpha")
        let decoded = try ImageDecoder.decode(avif, options: Self.asStored)
        #expect(decoded.image == source)
        let inspection = try ImageInspection.inspect(avif)
        #expect(inspection.hasAlpha)
        #expect(try ImageDecoder.check(avif).metadata.warnings.isEmpty)
        // Converted to WebP (lossless), the transparency is there.
        var options = ConvertOptions(format: .webp)
        options.encode.lossless = true
        #expect(try ImageDecoder.decode(try Converter(options: options).convert(avif).bytes).image == source)
    }

    /// Per-tile alpha with the tiles in another order than their items: both put right.
    @Test func alphaOnEachTileInDimgOrder() throws {
        let source = Self.picture(width: 128, height: 128, alpha: true)
        let tiles = try Self.tileFiles(source, rows: 2, columns: 2)
        let avif = try Self.assembleGrid(tiles: tiles, rows: 2, columns: 2, width: 128, height: 128, order: [2, 0, 3, 1])
        let expected = Self.rearranged(source, rows: 2, columns: 2, order: [2, 0, 3, 1])
        #expect(try ImageDecoder.decode(avif, options: Self.asStored).image == expected)
    }

    /// Alpha on some tiles only is refused, not dropped.
    @Test func alphaOnSomeTilesIsRefused() throws {
        let source = Self.picture(width: 128, height: 128, alpha: true)
        let avif = try Self.assembleGrid(tiles: try Self.tileFiles(source, rows: 2, columns: 2), rows: 2, columns: 2,
                                         width: 128, height: 128, alphaOn: [0, 3])
        let message = "alpha is attached to 2 of the grid's 4 tiles (items [6, 7]), not to the grid: the transparency of the others is unknown"
        #expect(throws: DarkroomError.decoding(.codec(.avif, message: message))) { try ImageDecoder.decode(avif) }
    }

    /// Byte-mutated and cut copies of a reordered grid with alpha on each tile: a typed error or a
    /// picture, never a trap (the box walk, the repair and the alpha tiles' one-item files).
    @Test func mutatedGridsNeverTrap() throws {
        let source = Self.picture(width: 128, height: 128, alpha: true)
        let avif = try Self.assembleGrid(tiles: try Self.tileFiles(source, rows: 2, columns: 2), rows: 2, columns: 2,
                                         width: 128, height: 128, order: [3, 1, 2, 0])
        let mdat = try #require(TestPixels.boxOffset("mdat", in: avif))
        var generator = SystemRandomNumberGenerator()
        var decoded = 0, refused = 0
        for round in 0..<1500 {
            var bytes = avif
            if round % 10 == 9 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<mdat, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            _ = try? AVIFGridRepair.analyse(bytes)
            do {
                _ = try ImageDecoder.decode(bytes, options: DecodeOptions(maxPixels: 1_000_000, convertToSRGB: false))
                decoded += 1
            } catch {
                refused += 1
            }
        }
        #expect(decoded + refused == 1500)
        #expect(decoded > 100 && refused > 100, "decoded \(decoded), refused \(refused)")
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func corpusAlphaOnEachTile() throws {
        let bytes = try #require(Corpus.read("conform/avif/libavif/color_grid_alpha_nogrid.avif"))
        let decoded = try ImageDecoder.decode(bytes, options: Self.asStored)
        #expect(decoded.image.format == .rgba8)
        let alpha = stride(from: 3, to: decoded.image.pixels.count, by: 4).map { decoded.image.pixels[$0] }
        #expect(alpha.contains(0) && alpha.contains(255), "transparent corners and an opaque body")
        // Two 80x64 tiles, the second cropped to 16 rows: each cell carries its own tile's alpha,
        // as avifdec decodes that alpha item alone.
        let items = try #require(AVIFItems(bytes))
        for (cell, alphaItem) in [UInt32(5), 6].enumerated() {
            let file = try #require(AVIFGridRepair.oneItemFile(alphaItem, items: items, bytes: bytes))
            let tile = try AVIFTools.decode(file).converted(to: .gray8)
            #expect((tile.width, tile.height) == (80, 64))
            let height = cell == 0 ? 64 : 16
            let rows = TestPixels.crop(decoded.image, x: 0, y: cell * 64, width: 80, height: height)
            for i in 0..<(80 * height) where rows.pixels[i * 4 + 3] != tile.pixels[i] {
                Issue.record("cell \(cell) pixel \(i): alpha \(rows.pixels[i * 4 + 3]), tile \(tile.pixels[i])"); break
            }
        }
    }
}
