// libpng wrapper (png_struct API, for 16-bit, iCCP, eXIf, gamma and compression control):
// owns every setjmp/longjmp so Swift only sees return codes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <errno.h>
#include <unistd.h>
#include <png.h>
#include <zlib.h>
#include "CDarkroom.h"

struct shim_state {
    char *message;
    darkroom_warnings *warnings;   // NULL: warnings are not collected
    // reading: `size` bytes, from `data`, or with `from_file` from the file `fd` (from its offset 0)
    // through `window`, WINDOW_SIZE bytes read at a time
    const uint8_t *data; size_t size; size_t offset;
    int from_file; int fd;
    uint8_t *window; size_t window_pos, window_len;
    // writing
    uint8_t *out; size_t out_len; size_t out_cap; int out_failed;
    // reading: the largest single allocation libpng may make (see shim_malloc)
    size_t alloc_limit;
    // reading and writing: CLOCK_MONOTONIC nanoseconds to stop at (0: never), and whether it did
    uint64_t deadline_ns;
    int timed_out;
};

/// Ancillary chunk data (text, eXIf, sPLT, unknown chunks) is at most 16 MiB: libpng's own chunk
/// limit, png_set_chunk_malloc_max.
#define CHUNK_LIMIT (16u * 1024 * 1024)

/// libpng's allocator for readers. libpng 1.6.39 (Debian bookworm) checks a chunk's declared length
/// against png_set_chunk_malloc_max only as a *benign* error, which reading reports as a warning and
/// then allocates the declared length anyway: a 143-byte file declaring a 1.9 GB iTXt chunk made
/// it malloc 1.9 GB (found by the decode-png fuzz target). Refusing the allocation makes libpng
/// skip that chunk with a warning ("insufficient memory to read chunk"). The limit is the chunk
/// limit while the header is read, and grows to cover the row buffers once the image size has
/// passed the pixel limit.
static png_voidp shim_malloc(png_structp png, png_alloc_size_t n) {
    struct shim_state *s = png_get_mem_ptr(png);
    if (s && n > s->alloc_limit) return NULL;
    return malloc(n);
}

static void shim_free(png_structp png, png_voidp p) {
    (void)png;
    free(p);
}

static void shim_error(png_structp png, png_const_charp msg) {
    struct shim_state *s = png_get_error_ptr(png);
    snprintf(s->message, DARKROOM_ERR_LEN, "%s", msg);
    png_longjmp(png, 1);
}

/// libpng's warnings (and benign errors, which libpng 1.6 reports as warnings when reading):
/// dropped ancillary chunks with bad CRCs, bad profiles, extra image data. The pixels are intact.
static void shim_warning(png_structp png, png_const_charp msg) {
    struct shim_state *s = png_get_error_ptr(png);
    if (!s || !s->warnings) return;
    s->warnings->count++;
    if (s->warnings->message[0] == 0) snprintf(s->warnings->message, DARKROOM_ERR_LEN, "%s", msg);
}

/// libpng's row callback (png_set_read_status_fn, png_set_write_status_fn), called after every
/// row read or written: past the deadline it leaves through png_error's longjmp, so the caller
/// frees libpng's state as after an error and returns DARKROOM_TIME_LIMIT.
static void shim_row_done(png_structp png, png_uint_32 row, int pass) {
    (void)row; (void)pass;
    struct shim_state *s = png_get_error_ptr(png);
    if (s && darkroom_deadline_passed(s->deadline_ns)) {
        s->timed_out = 1;
        png_error(png, "the time limit passed");
    }
}

/// A truncation: pixels are missing, or the file ends after them.
static void note_truncated(darkroom_warnings *w, const char *msg) {
    w->count++;
    w->truncated++;
    if (w->truncated == 1) snprintf(w->message, DARKROOM_ERR_LEN, "%s", msg);
}

/// Bytes of a file read at a time (a window that the chunk walk and the decode move along).
#define WINDOW_SIZE (64u * 1024)

