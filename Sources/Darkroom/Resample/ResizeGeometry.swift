// STUB: the resampling core (issue 3) completes this file; the API below is the contract.

/// An ImageMagick/vips-style resize request, e.g. `800x600`, `800x600^`, `50%`, `4194304@`, `4mp`.
public struct ResizeGeometry: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    /// Parses a geometry string; throws ``DarkroomError/invalidOption(name:value:expected:)``.
    public init(parsing text: String) throws {
        self.text = text
    }

    public var description: String { text }

    /// The output size for a `width`×`height` input (never 0 on either side).
    public func targetSize(width: Int, height: Int) -> (width: Int, height: Int) {
        (width, height)
    }
}

/// The largest size with the same aspect that holds at most `maxPixels` pixels:
/// s = sqrt(maxPixels / (w·h)), both sides floored, never 0; unchanged when already within.
public func fitWithin(width: Int, height: Int, maxPixels: Int) -> (width: Int, height: Int) {
    (width, height)
}
