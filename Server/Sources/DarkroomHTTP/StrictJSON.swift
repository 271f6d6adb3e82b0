import Darkroom

/// A strict reading of a JSON request body before it is decoded: RFC 8259's grammar exactly
/// (no `+80`, no leading zeros, no trailing commas, no comments, nothing after the value), at most
/// ``maxDepth`` levels, and **no object naming a key twice** (`{"size":"1024x1024","size":"16x16"}`:
/// Foundation's decoder would silently keep one of them, while a query field given twice is
/// refused). Keys are compared after their escapes are decoded (`"size"` and `"\u0073ize"` are one key).
enum StrictJSON {
    /// Deepest nesting accepted.
    static let maxDepth = 64

    /// What is wrong with the text, and where (`$.size`, `$.images[2]`).
    struct Refusal: Error, Equatable {
        var message: String
        /// The duplicated key, when that is the fault.
        var key: String?
    }

    /// Throws ``Refusal`` for text that is not one strict JSON value.
    static func check(_ bytes: [UInt8]) throws(Refusal) {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        try reader.value(path: "$", depth: 0)
        reader.skipSpace()
        guard reader.atEnd else { throw reader.refusal("text after the JSON value") }
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        func refusal(_ what: String, key: String? = nil) -> Refusal {
            Refusal(message: "\(what) at byte \(i)", key: key)
        }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        mutating func expect(_ literal: String) throws(Refusal) {
            for c in literal.utf8 {
                guard peek == c else { throw refusal("not JSON") }
                i += 1
            }
        }

        mutating func value(path: String, depth: Int) throws(Refusal) {
            guard depth <= StrictJSON.maxDepth else { throw refusal("nested more than \(StrictJSON.maxDepth) levels") }
            switch peek {
            case UInt8(ascii: "{"): try object(path: path, depth: depth + 1)
            case UInt8(ascii: "["): try array(path: path, depth: depth + 1)
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try expect("true")
            case UInt8(ascii: "f"): try expect("false")
            case UInt8(ascii: "n"): try expect("null")
            case let c? where c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39): try number()
            case let c?: throw refusal(c == UInt8(ascii: "+") ? "a number with a '+' sign (JSON numbers have none)" : "not JSON")
            case nil: throw refusal("the text ends before a value")
            }
        }

        mutating func object(path: String, depth: Int) throws(Refusal) {
            i += 1
            skipSpace()
            if peek == UInt8(ascii: "}") { i += 1; return }
            var keys = Set<String>()
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw refusal("an object key must be a string") }
                let key = try string()
                guard keys.insert(key).inserted else {
                    throw refusal("the key \"\(ValueParser.printable(key, maxLength: 64))\" is given twice in \(path)", key: key)
                }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw refusal("':' expected") }
                i += 1
                skipSpace()
                try value(path: "\(path).\(key)", depth: depth)
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "}") { i += 1; return }
                throw refusal("',' or '}' expected")
            }
        }

        mutating func array(path: String, depth: Int) throws(Refusal) {
            i += 1
            skipSpace()
            if peek == UInt8(ascii: "]") { i += 1; return }
            var index = 0
            while true {
                skipSpace()
                try value(path: "\(path)[\(index)]", depth: depth)
                index += 1
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "]") { i += 1; return }
                throw refusal("',' or ']' expected")
            }
        }

        /// A string, its escapes decoded (for key comparison).
        mutating func string() throws(Refusal) -> String {
            i += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() {
                scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                raw.removeAll(keepingCapacity: true)
            }
            while true {
                guard let c = peek else { throw refusal("the text ends inside a string") }
                i += 1
                switch c {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard let e = peek else { throw refusal("the text ends inside a string") }
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{08}")
                    case UInt8(ascii: "f"): scalars.append("\u{0C}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        var unit = try hex4()
                        if (0xD800...0xDBFF).contains(unit), peek == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") {
                            i += 2
                            let low = try hex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            }
                        }
                        scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                    default:
                        throw refusal("an unknown escape in a string")
                    }
                case 0x00..<0x20:
                    throw refusal("a control character inside a string")
                default:
                    raw.append(c)
                }
            }
        }

        mutating func hex4() throws(Refusal) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let c = peek else { throw refusal("a short \\u escape") }
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw refusal("a bad \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Refusal) {
            if peek == UInt8(ascii: "-") { i += 1 }
            guard let first = peek, first >= 0x30, first <= 0x39 else { throw refusal("a bad number") }
            i += 1
            if first == 0x30, let c = peek, c >= 0x30, c <= 0x39 { throw refusal("a number with a leading zero") }
            digits()
            if peek == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { throw refusal("a bad number") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw refusal("a bad number") }
            }
        }

        @discardableResult
        mutating func digits() -> Int {
            var n = 0
            while let c = peek, c >= 0x30, c <= 0x39 { i += 1; n += 1 }
            return n
        }
    }
}
