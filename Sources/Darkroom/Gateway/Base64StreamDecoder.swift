#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes a `b64_json` string value fed to it piece by piece, with the rules of
/// `ResponseItem.decodeBase64` (standard or URL-safe alphabet, padding optional, ASCII whitespace
/// skipped, a `data:…,` prefix dropped) and Foundation's base64 decoder on whole groups of four
/// characters: the text is never held whole, only ``defaultFlushSize`` cleaned characters at a time.
///
/// Groups are decoded only while no `=` has been seen, and the last whole group is kept back, so
/// every piece handed to Foundation is a run of complete, unpadded groups, and the last piece
/// (padded to a multiple of four) starts with a whole group and gets the same verdict as the
/// whole string would (Foundation reads `QUJD====` as `ABC` but `====` alone as one zero byte:
/// its quirks are in the tail, which is never split).
/// Text after the first `=` is kept until the end, but for groups of four `=` (dropped, see
/// ``append(_:)``); more than ``maxPaddedTail`` characters of it are refused as invalid base64
/// (Foundation refuses a `=` followed by other characters a group later, as far as the tests
/// find; the bound keeps the memory flat).
struct Base64StreamDecoder {
    /// The default ``flushSize``: 64 Ki characters.
    static let defaultFlushSize = 64 << 10
    /// At most this many cleaned characters are kept from the first `=` on.
    static let maxPaddedTail = 64 << 10
    /// Cleaned characters decoded at a time (a multiple of 4; smaller values are for tests).
    let flushSize: Int
    static let invalid = "b64_json is not valid base64"

    /// The decoded bytes so far (none when they go to ``sink``).
    private(set) var output: [UInt8] = []
    /// Where the decoded bytes go instead of ``output``, a flush at a time.
    private let sink: (any ResponseImageSink)?
    /// Bytes decoded so far.
    private(set) var decodedCount = 0
    /// Cleaned characters not yet decoded.
    private var pending: [UInt8] = []
    /// Cleaned characters seen in all.
    private var total = 0
    /// A `=` is in ``pending``.
    private var padded = false
    /// Cleaned characters other than `=` seen in all.
    private var dataChars = 0
    /// Why the text is not valid base64 (then everything else is ignored).
    private(set) var failure: String?
    private enum Stage { case start(matched: Int), skippingPrefix, body }
    private var stage = Stage.start(matched: 0)
    private static let prefix = Array("data:".utf8)

    /// `expectedLength`: an estimate of the string's length in bytes of JSON text (an upper bound
    /// when escapes are rare), to size the output once. With a `sink`, the decoded bytes go there,
    /// not to ``output``.
    init(expectedLength: Int?, flushSize: Int = Base64StreamDecoder.defaultFlushSize, sink: (any ResponseImageSink)? = nil) {
        precondition(flushSize > 0 && flushSize % 4 == 0)
        self.flushSize = flushSize
        self.sink = sink
        if let expectedLength, sink == nil { output.reserveCapacity(expectedLength / 4 * 3 + 3) }
        pending.reserveCapacity(flushSize + 8)
    }

    /// True once the prefix is settled: runs of alphabet characters may go to ``append(run:)``.
    var takesRuns: Bool {
        if case .body = stage { return failure == nil }
        return false
    }

    /// Characters of the standard alphabet only (`A-Z a-z 0-9 + /`), after ``takesRuns``.
    /// Taken in pieces, so ``pending`` stays within ``flushSize`` (a run can be a whole chunk).
    mutating func append(run: UnsafeBufferPointer<UInt8>) {
        var rest = run[...]
        while !rest.isEmpty && failure == nil {
            let piece = rest.prefix(max(flushSize - pending.count, 4))
            pending.append(contentsOf: piece)
            total += piece.count
            dataChars += piece.count
            rest = rest.dropFirst(piece.count)
            if pending.count >= flushSize { flush() }
        }
    }

