import Foundation
import Testing
@testable import Darkroom

@Suite struct GatewayResponseTests {
    @Test func parsesASingleB64Response() throws {
        let r = try ImagesResponse(parsing: try GatewayFixtures.responseData("b64-single.json"))
        #expect(r.created == 1_700_000_000)
        #expect(r.data.count == 1)
        #expect(r.data[0].revisedPrompt == "a single red pixel")
        #expect(r.outputFormat == "png")
        #expect(r.size == "1x1")
        #expect(r.usage == .object(["input_tokens": .int(50), "output_tokens": .int(272), "total_tokens": .int(322),
                                    "input_tokens_details": .object(["image_tokens": .int(40), "text_tokens": .int(10)])]))
        #expect(r.extra == ["quality": .string("high"), "background": .string("opaque")])
        let contents = r.contents()
        #expect(try contents[0].get() == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
    }

    @Test func parsesURLItems() throws {
        let r = try ImagesResponse(parsing: try GatewayFixtures.responseData("url-only.json"))
        #expect(r.created == 1_700_000_002)
        #expect(try r.contents().map { try $0.get() } == [
            .url("https://media.example.invalid/abc123.png"), .url("https://media.example.invalid/def456.png"),
        ])
        #expect(r.data[0].revisedPrompt == "a cat")
        #expect(r.data[1].revisedPrompt == nil)
    }

    @Test func mixedResponseGivesOneResultPerItem() throws {
        let r = try ImagesResponse(parsing: try GatewayFixtures.responseData("mixed.json"))
        let c = r.contents()
        #expect(c.count == 8)
        #expect(try c[0].get() == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
        #expect(try c[1].get() == .url("https://media.example.invalid/x.png"))
        // output_format says png, the bytes are a GIF: the format is sniffed.
        #expect(try c[2].get() == .image(bytes: GatewayFixtures.pixelGIF, format: .gif))
        #expect(throws: DarkroomError.gateway(.badItem(index: 3, reason: "b64_json is not valid base64"))) { try c[3].get() }
        #expect(throws: DarkroomError.gateway(.badItem(index: 4, reason: "b64_json does not hold a PNG, JPEG, WebP, AVIF or GIF image"))) {
            try c[4].get()
        }
        #expect(throws: DarkroomError.gateway(.badItem(index: 5, reason: "expected an object, found a number"))) { try c[5].get() }
        #expect(throws: DarkroomError.gateway(.badItem(index: 6, reason: "neither b64_json nor url"))) { try c[6].get() }
        // A truncated PNG still sniffs as PNG; decoding it is what fails (see the CLI tests).
        #expect(try c[7].get() == .image(bytes: Array(GatewayFixtures.redPixelPNG.prefix(20)), format: .png))
        #expect(GatewayError.badItem(index: 3, reason: "b64_json is not valid base64").description
                == "item 3: b64_json is not valid base64")
    }

    @Test(arguments: [
        ("malformed.json", "invalid JSON"),
        ("error-response.json", "the response is an error: Invalid size '999x999'."),
    ])
    func malformedDocumentsAreRejected(_ file: String, _ reason: String) throws {
        let data = try GatewayFixtures.responseData(file)
        #expect(throws: DarkroomError.gateway(.malformedResponse(reason))) { try ImagesResponse(parsing: data) }
    }

    @Test(arguments: [
        ("[1]", "top level is an array, expected an object"),
        (#"{"created":1}"#, #"no "data" array"#),
        (#"{"data":{"b64_json":"x"}}"#, #""data" is an object, expected an array"#),
        ("", "empty input"),
    ])
    func structuralProblemsAreRejected(_ json: String, _ reason: String) {
        #expect(throws: DarkroomError.gateway(.malformedResponse(reason))) { try ImagesResponse(parsing: Data(json.utf8)) }
    }

    @Test func parsesAStreamedResponse() throws {
        let r = try ImagesResponse(parsing: try GatewayFixtures.responseData("stream.sse"))
        #expect(r.created == 1_700_000_010)
        #expect(r.data.count == 1)  // the partial image is skipped
        #expect(try r.contents()[0].get() == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
        #expect(r.size == "1x1" && r.outputFormat == "png")
        #expect(r.usage == .object(["input_tokens": .int(10), "output_tokens": .int(100), "total_tokens": .int(110)]))
        #expect(r.extra == ["quality": .string("high"), "background": .string("opaque")])
        #expect(r.data[0].extra.isEmpty)
    }

    @Test(arguments: [
        ("event: image_generation.partial_image\ndata: {\"type\":\"image_generation.partial_image\",\"b64_json\":\"AA\"}\n\n",
         "event stream has no completed image event"),
        ("event: image_generation.completed\ndata: {not json\n\n", "event stream has a data line that is not JSON"),
        ("event: x\n\n", "invalid JSON"),
    ])
    func badEventStreamsAreRejected(_ text: String, _ reason: String) {
        #expect(throws: DarkroomError.gateway(.malformedResponse(reason))) { try ImagesResponse(parsing: Data(text.utf8)) }
    }

    /// The event stream as the SSE format has it, and images received before it went wrong kept.
    @Test func eventStreamsKeepWhatCameBeforeDamage() throws {
        let b64 = Data(GatewayFixtures.redPixelPNG).base64EncodedString()
        let completed = "event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\"\(b64)\"}\n\n"
        // Two images, then garbage, a cut event or an error event: the two kept, then an entry saying why.
        for (tail, reason) in [
            ("data: garbage\n\n", "event stream has a data line that is not JSON"),
            ("event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\"iVBO", "event stream has a data line that is not JSON"),
            ("event: error\ndata: {\"type\":\"error\",\"error\":{\"message\":\"content policy violation\"}}\n\n", "the event stream reports an error: content policy violation"),
        ] {
            let r = try ImagesResponse(parsing: Data((completed + completed + tail).utf8))
            #expect(r.data.count == 3, "\(tail)")
            #expect(try r.contents()[0].get() == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
            #expect(try r.contents()[1].get() == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
            #expect(r.data[2].problem == "the event stream stops after 2 completed images: \(reason)")
        }
        // An error event before any image: its message is the error.
        #expect(throws: DarkroomError.gateway(.malformedResponse("the event stream reports an error: content policy violation"))) {
            try ImagesResponse(parsing: Data("event: error\ndata: {\"type\":\"error\",\"error\":{\"message\":\"content policy violation\"}}\n\n".utf8))
        }
        // One event's JSON over several data lines (joined with a newline), a comment line, CRLF.
        let json = "{\"type\":\"image_generation.completed\",\n\"b64_json\":\"\(b64)\"}"
        let multiline = ": keep-alive\r\nevent: image_generation.completed\r\n" + json.split(separator: "\n").map { "data: \($0)\r\n" }.joined() + "\r\n"
        let m = try ImagesResponse(parsing: Data(multiline.utf8))
        #expect(m.data.count == 1 && (try m.contents()[0].get()) == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
        // Events without blank lines between them: each data line on its own.
        let packed = "data: {\"type\":\"image_generation.completed\",\"b64_json\":\"\(b64)\"}\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\"\(b64)\"}\ndata: [DONE]\n"
        #expect(try ImagesResponse(parsing: Data(packed.utf8)).data.count == 2)
    }

    @Test func toleratesMissingFields() throws {
        let r = try ImagesResponse(parsing: try GatewayFixtures.responseData("no-created.json"))
        #expect(r.created == nil && r.outputFormat == nil && r.size == nil && r.usage == nil)
        #expect(try r.contents()[0].get() == .image(bytes: GatewayFixtures.redPixelPNG, format: .png))
        let typed = try ImagesResponse(parsing: Data(#"{"created":"1700000000","data":[{"b64_json":null,"url":"u"}]}"#.utf8))
        #expect(typed.created == 1_700_000_000)
        #expect(throws: DarkroomError.gateway(.badItem(index: 0, reason: "b64_json is a number, expected a string"))) {
            try ImagesResponse(parsing: Data(#"{"data":[{"b64_json":12}]}"#.utf8)).contents()[0].get()
        }
    }

    @Test func base64VariantsDecodeToTheSameBytes() throws {
        let standard = Data(GatewayFixtures.redPixelPNG).base64EncodedString()
        var wrapped = standard
        wrapped.insert(contentsOf: "\n", at: wrapped.index(wrapped.startIndex, offsetBy: 40))
        let urlSafe = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let unpadded = standard.replacingOccurrences(of: "=", with: "")
        for text in [standard, wrapped, "data:image/png;base64," + standard, urlSafe, unpadded] {
            #expect(try ResponseItem.decodeBase64(text, index: 0) == GatewayFixtures.redPixelPNG, "\(text)")
        }
        #expect(throws: DarkroomError.gateway(.badItem(index: 2, reason: "b64_json is empty"))) { try ResponseItem.decodeBase64(" ", index: 2) }
        #expect(throws: DarkroomError.gateway(.badItem(index: 1, reason: "b64_json is not valid base64 (bad length)"))) {
            try ResponseItem.decodeBase64("abcde", index: 1)
        }
        // Whitespace anywhere (CRLF, tabs, spaces) is skipped; any other byte outside the two
        // alphabets (a non-ASCII letter, '*', a NUL, padding in the middle) is refused.
        let spaced = standard.map { "\($0)" }.joined(separator: " \r\n\t")
        #expect(try ResponseItem.decodeBase64(spaced, index: 0) == GatewayFixtures.redPixelPNG)
        for bad in ["é" + standard, standard + "*", String(standard.dropLast(4)) + "\u{0}AAA", "AA==AAAA"] {
            #expect(throws: DarkroomError.gateway(.badItem(index: 4, reason: "b64_json is not valid base64")), "\(bad.debugDescription)") {
                try ResponseItem.decodeBase64(bad, index: 4)
            }
        }
    }

    @Test func buildThenParseGivesTheSameBytes() throws {
        let images = [
            GatewayImage(bytes: GatewayFixtures.redPixelPNG, format: .png, width: 1, height: 1),
            GatewayImage(bytes: GatewayFixtures.pixelGIF, format: .gif, width: 1, height: 1),
        ]
        let usage: JSONValue = .object(["total_tokens": .int(7)])
        let built = ImagesResponse(images: images, created: 1_234_567_890, revisedPrompts: ["first", nil], usage: usage)
        let body = built.jsonData()

        // The shape a gateway returns.
        let raw = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(Set(raw.keys) == ["created", "data", "output_format", "size", "usage"])
        #expect(raw["output_format"] as? String == "png")
        #expect(raw["size"] as? String == "1x1")
        let data = try #require(raw["data"] as? [[String: Any]])
        #expect(Set(data[0].keys) == ["b64_json", "revised_prompt"])
        #expect(Set(data[1].keys) == ["b64_json"])

        let parsed = try ImagesResponse(parsing: body)
        #expect(parsed == built)
        #expect(parsed.created == 1_234_567_890)
        #expect(parsed.usage == usage)
        #expect(parsed.data.map(\.revisedPrompt) == ["first", nil])
        #expect(try parsed.contents().map { try $0.get() } == [
            .image(bytes: GatewayFixtures.redPixelPNG, format: .png), .image(bytes: GatewayFixtures.pixelGIF, format: .gif),
        ])
    }

    @Test func reEmittingAParsedResponseKeepsEverything() throws {
        for file in ["b64-single.json", "mixed.json", "url-only.json", "b64-two.json"] {
            let r = try ImagesResponse(parsing: try GatewayFixtures.responseData(file))
            #expect(try ImagesResponse(parsing: r.jsonData()) == r, "\(file)")
        }
    }

    @Test func nameTemplates() throws {
        let t = try OutputNameTemplate()
        #expect(t.render(created: 1_700_000_000, index: 0, format: .png, stem: "resp") == "1700000000-0.png")
        #expect(t.render(created: 1_700_000_000, index: 3, format: .jpeg, stem: "resp") == "1700000000-3.jpg")
        #expect(t.render(created: nil, index: 1, format: .webp, stem: "resp") == "resp-1.webp")
        let custom = try OutputNameTemplate("{stem}_{n}_{format}.{ext}")
        #expect(custom.render(created: 5, index: 0, format: .jpeg, stem: "cat") == "cat_1_jpeg.jpg")
        let accepted = ["{created}", "{index}", "{n}", "{ext}", "{format}", "{stem}"]
        #expect(throws: DarkroomError.gateway(.invalidValue(field: "name", value: "{foo}.png", accepted: accepted))) {
            try OutputNameTemplate("{foo}.png")
        }
        #expect(throws: DarkroomError.gateway(.invalidValue(field: "name", value: "{created", accepted: accepted))) {
            try OutputNameTemplate("{created")
        }
    }
}
