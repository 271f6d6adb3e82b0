#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory freed by finished conversions back to the system when the pool goes idle.
///
/// glibc keeps freed memory in its arenas (one per thread that allocated, up to 8 × cores): after
/// one large conversion (a 64 MP WebP output peaks at about 420 MB) an idle server stayed at that
/// size, and in a container that counts against the memory limit until the next burst. When the
/// last running job ends and none waits, ``trim()`` calls glibc's `malloc_trim(0)`, which returns
/// every arena's free pages (`madvise(MADV_DONTNEED)`). It costs a walk over the arenas' free
/// lists, a few milliseconds at most, and runs only when no request is being converted.
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
}
