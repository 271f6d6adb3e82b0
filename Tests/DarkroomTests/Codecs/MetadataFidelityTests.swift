import CLCMS2
import Foundation
import Testing
@testable import Darkroom

/// exiftool, which makes the metadata inputs and reads the outputs back. A missing exiftool is a
/// failure, never a skip (scripts/install-deps.sh installs libimage-exiftool-perl).
enum ExifTool {
    static let path = ["/usr/bin/exiftool", "/usr/local/bin/exiftool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result {
        let tool = try #require(path, "exiftool is not installed: scripts/install-deps.sh installs libimage-exiftool-perl, which these tests need",
                                sourceLocation: sourceLocation)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return try CLI.collect(process, stdout: out, stderr: err, what: "exiftool " + arguments.joined(separator: " "),
                               timeLimit: 120, sourceLocation: sourceLocation)
    }

    /// Writes `tags` (`-TAG=VALUE`, `-TAG<=FILE`) into the file at `url`, in place.
    static func write(_ url: URL, _ tags: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try run(["-q", "-q", "-overwrite_original"] + tags + [url.path], sourceLocation: sourceLocation)
        #expect(result.status == 0, "exiftool could not write \(tags): \(result.stderr)", sourceLocation: sourceLocation)
    }

    /// The metadata tags exiftool reads in `bytes` (`-j -G1 -n`: `GROUP:Tag` → value as text;
    /// numbers unconverted), the container's own groups left out: EXIF (IFD0, IFD1, ExifIFD, GPS,
    /// InteropIFD), XMP-*, IPTC, Photoshop, ICC*, JUMBF, and exiftool's warnings (`ExifTool:Warning`).
    static func tags(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: String] {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("image")
        try Data(bytes).write(to: file)
        let result = try run(["-j", "-G1", "-n", "-a", file.path], sourceLocation: sourceLocation)
        #expect(result.status == 0, "exiftool: \(result.stderr)", sourceLocation: sourceLocation)
        let list = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [[String: Any]], sourceLocation: sourceLocation)
        var tags: [String: String] = [:]
        for (key, value) in list.first ?? [:] {
            let group = String(key.prefix(while: { $0 != ":" }))
            let kept = ["IFD0", "IFD1", "ExifIFD", "GPS", "InteropIFD", "IPTC", "Photoshop", "JUMBF"].contains(group)
                || group.hasPrefix("XMP-") || group.hasPrefix("ICC") || key == "ExifTool:Warning"
            if kept { tags[key] = "\(value)" }
        }
        return tags
    }
}

/// `--keep` and what each output format carries, read back with exiftool: the provenance label by
/// default, every block with `all` (EXIF without its thumbnail, orientation 1, the output's
/// dimensions), mismatched ICC profiles and C2PA manifests reported, never silently dropped.
@Suite struct MetadataFidelityTests {
    static let label = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    /// What exiftool writes into every labelled input: the label, a title, an IPTC keyword, GPS,
    /// orientation 6, a camera make.
    static let labelTags = ["-XMP-iptcExt:DigitalSourceType=\(label)", "-XMP-dc:Title=x", "-IPTC:Keywords=y",
                            "-GPSLatitude=48.85", "-GPSLatitudeRef=N", "-GPSLongitude=2.35", "-GPSLongitudeRef=E",
                            "-Orientation#=6", "-Make=Cam"]

    /// A 48×32 JPEG (stored; upright 32×48 with orientation 6) with ``labelTags``, a 16×16
    /// thumbnail in IFD1 and `ExifImageWidth`/`Height` 48×32, all written by exiftool.
    static func labelledJPEG() throws -> [UInt8] {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("in.jpg"), thumb = dir.appendingPathComponent("thumb.jpg")
        try Data(ImageEncoder.encode(TestImages.gradient(width: 48, height: 32, alpha: false), as: .jpeg,
                                     options: EncodeOptions(keep: .none))).write(to: file)
        try Data(ImageEncoder.encode(TestImages.gradient(width: 16, height: 16, alpha: false, seed: 3), as: .jpeg,
                                     options: EncodeOptions(quality: 50, keep: .none))).write(to: thumb)
        try ExifTool.write(file, labelTags + ["-ThumbnailImage<=\(thumb.path)", "-ExifImageWidth=48", "-ExifImageHeight=32"])
        return [UInt8](try Data(contentsOf: file))
    }

    /// A `format` file of the 48×32 gradient (written by Darkroom without metadata) with `tags`
    /// written into it by exiftool.
    static func input(_ format: ImageFormat, tags: [String], gray: Bool = false) throws -> [UInt8] {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("in.\(format.rawValue)")
        let image = TestImages.gradient(width: 48, height: 32, alpha: false)
        try Data(ImageEncoder.encode(gray ? image.converted(to: .gray8) : image, as: format,
                                     options: EncodeOptions(keep: .none))).write(to: file)
        try ExifTool.write(file, tags)
        return [UInt8](try Data(contentsOf: file))
    }

    static func convert(_ bytes: [UInt8], to format: ImageFormat, keep: MetadataKeep = .default,
                        resize: String? = nil) throws -> ConversionResult {
        var options = ConvertOptions(format: format, resize: try resize.map { try ResizeGeometry(parsing: $0) })
        options.encode.keep = keep
        return try Converter(options: options).convert(bytes)
    }

    static let stillFormats: [ImageFormat] = [.jpeg, .png, .webp, .avif]

    // MARK: The default: the label only

    @Test(arguments: stillFormats)
    func theDefaultKeepsOnlyTheProvenanceLabel(format: ImageFormat) throws {
        #expect(EncodeOptions().keep == .provenance && MetadataKeep.default == .provenance)
        let result = try Self.convert(Self.labelledJPEG(), to: format)
        #expect(try ExifTool.tags(result.bytes) == ["XMP-iptcExt:DigitalSourceType": Self.label])
        #expect(result.metadataWarnings.isEmpty)
        #expect(try ImageInspection.inspect(result.bytes).provenance == Provenance(digitalSourceType: Self.label))
    }

