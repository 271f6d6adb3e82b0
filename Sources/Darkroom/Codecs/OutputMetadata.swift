import CDarkroom
/// The metadata blocks an output carries, decided once per output from the source's metadata,
/// ``EncodeOptions/keep``, the output format and its pixels — and what the input had that the
/// output will not (``warnings``).
///
/// - **ICC** (`icc`): the source's profile, or sRGB's when the pixels were converted to sRGB;
///   dropped when its colour space does not match the output's pixels (a CMYK or gray profile on
///   RGB pixels, an RGB one on gray pixels), when its class is not one an image may embed (device
///   link, abstract, named colour) or when its header is broken — libpng refuses such a profile,
///   and libvips and sharp drop it too.
/// - **EXIF** (`exif`): ``EXIF/rewritten(_:width:height:)`` — no thumbnail, orientation 1, the
///   output's pixel dimensions — from the TIFF header on; each container adds its own wrapping
///   (JPEG's `Exif\0\0`, AVIF's offset field).
/// - **XMP** (`xmp`): the packet with `tiff:Orientation` set to 1; with only `provenance` kept
///   (or an XMP packet a JPEG cannot hold in one segment), ``XMPProvenance/packet(digitalSourceType:)``.
/// - **IPTC** (`iptc`): the IIM records.
/// - A C2PA manifest is never carried over: always a warning.
///
/// GIF holds none of them; WebP and AVIF hold no IPTC. A block kept and present that the output
/// cannot hold is a warning, as is a block the reader found too large or damaged.
struct OutputMetadata: Sendable, Equatable {
    var icc: [UInt8]?
    var exif: [UInt8]?
    var xmp: [UInt8]?
    var iptc: [UInt8]?
    /// What the input had that the output does not carry, in this order: C2PA, ICC, EXIF, XMP,
    /// the provenance label, IPTC.
    var warnings: [MetadataWarning] = []

    /// Nothing embedded, nothing to report.
    static let none = OutputMetadata()

    /// The largest EXIF payload one JPEG APP1 segment holds after its `Exif\0\0`: 65,527 bytes.
    static let jpegMaxEXIF = 65_533 - 6
    /// The largest XMP packet written into one JPEG APP1 segment: 65,502 bytes, the XMP
    /// specification's limit for standard XMP (Part 3, 1.1.3.1).
    static let jpegMaxXMP = 65_502
    /// The largest IPTC records one JPEG APP13 segment holds after `Photoshop 3.0\0` and the
    /// `8BIM` resource header: 65,507 bytes.
    static let jpegMaxIPTC = 65_533 - 14 - 12

    init() {}

