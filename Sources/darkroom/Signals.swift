import Darkroom
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM: remove the temporary files being written, then exit 130 or 143.
///
/// The signals are blocked in every thread (threads inherit the mask from the main thread) and
/// one thread waits for them with `sigwait`, so the clean-up runs as ordinary code, not in a
/// signal handler. Finished outputs are complete (they were renamed into place after `fsync`);
/// unfinished ones never appear.
enum Signals {
    /// A signal the parent set to be ignored (e.g. SIGINT for `cmd &` in a script) stays ignored.
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGINT, SIGTERM] {
            var current = sigaction()
            sigaction(signal, nil, &current)
            let ignored = current.__sigaction_handler.sa_handler.map { unsafeBitCast($0, to: Int.self) == 1 } ?? false  // SIG_IGN
            if !ignored { sigaddset(&set, signal) }
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        waitSet = set
        // A plain pthread (no Foundation `Thread`): it only waits, then exits the process.
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_create(&thread, &attributes, { _ in
            Signals.waitAndExit()
        }, nil)
        pthread_attr_destroy(&attributes)
    }

    /// The signals the waiting thread waits for (written once, before it starts).
    nonisolated(unsafe) private static var waitSet = sigset_t()

    private static let hookLock = Lock()
    nonisolated(unsafe) private static var hook: ((Int32) -> Void)?

    /// What to do on SIGINT/SIGTERM after the temporaries are removed (a batch prints its
    /// summary and closes its report); nil: a plain "interrupted" line.
    static func onInterrupt(_ body: ((Int32) -> Void)?) {
        hookLock.withLock { hook = body }
    }

    private static func waitAndExit() -> Never {
        var set = waitSet
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 || (received != SIGINT && received != SIGTERM) {}
        OutputFile.removeTemporaries()
        if let body = hookLock.withLock({ hook }) {
            StandardStreams.err("\n")
            body(received)
        } else {
            StandardStreams.err("\ndarkroom: interrupted (\(received == SIGINT ? "SIGINT" : "SIGTERM"))\n")
        }
        _exit(received == SIGINT ? ExitStatus.interrupted : ExitStatus.terminated)
    }
}
