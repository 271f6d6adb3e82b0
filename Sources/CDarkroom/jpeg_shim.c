// libjpeg(-turbo) wrapper: owns every setjmp/longjmp so Swift only sees return codes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <errno.h>
#include <unistd.h>
#include <jpeglib.h>
#include <jerror.h>
#include "CDarkroom.h"

struct shim_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *message;
    darkroom_warnings *warnings;   // NULL: warnings are not collected (encoding)
    int timed_out;                 // the progress monitor stopped libjpeg at the deadline
    int too_many_scans;            // the progress monitor stopped a decode past its scan limit
};

/// libjpeg's progress monitor, used only to stop it: at a deadline, or past a scan limit.
struct shim_progress {
    struct jpeg_progress_mgr pub;
    uint64_t deadline_ns;          // CLOCK_MONOTONIC; 0: never
    unsigned max_scans;            // decoding: the most scans read (djpeg -maxscans); 0: no limit
};

/// Called by libjpeg on every scanline call and every step of its long passes (a progressive
/// file's scans while decoding; the Huffman passes of a progressive or optimised encode): past the
/// deadline it leaves through the error path (error_exit's longjmp), so the caller frees libjpeg's
/// state as after an error, and the entry point returns DARKROOM_TIME_LIMIT.
static void shim_progress_monitor(j_common_ptr c) {
    struct shim_progress *p = (struct shim_progress *)c->progress;
    if (c->is_decompressor && p->max_scans > 0) {
        // A progressive file's scans are read one by one in jpeg_start_decompress, which calls
        // this before each step: a file of thousands of tiny scans stops after max_scans of them.
        j_decompress_ptr d = (j_decompress_ptr)c;
        if (d->input_scan_number > 0 && (unsigned)d->input_scan_number > p->max_scans) {
            struct shim_error *e = (struct shim_error *)c->err;
            e->too_many_scans = 1;
            snprintf(e->message, DARKROOM_ERR_LEN, "more than %u scans", p->max_scans);
            longjmp(e->jump, 1);
        }
    }
    if (!darkroom_deadline_passed(p->deadline_ns)) return;
    struct shim_error *e = (struct shim_error *)c->err;
    e->timed_out = 1;
    snprintf(e->message, DARKROOM_ERR_LEN, "the time limit passed");
    longjmp(e->jump, 1);
}

/// Installs the progress monitor with `deadline_ns` (after jpeg_create_*, which clears `progress`);
/// `max_scans` is kept as it is.
static void install_progress(j_common_ptr c, struct shim_progress *p, uint64_t deadline_ns) {
    p->pub.progress_monitor = shim_progress_monitor;
    p->deadline_ns = deadline_ns;
    c->progress = &p->pub;
}

/// What an entry point returns after a longjmp: DARKROOM_TIME_LIMIT when the deadline stopped it,
/// DARKROOM_TOO_MANY_SCANS when the scan limit did.
static int failure_code(const struct shim_error *e) {
    return e->timed_out ? DARKROOM_TIME_LIMIT : e->too_many_scans ? DARKROOM_TOO_MANY_SCANS : -1;
}

/// Records a warning; `truncated` marks one that means missing or made-up pixels.
static void record_warning(darkroom_warnings *w, int truncated, const char *message) {
    if (!w) return;
    w->count++;
    if (truncated) w->truncated++;
    // The first truncation message wins over earlier harmless warnings.
    if (w->message[0] == 0 || (truncated && w->truncated == 1))
        snprintf(w->message, DARKROOM_ERR_LEN, "%s", message);
}

/// libjpeg calls this for warnings (level -1) and trace messages (level >= 0).
static void shim_emit_message(j_common_ptr c, int level) {
    if (level >= 0) return;
    struct shim_error *e = (struct shim_error *)c->err;
    c->err->num_warnings++;
    int code = c->err->msg_code;
    // Bytes skipped before a restart marker are entropy-coded data the decoder did not use: the
    // interval before it decoded from damaged data (zeros decode as valid codes). Skipped bytes
    // before EOI or a table marker are also what harmless padding looks like, so those stay warnings.
    int marker = c->err->msg_parm.i[1];
    int truncated = code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE
        || code == JWRN_ARITH_BAD_CODE || code == JWRN_MUST_RESYNC
        || (code == JWRN_EXTRANEOUS_DATA && marker >= 0xD0 && marker <= 0xD7);
    char buffer[JMSG_LENGTH_MAX];
    (*c->err->format_message)(c, buffer);
    record_warning(e->warnings, truncated, buffer);
}

static void shim_error_exit(j_common_ptr c) {
    struct shim_error *e = (struct shim_error *)c->err;
    char buffer[JMSG_LENGTH_MAX];
    (*c->err->format_message)(c, buffer);
    snprintf(e->message, DARKROOM_ERR_LEN, "%s", buffer);
    longjmp(e->jump, 1);
}

