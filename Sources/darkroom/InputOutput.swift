import Darkroom
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading inputs and naming outputs for the file-processing commands.
enum InputOutput {
    /// Reads an image file, or standard input for `-`, under a byte limit (``InputFile``).
    static func read(_ path: String, limit: Int = InputFile.defaultMaxBytes) throws -> [UInt8] {
        try InputFile.read(path, limit: limit)
    }

    /// Writes atomically to a path (``OutputFile``), or to standard output for `-` (checked:
    /// a failing standard output ends the run with status 1).
    static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        if path == "-" {
            StandardStreams.out(bytes)
            return
        }
        try OutputFile.write(bytes, to: path, overwrite: overwrite)
    }

    /// `photo.png` → `DIR/photo.webp` (DIR defaults to the input's folder).
    /// Relative inputs give relative outputs (`shots/a.png` → `shots/a.webp`, `a.png` → `a.webp`).
    static func outputPath(for input: String, format: ImageFormat, outDir: String?, suffix: String = "") -> String {
        let name = input == "-" ? "stdin" : input
        let file = PathText.stem(name) + suffix + "." + format.fileExtension
        let dir = outDir ?? OutputFile.folder(of: name)
        if outDir == nil && dir == "." { return file }
        return dir.hasSuffix("/") ? dir + file : dir + "/" + file
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