    @Test func theDefaultIntoGIFReportsTheLabelItCannotHold() throws {
        let result = try Self.convert(Self.labelledJPEG(), to: .gif)
        #expect(try ExifTool.tags(result.bytes) == [:])
        #expect(result.metadataWarnings == [MetadataWarning(block: .provenance, reason: .unsupported,
                                                            message: "provenance label \(Self.label) not kept: gif cannot hold it")])
    }

    @Test func keepNoneStripsTheLabelToo() throws {
        let result = try Self.convert(Self.labelledJPEG(), to: .png, keep: .none)
        #expect(try ExifTool.tags(result.bytes) == [:])
        #expect(result.metadataWarnings.isEmpty)
    }

    @Test func aListWithoutProvenanceReportsTheLabelItLeavesOut() throws {
        let result = try Self.convert(Self.labelledJPEG(), to: .jpeg, keep: [.icc])
        #expect(try ExifTool.tags(result.bytes) == [:])
        #expect(result.metadataWarnings == [MetadataWarning(block: .provenance, reason: .notKept,
                                                            message: "provenance label \(Self.label) not kept: keep icc leaves it out (add provenance to keep it; keep none strips it without a warning)")])
    }

    // MARK: --keep all

    /// The tags of the input as the output must carry them: no IFD1 (the thumbnail), orientation 1,
    /// the output's pixel dimensions; IPTC only where the format holds it.
    static func expected(from input: [String: String], format: ImageFormat, width: Int, height: Int) -> [String: String] {
        var tags = input.filter { !$0.key.hasPrefix("IFD1:") && !$0.key.hasPrefix("Photoshop:") }
        tags["IFD0:Orientation"] = "1"
        if tags["ExifIFD:ExifImageWidth"] != nil { tags["ExifIFD:ExifImageWidth"] = String(width) }
        if tags["ExifIFD:ExifImageHeight"] != nil { tags["ExifIFD:ExifImageHeight"] = String(height) }
        if format == .webp || format == .avif { tags = tags.filter { !$0.key.hasPrefix("IPTC:") } }
        return tags
    }

    @Test(arguments: stillFormats)
    func keepAllCarriesXMPIPTCAndEXIFWithoutItsThumbnail(format: ImageFormat) throws {
        let input = try Self.labelledJPEG()
        let before = try ExifTool.tags(input)
        #expect(before["IFD1:ThumbnailLength"] != nil && before["IFD0:Orientation"] == "6" && before["IPTC:Keywords"] == "y")
        let result = try Self.convert(input, to: format, keep: .all, resize: "50%")
        #expect(result.width == 16 && result.height == 24)
        let after = try ExifTool.tags(result.bytes)
        #expect(after == Self.expected(from: before, format: format, width: 16, height: 24))
        #expect(after["XMP-iptcExt:DigitalSourceType"] == Self.label && after["XMP-dc:Title"] == "x")
        #expect(after["GPS:GPSLatitude"] == "48.85" && after["IFD0:Make"] == "Cam")
        let iptc = MetadataWarning(block: .iptc, reason: .unsupported, message: "IPTC (13 bytes) not kept: \(format) cannot hold it")
        #expect(result.metadataWarnings == (format == .webp || format == .avif ? [iptc] : []))
        // The output is upright: nothing turns it again (AVIF: no irot/imir, which libavif 0.11
        // would derive from an EXIF orientation).
        #expect(try ImageDecoder.readHeader(result.bytes).orientation == .up)
    }

    /// Each container's wrapping of a kept EXIF: JPEG APP1 `Exif\0\0` then the TIFF header, PNG
    /// `eXIf` and WebP `EXIF` the TIFF header at once, AVIF's `Exif` item the offset field (0)
    /// then the TIFF header.
    @Test func eachContainerWrapsTheEXIFItsOwnWay() throws {
        let input = try Self.labelledJPEG()
        let tiff = Array("MM\0*".utf8)
        let wrappers: [(ImageFormat, [UInt8])] = [
            (.jpeg, [0xFF, 0xE1] + [0, 0] + Array("Exif\0\0".utf8) + tiff),
            (.png, Array("eXIf".utf8) + tiff),
            (.webp, Array("EXIF".utf8) + [0, 0, 0, 0] + tiff),
            (.avif, [0, 0, 0, 0] + tiff),
        ]
        for (format, wrapper) in wrappers {
            let out = try Self.convert(input, to: format, keep: .exif).bytes
            // Lengths vary: compare around them (JPEG's segment length, WebP's chunk size).
            let found = (0..<(out.count - wrapper.count)).contains { i in
                zip(wrapper.indices, wrapper).allSatisfy { k, byte in
                    (format == .jpeg && (k == 2 || k == 3)) || (format == .webp && (4...7).contains(k)) || out[i + k] == byte
                }
            }
            #expect(found, "\(format): no EXIF wrapped as \(wrapper)")
            #expect(out.firstRange(of: Array("Exif\0\0Exif".utf8)) == nil && (format == .jpeg || out.firstRange(of: Array("Exif\0\0MM".utf8)) == nil))
        }
    }

    @Test func aKeptEXIFHoldsNoByteOfTheThumbnail() throws {
        let input = try Self.labelledJPEG()
        let source = try ImageDecoder.decode(input).metadata
        let original = try #require(source.exif)
        let rewrite = try #require(EXIF.rewritten(original, width: 16, height: 24))
        #expect(rewrite.dropped.isEmpty)
        #expect(rewrite.payload.count < original.count - 300)
        // IFD0's link to IFD1 is 0 and the thumbnail's SOI/quantisation tables are nowhere.
        let thumbnailStart = try #require(original.firstRange(of: [0xFF, 0xD8, 0xFF] as [UInt8]))
        #expect(rewrite.payload.firstRange(of: Array(original[thumbnailStart.lowerBound..<(thumbnailStart.lowerBound + 40)])) == nil)
        #expect(EXIF.orientation(in: rewrite.payload) == .up && EXIF.orientation(in: original) == .right)
    }

    @Test(arguments: [true, false])
    func exifRewriteSetsOrientationAndDimensionsInEitherByteOrder(littleEndian: Bool) throws {
        // IFD0: Orientation (SHORT 8), ImageWidth (SHORT 48), Exif IFD pointer; the Exif IFD:
        // PixelXDimension (SHORT 48); IFD1 at the end (a next-IFD link).
        var w = TIFFWriter(littleEndian: littleEndian)
        w.header(ifd0: 8)
        w.ifd(at: 8, entries: [(0x0100, 3, 1, 48), (0x0112, 3, 1, 8), (0x8769, 4, 1, 50)], next: 68)
        w.ifd(at: 50, entries: [(0xA002, 3, 1, 48)], next: 0)
        w.ifd(at: 68, entries: [(0x0103, 3, 1, 6)], next: 0)
        let rewrite = try #require(EXIF.rewritten(w.bytes, width: 70_000, height: 24))
        let r = TIFFReader(rewrite.payload, littleEndian: littleEndian)
        #expect(r.u32(4) == 8 && r.u16(8) == 3)
        #expect(r.entry(at: 8, 0) == [0x0100, 4, 1, 70_000])   // a SHORT that cannot hold 70,000 is a LONG
        #expect(r.entry(at: 8, 1) == [0x0112, 3, 1, 1])
        #expect(r.u32(8 + 2 + 36) == 0)                      // no IFD1
        #expect(r.entry(at: 50, 0) == [0xA002, 4, 1, 70_000])
        #expect(rewrite.payload.count == 68)                 // IFD1 cut off
    }

    @Test func exifWithoutATIFFHeaderIsReportedNotKept() throws {
        var metadata = ImageMetadata(sourceFormat: .jpeg, storedWidth: 4, storedHeight: 4, storedBitDepth: 8)
        metadata.exif = Array("not a TIFF header at all".utf8)
        let out = OutputMetadata(source: metadata, keep: .all, format: .png, width: 4, height: 4, gray: false)
        #expect(out.exif == nil)
        #expect(out.warnings == [MetadataWarning(block: .exif, reason: .invalid,
                                                 message: "EXIF (24 bytes) has no readable TIFF header and IFD0: not kept")])
    }

    // MARK: Animations

    @Test(arguments: [ImageFormat.webp, .png, .avif])
    func anAnimationKeepsTheLabel(format: ImageFormat) throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("in.gif")
        try Data(TestImages.bytes("animated.gif")).write(to: file)
        try ExifTool.write(file, ["-XMP-iptcExt:DigitalSourceType=\(Self.label)"])
        let gif = [UInt8](try Data(contentsOf: file))
        #expect(try ImageInspection.inspect(gif).provenance.digitalSourceType == Self.label)
        let result = try Self.convert(gif, to: format)
        #expect(result.frameCount > 1 && result.metadataWarnings.isEmpty)
        #expect(try ExifTool.tags(result.bytes) == ["XMP-iptcExt:DigitalSourceType": Self.label])
    }

    // MARK: AVIF's Exif item

    @Test func anAVIFExifItemWithItsExifHeaderMakesAJPEGExiftoolReads() throws {
        let avif = try Self.input(.avif, tags: Self.labelTags)
        // exiftool writes the item as phones do: the offset field 6, then "Exif\0\0", then the TIFF header.
        #expect(avif.firstRange(of: [0, 0, 0, 6] + Array("Exif\0\0MM".utf8)) != nil)
        let result = try Self.convert(avif, to: .jpeg, keep: .exif)
        let tags = try ExifTool.tags(result.bytes)
        #expect(tags["ExifTool:Warning"] == nil)
        #expect(tags["IFD0:Make"] == "Cam" && tags["IFD0:Orientation"] == "1" && tags["GPS:GPSLatitude"] == "48.85")
        // One APP1 header: "Exif\0\0" then the TIFF header at once.
        let app1 = try #require(result.bytes.firstRange(of: Array("Exif\0\0".utf8)))
        #expect(Array(result.bytes[app1.upperBound..<(app1.upperBound + 2)]) == Array("MM".utf8))
        #expect(result.metadataWarnings == [MetadataWarning(block: .provenance, reason: .notKept,
                                                            message: "provenance label \(Self.label) not kept: keep exif leaves it out (add provenance to keep it; keep none strips it without a warning)")])
        // MIAF: the orientation in the AVIF's EXIF is informational; irot/imir (none here) decide.
        #expect(try ImageDecoder.readHeader(avif).orientation == .up)
    }

    // MARK: ICC

    /// An ICC profile of `space` and `profileClass` named `name` (a placeholder made by lcms2).
    static func profile(_ space: cmsColorSpaceSignature, _ profileClass: cmsProfileClassSignature, _ name: String) -> [UInt8] {
        let p = cmsCreateProfilePlaceholder(nil)!
        defer { cmsCloseProfile(p) }
        cmsSetProfileVersion(p, 4.3)
        cmsSetDeviceClass(p, profileClass)
        cmsSetColorSpace(p, space)
        cmsSetPCS(p, cmsSigLabData)
        let mlu = cmsMLUalloc(nil, 1)
        _ = cmsMLUsetASCII(mlu, "en", "US", name)
        _ = cmsWriteTag(p, cmsSigProfileDescriptionTag, UnsafeRawPointer(mlu))
        cmsMLUfree(mlu)
        var size: UInt32 = 0
        _ = cmsSaveProfileToMem(p, nil, &size)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        _ = cmsSaveProfileToMem(p, &bytes, &size)
        return bytes
    }

    /// A JPEG of the gradient (gray pixels with `gray`) carrying `profile`, written by exiftool.
    static func jpeg(withProfile profile: [UInt8], gray: Bool = false) throws -> [UInt8] {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let icc = dir.appendingPathComponent("profile.icc")
        try Data(profile).write(to: icc)
        return try input(.jpeg, tags: ["-ICC_Profile<=\(icc.path)"], gray: gray)
    }

    @Test(arguments: [ImageFormat.png, .jpeg, .webp, .avif])
    func aCMYKProfileOnRGBPixelsIsDroppedWithAWarning(format: ImageFormat) throws {
        let input = try Self.jpeg(withProfile: Self.profile(cmsSigCmykData, cmsSigOutputClass, "Test CMYK"))
        #expect(try ImageDecoder.decode(input).metadata.iccDescription == "Test CMYK")
        // Before: libpng refused the profile and the PNG conversion failed; the others embedded it.
        let result = try Self.convert(input, to: format, keep: .icc)
        #expect(try ExifTool.tags(result.bytes).keys.filter { $0.hasPrefix("ICC") }.isEmpty)
        #expect(result.metadataWarnings == [MetadataWarning(block: .icc, reason: .mismatch,
                                                            message: "ICC profile \"Test CMYK\" is CMYK; the output's pixels are RGB: not kept")])
    }

    @Test func aGrayProfileOnRGBAndAnRGBProfileOnGrayAreDropped() throws {
        let gray = try Self.jpeg(withProfile: ColorManagementTests.linearGray)
        let onRGB = try Self.convert(gray, to: .png, keep: .icc)
        #expect(onRGB.metadataWarnings.map(\.message) == ["ICC profile \"gray built-in\" is GRAY; the output's pixels are RGB: not kept"])
        let rgb = try Self.jpeg(withProfile: ColorManagementTests.adobeLikeRGB, gray: true)
        let onGray = try Self.convert(rgb, to: .png, keep: .icc)
        #expect(try ImageDecoder.decode(onGray.bytes).image.format == .gray8)
        #expect(onGray.metadataWarnings.map(\.message) == ["ICC profile \"RGB built-in\" is RGB; the output's pixels are gray: not kept"])
        // A device link is no image profile.
        let link = try Self.jpeg(withProfile: Self.profile(cmsSigRgbData, cmsSigLinkClass, "Test link"))
        #expect(try Self.convert(link, to: .jpeg, keep: .icc).metadataWarnings.map(\.message)
                    == ["ICC profile \"Test link\" is a device link, which no image embeds: not kept"])
    }

    @Test func aMatchingProfileIsKept() throws {
        let input = try Self.jpeg(withProfile: ColorManagementTests.adobeLikeRGB)
        let result = try Self.convert(input, to: .png, keep: .icc)
        #expect(result.metadataWarnings.isEmpty)
        // Converted to sRGB, so sRGB's profile says so.
        #expect(try ImageDecoder.decode(result.bytes).metadata.iccDescription == "sRGB built-in")
    }

    // MARK: PNG raw profiles

    /// A PNG of `image` with `chunks` (type, data) inserted before its image data.
    static func png(_ image: Image, chunks: [(String, [UInt8])]) throws -> [UInt8] {
        var png = try PNGCodec.encode(image, icc: nil, exif: nil)
        var inserted: [UInt8] = []
        for (type, data) in chunks { APNGScan.append(chunk: type, data[...], to: &inserted) }
        png.insert(contentsOf: inserted, at: 33)   // after the signature and IHDR
        return png
    }

    /// `data` as a zlib stream of stored (uncompressed) deflate blocks, as a zTXt chunk may hold it.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var rest = data[...]
        repeat {
            let block = rest.prefix(65_535)
            rest = rest.dropFirst(block.count)
            let n = block.count
            out += [rest.isEmpty ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += block
        } while !rest.isEmpty
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        return out + APNGScan.bytes32(Int(b << 16 | a))
    }

    /// EXIF (TIFF header onwards, big-endian) with IFD0 holding orientation `value` and a make.
    static func exif(orientation value: Int) -> [UInt8] {
        var w = TIFFWriter(littleEndian: false)
        w.header(ifd0: 8)
        w.ifd(at: 8, entries: [(0x0112, 3, 1, value)], next: 0)
        return w.bytes
    }

    @Test(arguments: ["tEXt", "zTXt"])
    func aPNGRawProfileExifOrientsThePictureAsPillowAndExiftoolDo(chunk: String) throws {
        // ImageMagick's way: "Raw profile type exif", the payload with its "Exif\0\0" in hex.
        let text = MetadataEmbedding.rawProfile("exif", Array("Exif\0\0".utf8) + Self.exif(orientation: 6))
        let data = Array("Raw profile type exif".utf8) + [0] + (chunk == "zTXt" ? [0] + Self.zlibStored(text) : text)
        let png = try Self.png(TestImages.gradient(width: 48, height: 32, alpha: false), chunks: [(chunk, data)])
        #expect(try ExifTool.tags(png)["IFD0:Orientation"] == "6")
        #expect(try ImageDecoder.readHeader(png).orientation == .right)
        let decoded = try ImageDecoder.decode(png)
        #expect(decoded.image.width == 32 && decoded.image.height == 48)
        let inspection = try ImageInspection.inspect(png)
        #expect(inspection.orientation == .right && inspection.metadata.exif)
        // Kept: an eXIf chunk with orientation 1 on upright pixels.
        let result = try Self.convert(png, to: .png, keep: .exif)
        #expect(result.width == 32 && result.height == 48)
        #expect(try ExifTool.tags(result.bytes) == ["IFD0:Orientation": "1"])
        // An eXIf chunk wins over the text chunk, as in Pillow.
        let both = try Self.png(TestImages.gradient(width: 48, height: 32, alpha: false),
                                chunks: [("eXIf", Self.exif(orientation: 3)), (chunk, data)])
        #expect(try ImageDecoder.readHeader(both).orientation == .down)
    }

    /// ImageMagick's `Raw profile type APP1`: the JPEG APP1 payload, EXIF (`Exif\0\0`) or XMP (its namespace header).
    @Test func aPNGRawProfileAPP1HoldsEXIFOrXMP() throws {
        let image = TestImages.gradient(width: 8, height: 4, alpha: false)
        let exif = MetadataEmbedding.rawProfile("APP1", Array("Exif\0\0".utf8) + Self.exif(orientation: 8))
        let withEXIF = try Self.png(image, chunks: [("tEXt", Array("Raw profile type APP1".utf8) + [0] + exif)])
        #expect(try ImageDecoder.readHeader(withEXIF).orientation == .left)
        let packet = XMPProvenance.packet(digitalSourceType: Self.label)
        let xmp = MetadataEmbedding.rawProfile("APP1", MetadataEmbedding.xmpHeader + packet)
        let withXMP = try Self.png(image, chunks: [("tEXt", Array("Raw profile type APP1".utf8) + [0] + xmp)])
        let metadata = try ImageDecoder.decode(withXMP).metadata
        #expect(metadata.xmp == packet && metadata.exif == nil && metadata.orientation == .up)
        #expect(try ExifTool.tags(withXMP)["XMP-iptcExt:DigitalSourceType"] == Self.label)
    }

    @Test func aPNGRawProfileXMPAndIPTCAreReadAndKept() throws {
        let xmp = XMPProvenance.packet(digitalSourceType: Self.label)
        let iim: [UInt8] = [0x1C, 0x02, 0x00, 0x00, 0x02, 0x00, 0x04, 0x1C, 0x02, 0x19, 0x00, 0x01, 0x79]   // version 4, keyword "y"
        let png = try Self.png(TestImages.gradient(width: 8, height: 8, alpha: false), chunks: [
            ("zTXt", Array("Raw profile type xmp".utf8) + [0, 0] + Self.zlibStored(MetadataEmbedding.rawProfile("xmp", xmp))),
            ("tEXt", Array("Raw profile type iptc".utf8) + [0] + MetadataEmbedding.rawProfile("iptc", iim)),
        ])
        let source = try ImageDecoder.decode(png).metadata
        #expect(source.xmp == xmp && source.iptc == iim && source.provenance.digitalSourceType == Self.label)
        let result = try Self.convert(png, to: .jpeg, keep: .all)
        #expect(try ExifTool.tags(result.bytes) == ["XMP-iptcExt:DigitalSourceType": Self.label, "IPTC:Keywords": "y",
                                                    "IPTC:ApplicationRecordVersion": "4"])
    }

    // MARK: C2PA

    /// A JUMBF superbox of a C2PA manifest store: `jumb`, its `jumd` description (the C2PA UUID,
    /// toggles, the label `c2pa`) and a `json` content box.
    static let jumbf: [UInt8] = {
        let uuid: [UInt8] = [0x63, 0x32, 0x70, 0x61, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let jumd = Array("jumd".utf8) + uuid + [0x03] + Array("c2pa\0".utf8)
        let json = Array("json".utf8) + Array("{\"manifest\":1}".utf8)
        let content = APNGScan.bytes32(jumd.count + 4) + jumd + APNGScan.bytes32(json.count + 4) + json
        return APNGScan.bytes32(content.count + 8) + Array("jumb".utf8) + content
    }()

    /// A JPEG with a C2PA manifest in one APP11 segment (`JP`, box instance 1, packet 1, the JUMBF).
    static func jpegWithC2PA() throws -> (bytes: [UInt8], segment: Int) {
        var jpeg = try Self.input(.jpeg, tags: ["-XMP-iptcExt:DigitalSourceType=\(label)"])
        let body: [UInt8] = [0x4A, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01] + jumbf
        let length = body.count + 2
        jpeg.insert(contentsOf: [0xFF, 0xEB, UInt8(length >> 8), UInt8(length & 0xFF)] + body, at: 2)
        return (jpeg, length + 2)
    }

    @Test(arguments: ImageFormat.allCases)
    func aC2PAManifestIsReportedAndNeverCarriedOver(format: ImageFormat) throws {
        let (input, segment) = try Self.jpegWithC2PA()
        #expect(try ExifTool.tags(input)["JUMBF:JUMDLabel"] == "c2pa")
        let manifest = C2PAManifest(container: "JPEG APP11", byteCount: segment)
        #expect(try ImageInspection.inspect(input).provenance == Provenance(digitalSourceType: Self.label, c2pa: manifest))
        for keep in [MetadataKeep.default, .all, .none] {
            let result = try Self.convert(input, to: format, keep: keep)
            #expect(result.bytes.firstRange(of: Array("jumb".utf8)) == nil)
            #expect(try ImageInspection.inspect(result.bytes).provenance.c2pa == nil)
            let c2pa = MetadataWarning(block: .c2pa, reason: .invalidated,
                                       message: "C2PA manifest (JPEG APP11, \(segment) bytes) dropped: its signature covers the input's bytes, which a conversion changes (re-sign the output to keep a manifest)")
            #expect(result.metadataWarnings.first == c2pa)
        }
    }

    @Test func c2paIsFoundInPNGWebPAndAVIF() throws {
        let png = try Self.png(TestImages.gradient(width: 8, height: 8, alpha: false), chunks: [("caBX", Self.jumbf)])
        #expect(try ImageInspection.inspect(png).provenance.c2pa == C2PAManifest(container: "PNG caBX", byteCount: Self.jumbf.count))
        var webp = try ImageEncoder.encode(TestImages.gradient(width: 8, height: 8, alpha: false), as: .webp,
                                           options: EncodeOptions(keep: .none))
        webp += Array("C2PA".utf8) + [UInt8(Self.jumbf.count & 0xFF), UInt8(Self.jumbf.count >> 8), 0, 0] + Self.jumbf
        if Self.jumbf.count % 2 == 1 { webp.append(0) }
        let riff = webp.count - 8
        webp.replaceSubrange(4..<8, with: [UInt8(riff & 0xFF), UInt8(riff >> 8 & 0xFF), UInt8(riff >> 16 & 0xFF), 0])
        #expect(try ImageInspection.inspect(webp).provenance.c2pa == C2PAManifest(container: "WebP C2PA", byteCount: Self.jumbf.count))
        let avif = try ImageEncoder.encode(TestImages.gradient(width: 8, height: 8, alpha: false), as: .avif,
                                           options: EncodeOptions(keep: .none))
        let box = APNGScan.bytes32(8 + 16 + Self.jumbf.count) + Array("uuid".utf8) + MetadataBlocks.c2paUUID + Self.jumbf
        #expect(try ImageInspection.inspect(avif + box).provenance.c2pa == C2PAManifest(container: "AVIF uuid", byteCount: box.count))
    }

    @Test func aReferenceIsStrippedOfItsManifestAndSaysSo() throws {
        let image = TestImages.gradient(width: 8, height: 8, alpha: false)
        #expect(try ReferencePrep.prepare(bytes: PNGCodec.encode(image, icc: nil, exif: nil), name: "a.png").passedThrough)
        let png = try Self.png(image, chunks: [("caBX", Self.jumbf)])
        let ref = try ReferencePrep.prepare(bytes: png, name: "a.png")
        #expect(!ref.passedThrough)
        #expect(try ImageInspection.inspect(ref.bytes).provenance == Provenance())
        #expect(ref.metadataWarnings == [MetadataWarning(block: .c2pa, reason: .invalidated,
                                                         message: "C2PA manifest (PNG caBX, \(Self.jumbf.count) bytes) dropped: its signature covers the input's bytes, which a conversion changes (re-sign the output to keep a manifest)")])
    }

    // MARK: Bounds

    @Test func anXMPPacketOverTheLimitIsReportedNotKept() throws {
        var xmp = XMPProvenance.packet(digitalSourceType: Self.label)
        xmp += [UInt8](repeating: 0x20, count: Limits.maxXMPBytes + 1 - xmp.count)
        let png = try Self.png(TestImages.gradient(width: 8, height: 8, alpha: false),
                               chunks: [("iTXt", Array("XML:com.adobe.xmp".utf8) + [0, 0, 0, 0, 0] + xmp)])
        let message = "XMP packet of 1048577 bytes (PNG iTXt XML:com.adobe.xmp) is over the 1048576-byte limit: not kept, and its provenance label not read"
        for keep in [MetadataKeep.default, .xmp] {
            let result = try Self.convert(png, to: .png, keep: keep)
            #expect(try ExifTool.tags(result.bytes) == [:])
            #expect(result.metadataWarnings == [MetadataWarning(block: .xmp, reason: .tooLarge, message: message)])
        }
        #expect(try Self.convert(png, to: .png, keep: .none).metadataWarnings.isEmpty)
    }

    @Test func anXMPPacketTooLargeForAJPEGSegmentKeepsItsLabel() throws {
        var xmp = XMPProvenance.packet(digitalSourceType: Self.label)
        // Padding inside the packet (whitespace before its end), as XMP writers leave room.
        let end = try #require(xmp.firstRange(of: Array("<?xpacket end".utf8)))
        xmp.insert(contentsOf: [UInt8](repeating: 0x20, count: 70_000), at: end.lowerBound)
        let png = try Self.png(TestImages.gradient(width: 8, height: 8, alpha: false),
                               chunks: [("iTXt", Array("XML:com.adobe.xmp".utf8) + [0, 0, 0, 0, 0] + xmp)])
        let result = try Self.convert(png, to: .jpeg, keep: .all)
        #expect(try ExifTool.tags(result.bytes) == ["XMP-iptcExt:DigitalSourceType": Self.label])
        #expect(result.metadataWarnings == [MetadataWarning(block: .xmp, reason: .tooLarge,
                                                            message: "XMP packet of \(xmp.count) bytes is over the 65502 bytes one JPEG APP1 segment holds (extended XMP is not written): only its provenance label was kept")])
    }

    @Test func aKeptXMPSaysTheOrientationIs1() throws {
        let xmp = Array("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" tiff:Orientation=\"6\"/><rdf:Description><tiff:Orientation>8</tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>".utf8)
        let reset = String(decoding: XMPProvenance.resettingOrientation(xmp), as: UTF8.self)
        #expect(reset.contains("tiff:Orientation=\"1\"") && reset.contains("<tiff:Orientation>1</tiff:Orientation>"))
        #expect(reset.count == xmp.count)
    }
}