static void shim_output_message(j_common_ptr c) { (void)c; }  // nothing is printed

void darkroom_free(void *p) { free(p); }

#define DARKROOM_STRINGIFY2(x) #x
#define DARKROOM_STRINGIFY(x) DARKROOM_STRINGIFY2(x)
const char *darkroom_libjpeg_turbo_version(void) {
#ifdef LIBJPEG_TURBO_VERSION
    return DARKROOM_STRINGIFY(LIBJPEG_TURBO_VERSION);
#else
    return "libjpeg " DARKROOM_STRINGIFY(JPEG_LIB_VERSION);
#endif
}

static void capture_markers(j_decompress_ptr d, darkroom_jpeg_info *info) {
    info->icc = NULL; info->icc_len = 0; info->exif = NULL; info->exif_len = 0;
    JOCTET *icc = NULL; unsigned int icc_len = 0;
    if (jpeg_read_icc_profile(d, &icc, &icc_len) && icc && icc_len > 0) {
        info->icc = icc; info->icc_len = icc_len;
    }
    for (jpeg_saved_marker_ptr m = d->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 && memcmp(m->data, "Exif\0\0", 6) == 0 && !info->exif) {
            info->exif_len = m->data_length - 6;
            info->exif = malloc(info->exif_len);
            if (info->exif) memcpy(info->exif, m->data + 6, info->exif_len);
            else info->exif_len = 0;
        }
    }
}

static void fill_info(j_decompress_ptr d, darkroom_jpeg_info *info) {
    info->stored_width = (int)d->image_width;
    info->stored_height = (int)d->image_height;
    info->precision = d->data_precision;
    info->progressive = d->progressive_mode;
    info->adobe_inverted = d->saw_Adobe_marker;
    info->is_cmyk = (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK);
    if (info->is_cmyk) { d->out_color_space = JCS_CMYK; info->components = 4; }
    else if (d->num_components == 1) { d->out_color_space = JCS_GRAYSCALE; info->components = 1; }
    else { d->out_color_space = JCS_EXT_RGB; info->components = 3; }
}

static void set_scale(j_decompress_ptr d, int scale_denom, darkroom_jpeg_info *info) {
    d->scale_num = 1;
    d->scale_denom = (scale_denom == 2 || scale_denom == 4 || scale_denom == 8) ? (unsigned)scale_denom : 1;
    jpeg_calc_output_dimensions(d);
    info->width = (int)d->output_width;
    info->height = (int)d->output_height;
}

/// Routes libjpeg's errors to `err` + longjmp and its warnings to `warnings` (may be NULL).
static struct jpeg_error_mgr *install_errors(struct shim_error *e, char *err, darkroom_warnings *warnings) {
    err[0] = 0;
    jpeg_std_error(&e->pub);
    e->pub.error_exit = shim_error_exit;
    e->pub.output_message = shim_output_message;
    e->pub.emit_message = shim_emit_message;
    e->message = err;
    e->warnings = warnings;
    return &e->pub;
}

/// A source manager that reads `size` bytes of a file from its offset 0 with pread, 64 KiB at a
/// time, and ends as jpeg_mem_src ends: past the last byte, a JWRN_JPEG_EOF warning and a fake EOI
/// marker (on every later call too), so a file decodes with the warnings its bytes in memory give.
struct fd_source {
    struct jpeg_source_mgr pub;
    int fd;
    size_t offset, size;
    JOCTET *buffer;
};

#define FD_SOURCE_BUFFER 65536

static void fd_init_source(j_decompress_ptr d) { (void)d; }
static void fd_term_source(j_decompress_ptr d) { (void)d; }

static boolean fd_fill_input_buffer(j_decompress_ptr d) {
    struct fd_source *src = (struct fd_source *)d->src;
    size_t want = src->size - src->offset < FD_SOURCE_BUFFER ? src->size - src->offset : FD_SOURCE_BUFFER;
    ssize_t n = 0;
    if (want > 0) {
        do n = pread(src->fd, src->buffer, want, (off_t)src->offset); while (n < 0 && errno == EINTR);
        if (n < 0) ERREXIT(d, JERR_FILE_READ);
    }
    if (n == 0) {
        WARNMS(d, JWRN_JPEG_EOF);
        src->buffer[0] = (JOCTET)0xFF;
        src->buffer[1] = (JOCTET)JPEG_EOI;
        n = 2;
    } else {
        src->offset += (size_t)n;
    }
    src->pub.next_input_byte = src->buffer;
    src->pub.bytes_in_buffer = (size_t)n;
    return TRUE;
}

/// As jpeg_mem_src's: whole buffers are skipped by filling again.
static void fd_skip_input_data(j_decompress_ptr d, long num_bytes) {
    struct jpeg_source_mgr *src = d->src;
    if (num_bytes <= 0) return;
    while (num_bytes > (long)src->bytes_in_buffer) {
        num_bytes -= (long)src->bytes_in_buffer;
        (void)(*src->fill_input_buffer)(d);
    }
    src->next_input_byte += (size_t)num_bytes;
    src->bytes_in_buffer -= (size_t)num_bytes;
}

