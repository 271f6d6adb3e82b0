#ifndef CDARKROOM_H
#define CDARKROOM_H
// C shims for the two libraries that report errors with setjmp/longjmp (libjpeg, libpng),
// which Swift cannot unwind through. Each entry point sets its own jump buffer and returns
// 0 on success or -1 with a message in `err` (DARKROOM_ERR_LEN bytes), or DARKROOM_TIME_LIMIT
// when a deadline given to it passed (libjpeg's progress monitor, libpng's row callbacks). Buffers handed back
// through out-parameters are malloc'd: release them with darkroom_free().
#include <stddef.h>
#include <stdint.h>

#define DARKROOM_ERR_LEN 256

/// 1 when the CPU has AVX2 and FMA (the darkroom_avx2_* kernels in CDarkroomKernels may run), else 0.
int darkroom_cpu_has_avx2_fma(void);

/// 1 when the CPU also has AVX-VNNI (VEX vpdpwssd), BMI2, F16C, MOVBE and LZCNT (the darkroom_avxvnni_*
/// kernels in CDarkroomKernels may run; they need only AVX2 + FMA + AVX-VNNI), else 0.
int darkroom_cpu_has_avx_vnni(void);

void darkroom_free(void *p);

/// What an entry point returns when its deadline passed: the codec was stopped (through the
/// shim's own longjmp path, so its state can still be freed as after an error).
#define DARKROOM_TIME_LIMIT (-3)
/// Returned by a JPEG decode stopped past its scan limit (darkroom_jpeg_stream_set_max_scans).
#define DARKROOM_TOO_MANY_SCANS (-4)

/// CLOCK_MONOTONIC in nanoseconds: the clock of every deadline (`deadline_ns`, 0 = none).
uint64_t darkroom_monotonic_ns(void);

/// 1 when `deadline_ns` is not 0 and CLOCK_MONOTONIC has reached it, else 0.
int darkroom_deadline_passed(uint64_t deadline_ns);

/// The libjpeg-turbo version Darkroom was built against (libjpeg has no run-time version call), e.g. "2.1.5".
const char *darkroom_libjpeg_turbo_version(void);
/// The libpng version Darkroom runs with (png_get_libpng_ver), e.g. "1.6.39".
const char *darkroom_libpng_version(void);

/// Warnings a decoder emitted. `truncated` counts those that mean missing or made-up pixels
/// (premature end of file or data segment, bad entropy codes, lost restart markers); `message`
/// holds the first such warning, else the first warning of any kind.
typedef struct {
    int count;
    int truncated;
    char message[DARKROOM_ERR_LEN];
} darkroom_warnings;

// ---------------------------------------------------------------- JPEG

typedef struct {
    int stored_width, stored_height;   // SOF size
    int width, height;                 // output size (after DCT scaling)
    int components;                    // output channels: 1 gray, 3 RGB, 4 CMYK
    int is_cmyk;                       // output is CMYK (from CMYK or YCCK)
    int adobe_inverted;                // Adobe APP14 present: CMYK values are stored inverted
    int precision;                     // bits per sample in the file
    int progressive;
    // Restart layout, set by darkroom_jpeg_stream_start for a single-scan Huffman file with a
    // restart interval (0 otherwise): MCUs per restart interval, MCUs per MCU row, stored rows per MCU row.
    int restart_interval, mcus_per_row, mcu_height;
    uint8_t *icc; unsigned icc_len;    // malloc'd, or NULL
    uint8_t *exif; unsigned exif_len;  // malloc'd APP1 Exif payload after "Exif\0\0", or NULL
} darkroom_jpeg_info;

/// A JPEG decode that hands out rows as they are decoded (shrink-on-load streaming: the
/// pipeline's resampler pulls rows, so no full-size buffer exists). One header parse: open
/// reads the header and markers, start sets the DCT scale, read returns the next rows.
typedef struct darkroom_jpeg_stream darkroom_jpeg_stream;

/// Parses the header and markers of `data` (which must outlive the stream) into `info` (size at
/// scale 1; icc/exif malloc'd for the caller). Returns NULL with `err` set on failure.
darkroom_jpeg_stream *darkroom_jpeg_stream_open(const uint8_t *data, size_t size, darkroom_jpeg_info *info,
                                                char err[DARKROOM_ERR_LEN]);