/// The metadata readers and the EXIF rewrite on mutated inputs (a seeded generator, so a failure
/// reproduces): they return — never trap, never read outside the bytes — and what they keep
/// stays within its limits. The fuzz targets (`decode-*`, `convert` with bit 5) run them further.
@Suite struct MetadataRobustnessTests {
    /// xorshift64*: the same mutations on every run.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    }

    /// `bytes` with 1–8 bytes changed, or cut short, or a run repeated.
    static func mutated(_ bytes: [UInt8], _ g: inout Generator) -> [UInt8] {
        var b = bytes
        switch g.below(4) {
        case 0: b = Array(b.prefix(g.below(b.count)))
        case 1:
            let at = g.below(b.count), n = min(16, b.count - at)
            b.insert(contentsOf: b[at..<(at + n)], at: at)
        default:
            for _ in 0...g.below(8) { b[g.below(b.count)] = UInt8(truncatingIfNeeded: g.next()) }
        }
        return b
    }

    @Test func mutatedContainersAndEXIFNeverTrap() throws {
        let jpeg = try MetadataFidelityTests.jpegWithC2PA().bytes
        let png = try MetadataFidelityTests.png(TestImages.gradient(width: 8, height: 8, alpha: false), chunks: [
            ("zTXt", Array("Raw profile type xmp".utf8) + [0, 0]
                + MetadataFidelityTests.zlibStored(MetadataEmbedding.rawProfile("xmp", XMPProvenance.packet(digitalSourceType: "x")))),
            ("tEXt", Array("Raw profile type iptc".utf8) + [0] + MetadataEmbedding.rawProfile("iptc", MetadataEmbedding.photoshopResources(iptc: [0x1C, 2, 0x19, 0, 1, 0x79]))),
            ("caBX", MetadataFidelityTests.jumbf),
        ])
        let exif = try #require(ImageDecoder.decode(MetadataFidelityTests.labelledJPEG()).metadata.exif)
        var g = Generator(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<3000 {
            for (bytes, format) in [(jpeg, ImageFormat.jpeg), (png, .png)] {
                let blocks = MetadataBlocks(Self.mutated(bytes, &g), format: format)
                #expect((blocks.xmp?.count ?? 0) <= Limits.maxXMPBytes && (blocks.iptc?.count ?? 0) <= Limits.maxMetadataBytes)
                if let xmp = blocks.xmp { _ = XMPProvenance.digitalSourceType(in: xmp) }
            }
            let mutatedEXIF = Self.mutated(exif, &g)
            if let rewrite = EXIF.rewritten(mutatedEXIF, width: 70_000, height: 1) {
                #expect(rewrite.payload.count <= mutatedEXIF.count)
                _ = EXIF.rewritten(rewrite.payload, width: 1, height: 1)
            }
            _ = XMPProvenance.digitalSourceType(in: Self.mutated(XMPProvenance.packet(digitalSourceType: "x"), &g))
        }
    }
}

/// The XMP scanner's reading of the label, and `--keep`'s list.
@Suite struct ProvenanceParsingTests {
    static let label = MetadataFidelityTests.label
    static let ns = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"