static void fd_src(j_decompress_ptr d, int fd, size_t size) {
    struct fd_source *src = (struct fd_source *)(*d->mem->alloc_small)((j_common_ptr)d, JPOOL_PERMANENT, sizeof(struct fd_source));
    src->buffer = (JOCTET *)(*d->mem->alloc_small)((j_common_ptr)d, JPOOL_PERMANENT, FD_SOURCE_BUFFER);
    src->fd = fd;
    src->offset = 0;
    src->size = size;
    src->pub.init_source = fd_init_source;
    src->pub.fill_input_buffer = fd_fill_input_buffer;
    src->pub.skip_input_data = fd_skip_input_data;
    src->pub.resync_to_restart = jpeg_resync_to_restart;
    src->pub.term_source = fd_term_source;
    src->pub.bytes_in_buffer = 0;
    src->pub.next_input_byte = NULL;
    d->src = &src->pub;
}

/// Creates the decompressor on `size` bytes of `data`, or of the file `fd` when `fd` >= 0,
/// and asks it to keep the EXIF (APP1) and ICC (APP2) markers.
static void open_source(j_decompress_ptr d, const uint8_t *data, int fd, size_t size) {
    jpeg_create_decompress(d);
    // Bound libjpeg's own working memory (progressive coefficient buffers) too.
    d->mem->max_memory_to_use = 2048L * 1024 * 1024;
    if (fd < 0) jpeg_mem_src(d, data, (unsigned long)size);
    else fd_src(d, fd, size);
    jpeg_save_markers(d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(d, JPEG_APP0 + 2, 0xFFFF);
}

// ---------------------------------------------------------------- streaming decode

struct darkroom_jpeg_stream {
    struct jpeg_decompress_struct d;
    struct shim_error e;
    struct shim_progress progress;
    darkroom_warnings warnings;
    int created;    // jpeg_create_decompress ran
    int done;       // every row was handed out (or the data ended)
};

/// darkroom_jpeg_stream_open on `size` bytes of `data`, or of the file `fd` when `fd` >= 0.
static darkroom_jpeg_stream *stream_open(const uint8_t *data, int fd, size_t size, darkroom_jpeg_info *info,
                                         char err[DARKROOM_ERR_LEN]) {
    memset(info, 0, sizeof *info);
    darkroom_jpeg_stream *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return NULL; }
    s->d.err = install_errors(&s->e, err, &s->warnings);
    if (setjmp(s->e.jump)) {
        free(info->icc); free(info->exif); info->icc = NULL; info->exif = NULL;
        if (s->created) jpeg_destroy_decompress(&s->d);
        free(s);
        return NULL;
    }
    open_source(&s->d, data, fd, size);
    s->created = 1;
    jpeg_read_header(&s->d, TRUE);
    fill_info(&s->d, info);
    if (s->d.image_width == 0 || s->d.image_height == 0) {
        snprintf(err, DARKROOM_ERR_LEN, "image has a zero side (%ux%u)", s->d.image_width, s->d.image_height);
        longjmp(s->e.jump, 1);
    }
    info->width = info->stored_width;
    info->height = info->stored_height;
    capture_markers(&s->d, info);
    // Restart markers in a single-scan 8-bit Huffman file: known from the header (DRI, SOF and the
    // first SOS), so a plan can choose restart bands before decoding starts; the layout (MCUs per
    // row, rows per MCU row) is filled in by darkroom_jpeg_stream_start.
    if (!s->d.progressive_mode && !s->d.arith_code && s->d.restart_interval > 0
        && s->d.comps_in_scan == s->d.num_components && s->d.data_precision == 8)
        info->restart_interval = (int)s->d.restart_interval;
    return s;
}

darkroom_jpeg_stream *darkroom_jpeg_stream_open(const uint8_t *data, size_t size, darkroom_jpeg_info *info,
                                                char err[DARKROOM_ERR_LEN]) {
    return stream_open(data, -1, size, info, err);
}

darkroom_jpeg_stream *darkroom_jpeg_stream_open_fd(int fd, size_t size, darkroom_jpeg_info *info, char err[DARKROOM_ERR_LEN]) {
    return stream_open(NULL, fd, size, info, err);
}

void darkroom_jpeg_stream_set_deadline(darkroom_jpeg_stream *s, uint64_t deadline_ns) {
    install_progress((j_common_ptr)&s->d, &s->progress, deadline_ns);
}

void darkroom_jpeg_stream_set_max_scans(darkroom_jpeg_stream *s, unsigned max_scans) {
    s->progress.max_scans = max_scans;
    install_progress((j_common_ptr)&s->d, &s->progress, s->progress.deadline_ns);
}

