import Foundation
import Testing
@testable import Darkroom

/// Replays every file under `testimages/fuzz-regressions/<target>/` (past findings) and
/// `Fuzz/seeds/<target>/` (the hand-made seeds) through the fuzz target's own entry point
/// (`FuzzHarness.swift` here is a symlink to `Fuzz/Sources/FuzzHarness/`): it must return or throw
/// a typed error (``DarkroomError``), never trap.
@Suite struct FuzzRegressionTests {
    static let root = TestImages.root.appendingPathComponent("fuzz-regressions")
    static let seeds = TestSupport.packageRoot.appendingPathComponent("Fuzz/seeds")

    /// `(target, file)` for every regression and seed file, the file relative to the package root,
    /// so each is its own test case.
    static let cases: [(String, String)] = {
        let fm = FileManager.default
        return FuzzHarness.targets.flatMap { target -> [(String, String)] in
            [("testimages/fuzz-regressions", root), ("Fuzz/seeds", seeds)].flatMap { (prefix, folder) -> [(String, String)] in
                let names = (try? fm.contentsOfDirectory(atPath: folder.appendingPathComponent(target).path)) ?? []
                return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { (target, "\(prefix)/\(target)/\($0)") }
            }
        }
    }()

    @Test func everyFolderIsATarget() throws {
        for folder in [Self.root, Self.seeds] {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
            #expect(Set(names).isSubset(of: Set(FuzzHarness.targets)), "unknown folders in \(folder.path): \(names)")
        }
        #expect(!Self.cases.isEmpty)
        #expect(Self.cases.contains { $0.0 == "convert" }, "the convert target has its seeds")
    }

    @Test(arguments: cases)
    func replays(target: String, file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: TestSupport.packageRoot.appendingPathComponent(file)))
        do {
            try FuzzHarness.run(target, bytes)
        } catch is DarkroomError {
        } catch {
            Issue.record("\(file): untyped error \(type(of: error)): \(error)")
        }
    }

    /// The `convert` seeds take the routes they are named for: the JPEGs with restart markers are
    /// decoded in two bands when the output is WebP, a JPEG resized to JPEG takes the planar route
    /// (whole, damaged or with restart markers), a PNG resized to JPEG goes through the ring of
    /// output rows, and each converts without error (a damaged one under `failOn` none).
    @Test(arguments: [("jpeg-4mp-restart-markers.bin", "planar-route"), ("webp-37pct-restart-markers.bin", "restart-bands"),
                      ("jpeg-50pct-failon-none-restart-markers.bin", "planar-route"),
                      ("webp-50pct-failon-none-restart-markers.bin", "restart-bands"), ("jpeg-37pct-hopper.bin", "planar-route"),
                      ("jpeg-37pct-failon-none-cut.bin", "planar-route"), ("png-37pct-to-jpeg-ring.bin", "ring-output"),
                      ("png-37pct-failon-none-cut-to-jpeg-ring.bin", "ring-output")])
    func convertSeedsTakeTheirRoutes(seed: String, event: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Self.seeds.appendingPathComponent("convert/\(seed)")))
        let events = PipelineEvents.Counter()
        try PipelineEvents.$counter.withValue(events) { try FuzzHarness.convert(bytes) }
        #expect(events[event] == 1, "\(seed): \(event)")
    }
}
