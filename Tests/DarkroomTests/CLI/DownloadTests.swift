import Foundation
import Testing
@testable import Darkroom
#if canImport(Glibc)
import Glibc
#endif

/// `decode --download`'s local side: file:// items (read only with --allow-file-urls) must be
/// regular files, and a URL with a control character is refused before anything is fetched.
/// The http(s) side (DarkroomFetch: addresses, redirects, caps, timeouts) is in `Fetch/`.
@Suite struct DownloadTests {
    /// A file:// item must be a regular file (a FIFO would block the run forever), and a URL
    /// with a control character (a NUL would cut it where libcurl reads it) is refused before
    /// anything is fetched.
    @Test func fifosAndControlCharactersAreRefused() throws {
        let dir = try TestSupport.tempDir()
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let response = dir.appendingPathComponent("r.json")
        let body = #"{"created":9,"data":[{"url":"file://\#(fifo)"},"#
            + #"{"url":"http://93.184.216.34/small.png\u0000/../x"}]}"#
        try Data(body.utf8).write(to: response)
        let r = try GatewayCLI.run(["decode", response.path, "--out-dir", dir.appendingPathComponent("out").path, "--download", "--allow-file-urls"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("item 0: \(fifo) is not a regular file"), "\(r.stderr)")
        #expect(r.stderr.contains("item 1: the URL holds control characters"), "\(r.stderr)")
    }

    /// A file:// item that is an endless stream and no image (file:///dev/zero) is refused after
    /// its first 32 bytes, not after reading up to the input limit (a new-user report: 256 MiB).
    @Test func aFileItemThatIsNoImageIsRefusedAtOnce() throws {
        let dir = try TestSupport.tempDir()
        let response = dir.appendingPathComponent("r.json")
        let text = dir.appendingPathComponent("notes.txt")
        try Data(String(repeating: "not an image ", count: 100).utf8).write(to: text)
        try Data(#"{"created":8,"data":[{"url":"file:///dev/zero"},{"url":"file://\#(text.path)"}]}"#.utf8).write(to: response)
        let r = try GatewayCLI.run(["decode", response.path, "--out-dir", dir.appendingPathComponent("out").path, "--download", "--allow-file-urls"])
        #expect(r.status == 1)
        // (Before: "more than 268435456 bytes, over the input limit", after reading all of them.)
        // A device is no regular file; a regular file that is no image is sniffed (next test: over http).
        #expect(r.stderr.contains("item 0: /dev/zero is not a regular file"), "\(r.stderr)")
        #expect(r.stderr.contains("item 1: not a PNG, JPEG, WebP, AVIF or GIF file"), "\(r.stderr)")
    }
}
