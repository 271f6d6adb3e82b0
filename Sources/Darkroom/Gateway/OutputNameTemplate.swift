/// File names for images taken out of a response, e.g. `{created}-{index}.{ext}`.
///
/// Placeholders:
/// - `{created}`: the response's `created` (unix seconds), or the response file's stem when missing;
/// - `{index}`: position in `data[]`, from 0; `{n}`: the same from 1;
/// - `{ext}`: extension of the written format (`png`, `jpg`, `webp`, `avif`, `gif`);
/// - `{format}`: format name (`jpeg` for JPEG);
/// - `{stem}`: the response file name without extension (`stdin` for `-`).
public struct OutputNameTemplate: Sendable, Hashable {
    public var template: String
    public static let defaultTemplate = "{created}-{index}.{ext}"
    public static let placeholders = ["created", "index", "n", "ext", "format", "stem"]

    /// Checks the placeholders; throws ``DarkroomError/gateway(_:)`` (``GatewayError/invalidValue(field:value:accepted:)``) for an unknown one.
    public init(_ template: String = OutputNameTemplate.defaultTemplate) throws(DarkroomError) {
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw DarkroomError.gateway(.invalidValue(field: "name", value: template, accepted: Self.placeholders.map { "{\($0)}" }))
            }
            let key = String(rest[rest.index(after: open)..<close])
            guard Self.placeholders.contains(key) else {
                throw DarkroomError.gateway(.invalidValue(field: "name", value: template, accepted: Self.placeholders.map { "{\($0)}" }))
            }
            rest = rest[rest.index(after: close)...]
        }
        guard !template.isEmpty else {
            throw DarkroomError.gateway(.invalidValue(field: "name", value: template, accepted: Self.placeholders.map { "{\($0)}" }))
        }
        // A file name with a newline or an escape in it would break every line that prints it.
        guard ValueParser.printable(template, maxLength: nil) == template else {
            throw DarkroomError.gateway(.wrongType(field: "name", value: template,
                                                  expected: "a file name template without control characters"))
        }
        self.template = template
    }

    /// The file name for one image.
    public func render(created: Int?, index: Int, format: ImageFormat, stem: String) -> String {
        var s = template
        s = s.replacing("{created}", with: created.map(String.init) ?? stem)
        s = s.replacing("{index}", with: String(index))
        s = s.replacing("{n}", with: String(index + 1))
        s = s.replacing("{ext}", with: format.fileExtension)
        s = s.replacing("{format}", with: format.rawValue)
        s = s.replacing("{stem}", with: stem)
        // A value that renders as a path component of `.` or `..` (a response named `...json`)
        // never climbs out of the output folder: such components are written as `_` and `__`.
        return s.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0 == "." ? "_" : $0 == ".." ? "__" : String($0) }.joined(separator: "/")
    }
}
