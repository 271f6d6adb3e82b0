/// The `background` request field.
public enum BackgroundMode: String, Sendable, Hashable, CaseIterable {
    /// Keep transparency; needs a format with alpha (png, webp, avif, gif).
    case transparent
    /// Flatten any alpha onto white, whatever the output format.
    case opaque
    /// Leave the image as it is (JPEG output is flattened because it has no alpha).
    case auto
}
