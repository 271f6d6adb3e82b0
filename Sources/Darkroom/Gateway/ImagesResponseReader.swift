#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads an images response (the JSON of ``ImagesResponse``) from a file, a file descriptor or
/// memory, one `data[]` entry at a time, without holding the document: the input is read in
/// chunks of ``chunkSize`` bytes and each `b64_json` string is decoded into the entry's bytes
/// as it is read (``Base64Mode/decode``), so a response of one 2048² PNG (16.8 MB of JSON) needs
/// the decoded 12.6 MB and one chunk, not the text as well: about 25 MB peak RSS, 10 MB of it the
/// process's own, where ``ImagesResponse/init(parsing:)`` needs 77 MB (docs/performance.md,
/// "Decoding gateway responses").
///
/// Call ``next()`` until it returns nil; each entry's ``ResponseItem/content(index:)`` (with
/// `index` ``itemCount`` − 1 right after ``next()``) gives its image bytes or link.
///
/// It accepts exactly what ``ImagesResponse/init(parsing:)`` accepts and refuses the same input
/// with the same errors, with one order difference a stream brings: entries are handed out as
/// they are read, so a document that breaks (or turns out to be no response) after some entries
/// throws from the ``next()`` call that reaches the break, after those entries. `ImagesResponse`
/// (built on this reader) reads to the end first, so it throws before giving anything.
///
/// - The top-level fields (``created``, ``outputFormat``, ``size``, ``usage``, ``extra``) are those
///   read so far: the ones before `data` while entries are handed out (OpenAI sends `created`
///   first and `usage` last), all of them once ``next()`` has returned nil.
/// - Duplicate keys: the first one counts, later ones are checked as JSON and dropped (as
///   `JSONDecoder` does), in the document and in each entry.
/// - Nesting is bounded: more than 512 arrays and objects inside each other is invalid JSON (the
///   bound of `JSONDecoder`).
/// - Also as `JSONDecoder`: a UTF-8 byte order mark before the document and a trailing comma in an
///   array or object are accepted; a number is an `Int` when it is one exactly (`1.0`, `1e2`) and
///   out of `Double`'s range (`1e400`) is invalid JSON; strings must be valid UTF-8 without lone
///   surrogates.
/// - When an entry has two fields of the wrong type, its ``ResponseItem/problem`` names the last in
///   the document (``ResponseItem/init(json:)`` goes by its dictionary's order).
/// - A document that does not start with `{` (an array, a server-sent event stream, UTF-16 text, …)
///   is read whole, under the same byte limit, and parsed as ``ImagesResponse/init(parsing:)`` does.
///   A document that starts with `{` must be JSON: unlike ``ImagesResponse/init(parsing:)``, the
///   reader does not look for server-sent events in it after a syntax error.
///
/// Not thread-safe: one reader is used by one task at a time.
public final class ImagesResponseReader {
    /// What becomes of each `b64_json` string.
    public enum Base64Mode: Sendable, Equatable {
        /// Decoded into ``ResponseItem/decodedBytes`` while it is read (``ResponseItem/b64JSON`` is
        /// nil); invalid base64 becomes the entry's ``ResponseItem/problem``, with the reason
        /// ``ResponseItem/content(index:)`` would have given.
        case decode
        /// Kept as text in ``ResponseItem/b64JSON``, as ``ImagesResponse/init(parsing:)`` keeps it.
        case keepText
    }

    /// The default ``chunkSize``: 64 KiB. Larger chunks are no faster (the 2026-12-07 measurement
    /// in docs/performance.md: 1 MiB, 256 KiB, 64 KiB and 16 KiB read a 16.8 MB response in the same
    /// time) and each byte of chunk is a byte of peak memory.
    public static let defaultChunkSize = 64 << 10

