#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Small replacements for full-Foundation helpers, so that the library (and the CLI) link only
// FoundationEssentials: no ICU, no libcurl. `package`: shared with the CLI, not public API.

/// A pthread mutex (what `NSLock` wraps). Usable from a signal-handling thread.
package final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A mutex with a condition variable: `wait(until:)` sleeps until another thread changes the
/// guarded state and calls `broadcast()`.
package final class Condition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    package func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Holding the mutex, waits until `ready()` is true, then runs `body`.
    package func wait<T>(until ready: () -> Bool, then body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready() { pthread_cond_wait(cond, mutex) }
        return body()
    }

    /// Wakes every waiter (call after changing the guarded state under ``locked(_:)``).
    package func broadcast() { pthread_cond_broadcast(cond) }
}

/// A joinable thread of its own (not a Dispatch pool thread), with every signal blocked: for
/// work that another thread waits on, so it can never starve behind the waiting threads in a
/// shared pool. `nil` if the system refuses a thread (the caller then does the work itself).
package func startJoinableThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    #else
    var thread = pthread_t()
    #endif
    // Signals go to the process's own signal thread (the CLI's `Signals`), never to a worker.
    var all = sigset_t(), previous = sigset_t()
    sigfillset(&all)
    pthread_sigmask(SIG_BLOCK, &all, &previous)
    let rc = pthread_create(&thread, nil, { context in
        #if canImport(Darwin)
        let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
        #else
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        #endif
        box.body()
        return nil
    }, context)
    pthread_sigmask(SIG_SETMASK, &previous, nil)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return nil
    }
    return thread
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs: what `trimmingCharacters(in: .whitespaces)`
    /// does (Unicode space separators, category Zs, and U+0009).
    package func trimmingSpaces() -> String {
        func isSpace(_ u: Unicode.Scalar) -> Bool { u == "\t" || u.properties.generalCategory == .spaceSeparator }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        var trimmed = String.UnicodeScalarView()
        trimmed.append(contentsOf: scalars[first...last])
        return String(trimmed)
    }
}

/// Path helpers with `NSString`'s results for the cases Darkroom meets (plain string work).
package enum PathText {
    /// `dir/name`: no slash added after an empty `dir` or one that ends in `/`.
    package static func join(_ dir: String, _ name: String) -> String {
        if dir.isEmpty { return name }
        if name.isEmpty { return dir }
        return dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// The part after the last `/` (trailing slashes ignored), as `lastPathComponent`.
    /// The file name of `path` without its folder and its extension — the one rule every output
    /// name starts from: `shots/photo.jpeg` → `photo`, `.hidden` → `.hidden`, `a.b.png` → `a.b`;
    /// standard input (`-`) and an empty name are `stdin`.
    package static func stem(_ path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var stem = base
        if let dot = base.lastIndex(of: "."), dot != base.startIndex { stem = String(base[..<dot]) }
        return stem.isEmpty || stem == "-" ? "stdin" : stem
    }

    package static func lastComponent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        if p == "/" { return "/" }
        if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
        return String(p)
    }

    /// The extension of the last component, without the dot ("" when none), as `pathExtension`.
    package static func pathExtension(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        let ext = name[name.index(after: dot)...]
        if ext.isEmpty || ext.contains(" ") { return "" }
        return String(ext)
    }

    /// `path` without the last component's extension, as `deletingPathExtension`.
    package static func deletingExtension(_ path: String) -> String {
        let ext = pathExtension(path)
        guard !ext.isEmpty else { return path }
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p.dropLast(ext.count + 1))
    }
}
