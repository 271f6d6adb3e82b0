import CLibAVIF

/// What libavif 0.11.1 gets wrong about a grid image (a primary item of type `grid`, HEIF
/// §6.6.2.3), found from the boxes (``AVIFItems``), and how Darkroom puts it right on libavif's
/// decoded YUV planes before the RGB conversion — so the picture is the one avifdec 1.x,
/// browsers and Pillow show:
///
/// - **Tile order.** HEIF places the tiles "in row-major order … in the order of the `dimg`
///   references"; libavif 0.11.1 places them in the order of its item list (the order the `meta`
///   box first names each item, usually the item IDs), fixed in libavif 1.1 (PR #2312). When the
///   two differ, each cell's tile is moved to where its `dimg` position puts it (the colour
///   planes; an alpha grid's plane by its own `dimg` order). Tiles are all one size, so a move
///   is a copy between cells of equal size; a grid whose cropped right or bottom cells would
///   receive a tile larger than themselves cannot be put right and is refused.
/// - **Alpha on each tile.** An alpha auxiliary item (`auxl` with the alpha `auxC`) attached to
///   each tile instead of to the grid: libavif 0.11.1 decodes the colour grid without any alpha
///   (libavif ≥ 1.1 builds an alpha grid from them). Darkroom decodes each alpha tile on its own
///   (a one-item AVIF made from its data and properties) and lays the tiles out as the colour
///   tiles are laid out. Alpha on some tiles only, alpha tiles of another size or depth, or some
///   tiles premultiplied and others not, are refused rather than dropped.
///
/// Anything else about a grid (tile counts, sizes, repeated tiles) is left to libavif, which
/// refuses what it cannot decode.
struct AVIFGridRepair {
    /// A grid's cells: `rows × columns` tiles of `tileWidth × tileHeight`, cropped to `width × height`.
    struct Layout: Equatable {
        var rows: Int, columns: Int, width: Int, height: Int, tileWidth: Int, tileHeight: Int

        /// The visible rectangle of cell `index` (row-major), in pixels.
        func cell(_ index: Int) -> (x: Int, y: Int, width: Int, height: Int) {
            let x = (index % columns) * tileWidth, y = (index / columns) * tileHeight
            return (x, y, min(tileWidth, width - x), min(tileHeight, height - y))
        }
    }

    /// The colour grid's layout.
    var layout: Layout
    /// Per cell (row-major), the cell of libavif's decode that holds the tile the `dimg` order
    /// puts there; nil when libavif's order is the `dimg` order.
    var colourCells: [Int]?
    /// The alpha grid's layout and cells, when it has an alpha grid laid out in the wrong order.
    var alpha: (layout: Layout, cells: [Int])?
    /// Per-tile alpha: per cell, a one-item AVIF holding that tile's alpha image.
    var tileAlpha: [[UInt8]]?
    /// The per-tile alpha is premultiplied (`prem` from every tile to its alpha).
    var tileAlphaPremultiplied = false

    private static func refusal(_ message: String) -> DarkroomError {
        .decoding(.codec(.avif, message: message))
    }

