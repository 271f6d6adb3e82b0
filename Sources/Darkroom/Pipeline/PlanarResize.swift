#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The planar stage of a JPEG → JPEG conversion (``ConversionPlan/Route/planes``): libjpeg-turbo's
/// stored Y, Cb and Cr planes (or the one gray plane) are resized each on its own, at its own
/// resolution, and handed to the encoder as planes — no colour conversion and no chroma
/// upsampling on the way in, no colour conversion and no chroma downsampling on the way out, and
/// about a third of the RGB route's resampling (for 4:2:0: one full plane and two quarter planes
/// instead of three full channels).
///
/// **Streaming.** Nothing of full size exists. The encoder takes one iMCU row group at a time
/// (16 luma and 8 chroma rows for 4:2:0), so the output is made in *stripes* of exactly those
/// rows: for each stripe, each plane's output rows are resampled (``Resampler/bandU8``, the
/// single-channel SIMD path) straight into the encoder's group buffer, then the group is encoded.
/// The source rows a stripe needs are decoded on demand, one input iMCU row group at a time, into
/// a ring per plane; the ring sizes are computed up front from the coefficient tables, so a ring
/// never drops a row a later stripe still reads (each stripe re-reads the few rows its filter
/// window shares with the previous one). With two or more threads (``ResizeOptions/threads``)
/// the groups are decoded on a producer thread ahead of the stripes, as on the rows route.
///
/// **Chroma siting.** JFIF chroma is centred: a 4:2:0 chroma sample covers a 2×2 block of luma
/// samples, so a chroma plane of ⌈W/2⌉ samples spans the same picture as the luma plane of W.
/// Resampling a plane as an image of its own (its extent mapped onto the output plane's extent,
/// pixel centres at `(i + ½)·scale`, as every plane of this library is resampled) therefore keeps
/// chroma centred whenever input and output planes cover the same picture: exactly for even
/// sizes, and within half an input chroma sample at an odd edge. It also holds when the sampling
/// differs (a 4:4:4 or DCT-scaled input whose chroma is full resolution, resized to 4:2:0).
///
/// **Damage.** As on the rows route: a decoder error fills the rest with grey and is thrown after
/// the last stripe; libjpeg's warnings (a truncated file) are judged by ``DecodeOptions/failOn``
/// when the caller finishes the source (``ImageSource/finishRows()``), and every input group is
/// decoded, so a truncation at the end is seen.
struct PlanarResize {
    /// Encoder row groups made per stripe (64 luma rows for 4:2:0): fewer stripes re-read fewer
    /// rows shared by two stripes' filter windows and set the resampler's band up fewer times.
    static let groupsPerStripe = 4

    let plan: ConversionPlan
    let options: ConvertOptions
    /// The metadata blocks the output carries (``OutputMetadata``, decided from the source's
    /// header: for a JPEG, everything the output embeds).
    let embedding: OutputMetadata

    /// Runs the stage on `source` (opened, nothing decoded) and returns the encoded JPEG, which is
    /// the output. Throws the decoder's error or the encoder's, or ``DarkroomError/timeLimit(_:)``
    /// when ``ConvertOptions/deadline`` stopped the decoder, the stripes (checked before each,
    /// and every 16 rows inside) or the encoder.
    func run(_ source: ImageSource) throws(DarkroomError) -> [UInt8] {
        let (decoder, input) = try source.startPlanes(scale: plan.decodeScale)
        let encoder = try makeEncoder(planes: input.planes.count, encode: options.encode)
        try resize(decoder, input: input, output: encoder.planeLayout!) { encoder.writePlanes($0) }
        if let failure = encoder.failure { throw failure }
        return try encoder.finish()
    }

    /// Runs the stage on `source` keeping the resized planes whole instead of encoding them, for a
    /// conversion that encodes them at several qualities (``ConvertOptions/targetSize``): the
    /// same planes each time, so a quality found is the file `-q` with that quality writes.
    /// Holds the output's planes (1.5 bytes a pixel for 4:2:0), not the input's.
    func record(_ source: ImageSource) throws(DarkroomError) -> ResizedPlanes {
        let (decoder, input) = try source.startPlanes(scale: plan.decodeScale)
        // An encoder only for the layout its planes take (quality does not change it).
        let layout = try makeEncoder(planes: input.planes.count, encode: options.encode).planeLayout!
        let recorded = ResizedPlanes(layout: layout, width: plan.storedTarget.width, height: plan.storedTarget.height)
        var group = 0
        try resize(decoder, input: input, output: layout) { rows in
            recorded.store(group: group, rows)
            group += 1
        }
        return recorded
    }

