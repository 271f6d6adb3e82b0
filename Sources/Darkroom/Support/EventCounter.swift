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
