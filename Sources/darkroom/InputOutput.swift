import Darkroom
import Foundation

/// Reading inputs and naming outputs for the file-processing commands.
enum InputOutput {
    /// Reads a file, or standard input for `-`.
    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DarkroomError.io(path: path, message: "no such file")
        }
        if isDirectory.boolValue { throw DarkroomError.io(path: path, message: "is a directory, not an image file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DarkroomError.io(path: path, message: "cannot read (permission denied?)")
        }
        return [UInt8](data)
    }

    /// Writes atomically to a path, or to standard output for `-`.
    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        try OutputFile.write(bytes, to: path, overwrite: overwrite)
    }

    /// `photo.png` → `DIR/photo.webp` (DIR defaults to the input's folder).
    static func outputPath(for input: String, format: ImageFormat, outDir: String?, suffix: String = "") -> String {
        let url = URL(fileURLWithPath: input == "-" ? "stdin" : input)
        let stem = url.deletingPathExtension().lastPathComponent + suffix
        let dir = outDir ?? url.deletingLastPathComponent().path
        return (dir as NSString).appendingPathComponent(stem + "." + format.fileExtension)
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}

/// A one-line progress bar on stderr for batches (only on a terminal).
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private var done = 0
    private let lock = NSLock()
    private let enabled: Bool

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && total > 1 && InputOutput.stderrIsTerminal
    }

    func advance(_ label: String) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        done += 1
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let name = label.count > 40 ? "…" + label.suffix(39) : label
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(done)/\(total) \(name)".utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
