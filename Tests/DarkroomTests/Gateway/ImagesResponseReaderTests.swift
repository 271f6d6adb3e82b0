import Foundation
import Testing
@testable import Darkroom

/// `ImagesResponseReader`: the streamed reader must accept and refuse exactly what the
/// whole-document parser (`ImagesResponse(wholeBody:)`: JSONDecoder, then server-sent events)
/// does, at every chunk size, and decode `b64_json` as `ResponseItem.decodeBase64` does.
@Suite struct ImagesResponseReaderTests {
    /// A small deterministic generator (SplitMix64), so failures replay.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func old(_ body: Data) -> Result<ImagesResponse, DarkroomError> {
        Result { () throws(DarkroomError) in try ImagesResponse(wholeBody: body) }
    }

    static func streamed(_ body: Data, chunkSize: Int, mode: ImagesResponseReader.Base64Mode = .keepText)
        -> Result<ImagesResponse, DarkroomError> {
        Result { () throws(DarkroomError) in
            if mode == .keepText { return try ImagesResponse(parsing: body, chunkSize: chunkSize) }
            return try ImagesResponseReader(data: body, chunkSize: chunkSize, base64: mode).readAll()
        }
    }

    /// Same value or same error as the whole-document parser, at several chunk sizes.
    static func expectSameAsOld(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        Self.expectSameAsOld(Data(text.utf8), label: text, sourceLocation: sourceLocation)
    }

    static func expectSameAsOld(_ body: Data, label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = old(body)
        for chunk in [1, 2, 3, 7, 64, ImagesResponseReader.defaultChunkSize] {
            let got = streamed(body, chunkSize: chunk)
            #expect(got == expected, "\(label.prefix(200)) (chunk \(chunk))", sourceLocation: sourceLocation)
        }
    }

    static let png = GatewayFixtures.redPixelPNG
    static let pngBase64 = Data(GatewayFixtures.redPixelPNG).base64EncodedString()

    // MARK: the JSON the reader accepts

    @Test func valuesAreReadAsJSONDecoderReadsThem() {
        let values = [
            "1.0", "1e2", "-0", "-0.0", "1E400", "123456789012345678901234567890", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "1.5e300", "01", "1.", ".5", "+1", "-", "1e", "1E+2",
            "0.1e1", "12.50", "9007199254740993", "1e-400", "4.9e-324", "1.7976931348623157e309", "NaN", "Infinity",
            "true", "false", "null", "tru", "nul", "[1,]", "[1,,2]", "[,]", "[,1]", "{}", "{,}", #"{"a":1,}"#,
            #"{"a":1,,}"#, #"{"a" 1}"#, #"{"a":}"#, #"{1:2}"#, #"{"a":1 "b":2}"#, "[1 2]", #""\ud800""#,
            #""\udc00\ud800""#, #""\ud83d\ude00""#, #""\uD800\u0041""#, #""x\u0000y""#, #""\x""#, #""\u00e9\/""#,
            #""\u12""#, #""\uzzzz""#, #""\"\\\/\b\f\n\r\t""#, "\"\u{7F}\"", "\"\u{2028}é😀\"", #"{"a":1,"a":2}"#,
            "[" + String(repeating: "1,", count: 100) + "1]", "\"" + String(repeating: "é", count: 3000) + "\"",
        ]
        for v in values {
            Self.expectSameAsOld(#"{"x":"# + v + #","data":[]}"#)
            Self.expectSameAsOld(#"{"data":[{"url":"u","x":"# + v + "}]}")
        }
    }

    @Test func bytesThatAreNotJSONAreRefusedAsJSONDecoderRefusesThem() {
        let bodies: [[UInt8]] = [
            Array(#"{"x":""#.utf8) + [0xFF] + Array(#"","data":[]}"#.utf8),             // not UTF-8
            Array(#"{"x":""#.utf8) + [0xC0, 0x80] + Array(#"","data":[]}"#.utf8),       // overlong
            Array(#"{"x":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"","data":[]}"#.utf8), // a surrogate in UTF-8
            Array(#"{"x":""#.utf8) + [0xE2, 0x82] + Array(#"","data":[]}"#.utf8),       // cut short
            Array(#"{"x":"a"#.utf8) + [0x09] + Array(#"b","data":[]}"#.utf8),          // a raw tab
            Array(#"{"data":[{"b64_json":""#.utf8) + [0xFF] + Array(#""}]}"#.utf8),
            Array(#"{"data":[{"b64_json":"QQ"#.utf8) + [0x0A] + Array(#"=="}]}"#.utf8),
            Array(#"{"data":[{"b64_json":"data:"#.utf8) + [0xC3, 0xA9] + Array(#",QUJD"}]}"#.utf8),
            Array(#"{"data":[{"b64_json":"data:"#.utf8) + [0xC3] + Array(#",QUJD"}]}"#.utf8),
            [0xEF, 0xBB, 0xBF] + Array(#"{"data":[]}"#.utf8),                          // a byte order mark
            [0xEF, 0xBB] + Array(#"{"data":[]}"#.utf8),
            Array("\u{0C}{\"data\":[]}".utf8), Array(" \r\n\t{\"data\":[]} \n".utf8), Array(#"{"data":[]} x"#.utf8),
            Array(#"{"data":[]}{"#.utf8), Array("   ".utf8), Array("\u{FEFF}".utf8), [],
            Array(#"{"data":[] /* c */}"#.utf8), Array(#"{"data":[],"#.utf8), Array(#"{"data":[]"#.utf8),
        ]
        for body in bodies {
            let data = Data(body)
            Self.expectSameAsOld(data, label: String(decoding: body, as: UTF8.self))
            let decoded = Result { () throws(DarkroomError) in try ImagesResponseReader(data: data, chunkSize: 3).readAll() }
            if case .failure = Self.old(data) { #expect(throws: (any Error).self) { try decoded.get() } }
        }
    }

    @Test func nestingIsBoundedAsJSONDecoderBoundsIt() {
        // The top-level object is one level: 511 arrays inside it is the deepest JSONDecoder reads.
        for n in [510, 511, 512, 513] {
            Self.expectSameAsOld(#"{"data":[],"x":"# + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "}")
        }
        Self.expectSameAsOld(#"{"data":["# + String(repeating: "[", count: 510) + String(repeating: "]", count: 510) + "]}")
        Self.expectSameAsOld(#"{"data":["# + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + "]}")
        Self.expectSameAsOld(#"{"data":[{"x":"# + String(repeating: "{\"a\":", count: 510) + "1" + String(repeating: "}", count: 510) + "}]}")
        Self.expectSameAsOld(#"{"data":[{"x":"# + String(repeating: "{\"a\":", count: 511) + "1" + String(repeating: "}", count: 511) + "}]}")
        // Far deeper: refused at the bound, without recursing further (no stack overflow).
        let deep = Data((#"{"data":[],"x":"# + String(repeating: "[", count: 1_000_000)).utf8)
        #expect(throws: DarkroomError.gateway(.malformedResponse("invalid JSON"))) { try ImagesResponse(parsing: deep) }
    }

    @Test func hugeNumbersAreReadAsJSONDecoderReadsThem() {
        for created in ["1e400", "-1e400", "1" + String(repeating: "0", count: 400), "1" + String(repeating: "0", count: 20),
                        "1" + String(repeating: "0", count: 100_000) + ".5", "0." + String(repeating: "0", count: 100_000) + "1",
                        "1700000000.0", "1.7e9", "\"1700000000\"", "1e15", "-1e14"] {
            Self.expectSameAsOld(#"{"created":"# + created + #","data":[]}"#)
        }
        let r = try? ImagesResponse(parsing: Data(#"{"created":1.7e9,"data":[],"usage":{"n":123456789012345678901234567890}}"#.utf8))
        #expect(r?.created == 1_700_000_000)
        #expect(r?.usage == ["n": .double(1.2345678901234568e29)])
    }

    @Test func duplicateKeysKeepTheFirstAsJSONDecoderDoes() throws {
        let body = #"""
            {"created":1,"created":2,"data":[{"url":"a","url":"b","b64_json":null,"b64_json":"QUJD"}],
             "data":[{"url":"c"}],"size":"1x1","size":"2x2","usage":null,"usage":{"n":1},"q":1,"q":2}
            """#
        Self.expectSameAsOld(body)
        let r = try ImagesResponseReader(data: Data(body.utf8)).readAll()
        #expect(r.created == 1 && r.size == "1x1" && r.usage == nil && r.extra == ["q": 1])
        #expect(r.data.count == 1 && r.data[0].url == "a" && r.data[0].decodedBytes == nil && r.data[0].b64JSON == nil)
        // The first b64_json is decoded, a later one only checked as JSON.
        let two = try ImagesResponseReader(data: Data(#"{"data":[{"b64_json":"QUJD","b64_json":"!!"}]}"#.utf8)).readAll()
        #expect(two.data[0].decodedBytes == Array("ABC".utf8) && two.data[0].problem == nil)
    }

    @Test func documentShapesGiveTheSameErrors() throws {
        for body in [
            "[1]", "1", "\"x\"", "null", #"{"created":1}"#, #"{"data":{"b64_json":"x"}}"#, #"{"data":null}"#, #"{"data":"x"}"#,
            #"{"error":{"message":"Invalid size '999x999'.","type":"invalid_request_error"}}"#, #"{"error":{"message":3}}"#,
            #"{"error":"x"}"#, #"{"error":{"message":"m"},"data":[]}"#, #"{"data":{},"x":}"#, #"{"data":[1,"a",null,[],{}]}"#,
            #"{"data":[{"b64_json":12,"url":"u"}]}"#, #"{"data":[{"b64_json":"QUJD","url":3}]}"#, #"{"data":[{"revised_prompt":1,"url":"u","z":null,"y":[1]}]}"#,
            "event: x\n\n", "data: {\"type\":\"image_generation.completed\",\"b64_json\":\"\(Self.pngBase64)\",\"created_at\":5}\n\n",
            "\n\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\"QQ\"}\n", "{\ndata: {\"type\":\"x.completed\",\"url\":\"u\"}\n",
        ] {
            Self.expectSameAsOld(body)
        }
        for file in ["b64-single.json", "b64-two.json", "error-response.json", "malformed.json", "mixed.json",
                     "no-created.json", "stream.sse", "url-only.json"] {
            Self.expectSameAsOld(try GatewayFixtures.responseData(file), label: file)
        }
    }

    @Test func aDocumentCutShortIsRefusedAtEveryLength() throws {
        let body = try GatewayFixtures.responseData("b64-single.json")
        for n in 0..<body.count {
            let prefix = body.prefix(n)
            let expected = Self.old(prefix)
            #expect(Self.streamed(prefix, chunkSize: 5) == expected, "cut at \(n)")
            #expect(Self.streamed(prefix, chunkSize: 5, mode: .decode).map(\.data.count) == expected.map(\.data.count), "cut at \(n)")
        }
        // From a file: the entry before the cut is handed out, then the cut is the error.
        let dir = try TestSupport.tempDir()
        let path = dir.appendingPathComponent("cut.json").path
        try Data(#"{"created":7,"data":[{"url":"a"},{"b64_json":"QUJ"#.utf8).write(to: URL(fileURLWithPath: path))
        let reader = try ImagesResponseReader(path: path, chunkSize: 4)
        #expect(try reader.next()?.url == "a")
        #expect(reader.created == 7 && reader.itemCount == 1)
        #expect(throws: DarkroomError.gateway(.malformedResponse("invalid JSON"))) { try reader.next() }
        #expect(throws: DarkroomError.gateway(.malformedResponse("invalid JSON"))) { try reader.next() }
    }

    // MARK: base64

    /// A response holding `b64` as the one entry's `b64_json` (raw JSON text, escapes allowed).
    static func single(_ b64: String) -> Data { Data((#"{"data":[{"b64_json":""# + b64 + #""}]}"#).utf8) }

    /// The content in decode mode, and decoded into an image sink, equals the content from the
    /// text, at every chunk size given.
    static func expectSameContent(_ b64: String, chunks: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
        let body = single(b64)
        let expected = old(body).map { $0.contents() }
        for chunk in chunks {
            let got = streamed(body, chunkSize: chunk, mode: .decode).map { $0.contents() }
            #expect(got == expected, "\(b64.prefix(80)) (chunk \(chunk))", sourceLocation: sourceLocation)
            let sunk = streamedIntoSinks(body, chunkSize: chunk)
            #expect(sunk == expected, "\(b64.prefix(80)) (chunk \(chunk), image sink)", sourceLocation: sourceLocation)
        }
    }

    final class CollectingSink: ResponseImageSink {
        var bytes: [UInt8] = []
        var writes = 0
        func write(_ piece: UnsafeRawBufferPointer) {
            bytes += piece
            writes += 1
        }
    }

    /// Every entry's content with ``ImagesResponseReader/imageSink`` set: the bytes a sink got
    /// stand in for ``ResponseItem/decodedBytes``.
    static func streamedIntoSinks(_ body: Data, chunkSize: Int) -> Result<[Result<ResponseItemContent, DarkroomError>], DarkroomError> {
        Result { () throws(DarkroomError) in
            let reader = try ImagesResponseReader(data: body, chunkSize: chunkSize)
            var sinks: [Int: CollectingSink] = [:]
            reader.imageSink = { index in
                let sink = CollectingSink()
                sinks[index] = sink
                return sink
            }
            var contents: [Result<ResponseItemContent, DarkroomError>] = []
            var index = 0
            while let item = try reader.next() {
                var copy = item
                if let sink = sinks[index] {
                    #expect(item.decodedBytes == nil && item.b64JSON == nil && item.streamedByteCount == sink.bytes.count)
                    if item.problem == nil {
                        #expect(throws: DarkroomError.self) { try item.content(index: index) }
                    }
                    copy.streamedByteCount = nil
                    copy.decodedBytes = sink.bytes
                } else {
                    #expect(item.streamedByteCount == nil)
                }
                contents.append(Result { () throws(DarkroomError) in try copy.content(index: index) })
                index += 1
            }
            return contents
        }
    }

    @Test func base64SplitAtEveryOffsetAcrossChunkEdges() {
        let b64 = Self.pngBase64   // 92 characters
        let variants = [
            b64, b64.replacingOccurrences(of: "/", with: "\\/"), b64.replacingOccurrences(of: "A", with: "\\u0041"),
            b64.replacingOccurrences(of: "AAAA", with: "AA\\nAA\\r\\n "), "data:image/png;base64," + b64,
            "data:image/png;base64,\\n" + b64, "\\u0064ata:image\\/png;base64," + b64,
            b64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"),
            String(b64.dropLast(2)), String(b64.dropLast(1)), b64 + "\\t", " " + b64, "\\f" + b64 + "\\u000b",
            b64.replacingOccurrences(of: "J", with: "\\u00e9"), b64.replacingOccurrences(of: "J", with: "é"),
            "data:\\u00e9," + b64, "data:é," + b64, "data:" + b64, "data:,", "", " \\n ", "dat", "data", "A", "QQ", "QQ=A",
            "Q===", "====", "QR==", "QUJD====", "QQ==QUJD", "QQ==QQ==", "QUJD!", "QU:D", "QUJD\\\"",
            "========", "============", "QUJD========", "QQ=A========", "QQ==========", "=QUJD", "QUJD=A==", "QUJD==AA",
        ]
        for v in variants { Self.expectSameContent(v, chunks: Array(1...40) + [97, 1 << 20]) }
    }

    @Test func base64AcrossFlushesAndChunks() throws {
        var generator = Seeded(state: 17)
        let bytes = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let b64 = Data(GatewayFixtures.redPixelPNG + bytes).base64EncodedString()
        for chunk in [1000, 4093, 65536, 65537, 1 << 20] {
            let r = try ImagesResponseReader(data: Self.single(b64), chunkSize: chunk).readAll()
            #expect(try r.contents()[0].get() == .image(bytes: GatewayFixtures.redPixelPNG + bytes, format: .png))
        }
        // Escapes and whitespace every 76 characters (MIME line length), around the 64 KiB flushes.
        var wrapped = ""
        var rest = Substring(b64)
        while !rest.isEmpty { wrapped += rest.prefix(76) + "\\r\\n"; rest = rest.dropFirst(76) }
        Self.expectSameContent(wrapped.replacingOccurrences(of: "/", with: "\\/"), chunks: [999, 1 << 20])
        // Long tails of '=' (Foundation ignores them after a group) and of other text after a '='.
        for tail in [String(repeating: "=", count: 70_001), String(repeating: "====", count: 20_000) + "QUJD",
                     "=" + String(repeating: "QUJD", count: 20_000)] {
            Self.expectSameContent("QUJD" + tail, chunks: [4096])
            Self.expectSameContent("QQ" + tail, chunks: [4096])
        }
        // Padding right after a flush boundary and a valid tail far from it.
        for n in [49_152, 49_151, 49_150] {   // 65 536 characters and around
            let text = Data(bytes.prefix(n)).base64EncodedString()
            Self.expectSameContent(text, chunks: [4096])
            Self.expectSameContent(text + "QQ==", chunks: [4096])
        }
    }

    /// The decoder alone with tiny flushes against the whole-string decoder, on random text.
    @Test func base64DecoderMatchesTheWholeStringDecoder() {
        var generator = Seeded(state: 42)
        let alphabet = Array("QUJDAgw+/=-_ \n\t!é".unicodeScalars)
        // Runs of '=' of every length after every kind of start, with and without text after them.
        var texts: [String] = []
        for head in ["", "Q", "QQ", "QUJ", "QUJD", "QQ=A", "QUJDQQ", "QUJD=", "=", "A=B"] {
            for k in 0...17 {
                for tail in ["", "Q", "QUJD", "=A", " "] { texts.append(head + String(repeating: "=", count: k) + tail) }
            }
        }
        for round in 0..<(20_000 + texts.count) {
            let length = Int.random(in: 0...20, using: &generator)
            let text = round < texts.count ? texts[round]
                : String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
            let expected = Result { () throws(DarkroomError) in try ResponseItem.decodeBase64(text, index: 0) }
            for flush in [4, 8] {
                var decoder = Base64StreamDecoder(expectedLength: round % 2 == 0 ? nil : length, flushSize: flush)
                for scalar in text.unicodeScalars {
                    if scalar.isASCII { decoder.append(UInt8(scalar.value)) } else { decoder.appendNonASCII() }
                }
                let bytes = decoder.finish()
                let got: Result<[UInt8], DarkroomError> = bytes.map { .success($0) }
                    ?? .failure(.gateway(.badItem(index: 0, reason: decoder.failure ?? "?")))
                #expect(got == expected, "\(text.debugDescription) flush \(flush)")
            }
        }
    }

    // MARK: files, limits, many entries

    @Test func manyEntriesFromAFile() throws {
        let count = 1000
        var body = #"{"created":1700000000,"data":["#
        for i in 0..<count {
            if i > 0 { body += "," }
            body += i % 3 == 2 ? #"{"url":"https://x.invalid/\#(i)"}"# : #"{"b64_json":"\#(Self.pngBase64)","revised_prompt":"p\#(i)"}"#
        }
        body += #"],"usage":{"total_tokens":5},"size":"1x1"}"#
        let dir = try TestSupport.tempDir()
        let path = dir.appendingPathComponent("many.json").path
        try Data(body.utf8).write(to: URL(fileURLWithPath: path))
        let reader = try ImagesResponseReader(path: path, chunkSize: 4096)
        var n = 0
        while let item = try reader.next() {
            if n % 3 == 2 {
                #expect(try item.content(index: n) == .url("https://x.invalid/\(n)"))
            } else {
                #expect(item.decodedBytes == Self.png && item.b64JSON == nil && item.revisedPrompt == "p\(n)")
            }
            #expect(reader.usage == nil)   // after data: not read yet
            n += 1
        }
        #expect(n == count && reader.itemCount == count && reader.bytesRead == body.utf8.count)
        #expect(reader.created == 1_700_000_000 && reader.usage == ["total_tokens": 5] && reader.size == "1x1")
        #expect(try reader.next() == nil)
        // The whole parser agrees, and a decoded response re-emits the same JSON.
        let whole = try ImagesResponse(parsing: Data(body.utf8))
        let decoded = try ImagesResponseReader(path: path).readAll()
        #expect(decoded.contents() == whole.contents())
        #expect(try ImagesResponse(parsing: decoded.jsonData()) == whole)
    }

    @Test func byteLimitsAndFilesAreCheckedAsInputFileChecksThem() throws {
        let dir = try TestSupport.tempDir()
        let path = dir.appendingPathComponent("r.json").path
        let body = Data(#"{"data":[{"url":"u"}]}"#.utf8)
        try body.write(to: URL(fileURLWithPath: path))
        #expect(throws: DarkroomError.file(.inputTooLarge(path: path, size: body.count, limit: 10))) {
            try ImagesResponseReader(path: path, maxBytes: 10)
        }
        #expect(try ImagesResponseReader(path: path, maxBytes: body.count).readAll().data.count == 1)
        #expect(throws: DarkroomError.file(.io(path: dir.path, message: "is a directory, not a file"))) {
            try ImagesResponseReader(path: dir.path)
        }
        #expect(throws: DarkroomError.file(.io(path: path + ".none", message: "no such file"))) {
            try ImagesResponseReader(path: path + ".none")
        }
        #expect(throws: DarkroomError.self) { try ImagesResponseReader(path: path, chunkSize: 0) }
        #expect(throws: DarkroomError.self) { try ImagesResponseReader(path: path, maxBytes: 0) }
        // A pipe: refused one byte past the limit, while reading.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let long = Data(#"{"data":[{"url":"u"}],"pad":"\#(String(repeating: "x", count: 5000))"}"#.utf8)
        _ = long.withUnsafeBytes { write(fds[1], $0.baseAddress, long.count) }
        close(fds[1])
        defer { close(fds[0]) }
        let reader = try ImagesResponseReader(fileDescriptor: fds[0], name: "-", maxBytes: 4096, chunkSize: 1024)
        #expect(try reader.next()?.url == "u")
        #expect(throws: DarkroomError.file(.inputTooLarge(path: "standard input", size: nil, limit: 4096))) { try reader.next() }
    }

    @Test func anImageSinkGetsTheBytesInPieces() throws {
        var generator = Seeded(state: 23)
        let bytes = GatewayFixtures.redPixelPNG + (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let b64 = Data(bytes).base64EncodedString()
        let body = Data((#"{"created":1,"data":[{"b64_json":""# + b64 + #"","revised_prompt":"p"},{"url":"u"},{"b64_json":"QUJD!"}]}"#).utf8)
        let reader = try ImagesResponseReader(data: body)
        var sinks: [Int: CollectingSink] = [:]
        reader.imageSink = { index in
            let sink = CollectingSink()
            sinks[index] = sink
            return sink
        }
        let first = try #require(try reader.next())
        #expect(sinks[0]?.bytes == bytes)
        #expect((sinks[0]?.writes ?? 0) > 4)   // pieces, not the whole
        #expect(first.streamedByteCount == bytes.count && first.decodedBytes == nil && first.revisedPrompt == "p" && first.problem == nil)
        let second = try #require(try reader.next())
        #expect(second.streamedByteCount == nil && second.url == "u" && sinks[1] == nil)
        let third = try #require(try reader.next())
        #expect(third.problem == "b64_json is not valid base64" && third.streamedByteCount != nil)
        #expect(throws: DarkroomError.gateway(.badItem(index: 2, reason: "b64_json is not valid base64"))) { try third.content(index: 2) }
        #expect(try reader.next() == nil)
        // A document read whole (server-sent events) keeps its bytes in the entries.
        let events = try ImagesResponseReader(data: try GatewayFixtures.responseData("stream.sse"))
        events.imageSink = { _ in CollectingSink() }
        let event = try #require(try events.next())
        #expect(event.decodedBytes == Self.png && event.streamedByteCount == nil)
    }

    @Test func aDocumentThatIsNoObjectIsReadWhole() throws {
        let dir = try TestSupport.tempDir()
        let path = dir.appendingPathComponent("s.sse").path
        try GatewayFixtures.responseData("stream.sse").write(to: URL(fileURLWithPath: path))
        let reader = try ImagesResponseReader(path: path, chunkSize: 16)
        let item = try #require(try reader.next())
        #expect(item.decodedBytes == Self.png && item.b64JSON == nil)
        #expect(try reader.next() == nil && reader.created == 1_700_000_010 && reader.outputFormat == "png")
        #expect(throws: DarkroomError.gateway(.malformedResponse("top level is an array, expected an object"))) {
            try ImagesResponseReader(data: Data(" [1]".utf8), chunkSize: 1).next()
        }
    }

    /// Random damage to the fixtures (bytes replaced, inserted, removed: JSON's own characters
    /// and escapes more often than not) is accepted or refused alike by the reader, at chunk sizes
    /// 1 to 7, in both modes. Where an entry has two fields of the wrong type, which one the
    /// whole-document parser names depends on its dictionary's order, so only failure is compared.
    @Test func damagedResponsesAreReadAlike() throws {
        var generator = Seeded(state: 7)
        let fixtures = try ["b64-single.json", "b64-two.json", "mixed.json", "url-only.json", "error-response.json"]
            .map { [UInt8](try GatewayFixtures.responseData($0)) }
        let pieces = ["{", "}", "[", "]", "\"", ",", ":", "\\", #"\u0041"#, " ", #"\n"#, #"\/"#, "=", "-", "_", "0", ".",
                      "e", "-1", "true", "null", #""data""#, #""b64_json""#, #""url""#, #"\u00e9"#, #"\ud800"#,
                      #"\u0000"#, "é"].map { Array($0.utf8) } + [[0xFF], [0xC3], [0x09]]
        func same(_ a: Result<ImagesResponse, DarkroomError>, _ b: Result<ImagesResponse, DarkroomError>) -> Bool {
            switch (a, b) {
            case let (.success(x), .success(y)):
                let (cx, cy) = (x.contents(), y.contents())
                return cx.count == cy.count && zip(cx, cy).allSatisfy { p, q in
                    if case .failure = p, case .failure = q { return true }
                    return p == q
                } && x.created == y.created && x.usage == y.usage && x.extra == y.extra
            default:
                return a == b
            }
        }
        var accepted = 0
        for round in 0..<3000 {
            var body = fixtures[round % fixtures.count]
            for _ in 0...Int.random(in: 0...2, using: &generator) {
                let at = Int.random(in: 0...body.count, using: &generator)
                let piece = pieces.randomElement(using: &generator)!
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: body.insert(contentsOf: piece, at: at)
                case 1 where at < body.count: body.replaceSubrange(at..<min(at + piece.count, body.count), with: piece)
                default: if at < body.count { body.remove(at: at) }
                }
            }
            let data = Data(body)
            let expected = Self.old(data)
            let chunk = 1 + round % 7
            let text = Result { () throws(DarkroomError) in try ImagesResponse(parsing: data, chunkSize: chunk) }
            #expect(same(text, expected), "round \(round): \(String(decoding: body, as: UTF8.self).debugDescription)")
            if case .success = expected { accepted += 1 }
            let decoded = Self.streamed(data, chunkSize: chunk, mode: .decode)
            // The reader does not look for server-sent events in a document that starts with `{`.
            let viaEvents = (try? JSONValue(parsing: data)) == nil
            if case .success = expected, viaEvents, decoded == .failure(ResponseJSONScanner.invalidJSON) { continue }
            #expect(same(decoded, expected), "round \(round) (decode): \(String(decoding: body, as: UTF8.self).debugDescription)")
        }
        #expect(accepted > 500, "\(accepted) of 3000 damaged responses still parse: the damage is too heavy to test much")
    }
}