/// After the deadline or the scan limit stopped libjpeg nothing more is asked of it: the entry
/// point answers at once with the same code.
static int stream_stopped(darkroom_jpeg_stream *s, char err[DARKROOM_ERR_LEN]) {
    if (s->e.timed_out) { snprintf(err, DARKROOM_ERR_LEN, "the time limit passed"); return DARKROOM_TIME_LIMIT; }
    if (s->e.too_many_scans) { snprintf(err, DARKROOM_ERR_LEN, "more than %u scans", s->progress.max_scans); return DARKROOM_TOO_MANY_SCANS; }
    return 0;
}

int darkroom_jpeg_stream_start(darkroom_jpeg_stream *s, int scale_denom, uint64_t max_pixels,
                               darkroom_jpeg_info *info, char err[DARKROOM_ERR_LEN]) {
    s->e.message = err;
    err[0] = 0;
    { int stopped = stream_stopped(s, err); if (stopped) return stopped; }
    if (setjmp(s->e.jump)) return failure_code(&s->e);
    set_scale(&s->d, scale_denom, info);
    if ((uint64_t)info->width * info->height > max_pixels) {
        snprintf(err, DARKROOM_ERR_LEN, "too many pixels");
        return -2;
    }
    s->d.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&s->d);
    info->restart_interval = info->mcus_per_row = info->mcu_height = 0;
    if (!s->d.progressive_mode && !s->d.arith_code && s->d.restart_interval > 0
        && s->d.comps_in_scan == s->d.num_components && s->d.data_precision == 8) {
        info->restart_interval = (int)s->d.restart_interval;
        info->mcus_per_row = (int)s->d.MCUs_per_row;
        info->mcu_height = s->d.comps_in_scan == 1 ? DCTSIZE : s->d.max_v_samp_factor * DCTSIZE;
    }
    return 0;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

int darkroom_jpeg_restart_tail(const uint8_t *data, size_t size, int mcu_row, int mcus_per_row, int restart_interval,
                               int mcu_height, uint8_t **out, size_t *out_size) {
    *out = NULL; *out_size = 0;
    if (mcu_row <= 0 || mcus_per_row <= 0 || restart_interval <= 0 || mcu_height <= 0) return -1;
    long long first = (long long)mcu_row * mcus_per_row;
    if (first % restart_interval != 0) return -1;
    long long skip = first / restart_interval;       // restart markers before the wanted MCU row
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return -1;
    // Header segments up to and including SOS; remember the frame header's height field.
    size_t pos = 2, sof_height = 0, entropy = 0;
    while (pos + 4 <= size) {
        if (data[pos] != 0xFF) return -1;
        uint8_t m = data[pos + 1];
        if (m == 0xFF) { pos++; continue; }           // fill bytes
        size_t len = (size_t)data[pos + 2] << 8 | data[pos + 3];
        if (len < 2 || pos + 2 + len > size) return -1;
        if (m == 0xC0 || m == 0xC1) {
            if (len < 8) return -1;
            sof_height = pos + 5;
        }
        else if (m >= 0xC2 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) return -1;   // not baseline/extended Huffman
        if (m == 0xDA) { entropy = pos + 2 + len; break; }
        pos += 2 + len;
    }
    if (!sof_height || !entropy) return -1;
    unsigned height = (unsigned)data[sof_height] << 8 | data[sof_height + 1];
    long long cut = (long long)mcu_row * mcu_height;
    if (cut >= height) return -1;
    // Find the end of restart interval `skip`.
    size_t i = entropy;
    long long seen = 0;
    while (seen < skip) {
        const uint8_t *ff = memchr(data + i, 0xFF, size - i);
        if (!ff) return -1;
        i = (size_t)(ff - data);
        if (i + 1 >= size) return -1;
        uint8_t m = data[i + 1];
        if (m >= 0xD0 && m <= 0xD7) seen++;
        else if (m != 0x00 && m != 0xFF) return -1;   // another marker (EOI, DNL) before it
        i += m == 0xFF ? 1 : 2;
    }
    size_t tail = size - i;
    uint8_t *buf = malloc(entropy + tail + 2);
    if (!buf) return -1;
    memcpy(buf, data, entropy);
    put16(buf + sof_height, height - (unsigned)cut);
    // The rest of the scan, restart markers renumbered from RST0, up to the end of the scan.
    size_t o = entropy;
    unsigned next = 0;
    int ended = 0;
    while (i < size) {
        const uint8_t *ff = memchr(data + i, 0xFF, size - i);
        size_t run = ff ? (size_t)(ff - (data + i)) : size - i;
        memcpy(buf + o, data + i, run);
        o += run; i += run;
        if (!ff || i + 1 >= size) { free(buf); return -1; }   // no EOI: let the one-band decode report it
        uint8_t m = data[i + 1];
        if (m >= 0xD0 && m <= 0xD7) {
            // A marker out of sequence is damage: let the one-band decode report it.
            if (m != (uint8_t)(0xD0 + ((skip + next) & 7))) { free(buf); return -1; }
            buf[o++] = 0xFF; buf[o++] = (uint8_t)(0xD0 + (next++ & 7)); i += 2; continue;
        }
        if (m == 0x00) { buf[o++] = 0xFF; buf[o++] = 0x00; i += 2; continue; }
        if (m == 0xFF) { i++; continue; }             // fill byte
        if (m != 0xD9) { free(buf); return -1; }       // a marker other than EOI: not a plain single scan
        ended = 1;
        break;
    }
    if (!ended) { free(buf); return -1; }
    buf[o++] = 0xFF; buf[o++] = 0xD9;
    *out = buf;
    *out_size = o;
    return 0;
}

