/// A check of a multipart body before multipart-kit's `MultipartParser` reads it: a part header
/// whose name holds a byte of 0x80 or above crashes that parser (4.7.1: its table of allowed
/// header-name bytes has 128 entries and is indexed with the byte unchecked, so one request with
/// `Cont\u{E9}nt-Disposition` in a part took the whole server down; found by schemathesis,
/// scripts/check-openapi.sh).
///
/// The parser reads header names only right after a delimiter line (`--boundary` then CRLF) and
/// after each header line's CRLF, up to the line's first `:`. This scan looks at every such place
/// for every occurrence of `--boundary` in the body (a superset of the delimiters the parser
/// finds), so no byte the parser could take as part of a header name is 0x80 or above. Header
/// values (a UTF-8 `filename`) are not touched.
enum MultipartHeaderGuard {
    /// The offset of the first non-ASCII byte in a part header's name, or nil when there is none.
    static func firstNonASCIIHeaderName(in body: [UInt8], boundary: String) -> Int? {
        let delimiter = Array("--\(boundary)".utf8)
        guard !delimiter.isEmpty, body.count >= delimiter.count else { return nil }
        return body.withUnsafeBufferPointer { bytes -> Int? in
            let n = bytes.count
            var i = 0
            while i + delimiter.count <= n {
                // Find the next occurrence of the delimiter.
                guard bytes[i] == delimiter[0], bytes[i + 1] == delimiter[1] else { i += 1; continue }
                var matches = true
                for k in 2..<delimiter.count where bytes[i + k] != delimiter[k] {
                    matches = false
                    break
                }
                guard matches else { i += 1; continue }
                var j = i + delimiter.count
                i += 1
                guard j + 1 < n, bytes[j] == 0x0D, bytes[j + 1] == 0x0A else { continue }
                j += 2
                // Header lines until an empty line; each line's name runs to its first ':' (or CR).
                while j < n, bytes[j] != 0x0D {
                    while j < n, bytes[j] != 0x3A, bytes[j] != 0x0D {
                        if bytes[j] >= 0x80 { return j }
                        j += 1
                    }
                    while j < n, bytes[j] != 0x0D { j += 1 }  // the value
                    guard j + 1 < n, bytes[j + 1] == 0x0A else { break }  // the parser refuses a CR without LF
                    j += 2
                }
            }
            return nil
        }
    }
}
