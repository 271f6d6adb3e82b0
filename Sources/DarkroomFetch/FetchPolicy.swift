/// The rules of one download: which URLs and addresses, how many bytes, how long.
///
/// The defaults are what `darkroom decode --download` uses; only ``maxBytes`` has none (the
/// caller's input limit). A policy is a value: build it once and share it between threads.
public struct FetchPolicy: Sendable, Equatable {
    /// The most bytes a body may have. A larger declared `Content-Length` is refused before any
    /// byte of the body is read, and a body without one is stopped one byte past this limit.
    public var maxBytes: Int
    /// Seconds to resolve the host and connect, per hop (default 30).
    public var connectTimeout: Double
    /// Seconds without a byte (of headers or body) before the download is given up (default
    /// 60); checked about once a second, so it may pass up to a second late.
    public var stallTimeout: Double
    /// Seconds for the whole download, redirects included (default 300).
    public var totalTimeout: Double
    /// Redirects followed at most (default 5); each hop is checked as the first one is.
    public var maxRedirects: Int
    /// A proxy URL to use (`"http://proxy.internal:3128"`); nil (the default): none, whatever
    /// `http_proxy`, `https_proxy` or `ALL_PROXY` say. With a proxy, the address checked is
    /// the proxy's (it must be listed in ``allowedPrivateAddresses`` when private), and the
    /// proxy, not this policy, decides where it connects: use only one that refuses private
    /// addresses itself.
    public var proxy: String?
    /// Addresses that may be connected to although ``IPAddress/kind`` refuses them, matched
    /// exactly (`IPAddress("127.0.0.1")` allows that address only, not `127.0.0.2` or `::1`).
    /// Empty by default, and never filled by the CLI: tests use it to reach a server on this
    /// machine. Never fill it from a request.
    public var allowedPrivateAddresses: Set<IPAddress>

    /// A policy with the default limits: 30 s to connect, 60 s without data, 300 s in all,
    /// 5 redirects, no proxy, no private address allowed.
    /// - Parameter maxBytes: the most bytes a body may have (at least 0).
    public init(maxBytes: Int, connectTimeout: Double = 30, stallTimeout: Double = 60, totalTimeout: Double = 300,
                maxRedirects: Int = 5, proxy: String? = nil, allowedPrivateAddresses: Set<IPAddress> = []) {
        self.maxBytes = max(0, maxBytes)
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.totalTimeout = totalTimeout
        self.maxRedirects = maxRedirects
        self.proxy = proxy
        self.allowedPrivateAddresses = allowedPrivateAddresses
    }

    /// The schemes a download may use, the first URL's and every redirect's.
    public static let schemes: Set<String> = ["http", "https"]

    /// Checks a URL before anything is fetched: no control characters, spaces or non-ASCII
    /// bytes, and an `http` or `https` scheme (any case).
    /// - Returns: the scheme, lowercased.
    /// - Throws: ``FetchError/invalidURL(url:reason:)``, ``FetchError/schemeNotAllowed(url:scheme:)``.
    public static func checkURL(_ url: String) throws(FetchError) -> String {
        if url.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) {
            throw .invalidURL(url: url, reason: "the URL holds control characters, spaces or non-ASCII bytes")
        }
        guard let colon = url.firstIndex(of: ":"), let first = url.first, first.isLetter,
              url[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
            throw .invalidURL(url: url, reason: "not a URL (no scheme)")
        }
        let scheme = url[..<colon].lowercased()
        guard schemes.contains(scheme) else { throw .schemeNotAllowed(url: url, scheme: scheme) }
        return scheme
    }

    /// Why this policy refuses to connect to `address`, or nil when it may.
    public func refusal(of address: IPAddress) -> AddressKind? {
        guard let kind = address.kind, !allowedPrivateAddresses.contains(address) else { return nil }
        return kind
    }
}
