import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of dedicated threads for CPU-bound conversions, with bounded admission.
///
/// Conversions (`GatewayConversion.convert`, `ReferencePrep.prepare`) hold a core for tens to
/// hundreds of milliseconds. On NIO's event loops they would stall every connection, `/healthz`
/// included; on Swift's cooperative pool (one thread per core) they would starve the server's own
/// tasks. So they run here, on `workers` plain threads fed by continuations.
///
/// A request takes a ``Ticket`` with ``admit(since:)`` once its body is in. At most
/// ``capacity`` (`workers + queueSize`) tickets exist at once, so an overload is refused at once
/// (``WorkerPoolError/saturated(capacity:)``) and never buffers bodies it cannot serve. The ticket
/// then goes to ``run(_:timeout:_:)``, which queues the job for a worker.
///
/// Every ticket comes back to the pool exactly once: when its job finishes on a worker (even if the
/// request has already answered with a timeout, so a runaway job keeps its slot until it really
/// ends), when it leaves the queue at its deadline, or through ``release(_:)`` when the request gives
/// up before queuing (body too large, client gone).
///
/// On Linux the worker threads run at nice ``workerNice`` (nice values are per thread there), so
/// under full load the event loops still get a core at once and `/healthz` stays fast.
public final class WorkerPool: @unchecked Sendable {
    /// One admitted request's slot. Obtained from ``admit(since:)``; its deadline counts from
    /// the moment given there (the request's arrival), or from admission.
    public final class Ticket: @unchecked Sendable {
        /// Where ``run(_:timeout:_:)`` measures its limit from: the request's arrival, or its admission.
        public let admitted: DispatchTime
        fileprivate var returned = false  // guarded by the pool's lock

        fileprivate init(since start: DispatchTime) { admitted = start }
    }

    /// A point-in-time view of the pool, for `/readyz` and the gauges.
    public struct Snapshot: Sendable, Equatable {
        /// Admitted requests not yet finished: reading their body, queued or running.
        public var admitted: Int
        /// Jobs waiting for a worker.
        public var queued: Int
        /// Jobs running on a worker (timed-out ones included until they end).
        public var running: Int
        /// Whether ``WorkerPool/beginDrain()`` was called.
        public var draining: Bool

        public init(admitted: Int, queued: Int, running: Int, draining: Bool) {
            self.admitted = admitted
            self.queued = queued
            self.running = running
            self.draining = draining
        }
    }

    /// Number of worker threads.
    public let workers: Int
    /// Jobs allowed to wait for a worker beyond the `workers` running ones.
    public let queueSize: Int
    /// Most requests admitted at once: `workers + queueSize`.
    public var capacity: Int { workers + queueSize }
    /// The worker threads' nice value on Linux (0 = normal priority, 19 = lowest).
    public static let workerNice: Int32 = 5

    private let beforeWork: (@Sendable () -> Void)?
    private let observer: (@Sendable (Snapshot) -> Void)?
    private let condition = NSCondition()  // guards everything below
    private var queue: [Job] = []
    private var admitted = 0
    private var running = 0
    private var draining = false
    private var stopped = false
    private var threadsStarted = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameters:
    ///   - workers: worker threads (at least 1), started on the first job.
    ///   - queueSize: jobs that may wait for a worker (0 or more).
    ///   - beforeWork: called on the worker thread just before each job runs; a test hook that may block
    ///     to hold a worker busy.
    ///   - observer: called (under the pool's lock, so keep it cheap) after every change of state.
    public init(workers: Int, queueSize: Int, beforeWork: (@Sendable () -> Void)? = nil,
                observer: (@Sendable (Snapshot) -> Void)? = nil) {
        self.workers = max(1, workers)
        self.queueSize = max(0, queueSize)
        self.beforeWork = beforeWork
        self.observer = observer
    }

    // MARK: Admission

    /// Takes a slot for one request, or throws at once when the pool is full or draining.
    /// - Parameter start: where the request's time limit counts from (default: now); the HTTP
    ///   routes pass the request's arrival, so body upload, queue and run share one limit.
    public func admit(since start: DispatchTime = .now()) throws(WorkerPoolError) -> Ticket {
        condition.lock()
        defer { condition.unlock() }
        if draining { throw .draining }
        guard admitted < capacity else { throw .saturated(capacity: capacity) }
        admitted += 1
        notify()
        return Ticket(since: start)
    }

    /// Returns a ticket that will never reach ``run(_:timeout:_:)``. Safe to call more than once.
    public func release(_ ticket: Ticket) {
        condition.lock()
        returnTicket(ticket)
        condition.unlock()
    }

    /// The pool's state now.
    public var snapshot: Snapshot {
        condition.lock()
        defer { condition.unlock() }
        return snapshotLocked()
    }

    /// Whether a new request would be admitted: not draining and below ``capacity``.
    public var isReady: Bool {
        let now = snapshot
        return !now.draining && now.admitted < capacity
    }

    // MARK: Running

