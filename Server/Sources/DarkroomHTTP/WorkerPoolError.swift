/// Why the worker pool did not produce a result; each case maps to one HTTP answer.
public enum WorkerPoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every worker is busy and the queue is full (`capacity` = workers + queue slots). HTTP 503.
    case saturated(capacity: Int)
    /// The server is shutting down and takes no new work. HTTP 503.
    case draining
    /// The job waited in the queue past its deadline and never started (`seconds`: the limit). HTTP 503.
    case queueTimeout(seconds: Double)
    /// The job started but ran past its deadline; its worker finishes in the background. HTTP 504.
    case runTimeout(seconds: Double)
    /// The request's task was cancelled (client gone) before the job finished.
    case cancelled

    public var description: String {
        switch self {
        case let .saturated(capacity):
            "the server is at capacity (\(capacity) conversions running or queued); retry later"
        case .draining:
            "the server is shutting down; retry on another instance"
        case let .queueTimeout(seconds):
            "the request waited \(seconds) s for a worker and was not started; retry later"
        case let .runTimeout(seconds):
            "the conversion did not finish within \(seconds) s"
        case .cancelled:
            "the request was cancelled"
        }
    }
}
