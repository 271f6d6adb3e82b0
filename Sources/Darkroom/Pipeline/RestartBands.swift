import CDarkroom
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decoding a JPEG on two cores at once, where its restart markers allow it: part of the
/// streamed resize stage (``StreamedResize``), chosen by the plan (``ConversionPlan/Rows/restartBands``).
///
/// libjpeg-turbo decodes one scan on one thread: Huffman decoding is sequential. A restart marker
/// resets the decoder's DC predictions, so the entropy-coded data after it can be decoded on its
/// own. Many camera files put one every MCU row (or every few). When such a file is resized with
/// two or more threads, the output rows are split in two bands: the calling thread decodes the
/// top of the file and resamples the first band, a second thread decodes a copy of the file that
/// starts at a restart marker above the second band's first source row
/// (``darkroom_jpeg_restart_tail``) and resamples the second band. Each band streams its rows
/// as the one-band path does, so memory stays flat; bands of a resize are independent, so the
/// output is bit-identical (the second decoder starts at least one MCU row above the rows it
/// hands out, so chroma upsampling sees the same neighbours).
extension StreamedResize {
    /// What ``inRestartBands(_:)`` did.
    enum BandsOutcome {
        /// Every output row was made in two bands.
        case done(Output)
        /// The file does not allow it (no restart marker close enough above the split, an odd
        /// layout, no second thread): no row was read; the one-band route runs with the same decoder.
        case declined
        /// Either decoder warned or failed: the rows are not to be used; the one-band route runs
        /// again from a fresh decoder and reports the damage as it always does.
        case damaged
    }

    /// Resizes `decoder`'s rows (started) in two bands on two threads, the second decoding a copy
    /// of the file that starts at a restart marker (``darkroom_jpeg_restart_tail``).
    func inRestartBands(_ decoder: JPEGRowDecoder) throws(DarkroomError) -> BandsOutcome {
        guard let layout = decoder.restartLayout else { return .declined }
        let target = plan.storedTarget
        let format = route.format
        let scale = decoder.scaleDenominator   // 1, 2, 4 or 8
        guard layout.mcuHeight % scale == 0 else { return .declined }
        var stoppable = Resampler(srcWidth: decoder.width, srcHeight: decoder.height, dstWidth: target.width,
                                  dstHeight: target.height, format: format, alpha: options.resampling.alpha, kernel: .selected)
        stoppable.deadline = options.deadline
        let resampler = stoppable
        let (v, pairs, h) = resampler.tablesU8(filter: options.resampling.filter)
        guard let pairs else { return .declined }
        let split = target.height / 2
        // The second band's first source row, less an MCU row of context for chroma upsampling and
        // a row pair: the second decoder starts at or above it, on an even decoded row (so the
        // resampler's row pairs never straddle two of its chunks).
        let mcuRows = layout.mcuHeight / scale
        let firstNeeded = 2 * pairs.firstPair[split]
        var mcuRow = (firstNeeded - mcuRows - 2) / mcuRows
        while mcuRow > 0 && ((mcuRow * layout.mcusPerRow) % layout.interval != 0 || (mcuRow * mcuRows) % 2 != 0) {
            mcuRow -= 1
        }
        guard mcuRow > 0, mcuRow * mcuRows * 4 >= decoder.height else { return .declined }   // a useful share
        let offset = mcuRow * mcuRows
        var tail: UnsafeMutablePointer<UInt8>?
        var tailSize = 0
        guard darkroom_jpeg_restart_tail(decoder.bytes.baseAddress, decoder.bytes.count, Int32(mcuRow),
                                         Int32(layout.mcusPerRow), Int32(layout.interval), Int32(layout.mcuHeight),
                                         &tail, &tailSize) == 0, let tail else { return .declined }
        defer { free(tail) }
        guard let second = try? JPEGRowDecoder(buffer: UnsafeBufferPointer(start: tail, count: tailSize), countsParse: false)
        else { return .declined }
        second.deadline = options.deadline
        guard !second.isCMYK, second.components == decoder.components,
              (try? second.start(scaleDenominator: scale, maxPixels: options.decode.maxPixels)) != nil,
              second.width == decoder.width, second.height == decoder.height - offset else { return .declined }

        let encoder = try makeEncoder()
        var started = true
        var damaged = false
        var stopped: DarkroomError?   // the deadline stopped a band
        let image = Image(width: target.width, height: target.height, format: format, fillingEveryByte: { dst in
            let feed: ((Int) -> Void)? = encoder.map { encoder in
                { done in if done - encoder.rowsWritten >= 16 { encoder.write(from: dst, upTo: done) } }
            }
            let secondStream = RowStream(second, background: false)
            let dstPointer = SendablePointer(dst)
            let secondBand = OffsetRows(stream: secondStream, offset: offset)
            let secondFinished = SendableFlag()
            guard let thread = startJoinableThread({
                if resampler.bandU8(split..<target.height, source: secondBand, dst: dstPointer.p, v: v, pairs: pairs, h: h) {
                    secondStream.finish()
                } else {
                    secondFinished.value = false
                    secondStream.stop()
                }
            }) else {
                started = false
                return
            }
            let firstStream = RowStream(decoder, background: false)
            let firstFinished = resampler.bandU8(0..<split, source: firstStream, dst: dst, v: v, pairs: pairs, h: h, rowsDone: feed)
            firstStream.stop()   // the rest of the file is the second decoder's
            pthread_join(thread, nil)
            PipelineEvents.count("restart-bands")
            // Stopped at the deadline: a decoder's time limit first, else the resampler's. No retry in one band.
            for failure in [firstStream.failure, secondStream.failure] {
                if case .timeLimit? = failure { stopped = failure; return }
            }
            if !firstFinished || !secondFinished.value {
                stopped = .timeLimit(TimeLimitError(stage: .resizing))
                return
            }
            damaged = firstStream.failure != nil || secondStream.failure != nil
                || !decoder.warnings.isEmpty || !second.warnings.isEmpty
            if !damaged { encoder?.write(from: dst, upTo: target.height) }
        })
        guard started else { return .declined }
        if let stopped { throw stopped }
        if let failure = encoder?.failure, case .timeLimit = failure { throw failure }
        if damaged { return .damaged }
        return .done(Output(image: image, jpeg: try encoder?.finish()))
    }
}

/// A flag the second band's thread sets and the first reads after joining it.
private final class SendableFlag: @unchecked Sendable {
    var value = true
}

/// A stream's rows seen at `offset` further down: row `r` is the stream's row `r - offset`.
struct OffsetRows: RowSource, @unchecked Sendable {
    let stream: RowStream
    let offset: Int
    func row(_ r: Int) -> UnsafePointer<UInt8> { stream.row(r - offset) }
    var prefetchBase: UnsafePointer<UInt8>? { nil }
}
