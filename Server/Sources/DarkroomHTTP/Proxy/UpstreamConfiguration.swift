import Darkroom
import DarkroomFetch
import Foundation

/// Proxy mode's settings (`darkroom-server --upstream URL`): where `POST /v1/images/generations`
/// and `/v1/images/edits` are forwarded, how long the upstream may take, how large its answer and
/// each result image may be, and whether result URLs on this machine may be fetched (tests only).
public struct UpstreamConfiguration: Sendable, Equatable {
    /// The upstream's OpenAI-compatible base URL, without a trailing `/`
    /// (`https://api.openai.com/v1`): `/images/generations` and `/images/edits` are appended.
    public var baseURL: String
    /// Seconds the upstream has to answer (its whole answer, body included), and the longest a
    /// result URL's download may take. Separate from `--request-timeout`, which bounds the body
    /// upload and each conversion.
    public var timeout: Double
    /// Largest upstream answer in bytes (its JSON, `b64_json` images included), and largest image
    /// downloaded from a result `url`.
    public var maxBytes: Int
    /// Result URLs may be fetched from 127.0.0.1 and ::1 (never any other private, link-local or
    /// metadata address). For tests with a stub upstream on loopback only.
    public var allowLoopbackResults: Bool
    /// Result URLs downloaded at once by the whole server (each download blocks a thread: libcurl).
    public var maxConcurrentFetches: Int

    /// Seconds: above 0 up to a day.
    public static let maxTimeout = 86_400.0
    /// 300 s: image generation takes tens of seconds to minutes.
    public static let defaultTimeout = 300.0
    /// 128 MiB: ten 4 MP PNGs as base64 JSON fit.
    public static let defaultMaxBytes = 128 << 20
    /// Bytes: 1 KiB to 2^40.
    public static let maxBytesRange = 1024...Limits.maxByteCount

    /// Throws ``DarkroomError/option(_:)`` for a URL that is not an absolute http(s) URL with a
    /// host (no user info, query or fragment), a timeout outside (0, 86400] or a byte count
    /// outside ``maxBytesRange``.
    public init(url: String, timeout: Double = UpstreamConfiguration.defaultTimeout,
                maxBytes: Int = UpstreamConfiguration.defaultMaxBytes, allowLoopbackResults: Bool = false,
                maxConcurrentFetches: Int = 8) throws(DarkroomError) {
        baseURL = try Self.parseURL(url)
        guard timeout.isFinite, timeout > 0, timeout <= Self.maxTimeout else {
            throw .option(OptionError(name: "upstream-timeout", value: "\(timeout)",
                                      expected: "a number above 0 up to \(Int(Self.maxTimeout)) seconds"))
        }
        try ValueParser.check(maxBytes, name: "upstream-max-bytes", in: Self.maxBytesRange)
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.allowLoopbackResults = allowLoopbackResults
        self.maxConcurrentFetches = max(1, maxConcurrentFetches)
    }

    /// The one parser of `--upstream`: an absolute `http` or `https` URL with a host and an
    /// optional port and path; no user info (send credentials in the client's `Authorization`),
    /// query or fragment. Returns it without a trailing `/`.
    public static func parseURL(_ text: String) throws(DarkroomError) -> String {
        func refuse(_ why: String) -> DarkroomError {
            .option(OptionError(name: "upstream", value: ValueParser.printable(text, maxLength: 200),
                                expected: "an http or https base URL such as https://api.openai.com/v1 (\(why))"))
        }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else { throw refuse("no spaces or control characters") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else { throw refuse("the scheme must be http or https") }
        guard let host = components.host, !host.isEmpty else { throw refuse("no host") }
        guard components.user == nil, components.password == nil else { throw refuse("no user info: the client's Authorization is forwarded") }
        guard components.query == nil, components.fragment == nil else { throw refuse("no query or fragment") }
        if let port = components.port, !(1...65_535).contains(port) { throw refuse("port 1 to 65535") }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The policy result URLs are downloaded under: at most ``maxBytes``, 10 s to connect, 30 s
    /// without data, ``timeout`` in all, 5 redirects each checked, no proxy, loopback only with
    /// ``allowLoopbackResults``.
    var fetchPolicy: FetchPolicy {
        FetchPolicy(maxBytes: maxBytes, connectTimeout: min(10, timeout), stallTimeout: min(30, timeout), totalTimeout: timeout,
                    maxRedirects: 5, proxy: nil,
                    allowedPrivateAddresses: allowLoopbackResults ? [IPAddress("127.0.0.1")!, IPAddress("::1")!] : [])
    }
}
