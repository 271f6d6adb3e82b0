// One transfer with libcurl's easy API; see CDarkroomFetch.h. libcurl is opened with dlopen so
// that linking this target costs a program nothing until it downloads.
#define CURL_DISABLE_DEPRECATION 1
#include "CDarkroomFetch.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *handle);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    curl_version_info_data *(*version_info)(CURLversion age);
} curl_functions;

static curl_functions curl;
static char load_error[DR_FETCH_TEXT_LEN];
static int loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
#if defined(__APPLE__)
    static const char *const names[] = {"libcurl.4.dylib", "/usr/lib/libcurl.4.dylib", NULL};
#else
    static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so", NULL};
#endif
    void *library = NULL;
    for (int i = 0; names[i] && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "libcurl is needed for http(s) downloads and cannot be loaded (%s; "
                 "Debian: apt install libcurl4)", why ? why : "not found");
        return;
    }
#define SYMBOL(field, name)                                                                      \
    if (!(*(void **)&curl.field = dlsym(library, name))) {                                       \
        snprintf(load_error, sizeof load_error, "the loaded libcurl has no %s", name);          \
        return;                                                                                  \
    }
    SYMBOL(global_init, "curl_global_init")
    SYMBOL(easy_init, "curl_easy_init")
    SYMBOL(easy_setopt, "curl_easy_setopt")
    SYMBOL(easy_perform, "curl_easy_perform")
    SYMBOL(easy_getinfo, "curl_easy_getinfo")
    SYMBOL(easy_cleanup, "curl_easy_cleanup")
    SYMBOL(easy_strerror, "curl_easy_strerror")
    SYMBOL(version_info, "curl_version_info")
#undef SYMBOL
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "libcurl could not be initialised");
        return;
    }
    loaded = 1;
}

static int ensure_loaded(void) {
    pthread_once(&load_once, load);
    return loaded;
}

const char *dr_fetch_curl_version(void) {
    if (!ensure_loaded()) return NULL;
    return curl.version_info(CURLVERSION_NOW)->version;
}

// One transfer's own state, for the callbacks below.
typedef struct {
    const dr_fetch_request *request;
    long long last_activity_ms;  // when the last byte arrived (or the transfer started)
    int stalled;
    int64_t declared_length;
} transfer_state;

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t write_body(char *data, size_t size, size_t count, void *clientp) {
    transfer_state *state = clientp;
    state->last_activity_ms = now_ms();
    return state->request->write(state->request->context, data, size * count);
}

// Each header line of each response: a status line starts a new response (a redirect's
// Content-Length is not the last one's); Content-Length is kept to report a refused size.
static size_t header_line(char *data, size_t size, size_t count, void *clientp) {
    transfer_state *state = clientp;
    size_t length = size * count;
    state->last_activity_ms = now_ms();
    static const char name[] = "content-length:";
    if (length >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        state->declared_length = -1;
    } else if (length > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        int64_t value = 0;
        size_t i = sizeof name - 1;
        while (i < length && (data[i] == ' ' || data[i] == '\t')) i++;
        int digits = 0;
        for (; i < length && data[i] >= '0' && data[i] <= '9' && value < INT64_MAX / 10 - 10; i++, digits++)
            value = value * 10 + (data[i] - '0');
        if (digits) state->declared_length = value;
    }
    return length;
}

// Called about once a second even while nothing arrives: gives up after the stall limit
// (libcurl's own CURLOPT_LOW_SPEED_* averages over several seconds, so it fires late).
static int progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    transfer_state *state = clientp;
    if (now_ms() - state->last_activity_ms > state->request->stall_timeout_ms) {
        state->stalled = 1;
        return 1;
    }
    return 0;
}

// Every socket curl opens, for every address of every hop, is vetted here first: the address
// checked is the address connected to (no second name lookup in between).
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address) {
    const dr_fetch_request *request = ((transfer_state *)clientp)->request;
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    if (!request->allow_address(request->context, &address->addr, address->addrlen)) return CURL_SOCKET_BAD;
#ifdef SOCK_CLOEXEC
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
#else
    return socket(address->family, address->socktype, address->protocol);
#endif
}

static void copy_text(char *destination, const char *source) {
    snprintf(destination, DR_FETCH_TEXT_LEN, "%s", source ? source : "");
}

