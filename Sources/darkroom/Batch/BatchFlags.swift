import ArgumentParser
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

/// The batch flags shared by `convert`, `prep-refs` and `decode`: where inputs come from, what
/// to do with outputs that exist, reports, shards, and how much to print. One meaning in every
/// command (docs/cli/batches.md).
struct BatchFlags: ParsableArguments {
    @Flag(name: [.customShort("R"), .long], help: "Folders: take their subfolders too (without it, only the files directly in them).")
    var recursive = false

    @Option(help: ArgumentHelp("Read input paths from FILE, one per line (- for standard input).", valueName: "FILE"))
    var fromList: String?

    @Flag(name: [.customShort("0"), .customLong("null")], help: "--from-list entries are separated by NUL bytes (as find -print0 writes), not newlines.")
    var nullSeparated = false

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Inputs processed in parallel, 1 to 256 (default: the cores this process may use, CPU quota included).")
    var jobs: String?

    @Flag(help: "Replace existing output files.")
    var overwrite = false

    @Flag(help: "Skip inputs whose output exists (outputs are written atomically, so an existing one is complete), or that --report FILE records as done: resumes an interrupted run. Skipped inputs are counted, not failures.")
    var skipExisting = false

    @Option(help: ArgumentHelp("Write one JSON line per input to FILE as the batch runs (appended; flushed per input, so a killed run leaves a true report), then a summary line.", valueName: "FILE"))
    var report: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Process only shard I of N (I from 1 to N): a stable hash of each input's path under its root, the same on every machine. 'auto' reads SLURM_ARRAY_TASK_ID/COUNT, or JOB_COMPLETION_INDEX with JOB_COMPLETIONS.", valueName: "I/N|auto"))
    var shard: String?

    @Flag(help: "Print the plan (each input and its output) and write nothing.")
    var dryRun = false

    @Flag(name: [.customShort("Q"), .long], help: "Print only errors (no progress, no summary).")
    var quiet = false

    @Flag(name: [.customShort("v"), .long], help: "Print one line per input as it finishes.")
    var verbose = false

    func validate() throws {
        if overwrite && skipExisting { throw ValidationError("use either --overwrite or --skip-existing, not both") }
        if quiet && verbose { throw ValidationError("use either --quiet or --verbose, not both") }
        if nullSeparated && fromList == nil { throw ValidationError("--null describes --from-list: give --from-list FILE too") }
        if let report, report.isEmpty || report == "-" {
            throw ValidationError("--report needs a file name (standard output has --json)")
        }
        if let fromList, fromList.isEmpty { throw ValidationError("--from-list needs a file name, or - for standard input") }
    }

    /// The inputs of `arguments` and `--from-list`, walked (``InputWalk``), then `--shard`'s part.
    /// Throws ``DarkroomError`` for a list that cannot be read and a bad `--shard` (usage errors).
    /// `outputFolder`: the run's output folder, never walked as input when it lies inside an
    /// input folder (a resumed `convert in -R --out-dir in/webp` must not take its own outputs).
    func inputs(_ arguments: [String], maxListBytes: Int,
                memberFilter: @escaping (String) -> (accept: Bool, format: ImageFormat?) = InputWalk.images,
                outputFolder: String? = nil) throws -> BatchInputs {
        if fromList == "-" && arguments.contains("-") {
            throw ValidationError("standard input (-) can be read only once: it is already --from-list -")
        }
        var walk = InputWalk(recursive: recursive, memberFilter: memberFilter)
        if let outputFolder { walk.exclude(folder: outputFolder) }
        for argument in arguments { walk.add(argument: argument) }
        if let fromList {
            let bytes = try InputFile.read(fromList, limit: maxListBytes, image: false)
            walk.add(list: bytes, nullSeparated: nullSeparated)
        }
        let spec = try shard.map { (text) throws(DarkroomError) in try ShardSpec(parsing: text, environment: ProcessEnvironment.all) }
        let all = walk.inputs
        var indices = Array(all.indices)
        if let spec { indices = indices.filter { spec.contains(all[$0].relative) } }
        return BatchInputs(all: all, selected: indices, counts: walk.counts, shard: spec)
    }
}

