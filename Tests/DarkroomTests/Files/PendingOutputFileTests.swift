import Foundation
import Testing
@testable import Darkroom

/// ``OutputFile/Pending``: written in pieces, read back, published as ``OutputFile/write(_:to:overwrite:)``
/// publishes, and never left behind. Serialized: each test switches ``OutputFile/prefersUnnamed``.
@Suite(.serialized) struct PendingOutputFileTests {
    static func contents(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func write(_ pending: OutputFile.Pending, _ bytes: [UInt8]) throws {
        // (A typed-throws closure given to withUnsafeBytes crashes Swift 6.3.1's IRGen: a copy.)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { raw.deallocate() }
        raw.copyBytes(from: bytes)
        try pending.write(UnsafeRawBufferPointer(raw))
    }

    /// Both kinds of temporary: unnamed (O_TMPFILE) and the named fallback.
    static func bothKinds(_ body: (Bool) throws -> Void) throws {
        for unnamed in [true, false] {
            OutputFile.prefersUnnamed = unnamed
            defer { OutputFile.prefersUnnamed = true }
            try body(unnamed)
        }
    }

    @Test func piecesArePublishedWhole() throws {
        try Self.bothKinds { _ in
            let dir = try CLI.tempDir()
            let pending = try OutputFile.Pending(folder: dir)
            let pieces: [[UInt8]] = [[1, 2, 3], Array(repeating: 7, count: 100_000), [9]]
            for piece in pieces { try Self.write(pending, piece) }
            #expect(pending.byteCount == 100_004)
            // Readable before it is published.
            var head = [UInt8](repeating: 0, count: 4)
            #expect(pread(pending.fileDescriptor, &head, 4, 0) == 4)
            #expect(head == [1, 2, 3, 7])
            // (Which kind it is is asked of the file: another suite may switch prefersUnnamed meanwhile.)
            let hidden = try FileManager.default.contentsOfDirectory(atPath: dir)
            #expect(hidden == (pending.temp.map { [($0 as NSString).lastPathComponent] } ?? []))
            #expect(pending.temp == nil || pending.temp!.hasPrefix(dir + "/.dr-\(getpid())-"))
            try pending.publish(to: dir + "/a.png", overwrite: false)
            #expect(try Self.contents(dir + "/a.png") == pieces.flatMap { $0 })
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.png"])
            #expect(pending.fileDescriptor == -1)
        }
    }

    @Test func publishingFailsAsWriteFailsAndLeavesNothing() throws {
        try Self.bothKinds { _ in
            let dir = try CLI.tempDir()
            try OutputFile.write([0], to: dir + "/taken.png", overwrite: false)
            chmod(dir + "/taken.png", 0o600)
            var pending = try OutputFile.Pending(folder: dir)
            try Self.write(pending, [5, 6])
            #expect(throws: DarkroomError.file(.outputExists(path: dir + "/taken.png"))) {
                try pending.publish(to: dir + "/taken.png", overwrite: false)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken.png"])
            // With overwrite: replaced, its permission bits kept.
            pending = try OutputFile.Pending(folder: dir)
            try Self.write(pending, [5, 6])
            try pending.publish(to: dir + "/taken.png", overwrite: true)
            #expect(try Self.contents(dir + "/taken.png") == [5, 6])
            #expect(try FileManager.default.attributesOfItem(atPath: dir + "/taken.png")[.posixPermissions] as? Int == 0o600)
            // A folder that does not exist, a FIFO: the errors of write.
            pending = try OutputFile.Pending(folder: dir)
            try Self.write(pending, [1])
            #expect(throws: DarkroomError.file(.io(path: dir + "/no/x.png", message: "cannot write: the folder \(dir)/no does not exist"))) {
                try pending.publish(to: dir + "/no/x.png", overwrite: false)
            }
            let fifo = dir + "/f.png"
            #expect(mkfifo(fifo, 0o600) == 0)
            pending = try OutputFile.Pending(folder: dir)
            #expect(throws: DarkroomError.file(.outputNotRegularFile(path: fifo, kind: "a FIFO"))) {
                try pending.publish(to: fifo, overwrite: true)
            }
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == ["taken.png", "f.png"])
        }
    }

    @Test func publishedIntoAnotherFolder() throws {
        try Self.bothKinds { _ in
            let dir = try CLI.tempDir()
            try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
            let pending = try OutputFile.Pending(folder: dir)
            try Self.write(pending, [1, 2, 3])
            try pending.publish(to: dir + "/sub/x.webp", overwrite: false)
            #expect(try Self.contents(dir + "/sub/x.webp") == [1, 2, 3])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["sub"])
        }
    }

    @Test func discardedOrDroppedLeavesNothing() throws {
        try Self.bothKinds { _ in
            let dir = try CLI.tempDir()
            let pending = try OutputFile.Pending(folder: dir)
            try Self.write(pending, [1, 2, 3])
            pending.discard()
            pending.discard()
            do {
                let dropped = try OutputFile.Pending(folder: dir)
                try Self.write(dropped, [4])
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
        #expect(throws: DarkroomError.self) { try OutputFile.Pending(folder: "/nonexistent-\(getpid())") }
    }
}