    static func packet(_ description: String) -> [UInt8] {
        Array("""
            <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            \(description)
            </rdf:RDF></x:xmpmeta><?xpacket end="w"?>
            """.utf8)
    }

    @Test func theLabelIsReadInEveryRDFForm() {
        let forms = [
            "<rdf:Description rdf:about='' xmlns:Iptc4xmpExt='\(Self.ns)' Iptc4xmpExt:DigitalSourceType='\(Self.label)'/>",
            "<rdf:Description xmlns:e=\"\(Self.ns)\"><e:DigitalSourceType>\n  \(Self.label)\n</e:DigitalSourceType></rdf:Description>",
            "<rdf:Description xmlns:e=\"\(Self.ns)\"><e:DigitalSourceType rdf:resource=\"\(Self.label)\"/></rdf:Description>",
            "<rdf:Description xmlns=\"\(Self.ns)\"><!-- a comment <e:x> --><DigitalSourceType><![CDATA[\(Self.label)]]></DigitalSourceType></rdf:Description>",
        ]
        for form in forms { #expect(XMPProvenance.digitalSourceType(in: Self.packet(form)) == Self.label, "\(form)") }
        #expect(XMPProvenance.digitalSourceType(in: Self.packet(
            "<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='a&amp;b&#x3C;&#99;'/>")) == "a&b<c")
    }

    @Test func otherNamespacesAndBrokenPacketsGiveNoLabel() {
        #expect(XMPProvenance.digitalSourceType(in: Self.packet(
            "<rdf:Description xmlns:e='http://example.com/' e:DigitalSourceType='\(Self.label)'/>")) == nil)
        #expect(XMPProvenance.digitalSourceType(in: Self.packet("<rdf:Description e:DigitalSourceType='\(Self.label)'/>")) == nil)
        #expect(XMPProvenance.digitalSourceType(in: Self.packet(
            "<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='\(String(repeating: "a", count: 1025))'/>")) == nil)
        #expect(XMPProvenance.digitalSourceType(in: Array("<a b='unterminated".utf8)) == nil)
        #expect(XMPProvenance.digitalSourceType(in: []) == nil)
        let deep = String(repeating: "<a>", count: 300) + "<e:DigitalSourceType xmlns:e='\(Self.ns)'>x</e:DigitalSourceType>"
        #expect(XMPProvenance.digitalSourceType(in: Array(deep.utf8)) == nil)
    }

    /// A label that is there but cannot be read (too long, a control character, a broken
    /// reference) is named, not dropped without a word; the first good one still wins.
    @Test func anUnreadableLabelSaysWhy() throws {
        func read(_ description: String) -> (label: String?, refused: String?) { XMPProvenance.read(Self.packet(description)) }
        let long = String(repeating: "a", count: 1025)
        let cases: [(String, String)] = [
            ("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='\(long)'/>", "of 1025 characters is over the 1024-character limit"),
            ("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='\(String(repeating: "a", count: 5000))'/>",
             "of 5000 bytes is over the 1024-character limit"),
            ("<rdf:Description xmlns:e='\(Self.ns)'><e:DigitalSourceType>\(String(repeating: "b", count: 5000))</e:DigitalSourceType></rdf:Description>",
             "of 5000 bytes is over the 1024-character limit"),
            ("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='a&#7;b'/>", "holds a control character (U+0007)"),
            ("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='a&bogus;'/>", "has a malformed character reference"),
        ]
        for (form, reason) in cases {
            let result = read(form)
            #expect(result.label == nil && result.refused == reason, "\(result)")
        }
        #expect(read("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType=''/>") == (nil, nil))
        #expect(read("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='a&#7;'/><rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='\(Self.label)'/>")
                == (Self.label, nil))

        // In a conversion: a warning where the label alone would have been kept.
        var xmp = Self.packet("<rdf:Description xmlns:e='\(Self.ns)' e:DigitalSourceType='\(long)'/>")
        let source = try MetadataFidelityTests.png(TestImages.gradient(width: 8, height: 8, alpha: false),
                                                   chunks: [("iTXt", Array("XML:com.adobe.xmp".utf8) + [0, 0, 0, 0, 0] + xmp)])
        let warning = MetadataWarning(block: .provenance, reason: .invalid,
                                      message: "provenance label (the XMP's Iptc4xmpExt:DigitalSourceType) of 1025 characters is over the 1024-character limit: not read, so not kept")
        #expect(try MetadataFidelityTests.convert(source, to: .png).metadataWarnings == [warning])
        #expect(try MetadataFidelityTests.convert(source, to: .png, keep: .none).metadataWarnings.isEmpty)
        let all = try MetadataFidelityTests.convert(source, to: .png, keep: .all)   // the XMP as it is, label and all
        #expect(all.metadataWarnings.isEmpty)
        xmp = try #require(ImageDecoder.decode(all.bytes, options: DecodeOptions()).metadata.xmp)
        #expect(String(decoding: xmp, as: UTF8.self).contains(long))
    }

    @Test func theMinimalPacketHoldsTheLabelEscaped() {
        let packet = XMPProvenance.packet(digitalSourceType: "a<b&\"c\"")
        #expect(XMPProvenance.digitalSourceType(in: packet) == "a<b&\"c\"")
        #expect(String(decoding: packet, as: UTF8.self).contains("<Iptc4xmpExt:DigitalSourceType>a&lt;b&amp;&quot;c&quot;</Iptc4xmpExt:DigitalSourceType>"))
    }

    @Test func aGIFXMPExtensionWithoutItsTrailerIsNotRead() {
        let xmp = Array("<x:xmpmeta/>".utf8)
        let head = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0] + [0x21, 0xFF, 11] + Array("XMP DataXMP".utf8)
        let trailer: [UInt8] = [0x01] + (0...255).reversed().map { UInt8($0) } + [0x00]
        #expect(MetadataBlocks(head + xmp + trailer + [0x3B], format: .gif).xmp == xmp)
        let cut = MetadataBlocks(head + xmp + [0x00, 0x3B], format: .gif)
        #expect(cut.xmp == nil)
        #expect(cut.problems == [MetadataWarning(block: .xmp, reason: .invalid,
                                                 message: "the GIF XMP application extension at offset 13 has no end (its 258-byte trailer) within the 1048576-byte limit: not kept")])
    }

    @Test func keepParsesNoneAllAndCommaLists() throws {
        #expect(try MetadataKeep(parsing: "none") == [])
        #expect(try MetadataKeep(parsing: "all") == .all)
        #expect(try MetadataKeep(parsing: " ICC , exif,xmp ") == [.icc, .exif, .xmp])
        #expect(try MetadataKeep(parsing: "iptc,all") == .all)
        #expect(try MetadataKeep(parsing: "provenance") == .default)
        #expect(MetadataKeep([.exif, .icc, .provenance]).description == "provenance,icc,exif")
        #expect(MetadataKeep.all.description == "all" && MetadataKeep.none.description == "none")
        for bad in ["", "icc,", "none,icc", "gps", "icc exif"] {
            #expect(throws: DarkroomError.self) { try MetadataKeep(parsing: bad) }
        }
        do {
            _ = try MetadataKeep(parsing: "gps")
        } catch .option(let error) {
            #expect(error.description == "invalid keep 'gps': expected none, all, or a comma list of provenance, icc, exif, xmp, iptc (e.g. icc,exif,xmp)")
        } catch {
            Issue.record("another phase: \(error)")
        }
    }
}