    /// Decides the blocks of a `format` output of `width` × `height` pixels (`gray`: one colour
    /// channel, with or without alpha) from `source` under `keep`.
    init(source: ImageMetadata?, keep: MetadataKeep, format: ImageFormat, width: Int, height: Int, gray: Bool) {
        guard let source else { return }
        if let manifest = source.provenance.c2pa {
            warnings.append(MetadataWarning(block: .c2pa, reason: .invalidated,
                                            message: "\(manifest) dropped: its signature covers the input's bytes, which a conversion changes"
                                                + " (re-sign the output to keep a manifest)"))
        }
        // What reading found wrong, for the blocks kept.
        for problem in source.metadataProblems {
            let relevant = switch problem.block {
            case .xmp: keep.contains(.xmp) || (keep.contains(.provenance) && problem.reason == .tooLarge)
            case .iptc: keep.contains(.iptc)
            case .exif: keep.contains(.exif)
            case .icc: keep.contains(.icc)
            case .provenance: keep.contains(.provenance) && !keep.contains(.xmp)   // a kept XMP holds it as it is
            case .c2pa: false
            }
            if relevant { warnings.append(problem) }
        }
        let holdsNone = format == .gif
        func unsupported(_ block: MetadataWarning.Block, _ what: String) {
            warnings.append(MetadataWarning(block: block, reason: .unsupported, message: "\(what) not kept: \(format) cannot hold it"))
        }

        if keep.contains(.icc), let original = source.iccProfile {
            let profile = source.convertedToSRGB ? (ColorManagement.sRGBProfile() ?? original) : original
            if holdsNone {
                unsupported(.icc, Self.name(of: profile))
            } else if let problem = Self.iccProblem(profile, gray: gray) {
                warnings.append(MetadataWarning(block: .icc, reason: problem.reason, message: "\(Self.name(of: profile)) \(problem.text): not kept"))
            } else if format == .png, let refusal = Self.pngRefusal(profile, gray: gray) {
                // libpng refuses some profiles that fit the pixels (a PCS illuminant other than
                // D50, its list of known-incorrect sRGB profiles): the PNG is written without it.
                warnings.append(MetadataWarning(block: .icc, reason: .invalid,
                                                message: "\(Self.name(of: profile)) is refused by libpng (\(printableText(refusal, maxLength: 120))): not kept"))
            } else {
                icc = profile
            }
        }

        if keep.contains(.exif), let original = source.exif {
            if holdsNone {
                unsupported(.exif, "EXIF (\(original.count) bytes)")
            } else if let rewrite = EXIF.rewritten(EXIF.tiffPayload(original), width: width, height: height) {
                if format == .jpeg && rewrite.payload.count > Self.jpegMaxEXIF {
                    warnings.append(MetadataWarning(block: .exif, reason: .tooLarge,
                                                    message: "EXIF of \(rewrite.payload.count) bytes (without its thumbnail) is over the \(Self.jpegMaxEXIF) bytes one JPEG APP1 segment holds: not kept"))
                } else {
                    exif = rewrite.payload
                    if !rewrite.dropped.isEmpty {
                        warnings.append(MetadataWarning(block: .exif, reason: .invalid,
                                                        message: "EXIF kept without " + rewrite.dropped.joined(separator: ", ")))
                    }
                }
            } else {
                warnings.append(MetadataWarning(block: .exif, reason: .invalid,
                                                message: "EXIF (\(original.count) bytes) has no readable TIFF header and IFD0: not kept"))
            }
        }

        let label = source.provenance.digitalSourceType
        if keep.contains(.xmp), let packet = source.xmp {
            if holdsNone {
                unsupported(.xmp, "XMP packet (\(packet.count) bytes)" + (label.map { " with the provenance label \($0)" } ?? ""))
            } else if format == .jpeg && packet.count > Self.jpegMaxXMP {
                let kept = label != nil ? "only its provenance label was kept" : "not kept"
                warnings.append(MetadataWarning(block: .xmp, reason: .tooLarge,
                                                message: "XMP packet of \(packet.count) bytes is over the \(Self.jpegMaxXMP) bytes one JPEG APP1 segment holds (extended XMP is not written): \(kept)"))
                xmp = label.map { XMPProvenance.packet(digitalSourceType: $0) }
            } else {
                xmp = XMPProvenance.resettingOrientation(packet)
            }
        } else if keep.contains(.provenance), let label {
            if holdsNone {
                unsupported(.provenance, "provenance label \(label)")
            } else {
                xmp = XMPProvenance.packet(digitalSourceType: label)
            }
        } else if let label, !keep.isEmpty, !keep.keepsProvenance {
            warnings.append(MetadataWarning(block: .provenance, reason: .notKept,
                                            message: "provenance label \(label) not kept: keep \(keep) leaves it out (add provenance to keep it; keep none strips it without a warning)"))
        }

        if keep.contains(.iptc), let records = source.iptc {
            switch format {
            case .jpeg where records.count > Self.jpegMaxIPTC:
                warnings.append(MetadataWarning(block: .iptc, reason: .tooLarge,
                                                message: "IPTC records of \(records.count) bytes are over the \(Self.jpegMaxIPTC) bytes one JPEG APP13 segment holds: not kept"))
            case .jpeg, .png: iptc = records
            case .webp, .avif, .gif: unsupported(.iptc, "IPTC (\(records.count) bytes)")
            }
        }
    }

    /// libpng's words when it would not write `profile` as a PNG `iCCP` chunk (its header,
    /// rendering intent and PCS illuminant checks, its list of known-incorrect sRGB profiles); nil
    /// when it would.
    static func pngRefusal(_ profile: [UInt8], gray: Bool) -> String? {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let ok = profile.withUnsafeBufferPointer { darkroom_png_icc_acceptable($0.baseAddress, UInt32(clamping: $0.count), gray ? 1 : 0, &err) }
        return ok != 0 ? nil : String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `ICC profile "Display P3"` (or `ICC profile (no description)`).
    static func name(of profile: [UInt8]) -> String {
        ColorManagement.describe(profile).map { "ICC profile \"\(printableText($0, maxLength: 80))\"" } ?? "ICC profile (no description)"
    }

    /// Why `profile` cannot describe `gray` (or RGB) output pixels, or nil when it can: its
    /// header (the declared size is the profile's, `acsp` at byte 36), its class (an input,
    /// display, output or colour-space profile) and its data colour space (`GRAY` for gray
    /// pixels, `RGB ` for RGB ones).
    static func iccProblem(_ profile: [UInt8], gray: Bool) -> (reason: MetadataWarning.Reason, text: String)? {
        guard profile.count >= 132, profile[36..<40].elementsEqual("acsp".utf8) else {
            return (.invalid, "(\(profile.count) bytes) has no valid ICC header")
        }
        let declared = Int(profile[0]) << 24 | Int(profile[1]) << 16 | Int(profile[2]) << 8 | Int(profile[3])
        guard declared == profile.count else {
            return (.invalid, "declares \(declared) bytes but holds \(profile.count)")
        }
        let profileClass = String(decoding: profile[12..<16], as: UTF8.self)
        guard ["scnr", "mntr", "prtr", "spac"].contains(profileClass) else {
            let names = ["link": "a device link", "abst": "an abstract profile", "nmcl": "a named colour profile"]
            return (.mismatch, "is \(names[profileClass] ?? "of class '\(printableText(profileClass))'"), which no image embeds")
        }
        let space = String(decoding: profile[16..<20], as: UTF8.self)
        let wanted = gray ? "GRAY" : "RGB "
        guard space == wanted else {
            let shown = space.trimmingSpaces()
            return (.mismatch, "is \(printableText(shown.isEmpty ? space : shown)); the output's pixels are \(gray ? "gray" : "RGB")")
        }
        return nil
    }
}
