#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File names are bytes on Linux, not text: a name may hold bytes that are not UTF-8. Swift
/// strings cannot, so each byte outside valid UTF-8 is carried as one private-use scalar
/// (U+10FD80 to U+10FDFF for bytes 0x80 to 0xFF, as Python's "surrogateescape" does with lone
/// surrogates) and turned back into the same byte whenever the name reaches the system
/// (``withCString(_:_:)``). So every name a folder holds, and every argument, round-trips
/// exactly; messages show such a byte as `\xNN` (``printableText(_:maxLength:)``).
package enum FileSystemName {
    private static let base: UInt32 = 0x10FD00

    /// The name for bytes read from the system (`readdir`, `argv`, a list file).
    package static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self), !text.unicodeScalars.contains(where: { escapedByte($0) != nil }) {
            return text
        }
        var out = String.UnicodeScalarView()
        let all = Array(bytes)
        var i = 0
        while i < all.count {
            let lead = all[i]
            let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0
            if length > 0, i + length <= all.count,
               let text = String(validating: all[i..<(i + length)], as: UTF8.self),
               let scalar = text.unicodeScalars.first, escapedByte(scalar) == nil {
                out.append(scalar)
                i += length
            } else {
                out.append(Unicode.Scalar(base + UInt32(lead))!)
                i += 1
            }
        }
        return String(out)
    }

    /// The byte an escaped scalar stands for, or nil for an ordinary scalar.
    package static func escapedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= base + 0x80 && scalar.value <= base + 0xFF ? UInt8(scalar.value - base) : nil
    }

    /// The bytes the system knows the name by.
    package static func bytes(_ name: String) -> [UInt8] {
        guard name.unicodeScalars.contains(where: { escapedByte($0) != nil }) else { return Array(name.utf8) }
        var out: [UInt8] = []
        for scalar in name.unicodeScalars {
            if let byte = escapedByte(scalar) { out.append(byte) } else { out.append(contentsOf: String(scalar).utf8) }
        }
        return out
    }

    /// Calls `body` with the name as the system's NUL-terminated bytes (for `open`, `stat`, …).
    package static func withCString<R>(_ name: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        guard name.unicodeScalars.contains(where: { escapedByte($0) != nil }) else { return try name.withCString(body) }
        let raw = bytes(name).map { CChar(bitPattern: $0) } + [0]
        return try raw.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}

// The system calls that take a path, with the path turned back into its bytes
// (``FileSystemName/withCString(_:_:)``): every file Darkroom opens goes through these.
package func fsOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    FileSystemName.withCString(path) { open($0, flags, mode) }
}
package func fsStat(_ path: String, _ st: inout stat) -> Int32 {
    FileSystemName.withCString(path) { stat($0, &st) }
}
package func fsLstat(_ path: String, _ st: inout stat) -> Int32 {
    FileSystemName.withCString(path) { lstat($0, &st) }
}
package func fsUnlink(_ path: String) -> Int32 { FileSystemName.withCString(path) { unlink($0) } }
package func fsRename(_ from: String, _ to: String) -> Int32 {
    FileSystemName.withCString(from) { a in FileSystemName.withCString(to) { b in rename(a, b) } }
}
package func fsLink(_ from: String, _ to: String) -> Int32 {
    FileSystemName.withCString(from) { a in FileSystemName.withCString(to) { b in link(a, b) } }
}
package func fsLinkat(_ from: String, _ to: String) -> Int32 {
    FileSystemName.withCString(from) { a in FileSystemName.withCString(to) { b in linkat(AT_FDCWD, a, AT_FDCWD, b, AT_SYMLINK_FOLLOW) } }
}
package func fsMkdir(_ path: String, _ mode: mode_t) -> Int32 { FileSystemName.withCString(path) { mkdir($0, mode) } }
package func fsAccess(_ path: String, _ mode: Int32) -> Int32 { FileSystemName.withCString(path) { access($0, mode) } }

/// The entries of a folder (not `.` and `..`), as ``FileSystemName`` strings, with the type
/// `readdir` reports (`DT_UNKNOWN` on some file systems); nil when it cannot be opened
/// (`errno` tells why).
package func fsListFolder(_ path: String) -> [(name: String, type: UInt8)]? {
    guard let dir = FileSystemName.withCString(path, { opendir($0) }) else { return nil }
    defer { closedir(dir) }
    var entries: [(name: String, type: UInt8)] = []
    while let entry = readdir(dir) {
        let name: String = withUnsafePointer(to: &entry.pointee.d_name) { p in
            p.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                FileSystemName.string(UnsafeBufferPointer(start: bytes, count: strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))))
            }
        }
        if name == "." || name == ".." { continue }
        entries.append((name, entry.pointee.d_type))
    }
    return entries
}

/// Whether something (a file, folder, link — dangling or not) is at `path`.
package func fsExists(_ path: String) -> Bool {
    var st = stat()
    return fsLstat(path, &st) == 0
}