    /// What `bytes` needs repaired: nil for a file whose primary item is not a grid, or a grid
    /// libavif 0.11.1 decodes as its boxes say. Throws ``DarkroomError/decoding(_:)`` for a grid
    /// whose tiles or alpha cannot be put right (the message says what and why).
    static func analyse(_ bytes: [UInt8]) throws(DarkroomError) -> AVIFGridRepair? {
        guard let items = AVIFItems(bytes), let primary = items.primary, items.types[primary] == "grid" else { return nil }
        let tiles = items.references.filter { $0.type == "dimg" && $0.from == primary }.flatMap(\.to)
        guard let layout = layout(of: primary, tiles: tiles, items: items, bytes: bytes) else { return nil }
        var repair = AVIFGridRepair(layout: layout)
        repair.colourCells = try cells(of: primary, tiles: tiles, layout: layout, items: items, what: "colour")

        let gridAlpha = items.items(referencing: primary, by: "auxl").filter { items.isAlpha($0, in: bytes) }
        if let alpha = gridAlpha.first {
            // An alpha grid is laid out by libavif as the colour grid is: by item order.
            if items.types[alpha] == "grid" {
                let alphaTiles = items.references.filter { $0.type == "dimg" && $0.from == alpha }.flatMap(\.to)
                if let alphaLayout = Self.layout(of: alpha, tiles: alphaTiles, items: items, bytes: bytes),
                   let cells = try cells(of: alpha, tiles: alphaTiles, layout: alphaLayout, items: items, what: "alpha") {
                    repair.alpha = (alphaLayout, cells)
                }
            }
        } else {
            try repair.findTileAlpha(tiles: tiles, items: items, bytes: bytes)
        }
        return repair.colourCells == nil && repair.alpha == nil && repair.tileAlpha == nil ? nil : repair
    }

    /// The grid item's layout: its `ImageGrid` descriptor (version 0; 16- or 32-bit output size)
    /// and its tiles' `ispe` (one size for all). nil when the descriptor cannot be read, the tiles
    /// differ in size or their count is not rows × columns (libavif refuses such a grid itself).
    static func layout(of grid: UInt32, tiles: [UInt32], items: AVIFItems, bytes: [UInt8]) -> Layout? {
        guard let data = items.data(of: grid, in: bytes, limit: 64), let first = tiles.first,
              let tile = items.spatialExtents(of: first, in: bytes),
              tiles.allSatisfy({ items.spatialExtents(of: $0, in: bytes).map { $0 == tile } ?? false }) else { return nil }
        var r = ByteReader(data)
        guard let version = r.u8(), version == 0, let flags = r.u8(), let rows = r.u8(), let columns = r.u8(),
              let width = r.uint(flags & 1 != 0 ? 4 : 2), let height = r.uint(flags & 1 != 0 ? 4 : 2) else { return nil }
        let layout = Layout(rows: Int(rows) + 1, columns: Int(columns) + 1, width: Int(width), height: Int(height),
                            tileWidth: tile.width, tileHeight: tile.height)
        // The tiles must cover the output, the last row and column in part at most (libavif's rule).
        guard tiles.count == layout.rows * layout.columns, layout.width > 0, layout.height > 0,
              layout.tileWidth > 0, layout.tileHeight > 0,
              layout.tileWidth * layout.columns >= layout.width, layout.tileWidth * (layout.columns - 1) < layout.width,
              layout.tileHeight * layout.rows >= layout.height, layout.tileHeight * (layout.rows - 1) < layout.height
        else { return nil }
        return layout
    }

    /// Per cell, the cell where libavif 0.11.1 puts that cell's tile, or nil when that is the cell
    /// itself everywhere. libavif lays out the items whose (last) `dimg` reference is from `grid`
    /// in its item order. Throws when a tile would move between cells of different visible sizes.
    private static func cells(of grid: UInt32, tiles: [UInt32], layout: Layout, items: AVIFItems,
                              what: String) throws(DarkroomError) -> [Int]? {
        var dimgFor: [UInt32: UInt32] = [:]
        for reference in items.references where reference.type == "dimg" {
            for tile in reference.to { dimgFor[tile] = reference.from }
        }
        let libavifOrder = items.mentionOrder.filter { dimgFor[$0] == grid }
        // A repeated or missing tile: libavif refuses the grid or decodes what it finds; not ours to judge.
        guard Set(tiles).count == tiles.count, libavifOrder.count == tiles.count, Set(libavifOrder) == Set(tiles),
              libavifOrder != tiles else { return nil }
        var position: [UInt32: Int] = [:]
        for (index, id) in libavifOrder.enumerated() { position[id] = index }
        let cells = tiles.map { position[$0]! }
        for (cell, from) in cells.enumerated() where cell != from {
            let a = layout.cell(from), b = layout.cell(cell)
            guard a.width == b.width && a.height == b.height else {
                throw refusal("the \(what) grid's tiles are in another order than their items (dimg \(tiles), libavif 0.11.1 lays them "
                              + "out as \(libavifOrder)), and tile \(tiles[cell]) would move from a \(a.width)x\(a.height) cell "
                              + "to a \(b.width)x\(b.height) one: it cannot be put right")
            }
        }
        return cells
    }

