import Darkroom
import DarkroomFetch
import Foundation
import Testing

/// Downloads against a server on this machine. Loopback is refused by default, so each test
/// allows exactly the addresses it needs (``FetchPolicy/allowedPrivateAddresses``) and shows
/// both sides: what is allowed is fetched, what is not is refused before a request is sent.
@Suite(.serialized) struct FetcherTests {
    static let v4 = IPAddress("127.0.0.1")!
    static let v6 = IPAddress("::1")!
    static let png = GatewayFixtures.redPixelPNG

    func fetcher(_ maxBytes: Int = 100_000, allow: Set<IPAddress> = [v4], _ change: (inout FetchPolicy) -> Void = { _ in }) -> Fetcher {
        var policy = FetchPolicy(maxBytes: maxBytes, connectTimeout: 5, stallTimeout: 5, totalTimeout: 20, allowedPrivateAddresses: allow)
        change(&policy)
        return Fetcher(policy: policy)
    }

    /// The FetchError `body` throws, nil when it returns (any other error fails the test).
    func error(_ body: () throws -> FetchResult) -> FetchError? {
        do { _ = try body(); return nil } catch let error as FetchError { return error } catch {
            Issue.record("not a FetchError: \(error)")
            return nil
        }
    }

    @Test func fetchesAnAllowedAddressAndRefusesTheSameServerOtherwise() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let result = try fetcher().fetch("\(base)/small.png")
        #expect(result.bytes == Self.png && result.format == .png && result.redirects == 0)
        #expect(server.paths == ["/small.png"])

