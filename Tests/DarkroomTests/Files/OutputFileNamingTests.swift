import Foundation
import Testing
@testable import Darkroom

/// The pieces of ``OutputFile`` the fault tests rely on, checked in process.
struct OutputFileNamingTests {
    @Test(arguments: [
        (".dr-4242-0badf00d.tmp", pid_t(4242)),
        (".photo.png.darkroom-77-123456.tmp", pid_t(77)),
    ])
    func temporaryNamesCarryTheirOwner(_ name: String, _ pid: pid_t) {
        #expect(OutputFile.temporaryOwner(name) == pid)
    }

    @Test(arguments: [".dr-4242-0badf00.tmp", ".dr-4242-0badf00d.txt", "dr-4242-0badf00d.tmp", "photo.png", ".dr-x-0badf00d.tmp"])
    func otherNamesAreNotTemporaries(_ name: String) {
        #expect(OutputFile.temporaryOwner(name) == nil)
    }

    @Test(arguments: [("a", "."), ("/a", "/"), ("a/b/", "a"), ("./x.png", "."), ("/t/u/v.webp", "/t/u")])
    func folderOfAPath(_ path: String, _ folder: String) {
        #expect(OutputFile.folder(of: path) == folder)
    }

    @Test func writesA250ByteName() throws {
        let dir = try CLI.tempDir()
        let path = dir + "/" + String(repeating: "w", count: 246) + ".png"
        try OutputFile.write([1, 2, 3], to: path, overwrite: false)
        try OutputFile.write([4, 5], to: path, overwrite: true)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 1)
    }

    /// The fallback for file systems without O_TMPFILE: a short named temporary.
    @Test func namedTemporaryPathBehavesTheSame() throws {
        OutputFile.prefersUnnamed = false
        defer { OutputFile.prefersUnnamed = true }
        let dir = try CLI.tempDir()
        let path = dir + "/" + String(repeating: "v", count: 250) + ".gif"
        try OutputFile.write([1], to: path, overwrite: false)
        #expect(throws: DarkroomError.file(.outputExists(path: path))) { try OutputFile.write([2], to: path, overwrite: false) }
        chmod(path, 0o600)
        try OutputFile.write([3], to: path, overwrite: true)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == [3])
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        let fifo = dir + "/f.png"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: DarkroomError.file(.outputNotRegularFile(path: fifo, kind: "a FIFO"))) {
            try OutputFile.write([4], to: fifo, overwrite: true)
        }
        #expect(throws: DarkroomError.file(.io(path: dir + "/no/x.png", message: "cannot write: the folder \(dir)/no does not exist"))) {
            try OutputFile.write([5], to: dir + "/no/x.png", overwrite: false)
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == [String(repeating: "v", count: 250) + ".gif", "f.png"])
    }
}