void dr_fetch_perform(const dr_fetch_request *request, dr_fetch_outcome *outcome) {
    memset(outcome, 0, sizeof *outcome);
    if (!ensure_loaded()) {
        outcome->status = DR_FETCH_UNAVAILABLE;
        copy_text(outcome->message, load_error);
        return;
    }
    CURL *handle = curl.easy_init();
    if (!handle) {
        outcome->status = DR_FETCH_FAILED;
        copy_text(outcome->message, "libcurl could not make a handle");
        return;
    }
    transfer_state state = {request, now_ms(), 0, -1};
    long stall_seconds = (request->stall_timeout_ms + 999) / 1000;
    char error[CURL_ERROR_SIZE];
    error[0] = 0;
    CURLcode (*const set)(CURL *, CURLoption, ...) = curl.easy_setopt;
    set(handle, CURLOPT_ERRORBUFFER, error);
    set(handle, CURLOPT_URL, request->url);
    set(handle, CURLOPT_NOSIGNAL, 1L);
    // http and https only, the first URL and every redirect (CURLOPT_PROTOCOLS_STR: libcurl 7.85).
    if (set(handle, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        set(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
        set(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        set(handle, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    }
    set(handle, CURLOPT_FOLLOWLOCATION, 1L);
    set(handle, CURLOPT_MAXREDIRS, request->max_redirects);
    set(handle, CURLOPT_PROXY, request->proxy ? request->proxy : "");  // "": none, not even from the environment
    set(handle, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    set(handle, CURLOPT_FAILONERROR, 1L);
    set(handle, CURLOPT_USERAGENT, "darkroom");
    if (request->max_declared_bytes >= 0) set(handle, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)request->max_declared_bytes);
    set(handle, CURLOPT_CONNECTTIMEOUT_MS, request->connect_timeout_ms);
    set(handle, CURLOPT_TIMEOUT_MS, request->total_timeout_ms);
    set(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(handle, CURLOPT_LOW_SPEED_TIME, stall_seconds < 1 ? 1L : stall_seconds);
    set(handle, CURLOPT_NOPROGRESS, 0L);
    set(handle, CURLOPT_XFERINFOFUNCTION, progress);
    set(handle, CURLOPT_XFERINFODATA, (void *)&state);
    set(handle, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    set(handle, CURLOPT_OPENSOCKETDATA, (void *)&state);
    set(handle, CURLOPT_HEADERFUNCTION, header_line);
    set(handle, CURLOPT_HEADERDATA, (void *)&state);
    set(handle, CURLOPT_WRITEFUNCTION, write_body);
    set(handle, CURLOPT_WRITEDATA, (void *)&state);

    CURLcode code = curl.easy_perform(handle);
    long status = 0, redirects = 0;
    char *last_url = NULL;
    curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl.easy_getinfo(handle, CURLINFO_REDIRECT_COUNT, &redirects);
    curl.easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &last_url);
    snprintf(outcome->last_url, sizeof outcome->last_url, "%s", last_url ? last_url : request->url);
    curl.easy_cleanup(handle);
    outcome->declared_length = state.declared_length;

    outcome->curl_code = (int)code;
    outcome->http_status = status;
    outcome->redirects = redirects;
    copy_text(outcome->message, error[0] ? error : curl.easy_strerror(code));
    switch (code) {
    case CURLE_OK: outcome->status = DR_FETCH_OK; break;
    case CURLE_ABORTED_BY_CALLBACK: outcome->status = state.stalled ? DR_FETCH_STALLED : DR_FETCH_FAILED; break;
    case CURLE_WRITE_ERROR: outcome->status = DR_FETCH_ABORTED; break;
    case CURLE_FILESIZE_EXCEEDED: outcome->status = DR_FETCH_DECLARED_TOO_LARGE; break;
    case CURLE_HTTP_RETURNED_ERROR: outcome->status = DR_FETCH_HTTP_ERROR; break;
    case CURLE_TOO_MANY_REDIRECTS: outcome->status = DR_FETCH_TOO_MANY_REDIRECTS; break;
    case CURLE_UNSUPPORTED_PROTOCOL: outcome->status = DR_FETCH_BAD_PROTOCOL; break;
    case CURLE_COULDNT_CONNECT: outcome->status = DR_FETCH_COULD_NOT_CONNECT; break;
    case CURLE_OPERATION_TIMEDOUT:
        // curl's words tell the three limits apart: "Operation too slow. ..." (CURLOPT_LOW_SPEED_*),
        // "Operation timed out after ..." (CURLOPT_TIMEOUT), "Connection/Resolving timed out ..." (connect).
        if (strstr(error, "too slow")) outcome->status = DR_FETCH_STALLED;
        else if (strncmp(error, "Operation timed out", 19) == 0) outcome->status = DR_FETCH_TOTAL_TIMEOUT;
        else outcome->status = DR_FETCH_CONNECT_TIMEOUT;
        break;
    default: outcome->status = DR_FETCH_FAILED; break;
    }
}
