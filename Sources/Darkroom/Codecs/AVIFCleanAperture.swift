/// An AVIF item's clean aperture (`clap`, ISO/IEC 14496-12 §12.1.4): the part of the coded image
/// that is the picture, applied before `irot` and `imir` (MIAF §7.3.6.7: crop, then rotate, then
/// mirror).
///
/// The box holds four fractions: the aperture's width and height, and the offset of its centre
/// from the coded image's centre. Its left edge is `(W − width) / 2 + horizOff` and its top edge
/// `(H − height) / 2 + vertOff`; every one of these must come out a whole number of pixels, and
/// the aperture must lie inside the `W × H` coded image (libavif ≥ 1.2's
/// `avifCropRectFromCleanApertureBox`). Numerators of the offsets are signed; every denominator
/// must be positive and the width and height positive.
///
/// libavif 0.11.1's `avifCropRectConvertCleanApertureBox` also refuses odd edges and sides of a
/// 4:2:0 or 4:2:2 image (MIAF's old rule, dropped in libavif 1.2 and av1-avif since 2024); Darkroom
/// crops the RGB pixels after the YUV conversion, so an odd aperture is applied as libavif ≥ 1.2
/// and avifdec apply it.
///
/// Every value is one of the box's 32-bit fields; the arithmetic is on 64-bit integers with
/// overflow reported (an overflow makes the aperture invalid), so no box traps.
struct AVIFCleanAperture: Equatable, CustomStringConvertible {
    var widthN: UInt32, widthD: UInt32
    var heightN: UInt32, heightD: UInt32
    var horizOffN: UInt32, horizOffD: UInt32
    var vertOffN: UInt32, vertOffD: UInt32

    /// A crop rectangle in the coded image, in pixels.
    struct Rect: Equatable, CustomStringConvertible {
        var x: Int, y: Int, width: Int, height: Int

        /// `32x24 at (20, 14)`.
        var description: String { "\(width)x\(height) at (\(x), \(y))" }
    }

    /// `width 32/1, height 24/1, horizontal offset 4/1, vertical offset 2/1` (offsets signed).
    var description: String {
        "width \(widthN)/\(widthD), height \(heightN)/\(heightD), horizontal offset \(Int32(bitPattern: horizOffN))/\(horizOffD), "
            + "vertical offset \(Int32(bitPattern: vertOffN))/\(vertOffD)"
    }

    /// The crop rectangle of a `width × height` coded image, or why the box describes none (the
    /// reason names the value and what is accepted).
    func rect(width: Int, height: Int) -> Result<Rect, Invalid> {
        do throws(Invalid) {
            let w = try Self.side(widthN, widthD, name: "width", coded: width)
            let h = try Self.side(heightN, heightD, name: "height", coded: height)
            let x = try Self.edge(coded: width, side: w, offN: horizOffN, offD: horizOffD, name: "left edge", axis: "horizontal")
            let y = try Self.edge(coded: height, side: h, offN: vertOffN, offD: vertOffD, name: "top edge", axis: "vertical")
            return .success(Rect(x: x, y: y, width: w, height: h))
        } catch {
            return .failure(error)
        }
    }

    /// Why a clean aperture describes no crop rectangle.
    struct Invalid: Error, Equatable {
        var reason: String
    }

    /// An aperture side, `n / d` pixels: a whole number from 1 to the coded side.
    private static func side(_ n: UInt32, _ d: UInt32, name: String, coded: Int) throws(Invalid) -> Int {
        let n = Int64(Int32(bitPattern: n)), d = Int64(Int32(bitPattern: d))
        guard d > 0 else { throw Invalid(reason: "the \(name)'s denominator is \(d) (it must be from 1 to 2^31-1)") }
        guard n > 0 else { throw Invalid(reason: "the \(name) is \(n)/\(d) (it must be positive)") }
        guard n % d == 0 else { throw Invalid(reason: "the \(name) \(n)/\(d) is not a whole number of pixels") }
        let side = n / d
        guard side <= Int64(coded) else {
            throw Invalid(reason: "the \(name) \(side) is larger than the coded image's \(coded)")
        }
        return Int(side)
    }

    /// The aperture's left (top) edge, `(coded − side) / 2 + offN / offD`: a whole number of
    /// pixels with the aperture inside the coded side.
    private static func edge(coded: Int, side: Int, offN: UInt32, offD: UInt32, name: String, axis: String) throws(Invalid) -> Int {
        let n = Int64(Int32(bitPattern: offN)), d = Int64(Int32(bitPattern: offD))
        guard d > 0 else { throw Invalid(reason: "the \(axis) offset's denominator is \(d) (it must be from 1 to 2^31-1)") }
        // edge · 2d = (coded − side) · d + 2n; every factor fits in 33 bits, the products are checked.
        let (margin, o1) = Int64(coded - side).multipliedReportingOverflow(by: d)
        let (twice, o2) = n.multipliedReportingOverflow(by: 2)
        let (numerator, o3) = margin.addingReportingOverflow(twice)
        let (denominator, o4) = d.multipliedReportingOverflow(by: 2)
        guard !(o1 || o2 || o3 || o4) else { throw Invalid(reason: "the \(axis) offset \(n)/\(d) is out of range") }
        guard numerator % denominator == 0 else {
            throw Invalid(reason: "its \(name) (\(coded) - \(side))/2 + \(n)/\(d) is not a whole pixel")
        }
        let edge = numerator / denominator
        guard edge >= 0, edge <= Int64(coded - side) else {
            throw Invalid(reason: "its \(name) \(edge) puts the \(side)-pixel aperture outside the coded image's 0...\(coded)")
        }
        return Int(edge)
    }
}