/// darkroom_jpeg_stream_open on the first `size` bytes of the open file `fd` (which must stay open
/// while the stream exists), read with pread from offset 0, 64 KiB at a time: the same warnings
/// and errors as the same bytes in memory (past the end, libjpeg's "Premature end of JPEG file"
/// and a fake EOI, as jpeg_mem_src).
darkroom_jpeg_stream *darkroom_jpeg_stream_open_fd(int fd, size_t size, darkroom_jpeg_info *info, char err[DARKROOM_ERR_LEN]);

/// Stops the decode at `deadline_ns` (CLOCK_MONOTONIC; 0: never): libjpeg's progress monitor checks
/// it on every row read and every scan step of a progressive file's decode (inside
/// darkroom_jpeg_stream_start), and the entry point returns DARKROOM_TIME_LIMIT. The stream must
/// then only be closed.
void darkroom_jpeg_stream_set_deadline(darkroom_jpeg_stream *s, uint64_t deadline_ns);

/// Stops the decode once more than `max_scans` scans were read (0: no limit), as djpeg's
/// -maxscans and TurboJPEG's TJPARAM_SCANLIMIT do: libjpeg's progress monitor checks the scan
/// number before each step of a multi-scan file's decode (in darkroom_jpeg_stream_start), and the
/// entry point returns DARKROOM_TOO_MANY_SCANS with `err` set.
void darkroom_jpeg_stream_set_max_scans(darkroom_jpeg_stream *s, unsigned max_scans);

/// Sets the DCT scale (1, 2, 4, 8) and starts decompression; `info->width/height` get the output
/// size. Returns 0, -1 (error, `err`), -2 (the output has more than max_pixels pixels) or
/// DARKROOM_TIME_LIMIT.
int darkroom_jpeg_stream_start(darkroom_jpeg_stream *s, int scale_denom, uint64_t max_pixels,
                               darkroom_jpeg_info *info, char err[DARKROOM_ERR_LEN]);

/// A JPEG that starts at MCU row `mcu_row` of `data` (a single-scan Huffman file with restart
/// markers, as darkroom_jpeg_stream_start describes it): the same header segments with the frame
/// height reduced by mcu_row * mcu_height rows, then the entropy-coded data after the restart
/// marker that begins that MCU row (restart markers reset the DC predictions, so decoding can
/// start there), its later restart markers renumbered from RST0, then EOI. (mcu_row * mcus_per_row)
/// must be a multiple of restart_interval. Returns 0 with *out malloc'd, or -1 when the data does
/// not have that marker, or when what follows it is damaged (a restart marker out of sequence, no
/// EOI, another marker): the caller then decodes in one band, which reports the damage.
int darkroom_jpeg_restart_tail(const uint8_t *data, size_t size, int mcu_row, int mcus_per_row, int restart_interval,
                               int mcu_height, uint8_t **out, size_t *out_size);

/// Decodes the next `count` rows into `rows` (`stride` bytes apart). Rows past a truncated end are
/// mid-grey, as libjpeg's own fill, with a warning. Returns `count`, or -1 on an error (`err`),
/// or DARKROOM_TIME_LIMIT (the rows are the caller's to fill, as after an error).
int darkroom_jpeg_stream_read(darkroom_jpeg_stream *s, uint8_t *rows, size_t stride, int count,
                              char err[DARKROOM_ERR_LEN]);

/// The planes of a raw (YCbCr or gray, no colour conversion, no chroma resampling) decode or
/// encode: libjpeg's components as they are stored, after any DCT scaling. Rows are moved one
/// iMCU row group at a time: `group_rows[c]` rows of component c per call, each `stride[c]`
/// bytes long at most (libjpeg reads or writes whole blocks, so a row buffer must hold
/// `stride[c]` bytes; samples past `width[c]` are padding).
typedef struct {
    int count;                         // components: 1 (gray) or 3 (Y, Cb, Cr)
    int width[3], height[3];           // each plane's size in samples
    int stride[3];                     // bytes a row buffer must hold (whole blocks)
    int group_rows[3];                 // rows of each plane per read or write call
    int h_samp[3], v_samp[3];          // the file's sampling factors
    double x_factor[3], y_factor[3];   // image (luma) samples per plane sample, e.g. 2 for 4:2:0 chroma
    int groups;                        // iMCU row groups in the image
} darkroom_jpeg_planes;