/// Copies the `n` input bytes at `pos` (the caller checked `pos + n <= size`) into `dst`, from
/// memory or from the file through the window. Returns 0, or an errno when the file cannot be read
/// (EIO when it is shorter than `size`).
static int input_copy(struct shim_state *s, size_t pos, uint8_t *dst, size_t n) {
    if (!s->from_file) { memcpy(dst, s->data + pos, n); return 0; }
    while (n > 0) {
        if (pos >= s->window_pos && pos < s->window_pos + s->window_len) {
            size_t k = s->window_pos + s->window_len - pos;
            if (k > n) k = n;
            memcpy(dst, s->window + (pos - s->window_pos), k);
            dst += k; pos += k; n -= k;
            continue;
        }
        size_t want = s->size - pos < WINDOW_SIZE ? s->size - pos : WINDOW_SIZE;
        ssize_t got;
        do got = pread(s->fd, s->window, want, (off_t)pos); while (got < 0 && errno == EINTR);
        if (got < 0) return errno;
        if (got == 0) return EIO;
        s->window_pos = pos;
        s->window_len = (size_t)got;
    }
    return 0;
}

static void shim_read(png_structp png, png_bytep dst, size_t n) {
    struct shim_state *s = png_get_io_ptr(png);
    if (n > s->size - s->offset) png_error(png, "read beyond end of data (file is truncated)");
    int e = input_copy(s, s->offset, dst, n);
    if (e) {
        char message[64];
        snprintf(message, sizeof message, "cannot read the file (errno %d)", e);
        png_error(png, message);
    }
    s->offset += n;
}

static void shim_write(png_structp png, png_bytep src, size_t n) {
    struct shim_state *s = png_get_io_ptr(png);
    if (s->out_len + n > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 65536;
        while (cap < s->out_len + n) cap *= 2;
        uint8_t *p = realloc(s->out, cap);
        if (!p) png_error(png, "out of memory");
        s->out = p; s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, src, n);
    s->out_len += n;
}

static void shim_flush(png_structp png) { (void)png; }

const char *darkroom_libpng_version(void) { return png_get_libpng_ver(NULL); }

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/// What Darkroom needs from the chunk list that libpng does not give: read from one walk over
/// the chunks (each length checked against what is left of the file before it is used).
struct chunk_facts {
    int frames;             // APNG: num_frames of an acTL chunk before the first IDAT (libpng ignores APNG), else 1
    int bad_iccp;           // an iCCP chunk names a compression method other than 0 (deflate): libpng
                            // drops it with a warning; the file is invalid and colours would silently be wrong
    int bad_cicp;           // the first cICP chunk before the image data fails its CRC: libpng 1.6.39 warns
                            // but keeps an unknown chunk whatever its CRC, so it is dropped here
};

static struct chunk_facts scan_chunks(struct shim_state *s) {
    struct chunk_facts f = { .frames = 1 };
    int seen_idat = 0, seen_cicp = 0;
    size_t size = s->size;
    for (size_t pos = 8; pos + 12 <= size;) {
        uint8_t head[8];
        if (input_copy(s, pos, head, 8)) break;
        uint32_t len = be32(head);
        const uint8_t *type = head + 4;
        if (len > size - pos - 12) break;
        if (memcmp(type, "IDAT", 4) == 0) {
            seen_idat = 1;
        } else if (!seen_idat && memcmp(type, "acTL", 4) == 0 && len >= 8) {
            uint8_t body[4];
            if (input_copy(s, pos + 8, body, 4)) break;
            uint32_t n = be32(body);
            f.frames = n > 0 && n < 1000000 ? (int)n : 1;
        } else if (!seen_idat && memcmp(type, "iCCP", 4) == 0) {
            // The profile name (at most 79 bytes), its NUL and the compression method: 82 bytes at most.
            uint8_t body[82];
            if (input_copy(s, pos + 8, body, len < sizeof body ? len : sizeof body)) break;
            size_t n = 0;
            while (n < len && n < 80 && body[n] != 0) n++;
            if (n + 1 < len && body[n] == 0 && body[n + 1] != 0) f.bad_iccp = 1;
        } else if (!seen_idat && !seen_cicp && memcmp(type, "cICP", 4) == 0) {
            seen_cicp = 1;
            uint8_t chunk[12];   // type, 4 data bytes, CRC
            if (len == 4 && input_copy(s, pos + 4, chunk, 12) == 0) {
                if (darkroom_crc32(chunk, 8) != be32(chunk + 8)) f.bad_cicp = 1;
            }
        }
        pos += 12 + (size_t)len;
    }
    return f;
}

