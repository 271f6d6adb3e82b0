import CDarkroom
import CGIFLib
import CLCMS2
import CLibAVIF
import CLibWebP

/// Darkroom's own version and the versions of the system libraries it runs with, as
/// `darkroom --version` prints them (the way `vips --version` does).
public enum CodecLibraries {
    /// Darkroom's version (semantic versioning).
    public static let darkroomVersion = "0.2.0"

    /// `(name, version)` for libjpeg-turbo (the version built against: libjpeg has no run-time
    /// call), libpng, libwebp, libavif (with its AV1 codecs), lcms2 and giflib.
    public static var versions: [(name: String, version: String)] {
        func dotted(_ v: Int32) -> String { "\(v >> 16).\((v >> 8) & 0xFF).\(v & 0xFF)" }
        var codecs = [CChar](repeating: 0, count: 256)
        avifCodecVersions(&codecs)
        let av1 = String(decoding: codecs.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let lcms = Int(cmsGetEncodedCMMversion())
        return [
            ("libjpeg-turbo", String(cString: darkroom_libjpeg_turbo_version())),
            ("libpng", String(cString: darkroom_libpng_version())),
            ("libwebp", dotted(WebPGetDecoderVersion())),
            ("libavif", String(cString: avifVersion()) + (av1.isEmpty ? "" : " (\(av1))")),
            ("lcms2", "\(lcms / 1000).\(lcms % 1000 / 10)"),
            ("giflib", "\(GIFLIB_MAJOR).\(GIFLIB_MINOR).\(GIFLIB_RELEASE)"),
        ]
    }

    /// The lines `darkroom --version` prints: `darkroom 0.2.0`, then one `name version` line per library.
    public static var versionText: String {
        (["darkroom \(darkroomVersion)"] + versions.map { "\($0.name) \($0.version)" }).joined(separator: "\n")
    }
}