    /// Runs `work` on a worker thread and returns its result, consuming `ticket`.
    ///
    /// - Parameter timeout: seconds from the ticket's admission. A job still queued then is dropped and
    ///   throws ``WorkerPoolError/queueTimeout(seconds:)``; a job still running throws
    ///   ``WorkerPoolError/runTimeout(seconds:)`` at that moment while its worker finishes in the
    ///   background (its result is discarded, its slot returned when it ends).
    /// - Throws: what `work` throws, or a ``WorkerPoolError``.
    public func run<T: Sendable>(_ ticket: Ticket, timeout: Double,
                                 _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let deadline = ticket.admitted + timeout
        let job = Job(ticket: ticket, deadline: deadline, timeout: timeout)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let once = ResumeOnce(continuation)
                condition.lock()
                guard job.state == .queued else {  // cancelled before it was queued
                    condition.unlock()
                    once.resume(with: .failure(WorkerPoolError.cancelled))
                    return
                }
                job.execute = {
                    let result = Result { try work() }
                    return { once.resume(with: result) }
                }
                job.fail = { once.resume(with: .failure($0)) }
                queue.append(job)
                startThreadsLocked()
                notify()
                // The deadline's timer, cancelled (and freed) when the job ends first: a timer per
                // request left to fire `timeout` later would hold memory for every request of the
                // last `timeout` seconds (the soak saw it as heap growth).
                let timer = DispatchSource.makeTimerSource(queue: .global())
                timer.schedule(deadline: deadline)
                timer.setEventHandler { [weak self] in self?.expire(job, cancelled: false) }
                job.timer = timer
                condition.signal()
                condition.unlock()
                timer.resume()
            }
        } onCancel: {
            expire(job, cancelled: true)
        }
    }

    // MARK: Draining and stopping

    /// Refuses new work from now on (``admit()`` throws ``WorkerPoolError/draining``); admitted requests go on.
    public func beginDrain() {
        condition.lock()
        draining = true
        notify()
        condition.unlock()
    }

    /// Returns once no admitted request remains (immediately if there is none).
    public func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if admitted == 0 {
                condition.unlock()
                continuation.resume()
            } else {
                idleWaiters.append(continuation)
                condition.unlock()
            }
        }
    }

    /// Lets the worker threads exit once the queue is empty. Jobs submitted later never run.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Internals

    private final class Job: @unchecked Sendable {  // mutable fields guarded by the pool's lock
        enum State { case queued, running, finished }
        var state = State.queued
        let ticket: Ticket
        let deadline: DispatchTime
        let timeout: Double
        /// Runs the work; returns the call that hands its result to the waiting request.
        var execute: (() -> () -> Void)?
        var fail: ((WorkerPoolError) -> Void)?
        /// The deadline's timer while the job is queued or running.
        var timer: (any DispatchSourceTimer)?

        /// Marks the job finished and cancels its timer. Call with the pool's lock held.
        func finish() {
            state = .finished
            execute = nil
            fail = nil
            timer?.cancel()
            timer = nil
        }

        init(ticket: Ticket, deadline: DispatchTime, timeout: Double) {
            self.ticket = ticket
            self.deadline = deadline
            self.timeout = timeout
        }
    }

    /// Resumes a continuation once; later calls (a late worker after a timeout) are ignored.
    private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<T, any Error>?

        init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = continuation }

        func resume(with result: Result<T, any Error>) {
            lock.lock()
            let pending = continuation
            continuation = nil
            lock.unlock()
            pending?.resume(with: result)
        }
    }

    private func startThreadsLocked() {
        guard !threadsStarted else { return }
        threadsStarted = true
        for index in 0..<workers {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "darkroom-worker-\(index)"
            thread.stackSize = 8 << 20  // bytes, as a main thread: decoders and encoders recurse little, but be safe
            thread.start()
        }
    }

    private func workerLoop() {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.workerNice)  // 0: this thread
        #endif
        while let (job, execute) = nextJob() {
            beforeWork?()
            let deliver = execute()
            condition.lock()
            running -= 1
            job.finish()
            returnTicket(job.ticket)  // before the answer, so `/readyz` is 200 when the response arrives
            condition.unlock()
            deliver()
        }
    }

    /// The next job to run, or nil once stopped with an empty queue. Skips jobs whose deadline passed.
    private func nextJob() -> (Job, () -> () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty { return nil }
            let job = queue.removeFirst()
            if job.deadline <= .now() {  // its timer has not fired yet: answer now, never start it
                let fail = job.fail
                job.finish()
                returnTicket(job.ticket)
                fail?(.queueTimeout(seconds: job.timeout))
                continue
            }
            guard let execute = job.execute else { continue }
            job.state = .running
            job.execute = nil
            running += 1
            notify()
            return (job, execute)
        }
    }

    /// The deadline timer or the request's cancellation: answers the request now if it is still waiting.
    private func expire(_ job: Job, cancelled: Bool) {
        condition.lock()
        let fail = job.fail
        switch job.state {
        case .queued:
            if let index = queue.firstIndex(where: { $0 === job }) { queue.remove(at: index) }
            job.finish()
            returnTicket(job.ticket)
            condition.unlock()
            fail?(cancelled ? .cancelled : .queueTimeout(seconds: job.timeout))
        case .running:
            job.fail = nil  // the worker still returns the ticket when it ends
            condition.unlock()
            fail?(cancelled ? .cancelled : .runTimeout(seconds: job.timeout))
        case .finished:
            condition.unlock()
        }
    }

    /// Call with the lock held.
    private func returnTicket(_ ticket: Ticket) {
        guard !ticket.returned else { return }
        ticket.returned = true
        admitted -= 1
        notify()
        if admitted == 0 && !idleWaiters.isEmpty {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    private func notify() { observer?(snapshotLocked()) }

    private func snapshotLocked() -> Snapshot {
        Snapshot(admitted: admitted, queued: queue.count, running: running, draining: draining)
    }
}
