import Darkroom
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What happened to one input of a batch: one JSON object in `--json` (standard output) and in
/// `--report FILE`, the same keys in both (docs/cli/batches.md lists them).
struct ItemReport {
    enum Status: String {
        /// Written (converted, prepared or decoded).
        case ok
        /// Not processed: the output exists (`--skip-existing`) or the report records it as done.
        case skipped
        /// Reported as an error; the batch went on.
        case failed
        /// Written, but larger than `--max-bytes` even at `--min-quality`.
        case unmet
        /// `--dry-run`: what would be done.
        case planned
    }

    var input: String
    var index: Int
    var status: Status = .ok
    var output: String?
    var error: String?
    var inputBytes: Int?
    var outputBytes: Int?
    var milliseconds: Double?
    /// Further keys (formats, sizes, quality, warnings, …) as each command knows them.
    var details: [String: JSONValue] = [:]

    var json: JSONValue {
        var d = details
        d["input"] = .string(input)
        d["index"] = .int(index)
        d["status"] = .string(status.rawValue)
        d["ok"] = .bool(status != .failed)
        if let output { d["output"] = .string(output) }
        if let error { d["error"] = .string(error) }
        if let inputBytes { d["source_bytes"] = .int(inputBytes) }
        if let outputBytes { d["bytes"] = .int(outputBytes) }
        if let milliseconds { d["ms"] = .double((milliseconds * 10).rounded() / 10) }
        return .object(d)
    }
}

/// Counts, prints and records a batch as it runs: the one place that writes a batch's progress,
/// per-input lines, `--json` lines, `--report` lines and the summary, under one lock, so lines
/// never interleave and an interruption (SIGINT, SIGTERM) still prints a true summary.
///
/// Human lines go to standard error, machine lines (`--json`) to standard output, in every
/// command; paths are printed as given.
final class BatchReporter: @unchecked Sendable {
    struct Settings {
        var command: String
        /// "converted", "prepared", "written".
        var doneWord: String
        var json = false
        var quiet = false
        var verbose = false
        var dryRun = false
        var reportPath: String?
        var shard: ShardSpec?
    }

    private let settings: Settings
    private let total: Int
    private let planTotal: Int
    private let walk: WalkCounts
    private let lock = Lock()
    private let start = DispatchTime.now()
    private var done = 0, ok = 0, failed = 0, skipped = 0, unmet = 0, planned = 0
    private var bytesIn = 0, bytesOut = 0
    private var existing = 0
    private var finished = false
    private var reportFD: Int32 = -1
    private var lastPlainLine = DispatchTime.now()
    private let bar: Bool