/// 1 when the header's components can be read as raw planes: 8-bit YCbCr with 3 components or
/// gray with 1 (not RGB-coded, CMYK or YCCK). Call after darkroom_jpeg_stream_open.
int darkroom_jpeg_stream_can_read_planes(const darkroom_jpeg_stream *s);

/// darkroom_jpeg_stream_start for raw planes (`raw_data_out`): the DCT scale and the pixel limit
/// as there, then `planes` describes what darkroom_jpeg_stream_read_planes gives. Returns 0, -1
/// (error, `err`) or -2 (too many pixels, checked before libjpeg allocates its buffers).
int darkroom_jpeg_stream_start_planes(darkroom_jpeg_stream *s, int scale_denom, uint64_t max_pixels,
                                      darkroom_jpeg_info *info, darkroom_jpeg_planes *planes,
                                      char err[DARKROOM_ERR_LEN]);

/// Decodes the next iMCU row group: rows[c][i] receives row i of the group of plane c
/// (`group_rows[c]` pointers per plane, each to `stride[c]` bytes). Past a truncated end the
/// rows are mid-grey (128), as libjpeg's own fill, with a warning. Returns 0, -1 (`err`) or DARKROOM_TIME_LIMIT.
int darkroom_jpeg_stream_read_planes(darkroom_jpeg_stream *s, uint8_t **const rows[3], char err[DARKROOM_ERR_LEN]);

/// The warnings collected so far.
darkroom_warnings darkroom_jpeg_stream_warnings(const darkroom_jpeg_stream *s);

/// Ends the decode and frees the stream (NULL is fine).
void darkroom_jpeg_stream_close(darkroom_jpeg_stream *s);

/// A JPEG encode fed a few rows at a time (the pipeline's resampler hands over rows as it makes
/// them). start writes the header and markers, write takes the next rows, finish returns the file.
typedef struct darkroom_jpeg_encoder darkroom_jpeg_encoder;

/// Starts an encode of 8-bit gray (components 1) or RGB (3), with optimised Huffman tables when
/// `optimize` and a restart marker every `restart_rows` MCU rows (0: none); NULL with `err` set on failure.
/// `deadline_ns` (CLOCK_MONOTONIC; 0: never): libjpeg's progress monitor checks it on every row
/// written and every step of the passes in darkroom_jpeg_encoder_finish (progressive and
/// optimised Huffman), and the entry point returns DARKROOM_TIME_LIMIT; the encoder must then only be freed.
darkroom_jpeg_encoder *darkroom_jpeg_encoder_start(int width, int height, int components, int quality,
                                                   int progressive, int subsample444, int optimize, int restart_rows,
                                                   const uint8_t *icc, unsigned icc_len,
                                                   const uint8_t *exif, unsigned exif_len, uint64_t deadline_ns,
                                                   char err[DARKROOM_ERR_LEN]);

/// darkroom_jpeg_encoder_start for raw planes (`raw_data_in`): Y, Cb, Cr (components 3, sampled
/// 4:2:0, or 4:4:4 with `subsample444`) or gray (1), written with
/// darkroom_jpeg_encoder_write_planes; `planes` describes the planes the encoder takes.
darkroom_jpeg_encoder *darkroom_jpeg_encoder_start_planes(int width, int height, int components, int quality,
                                                          int progressive, int subsample444, int optimize,
                                                          const uint8_t *icc, unsigned icc_len,
                                                          const uint8_t *exif, unsigned exif_len, uint64_t deadline_ns,
                                                          darkroom_jpeg_planes *planes, char err[DARKROOM_ERR_LEN]);

/// Encodes the next iMCU row group: rows[c][i] is row i of the group of plane c (`group_rows[c]`
/// pointers per plane, each to `stride[c]` bytes with the padding filled). Returns 0, -1 with `err` set, or DARKROOM_TIME_LIMIT.
int darkroom_jpeg_encoder_write_planes(darkroom_jpeg_encoder *s, uint8_t **const rows[3], char err[DARKROOM_ERR_LEN]);

