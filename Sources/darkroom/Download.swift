import Darkroom
import DarkroomFetch

/// `decode --download` for http(s) URLs, through ``Fetcher`` (DarkroomFetch): http(s) only, for
/// the URL and every redirect (5 at most); never to a private, loopback, link-local or metadata
/// address (each address checked is the one connected to); at most `limit` bytes
/// (`--max-input-bytes`: a larger declared length is refused at once, a body without one is
/// stopped one byte past the limit); 30 s to connect, 60 s without data, 300 s in all; the body
/// must start like an image. libcurl is loaded on the first download, so the CLI's start-up
/// (`--help` included) does not load it.
enum Download {
    static func fetch(_ url: String, index: Int, limit: Int) throws -> [UInt8] {
        do {
            return try Fetcher(policy: FetchPolicy(maxBytes: limit)).fetch(url).bytes
        } catch let .tooLarge(_, limit, declared) {
            // The input limit's own words, which name --max-input-bytes.
            throw GatewayError.badItem(index: index, reason: DarkroomError.file(.inputTooLarge(path: url, size: declared, limit: limit))
                .message(for: .commandLine))
        } catch {
            throw GatewayError.badItem(index: index, reason: "download failed: \(error.message)")
        }
    }
}