    /// Opens `--report` (appending) and writes its header line. Throws ``DarkroomError`` when the
    /// report cannot be opened.
    /// `planned`: this process's inputs (path, `{index}`), written to the report after its
    /// header so `darkroom report merge` can name any input that has no result.
    init(settings: Settings, total: Int, planTotal: Int, walk: WalkCounts, planned: [(path: String, index: Int)] = []) throws {
        self.settings = settings
        self.total = total
        self.planTotal = planTotal
        self.walk = walk
        bar = !settings.quiet && !settings.json && total > 1 && isatty(STDERR_FILENO) != 0
        if let path = settings.reportPath, !settings.dryRun {
            reportFD = fsOpen(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard reportFD >= 0 else {
                throw DarkroomError.file(.io(path: path, message: "cannot write the report: \(InputFile.reason(errno))"))
            }
            // A run killed mid-write left a line without its end: start on a line of our own.
            var st = stat()
            if fstat(reportFD, &st) == 0, st.st_size > 0 {
                var last: UInt8 = 0
                if pread(reportFD, &last, 1, off_t(st.st_size - 1)) == 1, last != 0x0A {
                    _ = StandardStreams.writeAll(reportFD, [0x0A])
                }
            }
            var header: [String: JSONValue] = ["report": "darkroom", "version": 1, "command": .string(settings.command),
                                               "inputs": .int(total), "plan_inputs": .int(planTotal)]
            if let shard = settings.shard { header["shard"] = .string(shard.description) }
            appendReport(.object(header))
            // One write for many lines: a plan of 100,000 inputs is a few MB, written in 64 kB blocks.
            var block: [UInt8] = []
            for (path, index) in planned {
                block += JSONValue.object(["planned": .string(path), "index": .int(index)]).jsonData() + [0x0A]
                if block.count >= 1 << 16 { _ = StandardStreams.writeAll(reportFD, block); block.removeAll(keepingCapacity: true) }
            }
            if !block.isEmpty { _ = StandardStreams.writeAll(reportFD, block) }
        }
    }

    /// Records one finished input: counts it, prints its line, writes its JSON line(s), moves the
    /// progress bar. Called by any worker thread.
    func record(_ item: ItemReport, line: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        done += 1
        switch item.status {
        case .ok: ok += 1
        case .failed: failed += 1
        case .skipped: skipped += 1
        case .unmet: unmet += 1
        case .planned: planned += 1
        }
        if item.status == .ok || item.status == .unmet {
            bytesIn += item.inputBytes ?? 0
            bytesOut += item.outputBytes ?? 0
        }
        if let error = item.error, error.contains("already exists") { existing += 1 }
        if settings.json { Console.json(item.json) }
        appendReport(item.json)
        if let line, !settings.quiet, settings.verbose || ((total == 1 || settings.dryRun) && !settings.json) {
            Console.info(line)
        }
        progress(label: item.input)
    }

    /// Prints the summary (standard error, and a `{"summary": …}` line with `--json` and in the
    /// report). Returns the exit status: 0, 1 when any input failed, 3 when the only shortfall
    /// is unmet `--max-bytes` targets.
    @discardableResult
    func finish(interrupted signal: Int32? = nil) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if finished { return status(signal) }
        finished = true
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        var summary: [String: JSONValue] = [
            "inputs": .int(total), "done": .int(done), "ok": .int(ok), "failed": .int(failed + walk.problems.count),
            "skipped": .int(skipped), "unmet": .int(unmet), "source_bytes": .int(bytesIn), "bytes": .int(bytesOut),
            "seconds": .double((seconds * 1000).rounded() / 1000),
            "not_inputs": ["hidden": .int(walk.hidden), "other": .int(walk.others), "revisited_folders": .int(walk.revisited),
                           "subfolders": .int(walk.subfolders)],
        ]
        if settings.dryRun { summary["planned"] = .int(planned) }
        if let shard = settings.shard { summary["shard"] = .string(shard.description); summary["plan_inputs"] = .int(planTotal) }
        if let signal { summary["interrupted"] = .string(signal == SIGINT ? "SIGINT" : "SIGTERM") }
        if settings.json { Console.json(["summary": .object(summary)]) }
        appendReport(["summary": .object(summary)])
        if reportFD >= 0 { fsync(reportFD); close(reportFD); reportFD = -1 }
        // One input: its own line (or error) says it all; only the advice is added.
        let text = humanSummary(seconds: seconds, signal: signal)
        if (!settings.quiet && (total > 1 || settings.dryRun || !walk.problems.isEmpty)) || signal != nil {
            Console.infoLines(text)
        } else if total == 0 && walk.problems.isEmpty && !settings.quiet {
            // Nothing to do is said, not silent: what the folders held instead.
            Console.info("darkroom: no input to \(settings.command) found" + (notes.isEmpty ? "" : " (in folders: " + notes.joined(separator: ", ") + ")"))
        }
        return status(signal)
    }

    private func status(_ signal: Int32?) -> Int32 {
        if let signal { return signal == SIGINT ? ExitStatus.interrupted : ExitStatus.terminated }
        if failed > 0 || !walk.problems.isEmpty { return ExitStatus.someFailed }
        if unmet > 0 { return ExitStatus.targetUnmet }
        return 0
    }

    /// What the folders held that is not an input: `2 hidden`, `1 not an image`, `3 subfolders (add -R)`.
    private var notes: [String] {
        var notes: [String] = []
        if walk.hidden > 0 { notes.append("\(walk.hidden) hidden") }
        if walk.others > 0 {
            let kind = settings.command == "decode" ? "response" : "image"
            notes.append(walk.others == 1 ? "1 not \(kind == "image" ? "an" : "a") \(kind)" : "\(walk.others) not \(kind)s")
        }
        if walk.revisited > 0 { notes.append("\(walk.revisited) folder\(walk.revisited == 1 ? "" : "s") reached twice") }
        if walk.subfolders > 0 { notes.append("\(walk.subfolders) subfolder\(walk.subfolders == 1 ? "" : "s") (add -R)") }
        return notes
    }

    private func humanSummary(seconds: Double, signal: Int32?) -> String {
        var parts: [String] = []
        if settings.dryRun {
            parts.append("\(planned) to be \(settings.doneWord)")
        } else {
            parts.append("\(ok) \(settings.doneWord)")
        }
        let failures = failed + walk.problems.count
        if failures > 0 { parts.append("\(failures) failed") }
        if skipped > 0 { parts.append("\(skipped) skipped") }
        if unmet > 0 { parts.append("\(unmet) over --max-bytes") }
        var text = "darkroom: "
        if let shard = settings.shard { text += "shard \(shard.description) (\(total) of \(planTotal) inputs): " }
        if let signal {
            text += "interrupted (\(signal == SIGINT ? "SIGINT" : "SIGTERM")) after \(done) of \(total): "
        }
        text += parts.joined(separator: ", ")
        if bytesIn > 0 || bytesOut > 0 { text += ", \(Self.bytes(bytesIn)) → \(Self.bytes(bytesOut))" }
        text += " in \(Console.fixed(seconds, 1)) s"
        let notes = self.notes
        if !notes.isEmpty { text += "; skipped in folders: " + notes.joined(separator: ", ") }
        if signal != nil {
            text += "\ndarkroom: finished outputs are complete and nothing partial was left; to resume, run the same command with --skip-existing"
        } else if existing > 0 && total > 1 {
            text += "\ndarkroom: \(existing) output\(existing == 1 ? "" : "s") already existed: add --skip-existing to resume a run, or --overwrite to replace them"
        }
        return text
    }