int darkroom_jpeg_stream_read(darkroom_jpeg_stream *s, uint8_t *rows, size_t stride, int count,
                              char err[DARKROOM_ERR_LEN]) {
    s->e.message = err;
    err[0] = 0;
    // After an error or the deadline the caller fills the rows (and asks for no more).
    { int stopped = stream_stopped(s, err); if (stopped) return stopped; }
    if (setjmp(s->e.jump)) return failure_code(&s->e);
    size_t width = (size_t)s->d.output_width * (size_t)s->d.output_components;
    if (stride < width || count < 0) {
        snprintf(err, DARKROOM_ERR_LEN, "row stride %zu is shorter than a row (%zu bytes)", stride, width);
        return -1;
    }
    int n = 0;
    while (n < count && !s->done && s->d.output_scanline < s->d.output_height) {
        JSAMPROW batch[4];
        int k = 0;
        for (; k < 4 && n + k < count && s->d.output_scanline + k < s->d.output_height; k++)
            batch[k] = rows + (size_t)(n + k) * stride;
        JDIMENSION got = jpeg_read_scanlines(&s->d, batch, (JDIMENSION)k);
        if (got == 0) {
            // Suspended on truncated data: the rows left are filled mid-grey (128) below.
            record_warning(&s->warnings, 1, "the data ends before the last row");
            s->done = 1;
            break;
        }
        n += (int)got;
    }
    for (; n < count; n++) memset(rows + (size_t)n * stride, 128, width);
    return count;
}

// ---------------------------------------------------------------- raw planes (decode)

int darkroom_jpeg_stream_can_read_planes(const darkroom_jpeg_stream *s) {
    const struct jpeg_decompress_struct *d = &s->d;
    if (d->data_precision != 8) return 0;
    if (d->num_components == 3 && d->jpeg_color_space == JCS_YCbCr) return 1;
    return d->num_components == 1 && d->jpeg_color_space == JCS_GRAYSCALE;
}

int darkroom_jpeg_stream_start_planes(darkroom_jpeg_stream *s, int scale_denom, uint64_t max_pixels,
                                      darkroom_jpeg_info *info, darkroom_jpeg_planes *planes,
                                      char err[DARKROOM_ERR_LEN]) {
    memset(planes, 0, sizeof *planes);
    s->e.message = err;
    err[0] = 0;
    { int stopped = stream_stopped(s, err); if (stopped) return stopped; }
    if (setjmp(s->e.jump)) return failure_code(&s->e);
    if (!darkroom_jpeg_stream_can_read_planes(s) || s->d.num_components > 3) {
        snprintf(err, DARKROOM_ERR_LEN, "the components cannot be read as YCbCr or gray planes");
        return -1;
    }
    // Raw planes: libjpeg neither converts colour nor upsamples chroma.
    s->d.out_color_space = s->d.jpeg_color_space;
    s->d.raw_data_out = TRUE;
    set_scale(&s->d, scale_denom, info);
    if ((uint64_t)info->width * info->height > max_pixels) {
        snprintf(err, DARKROOM_ERR_LEN, "too many pixels");
        return -2;
    }
    s->d.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&s->d);
    info->restart_interval = info->mcus_per_row = info->mcu_height = 0;
    planes->count = s->d.num_components;
    for (int c = 0; c < planes->count; c++) {
        jpeg_component_info *comp = &s->d.comp_info[c];
        // libjpeg-turbo may scale a chroma component's IDCT up instead of upsampling it: the
        // component's own DCT_scaled_size gives its rows per block.
        planes->width[c] = (int)comp->downsampled_width;
        planes->height[c] = (int)comp->downsampled_height;
        planes->stride[c] = (int)comp->width_in_blocks * comp->DCT_scaled_size;
        planes->group_rows[c] = comp->v_samp_factor * comp->DCT_scaled_size;
        planes->h_samp[c] = comp->h_samp_factor;
        planes->v_samp[c] = comp->v_samp_factor;
        planes->x_factor[c] = (double)(s->d.max_h_samp_factor * s->d.min_DCT_scaled_size)
            / (double)(comp->h_samp_factor * comp->DCT_scaled_size);
        planes->y_factor[c] = (double)(s->d.max_v_samp_factor * s->d.min_DCT_scaled_size)
            / (double)(comp->v_samp_factor * comp->DCT_scaled_size);
    }
    int lines = s->d.max_v_samp_factor * s->d.min_DCT_scaled_size;
    planes->groups = (int)((s->d.output_height + (JDIMENSION)lines - 1) / (JDIMENSION)lines);
    return 0;
}

