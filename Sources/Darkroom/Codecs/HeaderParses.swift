/// A test hook that counts header parses, per format, on the current task: every codec entry
/// point that parses a file's header (or container) calls ``count(_:)``. Tests check that a
/// conversion parses its input's header once (the plan is computed once). Costs one task-local
/// read per parse when no counter is installed.
enum HeaderParses {
    /// The counter of the current task, installed with `HeaderParses.$counter.withValue(...)`.
    @TaskLocal static var counter: Counter?

    static func count(_ format: ImageFormat) { counter?.add(format) }

    final class Counter: @unchecked Sendable {
        private let lock = Lock()
        private var counts: [ImageFormat: Int] = [:]

        func add(_ format: ImageFormat) { lock.withLock { counts[format, default: 0] += 1 } }
        /// Parses counted so far for `format`.
        subscript(format: ImageFormat) -> Int { lock.withLock { counts[format, default: 0] } }
        /// Parses counted so far, all formats.
        var total: Int { lock.withLock { counts.values.reduce(0, +) } }
    }
}

/// A test hook that counts what the pipeline chose, by name (e.g. `"restart-bands"`), on the
/// current task, so a test can check that the path it compares really ran.
enum PipelineEvents {
    @TaskLocal static var counter: Counter?

    static func count(_ event: String) { counter?.add(event) }

    final class Counter: @unchecked Sendable {
        private let lock = Lock()
        private var counts: [String: Int] = [:]

        func add(_ event: String) { lock.withLock { counts[event, default: 0] += 1 } }
        subscript(event: String) -> Int { lock.withLock { counts[event, default: 0] } }
    }
}