/// The payload of an ImageMagick raw profile text ("\n<name>\n<decimal length>\n<hex digits>",
/// whitespace anywhere among the digits), as exiftool's ProcessProfile reads it: malloc'd into
/// *out (*out_len bytes), or NULL when the text is not that form, declares more than CHUNK_LIMIT
/// bytes or holds fewer hex digits than it declares.
static uint8_t *raw_profile_payload(const char *text, size_t len, uint32_t *out_len) {
    size_t i = 0;
    if (i >= len || text[i] != '\n') return NULL;
    i++;
    while (i < len && text[i] != '\n') i++;                 // the profile's name
    if (i >= len) return NULL;
    i++;
    while (i < len && (text[i] == ' ' || text[i] == '\t')) i++;
    size_t declared = 0, digits = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9') {
        if (++digits > 9) return NULL;                       // over 999,999,999: more than any chunk holds
        declared = declared * 10 + (size_t)(text[i] - '0');
        i++;
    }
    if (digits == 0 || declared == 0 || declared > CHUNK_LIMIT || i >= len || text[i] != '\n') return NULL;
    i++;
    uint8_t *payload = malloc(declared);
    if (!payload) return NULL;
    size_t n = 0;
    int high = -1;
    for (; i < len && n < declared; i++) {
        char c = text[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) {
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
            break;
        }
        if (high < 0) { high = v; continue; }
        payload[n++] = (uint8_t)(high << 4 | v);
        high = -1;
    }
    if (n != declared) { free(payload); return NULL; }
    *out_len = (uint32_t)n;
    return payload;
}

/// An EXIF payload from the text chunks libpng read before the image data: ImageMagick's
/// "Raw profile type exif", or "Raw profile type APP1" when it holds Exif; "Exif\0\0" dropped,
/// so the payload starts at the TIFF header as an eXIf chunk's does.
static void capture_text_exif(png_structp png, png_infop info, darkroom_png_info *out) {
    png_textp texts = NULL;
    int count = png_get_text(png, info, &texts, NULL);
    for (int k = 0; k < count && !out->exif; k++) {
        const char *key = texts[k].key;
        if (!key || !texts[k].text) continue;
        int app1 = strcmp(key, "Raw profile type APP1") == 0;
        if (strcmp(key, "Raw profile type exif") != 0 && !app1) continue;
        uint32_t n = 0;
        uint8_t *payload = raw_profile_payload(texts[k].text, strlen(texts[k].text), &n);
        if (!payload) continue;
        uint32_t skip = n > 6 && memcmp(payload, "Exif\0\0", 6) == 0 ? 6 : 0;
        if (app1 && skip == 0) { free(payload); continue; }   // an APP1 profile holding XMP
        if (skip) memmove(payload, payload + skip, n - skip);
        out->exif = payload;
        out->exif_len = n - skip;
        out->exif_from_text = 1;
    }
}

