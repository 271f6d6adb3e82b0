import Foundation
import Hummingbird
import NIOCore

/// Request bodies being read at once, bounded: a conversion takes its worker-pool slot only once
/// its whole body is in, so what bounds the bodies still arriving (and the memory they hold) is
/// this gate. Beyond `limit` uploads at once the answer is 503 with `Retry-After` before the body is
/// read.
public final class UploadGate: @unchecked Sendable {
    /// Most bodies read at once.
    public let limit: Int
    private let lock = NSLock()
    private var count = 0

    /// A gate of `limit` places (at least 1).
    public init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a place, or false when all `limit` are taken.
    public func enter() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard count < limit else { return false }
        count += 1
        return true
    }

    /// Gives a place back.
    public func leave() {
        lock.lock()
        count -= 1
        lock.unlock()
    }

    /// Bodies being read now.
    public var current: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// Why a body could not be read in full.
enum BodyReadError: Error, Equatable {
    /// More than `limit` bytes arrived.
    case tooLarge(limit: Int)
    /// The whole body had not arrived by the request's deadline (`seconds` after it arrived).
    case timeout(seconds: Double)
    /// Fewer than `rate` bytes per second arrived over the last ``BodyReader/rateWindow``.
    case tooSlow(rate: Int, received: Int)
    /// The connection ended before the body did.
    case clientClosed
    /// The HTTP parser refused what followed the head (a bad chunk size, …).
    case malformed(String)
}

/// The connection ended before the declared body did (thrown by the channel's body sequence).
struct ClientClosedBody: Error {}

/// Reads a request body whole, bounded in bytes, in time and in rate.
///
/// A body must be in by `deadline` (the request's time limit counts from its arrival), and once
/// ``rateWindow`` has passed, every window of that length must have brought at least
/// `minimumRate` × window bytes, so an upload that trickles (eight clients at 10 B/s) or stalls
/// is ended within seconds, not at the deadline. The reader and a watchdog race in a task group;
/// the loser is cancelled, which ends the read of the connection's inbound stream.
enum BodyReader {
    /// The span over which the minimum rate is measured, and the grace before it applies.
    static let rateWindow: Duration = .seconds(4)
    /// How often the watchdog looks.
    static let tick: Duration = .milliseconds(100)

    static func read(_ body: RequestBody, limit: Int, deadline: ContinuousClock.Instant, timeout: Double,
                     minimumRate: Int) async throws(BodyReadError) -> [UInt8] {
        let progress = Progress()
        do {
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var out: [UInt8] = []
                    for try await chunk in body {
                        guard out.count + chunk.readableBytes <= limit else { throw BodyReadError.tooLarge(limit: limit) }
                        out.append(contentsOf: chunk.readableBytesView)
                        progress.add(chunk.readableBytes)
                    }
                    return out
                }
                group.addTask {
                    let clock = ContinuousClock()
                    let start = clock.now
                    var samples: [(ContinuousClock.Instant, Int)] = [(start, 0)]
                    while true {
                        try await Task.sleep(for: tick)
                        let now = clock.now
                        if now >= deadline { throw BodyReadError.timeout(seconds: timeout) }
                        let received = progress.bytes
                        samples.append((now, received))
                        // The oldest sample still at least a window back.
                        guard minimumRate > 0, now - start >= rateWindow else { continue }
                        while samples.count > 1, now - samples[1].0 >= rateWindow { samples.removeFirst() }
                        let (then, before) = samples[0]
                        let seconds = Double((now - then).components.seconds) + Double((now - then).components.attoseconds) / 1e18
                        if Double(received - before) < Double(minimumRate) * seconds {
                            throw BodyReadError.tooSlow(rate: minimumRate, received: received)
                        }
                    }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let bytes = first else {
                    throw BodyReadError.timeout(seconds: timeout)
                }
                return bytes
            }
        } catch let error as BodyReadError {
            throw error
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw .tooLarge(limit: limit)
        } catch let error as DarkroomHTTP1Channel.MalformedRequest {
            throw .malformed(error.reason)
        } catch {
            // The connection ended (or failed) before the declared body did.
            throw .clientClosed
        }
    }

    /// Bytes read so far, shared by the reader and the watchdog.
    private final class Progress: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0

        func add(_ n: Int) {
            lock.lock()
            count += n
            lock.unlock()
        }

        var bytes: Int {
            lock.lock()
            defer { lock.unlock() }
            return count
        }
    }
}