    /// Finds alpha auxiliary items attached to each tile (none to the grid): all tiles or none.
    private mutating func findTileAlpha(tiles: [UInt32], items: AVIFItems, bytes: [UInt8]) throws(DarkroomError) {
        let perTile = tiles.map { tile in items.items(referencing: tile, by: "auxl").first { items.isAlpha($0, in: bytes) } }
        let found = perTile.compactMap { $0 }
        guard !found.isEmpty else { return }
        guard found.count == tiles.count else {
            throw Self.refusal("alpha is attached to \(found.count) of the grid's \(tiles.count) tiles (items \(found)), "
                               + "not to the grid: the transparency of the others is unknown")
        }
        let premultiplied = tiles.map { tile in
            items.references.contains { $0.type == "prem" && $0.from == tile }
        }
        guard premultiplied.allSatisfy({ $0 == premultiplied[0] }) else {
            throw Self.refusal("the alpha attached to the grid's tiles is premultiplied on some tiles and not on others")
        }
        var files: [[UInt8]] = []
        for id in found {
            guard let file = Self.oneItemFile(id, items: items, bytes: bytes) else {
                throw Self.refusal("the alpha item \(id) of a grid tile cannot be read (its data or properties are out of the file)")
            }
            files.append(file)
        }
        tileAlpha = files
        tileAlphaPremultiplied = premultiplied[0]
    }

    /// A one-item AVIF of item `id` (an `av01` image): its data in `mdat`, its properties but
    /// `auxC`, which libavif decodes as a still image. nil when its data or properties cannot be read.
    static func oneItemFile(_ id: UInt32, items: AVIFItems, bytes: [UInt8]) -> [UInt8]? {
        guard let data = items.data(of: id, in: bytes, limit: bytes.count), data.count <= Int(UInt32.max) - 4096 else { return nil }
        let properties = items.properties(of: id).filter { $0.type != "auxC" }
        guard properties.count <= 127 else { return nil }
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { u32(UInt32(8 + body.count)) + Array(type.utf8) + body }
        func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let ftyp = box("ftyp", Array("avif".utf8) + [0, 0, 0, 0] + Array("avifmif1miaf".utf8))
        let hdlr = box("hdlr", [0, 0, 0, 0, 0, 0, 0, 0] + Array("pict".utf8) + [UInt8](repeating: 0, count: 13))
        let pitm = box("pitm", [0, 0, 0, 0, 0, 1])
        let iinf = box("iinf", [0, 0, 0, 0, 0, 1] + box("infe", [2, 0, 0, 0, 0, 1, 0, 0] + Array("av01".utf8) + [0]))
        let ipco = box("ipco", properties.flatMap { Array(bytes[$0.box]) })
        let ipma = box("ipma", [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, UInt8(properties.count)]
                       + properties.enumerated().map { UInt8($0.offset + 1) | ($0.element.essential ? 0x80 : 0) })
        let iprp = box("iprp", ipco + ipma)
        // iloc version 0: 4-byte offsets and lengths, no base offset; one item, one extent.
        func iloc(_ offset: UInt32) -> [UInt8] {
            box("iloc", [0, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1] + u32(offset) + u32(UInt32(data.count)))
        }
        let metaSize = 12 + hdlr.count + pitm.count + iloc(0).count + iinf.count + iprp.count
        let meta = box("meta", [0, 0, 0, 0] + hdlr + pitm + iloc(UInt32(ftyp.count + metaSize + 8)) + iinf + iprp)
        return ftyp + meta + u32(UInt32(8 + data.count)) + Array("mdat".utf8) + data
    }

