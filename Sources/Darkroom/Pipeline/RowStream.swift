#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A decoder's rows as the resampler asks for them (``RowSource``): the streamed path of
/// ``Converter``, so a 24 MP source never exists as one buffer.
///
/// Rows are decoded in chunks of 16 into a ring of chunk buffers. In the background mode a
/// producer thread decodes ahead while the caller resamples (decode and resize overlap on two
/// cores); otherwise the caller decodes a chunk when it needs one. Either way the rows, and so the
/// output, are the same. The producer is a thread of its own, not a Dispatch pool thread: the
/// caller blocks waiting for it, and many callers blocked in a shared pool must never be able to
/// keep their producers from running.
final class RowStream: RowSource, @unchecked Sendable {
    // Owned by the decoding thread once started (the caller's in the foreground mode).
    private let decoder: RowDecoder
    /// Rows per chunk (even, so a row pair never straddles two chunks) and chunks in the ring.
    private let chunkRows = 16
    private var slots: Int
    private let ring: UnsafeMutablePointer<UInt8>
    let width: Int, height: Int
    private let rowBytes: Int
    private let chunkCount: Int

    // Shared between the producer and the consumer, under `state`.
    private let state = Condition()
    private var produced = 0       // chunks decoded so far
    private var released = 0       // chunks the consumer no longer reads (their slots may be reused)
    private var producerDone = true
    private var producer: pthread_t?
    private var stopped = false    // the consumer is gone: decode to the end without waiting for slots
    private var failureError: DarkroomError?

    // Consumer side.
    private var current = -1       // the chunk the consumer reads

    /// Starts streaming `decoder`'s rows. With `background`, a producer thread starts decoding at once.
    init(_ decoder: RowDecoder, background: Bool) {
        self.decoder = decoder
        width = decoder.width
        height = decoder.height
        rowBytes = decoder.rowBytes
        chunkCount = (height + chunkRows - 1) / chunkRows
        slots = background ? 4 : 1
        ring = .allocate(capacity: slots * chunkRows * rowBytes)
        guard background else { return }
        producerDone = false
        producer = startJoinableThread { [self] in produce() }
        if producer == nil {
            // No thread to be had: the caller decodes, one chunk at a time, into the first slot.
            producerDone = true
            slots = 1
        }
    }

    deinit {
        stop()
        ring.deallocate()
    }

    /// The first error the decoder met; rows after it are filled, not decoded.
    var failure: DarkroomError? { state.locked { failureError } }

    /// Row `r`. Rows are asked for in increasing order.
    func row(_ r: Int) -> UnsafePointer<UInt8> {
        precondition(r >= 0 && r < height && r / chunkRows >= current, "rows are streamed in order")
        let chunk = r / chunkRows
        if chunk != current { advance(to: chunk) }
        return UnsafePointer(slot(chunk) + (r - chunk * chunkRows) * rowBytes)
    }

    var prefetchBase: UnsafePointer<UInt8>? { nil }

    /// Decodes the remaining rows (so a truncation at the very end is still reported) and waits
    /// for the producer.
    func finish() {
        if slots == 1 {
            while current + 1 < chunkCount && failure == nil { advance(to: current + 1) }
        }
        stop()
    }

    // MARK: chunks

    private func slot(_ chunk: Int) -> UnsafeMutablePointer<UInt8> { ring + (chunk % slots) * chunkRows * rowBytes }

    private func rows(in chunk: Int) -> Int { min(chunkRows, height - chunk * chunkRows) }

    /// Foreground: decodes `chunk` now. Background: frees the chunks before it and waits for it.
    private func advance(to chunk: Int) {
        if slots == 1 {
            for c in (current + 1)...chunk { decode(c) }   // skipped chunks are decoded and dropped
            current = chunk
            return
        }
        state.locked { released = chunk }
        state.broadcast()
        state.wait(until: { produced > chunk || producerDone }) {}
        current = chunk
        if state.locked({ produced <= chunk }) {
            // The producer stopped on an error before this chunk: zeros, the caller throws after.
            zero(chunk)
        }
    }

    /// `chunk`'s slot filled with zeros: rows that were not decoded.
    private func zero(_ chunk: Int) {
        slot(chunk).update(repeating: 0, count: rows(in: chunk) * rowBytes)
    }

    /// Decodes `chunk` into its slot; after an error, zeros.
    private func decode(_ chunk: Int) {
        let n = rows(in: chunk)
        guard state.locked({ failureError == nil }) else {
            zero(chunk)
            return
        }
        do {
            try decoder.readRows(slot(chunk), stride: rowBytes, count: n)
        } catch {
            state.locked { failureError = error }
        }
    }

    /// The producer thread: decodes every chunk in order, waiting for a free slot.
    private func produce() {
        for chunk in 0..<chunkCount {
            let go = state.wait(until: { stopped || chunk - released < slots }) { failureError == nil }
            if !go { break }
            // (Once stopped nobody reads the slots: the rest is decoded only to reach the end's warnings.)
            decode(chunk)
            state.locked { produced = chunk + 1 }
            state.broadcast()
        }
        state.locked { producerDone = true }
        state.broadcast()
    }

    /// Lets the producer run to the end without waiting for slots, and waits for it. Idempotent;
    /// ``Converter`` calls it on every path out, so no producer outlives its conversion.
    func stop() {
        state.locked { stopped = true }
        state.broadcast()
        state.wait(until: { producerDone }) {}
        if let thread = producer {
            producer = nil
            pthread_join(thread, nil)
        }
    }
}
