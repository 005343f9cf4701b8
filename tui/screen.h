/* The interactive screen: ncurses on the app's libuv loop.
 *
 * stdin is watched with uv_poll, SIGWINCH with uv_signal; the app's `tick` timer redraws at the
 * -d interval and its `settle` timer coalesces pool changes into at most ~10 redraws a second.
 * The screen reads the pool only through pool.h (copied into a view at each refresh, so a paused
 * display stays still) and changes things only through the app_* actions. Keys are looked up in
 * a table of actions (keys.c) that return reaction flags. */
#ifndef AC_SCREEN_H
#define AC_SCREEN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "app.h"
#include "format.h"
#include "keys.h"
#include "layout.h"

/* What an action asks of the screen afterwards. */
enum {
	RX_NONE = 0,
	RX_REDRAW = 1 << 0,  /* draw again */
	RX_REFRESH = 1 << 1, /* re-read the pool first (ignored while paused) */
	RX_RESIZE = 1 << 2,  /* the terminal size changed: clear and draw */
	RX_QUIT = 1 << 3,    /* app_quit() has been called */
};

#define KEYMAP_SIZE 512 /* ncurses key codes are below KEY_MAX (0777) */

typedef enum { PANEL_BROWSERS, PANEL_MODELS, PANEL_LOG, PANEL_DETAIL, PANEL__COUNT } panel_id;
typedef enum { MODE_NORMAL, MODE_HELP, MODE_CONFIRM, MODE_FILTER, MODE_LAUNCH, MODE_NEWBROWSER, MODE_JUMP } screen_mode;
typedef enum { PEND_NONE, PEND_RECONNECT, PEND_STOP_BROWSER, PEND_STOP_MODEL } pending_kind;

/* A copy of what the screen shows, taken from the pool at each refresh. */
typedef struct {
	int64_t now_us, started_us;
	char url[256];
	uint64_t errors;
	pool_browser *b;
	size_t nb, b_cap;
	pool_model *m;
	size_t nm, m_cap;
	pool_session *ses;
	size_t ns, s_cap;
	pool_log_entry log[POOL_LOG_MAX];
	size_t nlog;
} view;

enum { LF_MODEL, LF_PRECISION, LF_PLATFORM, LF_BROWSER, LF_SHAPE, LF_AMOUNT, LF_DURATION, LF_SHARD, LF__COUNT };

typedef struct {
	int field;
	bool used;          /* opened before: keep what the operator chose */
	int model, precision, platform, browser, shape; /* indexes into their choices */
	int shard;          /* 0 = off, else a screen_shard_choice() */
	char amount[16], duration[16];
} launch_state;

#define SCREEN_DETAIL_LINES 160

struct screen {
	app *a;
	const options *o;
	view v;
	/* list panels: rows in display order (indexes into v.b / v.m), selection by stable id */
	size_t *order[2];
	size_t norder[2], order_cap[2];
	int sel_id[2];
	size_t sel_idx[2];
	int top[2];
	int sort_col[2];
	bool sort_desc[2];
	int page[PANEL__COUNT];       /* data rows of each panel at the last draw */
	int log_scroll;               /* lines up from the newest */
	int detail_scroll;
	panel_id focus;
	panel_id detail_of;           /* what the detail pane shows: PANEL_BROWSERS or PANEL_MODELS */
	panel_id last_list;           /* the list panel focused last: what x, s, < > act on */
	bool detail_open;
	char filter[64];
	char jump[48];                /* MODE_JUMP (replay, b): the time being typed */
	int last_key;                 /* the key being handled */
	bool paused, show_token, color, utf8, readonly;
	screen_mode mode;
	struct {
		pending_kind kind;
		int id;
		char what[160];
	} pending;
	int menu_idx;                 /* MODE_NEWBROWSER */
	launch_state form;
	char status[300];
	bool status_error;
	int cols, rows;
	layout lay;
	fmt_lines detail;
	char (*detail_buf)[FMT_LINE_MAX], (*detail_raw)[FMT_LINE_MAX];
	/* loop */
	uv_poll_t in;
	uv_signal_t winch;
	int64_t last_draw_us;
	bool curses_on, input_on, winch_on;
	const key_def *keys[KEYMAP_SIZE];
};

/* Starts the app and its browsers, runs the screen until quit, restores the terminal. Returns
 * the exit status (0, 1 when the app could not start, 128+N after signal N). */
int screen_run(app *a, uv_loop_t *loop, const options *o);

/* ---- used by keys.c ---- */

/* replay: the replay keys replace the live ones (space, + -, t T, b, j J, r, End) and keys that
 * act on live browsers say "not available in replay" */
void keys_init(const key_def **table, bool replay);
/* Keys while a form, prompt or menu is open; returns reaction flags. */
int keys_modal(screen *s, int ch);

/* The browser / model currently selected in its panel (from the view), or NULL. */
const pool_browser *screen_sel_browser(const screen *s);
const pool_model *screen_sel_model(const screen *s);
/* Moves the selection of a list panel by delta rows (clamped). */
void screen_move(screen *s, panel_id p, long delta);
/* Re-sorts and re-filters the list panels from the view. */
void screen_rebuild(screen *s);
/* A message in the status line. */
void screen_say(screen *s, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sort columns per panel: names shown in the status line. */
int screen_sort_count(panel_id p);
const char *screen_sort_name(panel_id p, int col);

/* Choices of the launch form. */
extern const char *const screen_precisions[];
extern const char *const screen_platforms[];
/* Choice i of the launch form's browser field: auto, the families, then "#ID" for each connected
 * browser. Fills value (what the workload is pinned to) and label; false past the end. */
bool screen_browser_choice(const screen *s, int i, char *value, size_t vcap, char *label, size_t lcap);
/* Choice i of the launch form's shard field: 0 "off", then "KIND,KIND" for each ordered pair of
 * the connected browsers' kinds (shard 1 on the first, shard 2 on the second; a kind twice when
 * two such browsers are connected). value is "" for off; false past the end. */
bool screen_shard_choice(const screen *s, int i, char *value, size_t vcap, char *label, size_t lcap);

#endif