    /// An encoder taking `planes` planes of the planned size under `encode`, with the output's metadata.
    func makeEncoder(planes: Int, encode: EncodeOptions) throws(DarkroomError) -> JPEGRowEncoder {
        let encoder = try JPEGRowEncoder(width: plan.storedTarget.width, height: plan.storedTarget.height,
                                         planes: planes, settings: JPEGSettings(encode),
                                         icc: embedding.icc, exif: embedding.exif, xmp: embedding.xmp, iptc: embedding.iptc,
                                         deadline: options.deadline)
        guard let layout = encoder.planeLayout, layout.planes.count == planes else {
            preconditionFailure("the encoder takes the decoder's planes")
        }
        return encoder
    }

    /// Resizes the decoder's planes stripe by stripe, handing each output row group to `write`
    /// (each plane's ``JPEGPlaneLayout/Plane/groupRows`` row pointers, as the encoder takes them).
    private func resize(_ decoder: JPEGRowDecoder, input: JPEGPlaneLayout, output: JPEGPlaneLayout,
                        write: (UnsafePointer<UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?>) -> Void) throws(DarkroomError) {
        // Luma samples of the decoded image per output luma sample, across and down.
        let decoded = plan.decodedSize, target = plan.storedTarget
        let scale = (x: Double(decoded.width) / Double(target.width), y: Double(decoded.height) / Double(target.height))
        let groups = Self.groupsPerStripe
        var planes: [PlaneResize] = []
        for c in 0..<input.planes.count {
            // Cb and Cr share their sizes and scale: the second reuses the first's tables.
            let twin = planes.first { $0.input == input.planes[c] && $0.output == output.planes[c] }
            planes.append(PlaneResize(input: input.planes[c], output: output.planes[c], groups: groups, imageScale: scale,
                                      filter: options.resampling.filter, twin: twin, deadline: options.deadline))
        }
        let stripes = (output.groups + groups - 1) / groups
        let background = options.resampling.threads > 1
        let decode = PlaneDecode(decoder, layout: input, planes: planes, stripes: stripes, background: background)
        defer { decode.deallocate() }
        PipelineEvents.count("planar-route")
        var finished = true
        for stripe in 0..<stripes {
            if options.deadline.hasPassed {
                finished = false
                break
            }
            decode.release(planes.map { $0.inputRows(stripe)?.lowerBound ?? Int.max })
            for (c, plane) in planes.enumerated() {
                plane.make(stripe: stripe, from: PlaneRows(decode: decode, plane: c))
            }
            for group in 0..<min(groups, output.groups - stripe * groups) {
                planes.withRowPointers(group: group, write)
            }
        }
        if finished {
            decode.finish()
        } else {
            decode.stopAtDeadline()
        }
        // The decoder's error first (the deadline may have stopped it), then the stripes'; the
        // caller then checks its encoder's.
        if let failure = decode.failure { throw failure }
        if !finished { throw .timeLimit(TimeLimitError(stage: .resizing)) }
    }
}

/// The output planes of a ``PlanarResize`` kept whole (``PlanarResize/record(_:)``): every row
/// group of every plane, padding included, as the encoder takes them; encoded as often as asked.
final class ResizedPlanes {
    let layout: JPEGPlaneLayout
    let width: Int, height: Int
    /// Plane `c`: `layout.groups × groupRows` rows of `stride` bytes.
    private let buffers: [UnsafeMutablePointer<UInt8>]

