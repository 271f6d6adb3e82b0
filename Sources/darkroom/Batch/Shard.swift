import Darkroom

/// `--shard I/N`: this process takes the inputs whose stable hash falls in part I of N.
///
/// The hash is 64-bit FNV-1a over the bytes of the input's path under its root
/// (``BatchInput/relative``), so every machine and every re-run that sees the same tree splits it
/// the same way, wherever the tree is mounted; every input falls in exactly one shard.
struct ShardSpec: Equatable {
    /// From 0 (shown from 1: `--shard 1/4` is the first of four).
    let index: Int
    let count: Int

    /// The largest N accepted.
    static let maxCount = 1 << 20

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `I/N` with 1 ≤ I ≤ N ≤ 2^20, or `auto`: Slurm's array variables (`SLURM_ARRAY_TASK_ID`
    /// minus `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`), else a Kubernetes Indexed Job's
    /// `JOB_COMPLETION_INDEX` with `JOB_COMPLETIONS` (which the Job's manifest sets to its
    /// `completions`). Throws ``DarkroomError/option(_:)`` naming the value and what is accepted.
    init(parsing text: String, environment: [String: String]) throws(DarkroomError) {
        let accepted = "I/N with I from 1 to N (e.g. 2/8), or auto"
        if text.trimmingSpaces() == "auto" {
            if let id = environment["SLURM_ARRAY_TASK_ID"] {
                guard let countText = environment["SLURM_ARRAY_TASK_COUNT"] else {
                    throw DarkroomError.option(OptionError(name: "shard", value: text, expected: "auto inside a Slurm array job (SLURM_ARRAY_TASK_ID is set, SLURM_ARRAY_TASK_COUNT is not)"))
                }
                let task = try ValueParser.integer(id, name: "SLURM_ARRAY_TASK_ID", in: 0...Int(Int32.max))
                let minimum = try ValueParser.integer(environment["SLURM_ARRAY_TASK_MIN"] ?? "0", name: "SLURM_ARRAY_TASK_MIN", in: 0...task)
                let count = try ValueParser.integer(countText, name: "SLURM_ARRAY_TASK_COUNT", in: 1...Self.maxCount)
                // Arrays with a step (--array=0-6:2) or a list are not contiguous: refuse, not guess.
                if let maximum = environment["SLURM_ARRAY_TASK_MAX"].flatMap({ Int($0) }), maximum - minimum + 1 != count {
                    throw DarkroomError.option(OptionError(name: "shard", value: text, expected: "auto with a contiguous Slurm array (--array=0-\(count - 1) or 1-\(count)); this one has \(count) tasks from \(minimum) to \(maximum)"))
                }
                try self.init(checking: task - minimum, count: count, text: text)
                return
            }
            if let id = environment["JOB_COMPLETION_INDEX"] {
                guard let countText = environment["JOB_COMPLETIONS"] else {
                    throw DarkroomError.option(OptionError(name: "shard", value: text, expected: "auto in a Kubernetes Indexed Job whose manifest sets JOB_COMPLETIONS to its completions (JOB_COMPLETION_INDEX is set, JOB_COMPLETIONS is not)"))
                }
                let index = try ValueParser.integer(id, name: "JOB_COMPLETION_INDEX", in: 0...Int(Int32.max))
                let count = try ValueParser.integer(countText, name: "JOB_COMPLETIONS", in: 1...Self.maxCount)
                try self.init(checking: index, count: count, text: text)
                return
            }
            throw DarkroomError.option(OptionError(name: "shard", value: text, expected: "auto inside a Slurm array job (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, JOB_COMPLETIONS); neither is set here, so give I/N"))
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Self.plainInteger(String(parts[0])),
              let n = Self.plainInteger(String(parts[1])) else {
            throw DarkroomError.option(OptionError(name: "shard", value: text, expected: accepted))
        }
        guard n >= 1, n <= Self.maxCount, i >= 1, i <= n else {
            throw DarkroomError.option(OptionError(name: "shard", value: text, expected: "I/N with N from 1 to \(Self.maxCount) and I from 1 to N"))
        }
        self.init(index: i - 1, count: n)
    }

    private init(checking index: Int, count: Int, text: String) throws(DarkroomError) {
        guard index < count else {
            throw DarkroomError.option(OptionError(name: "shard", value: text, expected: "a task index below the task count (index \(index), count \(count))"))
        }
        self.init(index: index, count: count)
    }

    private static func plainInteger(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// `2/8` (from 1).
    var description: String { "\(index + 1)/\(count)" }

    /// Whether the input whose path under its root is `relative` is in this shard.
    func contains(_ relative: String) -> Bool {
        Int(Self.hash(relative) % UInt64(count)) == index
    }

    /// 64-bit FNV-1a of the path's bytes (``FileSystemName/bytes(_:)``).
    static func hash(_ relative: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in FileSystemName.bytes(relative) {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
