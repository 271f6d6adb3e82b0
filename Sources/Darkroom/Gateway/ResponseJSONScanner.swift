#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A pull tokenizer for JSON read from a ``ResponseByteSource`` one chunk at a time: the reader
/// under ``ImagesResponseReader``. It accepts what `JSONDecoder` (and so ``JSONValue/init(parsing:)``)
/// accepts, which the tests check side by side: RFC 8259 plus a leading UTF-8 byte order mark and a
/// trailing comma in objects and arrays; at most ``maxDepth`` nested arrays and objects; numbers
/// read as `JSONDecoder` reads them into ``JSONValue`` (an integer when the value is one exactly,
/// a number out of `Double`'s range refused); strings must be valid UTF-8 and escapes must not
/// leave a lone surrogate.
///
/// Every syntax error is ``invalidJSON``; read errors are the source's ``DarkroomError/file(_:)``.
final class ResponseJSONScanner {
    static let maxDepth = 512
    static let invalidJSON = DarkroomError.gateway(.malformedResponse("invalid JSON"))

    private var source: ResponseByteSource
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private var pos = 0
    private var end = 0
    private var sourceEnded = false

    init(source: ResponseByteSource, chunkSize: Int) {
        self.source = source
        buffer = .allocate(capacity: max(chunkSize, 1))
    }

    deinit {
        buffer.deallocate()
        source.close()
    }

    /// Bytes consumed so far.
    var offset: Int { source.delivered - (end - pos) }

    // MARK: bytes

    /// Reads the next chunk once the current one is used up; false at the end of the input.
    private func refill() throws(DarkroomError) -> Bool {
        if pos < end { return true }
        if sourceEnded { return false }
        let n = try source.read(into: buffer)
        pos = 0
        end = n
        if n == 0 { sourceEnded = true }
        return n > 0
    }

    /// The next byte, not consumed; nil at the end of the input.
    func peek() throws(DarkroomError) -> UInt8? {
        guard try refill() else { return nil }
        return buffer[pos]
    }

    /// The next byte, consumed; a syntax error at the end of the input.
    func next() throws(DarkroomError) -> UInt8 {
        guard try refill() else { throw Self.invalidJSON }
        defer { pos += 1 }
        return buffer[pos]
    }

    /// Skips JSON whitespace; the next byte (not consumed), nil at the end of the input.
    func peekSkippingWhitespace() throws(DarkroomError) -> UInt8? {
        while try refill() {
            while pos < end {
                switch buffer[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return buffer[pos]
                }
            }
        }
        return nil
    }

