import Darkroom
import Dispatch
import Hummingbird
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory freed by finished requests back to the system when the server goes quiet.
///
/// glibc keeps freed memory in its arenas (one per thread that allocated, up to 8 × cores): after
/// one large conversion (a 64 MP WebP output peaks at about 420 MB) an idle server stayed at that
/// size, and in a container that counts against the memory limit until the next burst. The soak
/// (scripts/soak.sh) showed the same for many small requests: with 4–7 MB of heap in use, 75–95 MB
/// was held free in the arenas (`darkroom_heap_free_held_bytes`), more after each phase, so RSS
/// looked like a leak where there was none.
///
/// ``QuietTrim`` counts the requests in flight (every route, proxied ones waiting on their
/// upstream included). When the count reaches zero and is still zero ``delay`` later (the last
/// answer's bytes are written by then, and a steady stream of requests is not slowed by trims
/// between them), it calls glibc's `malloc_trim(0)`, which returns every arena's free pages
/// (`madvise(MADV_DONTNEED)`): a walk over the free lists, a few milliseconds at most.
enum MemoryRelease {
    /// glibc's `malloc_trim`, looked up once (<malloc.h> is not in the Glibc module); nil elsewhere.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    static func trim() { _ = mallocTrim?(0) }

    /// glibc's `mallopt` parameters (<malloc.h>).
    private static let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3, arenaMax: Int32 = -8

    /// Fixed allocator thresholds for a long-running server (``DarkroomHTTPServer/configureAllocator()``).
    static func configureForServing() {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(mmapThreshold, 1 << 20)
        _ = mallopt(trimThreshold, 4 << 20)
        _ = mallopt(arenaMax, Int32(clamping: max(2, CPUBudget.cores())))
        #endif
    }

    /// The server's requests in flight, and the trim once they are none for ``delay``.
    final class QuietTrim: Sendable {
        /// How long the server must stay quiet before the trim: 250 ms.
        static let delay = DispatchTimeInterval.milliseconds(250)
        /// (requests in flight, how many times the count reached zero).
        private let state = NIOLockedValueBox((inFlight: 0, quietings: UInt64(0)))
        /// Trims done (tests).
        let trims = NIOLockedValueBox(0)

        func enter() { state.withLockedValue { $0.inFlight += 1 } }

        func leave() {
            let quieting: UInt64? = state.withLockedValue { value in
                value.inFlight -= 1
                guard value.inFlight == 0 else { return nil }
                value.quietings &+= 1
                return value.quietings
            }
            guard let quieting else { return }
            DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + Self.delay) { [self] in
                let stillQuiet = state.withLockedValue { $0.inFlight == 0 && $0.quietings == quieting }
                guard stillQuiet else { return }
                MemoryRelease.trim()
                trims.withLockedValue { $0 += 1 }
            }
        }
    }

    /// Counts every routed request in a ``QuietTrim``.
    struct Middleware<Context: RequestContext>: RouterMiddleware {
        let quiet: QuietTrim

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            quiet.enter()
            defer { quiet.leave() }
            return try await next(request, context)
        }
    }
}
