/// Coding-independent code points (ITU-T H.273), as a PNG `cICP` chunk or an AVIF `colr` box of
/// type `nclx` (or, without one, the AV1 bitstream's colour description) declares them: the
/// colour primaries, the transfer characteristics, the matrix coefficients and the range.
///
/// A word of the error family (``ImageDecodingError/unsupportedColour(_:cicp:reason:)`` carries
/// it), so it lives beside ``ImageFormat``; ``ImageMetadata/cicp`` and ``ImageInspection/cicp``
/// report it.
public struct CICP: Sendable, Hashable, CustomStringConvertible {
    /// Colour primaries: 1 BT.709/sRGB, 9 BT.2020, 12 Display P3 (SMPTE EG 432-1), …
    public var primaries: Int
    /// Transfer characteristics: 13 sRGB, 16 PQ (SMPTE ST 2084), 18 HLG, 8 linear, …
    public var transfer: Int
    /// Matrix coefficients: 0 identity (RGB), 1 BT.709, 6 BT.601, 9 BT.2020 NCL, …
    public var matrix: Int
    /// The video full range flag as stored: 1 full range, 0 narrow (video) range; any other value
    /// (a PNG `cICP` stores it in a byte) is invalid, and refused where the colour is converted.
    public var videoFullRangeFlag: Int

    /// Full-range (not video-range) values: ``videoFullRangeFlag`` is 1.
    public var fullRange: Bool {
        get { videoFullRangeFlag == 1 }
        set { videoFullRangeFlag = newValue ? 1 : 0 }
    }

    /// The four code points, the range as a flag that is valid.
    public init(primaries: Int, transfer: Int, matrix: Int, fullRange: Bool) {
        self.init(primaries: primaries, transfer: transfer, matrix: matrix, videoFullRangeFlag: fullRange ? 1 : 0)
    }

    /// The four code points as a file stores them (`videoFullRangeFlag` may be out of range).
    public init(primaries: Int, transfer: Int, matrix: Int, videoFullRangeFlag: Int) {
        self.primaries = primaries
        self.transfer = transfer
        self.matrix = matrix
        self.videoFullRangeFlag = videoFullRangeFlag
    }

    /// `9/16/9 full (BT.2020, PQ, BT.2020 NCL)`: the numbers, the range, the names known.
    public var description: String {
        let names = [Self.primariesNames[primaries], Self.transferNames[transfer], Self.matrixNames[matrix]].compactMap { $0 }
        let range = videoFullRangeFlag == 1 ? "full" : videoFullRangeFlag == 0 ? "limited" : "range flag \(videoFullRangeFlag)"
        return "\(primaries)/\(transfer)/\(matrix) \(range)" + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))")
    }

    static let primariesNames = [1: "BT.709", 2: "unspecified primaries", 5: "BT.601 PAL", 6: "BT.601 NTSC",
                                 7: "SMPTE 240M", 9: "BT.2020", 10: "XYZ", 11: "DCI-P3", 12: "Display P3"]
    static let transferNames = [1: "BT.709 transfer", 2: "unspecified transfer", 4: "gamma 2.2", 5: "gamma 2.8",
                                6: "BT.601 transfer", 7: "SMPTE 240M transfer", 8: "linear", 13: "sRGB",
                                14: "BT.2020 10-bit transfer", 15: "BT.2020 12-bit transfer", 16: "PQ", 18: "HLG"]
    static let matrixNames = [0: "RGB", 1: "BT.709 matrix", 2: "unspecified matrix", 5: "BT.601 matrix",
                              6: "BT.601 matrix", 7: "SMPTE 240M matrix", 8: "YCgCo", 9: "BT.2020 NCL", 10: "BT.2020 CL",
                              11: "SMPTE ST 2085", 12: "chromaticity-derived NCL", 13: "chromaticity-derived CL", 14: "ICtCp"]
}