    // MARK: Applying

    /// Puts libavif's decoded grid `image` right: its YUV planes' cells moved to their `dimg`
    /// places, its alpha plane's likewise, or an alpha plane made from the tiles' alpha. Throws
    /// ``DarkroomError/decoding(_:)`` when an alpha tile cannot be decoded or does not fit.
    func apply(to image: UnsafeMutablePointer<avifImage>) throws(DarkroomError) {
        let i = image.pointee
        guard Int(i.width) == layout.width, Int(i.height) == layout.height else {
            throw Self.refusal("the decoded grid is \(i.width)x\(i.height), its descriptor says \(layout.width)x\(layout.height)")
        }
        let sampleBytes = i.depth > 8 ? 2 : 1
        if let colourCells {
            var info = avifPixelFormatInfo()
            avifGetPixelFormatInfo(i.yuvFormat, &info)
            let planes = info.monochrome != 0 ? 1 : 3
            if planes == 3, (info.chromaShiftX != 0 && layout.tileWidth % 2 != 0) || (info.chromaShiftY != 0 && layout.tileHeight % 2 != 0) {
                throw Self.refusal("the grid's tiles are in another order than their items and \(layout.tileWidth)x\(layout.tileHeight) "
                                   + "tiles share chroma samples with their neighbours: they cannot be moved")
            }
            let (p0, p1, p2) = i.yuvPlanes, (r0, r1, r2) = i.yuvRowBytes
            for (plane, (pointer, rowBytes)) in [(p0, r0), (p1, r1), (p2, r2)].prefix(planes).enumerated() {
                guard let pointer else { continue }
                let shift = plane == 0 ? (0, 0) : (Int(info.chromaShiftX), Int(info.chromaShiftY))
                Self.move(cells: colourCells, layout: layout, plane: pointer, rowBytes: Int(rowBytes), sampleBytes: sampleBytes, shift: shift)
            }
        }
        if let alpha, let plane = i.alphaPlane, alpha.layout.width == layout.width, alpha.layout.height == layout.height {
            Self.move(cells: alpha.cells, layout: alpha.layout, plane: plane, rowBytes: Int(i.alphaRowBytes), sampleBytes: sampleBytes, shift: (0, 0))
        }
        if let tileAlpha { try attach(tileAlpha, to: image) }
    }

    /// Copies each cell's samples from the cell `cells[index]` held in libavif's decode.
    private static func move(cells: [Int], layout: Layout, plane: UnsafeMutablePointer<UInt8>, rowBytes: Int, sampleBytes: Int,
                             shift: (x: Int, y: Int)) {
        let planeHeight = (layout.height + shift.y) >> shift.y
        let original = Array(UnsafeBufferPointer(start: plane, count: rowBytes * planeHeight))
        for (cell, from) in cells.enumerated() where cell != from {
            let to = layout.cell(cell), source = layout.cell(from)
            let width = (to.width + shift.x) >> shift.x, height = (to.height + shift.y) >> shift.y
            let (tx, ty, sx, sy) = (to.x >> shift.x, to.y >> shift.y, source.x >> shift.x, source.y >> shift.y)
            original.withUnsafeBufferPointer { o in
                for row in 0..<height {
                    (plane + (ty + row) * rowBytes + tx * sampleBytes)
                        .update(from: o.baseAddress! + (sy + row) * rowBytes + sx * sampleBytes, count: width * sampleBytes)
                }
            }
        }
    }

