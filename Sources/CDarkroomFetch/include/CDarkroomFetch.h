#ifndef CDARKROOM_FETCH_H
#define CDARKROOM_FETCH_H
// One HTTP(S) transfer with libcurl's easy API, for DarkroomFetch (Swift) to drive.
//
// libcurl is opened with dlopen on the first transfer, not linked: a program that links
// DarkroomFetch (the `darkroom` CLI) starts without loading libcurl and the ~30 libraries it
// pulls in (OpenSSL, GnuTLS, Kerberos, LDAP, ...), and pays for them only when it downloads.
// The header <curl/curl.h> is needed to build (Debian: libcurl4-openssl-dev); at run time
// libcurl.so.4 (libcurl4) or libcurl-gnutls.so.4 (libcurl3-gnutls).
//
// The policy (which URLs, which addresses, how many bytes) is the caller's: curl asks
// `allow_address` before it opens each socket, for every address of every redirect hop, and
// hands the body to `write`. Nothing in here reads the environment: no proxy, no .netrc.
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DR_FETCH_TEXT_LEN 256
#define DR_FETCH_URL_LEN 2048

/// What the caller asks for. Times are in milliseconds.
typedef struct {
    const char *url;
    /// Refuse a declared Content-Length over this many bytes at once (CURLOPT_MAXFILESIZE_LARGE); < 0: none.
    int64_t max_declared_bytes;
    long connect_timeout_ms;
    long total_timeout_ms;
    /// Give up when no byte (of headers or body) arrives for this long.
    long stall_timeout_ms;
    long max_redirects;
    /// NULL: no proxy, whatever the environment says (http_proxy, ALL_PROXY, ...).
    const char *proxy;
    void *context;
    /// 1: connect to this address; 0: refuse it (the socket is not opened).
    int (*allow_address)(void *context, const struct sockaddr *address, unsigned int length);
    /// Returns `length` to go on, anything else to stop the transfer.
    size_t (*write)(void *context, const char *data, size_t length);
} dr_fetch_request;

typedef enum {
    DR_FETCH_OK = 0,
    /// libcurl could not be loaded (`message` says why).
    DR_FETCH_UNAVAILABLE,
    /// `write` stopped the transfer.
    DR_FETCH_ABORTED,
    /// The declared Content-Length is over `max_declared_bytes`.
    DR_FETCH_DECLARED_TOO_LARGE,
    /// The server answered with a status >= 400 (`http_status`).
    DR_FETCH_HTTP_ERROR,
    DR_FETCH_TOO_MANY_REDIRECTS,
    /// A redirect to a scheme other than http or https.
    DR_FETCH_BAD_PROTOCOL,
    DR_FETCH_CONNECT_TIMEOUT,
    DR_FETCH_STALLED,
    DR_FETCH_TOTAL_TIMEOUT,
    /// No connection could be made (refused addresses, a closed port, no route, ...).
    DR_FETCH_COULD_NOT_CONNECT,
    /// Anything else: `curl_code` and `message`.
    DR_FETCH_FAILED,
} dr_fetch_status;

typedef struct {
    dr_fetch_status status;
    int curl_code;
    long http_status;
    long redirects;
    /// The Content-Length the last response declared, -1 when none (from the headers as they came).
    int64_t declared_length;
    /// curl's own words (CURLOPT_ERRORBUFFER) or the loader's.
    char message[DR_FETCH_TEXT_LEN];
    /// The URL of the last hop (CURLINFO_EFFECTIVE_URL), cut to fit.
    char last_url[DR_FETCH_URL_LEN];
} dr_fetch_outcome;

/// Runs one transfer; blocks the calling thread. Safe to call from several threads at once.
void dr_fetch_perform(const dr_fetch_request *request, dr_fetch_outcome *outcome);

/// The loaded libcurl's version, e.g. "7.88.1", or NULL when it cannot be loaded.
const char *dr_fetch_curl_version(void);

#endif