/// A TIFF structure written by hand for the EXIF tests: a header and IFDs of inline values.
struct TIFFWriter {
    let littleEndian: Bool
    var bytes: [UInt8] = []

    mutating func put(_ value: Int, _ size: Int, at offset: Int) {
        if bytes.count < offset + size { bytes += [UInt8](repeating: 0, count: offset + size - bytes.count) }
        for k in 0..<size {
            let shift = littleEndian ? 8 * k : 8 * (size - 1 - k)
            bytes[offset + k] = UInt8(truncatingIfNeeded: value >> shift)
        }
    }

    mutating func header(ifd0: Int) {
        bytes = littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]
        put(42, 2, at: 2)
        put(ifd0, 4, at: 4)
    }

    /// An IFD at `offset`: entries (tag, type, count, inline value) and the next-IFD link.
    mutating func ifd(at offset: Int, entries: [(Int, Int, Int, Int)], next: Int) {
        put(entries.count, 2, at: offset)
        for (k, e) in entries.enumerated() {
            let o = offset + 2 + k * 12
            put(e.0, 2, at: o)
            put(e.1, 2, at: o + 2)
            put(e.2, 4, at: o + 4)
            if e.1 == 3 { put(e.3, 2, at: o + 8); put(0, 2, at: o + 10) } else { put(e.3, 4, at: o + 8) }
        }
        put(next, 4, at: offset + 2 + entries.count * 12)
    }
}

/// Reads what ``TIFFWriter`` writes.
struct TIFFReader {
    let bytes: [UInt8]
    let littleEndian: Bool
    init(_ bytes: [UInt8], littleEndian: Bool) { (self.bytes, self.littleEndian) = (bytes, littleEndian) }

    func value(_ offset: Int, _ size: Int) -> Int {
        (0..<size).reduce(0) { acc, k in
            let shift = littleEndian ? 8 * k : 8 * (size - 1 - k)
            return acc | Int(bytes[offset + k]) << shift
        }
    }
    func u16(_ o: Int) -> Int { value(o, 2) }
    func u32(_ o: Int) -> Int { value(o, 4) }
    /// Entry `k` of the IFD at `offset`: tag, type, count, inline value.
    func entry(at offset: Int, _ k: Int) -> [Int] {
        let o = offset + 2 + k * 12
        let type = u16(o + 2)
        return [u16(o), type, u32(o + 4), type == 3 ? u16(o + 8) : u32(o + 8)]
    }
}