/// Encodes the next `count` rows (`stride` bytes apart). Returns 0, -1 with `err` set, or DARKROOM_TIME_LIMIT.
int darkroom_jpeg_encoder_write(darkroom_jpeg_encoder *s, const uint8_t *rows, size_t stride, int count,
                                char err[DARKROOM_ERR_LEN]);

/// After the last row: the file, malloc'd into *out (the caller frees it). Returns 0, -1 or DARKROOM_TIME_LIMIT.
int darkroom_jpeg_encoder_finish(darkroom_jpeg_encoder *s, uint8_t **out, unsigned long *out_size,
                                 char err[DARKROOM_ERR_LEN]);

/// Frees the encoder (NULL is fine).
void darkroom_jpeg_encoder_free(darkroom_jpeg_encoder *s);

/// Encodes 8-bit gray (components 1) or RGB (3). Returns 0, -1 or DARKROOM_TIME_LIMIT (`deadline_ns`
/// as darkroom_jpeg_encoder_start's); nothing is left allocated on failure.
int darkroom_jpeg_encode(const uint8_t *pixels, int width, int height, int components, int quality,
                         int progressive, int subsample444, int optimize,
                         const uint8_t *icc, unsigned icc_len, const uint8_t *exif, unsigned exif_len,
                         uint64_t deadline_ns, uint8_t **out, unsigned long *out_size, char err[DARKROOM_ERR_LEN]);

// ---------------------------------------------------------------- PNG

typedef struct {
    uint32_t width, height;
    int bit_depth;        // as stored
    int color_type;       // PNG_COLOR_TYPE_*
    int interlaced;
    int has_trns;
    int channels;         // stream only: decoded channels after expansion: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int out_depth;        // stream only: decoded bits per sample: 8 or 16 (16 is native-endian)
    int has_srgb;         // sRGB chunk
    double gamma;         // gAMA value, 0 when absent
    int gamma_corrected;  // pixels were converted from the file gamma to sRGB's
    int frames;           // APNG num_frames, 1 otherwise
    int has_cicp;         // a 4-byte cICP chunk before the image data (libpng 1.6.39 keeps it as an unknown chunk)
    uint8_t cicp[4];      // its colour primaries, transfer characteristics, matrix coefficients, full-range flag
    uint8_t *icc; uint32_t icc_len;    // malloc'd, or NULL
    uint8_t *exif; uint32_t exif_len;  // malloc'd, or NULL: the eXIf chunk, else an ImageMagick text chunk's (exif_from_text)
    int exif_from_text;   // exif is the payload of a "Raw profile type exif" (or "APP1" holding Exif) text chunk
                          // before the image data, as ImageMagick writes it and Pillow and exiftool read it
    darkroom_warnings warnings;        // what libpng warned about while decoding
} darkroom_png_info;

/// Reads the header and the chunks before the image data (size, ICC, EXIF, cICP, APNG frames) without
/// decoding; icc/exif are malloc'd for the caller. Returns 0 or -1 (`err`).
int darkroom_png_read_header(const uint8_t *data, size_t size, darkroom_png_info *info, char err[DARKROOM_ERR_LEN]);

/// A PNG decode that hands out rows as they are decoded (the pipeline's resampler pulls rows, so
/// no full-size buffer exists; the whole-image decode reads every row at once). One header parse.
typedef struct darkroom_png_stream darkroom_png_stream;

/// Parses the header of `data` (which must outlive the stream) and sets the decoded layout: 8- or
/// 16-bit gray/GA/RGB/RGBA (palette and tRNS expanded, sub-8-bit gray widened, 16-bit native-endian)
/// in info->channels / info->out_depth. icc/exif found before the image data are malloc'd into
/// `info` (the caller frees them); `info` must stay in place until the stream is closed. Returns
/// NULL with *rc -1 (error, `err`) or -2 (more than max_pixels pixels, checked before any row
/// buffer is allocated).
darkroom_png_stream *darkroom_png_stream_open(const uint8_t *data, size_t size, uint64_t max_pixels, int keep_truncated,
                                              darkroom_png_info *info, int *rc, char err[DARKROOM_ERR_LEN]);

