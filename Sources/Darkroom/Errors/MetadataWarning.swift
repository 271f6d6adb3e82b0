/// A metadata block of the input that its output does not carry although the input had it: a
/// C2PA manifest (a re-encode invalidates it), a block the output format cannot hold, one that is
/// malformed or too large, an ICC profile whose colour space does not match the pixels, the
/// provenance label when `--keep` leaves it out. The output is written all the same: a warning,
/// never an error, and never silence.
///
/// A conversion reports them in ``ConversionResult/metadataWarnings``; the CLI prints each on
/// standard error (`darkroom: photo.jpg: metadata: …`) and in `--json` (kind `metadata`), the
/// HTTP sidecar in `Darkroom-Warning` and its JSON, as it does the decoder's warnings.
public struct MetadataWarning: Sendable, Hashable, CustomStringConvertible {
    /// The block concerned.
    public enum Block: String, Sendable, Hashable, CaseIterable {
        /// The ICC profile.
        case icc
        /// EXIF.
        case exif
        /// The XMP packet.
        case xmp
        /// IPTC-IIM records.
        case iptc
        /// The IPTC `DigitalSourceType` label (``MetadataKeep/provenance``).
        case provenance
        /// A C2PA manifest (JUMBF).
        case c2pa

        /// `ICC profile`, `EXIF`, `XMP`, `IPTC`, `provenance label`, `C2PA manifest`.
        public var name: String {
            switch self {
            case .icc: "ICC profile"
            case .exif: "EXIF"
            case .xmp: "XMP"
            case .iptc: "IPTC"
            case .provenance: "provenance label"
            case .c2pa: "C2PA manifest"
            }
        }
    }

    /// Why the block is not in the output.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The output format cannot hold it (GIF holds no metadata; WebP and AVIF hold no IPTC).
        case unsupported
        /// It is larger than Darkroom reads (``Limits/maxXMPBytes``, ``Limits/maxMetadataBytes``)
        /// or than the output's container holds (one JPEG marker segment).
        case tooLarge = "too_large"
        /// It is malformed: EXIF without a TIFF header or with a broken IFD0, a damaged PNG text
        /// chunk, XMP in parts Darkroom does not write (JPEG extended XMP).
        case invalid
        /// An ICC profile whose colour space (or class) does not fit the output's pixels: a CMYK
        /// or gray profile on RGB pixels, an RGB profile on gray ones, a device link.
        case mismatch
        /// A C2PA manifest: its signature covers the input's bytes, which a conversion changes.
        case invalidated
        /// ``MetadataKeep`` leaves it out: the provenance label of an input when `keep` is neither
        /// `none` nor a set with `provenance` or `xmp` (with `none` the label is stripped as asked).
        case notKept = "not_kept"
    }

    public var block: Block
    public var reason: Reason
    /// What was dropped and why, naming the value: `ICC profile "U.S. Web Coated (SWOP) v2" is
    /// CMYK; the output's pixels are RGB: not kept`.
    public var message: String

    public init(block: Block, reason: Reason, message: String) {
        self.block = block
        self.reason = reason
        self.message = message
    }

    /// `metadata: ` and the message.
    public var description: String { "metadata: " + message }
}
