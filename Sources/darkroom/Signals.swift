import Darkroom
import Foundation
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
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let waitSet = set
        let waiter = Thread {
            var set = waitSet
            var received: Int32 = 0
            while sigwait(&set, &received) != 0 || (received != SIGINT && received != SIGTERM) {}
            OutputFile.removeTemporaries()
            StandardStreams.err("\ndarkroom: interrupted (\(received == SIGINT ? "SIGINT" : "SIGTERM"))\n")
            _exit(128 + received)
        }
        waiter.name = "darkroom-signals"
        waiter.start()
    }
}