    init(layout: JPEGPlaneLayout, width: Int, height: Int) {
        (self.layout, self.width, self.height) = (layout, width, height)
        buffers = layout.planes.map { plane in
            let count = layout.groups * plane.groupRows * plane.stride
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, count))
            buffer.initialize(repeating: 0, count: max(1, count))
            return buffer
        }
    }

    deinit { for buffer in buffers { buffer.deallocate() } }

    /// Copies group `group`'s rows (the encoder's argument of ``PlanarResize``) into place.
    func store(group: Int, _ rows: UnsafePointer<UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?>) {
        guard group < layout.groups else { return }
        for (c, plane) in layout.planes.enumerated() {
            guard let pointers = rows[c] else { continue }
            for r in 0..<plane.groupRows {
                guard let row = pointers[r] else { continue }
                (buffers[c] + (group * plane.groupRows + r) * plane.stride).update(from: row, count: plane.stride)
            }
        }
    }

    /// The planes encoded by `encoder` (made for this layout: ``PlanarResize/makeEncoder(planes:encode:)``).
    func encode(with encoder: JPEGRowEncoder) throws(DarkroomError) -> [UInt8] {
        precondition(encoder.planeLayout == layout, "an encoder for these planes")
        let pointerRows = layout.planes.map { UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: $0.groupRows) }
        defer { for rows in pointerRows { rows.deallocate() } }
        var planes: [UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?] = pointerRows.map { Optional($0) }
        while planes.count < 3 { planes.append(nil) }
        for group in 0..<layout.groups {
            for (c, plane) in layout.planes.enumerated() {
                for r in 0..<plane.groupRows { pointerRows[c][r] = buffers[c] + (group * plane.groupRows + r) * plane.stride }
            }
            planes.withUnsafeBufferPointer { encoder.writePlanes($0.baseAddress!) }
        }
        return try encoder.finish()
    }
}

/// One plane's resize: from an input plane (decoded rows) to the encoder's group buffer, one
/// stripe (a few output iMCU row groups) at a time.
private final class PlaneResize {
    let input: JPEGPlaneLayout.Plane
    let output: JPEGPlaneLayout.Plane
    /// nil when the sizes are equal: the rows are copied.
    private let resampler: Resampler?
    private let tables: (v: FixedPointTable, pairs: PairTable?, h: HorizontalU8Plan)?
    /// Rows per stripe: `groups` encoder row groups.
    let stripeRows: Int
    /// The stripe's rows for the encoder: `stripeRows` rows of `output.stride` bytes.
    private let group: UnsafeMutablePointer<UInt8>
    let rowPointers: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>

    /// `imageScale`: decoded image samples per output image sample; the plane's own scale follows
    /// from the two planes' sampling (see ``PlanarResize``: chroma siting).
    /// `twin`: a plane of the same sizes and sampling whose resampler and tables this one reuses.
    /// `deadline`: the resampler stops there (a stripe's rows left unmade; the stage throws).
    init(input: JPEGPlaneLayout.Plane, output: JPEGPlaneLayout.Plane, groups: Int, imageScale: (x: Double, y: Double),
         filter: ResampleFilter, twin: PlaneResize? = nil, deadline: Deadline? = nil) {
        self.input = input
        self.output = output
        stripeRows = groups * output.groupRows
        let scale = (x: imageScale.x * output.xFactor / input.xFactor, y: imageScale.y * output.yFactor / input.yFactor)
        if input.width == output.width && input.height == output.height && scale == (1, 1) {
            resampler = nil
            tables = nil
        } else if let twin {
            resampler = twin.resampler
            tables = twin.tables
        } else {
            var r = Resampler(srcWidth: input.width, srcHeight: input.height, dstWidth: output.width,
                              dstHeight: output.height, format: .gray8, alpha: .ignore, kernel: .selected, scale: scale)
            r.deadline = deadline
            resampler = r
            let (v, pairs, h) = r.tablesU8(filter: filter)
            tables = (v, pairs, h)
        }
        group = .allocate(capacity: stripeRows * output.stride)
        group.initialize(repeating: 0, count: stripeRows * output.stride)
        rowPointers = .allocate(capacity: stripeRows)
        for i in 0..<stripeRows { rowPointers[i] = group + i * output.stride }
    }

    deinit {
        group.deallocate()
        rowPointers.deallocate()
    }

    /// The output rows of `stripe`.
    func outputRows(_ stripe: Int) -> Range<Int> {
        let first = min(stripe * stripeRows, output.height)
        return first..<min(first + stripeRows, output.height)
    }

