import Foundation
import Testing
@testable import Darkroom

/// Replays every file under `testimages/fuzz-regressions/<target>/` through the fuzz target's
/// own entry point (`FuzzHarness.swift` here is a symlink to `Fuzz/Sources/FuzzHarness/`): it
/// must return or throw a typed error (``DarkroomError``), never trap.
@Suite struct FuzzRegressionTests {
    static let root = TestImages.root.appendingPathComponent("fuzz-regressions")

    /// `(target, file name)` for every regression file, so each is its own test case.
    static let cases: [(String, String)] = {
        let fm = FileManager.default
        return FuzzHarness.targets.flatMap { target -> [(String, String)] in
            let dir = root.appendingPathComponent(target)
            let names = (try? fm.contentsOfDirectory(atPath: dir.path)) ?? []
            return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { (target, $0) }
        }
    }()

    @Test func everyFolderIsATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.root.path).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
        #expect(Set(folders).isSubset(of: Set(FuzzHarness.targets)), "unknown folders: \(folders)")
        #expect(!Self.cases.isEmpty)
    }

    @Test(arguments: cases)
    func replays(target: String, file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Self.root.appendingPathComponent(target).appendingPathComponent(file)))
        do {
            try FuzzHarness.run(target, bytes)
        } catch is DarkroomError {
        } catch {
            Issue.record("\(target)/\(file): untyped error \(type(of: error)): \(error)")
        }
    }
}