    /// Decodes each tile's alpha file and writes it into a new alpha plane of `image`, cell by cell.
    private func attach(_ files: [[UInt8]], to image: UnsafeMutablePointer<avifImage>) throws(DarkroomError) {
        guard image.pointee.alphaPlane == nil else { return }
        let depth = Int(image.pointee.depth)
        guard avifImageAllocatePlanes(image, AVIF_PLANES_A.rawValue) == AVIF_RESULT_OK, let alpha = image.pointee.alphaPlane else {
            throw Self.refusal("out of memory")
        }
        image.pointee.alphaPremultiplied = tileAlphaPremultiplied ? 1 : 0
        let rowBytes = Int(image.pointee.alphaRowBytes)
        for (cell, file) in files.enumerated() {
            let tile = try Self.decodeAlpha(file, cell: cell)
            guard tile.width == layout.tileWidth, tile.height == layout.tileHeight, tile.depth == depth else {
                throw Self.refusal("the alpha of grid cell \(cell + 1) is \(tile.width)x\(tile.height) at \(tile.depth) bits; "
                                   + "the colour tiles are \(layout.tileWidth)x\(layout.tileHeight) at \(depth) bits")
            }
            let to = layout.cell(cell)
            let sampleBytes = depth > 8 ? 2 : 1
            tile.samples.withUnsafeBufferPointer { s in
                for row in 0..<to.height {
                    (alpha + (to.y + row) * rowBytes + to.x * sampleBytes)
                        .update(from: s.baseAddress! + row * tile.width * sampleBytes, count: to.width * sampleBytes)
                }
            }
        }
    }

    /// One alpha tile decoded by libavif: its luma samples (1 or 2 bytes each, rows packed), made
    /// full-range when the tile is coded limited-range.
    private static func decodeAlpha(_ file: [UInt8], cell: Int) throws(DarkroomError) -> (samples: [UInt8], width: Int, height: Int, depth: Int) {
        guard let decoder = avifDecoderCreate() else { throw refusal("out of memory") }
        defer { avifDecoderDestroy(decoder) }
        decoder.pointee.maxThreads = 1
        decoder.pointee.strictFlags = AVIF_STRICT_DISABLED.rawValue
        let result: (avifResult, [UInt8], Int, Int, Int) = file.withUnsafeBufferPointer { buffer in
            var r = avifDecoderSetIOMemory(decoder, buffer.baseAddress, buffer.count)
            if r == AVIF_RESULT_OK { r = avifDecoderParse(decoder) }
            if r == AVIF_RESULT_OK { r = avifDecoderNextImage(decoder) }
            guard r == AVIF_RESULT_OK, let image = decoder.pointee.image, let plane = image.pointee.yuvPlanes.0 else { return (r, [], 0, 0, 0) }
            let width = Int(image.pointee.width), height = Int(image.pointee.height), depth = Int(image.pointee.depth)
            let sampleBytes = depth > 8 ? 2 : 1, rowBytes = Int(image.pointee.yuvRowBytes.0)
            var samples = [UInt8](repeating: 0, count: width * height * sampleBytes)
            for row in 0..<height {
                for k in 0..<width * sampleBytes { samples[row * width * sampleBytes + k] = plane[row * rowBytes + k] }
            }
            if image.pointee.yuvRange == AVIF_RANGE_LIMITED { limitedToFull(&samples, depth: depth) }
            return (r, samples, width, height, depth)
        }
        guard result.0 == AVIF_RESULT_OK else {
            throw refusal("the alpha of grid cell \(cell + 1) cannot be decoded: \(String(cString: avifResultToString(result.0)))")
        }
        return (result.1, result.2, result.3, result.4)
    }

    /// Limited-range luma (16…235 at 8 bits, scaled for deeper ones) to full range, rounded and clamped.
    private static func limitedToFull(_ samples: inout [UInt8], depth: Int) {
        let low = 16 << (depth - 8), span = 219 << (depth - 8), top = (1 << depth) - 1
        func full(_ v: Int) -> Int { min(top, max(0, ((v - low) * top + span / 2) / span)) }
        if depth > 8 {
            samples.withUnsafeMutableBytes { raw in
                let s = raw.bindMemory(to: UInt16.self)
                for i in s.indices { s[i] = UInt16(full(Int(s[i]))) }
            }
        } else {
            for i in samples.indices { samples[i] = UInt8(full(Int(samples[i]))) }
        }
    }
}