    /// The input rows that `stripe`'s output rows read (empty when it has none): the vertical
    /// filter window, in whole row pairs as the SIMD kernels read them.
    func inputRows(_ stripe: Int) -> ClosedRange<Int>? {
        let rows = outputRows(stripe)
        guard let last = rows.last else { return nil }
        guard let tables else { return rows.first!...last }
        if let pairs = tables.pairs {
            let end = rows.map { pairs.firstPair[$0] + pairs.pairCounts[$0] }.max()!
            return 2 * pairs.firstPair[rows.first!]...min(input.height - 1, 2 * end - 1)
        }
        let end = rows.map { tables.v.starts[$0] + tables.v.counts[$0] }.max()!
        return tables.v.starts[rows.first!]...min(input.height - 1, end - 1)
    }

    /// Makes `stripe`'s rows into the group buffer, the padding filled as the encoder's own
    /// edge expansion fills it (the last sample and the last row repeated).
    func make(stripe: Int, from source: PlaneRows) {
        let rows = outputRows(stripe)
        guard !rows.isEmpty else { return }
        if let resampler, let tables {
            resampler.bandU8(rows, source: source, dst: group, dstRingRows: stripeRows, dstStride: output.stride,
                             v: tables.v, pairs: tables.pairs, h: tables.h)
        } else {
            for y in rows {
                (group + (y - rows.lowerBound) * output.stride).update(from: source.row(y), count: output.width)
            }
        }
        let made = rows.count
        if output.stride > output.width {
            for i in 0..<made {
                let row = group + i * output.stride
                (row + output.width).update(repeating: row[output.width - 1], count: output.stride - output.width)
            }
        }
        for i in made..<stripeRows {
            (group + i * output.stride).update(from: group + (made - 1) * output.stride, count: output.stride)
        }
    }
}