static void capture_info(png_structp png, png_infop info, darkroom_png_info *out) {
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->color_type = png_get_color_type(png, info);
    out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    out->has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    out->has_srgb = png_get_valid(png, info, PNG_INFO_sRGB) != 0;
    double g = 0;
    if (png_get_valid(png, info, PNG_INFO_gAMA) && png_get_gAMA(png, info, &g)) out->gamma = g;
    png_charp name; int compression; png_bytep profile; png_uint_32 len;
    if (!out->icc && png_get_iCCP(png, info, &name, &compression, &profile, &len) && len > 0) {
        out->icc = malloc(len);
        if (out->icc) { memcpy(out->icc, profile, len); out->icc_len = len; }
    }
    // cICP (PNG third edition): libpng 1.6.39 has no API for it, so it is kept as an unknown
    // chunk (make_reader); a bad CRC drops it with a warning, as for any ancillary chunk.
    png_unknown_chunkp unknowns = NULL;
    int unknown_count = png_get_unknown_chunks(png, info, &unknowns);
    for (int i = 0; i < unknown_count && !out->has_cicp; i++) {
        if (memcmp(unknowns[i].name, "cICP", 4) != 0) continue;
        if (unknowns[i].size != 4) {
            png_warning(png, "cICP: invalid length (4 bytes expected); chunk ignored");
            continue;
        }
        memcpy(out->cicp, unknowns[i].data, 4);
        out->has_cicp = 1;
    }
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif; png_uint_32 exif_len;
    if (!out->exif && png_get_eXIf_1(png, info, &exif_len, &exif) && exif_len > 0) {
        out->exif = malloc(exif_len);
        if (out->exif) { memcpy(out->exif, exif, exif_len); out->exif_len = exif_len; }
    }
#endif
    if (!out->exif) capture_text_exif(png, info, out);
}

static png_structp make_reader(struct shim_state *s, png_infop *info) {
    s->alloc_limit = CHUNK_LIMIT + 65536;   // a chunk, its terminating NUL, libpng's structs
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, s, shim_error, shim_warning,
                                               s, shim_malloc, shim_free);
    if (!png) return NULL;
    *info = png_create_info_struct(png);
    if (!*info) { png_destroy_read_struct(&png, NULL, NULL); return NULL; }
    png_set_read_fn(png, s, shim_read);
    png_set_read_status_fn(png, shim_row_done);
    // Ancillary chunks with bad CRCs are dropped; text-chunk inflation is capped (zTXt bombs).
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_WARN_DISCARD);
    png_set_chunk_malloc_max(png, CHUNK_LIMIT);
    png_set_chunk_cache_max(png, 1000);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, (png_const_bytep)"cICP", 1);
    return png;
}

