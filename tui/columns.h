/* The columns of the two list panels, one descriptor each: what the screen, the batch text
 * table (-b) and the JSON snapshot (-b --json) know about a column comes from its entry in
 * browser_columns[] (tui/columns_browser.c) or model_columns[] (tui/columns_model.c).
 *
 * Adding a column: one enum name below (its place is its place on the screen), one entry in
 * the table, and its cell function next to the entry (plus role / compare / JSON / batch
 * functions where it has them). Nothing else lists columns. */
#ifndef AC_COLUMNS_H
#define AC_COLUMNS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/pool.h"

/* Screen order (the tables are indexed by these; tests name them). Columns after the screen's
 * last one (BC_WASM ...) have no screen width: only the batch table shows them. */
enum { BC_ID, BC_KIND, BC_VERSION, BC_MODE, BC_STATE, BC_WEBGPU, BC_ADAPTER, BC_WEBNN, BC_MODELS,
       BC_INFL, BC_RTT, BC_RSS, BC_CPU, BC_WASM, BC_PROCS, BC_PAGE_MEM, BC__COUNT };
enum { MC_ID, MC_MODEL, MC_TYPE, MC_PREC, MC_PLAT, MC_STATE, MC_BROWSERS, MC_QUEUE, MC_INFL,
       MC_P50, MC_P95, MC_P99, MC_RPS, MC_ERR, MC_VERIFY, MC_SPARK, MC__COUNT };

/* Colour roles of the screen (tui/screen.c maps them to curses attributes). */
typedef enum {
	R_NORMAL, R_HEADER, R_TITLE, R_TITLE_FOCUS, R_COLHEAD, R_SELECTED, R_SELECTED_DIM,
	R_HW, R_SW, R_UNAVAIL, R_UNKNOWN, R_NA, R_GOOD, R_WARN, R_CRIT, R_FKEY, R_FLABEL,
	R_STATUS_ERR, R_POPUP, R_POPUP_SEL, R_DIM, R__COUNT
} role;

/* What the browsers panel shows besides the browser itself: model rows listing the browser, and
 * requests in flight in its sessions. */
typedef struct {
	int models;
	int inflight;
} browser_load;

/* One row as every column function sees it: a browser row sets b (ld may be NULL: 0 shown), a
 * model row sets m (m->rps is the rate for now). width and utf8: for the sparkline. */
typedef struct {
	const pool_browser *b;
	const browser_load *ld;
	const pool_model *m;
	int width;
	bool utf8;
} col_row;

/* The screen's colour thresholds (from the options). */
typedef struct {
	double warn_ms, crit_ms;
	long warn_queue, crit_queue;
} col_limits;

typedef void (*col_text_fn)(char *out, size_t cap, const col_row *r);

typedef struct {
	/* the screen (tui/layout.c chooses widths; a column with title NULL is not on the screen) */
	const char *title;
	int min, pref;   /* widths; the title never exceeds min */
	int max;         /* flex columns grow up to this (0: no limit) */
	int prio;        /* columns of lowest priority are hidden first */
	bool right;      /* right-aligned (numbers) */
	bool status;     /* holds a status word: min >= FMT_STATUS_MAX, never hidden */
	bool flex;       /* takes the columns left over */
	col_text_fn cell;                                       /* the cell's text (unpadded) */
	role (*role)(const col_row *r, const col_limits *lim);  /* NULL: R_NORMAL */
	/* sorting: the place in the s / > / < cycle (lowest first: the default), 0: not a sort key;
	 * places need not be consecutive (10, 20, ...: a new one goes between) */
	int sort;
	const char *sort_name;
	int (*cmp)(const col_row *a, const col_row *b);
	/* the JSON snapshot: key and value; NULL where the JSON has no value or a structured one */
	const char *json;
	void (*json_value)(cJSON *o, const char *key, const col_row *r);
	/* the batch text table: place (lowest first, 0: not shown; as sort places), title, printf
	 * width (negative: left-aligned), cut to the width, and its text where it differs from the
	 * screen's cell */
	int batch;
	const char *batch_title;
	int batch_width;
	bool batch_cut;
	col_text_fn batch_cell;
} col_spec;

extern const col_spec browser_columns[BC__COUNT];
extern const col_spec model_columns[MC__COUNT];

/* A status word's colour (HARDWARE green ...); a latency against the limits. */
role col_status_role(const char *word);
role col_ms_role(double ms, bool valid, const col_limits *lim);

/* -1, 0, 1 as a < b, a == b, a > b: for the compare functions. */
int col_cmp_num(double a, double b);

/* The column holding sort key `sort` (0-based place in the cycle), or -1. */
int col_sort_column(const col_spec *t, int n, int sort);
/* How many sort keys the table has. */
int col_sort_count(const col_spec *t, int n);

/* The row's JSON values, in the caller's order: col_json_put() writes column c (once; `done`
 * remembers), col_json_rest() every column with a JSON value not yet written, at the end. */
void col_json_put(cJSON *o, const col_spec *t, int c, const col_row *r, bool *done);
void col_json_rest(cJSON *o, const col_spec *t, int n, const col_row *r, bool *done);

/* The batch table's column heads and one row (no newline), columns in their batch places. */
void col_batch_head(char *out, size_t cap, const col_spec *t, int n);
void col_batch_row(char *out, size_t cap, const col_spec *t, int n, const col_row *r);

/* JSON helpers the column functions and tui/snapshot.c share. Strings: "" (not reported)
 * becomes null, so readers tell unknown from empty-but-reported only where the browser really
 * reported an empty string (WebGPU adapter info does). */
void col_json_str_or_null(cJSON *o, const char *k, const char *v);
void col_json_num_or_null(cJSON *o, const char *k, double v, bool valid);

#endif