    /// `1.2 GB`, `310 MB`, `12 kB`, `512 B` (decimal units).
    static func bytes(_ n: Int) -> String {
        let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (size, unit) in units where Double(n) >= size {
            let value = Double(n) / size
            return (value < 10 ? Console.fixed(value, 1) : Console.fixed(value, 0)) + " " + unit
        }
        return "\(n) B"
    }

    /// A JSON line in the report, written with one `write` (appended atomically).
    private func appendReport(_ value: JSONValue) {
        guard reportFD >= 0 else { return }
        _ = StandardStreams.writeAll(reportFD, [UInt8](value.jsonData()) + [0x0A])
    }

    /// The terminal bar (done/total, rate, time left, failures), or a plain line every 10 s.
    private func progress(label: String) {
        guard !settings.quiet, total > 1, !settings.json || !bar else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let failures = failed > 0 ? ", \(failed) failed" : ""
        if bar {
            let width = 24
            let filled = width * done / max(1, total)
            let text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                + "\(done)/\(total) \(Console.fixed(rate, 1))/s" + (done < total ? " ETA \(Self.duration(left))" : "") + failures
            let shown = Console.printable(label)
            let name = shown.count > 30 ? "…" + shown.suffix(29) : shown
            Console.bar(text + " " + name, last: done == total)
        } else if settings.json == false, !settings.verbose {
            let now = DispatchTime.now()
            guard now.uptimeNanoseconds - lastPlainLine.uptimeNanoseconds >= 10_000_000_000, done < total else { return }
            lastPlainLine = now
            Console.info("darkroom: \(done)/\(total) (\(100 * done / max(1, total))%)\(failures), \(Console.fixed(rate, 1)) files/s, about \(Self.duration(left)) left")
        }
    }

    /// `1m02s`, `45s`, `2h05m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h" + (s % 3600 / 60 < 10 ? "0" : "") + "\(s % 3600 / 60)m" }
        if s >= 60 { return "\(s / 60)m" + (s % 60 < 10 ? "0" : "") + "\(s % 60)s" }
        return "\(s)s"
    }
}

/// Reading a `--report` file: which inputs it records as done (`ok`, `unmet` or `skipped`), for
/// `--skip-existing`; and the shard reports `darkroom report merge` combines.
enum ReportFile {
    struct Parsed {
        var headers: [[String: JSONValue]] = []
        var items: [[String: JSONValue]] = []
        var summaries: [[String: JSONValue]] = []
        /// Inputs the run planned (from the `planned` lines), in order.
        var planned: [String] = []
        /// Lines that are not JSON objects (a line cut by a crash mid-write), by line number.
        var badLines: [Int] = []
    }

    /// Throws ``DarkroomError/file(_:)`` when the file cannot be read.
    static func read(_ path: String, limit: Int) throws -> Parsed {
        let bytes = try InputFile.read(path, limit: limit, image: false)
        var parsed = Parsed()
        for (n, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let value = try? JSONValue(parsing: Data(line)), case let .object(object) = value else {
                parsed.badLines.append(n + 1)
                continue
            }
            if object["report"] != nil { parsed.headers.append(object) }
            else if object["summary"] != nil { parsed.summaries.append(object) }
            else if case let .string(path)? = object["planned"] { parsed.planned.append(path) }
            else if object["input"] != nil { parsed.items.append(object) }
            else { parsed.badLines.append(n + 1) }
        }
        return parsed
    }

    /// The inputs a report records as done, each with the output it records: `--skip-existing`
    /// skips an input only when that output is still there (and is the one this run plans).
    static func doneInputs(_ parsed: Parsed) -> [String: String] {
        var done: [String: String] = [:]
        for item in parsed.items {
            guard case let .string(input)? = item["input"], case let .string(status)? = item["status"] else { continue }
            if (status == "ok" || status == "unmet" || status == "skipped"), case let .string(output)? = item["output"] {
                done[input] = output
            } else {
                done[input] = nil
            }
        }
        return done
    }
}
