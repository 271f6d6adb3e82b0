import Darkroom

/// `--name TEMPLATE`: the output's path under `--out-dir` (or under the input's folder without
/// it), e.g. `{dir}/{stem}-{w}x{h}.{ext}`.
///
/// Placeholders: `{stem}` the input's name without its extension; `{ext}` the output format's
/// extension; `{dir}` the input's folder under its root (empty for a file named on its own);
/// `{w}` and `{h}` the output's size in pixels; `{q}` the quality used (0–100; `lossless` or
/// `none` for formats without one); `{index}` the input's position in the run, from 0 (the same
/// in every shard). `{w}`, `{h}` and `{q}` are known only after the conversion: names that use
/// them are checked for collisions as each file finishes, the others before any work.
struct NameTemplate: Equatable {
    static let placeholders = ["stem", "ext", "dir", "w", "h", "q", "index"]
    let text: String

    /// Throws ``DarkroomError/option(_:)`` naming the template and what is accepted.
    init(parsing text: String) throws(DarkroomError) {
        func refuse(_ why: String) -> DarkroomError {
            .option(OptionError(name: "name", value: text, expected: why))
        }
        let accepted = "a file name template with " + Self.placeholders.map { "{\($0)}" }.joined(separator: ", ")
        guard !text.isEmpty else { throw refuse(accepted) }
        guard printableText(text, maxLength: nil) == text else { throw refuse("\(accepted), without control characters") }
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { throw refuse("\(accepted) (a '{' is not closed)") }
            let key = String(rest[rest.index(after: open)..<close])
            guard Self.placeholders.contains(key) else { throw refuse("\(accepted) ('{\(key)}' is not one of them)") }
            rest = rest[rest.index(after: close)...]
        }
        if text.hasPrefix("/") { throw refuse("\(accepted), relative (it is placed under --out-dir or the input's folder)") }
        if text.split(separator: "/").contains("..") { throw refuse("\(accepted), without '..' (outputs stay under --out-dir)") }
        if text.hasSuffix("/") { throw refuse("\(accepted), ending in a file name, not '/'") }
        self.text = text
    }

    /// Whether the name needs the conversion's result (`{w}`, `{h}`, `{q}`).
    var needsResult: Bool { text.contains("{w}") || text.contains("{h}") || text.contains("{q}") }

    /// The rendered relative path; empty components (an empty `{dir}`) are dropped.
    func render(stem: String, ext: String, dir: String, index: Int, width: Int? = nil, height: Int? = nil,
                quality: String? = nil) -> String {
        var s = text
        s = s.replacing("{stem}", with: stem)
        s = s.replacing("{ext}", with: ext)
        s = s.replacing("{dir}", with: dir)
        s = s.replacing("{index}", with: String(index))
        s = s.replacing("{w}", with: width.map(String.init) ?? "{w}")
        s = s.replacing("{h}", with: height.map(String.init) ?? "{h}")
        s = s.replacing("{q}", with: quality ?? "{q}")
        // A value may render as a component of its own: a stem of `..` (from `...jpg`) must not
        // climb out of --out-dir, so `.` and `..` components are written as `_` and `__`.
        return s.split(separator: "/", omittingEmptySubsequences: true)
            .map { $0 == "." ? "_" : $0 == ".." ? "__" : String($0) }.joined(separator: "/")
    }
}