    /// Bytes read from the input at a time.
    public let chunkSize: Int
    /// What becomes of each `b64_json` string.
    public let base64Mode: Base64Mode
    /// Unix time (seconds), read as ``ImagesResponse/created`` is; nil while not read yet.
    public private(set) var created: Int?
    /// The `output_format` field (as ``ImagesResponse/outputFormat``); nil while not read yet.
    public private(set) var outputFormat: String?
    /// The `size` field (as ``ImagesResponse/size``); nil while not read yet.
    public private(set) var size: String?
    /// The `usage` field (as ``ImagesResponse/usage``); nil while not read yet (OpenAI sends it last).
    public private(set) var usage: JSONValue?
    /// Top-level fields not interpreted, as ``ImagesResponse/extra``.
    public private(set) var extra: [String: JSONValue] = [:]
    /// Where each `b64_json` string goes in ``Base64Mode/decode`` mode, when set: the reader calls
    /// it with the entry's index as the string starts and decodes the string into the sink it
    /// returns, a piece at a time, instead of into ``ResponseItem/decodedBytes``, so not even the
    /// decoded image is held (``ResponseItem/streamedByteCount`` then says how many bytes went
    /// there; invalid base64 is still the entry's ``ResponseItem/problem``, the sink having had
    /// part of it). Only strings of a streamed document: the entries of a document read whole
    /// (one that does not start with `{`, such as server-sent events) keep their
    /// ``ResponseItem/decodedBytes``. ``readAll()`` with a sink gives entries without their bytes.
    public var imageSink: ((_ index: Int) -> any ResponseImageSink)?
    /// How many entries ``next()`` has handed out.
    public private(set) var itemCount = 0
    /// Bytes of the input consumed so far (the whole input once ``next()`` has returned nil).
    public var bytesRead: Int { scanner.offset }

    private let scanner: ResponseJSONScanner
    private enum State {
        case start
        /// In the top-level object; `first` until its first member.
        case members(first: Bool)
        /// In the `data` array; `first` until its first element.
        case items(first: Bool)
        /// The document was not a streamed object: its entries, from the whole-document parser.
        case parsed([ResponseItem], next: Int)
        case done
        case failed(DarkroomError)
    }
    private var state = State.start
    private var seenKeys: Set<String> = []
    private var sawData = false
    /// Why `data` cannot be used (thrown at the end of the document).
    private var dataProblem: String?