int darkroom_jpeg_stream_read_planes(darkroom_jpeg_stream *s, uint8_t **const rows[3], char err[DARKROOM_ERR_LEN]) {
    s->e.message = err;
    err[0] = 0;
    { int stopped = stream_stopped(s, err); if (stopped) return stopped; }
    if (setjmp(s->e.jump)) return failure_code(&s->e);
    int n = s->d.num_components;
    JSAMPARRAY data[3] = { rows[0], n > 1 ? rows[1] : NULL, n > 2 ? rows[2] : NULL };
    JDIMENSION lines = (JDIMENSION)(s->d.max_v_samp_factor * s->d.min_DCT_scaled_size);
    if (!s->done && s->d.output_scanline < s->d.output_height) {
        if (jpeg_read_raw_data(&s->d, data, lines) > 0) return 0;
        // Suspended on truncated data: the group is filled mid-grey (128) below.
        record_warning(&s->warnings, 1, "the data ends before the last row");
        s->done = 1;
    }
    for (int c = 0; c < n; c++) {
        jpeg_component_info *comp = &s->d.comp_info[c];
        int groupRows = comp->v_samp_factor * comp->DCT_scaled_size;
        size_t stride = (size_t)comp->width_in_blocks * (size_t)comp->DCT_scaled_size;
        for (int i = 0; i < groupRows; i++) memset(rows[c][i], 128, stride);
    }
    return 0;
}

darkroom_warnings darkroom_jpeg_stream_warnings(const darkroom_jpeg_stream *s) { return s->warnings; }

void darkroom_jpeg_stream_close(darkroom_jpeg_stream *s) {
    if (!s) return;
    if (s->created) {
        jpeg_abort_decompress(&s->d);
        jpeg_destroy_decompress(&s->d);
    }
    free(s);
}

// ---------------------------------------------------------------- encoding

/// The encoder's output: one growing buffer the shim owns (not jpeg_mem_dest, whose buffer is
/// freed and replaced inside libjpeg as it grows, so after an error or a deadline mid-encode the
/// caller's pointer to it is stale: freeing it was a double free).
struct shim_destination {
    struct jpeg_destination_mgr pub;
    unsigned char *buffer;
    size_t size;
};

static void destination_init(j_compress_ptr c) { (void)c; }

/// The buffer is full: doubled (realloc keeps what was written), libjpeg continues after it.
static boolean destination_grow(j_compress_ptr c) {
    struct shim_destination *d = (struct shim_destination *)c->dest;
    size_t next = d->size * 2;
    unsigned char *grown = next > d->size ? realloc(d->buffer, next) : NULL;
    if (!grown) ERREXIT1(c, JERR_OUT_OF_MEMORY, 10);
    d->pub.next_output_byte = grown + d->size;
    d->pub.free_in_buffer = next - d->size;
    d->buffer = grown;
    d->size = next;
    return TRUE;
}

static void destination_term(j_compress_ptr c) { (void)c; }

struct darkroom_jpeg_encoder {
    struct jpeg_compress_struct c;
    struct shim_error e;
    struct shim_progress progress;
    struct shim_destination dest;   // the output, owned here until finish hands it over
    int created;
    int failed;
};

/// An entry point called after the encoder failed (or was stopped at its deadline): nothing more is asked of libjpeg.
static int encoder_failed_before(darkroom_jpeg_encoder *s, char err[DARKROOM_ERR_LEN]) {
    snprintf(err, DARKROOM_ERR_LEN, s->e.timed_out ? "the time limit passed" : "the encoder failed before");
    return failure_code(&s->e);
}

/// The luminance quantisation table: the one mozjpeg lists as tuned for MS-SSIM on the Kodak set
/// (its `-quant-table 2`), in natural (row-major) order. libjpeg scales it by the quality exactly as
/// it scales JPEG Annex K's table (`jpeg_quality_scaling`); chrominance keeps Annex K's. Measured
/// at equal bytes against Annex K on five photos (docs/performance.md, "JPEG quantisation tables"):
/// luma PSNR +0.45 dB, Cb/Cr PSNR +0.4 dB, luma SSIM level; at quality 100 both are all ones.
static const unsigned int darkroom_luma_quant_table[DCTSIZE2] = {
    12, 17, 20, 21, 30, 34, 56, 63,
    18, 20, 20, 26, 28, 51, 61, 55,
    19, 20, 21, 26, 33, 58, 69, 55,
    26, 26, 26, 30, 46, 87, 86, 66,
    31, 33, 36, 40, 46, 96, 100, 73,
    40, 35, 46, 62, 81, 100, 111, 91,
    46, 66, 76, 86, 102, 121, 120, 101,
    68, 90, 90, 96, 113, 102, 105, 103,
};

