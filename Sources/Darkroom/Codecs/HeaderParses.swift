/// Counts of named events on the current task, for test hooks: installed with
/// `$counter.withValue(Counter())` around the code under test; costs one task-local read per
/// event when none is installed.
final class EventCounter<Key: Hashable>: @unchecked Sendable {
    private let lock = Lock()
    private var counts: [Key: Int] = [:]

    func add(_ key: Key) { lock.withLock { counts[key, default: 0] += 1 } }
    /// Events counted so far for `key`.
    subscript(key: Key) -> Int { lock.withLock { counts[key, default: 0] } }
    /// Events counted so far, all keys.
    var total: Int { lock.withLock { counts.values.reduce(0, +) } }
}

/// A test hook that counts header parses, per format: every codec entry point that parses a
/// file's header (or container) calls ``count(_:)``. Tests check that a conversion parses its
/// input's header once (the plan is computed once).
enum HeaderParses {
    typealias Counter = EventCounter<ImageFormat>
    @TaskLocal static var counter: Counter?

    static func count(_ format: ImageFormat) { counter?.add(format) }
}

/// A test hook that counts what the pipeline chose, by name (e.g. `"restart-bands"`), so a test
/// can check that the path it compares really ran.
enum PipelineEvents {
    typealias Counter = EventCounter<String>
    @TaskLocal static var counter: Counter?

    static func count(_ event: String) { counter?.add(event) }
}