int darkroom_png_read_header(const uint8_t *data, size_t size, darkroom_png_info *out, char err[DARKROOM_ERR_LEN]) {
    struct shim_state s = { .message = err, .data = data, .size = size };
    png_infop info = NULL;
    memset(out, 0, sizeof *out);
    err[0] = 0;
    png_structp png = make_reader(&s, &info);
    if (!png) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return -1; }
    if (setjmp(png_jmpbuf(png))) {
        free(out->icc); free(out->exif); out->icc = NULL; out->exif = NULL;
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    capture_info(png, info, out);
    struct chunk_facts facts = scan_chunks(&s);
    out->frames = facts.frames;
    if (facts.bad_cicp) out->has_cicp = 0;
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

// ---------------------------------------------------------------- streaming decode

struct darkroom_png_stream {
    struct shim_state state;
    png_structp png;
    png_infop info;
    darkroom_png_info *out;       // the caller's info: icc/exif/warnings land there
    int keep_truncated;
    int failed;                   // libpng longjmp'd: never call it again
    int truncated;                // fail-on none kept a truncated image: the rest is zeros
    uint32_t rows_done;           // rows handed out
    size_t row_bytes;             // decoded bytes per row
    int passes;                   // 7 for an interlaced image, else 1
};

static void stream_free(darkroom_png_stream *s) {
    free(s->state.window);
    free(s);
}

/// darkroom_png_stream_open on `size` bytes: `data`, or with `from_file` the file `fd`.
static darkroom_png_stream *stream_open(const uint8_t *data, int from_file, int fd, size_t size, uint64_t max_pixels,
                                        int keep_truncated, darkroom_png_info *out, int *rc, char err[DARKROOM_ERR_LEN]) {
    memset(out, 0, sizeof *out);
    err[0] = 0;
    *rc = -1;
    darkroom_png_stream *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return NULL; }
    s->state.message = err;
    s->state.data = data;
    s->state.size = size;
    if (from_file) {
        s->state.from_file = 1;
        s->state.fd = fd;
        s->state.window = malloc(WINDOW_SIZE);
        if (!s->state.window) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); free(s); return NULL; }
    }
    s->state.warnings = &out->warnings;
    s->out = out;
    s->keep_truncated = keep_truncated;
    s->png = make_reader(&s->state, &s->info);
    if (!s->png) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); stream_free(s); return NULL; }
    png_structp png = s->png;
    if (setjmp(png_jmpbuf(png))) {
        free(out->icc); free(out->exif); out->icc = NULL; out->exif = NULL;
        png_destroy_read_struct(&s->png, &s->info, NULL);
        stream_free(s);
        return NULL;
    }
    png_read_info(png, s->info);
    capture_info(png, s->info, out);
    struct chunk_facts facts = scan_chunks(&s->state);
    out->frames = facts.frames;
    if (facts.bad_cicp) out->has_cicp = 0;
    if (facts.bad_iccp) png_error(png, "iCCP: unknown compression method");
    if ((uint64_t)out->width * out->height > max_pixels) {
        *rc = -2;
        png_error(png, "too many pixels");
    }
    // Row buffers: up to 8 bytes per pixel (16-bit RGBA) plus libpng's filter byte and padding,
    // for a width that has passed the pixel limit above.
    {
        size_t rows_limit = (size_t)out->width * 8 + 4096;
        if (rows_limit > s->state.alloc_limit) s->state.alloc_limit = rows_limit;
    }
    if (out->color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (out->color_type == PNG_COLOR_TYPE_GRAY && out->bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (out->has_trns) png_set_tRNS_to_alpha(png);
    // A file gamma without sRGB/iCCP/cICP is converted to sRGB's transfer curve.
    if (out->gamma > 0 && !out->has_srgb && !out->icc && !out->has_cicp) {
        double diff = out->gamma - 1.0 / 2.2;
        if (diff < -0.01 || diff > 0.01) {
            png_set_gamma(png, PNG_DEFAULT_sRGB, out->gamma);
            out->gamma_corrected = 1;
        }
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (out->bit_depth == 16) png_set_swap(png);
#endif
    s->passes = png_set_interlace_handling(png);
    png_read_update_info(png, s->info);
    out->channels = png_get_channels(png, s->info);
    out->out_depth = png_get_bit_depth(png, s->info);
    s->row_bytes = png_get_rowbytes(png, s->info);
    *rc = 0;
    return s;
}

darkroom_png_stream *darkroom_png_stream_open(const uint8_t *data, size_t size, uint64_t max_pixels, int keep_truncated,
                                              darkroom_png_info *out, int *rc, char err[DARKROOM_ERR_LEN]) {
    return stream_open(data, 0, -1, size, max_pixels, keep_truncated, out, rc, err);
}

darkroom_png_stream *darkroom_png_stream_open_fd(int fd, size_t size, uint64_t max_pixels, int keep_truncated,
                                                 darkroom_png_info *out, int *rc, char err[DARKROOM_ERR_LEN]) {
    return stream_open(NULL, 1, fd, size, max_pixels, keep_truncated, out, rc, err);
}

void darkroom_png_stream_set_deadline(darkroom_png_stream *s, uint64_t deadline_ns) {
    s->state.deadline_ns = deadline_ns;
}

/// After a longjmp: the rest of the request is zeros; returns what the read returns.
/// Rows `from..<count` of a request, zeroed (transparent black): what was not decoded.
static void zero_rows(const darkroom_png_stream *s, uint8_t *rows, size_t stride, int from, int count) {
    for (int n = from; n < count; n++) memset(rows + (size_t)n * stride, 0, s->row_bytes);
}

static int stream_failed(darkroom_png_stream *s, uint8_t *rows, size_t stride, int from, int count) {
    s->failed = 1;
    zero_rows(s, rows, stride, from, count);
    if (s->state.timed_out) return DARKROOM_TIME_LIMIT;   // never kept as a truncation
    if (s->keep_truncated && !s->out->interlaced && s->rows_done > 0) {
        // fail-on none: keep the rows that were read, the rest transparent black (as Pillow's
        // LOAD_TRUNCATED_IMAGES).
        note_truncated(&s->out->warnings, s->state.message);
        s->state.message[0] = 0;
        s->truncated = 1;
        return count;
    }
    return s->rows_done > 0 ? -4 : -1;
}

int darkroom_png_stream_read(darkroom_png_stream *s, uint8_t *rows, size_t stride, int count,
                             char err[DARKROOM_ERR_LEN]) {
    s->state.message = err;
    err[0] = 0;
    if (stride < s->row_bytes || count < 0) {
        snprintf(err, DARKROOM_ERR_LEN, "row stride %zu is shorter than a row (%zu bytes)", stride, (size_t)s->row_bytes);
        return -1;
    }
    if (s->failed) {
        zero_rows(s, rows, stride, 0, count);
        if (s->state.timed_out) {
            snprintf(err, DARKROOM_ERR_LEN, "the time limit passed");
            return DARKROOM_TIME_LIMIT;
        }
        return s->truncated ? count : -1;
    }
    volatile int n = 0;
    png_bytepp volatile pointers = NULL;
    if (setjmp(png_jmpbuf(s->png))) {
        free(pointers);
        return stream_failed(s, rows, stride, s->out->interlaced ? 0 : n, count);
    }
    if (s->out->interlaced) {
        // Adam7 needs every pass over the whole image: one request for all rows.
        if (count != (int)s->out->height || s->rows_done != 0) png_error(s->png, "an interlaced PNG is read whole");
        pointers = malloc(sizeof(png_bytep) * (size_t)count);
        if (!pointers) png_error(s->png, "out of memory");
        for (int y = 0; y < count; y++) pointers[y] = rows + (size_t)y * stride;
        png_read_image(s->png, pointers);
        free(pointers);
        pointers = NULL;
        s->rows_done = (uint32_t)count;
        return count;
    }
    for (; n < count; n++) {
        png_read_row(s->png, rows + (size_t)n * stride, NULL);
        s->rows_done++;
    }
    return count;
}

int darkroom_png_stream_check(darkroom_png_stream *s, char err[DARKROOM_ERR_LEN]) {
    s->state.message = err;
    err[0] = 0;
    if (s->failed) return s->state.timed_out ? DARKROOM_TIME_LIMIT : s->truncated ? 0 : -1;
    // One row, written over and over: libpng's png_read_image reads an interlaced image the same
    // way, pass by pass, a row at a time (it only keeps each row in the caller's image).
    uint8_t *volatile row = malloc(s->row_bytes > 0 ? s->row_bytes : 1);
    if (!row) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return -1; }
    if (setjmp(png_jmpbuf(s->png))) {
        free(row);
        // As darkroom_png_stream_read when the data ends early (stream_failed).
        s->failed = 1;
        if (s->state.timed_out) return DARKROOM_TIME_LIMIT;
        if (s->keep_truncated && !s->out->interlaced && s->rows_done > 0) {
            note_truncated(&s->out->warnings, s->state.message);
            s->state.message[0] = 0;
            s->truncated = 1;
            return 0;
        }
        return s->rows_done > 0 ? -4 : -1;
    }
    uint32_t height = s->out->height;
    if (s->out->interlaced) {
        if (s->rows_done != 0) png_error(s->png, "an interlaced PNG is read whole");
        for (int pass = 0; pass < s->passes; pass++)
            for (uint32_t y = 0; y < height; y++) png_read_row(s->png, row, NULL);
        s->rows_done = height;
    } else {
        while (s->rows_done < height) {
            png_read_row(s->png, row, NULL);
            s->rows_done++;
        }
    }
    free(row);
    return 0;
}

void darkroom_png_stream_finish(darkroom_png_stream *s) {
    if (s->failed || s->rows_done < s->out->height) return;
    char message[DARKROOM_ERR_LEN] = {0};
    s->state.message = message;
    if (setjmp(png_jmpbuf(s->png))) {
        // An error after the pixels (a cut or broken trailing chunk): the picture is whole, but
        // the file was cut or damaged; the caller's fail-on policy decides.
        s->failed = 1;
        note_truncated(&s->out->warnings, message);
        return;
    }
    // Chunks after the image data are read for their CRCs and warnings only: an eXIf (or iCCP)
    // there is ignored, as the PNG specification places both before IDAT and browsers and libvips
    // ignore a late one. So a file's metadata is all known from its header.
    png_read_end(s->png, s->info);
}

void darkroom_png_stream_close(darkroom_png_stream *s) {
    if (!s) return;
    png_destroy_read_struct(&s->png, &s->info, NULL);
    stream_free(s);
}

int darkroom_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int depth,
                        int level, int strategy, int filters,
                        const uint8_t *icc, uint32_t icc_len, const uint8_t *exif, uint32_t exif_len,
                        uint64_t deadline_ns, uint8_t **out, size_t *out_size, char err[DARKROOM_ERR_LEN]) {
    struct shim_state s = { .message = err, .deadline_ns = deadline_ns };
    png_infop info = NULL;
    png_bytepp volatile rows = NULL;
    *out = NULL; *out_size = 0;
    err[0] = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, shim_error, shim_warning);
    if (!png) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return -1; }
    info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return -1; }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(s.out);
        png_destroy_write_struct(&png, &info);
        return s.timed_out ? DARKROOM_TIME_LIMIT : -1;
    }
    png_set_write_fn(png, &s, shim_write, shim_flush);
    png_set_write_status_fn(png, shim_row_done);
    if (strategy < 0) {
        // Auto: photographic content (few pixels equal to their left neighbour) compresses as
        // well with Z_RLE as with full LZ77 at a fraction of the time; flat graphics keep LZ77.
        size_t bpp = (size_t)channels * (depth / 8), row = (size_t)width * bpp, same = 0, total = 0;
        uint32_t step = height > 256 ? height / 256 : 1;
        for (uint32_t y = 0; y < height; y += step) {
            const uint8_t *r = pixels + row * y;
            for (size_t x = bpp; x < row; x += bpp) { same += memcmp(r + x, r + x - bpp, bpp) == 0; total++; }
        }
        strategy = (total > 0 && same * 10 < total * 3) ? 3 /* Z_RLE */ : 0 /* Z_DEFAULT_STRATEGY */;
        if (strategy == 0 && level > 6) level = 6;
    }
    png_set_compression_level(png, level);
    png_set_compression_strategy(png, strategy);
    png_set_compression_mem_level(png, 9);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filters < 0 ? PNG_ALL_FILTERS : filters);
    int color = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA
              : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(png, info, width, height, depth, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (icc && icc_len > 0) png_set_iCCP(png, info, "icc", PNG_COMPRESSION_TYPE_BASE, icc, icc_len);
#ifdef PNG_eXIf_SUPPORTED
    if (exif && exif_len > 0) png_set_eXIf_1(png, info, exif_len, (png_bytep)exif);
#endif
    png_write_info(png, info);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (depth == 16) png_set_swap(png);
#endif
    size_t rowbytes = (size_t)width * channels * (depth / 8);
    rows = malloc(sizeof(png_bytep) * height);
    if (!rows) png_error(png, "out of memory");
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + rowbytes * y);
    png_write_image(png, rows);
    // No info: every chunk was written before the image data. libpng 1.6.39 would write the eXIf
    // chunk a second time after IDAT from `info` (it does not record that it wrote it).
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = s.out;
    *out_size = s.out_len;
    return 0;
}