    /// Skips a UTF-8 byte order mark at the very start, then whitespace; the first byte (not
    /// consumed) and the bytes skipped (for the whole-document fallback).
    func peekDocumentStart() throws(DarkroomError) -> (first: UInt8?, skipped: [UInt8]) {
        var skipped: [UInt8] = []
        if try peek() == 0xEF {
            pos += 1
            guard try next() == 0xBB, try next() == 0xBF else { throw Self.invalidJSON }
            skipped = [0xEF, 0xBB, 0xBF]
        }
        while let c = try peek() {
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D: skipped.append(c); pos += 1
            default: return (c, skipped)
            }
        }
        return (nil, skipped)
    }

    /// Consumes `byte` after optional whitespace, or throws a syntax error.
    func expect(_ byte: UInt8) throws(DarkroomError) {
        guard try peekSkippingWhitespace() == byte else { throw Self.invalidJSON }
        pos += 1
    }

    /// The rest of the input, unparsed (for the whole-document fallback).
    func remainingBytes() throws(DarkroomError) -> [UInt8] {
        var bytes: [UInt8] = []
        while try refill() {
            bytes.append(contentsOf: buffer[pos..<end])
            pos = end
        }
        return bytes
    }

    // MARK: containers

    /// The next key of an object whose `{` (with `first`) or previous value was consumed, with its
    /// `:` consumed; nil after the closing `}`. A trailing comma is accepted, as `JSONDecoder` does.
    func nextKey(first: inout Bool) throws(DarkroomError) -> String? {
        var c = try peekSkippingWhitespace()
        if first {
            first = false
            if c == UInt8(ascii: "}") { pos += 1; return nil }
        } else {
            switch c {
            case UInt8(ascii: "}"): pos += 1; return nil
            case UInt8(ascii: ","):
                pos += 1
                c = try peekSkippingWhitespace()
                if c == UInt8(ascii: "}") { pos += 1; return nil }
            default: throw Self.invalidJSON
            }
        }
        guard c == UInt8(ascii: "\"") else { throw Self.invalidJSON }
        pos += 1
        let key = try stringBody()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// True when another element of an array follows (positioned at it); false after the closing
    /// `]`. `first` as in ``nextKey(first:)``.
    func nextElement(first: inout Bool) throws(DarkroomError) -> Bool {
        let c = try peekSkippingWhitespace()
        if first {
            first = false
            if c == UInt8(ascii: "]") { pos += 1; return false }
            return true
        }
        switch c {
        case UInt8(ascii: "]"): pos += 1; return false
        case UInt8(ascii: ","):
            pos += 1
            if try peekSkippingWhitespace() == UInt8(ascii: "]") { pos += 1; return false }
            return true
        default: throw Self.invalidJSON
        }
    }

    // MARK: values

    /// One whole value; `depth` counts the arrays and objects around it (the document's top
    /// level is 0).
    func value(depth: Int) throws(DarkroomError) -> JSONValue {
        guard let c = try peekSkippingWhitespace() else { throw Self.invalidJSON }
        switch c {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw Self.invalidJSON }
            pos += 1
            var o: [String: JSONValue] = [:]
            var first = true
            while let key = try nextKey(first: &first) {
                let v = try value(depth: depth + 1)
                if o[key] == nil { o[key] = v }   // the first of duplicate keys, as JSONDecoder
            }
            return .object(o)
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw Self.invalidJSON }
            pos += 1
            var a: [JSONValue] = []
            var first = true
            while try nextElement(first: &first) { a.append(try value(depth: depth + 1)) }
            return .array(a)
        case UInt8(ascii: "\""):
            pos += 1
            return .string(try stringBody())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw Self.invalidJSON
        }
    }

    private func literal(_ word: StaticString) throws(DarkroomError) {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for b in bytes { guard try next() == b else { throw Self.invalidJSON } }
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, then as `JSONDecoder` gives it to
    /// ``JSONValue``: `Int` when the text is an integer that fits, else the `Double` (refused when
    /// not finite), itself an `Int` when it is one exactly (`1.0`, `1e2`, `-0.0`, `1e-400`).
    private func number() throws(DarkroomError) -> JSONValue {
        var text: [UInt8] = []
        func digits() throws(DarkroomError) -> Int {
            var n = 0
            while let c = try peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { text.append(c); pos += 1; n += 1 }
            return n
        }
        var integral = true
        if try peek() == UInt8(ascii: "-") { text.append(UInt8(ascii: "-")); pos += 1 }
        if try peek() == UInt8(ascii: "0") {
            text.append(UInt8(ascii: "0")); pos += 1
        } else {
            guard try digits() > 0 else { throw Self.invalidJSON }
        }
        if try peek() == UInt8(ascii: ".") {
            integral = false
            text.append(UInt8(ascii: ".")); pos += 1
            guard try digits() > 0 else { throw Self.invalidJSON }
        }
        if let c = try peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            integral = false
            text.append(c); pos += 1
            if let s = try peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { text.append(s); pos += 1 }
            guard try digits() > 0 else { throw Self.invalidJSON }
        }
        let string = String(decoding: text, as: UTF8.self)
        if integral, let i = Int(string) { return .int(i) }
        guard let d = Double(string), d.isFinite else { throw Self.invalidJSON }
        if let i = Int(exactly: d) { return .int(i) }
        return .double(d)
    }

    // MARK: strings

    /// The rest of a string whose opening quote was consumed, up to and with the closing quote.
    func stringBody() throws(DarkroomError) -> String {
        var bytes: [UInt8] = []
        var ascii = true
        while true {
            guard try refill() else { throw Self.invalidJSON }
            // A run of plain bytes, copied at once.
            let start = pos
            let (i, high) = Self.plainRunEnd(UnsafePointer(buffer.baseAddress!), from: start, to: end)
            if i > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<i])) }
            if high { ascii = false }
            pos = i
            guard i < end else { continue }
            let c = buffer[i]
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                if ascii { return String(decoding: bytes, as: UTF8.self) }
                guard let s = String(validating: bytes, as: UTF8.self) else { throw Self.invalidJSON }
                return s
            case UInt8(ascii: "\\"):
                let scalar = try escape()
                if scalar.isASCII { bytes.append(UInt8(scalar.value)) } else { bytes.append(contentsOf: String(scalar).utf8) }
            default:
                throw Self.invalidJSON   // a control character
            }
        }
    }

    /// The character of an escape whose backslash was consumed; a `\u` high surrogate must be
    /// followed by a `\u` low surrogate.
    private func escape() throws(DarkroomError) -> Unicode.Scalar {
        switch try next() {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try hex4()
            if unit & 0xFC00 == 0xD800 {
                guard try next() == UInt8(ascii: "\\"), try next() == UInt8(ascii: "u") else { throw Self.invalidJSON }
                let low = try hex4()
                guard low & 0xFC00 == 0xDC00 else { throw Self.invalidJSON }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            }
            guard let scalar = Unicode.Scalar(unit) else { throw Self.invalidJSON }   // a lone low surrogate
            return scalar
        default:
            throw Self.invalidJSON
        }
    }

    private func hex4() throws(DarkroomError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = try next()
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = v << 4 | UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = v << 4 | UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = v << 4 | UInt32(c - UInt8(ascii: "A") + 10)
            default: throw Self.invalidJSON
            }
        }
        return v
    }

    /// The rest of a string whose opening quote was consumed, decoded as base64 straight into
    /// bytes (the text is never held), or into `sink`; syntax errors throw, a base64 problem is the
    /// decoder's ``Base64StreamDecoder/failure``. Without a sink the output is sized once from how
    /// far the closing quote is.
    func base64StringBody(sink: (any ResponseImageSink)? = nil) throws(DarkroomError) -> Base64StreamDecoder {
        var ahead: Int?
        if sink != nil {
            ahead = nil   // nothing to size: no need to look ahead
        } else if let hit = buffer[pos..<end].firstIndex(of: UInt8(ascii: "\"")) {
            ahead = hit - pos
        } else {
            ahead = source.distance(to: UInt8(ascii: "\""), scratch: min(buffer.count, 256 << 10)).map { $0 + end - pos }
        }
        var decoder = Base64StreamDecoder(expectedLength: ahead, sink: sink)
        /// The current run of bytes beyond ASCII: valid UTF-8 on its own when the string is.
        var multibyte: [UInt8] = []
        func endMultibyte() throws(DarkroomError) {
            guard !multibyte.isEmpty else { return }
            guard String(validating: multibyte, as: UTF8.self) != nil else { throw Self.invalidJSON }
            multibyte.removeAll(keepingCapacity: true)
        }
        while true {
            guard try refill() else { throw Self.invalidJSON }
            if decoder.takesRuns && multibyte.isEmpty {
                // The standard alphabet, handed on in runs.
                let start = pos
                let i = Self.alphabetRunEnd(UnsafePointer(buffer.baseAddress!), from: start, to: end)
                if i > start { decoder.append(run: UnsafeBufferPointer(rebasing: buffer[start..<i])) }
                pos = i
                guard i < end else { continue }
            }
            let c = buffer[pos]
            pos += 1
            if c >= 0x80 {
                multibyte.append(c)
                decoder.appendNonASCII()
                continue
            }
            try endMultibyte()
            switch c {
            case UInt8(ascii: "\""):
                return decoder
            case UInt8(ascii: "\\"):
                let scalar = try escape()
                if scalar.isASCII { decoder.append(UInt8(scalar.value)) } else { decoder.appendNonASCII() }
            case 0..<0x20:
                throw Self.invalidJSON
            default:
                decoder.append(c)
            }
        }
    }

    @inline(__always)
    private static func isAlphabet(_ c: UInt8) -> Bool {
        (c &- UInt8(ascii: "A")) < 26 || (c &- UInt8(ascii: "a")) < 26 || (c &- UInt8(ascii: "0")) < 10
            || c == UInt8(ascii: "+") || c == UInt8(ascii: "/")
    }

    /// 1 for the standard base64 alphabet (`A-Z a-z 0-9 + /`), 0 for every other byte.
    private nonisolated(unsafe) static let alphabetTable: UnsafePointer<UInt8> = {   // written once, then only read
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)   // lives as long as the process
        for c in 0..<256 { table[c] = isAlphabet(UInt8(c)) ? 1 : 0 }
        return UnsafePointer(table)
    }()

    /// Where the run of standard base64 characters from `start` ends (at most `end`): eight table
    /// look-ups and one branch per 8 bytes (base64 text mixes letters and digits at random, so a
    /// branch per byte is mispredicted often), with the bounds in locals, not the scanner's
    /// properties (which the compiler must reload on every byte). `SIMD16` comparisons were 6×
    /// slower than the plain loop here.
    private static func alphabetRunEnd(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        let t = alphabetTable
        var i = start
        while i + 8 <= end {
            let ok = t[Int(p[i])] & t[Int(p[i + 1])] & t[Int(p[i + 2])] & t[Int(p[i + 3])]
                & t[Int(p[i + 4])] & t[Int(p[i + 5])] & t[Int(p[i + 6])] & t[Int(p[i + 7])]
            if ok == 0 { break }
            i += 8
        }
        while i < end && t[Int(p[i])] != 0 { i += 1 }
        return i
    }

    /// 1 for a byte that needs no care inside a string (not `"`, `\`, a control character).
    private nonisolated(unsafe) static let plainTable: UnsafePointer<UInt8> = {   // written once, then only read
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)   // lives as long as the process
        for c in 0..<256 { table[c] = c == 0x22 || c == 0x5C || c < 0x20 ? 0 : 1 }
        return UnsafePointer(table)
    }()

    /// Where the run of bytes that need no care in a string from `start` ends (at most `end`), and
    /// whether a byte beyond ASCII is among them; 8 bytes a step as ``alphabetRunEnd(_:from:to:)``.
    private static func plainRunEnd(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (Int, Bool) {
        let t = plainTable
        var i = start
        var high: UInt8 = 0
        while i + 8 <= end {
            let (b0, b1, b2, b3, b4, b5, b6, b7) = (p[i], p[i + 1], p[i + 2], p[i + 3], p[i + 4], p[i + 5], p[i + 6], p[i + 7])
            let ok = t[Int(b0)] & t[Int(b1)] & t[Int(b2)] & t[Int(b3)] & t[Int(b4)] & t[Int(b5)] & t[Int(b6)] & t[Int(b7)]
            if ok == 0 { break }
            high |= b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7
            i += 8
        }
        while i < end && t[Int(p[i])] != 0 { high |= p[i]; i += 1 }
        return (i, high >= 0x80)
    }
}