extension BatchFlags {
    /// Parallel workers for `count` inputs (`-j`, default the cores) and the threads each one's
    /// conversion may use so that workers × threads does not exceed the cores.
    /// Throws ``DarkroomError/option(_:)`` for a bad `-j`.
    func workers(for count: Int) throws(DarkroomError) -> (workers: Int, threadsEach: Int) {
        let cores = CPUBudget.cores()
        let asked = try jobs.map { (text) throws(DarkroomError) in try ValueParser.integer(text, name: "jobs", in: 1...Limits.maxThreads) }
        let workers = max(1, min(max(1, count), asked ?? cores))
        return (workers, max(1, cores / workers))
    }
}

/// Runs `body` for each index on `workers` threads; each worker takes the next index, so a slow
/// input holds up only its own worker. `body` must be thread-safe (the reporter and the output
/// guard are).
enum BatchJobs {
    static func forEach(_ indices: [Int], workers: Int, _ body: @Sendable (Int) -> Void) {
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, indices.count))) { _ in
            while let k = next.take(below: indices.count) { body(indices[k]) }
        }
    }
}

extension BatchFlags {
    /// `--report FILE` may not be an input, the `--from-list` file or a planned output: appending
    /// JSON to any of them would damage it. Throws a usage error naming the clash.
    func checkReport(guardian: OutputGuard, outputs: [String?]) throws {
        guard let report else { return }
        if let input = guardian.input(at: report) {
            throw ValidationError("--report \(report) is \(input == report ? "" : "(as \(input)) ")an input of this run; choose another file")
        }
        if let fromList, fromList != "-", let a = FileIdentity.inode(fromList), a == FileIdentity.inode(report) {
            throw ValidationError("--report \(report) is the --from-list file; choose another file")
        }
        let key = FileIdentity.resolvedPath(report, resolver: guardian.resolver)
        if outputs.contains(where: { $0 != nil && $0 != "-" && FileIdentity.resolvedPath($0!, resolver: guardian.resolver) == key }) {
            throw ValidationError("--report \(report) is also an output of this run; choose another file")
        }
    }
}

extension BatchFlags {
    /// The start of every batch command, after planning: creates the output folder (not with
    /// `--dry-run`), opens the report, prints the walk's problems, sweeps stale temporaries and
    /// hands SIGINT/SIGTERM to the reporter. Exits 1 when the folder or report cannot be made.
    func startReporter(command: String, doneWord: String, json: Bool, planned: BatchInputs,
                       outputFolder: String?, sweep folders: [String]) throws -> BatchReporter {
        let reporter: BatchReporter
        AllocatorReuse.enable()
        do {
            // Nothing to read (every input missing, say): no folder is left behind. The first input
            // that exists ends the look (standard input counts).
            let anyInput = planned.selected.contains { planned.all[$0].path == "-" || fsExists(planned.all[$0].path) }
            if !dryRun && anyInput, let outputFolder { try OutputFolders.create(outputFolder) }
            reporter = try BatchReporter(
                settings: .init(command: command, doneWord: doneWord, json: json, quiet: quiet, verbose: verbose,
                                dryRun: dryRun, reportPath: report, shard: planned.shard),
                total: planned.selected.count, planTotal: planned.all.count, walk: planned.counts,
                planned: planned.selected.map { (planned.all[$0].path, $0) })
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.someFailed)
        }
        for problem in planned.counts.problems { Console.info("darkroom: \(problem.path): \(problem.reason)") }
        if !dryRun { for folder in folders { OutputFile.sweepStaleTemporaries(in: folder) } }
        Signals.onInterrupt { signal in reporter.finish(interrupted: signal) }
        return reporter
    }

    /// ``checkReport(guardian:outputs:)`` as a usage error (exit 2).
    func checkReportOrExit(guardian: OutputGuard, outputs: [String?]) throws {
        do { try checkReport(guardian: guardian, outputs: outputs) } catch let error as ValidationError {
            Console.info("darkroom: \(error.message)")
            throw ExitCode(ExitStatus.usage)
        }
    }
}

/// The planned inputs of a batch: every input the arguments name (`all`, whose positions give
/// `{index}`), the ones this process takes (`selected`, all of them unless `--shard`), and what
/// the walk skipped.
struct BatchInputs {
    var all: [BatchInput]
    var selected: [Int]
    var counts: WalkCounts
    var shard: ShardSpec?
}

/// The process environment as a dictionary (no Foundation `ProcessInfo` needed).
enum ProcessEnvironment {
    static var all: [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") { result[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
            p += 1
        }
        return result
    }
}
