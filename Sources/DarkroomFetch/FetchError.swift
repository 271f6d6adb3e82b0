/// Why a download failed. Every case but ``unavailable(reason:)`` names the URL asked for;
/// ``message`` is one line for a person, starting with that URL.
public enum FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is malformed or holds bytes a URL may not (control characters, spaces).
    case invalidURL(url: String, reason: String)
    /// The URL's scheme is not http or https (`scheme` lowercased: `"file"`, `"ftp"`, …).
    case schemeNotAllowed(url: String, scheme: String)
    /// A hop would connect to an address the policy refuses. `hop` is the URL of that hop when
    /// it is a redirect, nil for the URL asked for.
    case addressRefused(url: String, hop: String?, address: IPAddress, kind: AddressKind)
    /// The body is larger than `limit` bytes: `declared` is the `Content-Length` when the server
    /// announced one (refused before the body was read), nil when it was stopped past the limit.
    case tooLarge(url: String, limit: Int, declared: Int?)
    /// The body's first bytes are not a PNG, JPEG, WebP, AVIF or GIF image.
    case notAnImage(url: String)
    /// The server answered with this status (400 or more).
    case httpStatus(url: String, status: Int)
    /// More than `limit` redirects.
    case tooManyRedirects(url: String, limit: Int)
    /// A redirect to a scheme other than http(s) (`hop` as curl reports it).
    case redirectSchemeNotAllowed(url: String, hop: String)
    /// A time limit passed: `seconds` is that limit.
    case timedOut(url: String, limit: TimeLimit, seconds: Double)
    /// Any other failure (name resolution, TLS, a refused connection, a cut transfer): libcurl's words.
    case failed(url: String, reason: String)
    /// libcurl cannot be loaded on this machine.
    case unavailable(reason: String)

    /// Which time limit of ``FetchPolicy`` passed.
    public enum TimeLimit: String, Sendable {
        /// ``FetchPolicy/connectTimeout``.
        case connect
        /// ``FetchPolicy/stallTimeout``.
        case stall
        /// ``FetchPolicy/totalTimeout``.
        case total
    }

    /// The URL asked for; nil for ``unavailable(reason:)``.
    public var url: String? {
        switch self {
        case let .invalidURL(url, _), let .schemeNotAllowed(url, _), let .addressRefused(url, _, _, _),
             let .tooLarge(url, _, _), let .notAnImage(url), let .httpStatus(url, _), let .tooManyRedirects(url, _),
             let .redirectSchemeNotAllowed(url, _), let .timedOut(url, _, _), let .failed(url, _):
            url
        case .unavailable: nil
        }
    }

    /// The reason without the URL: "HTTP 404", "refused: 127.0.0.1 is a loopback address (…)".
    public var reason: String {
        switch self {
        case let .invalidURL(_, reason): return reason
        case let .schemeNotAllowed(_, scheme):
            return "refused: only http and https URLs are downloaded, not \(scheme)"
        case let .addressRefused(_, hop, address, kind):
            let redirect = hop.map { "redirected to \($0), " } ?? ""
            return "refused: \(redirect)\(address) is \(kind.phrase) (downloads may not reach private, loopback, "
                + "link-local or metadata addresses)"
        case let .tooLarge(_, limit, declared?):
            return "declares \(declared) bytes, over the download limit of \(limit) bytes"
        case let .tooLarge(_, limit, nil):
            return "more than \(limit) bytes, over the download limit of \(limit) bytes"
        case .notAnImage:
            return "not a PNG, JPEG, WebP, AVIF or GIF image"
        case let .httpStatus(_, status):
            return "HTTP \(status)"
        case let .tooManyRedirects(_, limit):
            return "more than \(limit) redirects"
        case let .redirectSchemeNotAllowed(_, hop):
            return "refused: redirected to \(hop), only http and https URLs are downloaded"
        case let .timedOut(_, limit, seconds):
            let s = seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
            switch limit {
            case .connect: return "timed out: no connection within \(s) s"
            case .stall: return "timed out: no data for \(s) s"
            case .total: return "timed out: not complete within \(s) s"
            }
        case let .failed(_, reason), let .unavailable(reason):
            return reason
        }
    }

    /// One line: "URL: reason" (the reason alone for ``unavailable(reason:)``).
    public var message: String { url.map { "\($0): \(reason)" } ?? reason }

    /// ``message``.
    public var description: String { message }
}
