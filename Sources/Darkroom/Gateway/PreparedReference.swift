/// One reference image after ``ReferencePrep/prepare(bytes:name:options:)``.
public struct PreparedReference: Sendable, Equatable {
    /// The name the input was given (usually its path).
    public var source: String
    /// Suggested output file name: `<stem>.ref.<ext>`.
    public var fileName: String
    /// The output bytes (the input's own bytes when ``passedThrough``).
    public var bytes: [UInt8]
    public var format: ImageFormat
    public var sourceFormat: ImageFormat
    /// Upright input size.
    public var inputWidth: Int
    public var inputHeight: Int
    /// Output size.
    public var width: Int
    public var height: Int
    /// True when the image was over the pixel cap and resized.
    public var resized: Bool
    /// True when the output is the input, byte for byte (nothing had to change).
    public var passedThrough: Bool
    /// `max(1, ceil(w·h / 1 MP))` of the output.
    public var billedMegapixels: Int
    /// What the decoder warned about and ``ReferencePrepOptions/failOn`` allowed (empty for a clean file).
    public var warnings: [DecodeWarning] = []
    /// Metadata stripped that is reported all the same: a C2PA manifest (the reference rule strips
    /// every other block by design). Empty for most inputs.
    public var metadataWarnings: [MetadataWarning] = []

    public init(source: String, fileName: String, bytes: [UInt8], format: ImageFormat, sourceFormat: ImageFormat,
                inputWidth: Int, inputHeight: Int, width: Int, height: Int, resized: Bool, passedThrough: Bool,
                billedMegapixels: Int) {
        self.source = source
        self.fileName = fileName
        self.bytes = bytes
        self.format = format
        self.sourceFormat = sourceFormat
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.width = width
        self.height = height
        self.resized = resized
        self.passedThrough = passedThrough
        self.billedMegapixels = billedMegapixels
    }

    /// The report object: source, format, input/output size, resized, passed_through, billed_mp,
    /// bytes, and `warnings` (`kind`, `message`, `count`) when the decoder warned or a C2PA
    /// manifest was dropped (kind `metadata`).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "source": .string(source), "format": .string(format.rawValue), "source_format": .string(sourceFormat.rawValue),
            "input_width": .int(inputWidth), "input_height": .int(inputHeight),
            "width": .int(width), "height": .int(height), "resized": .bool(resized),
            "passed_through": .bool(passedThrough), "billed_mp": .int(billedMegapixels), "bytes": .int(bytes.count),
        ]
        if !warnings.isEmpty || !metadataWarnings.isEmpty {
            object["warnings"] = .array(warnings.map(\.json) + metadataWarnings.map(\.json))
        }
        return .object(object)
    }
}