/// The one encoder set-up: RGB/gray scanlines, or with `planes` raw Y/Cb/Cr or gray planes
/// (`raw_data_in`), whose layout it fills in.
static darkroom_jpeg_encoder *encoder_start(int width, int height, int components, int quality,
                                            int progressive, int subsample444, int optimize, int restart_rows,
                                            const uint8_t *icc, unsigned icc_len,
                                            const uint8_t *exif, unsigned exif_len, uint64_t deadline_ns,
                                            darkroom_jpeg_planes *planes, char err[DARKROOM_ERR_LEN]) {
    darkroom_jpeg_encoder *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, DARKROOM_ERR_LEN, "out of memory"); return NULL; }
    s->c.err = install_errors(&s->e, err, NULL);
    if (setjmp(s->e.jump)) {
        darkroom_jpeg_encoder_free(s);
        return NULL;
    }
    jpeg_create_compress(&s->c);
    s->created = 1;
    install_progress((j_common_ptr)&s->c, &s->progress, deadline_ns);
    s->dest.size = 65536;
    s->dest.buffer = malloc(s->dest.size);
    if (!s->dest.buffer) ERREXIT1(&s->c, JERR_OUT_OF_MEMORY, 10);
    s->dest.pub.next_output_byte = s->dest.buffer;
    s->dest.pub.free_in_buffer = s->dest.size;
    s->dest.pub.init_destination = destination_init;
    s->dest.pub.empty_output_buffer = destination_grow;
    s->dest.pub.term_destination = destination_term;
    s->c.dest = &s->dest.pub;
    s->c.image_width = (JDIMENSION)width;
    s->c.image_height = (JDIMENSION)height;
    s->c.input_components = components;
    s->c.in_color_space = components == 1 ? JCS_GRAYSCALE : planes ? JCS_YCbCr : JCS_EXT_RGB;
    jpeg_set_defaults(&s->c);
    if (planes) s->c.raw_data_in = TRUE;
    jpeg_set_quality(&s->c, quality, TRUE);
    jpeg_add_quant_table(&s->c, 0, darkroom_luma_quant_table, jpeg_quality_scaling(quality), TRUE);
    s->c.dct_method = JDCT_ISLOW;
    s->c.optimize_coding = optimize ? TRUE : FALSE;
    if (components == 3) {
        int h = subsample444 ? 1 : 2;
        s->c.comp_info[0].h_samp_factor = h; s->c.comp_info[0].v_samp_factor = h;
        s->c.comp_info[1].h_samp_factor = 1; s->c.comp_info[1].v_samp_factor = 1;
        s->c.comp_info[2].h_samp_factor = 1; s->c.comp_info[2].v_samp_factor = 1;
    }
    if (progressive) jpeg_simple_progression(&s->c);
    if (restart_rows > 0) s->c.restart_in_rows = restart_rows;
    jpeg_start_compress(&s->c, TRUE);
    if (planes) {
        memset(planes, 0, sizeof *planes);
        planes->count = s->c.num_components;
        for (int c = 0; c < planes->count && c < 3; c++) {
            jpeg_component_info *comp = &s->c.comp_info[c];
            planes->width[c] = (int)comp->downsampled_width;
            planes->height[c] = (int)comp->downsampled_height;
            planes->stride[c] = (int)comp->width_in_blocks * DCTSIZE;
            planes->group_rows[c] = comp->v_samp_factor * DCTSIZE;
            planes->h_samp[c] = comp->h_samp_factor;
            planes->v_samp[c] = comp->v_samp_factor;
            planes->x_factor[c] = (double)s->c.max_h_samp_factor / (double)comp->h_samp_factor;
            planes->y_factor[c] = (double)s->c.max_v_samp_factor / (double)comp->v_samp_factor;
        }
        int lines = s->c.max_v_samp_factor * DCTSIZE;
        planes->groups = (height + lines - 1) / lines;
    }
    if (exif && exif_len > 0 && exif_len + 6 <= 65533) {
        unsigned char *payload = malloc(exif_len + 6);
        if (payload) {
            memcpy(payload, "Exif\0\0", 6);
            memcpy(payload + 6, exif, exif_len);
            jpeg_write_marker(&s->c, JPEG_APP0 + 1, payload, exif_len + 6);
            free(payload);
        }
    }
    if (icc && icc_len > 0) jpeg_write_icc_profile(&s->c, icc, icc_len);
    return s;
}

