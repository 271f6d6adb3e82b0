import Foundation
import Testing
@testable import Darkroom

/// Runs `.build/debug/darkroom`; skipped when the binary has not been built.
@Suite(.enabled(if: CLI.binaryExists, "needs .build/debug/darkroom (swift build)"))
struct GatewayCLITests {
    // MARK: size

    @Test(arguments: [
        (["--aspect-ratio", "16:9", "--resolution", "2K", "--profile", "flux2"], "2048x1152"),
        (["--aspect-ratio", "16:9", "--multiple", "16"], "1360x768"),
        (["--size", "3:2", "--profile", "openai"], "1536x1024"),
        (["--size", "1000x1000", "--profile", "flux2", "--multiple", "32"], "992x992"),
        ([], "1024x1024"),
    ])
    func sizePrintsWxH(_ args: [String], _ expected: String) throws {
        let r = try GatewayCLI.run(["size"] + args)
        #expect(r.status == 0)
        #expect(r.stdout == expected + "\n")
    }

    @Test func sizeJSON() throws {
        let r = try GatewayCLI.run(["size", "--aspect-ratio", "4:3", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout == #"{"height":887,"width":1182}"# + "\n")
    }

    @Test(arguments: [
        (["--resolution", "9K"], "invalid resolution '9K': accepted values are 0.5K, 1K, 2K, 4K"),
        (["--profile", "dalle"], "invalid profile 'dalle': accepted values are generic, flux2, openai"),
        (["--size", "huge"], "invalid size 'huge'"),
        (["--multiple", "0"], "invalid multiple '0'"),
    ])
    func sizeUsageErrorsExit2(_ args: [String], _ message: String) throws {
        let r = try GatewayCLI.run(["size"] + args)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    // MARK: cost

    @Test func costJSON() throws {
        let r = try GatewayCLI.run(["cost", "--ref", "1920x1080", "--ref", "512x512", "--output", "1024x1024", "--n", "2",
                             "--input-price", "0.5", "--output-price", "0.25", "--json"])
        #expect(r.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["total_mp"] as? Int == 5)
        #expect(json["total_price"] as? Double == 2.0)
        let refs = try #require(json["references"] as? [[String: Any]])
        #expect(refs.map { $0["billed_mp"] as? Int } == [2, 1])
        #expect(refs[0]["source"] as? String == "1920x1080")
        #expect(Set(refs[0].keys) == ["source", "width", "height", "resized_width", "resized_height", "billed_mp"])
        let output = try #require(json["output"] as? [String: Any])
        #expect(output["billed_mp"] as? Int == 2 && output["n"] as? Int == 2)
    }

    @Test func costResizesLargeReferences() throws {
        let r = try GatewayCLI.run(["cost", "--ref", "4000x3000", "--output", "2048x2048"])
        #expect(r.status == 0)
        #expect(r.stdout == """
            reference 4000x3000: 4000x3000 -> 2364x1773 = 4 MP
            output 2048x2048 x 1 = 4 MP
            total 8 MP

            """)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs the corpus"))
    func costReadsUprightSizeFromFiles() throws {
        let file = TestSupport.corpus.appendingPathComponent("orientation/misc/paris_exif_orientation_5.jpg").path
        let r = try GatewayCLI.run(["cost", "--ref", file, "--output", "1024x1024", "--json"])
        #expect(r.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let ref = try #require((json["references"] as? [[String: Any]])?.first)
        #expect(ref["width"] as? Int == 302 && ref["height"] as? Int == 403)
        #expect(ref["billed_mp"] as? Int == 1)
    }

    @Test func costErrors() throws {
        #expect(try GatewayCLI.run(["cost", "--output", "big"]).status == 2)
        #expect(try GatewayCLI.run(["cost", "--output", "10x10", "--n", "11"]).status == 2)
        let missing = try GatewayCLI.run(["cost", "--ref", "/nonexistent/ref.png", "--output", "10x10"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("darkroom: /nonexistent/ref.png:"))
    }

    // MARK: decode

    @Test func decodeListsURLItems() throws {
        let dir = try TestSupport.tempDir()
        let r = try GatewayCLI.run(["decode", GatewayFixtures.response("url-only.json").path, "--out-dir", dir.path, "--json"])
        #expect(r.status == 0)
        let (responses, summary) = try CLI.jsonLines(Data(r.stdout.utf8))
        #expect(responses.count == 1 && summary["ok"] as? Int == 1)
        let items = try #require(responses.first?["items"] as? [[String: Any]])
        #expect(items.map { $0["status"] as? String } == ["listed", "listed"])
        #expect(items[0]["url"] as? String == "https://media.example.invalid/abc123.png")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func decodeRejectsMalformedJSON() throws {
        let path = GatewayFixtures.response("malformed.json").path
        let r = try GatewayCLI.run(["decode", path, "--out-dir", try TestSupport.tempDir().path])
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: \(path): not an images response: invalid JSON\n")
    }

    @Test func decodeRejectsBadTemplate() throws {
        let r = try GatewayCLI.run(["decode", GatewayFixtures.response("b64-single.json").path, "--name", "{oops}.png"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("accepted values are {created}, {index}, {n}, {ext}, {format}, {stem}"))
    }

    @Test func decodeWritesGoodItemsAndReportsBadOnes() throws {
        let dir = try TestSupport.tempDir()
        let path = GatewayFixtures.response("mixed.json").path
        let r = try GatewayCLI.run(["decode", path, "--out-dir", dir.path])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("darkroom: ") }
        #expect(lines.count == 5)
        #expect(lines[0] == "darkroom: \(path): item 3: b64_json is not valid base64")
        #expect(lines[1] == "darkroom: \(path): item 4: b64_json does not hold a PNG, JPEG, WebP, AVIF or GIF image")
        #expect(lines[2] == "darkroom: \(path): item 5: expected an object, found a number")
        #expect(lines[3] == "darkroom: \(path): item 6: neither b64_json nor url")
        #expect(lines[4].hasPrefix("darkroom: \(path): item 7: cannot decode png"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["1700000003-0.png", "1700000003-2.gif"])
        #expect([UInt8](try Data(contentsOf: dir.appendingPathComponent("1700000003-0.png"))) == GatewayFixtures.redPixelPNG)
        #expect([UInt8](try Data(contentsOf: dir.appendingPathComponent("1700000003-2.gif"))) == GatewayFixtures.pixelGIF)
    }

    /// Each item's image goes straight to a pending file and is checked from there: a good one
    /// is the payload byte for byte, a cut PNG, JPEG or WebP is reported with the decoder's own
    /// words and leaves no file (no hidden temporary either).
    @Test func decodeStreamsItemsIntoFilesAndChecksThemThere() throws {
        let dir = try TestSupport.tempDir()
        let noise = FailOnTests.noise(width: 320, height: 240)
        var images: [(name: String, bytes: [UInt8])] = []
        for format in [ImageFormat.png, .jpeg, .webp] {
            let bytes = try ImageEncoder.encode(noise, as: format)
            images.append(("\(format)", bytes))
            images.append(("cut \(format)", FailOnTests.cut(bytes, to: 0.5)))
        }
        let items = images.map { #"{"b64_json":""# + Data($0.bytes).base64EncodedString() + #""}"# }
        let body = Data((#"{"data":["# + items.joined(separator: ",") + #"],"created":1700000100}"#).utf8)
        let path = dir.appendingPathComponent("r.json").path
        try body.write(to: URL(fileURLWithPath: path))
        let out = dir.appendingPathComponent("out").path
        let r = try GatewayCLI.run(["decode", path, "--out-dir", out, "--json", "--sidecar"])
        #expect(r.status == 1)
        var expectedErrors: [String] = []
        for (i, image) in images.enumerated() where image.name.hasPrefix("cut") {
            let error = #expect(throws: DarkroomError.self) { try ImageDecoder.decode(image.bytes) }
            expectedErrors.append("darkroom: \(path): item \(i): \(error?.message(for: .commandLine) ?? "?")")
        }
        #expect(r.stderr.split(separator: "\n").map(String.init) == expectedErrors)
        // The names wait for `created`, which comes after `data` here.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted()
                == ["1700000100-0.json", "1700000100-0.png", "1700000100-2.jpg", "1700000100-2.json", "1700000100-4.json", "1700000100-4.webp"])
        for (i, ext) in [(0, "png"), (2, "jpg"), (4, "webp")] {
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(out)/1700000100-\(i).\(ext)"))) == images[i].bytes)
        }
        let report = try JSONValue(parsing: Data(r.stdout.split(separator: "\n")[0].utf8))
        let entries = report.objectValue?["items"]?.arrayValue ?? []
        #expect(entries.count == 6)
        #expect(entries[0].objectValue?["bytes"] == .int(images[0].bytes.count))
        #expect(entries[0].objectValue?["width"] == .int(320) && entries[0].objectValue?["height"] == .int(240))
        #expect(entries[1].objectValue?["status"] == .string("error"))
        // Again with --skip-existing: the good ones are skipped (checked first), nothing else appears.
        let again = try GatewayCLI.run(["decode", path, "--out-dir", out, "--skip-existing", "--json"])
        #expect(again.status == 1)
        #expect(again.stdout.contains(#""status":"skipped""#))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == 6)
    }

    /// A name in a subfolder of --out-dir: the pending file is made in --out-dir and linked there.
    @Test func decodeWritesIntoASubfolderOfTheOutputFolder() throws {
        let dir = try TestSupport.tempDir()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: false)
        let r = try GatewayCLI.run(["decode", GatewayFixtures.response("b64-two.json").path, "--out-dir", dir.path,
                                    "--name", "sub/{n}.{ext}"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["sub"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("sub").path).sorted() == ["1.png", "2.png"])
        let missing = try GatewayCLI.run(["decode", GatewayFixtures.response("b64-single.json").path, "--out-dir", dir.path,
                                          "--name", "nowhere/{n}.{ext}"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot write: the folder \(dir.path)/nowhere does not exist"), "\(missing.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["sub"])
    }

    @Test func decodeFromStdinWithSidecarAndNoSilentOverwrite() throws {
        let dir = try TestSupport.tempDir()
        let body = try GatewayFixtures.responseData("b64-single.json")
        let r = try GatewayCLI.run(["decode", "-", "--out-dir", dir.path, "--sidecar", "--json"], stdin: body)
        #expect(r.status == 0)
        #expect([UInt8](try Data(contentsOf: dir.appendingPathComponent("1700000000-0.png"))) == GatewayFixtures.redPixelPNG)
        let sidecar = try JSONValue(parsing: try Data(contentsOf: dir.appendingPathComponent("1700000000-0.json")))
        #expect(sidecar.objectValue?["revised_prompt"] == .string("a single red pixel"))
        #expect(sidecar.objectValue?["usage"]?.objectValue?["total_tokens"] == .int(322))
        #expect(sidecar.objectValue?["created"] == .int(1_700_000_000))
        // Again: the file exists, so the item fails (exit 1) until --overwrite.
        let again = try GatewayCLI.run(["decode", "-", "--out-dir", dir.path], stdin: body)
        #expect(again.status == 1)
        #expect(again.stderr.contains("item 0:") && again.stderr.contains("already exists"))
        #expect(try GatewayCLI.run(["decode", "-", "--out-dir", dir.path, "--overwrite"], stdin: body).status == 0)
    }

    @Test func decodeReadsAnEventStream() throws {
        let dir = try TestSupport.tempDir()
        let r = try GatewayCLI.run(["decode", GatewayFixtures.response("stream.sse").path, "--out-dir", dir.path, "--sidecar"])
        #expect(r.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["1700000010-0.json", "1700000010-0.png"])
        #expect([UInt8](try Data(contentsOf: dir.appendingPathComponent("1700000010-0.png"))) == GatewayFixtures.redPixelPNG)
    }

    @Test func decodeConvertsWithConversionFlags() throws {
        let dir = try TestSupport.tempDir()
        let r = try GatewayCLI.run(["decode", GatewayFixtures.response("b64-two.json").path, "--out-dir", dir.path,
                             "-f", "webp", "-q", "80", "--name", "{stem}_{n}.{ext}"])
        #expect(r.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["b64-two_1.webp", "b64-two_2.webp"])
        let second = [UInt8](try Data(contentsOf: dir.appendingPathComponent("b64-two_2.webp")))
        #expect(ImageFormat.sniff(second) == .webp)
        let header = try ImageDecoder.readHeader(second)
        #expect((header.width, header.height) == (2, 1))
    }

    @Test func decodeDownloadsURLItems() throws {
        let dir = try TestSupport.tempDir()
        let image = dir.appendingPathComponent("source.png")
        try Data(GatewayFixtures.redPixelPNG).write(to: image)
        let response = dir.appendingPathComponent("r.json")
        let body = #"{"created":7,"data":[{"url":"\#(image.absoluteString)"},{"url":"file:///nonexistent/x.png"},{"url":"ftp://x/y"}]}"#
        try Data(body.utf8).write(to: response)
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let r = try GatewayCLI.run(["decode", response.path, "--out-dir", out.path, "--download", "--allow-file-urls"])
        #expect(r.status == 1)
        #expect([UInt8](try Data(contentsOf: out.appendingPathComponent("7-0.png"))) == GatewayFixtures.redPixelPNG)
        #expect(r.stderr.contains("item 1: cannot read /nonexistent/x.png"))
        #expect(r.stderr.contains("item 2: 'ftp://x/y' is not an http(s) URL"))
    }

    // MARK: prep-refs

    @Test func prepRefsRefusesTooManyImagesBeforeAnyWork() throws {
        let dir = try TestSupport.tempDir()
        let images = (0..<11).map { "/nonexistent/\($0).png" }
        let r = try GatewayCLI.run(["prep-refs"] + images + ["--out-dir", dir.path])
        #expect(r.status == 2)
        #expect(r.stderr == "darkroom: 11 reference images given, at most 10 are accepted (one request's limit; --max-refs 11 prepares them all)\n")
        let fewer = try GatewayCLI.run(["prep-refs", "/nonexistent/a.png", "--max-refs", "1", "--out-dir", dir.path])
        #expect(fewer.status == 1)  // now the file is looked at, and is missing
    }

    @Test func prepRefsRejectsGIF() throws {
        let dir = try TestSupport.tempDir()
        let gif = dir.appendingPathComponent("a.gif")
        try Data(GatewayFixtures.pixelGIF).write(to: gif)
        let r = try GatewayCLI.run(["prep-refs", gif.path, "--out-dir", dir.path])
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: \(gif.path): gif is not accepted here; accepted: png, jpeg, webp\n")
        #expect(try GatewayCLI.run(["prep-refs", gif.path, "--format", "bmp"]).status == 2)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs the corpus"))
    func prepRefsWritesReportsAndFiles() throws {
        let dir = try TestSupport.tempDir()
        let red = dir.appendingPathComponent("red.png")
        try Data(GatewayFixtures.redPixelPNG).write(to: red)
        let oriented = TestSupport.corpus.appendingPathComponent("orientation/misc/paris_exif_orientation_5.jpg")
        let r = try GatewayCLI.run(["prep-refs", red.path, oriented.path, "--out-dir", dir.path, "--json"])
        #expect(r.status == 0)
        // Lines come as the -j workers finish: put them in input order.
        let report = try CLI.jsonLines(Data(r.stdout.utf8)).items.sorted { ($0["index"] as? Int ?? -1) < ($1["index"] as? Int ?? -1) }
        #expect(report.count == 2 && report.map { $0["index"] as? Int } == [0, 1])
        #expect(report[0]["passed_through"] as? Bool == true)
        #expect(report[0]["output"] as? String == dir.appendingPathComponent("red.ref.png").path)
        #expect(report[1]["passed_through"] as? Bool == false)
        #expect(report[1]["resized"] as? Bool == false)
        #expect(report[1]["width"] as? Int == 302 && report[1]["height"] as? Int == 403)
        #expect(report[1]["billed_mp"] as? Int == 1)
        #expect([UInt8](try Data(contentsOf: dir.appendingPathComponent("red.ref.png"))) == GatewayFixtures.redPixelPNG)
        let jpeg = [UInt8](try Data(contentsOf: dir.appendingPathComponent("paris_exif_orientation_5.ref.jpg")))
        let decoded = try ImageDecoder.decode(jpeg)
        #expect(decoded.metadata.exif == nil && decoded.metadata.orientation == .up)
        // No silent overwrite.
        let again = try GatewayCLI.run(["prep-refs", red.path, "--out-dir", dir.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
    }
}