int darkroom_inflate(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return -1;
    // Grown as the text comes out, never past max_out (+1 byte to tell "longer than max_out").
    size_t cap = 0, used = 0;
    uint8_t *buf = NULL;
    int rc = Z_OK;
    z.next_in = (Bytef *)in;
    size_t in_left = len;
    while (rc != Z_STREAM_END) {
        if (used == cap) {
            if (cap > max_out) { free(buf); inflateEnd(&z); return -2; }
            size_t next = cap == 0 ? 4096 : cap * 2;
            if (next > max_out + 1) next = max_out + 1;
            uint8_t *grown = realloc(buf, next);
            if (!grown) { free(buf); inflateEnd(&z); return -1; }
            buf = grown;
            cap = next;
        }
        if (z.avail_in == 0) {
            uInt chunk = in_left > 0x40000000u ? 0x40000000u : (uInt)in_left;
            z.avail_in = chunk;
            in_left -= chunk;
        }
        z.next_out = buf + used;
        z.avail_out = (uInt)(cap - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = cap - z.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_out == 0)) { free(buf); inflateEnd(&z); return -1; }
        if (rc == Z_OK && z.avail_in == 0 && in_left == 0 && z.avail_out != 0) { free(buf); inflateEnd(&z); return -1; }
    }
    inflateEnd(&z);
    if (used > max_out) { free(buf); return -2; }
    if (used == 0) { free(buf); buf = NULL; }
    *out = buf;
    *out_len = used;
    return 0;
}