extension Array where Element == PlaneResize {
    /// The encoder's argument: each plane's row pointers of group `group` of the stripe.
    fileprivate func withRowPointers(group: Int, _ body: (UnsafePointer<UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?>) -> Void) {
        var pointers: [UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?] = map { $0.rowPointers + group * $0.output.groupRows }
        while pointers.count < 3 { pointers.append(nil) }
        pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// The decoder's planes, decoded one input iMCU row group at a time into a ring per plane (row
/// `r` in slot `r % capacity`): as the planes' stripes ask for rows (one thread), or ahead of them
/// on a producer thread of its own (`background`, two or more threads, as ``RowStream`` does for
/// the rows route), which waits while the next group would overwrite a row a stripe still reads.
private final class PlaneDecode: @unchecked Sendable {
    private let decoder: JPEGRowDecoder
    private let layout: JPEGPlaneLayout
    private let capacity: [Int]
    private let rings: [UnsafeMutablePointer<UInt8>]
    /// Row pointers of the group being decoded, per plane.
    private let groupRows: [UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>]
    /// Input groups decoded so far (the decoding thread's).
    private var decoded = 0
    /// The decoder's first error; the groups after it are filled, not decoded.
    private var failureError: DarkroomError?

    // Background mode: shared between the producer and the stripes, under `state`.
    private let state = Condition()
    private var produced = 0
    /// Per plane, the first row the current stripe may read (`Int.max`: none any more).
    private var released: [Int]
    private var producerDone = true
    private var producer: pthread_t?
    /// The stripes' copy of `produced` (rows below it need no lock).
    private var seen = 0

    /// Groups a producer may decode beyond what the stripes need.
    static let ahead = 4

    /// Sizes each plane's ring for the stripes' windows: while stripe `s` is made, plane `c`
    /// reads rows from `inputRows(s).lowerBound` on and the decoder has written rows up to the
    /// end of the last group any plane needed so far; the ring holds that span (and ``ahead``
    /// more groups with a producer), so no row is overwritten while a stripe can still read it.
    init(_ decoder: JPEGRowDecoder, layout: JPEGPlaneLayout, planes: [PlaneResize], stripes: Int, background: Bool) {
        self.decoder = decoder
        self.layout = layout
        var spans = layout.planes.map(\.groupRows)
        var groups = 0
        for stripe in 0..<stripes {
            let windows = planes.map { $0.inputRows(stripe) }
            for (c, window) in windows.enumerated() {
                if let window { groups = max(groups, (window.upperBound + layout.planes[c].groupRows) / layout.planes[c].groupRows) }
            }
            for (c, window) in windows.enumerated() {
                if let window { spans[c] = max(spans[c], groups * layout.planes[c].groupRows - window.lowerBound) }
            }
        }
        if background { spans = zip(spans, layout.planes).map { $0 + Self.ahead * $1.groupRows } }
        capacity = spans
        rings = layout.planes.enumerated().map { c, plane in .allocate(capacity: spans[c] * plane.stride) }
        groupRows = layout.planes.map { .allocate(capacity: $0.groupRows) }
        released = layout.planes.map { _ in 0 }
        guard background else { return }
        producerDone = false
        producer = startJoinableThread { [self] in produce() }
        if producer == nil { producerDone = true }   // no thread to be had: decoded as asked
    }

    /// Stops the producer (if any) and frees the rings.
    func deallocate() {
        stop()
        rings.forEach { $0.deallocate() }
        groupRows.forEach { $0.deallocate() }
    }

    /// The decoder's first error (after ``finish()``).
    var failure: DarkroomError? { state.locked { failureError } }

    /// Row `r` of plane `c`, decoding (or waiting for) the groups up to it.
    func row(_ r: Int, plane c: Int) -> UnsafePointer<UInt8> {
        let plane = layout.planes[c]
        precondition(r >= 0 && r < plane.height, "a row of the plane")
        if producer == nil {
            while decoded * plane.groupRows <= r { decodeGroup() }
        } else if seen * plane.groupRows <= r {
            seen = state.wait(until: { produced * plane.groupRows > r || producerDone }) { produced }
            precondition(seen * plane.groupRows > r, "the producer decodes every group")
        }
        return UnsafePointer(rings[c] + (r % capacity[c]) * plane.stride)
    }

    /// A stripe starts: plane `c` reads no row below `lowest[c]` from now on (the producer may reuse their slots).
    func release(_ lowest: [Int]) {
        guard producer != nil else { return }
        state.locked { released = lowest }
        state.broadcast()
    }

    /// Decodes the groups no stripe read, so warnings at the end (a truncation) are seen.
    func finish() {
        if producer == nil {
            while decoded < layout.groups && failure == nil { decodeGroup() }
        }
        stop()
    }

    /// The stripes stopped at the deadline: the producer, if any, stops at its next group (the
    /// decoder's own deadline fails it) and is joined; the groups left are not decoded.
    func stopAtDeadline() {
        stop()
    }

    /// Lets the producer run to the end and joins it. Idempotent.
    private func stop() {
        guard let thread = producer else { return }
        state.locked { released = released.map { _ in Int.max } }
        state.broadcast()
        state.wait(until: { producerDone }) {}
        producer = nil
        pthread_join(thread, nil)
    }

    /// The producer thread: every group in order, each once its slots are free.
    private func produce() {
        for g in 0..<layout.groups {
            state.wait(until: {
                zip(layout.planes, zip(released, capacity)).allSatisfy { plane, rc in (g + 1) * plane.groupRows - rc.0 <= rc.1 }
            }) {}
            decodeGroup()
            state.locked { produced = g + 1 }
            state.broadcast()
        }
        state.locked { producerDone = true }
        state.broadcast()
    }

    private func decodeGroup() {
        for (c, plane) in layout.planes.enumerated() {
            for i in 0..<plane.groupRows {
                groupRows[c][i] = rings[c] + ((decoded * plane.groupRows + i) % capacity[c]) * plane.stride
            }
        }
        decoded += 1
        if state.locked({ failureError == nil }) {
            var pointers: [UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?] = groupRows
            while pointers.count < 3 { pointers.append(nil) }
            do throws(DarkroomError) {
                try pointers.withUnsafeBufferPointer { (p) throws(DarkroomError) in try decoder.readPlanes(p.baseAddress!) }
                return
            } catch {
                state.locked { failureError = error }
            }
        }
        // After an error: grey, as libjpeg fills what it could not decode.
        for (c, plane) in layout.planes.enumerated() {
            for i in 0..<plane.groupRows { groupRows[c][i]!.update(repeating: 128, count: plane.stride) }
        }
    }
}

/// One plane's rows as the resampler reads them (``RowSource``).
private struct PlaneRows: RowSource {
    let decode: PlaneDecode
    let plane: Int
    @inline(__always) func row(_ r: Int) -> UnsafePointer<UInt8> { decode.row(r, plane: plane) }
    var prefetchBase: UnsafePointer<UInt8>? { nil }
}