    /// Reads the file at `path` (`-` is standard input), at most `maxBytes` bytes (1 to
    /// ``Limits/maxByteCount``), `chunkSize` bytes at a time (at least 1).
    ///
    /// Throws ``DarkroomError/file(_:)`` (``FileError/io(path:message:)`` when it cannot be opened or
    /// is a folder, ``FileError/inputTooLarge(path:size:limit:)`` when a regular file is larger than
    /// `maxBytes`) and ``DarkroomError/option(_:)`` for a limit or chunk size out of range.
    public convenience init(path: String, maxBytes: Int = InputFile.defaultMaxBytes,
                            chunkSize: Int = ImagesResponseReader.defaultChunkSize,
                            base64 mode: Base64Mode = .decode) throws(DarkroomError) {
        if path == "-" {
            try self.init(fileDescriptor: STDIN_FILENO, name: path, maxBytes: maxBytes, chunkSize: chunkSize, base64: mode)
            return
        }
        try ValueParser.check(chunkSize, name: "chunk-size", in: 1...(1 << 30))
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DarkroomError.file(.io(path: path, message: InputFile.reason(errno))) }
        let source: ResponseByteSource
        do {
            source = try ResponseByteSource(fileDescriptor: fd, owned: true, name: path, limit: maxBytes)
        } catch {
            close(fd)
            throw error
        }
        self.init(source: source, chunkSize: chunkSize, mode: mode)
    }

    /// Reads an open file descriptor (a file, pipe or socket) from its current offset to its end,
    /// at most `maxBytes` bytes; `name` is used in errors. The descriptor is not closed.
    /// Throws as ``init(path:maxBytes:chunkSize:base64:)``.
    public convenience init(fileDescriptor fd: CInt, name: String, maxBytes: Int = InputFile.defaultMaxBytes,
                            chunkSize: Int = ImagesResponseReader.defaultChunkSize,
                            base64 mode: Base64Mode = .decode) throws(DarkroomError) {
        try ValueParser.check(chunkSize, name: "chunk-size", in: 1...(1 << 30))
        let source = try ResponseByteSource(fileDescriptor: fd, owned: false, name: name, limit: maxBytes)
        self.init(source: source, chunkSize: chunkSize, mode: mode)
    }

    /// Reads a body already in memory, `chunkSize` bytes (at least 1; smaller values are for tests)
    /// at a time. Throws ``DarkroomError/option(_:)`` for a chunk size out of range.
    public convenience init(data: Data, chunkSize: Int = ImagesResponseReader.defaultChunkSize,
                            base64 mode: Base64Mode = .decode) throws(DarkroomError) {
        try ValueParser.check(chunkSize, name: "chunk-size", in: 1...(1 << 30))
        self.init(source: ResponseByteSource(data: data), chunkSize: chunkSize, mode: mode)
    }

    private init(source: ResponseByteSource, chunkSize: Int, mode: Base64Mode) {
        self.chunkSize = chunkSize
        base64Mode = mode
        scanner = ResponseJSONScanner(source: source, chunkSize: chunkSize)
    }

    /// The next `data[]` entry, nil after the last one (and after the whole document has been read
    /// and checked).
    ///
    /// Throws ``DarkroomError/gateway(_:)`` (``GatewayError/malformedResponse(_:)``) as
    /// ``ImagesResponse/init(parsing:)`` does: `"empty input"`, `"invalid JSON"`, `"top level is …"`,
    /// `"no \"data\" array"`, `"the response is an error: …"` (an OpenAI error body),
    /// `"\"data\" is …, expected an array"`; and ``DarkroomError/file(_:)`` when reading fails or
    /// passes the byte limit. After an error, every later call throws it again. A bad entry is not
    /// an error here: it is handed out with its ``ResponseItem/problem``.
    public func next() throws(DarkroomError) -> ResponseItem? {
        do {
            guard let item = try step() else { state = .done; return nil }
            itemCount += 1
            return item
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Reads the rest of the document: an ``ImagesResponse`` of the entries not yet handed out and
    /// every top-level field. Throws as ``next()``.
    public func readAll() throws(DarkroomError) -> ImagesResponse {
        var items: [ResponseItem] = []
        while let item = try next() { items.append(item) }
        return ImagesResponse(created: created, data: items, outputFormat: outputFormat, size: size,
                              usage: usage, extra: extra)
    }

    private func step() throws(DarkroomError) -> ResponseItem? {
        while true {
            switch state {
            case .done: return nil
            case let .failed(error): throw error
            case .start:
                let (first, skipped) = try scanner.peekDocumentStart()
                guard let first else {
                    throw skipped.isEmpty ? DarkroomError.gateway(.malformedResponse("empty input")) : ResponseJSONScanner.invalidJSON
                }
                guard first == UInt8(ascii: "{") else {
                    try parseWhole(skipped: skipped)
                    continue
                }
                _ = try scanner.next()
                state = .members(first: true)
            case let .parsed(items, i):
                guard i < items.count else { return nil }
                state = .parsed(items, next: i + 1)
                return items[i]
            case let .members(first):
                var isFirst = first
                let key = try scanner.nextKey(first: &isFirst)
                state = .members(first: false)
                guard let key else {
                    try finishDocument()
                    return nil
                }
                try member(key)
            case let .items(first):
                var isFirst = first
                let more = try scanner.nextElement(first: &isFirst)
                state = more ? .items(first: false) : .members(first: false)
                if more { return try item() }
            }
        }
    }

    /// One top-level member whose key and `:` were read.
    private func member(_ key: String) throws(DarkroomError) {
        guard seenKeys.insert(key).inserted else {
            _ = try scanner.value(depth: 1)   // a duplicate: the first one counts
            return
        }
        if key == "data" {
            sawData = true
            if try scanner.peekSkippingWhitespace() == UInt8(ascii: "[") {
                _ = try scanner.next()
                state = .items(first: true)
            } else {
                let value = try scanner.value(depth: 1)
                dataProblem = "\"data\" is \(value.typeName), expected an array"
            }
            return
        }
        let value = try scanner.value(depth: 1)
        switch key {
        case "created": created = ImagesResponse.createdTime(value)
        case "output_format": outputFormat = value.stringValue
        case "size": size = value.stringValue
        case "usage": if value != .null { usage = value }
        default: extra[key] = value
        }
    }

    /// After the top-level object: nothing but whitespace may follow; then the checks of a
    /// document without usable `data`.
    private func finishDocument() throws(DarkroomError) {
        guard try scanner.peekSkippingWhitespace() == nil else { throw ResponseJSONScanner.invalidJSON }
        if !sawData {
            if let error = extra["error"]?.objectValue, let message = error["message"]?.stringValue {
                throw DarkroomError.gateway(.malformedResponse("the response is an error: \(message)"))
            }
            throw DarkroomError.gateway(.malformedResponse("no \"data\" array"))
        }
        if let dataProblem { throw DarkroomError.gateway(.malformedResponse(dataProblem)) }
    }

    /// One `data[]` element: an object read field by field (`b64_json` decoded as it is read),
    /// anything else kept whole, as ``ResponseItem/init(json:)`` keeps it.
    private func item() throws(DarkroomError) -> ResponseItem {
        guard try scanner.peekSkippingWhitespace() == UInt8(ascii: "{") else {
            return ResponseItem(json: try scanner.value(depth: 2))
        }
        _ = try scanner.next()
        var item = ResponseItem()
        var seen: Set<String> = []
        var base64Failure: String?
        var first = true
        while let key = try scanner.nextKey(first: &first) {
            guard seen.insert(key).inserted else {
                _ = try scanner.value(depth: 3)   // a duplicate: the first one counts
                continue
            }
            if key == "b64_json", base64Mode == .decode, try scanner.peekSkippingWhitespace() == UInt8(ascii: "\"") {
                _ = try scanner.next()
                if let sink = imageSink?(itemCount) {
                    var decoder = try scanner.base64StringBody(sink: sink)
                    if decoder.finish() == nil { base64Failure = decoder.failure }
                    item.streamedByteCount = decoder.decodedCount
                    continue
                }
                var decoder = try scanner.base64StringBody()
                if let bytes = decoder.finish() { item.decodedBytes = bytes } else { base64Failure = decoder.failure }
                continue
            }
            item.read(key, try scanner.value(depth: 3))
        }
        if item.problem == nil, let base64Failure { item.problem = base64Failure }
        item.finishReading()
        return item
    }

    /// A document that is not a streamed object: read whole and parsed as
    /// ``ImagesResponse/init(parsing:)`` parses it.
    private func parseWhole(skipped: [UInt8]) throws(DarkroomError) {
        var whole = Data(skipped)   // a byte order mark and whitespace, given back
        whole.append(contentsOf: try scanner.remainingBytes())
        let response = try ImagesResponse(wholeBody: whole)
        created = response.created
        outputFormat = response.outputFormat
        size = response.size
        usage = response.usage
        extra = response.extra
        var items = response.data
        if base64Mode == .decode {
            for i in items.indices where items[i].problem == nil {
                guard let text = items[i].b64JSON else { continue }
                do {
                    items[i].decodedBytes = try ResponseItem.decodeBase64(text, index: i)
                } catch {
                    if case let .gateway(.badItem(_, reason)) = error { items[i].problem = reason }
                }
                items[i].b64JSON = nil
            }
        }
        state = .parsed(items, next: 0)
    }
}
