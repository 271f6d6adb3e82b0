import Darkroom
import Foundation

/// Printing helpers: human lines go to stderr, machine output (`--json`) to stdout.
enum Console {
    static func error(_ file: String?, _ error: Error) {
        var reason = (error as? DarkroomError)?.description ?? "\(error)"
        // An I/O error about the input itself: the file is already named at the start of the line.
        if case let .io(path, message)? = error as? DarkroomError, path == file { reason = message }
        let line = file.map { "darkroom: \($0): \(reason)" } ?? "darkroom: \(reason)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func info(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints a JSON value (dictionary/array of plain values) on stdout, keys sorted.
    static func json(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// Exit codes shared by every command: 0 all ok, 1 some input failed, 2 usage error.
enum ExitStatus {
    static let someFailed: Int32 = 1
    static let usage: Int32 = 2
}