        // The default policy: loopback refused, nothing sent.
        let refused = error { try Fetcher(policy: FetchPolicy(maxBytes: 100_000)).fetch("\(base)/small.png") }
        #expect(refused == .addressRefused(url: "\(base)/small.png", hop: nil, address: Self.v4, kind: .loopback))
        #expect(refused?.message == "\(base)/small.png: refused: 127.0.0.1 is a loopback address (downloads may not reach "
                + "private, loopback, link-local or metadata addresses)")
        #expect(server.paths == ["/small.png"])
    }

    @Test func ipv6LoopbackAndLocalhostAreRefusedUnlessAllowed() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let v6 = "http://[::1]:\(server.port)/small.png"
        let localhost = "http://localhost:\(server.port)/small.png"
        #expect(error { try fetcher(allow: [Self.v4]).fetch(v6) } == .addressRefused(url: v6, hop: nil, address: Self.v6, kind: .loopback))
        let byName = error { try fetcher(allow: []).fetch(localhost) }
        guard case let .addressRefused(url, nil, address, .loopback)? = byName else {
            Issue.record("localhost: \(String(describing: byName))")
            return
        }
        #expect(url == localhost && [Self.v4, Self.v6].contains(address))
        #expect(server.paths.isEmpty)
        // Allowed, the same URLs are fetched (so the refusals above came from the policy).
        #expect(try fetcher(allow: [Self.v6]).fetch(v6).bytes == Self.png)
        #expect(try fetcher(allow: [Self.v4, Self.v6]).fetch(localhost).bytes == Self.png)
        #expect(server.paths == ["/small.png", "/small.png"])
        // localhost is ::1 and 127.0.0.1: with only 127.0.0.1 allowed, ::1 is skipped and the
        // download goes on there; that connection's own answer is reported (404), not the refusal.
        #expect(try fetcher(allow: [Self.v4]).fetch(localhost).bytes == Self.png)
        let missing = "http://localhost:\(server.port)/missing.png"
        #expect(error { try fetcher(allow: [Self.v4]).fetch(missing) } == .httpStatus(url: missing, status: 404))
        #expect(server.paths == ["/small.png", "/small.png", "/small.png", "/missing.png"])
    }

    @Test func theMetadataAddressIsRefusedBeforeConnecting() throws {
        let url = "http://169.254.169.254/latest/meta-data/"
        let metadata = try #require(IPAddress("169.254.169.254"))
        let started = Date()
        #expect(error { try fetcher(allow: []).fetch(url) } == .addressRefused(url: url, hop: nil, address: metadata, kind: .metadata))
        #expect(Date().timeIntervalSince(started) < 2)
        // Allowed, it is tried (and fails some other way here: nothing answers there).
        let tried = error { try fetcher(allow: [metadata]) { $0.connectTimeout = 0.5; $0.totalTimeout = 1 }.fetch(url) }
        if case .addressRefused? = tried { Issue.record("allowed but refused: \(String(describing: tried))") }
        #expect(tried != nil)
    }

    @Test func schemesOtherThanHTTPAreRefusedUpFront() {
        for (url, scheme) in [("file:///etc/hostname", "file"), ("ftp://127.0.0.1/x", "ftp"), ("gopher://127.0.0.1:70/_GET", "gopher"),
                              ("dict://127.0.0.1:11211/stat", "dict")] {
            #expect(error { try fetcher().fetch(url) } == .schemeNotAllowed(url: url, scheme: scheme))
        }
    }

    /// Every redirect hop is checked as the first URL is: a server this policy allows redirects
    /// to a loopback address it does not allow (127.0.0.2, ::1), and that hop is never requested.
    @Test func eachRedirectHopIsChecked() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        // Allowed hop: followed.
        let ok = try fetcher().fetch("\(base)/redirect?to=\(base)/small.png")
        #expect(ok.bytes == Self.png && ok.redirects == 1)
        for (target, address) in [("http://127.0.0.2:\(server.port)/small.png", "127.0.0.2"), ("http://[::1]:\(server.port)/small.png", "::1"),
                                  ("http://169.254.169.254/latest/meta-data/", "169.254.169.254")] {
            let url = "\(base)/redirect?to=\(target)"
            let failure = error { try fetcher().fetch(url) }
            let ip = try #require(IPAddress(address))
            #expect(failure == .addressRefused(url: url, hop: target, address: ip, kind: ip.kind!), "\(target)")
            #expect(failure?.message.contains("redirected to \(target), \(address) is ") == true, "\(String(describing: failure))")
        }
        #expect(server.paths.filter { $0 == "/small.png" }.count == 1)
        // Redirects to other schemes are refused too.
        let toFile = "\(base)/redirect?to=file:///etc/hostname"
        guard case .redirectSchemeNotAllowed(toFile, _)? = error({ try fetcher().fetch(toFile) }) else {
            Issue.record("redirect to file:// was not refused as such")
            return
        }
    }

    @Test func atMostFiveRedirects() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        #expect(try fetcher().fetch("\(base)/chain/4").redirects == 5)
        #expect(error { try fetcher().fetch("\(base)/chain/5") } == .tooManyRedirects(url: "\(base)/chain/5", limit: 5))
        #expect(error { try fetcher { $0.maxRedirects = 0 }.fetch("\(base)/chain/0") } == .tooManyRedirects(url: "\(base)/chain/0", limit: 0))
    }

    /// The byte cap: exactly `maxBytes` passes; one byte less is refused, from the declared
    /// length when there is one, else one byte past the cap.
    @Test func bodiesAreCapped() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let n = Self.png.count
        #expect(try fetcher(n).fetch("\(base)/small.png").bytes == Self.png)
        #expect(try fetcher(n).fetch("\(base)/nolen.png").bytes == Self.png)
        #expect(error { try fetcher(n - 1).fetch("\(base)/small.png") } == .tooLarge(url: "\(base)/small.png", limit: n - 1, declared: n))
        #expect(error { try fetcher(n - 1).fetch("\(base)/nolen.png") } == .tooLarge(url: "\(base)/nolen.png", limit: n - 1, declared: nil))
        let big = error { try fetcher(100_000).fetch("\(base)/big") }
        #expect(big == .tooLarge(url: "\(base)/big", limit: 100_000, declared: nil))
        #expect(big?.message == "\(base)/big: more than 100000 bytes, over the download limit of 100000 bytes")
        // A declared oversize length is refused at once (the server sends only 8 bytes and waits for nothing).
        let declared = error { try fetcher(100_000).fetch("\(base)/declared") }
        #expect(declared == .tooLarge(url: "\(base)/declared", limit: 100_000, declared: 10_000_000))
        #expect(declared?.message == "\(base)/declared: declares 10000000 bytes, over the download limit of 100000 bytes")
    }

    @Test func nonImagesAreRefusedNamingTheURL() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        for path in ["/text", "/short-text"] {
            let failure = error { try fetcher().fetch(base + path) }
            #expect(failure == .notAnImage(url: base + path))
            #expect(failure?.message == "\(base)\(path): not a PNG, JPEG, WebP, AVIF or GIF image")
        }
    }

    @Test func httpErrorsCarryTheStatus() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/missing.png"
        let failure = error { try fetcher().fetch(url) }
        #expect(failure == .httpStatus(url: url, status: 404))
        #expect(failure?.message == "\(url): HTTP 404")
    }

    /// A server that stops sending is given up after the stall limit; one that trickles a byte
    /// every 200 ms (never stalls) after the total limit.
    @Test func stallsAndSlowBodiesTimeOut() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        var started = Date()
        let stalled = error { try fetcher { $0.stallTimeout = 1; $0.totalTimeout = 20 }.fetch("\(base)/stall") }
        #expect(stalled == .timedOut(url: "\(base)/stall", limit: .stall, seconds: 1))
        #expect(stalled?.message == "\(base)/stall: timed out: no data for 1 s")
        #expect(Date().timeIntervalSince(started) < 4.5)

        started = Date()
        let slow = error { try fetcher { $0.stallTimeout = 5; $0.totalTimeout = 1.5 }.fetch("\(base)/drip") }
        #expect(slow == .timedOut(url: "\(base)/drip", limit: .total, seconds: 1.5))
        #expect(slow?.message == "\(base)/drip: timed out: not complete within 1.5 s")
        #expect(Date().timeIntervalSince(started) < 4.5)
    }

    /// An explicit proxy is used, and its address is the one checked (the environment's
    /// proxies are not: FetchCLITests, in a child process with its own environment).
    @Test func anExplicitProxyIsUsedAndChecked() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let proxy = "http://127.0.0.1:\(server.port)"
        // The test server answers a proxy request for another host's URL with 404 (its path is
        // the whole URL): it was asked, so the proxy was used.
        let url = "http://192.0.2.1/x.png"
        #expect(error { try fetcher { $0.proxy = proxy }.fetch(url) } == .httpStatus(url: url, status: 404))
        #expect(server.paths == [url])
        // The proxy's own address must be allowed: here it is not.
        #expect(error { try fetcher(allow: []) { $0.proxy = proxy }.fetch(url) }
                == .addressRefused(url: url, hop: nil, address: Self.v4, kind: .loopback))
        #expect(server.paths == [url])
    }

    @Test func concurrentFetchesAreIndependent() async throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let f = fetcher()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask { i % 2 == 0 ? try f.fetch("\(base)/small.png").bytes == Self.png
                                           : (try? f.fetch("\(base)/text")) == nil }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 8 && results.allSatisfy { $0 })
    }
}