darkroom_jpeg_encoder *darkroom_jpeg_encoder_start(int width, int height, int components, int quality,
                                                   int progressive, int subsample444, int optimize, int restart_rows,
                                                   const uint8_t *icc, unsigned icc_len,
                                                   const uint8_t *exif, unsigned exif_len, uint64_t deadline_ns,
                                                   char err[DARKROOM_ERR_LEN]) {
    return encoder_start(width, height, components, quality, progressive, subsample444, optimize, restart_rows,
                         icc, icc_len, exif, exif_len, deadline_ns, NULL, err);
}

darkroom_jpeg_encoder *darkroom_jpeg_encoder_start_planes(int width, int height, int components, int quality,
                                                          int progressive, int subsample444, int optimize,
                                                          const uint8_t *icc, unsigned icc_len,
                                                          const uint8_t *exif, unsigned exif_len, uint64_t deadline_ns,
                                                          darkroom_jpeg_planes *planes, char err[DARKROOM_ERR_LEN]) {
    if (components != 1 && components != 3) {
        snprintf(err, DARKROOM_ERR_LEN, "raw planes are gray (1) or YCbCr (3), not %d components", components);
        return NULL;
    }
    return encoder_start(width, height, components, quality, progressive, subsample444, optimize, 0,
                         icc, icc_len, exif, exif_len, deadline_ns, planes, err);
}

int darkroom_jpeg_encoder_write_planes(darkroom_jpeg_encoder *s, uint8_t **const rows[3], char err[DARKROOM_ERR_LEN]) {
    if (s->failed) return encoder_failed_before(s, err);
    s->e.message = err;
    err[0] = 0;
    if (setjmp(s->e.jump)) { s->failed = 1; return failure_code(&s->e); }
    int n = s->c.num_components;
    JSAMPARRAY data[3] = { rows[0], n > 1 ? rows[1] : NULL, n > 2 ? rows[2] : NULL };
    if (s->c.next_scanline < s->c.image_height)
        jpeg_write_raw_data(&s->c, data, (JDIMENSION)(s->c.max_v_samp_factor * DCTSIZE));
    return 0;
}

int darkroom_jpeg_encoder_write(darkroom_jpeg_encoder *s, const uint8_t *rows, size_t stride, int count,
                                char err[DARKROOM_ERR_LEN]) {
    if (s->failed) return encoder_failed_before(s, err);
    s->e.message = err;
    err[0] = 0;
    if (setjmp(s->e.jump)) { s->failed = 1; return failure_code(&s->e); }
    for (int n = 0; n < count && s->c.next_scanline < s->c.image_height; n++) {
        JSAMPROW row = (JSAMPROW)(rows + (size_t)n * stride);
        jpeg_write_scanlines(&s->c, &row, 1);
    }
    return 0;
}

int darkroom_jpeg_encoder_finish(darkroom_jpeg_encoder *s, uint8_t **out, unsigned long *out_size,
                                 char err[DARKROOM_ERR_LEN]) {
    *out = NULL; *out_size = 0;
    if (s->failed) return encoder_failed_before(s, err);
    s->e.message = err;
    err[0] = 0;
    if (setjmp(s->e.jump)) { s->failed = 1; return failure_code(&s->e); }
    if (s->c.next_scanline < s->c.image_height) {
        snprintf(err, DARKROOM_ERR_LEN, "only %u of %u rows were written", s->c.next_scanline, s->c.image_height);
        s->failed = 1;
        return -1;
    }
    jpeg_finish_compress(&s->c);
    *out = s->dest.buffer;
    *out_size = (unsigned long)(s->dest.size - s->dest.pub.free_in_buffer);
    s->dest.buffer = NULL;
    return 0;
}

void darkroom_jpeg_encoder_free(darkroom_jpeg_encoder *s) {
    if (!s) return;
    if (s->created) jpeg_destroy_compress(&s->c);
    free(s->dest.buffer);
    free(s);
}

int darkroom_jpeg_encode(const uint8_t *pixels, int width, int height, int components, int quality,
                         int progressive, int subsample444, int optimize,
                         const uint8_t *icc, unsigned icc_len, const uint8_t *exif, unsigned exif_len,
                         uint64_t deadline_ns, uint8_t **out, unsigned long *out_size, char err[DARKROOM_ERR_LEN]) {
    *out = NULL; *out_size = 0;
    darkroom_jpeg_encoder *s = darkroom_jpeg_encoder_start(width, height, components, quality, progressive, subsample444, optimize, 0,
                                                           icc, icc_len, exif, exif_len, deadline_ns, err);
    if (!s) return -1;
    int rc = darkroom_jpeg_encoder_write(s, pixels, (size_t)width * (size_t)components, height, err);
    if (rc == 0) rc = darkroom_jpeg_encoder_finish(s, out, out_size, err);
    darkroom_jpeg_encoder_free(s);
    return rc;
}
