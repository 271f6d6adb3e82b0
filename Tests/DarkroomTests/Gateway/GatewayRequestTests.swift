import Foundation
import Testing
@testable import Darkroom

@Suite struct GatewayRequestTests {
    @Test func parsesEveryFieldFromJSONAndKeepsUnknownFields() throws {
        let body = """
            {"model":"flux.2-pro","prompt":"a cat","output_format":"webp","output_compression":80,
             "response_format":"b64_json","n":3,"background":"opaque","size":"1536x1024",
             "aspect_ratio":"16:9","resolution":"2K","seed":42,"prompt_upsampling":true,
             "provider_options":{"safety_tolerance":2,"tags":["a",null,1.5]}}
            """
        let r = try GatewayRequest(json: Data(body.utf8))
        #expect(r.outputFormat == .webp)
        #expect(r.outputCompression == 80)
        #expect(r.responseFormat == .b64JSON)
        #expect(r.n == 3)
        #expect(r.background == .opaque)
        #expect(r.size == .pixels(PixelSize(width: 1536, height: 1024)))
        #expect(r.aspectRatio == AspectRatio(16, 9))
        #expect(r.resolution == .twoK)
        #expect(r.extra == [
            "model": .string("flux.2-pro"), "prompt": .string("a cat"), "seed": .int(42), "prompt_upsampling": .bool(true),
            "provider_options": .object(["safety_tolerance": .int(2), "tags": .array([.string("a"), .null, .double(1.5)])]),
        ])
        // Re-emitted and parsed again: the same request, unknown fields untouched.
        let again = try GatewayRequest(json: r.jsonData())
        #expect(again == r)
        #expect(r.fields()["seed"] == .int(42))
        #expect(r.fields()["output_format"] == .string("webp"))
    }

    @Test func parsesMultipartFormFields() throws {
        let r = try GatewayRequest(form: [
            "output_format": "JPG", "output_compression": "0", "response_format": "url", "n": "4",
            "background": "auto", "size": "3:2", "aspect_ratio": "7:1", "resolution": "0.25", "model": "x",
        ])
        #expect(r.outputFormat == .jpeg)
        #expect(r.outputCompression == 0)
        #expect(r.responseFormat == .url)
        #expect(r.n == 4)
        #expect(r.background == .auto)
        #expect(r.size == .ratio(AspectRatio(3, 2)))
        #expect(r.aspectRatio == AspectRatio(7, 1))
        #expect(r.resolution == .half)
        #expect(r.extra == ["model": .string("x")])
    }

    @Test func parsesJSONSerializationObjectsKeepingTypes() throws {
        let r = try GatewayRequest(jsonObject: ["n": 2, "stream": true, "output_compression": 55, "size": "auto", "resolution": 4])
        #expect(r.n == 2)
        #expect(r.outputCompression == 55)
        #expect(r.size == .auto)
        #expect(r.resolution == .twoK)
        #expect(r.extra == ["stream": .bool(true)])
    }

    @Test func defaultsFollowOpenAI() throws {
        let r = try GatewayRequest(json: Data("{}".utf8))
        #expect(r == GatewayRequest())
        #expect(r.effectiveFormat == .png)
        #expect(r.effectiveQuality == 100)
        #expect(r.count == 1)
        #expect(r.effectiveBackground == .auto)
        #expect(r.effectiveResponseFormat == .url)
        #expect(r.fields().isEmpty)
    }

    @Test func nullCountsAsAbsent() throws {
        let r = try GatewayRequest(json: Data(#"{"n":null,"output_format":null,"user":null}"#.utf8))
        #expect(r.n == nil && r.outputFormat == nil)
        #expect(r.extra == ["user": .null])
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var json: String
        var error: GatewayError
        var testDescription: String { json }
    }

    static let badCases: [BadCase] = [
        BadCase(json: #"{"output_format":"bmp"}"#,
                error: .invalidValue(field: "output_format", value: "bmp", accepted: ["png", "jpeg", "gif", "webp", "avif"])),
        BadCase(json: #"{"output_format":5}"#, error: .wrongType(field: "output_format", value: "5", expected: "a string")),
        BadCase(json: #"{"output_compression":101}"#, error: .outOfRange(field: "output_compression", value: "101", range: 0...100)),
        BadCase(json: #"{"output_compression":-1}"#, error: .outOfRange(field: "output_compression", value: "-1", range: 0...100)),
        BadCase(json: #"{"output_compression":"high"}"#,
                error: .wrongType(field: "output_compression", value: #""high""#, expected: "an integer from 0 to 100")),
        BadCase(json: #"{"output_compression":50.5}"#,
                error: .wrongType(field: "output_compression", value: "50.5", expected: "an integer from 0 to 100")),
        BadCase(json: #"{"response_format":"base64"}"#,
                error: .invalidValue(field: "response_format", value: "base64", accepted: ["url", "b64_json"])),
        BadCase(json: #"{"n":0}"#, error: .outOfRange(field: "n", value: "0", range: 1...10)),
        BadCase(json: #"{"n":11}"#, error: .outOfRange(field: "n", value: "11", range: 1...10)),
        BadCase(json: #"{"n":true}"#, error: .wrongType(field: "n", value: "true", expected: "an integer from 1 to 10")),
        BadCase(json: #"{"background":"white"}"#,
                error: .invalidValue(field: "background", value: "white", accepted: ["transparent", "opaque", "auto"])),
        BadCase(json: #"{"size":"big"}"#,
                error: .invalidValue(field: "size", value: "big", accepted: ["WxH (e.g. 1024x1024)", "W:H (e.g. 16:9)", "auto"])),
        BadCase(json: #"{"size":"0x1024"}"#,
                error: .invalidValue(field: "size", value: "0x1024", accepted: ["WxH (e.g. 1024x1024)", "W:H (e.g. 16:9)", "auto"])),
        BadCase(json: #"{"size":[1024,1024]}"#, error: .wrongType(field: "size", value: "[1024,1024]", expected: "a string")),
        BadCase(json: #"{"aspect_ratio":"16/9"}"#,
                error: .invalidValue(field: "aspect_ratio", value: "16/9", accepted: ["W:H with positive integers, e.g. 16:9"])),
        BadCase(json: #"{"aspect_ratio":"0:1"}"#,
                error: .invalidValue(field: "aspect_ratio", value: "0:1", accepted: ["W:H with positive integers, e.g. 16:9"])),
        BadCase(json: #"{"resolution":"8K"}"#,
                error: .invalidValue(field: "resolution", value: "8K", accepted: ["0.5K", "1K", "2K", "4K", "megapixels, e.g. 0.25, 1, 4"])),
        BadCase(json: #"{"resolution":-1}"#,
                error: .invalidValue(field: "resolution", value: "-1", accepted: ["0.5K", "1K", "2K", "4K", "megapixels, e.g. 0.25, 1, 4"])),
        BadCase(json: #"{"resolution":false}"#,
                error: .wrongType(field: "resolution", value: "false", expected: "a tier name or megapixels")),
        BadCase(json: #"{"background":"transparent","output_format":"jpeg"}"#,
                error: .incompatible(code: "invalid_jpeg_transparent_background",
                                     message: "Transparent background is not supported for JPEG output format; use png, webp, avif or gif")),
        BadCase(json: #"[1,2]"#, error: .wrongType(field: "request body", value: "an array", expected: "a JSON object")),
        BadCase(json: #"{"n":"#, error: .wrongType(field: "request body", value: "(not valid JSON)", expected: "a JSON object")),
    ]

    @Test(arguments: badCases)
    func rejectsBadFieldsWithTypedErrors(_ c: BadCase) throws {
        #expect(throws: DarkroomError.gateway(c.error)) { try GatewayRequest(json: Data(c.json.utf8)) }
    }

    @Test func severalBadFieldsReportTheSameOneEveryTime() {
        // Fields are checked in name order: background < n < output_format < size.
        for _ in 0..<20 {
            #expect(throws: DarkroomError.gateway(.invalidValue(field: "background", value: "red", accepted: ["transparent", "opaque", "auto"]))) {
                try GatewayRequest(form: ["size": "x", "output_format": "bmp", "n": "0", "background": "red"])
            }
            #expect(throws: DarkroomError.gateway(.outOfRange(field: "n", value: "0", range: 1...10))) {
                try GatewayRequest(form: ["size": "x", "output_format": "bmp", "n": "0"])
            }
        }
    }

    @Test func formFieldErrorsToo() {
        #expect(throws: DarkroomError.gateway(.wrongType(field: "n", value: #""two""#, expected: "an integer from 1 to 10"))) {
            try GatewayRequest(form: ["n": "two"])
        }
        #expect(throws: DarkroomError.gateway(.outOfRange(field: "output_compression", value: "200", range: 0...100))) {
            try GatewayRequest(form: ["output_compression": "200"])
        }
    }

    @Test func errorMessagesListAcceptedValues() {
        let e = GatewayError.invalidValue(field: "output_format", value: "bmp", accepted: ["png", "jpeg", "gif", "webp", "avif"])
        #expect(e.description == "invalid output_format 'bmp': accepted values are png, jpeg, gif, webp, avif")
        #expect(GatewayError.outOfRange(field: "n", value: "11", range: 1...10).description == "invalid n '11': expected an integer from 1 to 10")
    }

    @Test func strictModeRefusesPNGCompressionBelow100() throws {
        let body = Data(#"{"output_format":"png","output_compression":50}"#.utf8)
        #expect(throws: DarkroomError.gateway(.incompatible(code: "invalid_png_output_compression",
                                                  message: "Compression less than 100 is not supported for PNG output format"))) {
            try GatewayRequest(json: body, strictOpenAI: true)
        }
        // Lenient: accepted (and ignored by the PNG encoder).
        #expect(try GatewayRequest(json: body).outputCompression == 50)
        // Not given = png: strict also refuses.
        #expect(throws: DarkroomError.self) { try GatewayRequest(form: ["output_compression": "99"], strictOpenAI: true) }
        // JPEG with 50 is fine in strict mode, as is PNG with 100.
        #expect(try GatewayRequest(form: ["output_format": "jpeg", "output_compression": "50"], strictOpenAI: true).outputCompression == 50)
        #expect(try GatewayRequest(form: ["output_compression": "100"], strictOpenAI: true).outputCompression == 100)
    }
}
