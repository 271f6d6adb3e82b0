/// The streamed resize stage of a conversion (libvips-style): a source's rows flow straight into
/// the resampler's row ring, so no full-size source buffer exists (a 24 MP RGB source is 72 MB;
/// the stream holds 16 rows at a time). The pixels are identical to the whole-image route.
///
/// Everything is decided by the plan (``ConversionPlan/Rows``): with 2 or more threads decoding
/// runs on a producer thread ahead of the resampler (``RowStream``); a JPEG with restart markers
/// is decoded in two bands on two threads (RestartBands.swift); a JPEG output is encoded from the
/// resized rows as they are made, through a ring of rows when nothing else needs them.
struct StreamedResize {
    let plan: ConversionPlan
    let route: ConversionPlan.Rows
    let options: ConvertOptions
    /// The metadata blocks a JPEG encoded from the rows carries (``OutputMetadata``, decided from
    /// the source's header: for a JPEG or PNG, everything the output embeds).
    let embedding: OutputMetadata

    /// What the stage made: the resized rows (stored orientation, ``ConversionPlan/storedTarget``)
    /// unless they went only through the ring, and with ``ConversionPlan/Rows/encodeRows`` the
    /// JPEG encoded from them, which is the output.
    struct Output {
        var image: Image?
        var jpeg: [UInt8]?
    }

    /// Runs the stage on `source` (opened, its rows not started). Throws the decoder's error (the
    /// rows after it came in filled) or the encoder's, or ``DarkroomError/timeLimit(_:)`` when
    /// ``ConvertOptions/deadline`` stopped the decoder (libjpeg, libpng), the resampler (every 16
    /// rows) or the JPEG encoder.
    func run(_ source: ImageSource) throws(DarkroomError) -> Output {
        var decoder = try source.startRows(scale: plan.decodeScale)
        if route.restartBands, let jpeg = decoder as? JPEGRowDecoder {
            switch try inRestartBands(jpeg) {
            case let .done(output):
                return output
            case .declined:
                break
            case .damaged:
                // Damage in either band: the rows of one band, from a fresh decoder, so the
                // damage is reported (or allowed) exactly as on the one-band route.
                decoder = try source.restartRows(scale: plan.decodeScale)
            }
        }
        return try oneBand(decoder)
    }

    /// The JPEG encoder of the output, when the rows are encoded as they are made, embedding the
    /// blocks the output keeps of the source's (all in its header).
    func makeEncoder() throws(DarkroomError) -> JPEGRowEncoder? {
        guard route.encodeRows else { return nil }
        return try JPEGRowEncoder(width: plan.storedTarget.width, height: plan.storedTarget.height, format: route.format,
                                  settings: JPEGSettings(options.encode), icc: embedding.icc, exif: embedding.exif,
                                  xmp: embedding.xmp, iptc: embedding.iptc, deadline: options.deadline)
    }

    /// Every output row from one decoder, on this thread (its producer thread decoding ahead with
    /// ``ConversionPlan/Rows/background``).
    private func oneBand(_ decoder: RowDecoder) throws(DarkroomError) -> Output {
        // Decoding starts first: the encoder, the output buffer and the resampler's tables are set
        // up while the first rows are decoded.
        let stream = RowStream(decoder, background: route.background)
        defer { stream.stop() }
        let encoder = try makeEncoder()
        let target = plan.storedTarget
        let ringRows = route.ringRows
        let deadline = options.deadline
        var finished = true
        func resize(into dst: UnsafeMutablePointer<UInt8>) {
            let feed: ((Int) -> Void)? = encoder.map { encoder in
                { done in if done - encoder.rowsWritten >= 16 { encoder.write(from: dst, ringRows: ringRows, upTo: done) } }
            }
            if stream.width == target.width && stream.height == target.height {
                // The DCT scale already gives the target: the rows are the result.
                let rowBytes = target.width * route.format.channels
                for y in 0..<target.height {
                    if y % 16 == 0 && deadline.hasPassed {
                        finished = false
                        break
                    }
                    (dst + ringSlot(y, ringRows: ringRows) * rowBytes).update(from: stream.row(y), count: rowBytes)
                    if y % 16 == 15 { encoder?.write(from: dst, ringRows: ringRows, upTo: y + 1) }
                }
            } else {
                var resampler = Resampler(srcWidth: stream.width, srcHeight: stream.height, dstWidth: target.width,
                                          dstHeight: target.height, format: route.format, alpha: options.resampling.alpha,
                                          kernel: .selected)
                resampler.deadline = deadline
                finished = resampler.resizeU8(streaming: stream, dst: dst, dstRingRows: ringRows,
                                              filter: options.resampling.filter, rowsDone: feed)
            }
            guard finished else {
                // Stopped at the deadline: the producer stops at its next chunk, nothing more is encoded.
                stream.stop()
                return
            }
            encoder?.write(from: dst, ringRows: ringRows, upTo: target.height)
            stream.finish()
        }
        var image: Image?
        if ringRows > 0 {
            let ring = UnsafeMutablePointer<UInt8>.allocate(capacity: ringRows * target.width * route.format.channels)
            defer { ring.deallocate() }
            resize(into: ring)
            PipelineEvents.count("ring-output")
        } else {
            // Every output row is written (rows the decoder could not decode come in filled), so
            // the buffer is not zeroed first.
            image = Image(width: target.width, height: target.height, format: route.format, fillingEveryByte: resize(into:))
        }
        // The decoder's error first (the deadline may have stopped it), then the encoder's, then the resampler's stop.
        if let failure = stream.failure { throw failure }
        if let failure = encoder?.failure { throw failure }
        if !finished { throw .timeLimit(TimeLimitError(stage: .resizing)) }
        return Output(image: image, jpeg: try encoder?.finish())
    }
}
