import ArgumentParser
import Darkroom

/// `darkroom report merge`: one summary of the reports that the shards of a batch wrote.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Work with --report files (JSON Lines) of convert, decode and prep-refs.",
        subcommands: [ReportMergeCommand.self])
}

struct ReportMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine shard reports into one summary; list inputs no shard finished and inputs more than one did.",
        discussion: """
            Each report starts with a header naming its shard (I/N) and the size of the whole plan, then \
            the inputs its shard planned, then one line per input as it finished. A report that several \
            runs appended to (a resumed shard) counts each input's last line. Exit status 0 when every \
            shard is present and every planned input finished (ok, skipped or over --max-bytes) exactly \
            once across the shards; 1 otherwise (a missing shard, an input with no result or a failure, \
            an input finished by more than one shard, an unreadable report).
            Example: darkroom report merge reports/shard-*.jsonl
            """)

    @Argument(help: "Report files written by --report.")
    var reports: [String]

    @Flag(help: "Print the merged summary as one JSON object on standard output.")
    var json = false

    @Option(parsing: .unconditional, help: "Largest report file read, in bytes.")
    var maxInputBytes: String = String(1 << 32)

    func run() throws {
        let limit: Int
        do { limit = try ValueParser.byteCount(maxInputBytes, name: "max-input-bytes") } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        var problems: [String] = []
        var shardCount: Int?
        var shardsSeen = Set<Int>()
        var planTotals = Set<Int>()
        var finalStatus: [String: (status: String, report: String)] = [:]
        var doneBy: [String: [String]] = [:]  // input → reports that finished it
        var planned: [String] = []
        var plannedSeen = Set<String>()
        var counts: [String: Int] = [:]
        var inputsDeclared = 0
        var commands = Set<String>()
        var notes: [String] = []
        var seenReports = Set<String>()
        for report in reports {
            let resolved = FileIdentity.resolvedPath(report, resolver: FolderResolver())
            guard seenReports.insert(resolved).inserted else {
                problems.append("\(report): given more than once (counted once)")
                continue
            }
            let parsed: ReportFile.Parsed
            do { parsed = try ReportFile.read(report, limit: limit) } catch {
                Console.error(report, error)
                problems.append("\(report): cannot be read")
                continue
            }
            if !parsed.badLines.isEmpty {
                // A run killed mid-write leaves a cut line; what matters is that every planned
                // input has a result, checked below. Reported, not counted as a problem.
                notes.append("\(report): \(parsed.badLines.count) line\(parsed.badLines.count == 1 ? " is" : "s are") not a report line (first: line \(parsed.badLines[0]); a run killed mid-write leaves one)")
            }
            guard let header = parsed.headers.first else {
                problems.append("\(report): no report header (not written by --report?)")
                continue
            }
            if case let .string(command)? = header["command"] { commands.insert(command) }
            if case let .int(total)? = header["plan_inputs"] { planTotals.insert(total) }
            if case let .int(n)? = header["inputs"] { inputsDeclared += n }
            if case let .string(shard)? = header["shard"] {
                let parts = shard.split(separator: "/").compactMap { Int($0) }
                if parts.count == 2 {
                    if let count = shardCount, count != parts[1] { problems.append("\(report): shard \(shard) of another split (\(count) shards elsewhere)") }
                    shardCount = parts[1]
                    if !shardsSeen.insert(parts[0]).inserted { problems.append("\(report): shard \(shard) appears in more than one report") }
                }
            }
            for path in parsed.planned where plannedSeen.insert(path).inserted { planned.append(path) }
            var last: [String: String] = [:]
            for item in parsed.items {
                guard case let .string(input)? = item["input"], case let .string(status)? = item["status"] else { continue }
                last[input] = status
            }
            for (input, status) in last {
                finalStatus[input] = (status, report)
                if status == "ok" || status == "skipped" || status == "unmet" { doneBy[input, default: []].append(report) }
            }
        }
        for (_, value) in finalStatus { counts[value.status, default: 0] += 1 }
        if let n = shardCount {
            let missing = (1...n).filter { !shardsSeen.contains($0) }
            if !missing.isEmpty { problems.append("missing shard\(missing.count == 1 ? "" : "s") " + missing.map { "\($0)/\(n)" }.joined(separator: ", ") + ": their inputs were not processed") }
        }
        if commands.count > 1 { problems.append("the reports come from different commands (\(commands.sorted().joined(separator: ", ")))") }
        if planTotals.count > 1 { problems.append("the reports come from different plans (\(planTotals.sorted().map(String.init).joined(separator: ", ")) inputs)") }
        if let total = planTotals.first, planTotals.count == 1, shardCount != nil, shardsSeen.count == shardCount, inputsDeclared != total {
            problems.append("the shards planned \(inputsDeclared) inputs in all, the plan has \(total)")
        }
        let unfinished = planned.filter { finalStatus[$0] == nil }
        let twice = doneBy.filter { $0.value.count > 1 }.keys.sorted()
        let failed = finalStatus.filter { $0.value.status == "failed" }.keys.sorted()
        var lines: [String] = []
        let total = planTotals.first ?? planned.count
        lines.append("darkroom: \(reports.count) report\(reports.count == 1 ? "" : "s")" + (shardCount.map { ", \(shardsSeen.count) of \($0) shards" } ?? "")
            + ": \(total) inputs planned, " + ["ok", "skipped", "unmet", "failed"].map { "\(counts[$0] ?? 0) \($0 == "unmet" ? "over --max-bytes" : $0)" }.joined(separator: ", "))
        for input in unfinished { lines.append("  no result: \(input)") }
        for input in failed where !unfinished.contains(input) { lines.append("  failed: \(input) (\(finalStatus[input]!.report))") }
        for input in twice { lines.append("  finished by more than one report: \(input) (" + doneBy[input]!.joined(separator: ", ") + ")") }
        for p in problems { lines.append("  " + p) }
        for n in notes { lines.append("  note: " + n) }
        let exact = problems.isEmpty && unfinished.isEmpty && twice.isEmpty && failed.isEmpty
        lines.append(exact ? "darkroom: every input finished exactly once" : "darkroom: the batch is not complete")
        if json {
            Console.json(["reports": .int(reports.count), "shards": shardCount.map { .int($0) } ?? .null,
                          "shards_present": .int(shardsSeen.count), "plan_inputs": .int(total),
                          "ok": .int(counts["ok"] ?? 0), "skipped": .int(counts["skipped"] ?? 0), "unmet": .int(counts["unmet"] ?? 0),
                          "failed": .array(failed.map { .string($0) }), "unfinished": .array(unfinished.map { .string($0) }),
                          "finished_more_than_once": .array(twice.map { .string($0) }), "problems": .array(problems.map { .string($0) }),
                          "complete": .bool(exact)])
        }
        for line in lines { Console.info(line) }
        if !exact { throw ExitCode(ExitStatus.someFailed) }
    }
}
