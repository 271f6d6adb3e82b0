import Foundation
import Testing
@testable import Darkroom

@Suite struct GatewayConversionTests {
    @Test func requestMapsToConvertOptions() throws {
        let webp = GatewayConversion(request: try GatewayRequest(form: ["output_format": "webp", "output_compression": "80"]))
        #expect(webp.convertOptions.format == .webp)
        #expect(webp.convertOptions.encode.quality == 80)
        // The library's default: the provenance label survives, nothing else.
        #expect(webp.convertOptions.encode.keep == .provenance)
        // OpenAI parity defaults: png at quality 100.
        let plain = GatewayConversion()
        #expect(plain.convertOptions.format == .png)
        #expect(plain.convertOptions.encode.quality == 100)
        let strict = GatewayConversion(request: try GatewayRequest(form: ["output_format": "jpeg"]), strictOpenAI: true,
                                       backgroundColor: .black)
        #expect(strict.convertOptions.encode.background == .black)
        #expect(strict.convertOptions.encode.quality == 100)
    }

    @Test func strictModeRefusesBeforeDecoding() throws {
        var request = GatewayRequest()
        request.outputCompression = 50  // png by default
        let stage = GatewayConversion(request: request, strictOpenAI: true)
        #expect(throws: DarkroomError.gateway(.incompatible(code: "invalid_png_output_compression",
                                                  message: "Compression less than 100 is not supported for PNG output format"))) {
            try stage.convert(GatewayFixtures.redPixelPNG)
        }
    }

    @Test func flatteningComposesOverTheBackground() throws {
        let rgba = try Image(width: 2, height: 1, format: .rgba8, pixels: [255, 0, 0, 128, 10, 20, 30, 0])
        let flat = rgba.flattened(onto: .white)
        #expect(flat.format == .rgb8)
        #expect(flat.pixels == [255, 127, 127, 255, 255, 255])
        let onBlack = rgba.flattened(onto: .black)
        #expect(onBlack.pixels == [128, 0, 0, 0, 0, 0])
        let gray = try Image(width: 1, height: 1, format: .grayAlpha8, pixels: [100, 255])
        #expect(gray.flattened(onto: .white).pixels == [100])
        let rgb = try Image(width: 1, height: 1, format: .rgb8, pixels: [1, 2, 3])
        #expect(rgb.flattened(onto: .white) == rgb)
        // 16-bit: half-transparent black over white is mid grey.
        var px16 = [UInt16](repeating: 0, count: 4)
        px16[3] = 32768
        let img16 = try Image(width: 1, height: 1, format: .rgba16, pixels: px16.withUnsafeBytes { Array($0) })
        let flat16 = img16.flattened(onto: .white)
        #expect(flat16.format == .rgb16)
        #expect(flat16.sample(x: 0, y: 0, channel: 0) == (65535 * 32767 + 32767) / 65535)
    }

    @Test func costUsesTheRequestCount() throws {
        let stage = GatewayConversion(request: try GatewayRequest(form: ["n": "4"]))
        let bill = try stage.cost(references: [PixelSize(width: 512, height: 512)], output: PixelSize(width: 1024, height: 1536))
        #expect(bill.output.billedMegapixels == 8)
        #expect(bill.totalMegapixels == 9)
        #expect(stage.resolvedSize(profile: .openai) == PixelSize(width: 1024, height: 1024))
    }

    @Test func convertsToTheRequestedFormat() throws {
        let stage = GatewayConversion(request: try GatewayRequest(form: ["output_format": "webp", "output_compression": "90"]))
        let out = try stage.convert(GatewayFixtures.redPixelPNG)
        #expect(out.format == .webp)
        #expect(ImageFormat.sniff(out.bytes) == .webp)
        #expect((out.width, out.height, out.billedMegapixels) == (1, 1, 1))
    }

    @Test func opaqueBackgroundFlattensPNG() throws {
        let transparent = try Image(width: 3, height: 2, format: .rgba8, pixels: [UInt8](repeating: 0, count: 24))
        let png = try ImageEncoder.encode(transparent, as: .png)
        let stage = GatewayConversion(request: try GatewayRequest(form: ["background": "opaque", "output_format": "png"]))
        let out = try stage.convert(png)
        let back = try ImageDecoder.decode(out.bytes).image
        #expect(!back.hasTransparency)
        #expect((back.width, back.height) == (3, 2))
        #expect(back.sample(x: 1, y: 1, channel: 0) == 255)
        // background: auto keeps the alpha.
        let kept = try ImageDecoder.decode(try GatewayConversion().convert(png).bytes).image
        #expect(kept.hasTransparency)
    }

    @Test func manyConcurrentConversionsAllComeBackRight() async throws {
        // 24 distinct inputs of distinct sizes, converted by 3 differently-configured stages at once.
        let inputs: [[UInt8]] = try (0..<24).map { i in
            try ImageEncoder.encode(TestImages.gradient(width: 16 + i, height: 8 + (i % 5), alpha: false, seed: i),
                                    as: .png)
        }
        let formats: [ImageFormat] = [.jpeg, .webp, .png]
        let stages = try formats.map { GatewayConversion(request: try GatewayRequest(form: ["output_format": $0.rawValue, "n": "10"])) }
        let all = await withTaskGroup(of: (Int, [Result<GatewayImage, DarkroomError>]).self) { group in
            for (s, stage) in stages.enumerated() {
                group.addTask { (s, await stage.convertEach(inputs)) }
            }
            var out = [[Result<GatewayImage, DarkroomError>]](repeating: [], count: stages.count)
            for await (s, r) in group { out[s] = r }
            return out
        }
        for (s, results) in all.enumerated() {
            #expect(results.count == inputs.count)
            for (i, r) in results.enumerated() {
                let image = try r.get()
                #expect(image.format == formats[s])
                #expect(ImageFormat.sniff(image.bytes) == formats[s])
                #expect((image.width, image.height) == (16 + i, 8 + (i % 5)), "stage \(s) image \(i)")
                let back = try ImageDecoder.decode(image.bytes).image
                #expect((back.width, back.height) == (16 + i, 8 + (i % 5)))
                if formats[s] == .png {
                    #expect(back.pixels == TestImages.gradient(width: 16 + i, height: 8 + (i % 5), alpha: false, seed: i).pixels)
                }
            }
        }
        // The throwing variant keeps order too.
        let ordered = try await stages[2].convert(inputs)
        #expect(ordered.map(\.width) == (0..<24).map { 16 + $0 })
    }

    @Test func convertEachReportsBadImagesWithoutHidingGoodOnes() async throws {
        let stage = GatewayConversion(request: try GatewayRequest(form: ["output_format": "jpeg"]))
        let results = await stage.convertEach([GatewayFixtures.redPixelPNG, [1, 2, 3], GatewayFixtures.redPixelPNG])
        #expect(try results[0].get().format == .jpeg)
        #expect(throws: DarkroomError.decoding(.unknownFormat)) { try results[1].get() }
        #expect(try results[2].get().format == .jpeg)
        await #expect(throws: DarkroomError.decoding(.unknownFormat)) { try await stage.convert([GatewayFixtures.redPixelPNG, [1, 2, 3]]) }
    }

    /// A whole gateway request through the stage: parse, resolve the size, prepare the references,
    /// bill, convert the provider's images and build the response body. (It was the README's Swift
    /// example; the DocC article "Getting started for a gateway" now walks through the same steps.)
    @Test func wholeRequestThroughTheStage() async throws {
        struct Upload { var filename: String; var bytes: [UInt8] }
        let httpBody = Data(#"{"prompt":"a red pixel","output_format":"webp","aspect_ratio":"16:9","resolution":"2K","n":2}"#.utf8)
        let uploads = [Upload(filename: "red.png", bytes: GatewayFixtures.redPixelPNG)]
        let providerImages = [GatewayFixtures.redPixelPNG, GatewayFixtures.redPixelPNG]
        let revisedPrompts: [String?] = ["a red pixel, centred", nil]
        // 1. Parse and validate the client's request (JSON body or multipart form fields).
        let request = try GatewayRequest(json: httpBody)              // throws GatewayError → HTTP 400
        let stage = GatewayConversion(request: request, strictOpenAI: false)

        // 2. What to ask the provider for, and what it will cost.
        let size = stage.resolvedSize(profile: .flux2)                // e.g. 2048x1152 for 16:9 at 2K
        let refs = try stage.prepareReferences(uploads.map { (name: $0.filename, bytes: $0.bytes) })
        let prepared = try refs.map { try $0.get() }                   // each ≤ 4 MP, PNG/JPEG/WebP, stripped
        let bill = try stage.cost(references: prepared.map { PixelSize(width: $0.width, height: $0.height) },
                              output: size, inputPricePerMP: 0.015, outputPricePerMP: 0.03)

        // 3. Convert the provider's n images in parallel (order kept) and build the response body.
        let images: [GatewayImage] = try await stage.convert(providerImages)      // [[UInt8]] in
        let body: Data = stage.responseBody(for: images, created: Int(Date().timeIntervalSince1970),
                                            revisedPrompts: revisedPrompts, usage: nil)
        #expect(size == PixelSize(width: 2048, height: 1152))
        #expect(prepared.map(\.passedThrough) == [true])
        #expect(bill.totalMegapixels == 1 + 2 * 3)
        #expect(bill.totalPrice == 0.195)
        #expect(images.map(\.format) == [.webp, .webp])
        let parsed = try ImagesResponse(parsing: body)
        #expect(parsed.outputFormat == "webp")
        #expect(parsed.data.map(\.revisedPrompt) == revisedPrompts)
        #expect(request.extra == ["prompt": .string("a red pixel")])
    }

    @Test func responseBodyRoundTripsConvertedImages() async throws {
        let stage = GatewayConversion(request: try GatewayRequest(form: ["output_format": "webp", "n": "2"]))
        let images = try await stage.convert([GatewayFixtures.redPixelPNG, GatewayFixtures.redPixelPNG])
        let body = stage.responseBody(for: images, created: 42, revisedPrompts: ["p0", "p1"])
        let parsed = try ImagesResponse(parsing: body)
        #expect(parsed.created == 42)
        #expect(parsed.outputFormat == "webp")
        #expect(parsed.size == "1x1")
        #expect(try parsed.contents().map { try $0.get() } == images.map { .image(bytes: $0.bytes, format: .webp) })
    }
}
