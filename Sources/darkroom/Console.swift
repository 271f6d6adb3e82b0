import Darkroom
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Printing helpers: human lines go to stderr, machine output (`--json`) to stdout. Every write
/// is checked (``StandardStreams``): a failing stdout ends the run with status 1, a failing
/// stderr is ignored.
enum Console {
    static func error(_ file: String?, _ error: Error) {
        var reason = (error as? DarkroomError)?.message(for: .commandLine) ?? "\(error)"
        // An error about the input itself: the file is already named at the start of the line.
        if case let .file(.io(path, message))? = error as? DarkroomError, path == file { reason = message }
        if let file {
            for name in [file, InputFile.displayName(file)] where reason.hasPrefix(name + ": ") {
                reason = String(reason.dropFirst(name.count + 2))
                break
            }
        }
        info(file.map { "darkroom: \(InputFile.displayName($0)): \(reason)" } ?? "darkroom: \(reason)")
    }

    /// `text` with control and format characters escaped (``ValueParser/printable(_:maxLength:)``,
    /// no length limit), so a file name cannot break a line or send terminal escapes.
    static func printable(_ text: String) -> String {
        ValueParser.printable(text, maxLength: nil)
    }

    /// True when `text` holds a control or format character (what ``printable(_:)`` escapes).
    static func hasControlCharacters(_ text: String) -> Bool {
        printable(text) != text
    }

    /// A human line for standard error (progress reports, warnings, usage errors). File names in
    /// it come from outside: control characters are escaped (``printable(_:)``).
    static func info(_ line: String) {
        stderrLine.lock()
        defer { stderrLine.unlock() }
        // A progress bar on the line (no newline yet): clear it first; the next advance redraws it.
        if barShown { StandardStreams.err("\r\u{1B}[K") }
        barShown = false
        StandardStreams.err(printable(line) + "\n")
    }

    /// Several lines of Darkroom's own text (split at its newlines; each line escaped as in
    /// ``info(_:)``, so a file name inside still cannot start a line of its own).
    static func infoLines(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { info(String(line)) }
    }

    /// Draws the progress bar on the current standard error line (a terminal only); `last`
    /// ends the line. Other lines clear it first (``info(_:)``), so they never mix.
    static func bar(_ text: String, last: Bool) {
        stderrLine.lock()
        defer { stderrLine.unlock() }
        StandardStreams.err("\r\u{1B}[K" + text + (last ? "\n" : ""))
        barShown = !last
    }

    /// Serialises the lines written to standard error with the progress bar's redraws.
    static let stderrLine = Lock()
    /// The progress bar is drawn on the current stderr line (under ``stderrLine``).
    nonisolated(unsafe) static var barShown = false

    /// A human line for standard output (the reports of `decode`, `prep-refs`, `size`, `cost`),
    /// control characters escaped as in ``info(_:)``.
    static func line(_ text: String) {
        StandardStreams.outLine(printable(text))
    }

    /// Prints a JSON value (dictionary/array of plain values) on stdout, keys sorted, slashes
    /// not escaped (through ``JSONValue``: no `JSONSerialization`, so no full Foundation).
    static func json(_ value: JSONValue) {
        StandardStreams.out([UInt8](value.jsonData()) + [0x0A])
    }

    /// `value` with `digits` decimals, as `String(format: "%.Nf", value)`.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.\(digits)f", $0) }
        guard n > 0 && n < buffer.count else { return "\(value)" }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Exit codes shared by every command.
enum ExitStatus {
    /// Some input failed (the others were processed), an output folder could not be created,
    /// or standard output could not be written.
    static let someFailed: Int32 = 1
    /// Usage error: bad flag value, conflicting outputs; nothing was processed.
    static let usage: Int32 = 2
    /// Interrupted by SIGINT (130) or SIGTERM (143); finished outputs are complete, no
    /// temporary file is left.
    /// Every input was written, but some are larger than `--max-bytes` even at `--min-quality`.
    static let targetUnmet: Int32 = 3
    static let interrupted: Int32 = 130
    static let terminated: Int32 = 143

    /// The text for `darkroom --help` and docs/cli/darkroom.md.
    static let summary = """
        Exit status: 0 every input succeeded (skipped ones included); 1 some input failed (the \
        others were still processed), an output folder could not be created, or standard output \
        could not be written; 2 usage error (bad flag value, unknown option, conflicting or unsafe \
        output paths), nothing processed; 3 every input written but some over --max-bytes; 130 \
        SIGINT, 143 SIGTERM (temporary files removed, finished outputs complete, summary printed).
        """
}