uint32_t darkroom_crc32(const uint8_t *bytes, size_t len) {
    // The PNG CRC (ISO 3309, reflected polynomial 0xEDB88320), table-driven. The table is built
    // on every call (256 steps, nothing shared between threads): negligible beside a chunk walk.
    uint32_t table[256];
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

// ---------------------------------------------------------------- iCCP check

/// libpng's own checks of a profile about to be written as iCCP (png_set_iCCP: the header, the
/// rendering intent, the PCS illuminant, the known-incorrect sRGB profiles), made as benign
/// errors on a scratch write struct: 1 when libpng would write it without a word, else 0 with its
/// words in `err`.
int darkroom_png_icc_acceptable(const uint8_t *icc, uint32_t icc_len, int gray, char err[DARKROOM_ERR_LEN]) {
    err[0] = 0;
    darkroom_warnings warnings;
    memset(&warnings, 0, sizeof warnings);
    struct shim_state s;
    memset(&s, 0, sizeof s);
    s.message = err;
    s.warnings = &warnings;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, shim_error, shim_warning);
    if (!png) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return 0; }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        if (!err[0]) snprintf(err, DARKROOM_ERR_LEN, "libpng refused the profile");
        return 0;
    }
    png_set_benign_errors(png, 1);
    png_set_IHDR(png, info, 1, 1, 8, gray ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_set_iCCP(png, info, "icc", PNG_COMPRESSION_TYPE_BASE, icc, icc_len);
    // A warning refuses it too: libpng warns "known incorrect sRGB profile" here, keeps the
    // profile, and then fails the write ("profile matches sRGB but writing iCCP instead").
    int ok = png_get_valid(png, info, PNG_INFO_iCCP) != 0 && warnings.count == 0;
    if (!ok) snprintf(err, DARKROOM_ERR_LEN, "%s", warnings.message[0] ? warnings.message : "libpng refused the profile");
    png_destroy_write_struct(&png, &info);
    return ok;
}
