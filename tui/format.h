/* Formatting for the screen: pure functions of their arguments (no curses, no clock, no pool
 * handle), so they are unit-tested over many widths.
 *
 * Text from browsers is untrusted: every function that fits text into cells replaces control
 * characters and invalid UTF-8 with '?', so a page cannot move the cursor or change colours. */
#ifndef AC_FORMAT_H
#define AC_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/pool.h"
#include "columns.h"

/* The status words and the longest of them ("UNAVAILABLE"): a status column is never narrower. */
#define FMT_STATUS_MAX 11
extern const char *const fmt_status_words[]; /* NULL-terminated: HARDWARE SOFTWARE ... n/a */

/* HARDWARE / SOFTWARE / UNAVAILABLE / UNKNOWN, or n/a before the browser said hello. */
const char *fmt_status_word(const ac_caps *c, ac_platform p);
const char *fmt_class_word(ac_class c);

/* Display columns of UTF-8 text as fmt_fit() would show it (wide characters count 2). */
int fmt_width(const char *s);

/* Copies s into out (cap bytes), sanitised, cut to at most `width` display columns. A cut is
 * marked with '~' in the last column, and never falls inside a status word (any case): the cut
 * moves before the word instead. Returns the columns used. */
int fmt_fit(char *out, size_t cap, const char *s, int width);

/* fmt_fit(), then spaces up to exactly `width` columns, on the left when right_align. */
int fmt_pad(char *out, size_t cap, const char *s, int width, bool right_align);

/* Durations: "45s", "12m03s", "3h07m", "2d05h"; uptime as "02:03:04" or "1d 02:03:04".
 * Negative input gives "n/a". */
void fmt_duration(char *out, size_t cap, int64_t us);
void fmt_uptime(char *out, size_t cap, int64_t us);

/* Local wall-clock time of t_us as HH:MM:SS. */
void fmt_clock(char *out, size_t cap, int64_t t_us);

/* Milliseconds with a precision that fits 7 columns: "0.69", "12.3", "123", "12345"; "n/a". */
void fmt_ms(char *out, size_t cap, double ms, bool valid);
/* Counts that fit 6 columns: "999", "12.3k", "4.56M". */
void fmt_count(char *out, size_t cap, uint64_t n);
/* Memory like htop: "512K", "123M", "1.2G", "12G", "1.0T" (4 columns at most); "n/a" when not
 * valid. */
void fmt_bytes(char *out, size_t cap, int64_t bytes, bool valid);
/* CPU % of one core: "3.4", "99.9", "123", "1600"; "n/a" when not valid. */
void fmt_pct(char *out, size_t cap, double pct, bool valid);
/* Rates: "0.0", "12.5", "1234". */
void fmt_rate(char *out, size_t cap, double per_s);

/* A sparkline of the newest samples of hist (oldest first, len samples), at most `width`
 * columns, right-aligned (spaces on the left while history is short), scaled from 0 to the
 * largest sample shown. UTF-8 blocks when utf8, else ASCII "_.-:=+*#". Returns columns drawn. */
int fmt_sparkline(char *out, size_t cap, const float *hist, int len, int width, bool utf8);

/* "1,2,3" (or "-" when empty). */
void fmt_id_list(char *out, size_t cap, const int *ids, int n);

/* ---- header ---- */

/* The first header line, exactly `width` columns: name, URL, and "up UPTIME  CLOCK" on the right.
 * When it does not fit, the clock goes first, then the name, then the uptime; the URL is cut
 * only when it alone is wider than the line. Returns the columns the name takes (0: dropped). */
int fmt_header_top(char *out, size_t cap, int width, const char *name, const char *url, const char *uptime,
		   const char *clock);

typedef struct {
	size_t connected, browsers;
	int running;
	size_t models;
	int inflight;
	double done_per_s;
	uint64_t errors;
} header_counts;

/* The second header line (unpadded), with short labels when the long ones do not fit `width`. */
void fmt_header_counts(char *out, size_t cap, int width, const header_counts *c);

/* ---- rows of the two panels ---- */

/* browser_load (tui/columns.h) for browser_id. */
void fmt_browser_load(const pool_model *models, size_t n_models, const pool_session *sessions, size_t n_sessions,
		      int browser_id, browser_load *out);

/* The text of one cell (unpadded), from the column's entry in tui/columns_*.c. Sparkline cells
 * need the width they will get. */
void fmt_browser_cell(char *out, size_t cap, const pool_browser *b, const browser_load *ld, int col);
void fmt_model_cell(char *out, size_t cap, const pool_model *m, int col, int width, bool utf8);

/* A whole row: cells padded to widths[] (0 = hidden column), one space between shown cells. */
void fmt_browser_row(char *out, size_t cap, const pool_browser *b, const browser_load *ld, const int *widths);
void fmt_model_row(char *out, size_t cap, const pool_model *m, const int *widths, bool utf8);

/* ---- lines of text (the detail pane) ---- */

#define FMT_LINE_MAX 400
typedef struct {
	char (*line)[FMT_LINE_MAX];
	int n, cap;
} fmt_lines;

void fmt_lines_add(fmt_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies in to out with every line longer than width broken at spaces (continuations indented
 * by 4 more than the line's own indent); a word wider than the line is cut into pieces. */
void fmt_lines_rewrap(const fmt_lines *in, fmt_lines *out, int width);
/* "label: a b c ..." wrapped at width columns, continuation lines indented. */
void fmt_lines_wrap(fmt_lines *l, const char *label, const char *words, int width);

/* ---- detail pane (tui/format_detail.c) ---- */

/* Everything a browser reported: adapter, features, limits, WebNN per device with the error
 * text, WebAssembly, user agent, evidence. */
void fmt_browser_detail(fmt_lines *l, const pool_browser *b, const browser_load *ld, int width, int64_t now_us);
/* A model row: every field, the workload, the timing split, and per browser its sessions (looked
 * up in browsers[] and sessions[]). */
void fmt_model_detail(fmt_lines *l, const pool_model *m, const pool_browser *browsers, size_t n_browsers,
		      const pool_session *sessions, size_t n_sessions, int width, bool utf8, int64_t now_us);
/* A sharded row (pin "KIND,KIND"): per shard compute, transfer and total, next to the whole
 * model's p50 from unsharded rows of the same model, precision and platform (tui/format_shard.c). */
void fmt_shard_detail(fmt_lines *l, const pool_model *m, const pool_model *models, size_t n_models,
		      const pool_browser *browsers, size_t n_browsers);

#endif
