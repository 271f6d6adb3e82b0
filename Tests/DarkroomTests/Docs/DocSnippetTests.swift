import Foundation
import Testing
import Darkroom  // not @testable: the listings may use public API only

/// Every code listing of the DocC catalogue (`Sources/Darkroom/Darkroom.docc/*.md`), of the
/// library's doc comments and of README.md, run on `testimages/kodim23.jpg` (768x512 JPEG) with its
/// results checked exactly.
///
/// The listings are copied here verbatim; ``DocSnippetTests/everyListingIsHere()`` fails when a
/// listing in the documentation is not found in this file line for line (blank lines, `import`
/// lines and indentation aside), so a listing that is edited without its test, does not compile
/// or computes something else than its comments say fails `swift test`.
@Suite struct DocSnippetTests {
    static let root = TestSupport.packageRoot
    static let kodimPath = root.appendingPathComponent("testimages/kodim23.jpg").path

    static func kodim() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: kodimPath)))
    }

    /// The error of a failed result, nil for a success (for results whose value is not `Equatable`).
    static func failure<T>(_ result: Result<T, DarkroomError>) -> DarkroomError? {
        if case let .failure(error) = result { return error }
        return nil
    }

    // MARK: - GettingStartedGateway.md

    @Test func gettingStartedForAGateway() async throws {
        let providerImages = [try Self.kodim(), try Self.kodim()]
        let foxJPEG = try Self.kodim()
        let largeJPEG = try Converter(options: ConvertOptions(format: .jpeg, quality: 90,
                                                               resize: try ResizeGeometry(parsing: "400%")))
            .convert(foxJPEG).bytes

        // Parse the client's request
        let body = Data(#"{"model":"flux-2-pro","prompt":"a red fox","output_format":"webp","output_compression":80,"n":2,"aspect_ratio":"16:9","response_format":"b64_json"}"#.utf8)
        let request = try GatewayRequest(json: body)
        let size = ProviderProfile.flux2.resolve(request)           // 1360x768: 16:9 at 1K, sides multiples of 16
        let forward = request.fields()                              // model and prompt included, untouched

        #expect(request.outputFormat == .webp)
        #expect(request.outputCompression == 80)
        #expect(request.count == 2)
        #expect(request.aspectRatio == AspectRatio(16, 9))
        #expect(request.responseFormat == .b64JSON)
        #expect(size == PixelSize(width: 1360, height: 768))
        #expect(forward["model"] == .string("flux-2-pro"))
        #expect(forward["prompt"] == .string("a red fox"))
        #expect(forward["output_format"] == .string("webp"))
        #expect(GatewayRequest().effectiveFormat == .png)
        #expect(GatewayRequest().effectiveQuality == 100)

        // Convert the provider's images
        let stage = GatewayConversion(request: request)
        let images = try await stage.convert(providerImages)        // [[UInt8]] in, in parallel, order kept
        // images[0]: .webp, 768x512, billedMegapixels 1

        #expect(images.count == 2)
        for image in images {
            #expect(image.format == .webp)
            #expect(ImageFormat.sniff(image.bytes) == .webp)
            #expect(image.width == 768 && image.height == 512)
            #expect(image.billedMegapixels == 1)
        }

        let results = await stage.convertEach(providerImages + [[0x00, 0x01]])
        let converted = results.compactMap { try? $0.get() }        // the two good images
        // results[2]: .failure(.decoding(.unknownFormat))

        #expect(converted == images)
        #expect(results.count == 3)
        #expect(Self.failure(results[2]) == .decoding(.unknownFormat))

        let converter = Converter(options: ConvertOptions(format: .jpeg, quality: 85,
                                                          resize: try ResizeGeometry(parsing: "512x512")))
        let result = try converter.convert(providerImages[0])
        // result: .jpeg, 512x341 (fit inside 512x512), resized == true, warnings == []

        #expect(result.format == .jpeg)
        #expect(ImageFormat.sniff(result.bytes) == .jpeg)
        #expect(result.width == 512 && result.height == 341)
        let headerResult = try ImageDecoder.readHeader(result.bytes)
        #expect(headerResult.format == .jpeg && headerResult.width == 512 && headerResult.height == 341 && headerResult.orientation == .up)
        #expect(result.resized)
        #expect(result.warnings == [])

        // Prepare reference images
        #expect(try ReferencePrep.fitted(width: 4000, height: 3000) == PixelSize(width: 2364, height: 1773))

        let uploads: [(name: String, bytes: [UInt8])] = [("fox.jpg", foxJPEG), ("large.jpg", largeJPEG)]
        let references = try stage.prepareReferences(uploads)       // throws only for more than 10 images
        let prepared = references.compactMap { try? $0.get() }
        // prepared[0]: fox.ref.jpg, 768x512, passed through byte for byte, billed 1 MP
        // prepared[1]: large.ref.jpg, 3072x2048 fitted to 2508x1672, resized, billed 4 MP

        #expect(prepared.count == 2)
        #expect(prepared[0].fileName == "fox.ref.jpg")
        #expect(prepared[0].format == .jpeg)
        #expect(prepared[0].width == 768 && prepared[0].height == 512)
        #expect(!prepared[0].resized)
        #expect(prepared[0].passedThrough && prepared[0].bytes == foxJPEG)
        #expect(prepared[0].billedMegapixels == 1)
        #expect(prepared[1].fileName == "large.ref.jpg")
        #expect(prepared[1].inputWidth == 3072 && prepared[1].inputHeight == 2048)
        #expect(prepared[1].width == 2508 && prepared[1].height == 1672)
        #expect(try ImageDecoder.readHeader(prepared[1].bytes).width == 2508)
        #expect(prepared[1].resized && !prepared[1].passedThrough)
        #expect(prepared[1].billedMegapixels == 4)

        // What the bullet list promises.
        let gif = try Converter(options: ConvertOptions(format: .gif)).convert(foxJPEG).bytes
        let gifErrors: [DarkroomError?] = try stage.prepareReferences([("anim.gif", gif)]).map { Self.failure($0) }
        #expect(gifErrors == [.decoding(.unsupportedFormat(.gif, accepted: [.png, .jpeg, .webp]))])
        let eleven = Array(repeating: (name: "x.png", bytes: [UInt8]()), count: 11)
        #expect(throws: DarkroomError.gateway(.tooManyReferences(count: 11, limit: 10))) {
            try stage.prepareReferences(eleven)
        }

        // Estimate the megapixel bill
        let bill = try stage.cost(references: prepared.map { PixelSize(width: $0.width, height: $0.height) },
                              output: size, inputPricePerMP: 0.015, outputPricePerMP: 0.03)
        // references 1 + 4 MP, output 1 MP x 2 images: bill.totalMegapixels == 7, bill.totalPrice == 0.135

        #expect(bill.references.map(\.billedMegapixels) == [1, 4])
        #expect(bill.output.billedMegapixels == 2)
        #expect(bill.totalMegapixels == 7)
        #expect(bill.totalPrice == 0.135)

        let perImage = try MegapixelBilling.billedMegapixels(width: 1360, height: 768)       // 1,044,480 px: 1 MP
        let photo = try MegapixelBilling.referenceCost(width: 4000, height: 3000)            // used at 2364x1773: 4 MP
        let estimate = try MegapixelBilling.estimate(references: [PixelSize(width: 640, height: 480)],
                                                 output: PixelSize(width: 2048, height: 2048), n: 1)
        // estimate.referenceMegapixels == 1 (the minimum), estimate.output.billedMegapixels == 4

        #expect(perImage == 1)
        #expect(photo.resizedWidth == 2364 && photo.resizedHeight == 1773 && photo.billedMegapixels == 4)
        #expect(estimate.referenceMegapixels == 1)
        #expect(estimate.output.billedMegapixels == 4)
        #expect(try MegapixelBilling.billedMegapixels(width: 2049, height: 2048) == 5)

        // Build the response body
        let responseBody = stage.responseBody(for: images, created: 1_767_225_600,
                                              revisedPrompts: ["a red fox at dusk"])
        let response = try ImagesResponse(parsing: responseBody)    // what the client reads back
        // response.data.count == 2, response.outputFormat == "webp", response.size == "768x512"

        #expect(response.created == 1_767_225_600)
        #expect(response.data.count == 2)
        #expect(response.outputFormat == "webp")
        #expect(response.size == "768x512")
        #expect(response.data[0].revisedPrompt == "a red fox at dusk")
        #expect(response.data[1].revisedPrompt == nil)
        let expectedContents = images.map { Result<ResponseItemContent, DarkroomError>.success(.image(bytes: $0.bytes, format: .webp)) }
        #expect(response.contents() == expectedContents)

        let items = images.indices.map { ResponseItem(url: "https://cdn.example.com/img/\($0).webp") }
        let linked = ImagesResponse(created: 1_767_225_600, data: items, outputFormat: "webp", size: "768x512")
        let linkedBody = linked.jsonData()                          // keys sorted, slashes not escaped

        #expect(String(decoding: linkedBody, as: UTF8.self)
            == #"{"created":1767225600,"data":[{"url":"https://cdn.example.com/img/0.webp"},{"url":"https://cdn.example.com/img/1.webp"}],"output_format":"webp","size":"768x512"}"#)
        let expectedLinks: [Result<ResponseItemContent, DarkroomError>] = [
            .success(.url("https://cdn.example.com/img/0.webp")), .success(.url("https://cdn.example.com/img/1.webp")),
        ]
        #expect(try ImagesResponse(parsing: linkedBody).contents() == expectedLinks)
    }

    // MARK: - OptionModel.md

    @Test func optionModel() throws {
        let bytes = try Self.kodim()

        var options = ConvertOptions(format: .jpeg, quality: 90, resize: try ResizeGeometry(parsing: "400x400^"))
        options.decode.failOn = .none               // convert what decodes of a cut download, with a warning
        options.encode.chroma = .yuv444             // full-resolution colour
        options.encode.progressive = true
        options.resampling = ResizeOptions(filter: .lanczos3, threads: 2)
        let cover = try Converter(options: options).convert(bytes)
        // cover: .jpeg, 600x400 (covers 400x400, aspect kept)

        #expect(options.encode.quality == 90)
        #expect(cover.format == .jpeg)
        #expect(cover.width == 600 && cover.height == 400)
        #expect(try ImageDecoder.readHeader(cover.bytes).width == 600)

        let decoded = try ImageDecoder.decode(bytes, options: DecodeOptions(maxPixels: 50_000_000))
        let small = try decoded.image.resized(width: 384, height: 256, options: ResizeOptions(filter: .lanczos3))
        let jpeg = try ImageEncoder.encode(small, as: .jpeg, metadata: decoded.metadata,
                                           options: EncodeOptions(quality: 85, keep: .none))
        // decoded.metadata.sourceFormat == .jpeg, small is 384x256 .rgb8

        #expect(decoded.metadata.sourceFormat == .jpeg)
        #expect(decoded.image.width == 768 && decoded.image.height == 512)
        #expect(small.width == 384 && small.height == 256 && small.format == .rgb8)
        let headerJpeg = try ImageDecoder.readHeader(jpeg)
        #expect(headerJpeg.format == .jpeg && headerJpeg.width == 384 && headerJpeg.height == 256 && headerJpeg.orientation == .up)

        let jpegDefault = QualityCurve.webDefault(for: .jpeg)      // 85
        let avifAt60 = QualityCurve.avifQuantizer(60)               // 25
        let avifAt100 = QualityCurve.avifQuantizer(100)             // 8, not 0

        #expect(jpegDefault == 85 && QualityCurve.webDefault(for: .webp) == 80 && QualityCurve.webDefault(for: .avif) == 60)
        #expect(avifAt60 == 25)
        #expect(avifAt100 == 8)
        #expect(QualityCurve.avifAlphaQuantizer(60) == 12)
        #expect(QualityCurve.jpegQuality(0) == 1)
        #expect(QualityCurve.openAIDefault == 100)

        let webp = GatewayConversion(request: try GatewayRequest(form: ["output_format": "webp", "background": "opaque"]))
        let mapped = webp.convertOptions
        // mapped.format == .webp, mapped.encode.quality == 100, mapped.flattenAlpha == true, mapped.encode.keep == .provenance

        #expect(mapped.format == .webp)
        #expect(mapped.encode.quality == 100)
        #expect(mapped.flattenAlpha)
        #expect(mapped.encode.keep == .provenance)

        var message = ""
        do {
            try ConvertOptions(quality: 101).validate()
        } catch .option(let error) {
            message = error.description  // "invalid quality '101': expected an integer from 0 to 100"
        } catch {
            message = "another phase: \(error)"
        }

        #expect(message == "invalid quality '101': expected an integer from 0 to 100")
    }

    // MARK: - Concurrency.md

    @Test func concurrency() async throws {
        let inputs = Array(repeating: try Self.kodim(), count: 4)

        let converter = Converter(options: ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%")))
        let sizes = try await withThrowingTaskGroup(of: PixelSize.self) { group in
            for input in inputs {
                group.addTask {
                    let result = try converter.convert(input)
                    return PixelSize(width: result.width, height: result.height)
                }
            }
            return try await group.reduce(into: [PixelSize]()) { $0.append($1) }
        }
        // sizes: one 384x256 per input

        #expect(sizes == Array(repeating: PixelSize(width: 384, height: 256), count: 4))

        var banded = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%"))
        banded.resampling.threads = 4
        let fourBands = try Converter(options: banded).convert(inputs[0])
        // fourBands.bytes == the bytes of the one-thread conversion above

        #expect(fourBands.bytes == (try converter.convert(inputs[0]).bytes))
        // The same on the whole-image path (a PNG input is not streamed).
        let png = try Converter(options: ConvertOptions(format: .png)).convert(inputs[0]).bytes
        #expect(try Converter(options: banded).convert(png).bytes == (try converter.convert(png).bytes))
        #expect(try converter.convert(png).width == 384)
        #expect(throws: DarkroomError.option(OptionError(name: "threads", value: "257", expected: "an integer from 1 to 256"))) {
            var tooMany = banded
            tooMany.resampling.threads = 257
            try tooMany.validate()
        }
    }

    // MARK: - Errors.md

    @Test func errors() throws {
        let jpegBytes = try Self.kodim()

        var outcome = ""
        do {
            let result = try Converter().convert(Array(jpegBytes.prefix(30_000)))   // a cut download
            outcome = "converted \(result.width)x\(result.height)"
        } catch .decoding(.damaged(let format, let warning, _)) {
            outcome = "damaged \(format): \(warning.message)"       // "damaged jpeg: Premature end of JPEG file"
        } catch .decoding(let error) {
            outcome = "not an image: \(error)"
        } catch {
            outcome = "other phase: \(error)"
        }

        #expect(outcome == "damaged jpeg: Premature end of JPEG file")
        // "With failOn set to .none the same bytes convert, and the warning is in warnings."
        let lenient = try Converter(options: ConvertOptions(decode: DecodeOptions(failOn: .none)))
            .convert(Array(jpegBytes.prefix(30_000)))
        #expect(lenient.warnings.map(\.message) == ["Premature end of JPEG file"])
        #expect(lenient.warnings.map(\.kind) == [.truncated])

        // The sidecar's mapping, case by case.
        func status(_ error: DarkroomError) -> String {
            let mapped = httpStatus(for: error)
            return "\(mapped.status) \(mapped.code ?? "-")"
        }
        #expect(status(.option(OptionError(name: "quality", value: "101", expected: "0-100"))) == "400 invalid_value")
        #expect(status(.gateway(.incompatible(code: "invalid_jpeg_transparent_background", message: "…"))) == "400 invalid_jpeg_transparent_background")
        #expect(status(.gateway(.outOfRange(field: "n", value: "11", range: 1...10))) == "400 invalid_value")
        #expect(status(.decoding(.tooManyPixels(width: 1, height: 1, limit: 0))) == "413 image_too_large")
        #expect(status(.encoding(.tooManyPixels(width: 1, height: 1, limit: 0))) == "413 image_too_large")
        #expect(status(.file(.inputTooLarge(path: "-", size: nil, limit: 1))) == "413 image_too_large")
        #expect(status(.decoding(.unknownFormat)) == "422 invalid_image")
        #expect(status(.encoding(.formatLimit(.webp, width: 20000, height: 1, maxSide: 16383, maxPixels: nil))) == "400 image_too_large_for_format")
        #expect(status(.encoding(.codec(.avif, message: "x"))) == "500 -")
        #expect(status(.file(.io(path: "x", message: "no such file"))) == "500 -")

        // "A resize whose output would have a side over Limits.maxSide is an option error named resize."
        let tall = Converter(options: ConvertOptions(resize: try ResizeGeometry(parsing: "10000%")))
        if case let .option(error)? = Self.failure(Result { () throws(DarkroomError) in try tall.convert(jpegBytes) }) {
            #expect(error.name == "resize")
        } else {
            Issue.record("a 70000 px side should be an option error")
        }

        let strict = Converter(options: ConvertOptions(decode: DecodeOptions(maxPixels: 100_000)))
        let planned = Result { () throws(DarkroomError) in try strict.convert(jpegBytes) }
        let decoded = Result { () throws(DarkroomError) in
            try ImageDecoder.decode(jpegBytes, options: DecodeOptions(maxPixels: 100_000))
        }
        // planned: .failure(.decoding(.tooManyPixels(width: 768, height: 512, limit: 100_000)))
        // decoded: .failure(.decoding(.tooManyPixels(width: 768, height: 512, limit: 100_000)))

        #expect(Self.failure(planned) == .decoding(.tooManyPixels(width: 768, height: 512, limit: 100_000)))
        #expect(Self.failure(decoded) == .decoding(.tooManyPixels(width: 768, height: 512, limit: 100_000)))
        // The same input resized below the limit: also ImageDecodingError.tooManyPixels
        // a JPEG (streamed) and a PNG (decoded whole) alike.
        let png = try Converter(options: ConvertOptions(format: .png)).convert(jpegBytes).bytes
        let resizedStrict = Converter(options: ConvertOptions(resize: try ResizeGeometry(parsing: "100x100"),
                                                              decode: DecodeOptions(maxPixels: 100_000)))
        for input in [jpegBytes, png] {
            let shrunk = Result { () throws(DarkroomError) in try resizedStrict.convert(input) }
            #expect(Self.failure(shrunk) == .decoding(.tooManyPixels(width: 768, height: 512, limit: 100_000)))
        }
    }

    // MARK: - Limits.md

    @Test func limits() throws {
        let jpegBytes = try Self.kodim()
        let jpegPath = Self.kodimPath

        let guarded = Converter(options: ConvertOptions(resize: try ResizeGeometry(parsing: "20000x20000!")))
        let refused = Result { () throws(DarkroomError) in try guarded.convert(jpegBytes) }
        // refused: .failure(.encoding(.tooManyPixels(width: 20000, height: 20000, limit: 268_402_689)))

        #expect(Self.failure(refused) == .encoding(.tooManyPixels(width: 20000, height: 20000, limit: 268_402_689)))
        #expect(DecodeOptions.defaultMaxPixels == 16_383 * 16_383)
        #expect(ReferencePrepOptions().maxPixels == MegapixelBilling.referenceMaxPixels)
        #expect(MegapixelBilling.referenceMaxPixels == 4_194_304)

        // The table of bounds.
        #expect(Limits.maxPixelLimit == 1 << 36)
        #expect(Limits.maxSide == 65_536)
        #expect(Limits.maxMegapixels == 65_536)
        #expect(Limits.maxPercent == 100_000)
        #expect(Limits.maxThreads == 256)
        #expect(Limits.maxByteCount == 1 << 40)
        #expect(GatewayRequest.nRange == 1...10)
        #expect(GatewayRequest.compressionRange == 0...100)
        #expect(ProviderProfile.multipleRange == 1...4096)
        #expect(PixelSize(parsing: "65536x1") != nil && PixelSize(parsing: "65537x1") == nil)
        #expect(AspectRatio(parsing: "65536:1") != nil && AspectRatio(parsing: "65537:1") == nil)

        let cap = try ValueParser.megapixels("4", name: "max_mp")                  // 4_194_304 px
        let limit = Result { () throws(DarkroomError) in try ValueParser.pixelLimit("1e300") }
        // limit: .failure(.option(OptionError(name: "max-pixels", value: "1e300",
        //                                     expected: "an integer from 1 to 68719476736")))

        #expect(cap == 4_194_304)
        #expect(Self.failure(limit) == .option(OptionError(name: "max-pixels", value: "1e300",
                                                           expected: "an integer from 1 to 68719476736")))

        let tooLarge = Result { () throws(DarkroomError) in
            try Converter().convert(contentsOf: jpegPath, maxInputBytes: 50_000)
        }
        // tooLarge: .failure(.file(.inputTooLarge(path: jpegPath, size: 59_771, limit: 50_000)))

        #expect(jpegBytes.count == 59_771)
        #expect(Self.failure(tooLarge) == .file(.inputTooLarge(path: jpegPath, size: 59_771, limit: 50_000)))
        #expect(InputFile.defaultMaxBytes == 256 << 20)
        #expect(try Converter().convert(contentsOf: jpegPath, maxInputBytes: jpegBytes.count).width == 768)

        let webp = FormatLimits.of(.webp)
        let panorama = webp.fitting(width: 20000, height: 300)      // (16383, 245): both sides scaled, floored
        let check = Result { () throws(DarkroomError) in try FormatLimits.check(.webp, width: 20000, height: 300) }
        // check: .failure(.encoding(.formatLimit(.webp, width: 20000, height: 300, maxSide: 16383, maxPixels: nil)))

        #expect(panorama.width == 16383 && panorama.height == 245)
        #expect(Self.failure(check) == .encoding(.formatLimit(.webp, width: 20000, height: 300, maxSide: 16383, maxPixels: nil)))

        // The format table.
        #expect(FormatLimits.of(.webp).maxSide == 16_383 && FormatLimits.of(.webp).maxPixels == nil)
        #expect(FormatLimits.of(.gif).maxSide == 65_535 && FormatLimits.of(.gif).maxPixels == nil)
        #expect(FormatLimits.of(.jpeg).maxSide == 65_500 && FormatLimits.of(.jpeg).maxPixels == nil)
        #expect(FormatLimits.of(.avif).maxSide == 32_768 && FormatLimits.of(.avif).maxPixels == 16_384 * 16_384)
        #expect(FormatLimits.of(.png).maxSide == 2_147_483_647 && FormatLimits.of(.png).maxPixels == nil)
    }

    // MARK: - README.md

    @Test func readmeListing() throws {
        let photoPath = Self.kodimPath
        let folder = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: folder) }
        let webpPath = folder.appendingPathComponent("kodim23.webp").path

        let halfSizeWebP = Converter(options: ConvertOptions(format: .webp, quality: 80,
                                                              resize: try ResizeGeometry(parsing: "50%")))
        let webp = try halfSizeWebP.convert(contentsOf: photoPath)   // any PNG, JPEG, WebP, AVIF or GIF
        try webp.write(to: webpPath)                                  // atomic: never a partial file
        // webp.width == 384, webp.height == 256 for a 768x512 photo

        #expect(webp.format == .webp)
        #expect(webp.width == 384 && webp.height == 256)
        #expect(webp.resized)
        let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: webpPath)))
        #expect(written == webp.bytes)
        let header = try ImageDecoder.readHeader(written)
        #expect(header.format == .webp && header.width == 384 && header.height == 256)
        // Nothing but the output in the folder: no temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["kodim23.webp"])
    }

    // MARK: - Listings in doc comments (Sources/Darkroom)

    @Test func docCommentListings() async throws {
        let bytes = try Self.kodim()
        let jpegBytes = bytes
        let providerImages = [bytes]
        let httpBody = Data(#"{"output_format":"webp","aspect_ratio":"16:9"}"#.utf8)

        // DarkroomError
        let converter = Converter()
        do {
            let result = try converter.convert(bytes)
            print(result.width, result.height)
        } catch .decoding(let error) {
            print(error)        // the client's bytes are not a usable image: HTTP 422 (413 when too large)
        } catch .option(let error) {
            print(error.name)   // a bad option value: HTTP 400
        } catch {
            print(error)        // .encoding, .file, .gateway
        }

        // ConvertOptions
        var options = ConvertOptions(format: .webp, quality: 80, resize: try ResizeGeometry(parsing: "4mp"))
        options.decode.failOn = .none          // convert what decodes of a cut download
        options.encode.keep = .icc
        let result = try Converter(options: options).convert(bytes)
        #expect(result.format == .webp && result.width == 768 && result.height == 512 && !result.resized)

        // GatewayConversion
        do {
            let request = try GatewayRequest(json: httpBody)
            let stage = GatewayConversion(request: request)
            let images = try await stage.convert(providerImages)          // n images, in parallel
            let body = stage.responseBody(for: images, created: Int(Date().timeIntervalSince1970))
            #expect(try ImagesResponse(parsing: body).outputFormat == "webp")
        }

        // GatewayRequest
        do {
            let body = httpBody
            let request = try GatewayRequest(json: body)
            let size = ProviderProfile.flux2.resolve(request)           // e.g. 1360x768 for 16:9 at 1K
            let options = GatewayConversion(request: request).convertOptions   // for Converter
            #expect(size == PixelSize(width: 1360, height: 768))
            #expect(options.format == .webp && options.encode.quality == 100)
        }

        // AnimationReader (testimages/animated.gif: 2 frames of 8x8, 100 ms each)
        do {
            let gifBytes = [UInt8](try Data(contentsOf: Self.root.appendingPathComponent("testimages/animated.gif")))
            let reader = try AnimationReader(gifBytes)
            var durations: [Int] = []
            while let frame = try reader.next() {
                durations.append(frame.durationMs)     // frame.image: the whole canvas, RGBA
            }
            #expect(durations == [100, 100])
            #expect(reader.frameCount == 2 && reader.totalDurationMs == 200)
        }

        // ReferencePrep (a 768x512 photo: passed through, billed 1 MP)
        do {
            let ref = try ReferencePrep.prepare(bytes: jpegBytes, name: "photo.jpg")
            print(ref.width, ref.height, ref.billedMegapixels)   // 2364 1773 4 for a 4000x3000 photo
            #expect(ref.width == 768 && ref.height == 512 && ref.billedMegapixels == 1)
            #expect(try ReferencePrep.fitted(width: 4000, height: 3000) == PixelSize(width: 2364, height: 1773))
            #expect(try MegapixelBilling.billedMegapixels(width: 2364, height: 1773) == 4)
        }
    }

    /// Converter's listing writes `out.webp` into the working directory, so it is compiled, not run;
    /// ``docCommentListings()`` runs the same conversion.
    func converterListing(pngBytes: [UInt8]) throws {
        let converter = Converter(options: ConvertOptions(format: .webp, quality: 80,
                                                           resize: try ResizeGeometry(parsing: "4mp")))
        let result = try converter.convert(pngBytes)          // [UInt8], Data, a path or a descriptor
        try result.write(to: "out.webp")
    }

    // MARK: - Every listing is here

    /// A listing: where it is, and its lines (trimmed; blank and `import` lines dropped).
    struct Listing: CustomStringConvertible {
        var file: String
        var lines: [String]
        var description: String { "\(file):\n" + lines.joined(separator: "\n") }
    }

    static func normalized<S: StringProtocol>(_ lines: [S]) -> [String] {
        lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("import ") }
    }

    /// The ```swift listings of the catalogue's articles, of the library's `///` comments and of
    /// README.md.
    static func listings() throws -> [Listing] {
        var found: [Listing] = []
        func scan(_ text: String, file: String, commentPrefix: String?) {
            var current: [Substring]?
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                var line = Substring(raw)
                if let prefix = commentPrefix {
                    let trimmed = line.drop { $0 == " " }
                    guard trimmed.hasPrefix(prefix) else { current = nil; continue }
                    line = trimmed.dropFirst(prefix.count)
                }
                let fence = line.trimmingCharacters(in: .whitespaces)
                if current == nil, fence == "```swift" {
                    current = []
                } else if current != nil, fence == "```" {
                    found.append(Listing(file: file, lines: normalized(current!)))
                    current = nil
                } else if current != nil {
                    current!.append(line)
                }
            }
        }
        let catalogue = root.appendingPathComponent("Sources/Darkroom/Darkroom.docc")
        for name in try FileManager.default.contentsOfDirectory(atPath: catalogue.path).sorted() where name.hasSuffix(".md") {
            scan(try String(contentsOf: catalogue.appendingPathComponent(name), encoding: .utf8), file: name, commentPrefix: nil)
        }
        let sources = root.appendingPathComponent("Sources/Darkroom")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String } ?? []
        for path in files.sorted() where path.hasSuffix(".swift") {
            scan(try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8), file: path, commentPrefix: "///")
        }
        scan(try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8), file: "README.md", commentPrefix: nil)
        return found
    }

    @Test func everyListingIsHere() throws {
        let here = Self.normalized(try String(contentsOfFile: #filePath, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false))
        let listings = try Self.listings()
        #expect(listings.count >= 25, "the listing scanner found only \(listings.count)")
        #expect(listings.contains { $0.file == "README.md" }, "the listing scanner found no ```swift listing in README.md")
        for listing in listings {
            if listing.lines.first == "// Package.swift" {
                try checkManifestListing(listing)
                continue
            }
            let n = listing.lines.count
            let present = n > 0 && here.count >= n && (0...(here.count - n)).contains { Array(here[$0..<($0 + n)]) == listing.lines }
            #expect(present, "this listing is not in DocSnippetTests.swift, so it is not tested: \(listing)")
        }
    }

    /// The manifest listing cannot run here: check that it names the library product and the
    /// library's own version.
    func checkManifestListing(_ listing: Listing) throws {
        let text = listing.lines.joined(separator: "\n")
        #expect(text.contains(#".package(url: "https://…/darkroom.git", from: "\#(CodecLibraries.darkroomVersion)")"#),
                "the manifest listing should depend on version \(CodecLibraries.darkroomVersion)")
        #expect(text.contains(#".product(name: "Darkroom", package: "darkroom")"#))
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(manifest.contains(#".library(name: "Darkroom", targets: ["Darkroom"])"#))
    }
}

// Errors.md: the sidecar's mapping, as a function a gateway can copy.
func httpStatus(for error: DarkroomError) -> (status: Int, code: String?) {
    switch error {
    case .option: (400, "invalid_value")
    case .gateway(.incompatible(let code, _)): (400, code)
    case .gateway: (400, "invalid_value")
    case .decoding(.tooManyPixels), .encoding(.tooManyPixels), .file(.inputTooLarge):
        (413, "image_too_large")
    case .decoding: (422, "invalid_image")
    case .encoding(.formatLimit): (400, "image_too_large_for_format")
    case .encoding(.codec), .file: (500, nil)
    case .timeLimit: (504, "timeout")
    }
}