    /// One ASCII character of the string value (after unescaping).
    mutating func append(_ c: UInt8) {
        guard failure == nil else { return }
        switch stage {
        case .body:
            clean(c)
        case let .start(matched):
            if c == Self.prefix[matched] {
                stage = matched + 1 == Self.prefix.count ? .skippingPrefix : .start(matched: matched + 1)
                return
            }
            stage = .body
            for p in Self.prefix[..<matched] { clean(p) }
            clean(c)
        case .skippingPrefix:
            if c == UInt8(ascii: ",") { stage = .body }
        }
    }

    /// A character beyond ASCII: invalid base64 unless inside a `data:…,` prefix.
    mutating func appendNonASCII() {
        guard failure == nil else { return }
        switch stage {
        case .skippingPrefix: return
        case let .start(matched) where matched > 0:
            stage = .body
            for p in Self.prefix[..<matched] { clean(p) }
        default: break
        }
        failure = Self.invalid
    }

    private mutating func clean(_ c: UInt8) {
        guard failure == nil else { return }
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            pending.append(c)
        case UInt8(ascii: "="):
            pending.append(c)
            padded = true
            // Foundation reads the '=' beyond the first group of four of them after data as nothing
            // ("QUJD========" is "ABC", "QQ==========" is "A", however many): the fifth to
            // eighth of the last eight are dropped, so a long tail of '=' stays small. (A lone
            // "====" is one zero byte, so this waits for data; and text after the tail still
            // meets a "====" group, which Foundation refuses as it refuses the whole.)
            let n = pending.count
            if dataChars > 0 && n >= 8 && pending[(n - 8)...].allSatisfy({ $0 == UInt8(ascii: "=") }) {
                pending.removeLast(4)
            }
        case UInt8(ascii: "-"): pending.append(UInt8(ascii: "+"))   // URL-safe alphabet
        case UInt8(ascii: "_"): pending.append(UInt8(ascii: "/"))
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C: return
        default: failure = Self.invalid; return
        }
        total += 1
        if c != UInt8(ascii: "=") { dataChars += 1 }
        if pending.count >= flushSize { flush() }
    }

    /// Decodes the whole groups of ``pending`` when no `=` is among them.
    private mutating func flush() {
        if padded {
            if pending.count > flushSize + Self.maxPaddedTail { failure = Self.invalid }
            return
        }
        // The last whole group stays: Foundation reads a trailing "====" after a group as nothing,
        // but alone as one zero byte, so what follows must always meet a group before it.
        let n = (pending.count & ~3) - 4
        guard n > 0 else { return }
        guard decode(pending[..<n]) else { return }
        pending.removeFirst(n)
    }

    private mutating func decode(_ text: ArraySlice<UInt8>) -> Bool {
        guard let data = Data(base64Encoded: Data(text)) else { failure = Self.invalid; return false }
        decodedCount += data.count
        if let sink {
            data.withUnsafeBytes { sink.write($0) }
        } else {
            output.append(contentsOf: data)
        }
        return true
    }

    /// The decoded bytes, or nil with the reason in ``failure`` (the reasons of `decodeBase64`).
    /// With a sink: empty, the bytes having gone there (``decodedCount`` of them).
    mutating func finish() -> [UInt8]? {
        if failure == nil {
            switch stage {
            case let .start(matched): for p in Self.prefix[..<matched] { clean(p) }
            case .skippingPrefix: failure = Self.invalid   // no comma: the ':' is not base64
            case .body: break
            }
        }
        guard failure == nil else { return nil }
        if total == 0 { failure = "b64_json is empty"; return nil }
        let rem = total % 4
        if rem == 1 { failure = Self.invalid + " (bad length)"; return nil }
        if rem > 0 { pending += repeatElement(UInt8(ascii: "="), count: 4 - rem) }
        guard pending.isEmpty || decode(pending[...]) else { return nil }
        pending = []
        defer { output = [] }
        return output
    }
}