/// darkroom_png_stream_open on the first `size` bytes of the open file `fd` (which must stay open
/// while the stream exists), read with pread from offset 0 through a 64 KiB window: the same
/// warnings and errors as the same bytes in memory.
darkroom_png_stream *darkroom_png_stream_open_fd(int fd, size_t size, uint64_t max_pixels, int keep_truncated,
                                                 darkroom_png_info *info, int *rc, char err[DARKROOM_ERR_LEN]);

/// Stops the decode at `deadline_ns` (CLOCK_MONOTONIC; 0: never): libpng's row callback checks it
/// after every row (every pass of an interlaced image too), and darkroom_png_stream_read or
/// darkroom_png_stream_check returns DARKROOM_TIME_LIMIT (the rows not read are zero; the
/// stream must then only be closed).
void darkroom_png_stream_set_deadline(darkroom_png_stream *s, uint64_t deadline_ns);

/// Decodes every row that is left (every pass of an interlaced image) into one row of scratch
/// memory and keeps none: what darkroom_png_stream_read of all rows would report, without the
/// image. Returns 0, or -4 / -1 with `err` as darkroom_png_stream_read (with keep_truncated a
/// truncated end is a warning and 0).
int darkroom_png_stream_check(darkroom_png_stream *s, char err[DARKROOM_ERR_LEN]);

/// Decodes the next `count` rows into `rows` (`stride` bytes apart); an interlaced image must be
/// read in one request for all rows. Returns `count`. When the data ends early: with
/// keep_truncated (non-interlaced, at least one row read) the missing rows are zero, a truncated
/// warning is recorded and `count` is returned; otherwise -4 (rows were read) or -1 (none, or any
/// other error), with the message in `err` and the missing rows zero.
int darkroom_png_stream_read(darkroom_png_stream *s, uint8_t *rows, size_t stride, int count,
                             char err[DARKROOM_ERR_LEN]);

/// After the last row: reads the chunks after the image data (eXIf / iCCP there land in `info`).
/// An error there is recorded as a truncated warning (the pixels are whole).
void darkroom_png_stream_finish(darkroom_png_stream *s);

/// Frees the stream (NULL is fine).
void darkroom_png_stream_close(darkroom_png_stream *s);

/// Encodes channels 1-4 at depth 8 or 16 (16-bit samples native-endian).
/// level: zlib level 0-9; strategy: a zlib strategy, or -1 to pick Z_RLE for photographic content and
/// the default LZ77 strategy for flat graphics; filters: a PNG_FILTER_* mask, or -1 for all (adaptive).
/// `deadline_ns` (CLOCK_MONOTONIC; 0: never): libpng's row callback checks it after every row
/// written. Returns 0, -1 (`err`) or DARKROOM_TIME_LIMIT; nothing is left allocated on failure.
int darkroom_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int depth,
                        int level, int strategy, int filters,
                        const uint8_t *icc, uint32_t icc_len, const uint8_t *exif, uint32_t exif_len,
                        uint64_t deadline_ns, uint8_t **out, size_t *out_size, char err[DARKROOM_ERR_LEN]);

/// Inflates the zlib stream of `len` bytes at `in` (a PNG zTXt or compressed iTXt text) into at
/// most `max_out` bytes: returns 0 with *out malloc'd (the caller frees it; *out_len bytes, a
/// NULL *out for 0 bytes), -1 for a damaged or cut stream, -2 when the text is longer than
/// `max_out` (nothing larger is allocated).
int darkroom_inflate(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *out_len);

/// The CRC-32 of `len` bytes, as PNG chunks use it, for the header walk of
/// `ImageInspection` (a PNG's chunk CRCs checked without decoding).
uint32_t darkroom_crc32(const uint8_t *bytes, size_t len);

/// libpng's own checks of a profile about to be written as iCCP (header, rendering intent, PCS
/// illuminant, known-incorrect sRGB profiles): 1 when libpng would write it, else 0 with its words
/// in `err`.
int darkroom_png_icc_acceptable(const uint8_t *icc, uint32_t icc_len, int gray, char err[DARKROOM_ERR_LEN]);

#endif
