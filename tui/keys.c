/* Keys: the key table (keys_table[], see keys.h) and the actions it names, looked up by key
 * code (htop style). An action does its work through the screen's state or the app_* actions
 * and returns reaction flags; it never draws. The help, the F-key bar and the hint line are
 * generated from the table. Keys while a form or prompt is open: keys_modal.c.
 * Actions that change something capture the id of the selected row when the key is pressed, so
 * a confirmation acts on that browser or model even if the list re-sorts meanwhile. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"
#include "screen.h"

#define CTRL_KEY(c) ((c) & 0x1f)

static bool is_list(panel_id p)
{
	return p == PANEL_BROWSERS || p == PANEL_MODELS;
}

static panel_id list_panel(const screen *s)
{
	return is_list(s->focus) ? s->focus : s->last_list;
}

/* ---- moving ---- */

static int scroll_focused(screen *s, long delta)
{
	switch (s->focus) {
	case PANEL_BROWSERS:
	case PANEL_MODELS:
		screen_move(s, s->focus, delta);
		if (s->detail_of == s->focus)
			s->detail_scroll = 0;
		break;
	case PANEL_LOG:
		/* the log grows at the bottom: up means older */
		s->log_scroll -= (int)delta;
		if (s->log_scroll < 0)
			s->log_scroll = 0;
		break;
	case PANEL_DETAIL:
		s->detail_scroll += (int)delta;
		if (s->detail_scroll < 0)
			s->detail_scroll = 0;
		break;
	default:
		break;
	}
	return RX_REDRAW;
}

static long page(const screen *s)
{
	int p = s->page[s->focus];
	return p > 1 ? p - 1 : 1;
}

static int act_up(screen *s) { return scroll_focused(s, -1); }
static int act_down(screen *s) { return scroll_focused(s, 1); }
static int act_pgup(screen *s) { return scroll_focused(s, -page(s)); }
static int act_pgdn(screen *s) { return scroll_focused(s, page(s)); }
static int act_home(screen *s) { return scroll_focused(s, -1000000000L); }

static int act_end(screen *s)
{
	if (s->focus == PANEL_LOG) {
		s->log_scroll = 0;
		return RX_REDRAW;
	}
	return scroll_focused(s, 1000000000L);
}

static int cycle_focus(screen *s, int dir)
{
	int order[PANEL__COUNT], n = 0;
	order[n++] = PANEL_BROWSERS;
	order[n++] = PANEL_MODELS;
	order[n++] = PANEL_LOG;
	if (s->detail_open)
		order[n++] = PANEL_DETAIL;
	int cur = 0;
	for (int i = 0; i < n; i++)
		if (order[i] == (int)s->focus)
			cur = i;
	s->focus = (panel_id)order[(cur + dir + n) % n];
	if (is_list(s->focus))
		s->last_list = s->focus;
	return RX_REDRAW;
}

static int act_tab(screen *s) { return cycle_focus(s, 1); }
static int act_backtab(screen *s) { return cycle_focus(s, -1); }

/* Enter on a list opens the detail of its selected row (or closes it when it already shows
 * that list); on the detail pane or the log it closes the pane. */
static int act_enter(screen *s)
{
	bool on_list = is_list(s->focus);
	if (s->detail_open && (!on_list || s->detail_of == s->focus)) {
		s->detail_open = false;
		if (s->focus == PANEL_DETAIL)
			s->focus = s->detail_of;
		return RX_REDRAW;
	}
	s->detail_of = list_panel(s);
	s->detail_open = true;
	s->detail_scroll = 0;
	return RX_REDRAW;
}

static int act_escape(screen *s)
{
	if (s->detail_open) {
		s->detail_open = false;
		if (s->focus == PANEL_DETAIL)
			s->focus = s->detail_of;
	}
	return RX_REDRAW;
}

/* ---- actions that change something ---- */

static int ask(screen *s, pending_kind kind, int id, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int ask(screen *s, pending_kind kind, int id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->pending.what, sizeof s->pending.what, fmt, ap);
	va_end(ap);
	s->pending.kind = kind;
	s->pending.id = id;
	s->mode = MODE_CONFIRM;
	return RX_REDRAW;
}

static int act_reconnect(screen *s)
{
	const pool_browser *b = screen_sel_browser(s);
	if (!b) {
		screen_say(s, true, "no browser selected");
		return RX_REDRAW;
	}
	return ask(s, PEND_RECONNECT, b->id, "Reconnect browser %d (%s, %s)?", b->id, b->kind,
		   browser_state_name(b->state));
}

static int act_stop(screen *s)
{
	if (list_panel(s) == PANEL_MODELS) {
		const pool_model *m = screen_sel_model(s);
		if (!m) {
			screen_say(s, true, "no model selected: press l to launch one");
			return RX_REDRAW;
		}
		return ask(s, PEND_STOP_MODEL, m->id, "Stop model %d (%s %s on %s)?", m->id, m->name, m->precision,
			   m->platform);
	}
	const pool_browser *b = screen_sel_browser(s);
	if (!b) {
		screen_say(s, true, "no browser selected");
		return RX_REDRAW;
	}
	if (b->managed && b->pid > 0)
		return ask(s, PEND_STOP_BROWSER, b->id, "Stop browser %d (%s, pid %d)?", b->id, b->kind, b->pid);
	return ask(s, PEND_STOP_BROWSER, b->id, "Stop browser %d (%s, %s)?", b->id, b->kind,
		   b->managed ? "managed" : "attached");
}

/* y in the confirmation: does what was asked (keys_modal.c). */
int keys_confirm(screen *s)
{
	ac_err err = { 0 };
	int id = s->pending.id, rc = 0;
	app *a = s->a;
	switch (s->pending.kind) {
	case PEND_RECONNECT:
		rc = app_reconnect_browser(a, id, &err);
		if (!rc)
			screen_say(s, false, "browser %d reconnecting", id);
		break;
	case PEND_STOP_BROWSER:
		rc = app_stop_browser(a, id, &err);
		if (!rc)
			screen_say(s, false, "browser %d stopping", id);
		break;
	case PEND_STOP_MODEL:
		rc = app_stop_model(a, id, &err);
		if (!rc)
			screen_say(s, false, "model %d stopping", id);
		break;
	case PEND_NONE:
		break;
	}
	if (rc)
		screen_say(s, true, "%s", err.msg);
	s->pending.kind = PEND_NONE;
	return RX_REFRESH | RX_REDRAW;
}

static int change_precision(screen *s, int dir)
{
	const pool_model *m = screen_sel_model(s);
	if (!m) {
		screen_say(s, true, "no model selected: press l to launch one");
		return RX_REDRAW;
	}
	int id = m->id;
	char was[sizeof m->precision];
	ac_strlcpy(was, m->precision, sizeof was);
	ac_err err = { 0 };
	if (app_change_precision(s->a, id, dir, &err))
		screen_say(s, true, "%s", err.msg);
	else
		screen_say(s, false, "model %d: switching from %s to the %s precision%s%s%s", id, was,
			   dir > 0 ? "next" : "previous", err.msg[0] ? " (" : "", err.msg, err.msg[0] ? ")" : "");
	return RX_REFRESH | RX_REDRAW;
}

static int act_prec_next(screen *s) { return change_precision(s, 1); }
static int act_prec_prev(screen *s) { return change_precision(s, -1); }

static int act_launch(screen *s)
{
	launch_state *f = &s->form;
	s->mode = MODE_LAUNCH;
	f->field = 0;
	if (!f->used) {
		/* the smallest demo model first, so l then Enter starts something quick */
		for (int i = 0; i < 1000 && app_model_name(s->a, (size_t)i); i++)
			if (!strcmp(app_model_name(s->a, (size_t)i), "bert-tiny"))
				f->model = i;
		f->used = true;
	}
	/* the catalog or the browsers may have changed since the last time: keep indexes in range */
	if (!app_model_name(s->a, (size_t)f->model))
		f->model = 0;
	char v[32], l[96];
	if (!screen_browser_choice(s, f->browser, v, sizeof v, l, sizeof l))
		f->browser = 0;
	if (!screen_shard_choice(s, f->shard, v, sizeof v, l, sizeof l))
		f->shard = 0;
	return RX_REDRAW;
}

static int act_new_browser(screen *s)
{
	s->mode = MODE_NEWBROWSER;
	return RX_REDRAW;
}

/* ---- display ---- */

static int sort_step(screen *s, int dir)
{
	panel_id p = list_panel(s);
	int n = screen_sort_count(p);
	s->sort_col[p] = (s->sort_col[p] + dir + n) % n;
	screen_rebuild(s);
	screen_say(s, false, "%s sorted by %s (%s)", p == PANEL_MODELS ? "models" : "browsers",
		   screen_sort_name(p, s->sort_col[p]), s->sort_desc[p] ? "descending" : "ascending");
	return RX_REDRAW;
}

static int act_sort_next(screen *s) { return sort_step(s, 1); }
static int act_sort_prev(screen *s) { return sort_step(s, -1); }

static int act_sort_invert(screen *s)
{
	panel_id p = list_panel(s);
	s->sort_desc[p] = !s->sort_desc[p];
	return sort_step(s, 0);
}

static int act_filter(screen *s)
{
	s->mode = MODE_FILTER;
	return RX_REDRAW;
}

static int act_token(screen *s)
{
	s->show_token = !s->show_token;
	screen_say(s, false, s->show_token ? "token shown: the header URL attaches a browser" : "token hidden");
	return RX_REDRAW;
}

static int act_pause(screen *s)
{
	s->paused = !s->paused;
	screen_say(s, false, s->paused ? "display paused (z or space resumes); data keeps arriving" : "display resumed");
	return RX_REFRESH | RX_REDRAW;
}

static int act_help(screen *s)
{
	s->mode = MODE_HELP;
	return RX_REDRAW;
}

static int act_redraw(screen *s)
{
	(void)s;
	clearok(stdscr, TRUE);
	return RX_REFRESH | RX_REDRAW;
}

static int act_quit(screen *s)
{
	screen_say(s, false, "stopping the browsers accel-top launched...");
	app_quit(s->a, 0);
	return RX_QUIT;
}

/* ---- replay ---- */

static int act_not_in_replay(screen *s)
{
	const char *name = s->last_key > 0 ? keyname(s->last_key) : NULL;
	screen_say(s, true, "%s: not available in replay (it acts on live browsers)", name ? name : "this key");
	return RX_REDRAW;
}

static int act_rp_play(screen *s)
{
	replay *r = s->a->rp;
	replay_set_playing(r, !r->playing);
	screen_say(s, false, r->playing ? "playing at %gx" : "paused (space plays)", r->speed);
	return RX_REFRESH | RX_REDRAW;
}

static int rp_speed(screen *s, int dir)
{
	replay *r = s->a->rp;
	replay_change_speed(r, dir);
	screen_say(s, false, "speed %gx", r->speed);
	return RX_REDRAW;
}

static int act_rp_faster(screen *s) { return rp_speed(s, 1); }
static int act_rp_slower(screen *s) { return rp_speed(s, -1); }

static int rp_step(screen *s, int dir)
{
	char what[300];
	ac_err err = { 0 };
	if (replay_step(s->a->rp, dir, what, sizeof what, &err))
		screen_say(s, true, "%s", err.msg);
	else
		screen_say(s, false, "%s", what);
	return RX_REFRESH | RX_REDRAW;
}

static int act_rp_next(screen *s) { return rp_step(s, 1); }
static int act_rp_prev(screen *s) { return rp_step(s, -1); }

/* replay: jumps to t (clamped to the recording), saying "WHAT TIME"; b uses it too (keys_modal.c). */
int keys_seek(screen *s, int64_t t, const char *what)
{
	replay *r = s->a->rp;
	ac_err err = { 0 };
	int64_t lo = replay_start_us(r), hi = replay_end_us(r);
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	if (replay_seek(r, t, &err)) {
		screen_say(s, true, "%s", err.msg);
	} else {
		char when[40];
		replay_format_time(when, sizeof when, t);
		screen_say(s, false, "%s %s", what, when);
	}
	return RX_REFRESH | RX_REDRAW;
}

static int act_rp_fwd(screen *s) { return keys_seek(s, replay_now(s->a->rp) + 10000000, "jumped 10 s forward to"); }
static int act_rp_back(screen *s) { return keys_seek(s, replay_now(s->a->rp) - 10000000, "jumped 10 s back to"); }
static int act_rp_rewind(screen *s) { return keys_seek(s, replay_start_us(s->a->rp), "rewound to the start,"); }
static int act_rp_end(screen *s)
{
	replay_set_playing(s->a->rp, false);
	return keys_seek(s, replay_end_us(s->a->rp), "at the end,");
}

static int act_rp_jump(screen *s)
{
	s->jump[0] = '\0';
	s->mode = MODE_JUMP;
	return RX_REDRAW;
}

static int act_rp_token(screen *s)
{
	screen_say(s, false, "recordings hold no token: there is none to show");
	return RX_REDRAW;
}

/* ---- the key table ----
 * Live entries in the order of the live help; replay entries last. Help key columns are padded
 * to 16 by keys_help_line; two keys on one help line: the second entry has no help of its own. */

#define K(...) .codes = { __VA_ARGS__ }
#define H(k, t) { k, t }

static const key_def keys_table[] = {
	{ K(KEY_UP, 'k'), act_up, .help = H("arrows j k", "move in the focused panel (log, detail: scroll)"),
	  .rp_help = H("arrows", "move in the focused panel (log, detail: scroll)") },
	{ K(KEY_DOWN, 'j'), act_down },
	{ K(KEY_PPAGE), act_pgup, .help = H("PgUp PgDn", "a page up / down;  Home End: first / last") },
	{ K(KEY_NPAGE), act_pgdn },
	{ K(KEY_HOME), act_home },
	{ K(KEY_END), act_end },
	{ K('\t'), act_tab, .help = H("Tab  S-Tab", "next / previous panel (browsers, models, log, detail)"),
	  .rp_help = H("Tab  S-Tab", "next / previous panel;  Enter: detail of the row"), .hint = "Tab panel" },
	{ K(KEY_BTAB), act_backtab },
	{ K('\n', '\r', KEY_ENTER), act_enter, .help = H("Enter", "open / close the detail pane of the selected row"),
	  .hint = "Enter detail" },
	{ K(27), act_escape },
	{ K('l', KEY_F(2)), act_launch, .refuse = "launch a model",
	  .help = H("l  F2", "launch a model (form: model, precision, platform, ...)"), .fkey = "Launch",
	  .hint = "l launch" },
	{ K('p', KEY_F(8)), act_prec_next, .refuse = "next precision",
	  .help = H("p  F8 / P  F7", "next / previous precision of the selected model"), .fkey = "Prec+" },
	{ K('P', KEY_F(7)), act_prec_prev, .refuse = "previous precision", .fkey = "Prec-" },
	{ K('r', KEY_F(5)), act_reconnect, .refuse = "reconnect",
	  .help = H("r  F5", "reconnect the selected browser (asks first)"), .fkey = "Reconn", .hint = "r reconnect" },
	{ K('n'), act_new_browser, .refuse = "new browser",
	  .help = H("n", "start a new managed browser (choose the kind)"), .hint = "n new browser" },
	{ K('x', KEY_F(9)), act_stop, .refuse = "stop",
	  .help = H("x  F9", "stop the selected model, or browser (asks first)"), .fkey = "Stop" },
	{ K('s', KEY_F(6), '>', '.'), act_sort_next,
	  .help = H("s  F6  >  <", "next / previous sort column;  I  reverse the order"),
	  .rp_help = H("s  >  <  I", "sort;  / filter;  Ctrl-L redraw"), .fkey = "Sort" },
	{ K('<', ','), act_sort_prev },
	{ K('I'), act_sort_invert },
	{ K('/', '\\', KEY_F(3)), act_filter, .help = H("/  \\  F3", "filter the rows (Enter keeps it, Esc clears it)"),
	  .fkey = "Filter", .hint = "/ filter" },
	{ K('u', KEY_F(4)), act_token, .help = H("u  F4", "show / hide the token in the URL"), .fkey = "Token" },
	{ K('z', ' '), act_pause, .help = H("z  space", "pause / resume the display (data keeps arriving)") },
	{ K(CTRL_KEY('l')), act_redraw, .help = H("Ctrl-L", "redraw the whole screen") },
	{ K('?', 'h', KEY_F(1)), act_help, .help = H("?  h  F1", "this help"),
	  .rp_help = H("?  h  F1", "this help;  q  F10: quit"), .fkey = "Help", .hint = "? help", .rp_hint = "? help" },
	{ K('q', KEY_F(10)), act_quit, .help = H("q  F10", "quit (stops the browsers accel-top launched)"),
	  .fkey = "Quit", .hint = "q quit", .rp_hint = "q quit" },
	/* replay */
	{ K(' ', 'z'), act_rp_play, .replay = true, .rp_help = H("space  z", "play / pause the replay"),
	  .rp_hint = "space play/pause" },
	{ K('+', '='), act_rp_faster, .replay = true, .rp_help = H("+  -", "speed x2 / /2 (0.25x to 64x)"), .rp_hint = "+ - speed" },
	{ K('-', '_'), act_rp_slower, .replay = true },
	{ K('t'), act_rp_next, .replay = true, .rp_help = H("t  T", "step to the next / previous event (pauses)"),
	  .rp_hint = "t T step" },
	{ K('T'), act_rp_prev, .replay = true },
	{ K('b'), act_rp_jump, .replay = true, .rp_help = H("b", "jump to a time: HH:MM[:SS] or YYYY-MM-DD HH:MM"),
	  .rp_hint = "b jump" },
	{ K('j'), act_rp_fwd, .replay = true, .rp_help = H("j  J", "jump 10 s forward / back"), .rp_hint = "j J 10 s" },
	{ K('J'), act_rp_back, .replay = true },
	{ K('r'), act_rp_rewind, .replay = true, .rp_help = H("r", "rewind to the start;  End: jump to the end"),
	  .rp_hint = "r rewind" },
	{ K(KEY_END), act_rp_end, .replay = true, .rp_hint = "End end" },
	{ K('u', KEY_F(4)), act_rp_token, .replay = true },
};

#define KEYS_N (sizeof keys_table / sizeof keys_table[0])

/* what a refused key is bound to in replay: it acts on live browsers */
static const key_def keys_not_in_replay = { K(0), act_not_in_replay };

static void keys_bind(const key_def **k, const key_def *e, const key_def *to)
{
	for (int i = 0; i < KEY_DEF_CODES && e->codes[i]; i++)
		if (e->codes[i] > 0 && e->codes[i] < KEYMAP_SIZE)
			k[e->codes[i]] = to;
}

void keys_init(const key_def **k, bool replay)
{
	memset(k, 0, KEYMAP_SIZE * sizeof *k);
	for (size_t i = 0; i < KEYS_N; i++)
		if (!keys_table[i].replay)
			keys_bind(k, &keys_table[i], replay && keys_table[i].refuse ? &keys_not_in_replay : &keys_table[i]);
	for (size_t i = 0; replay && i < KEYS_N; i++)
		if (keys_table[i].replay)
			keys_bind(k, &keys_table[i], &keys_table[i]);
}

/* The name of an entry's first key in messages: the letter itself (every refused key is one). */
static const char *first_key(const key_def *e, char *buf)
{
	int c = e->codes[0];
	if (c > 32 && c < 127) {
		buf[0] = (char)c;
		buf[1] = '\0';
		return buf;
	}
	const char *n = keyname(c);
	return n ? n : "?";
}

int keys_run(screen *s, const key_def *k)
{
	if (k->refuse && s->readonly) {
		char name[2];
		screen_say(s, true, "read-only (--readonly): %s (%s) is disabled", first_key(k, name), k->refuse);
		return RX_REDRAW;
	}
	return k->act(s);
}

static bool has_code(const key_def *e, int code)
{
	for (int i = 0; i < KEY_DEF_CODES && e->codes[i]; i++)
		if (e->codes[i] == code)
			return true;
	return false;
}

/* A refused live key whose first key replay does not take over: replay says it is unavailable. */
static bool live_only(const key_def *e)
{
	if (e->replay || !e->refuse)
		return false;
	for (size_t i = 0; i < KEYS_N; i++)
		if (keys_table[i].replay && has_code(&keys_table[i], e->codes[0]))
			return false;
	return true;
}

/* The first keys of the entries that pass, joined by a space. */
static void join_keys(char *buf, size_t cap, bool (*pass)(const key_def *))
{
	buf[0] = '\0';
	for (size_t i = 0; i < KEYS_N; i++) {
		char name[2];
		if (pass(&keys_table[i]))
			ac_strlcatf(buf, cap, "%s%s", buf[0] ? " " : "", first_key(&keys_table[i], name));
	}
}

static bool refused_live(const key_def *e)
{
	return !e->replay && e->refuse;
}

void keys_refused(char *buf, size_t cap)
{
	join_keys(buf, cap, refused_live);
}

/* Replay shows its own entries first, then the live ones it keeps. */
static const key_def *nth_shown(bool replay, int i, bool hint)
{
	for (int pass = 0; pass < (replay ? 2 : 1); pass++)
		for (size_t j = 0; j < KEYS_N; j++) {
			const key_def *e = &keys_table[j];
			if (e->replay != (replay && pass == 0))
				continue;
			bool shown = hint ? (replay ? e->rp_hint : e->hint) != NULL
					  : (replay ? e->rp_help.keys : e->help.keys) != NULL;
			if (shown && i-- == 0)
				return e;
		}
	return NULL;
}

bool keys_help_line(bool replay, int i, char *buf, size_t cap)
{
	const key_def *e = nth_shown(replay, i, false);
	if (e) {
		const key_help *h = replay ? &e->rp_help : &e->help;
		snprintf(buf, cap, "%-16s%s", h->keys, h->text);
		return true;
	}
	if (!replay || i == 0 || !nth_shown(replay, i - 1, false)) /* one line after the last entry */
		return false;
	char names[64];
	join_keys(names, sizeof names, live_only);
	snprintf(buf, cap, "%-16s%s", names, "act on live browsers: not available in replay");
	return true;
}

const char *keys_fkey_label(int n, bool *changes)
{
	for (size_t i = 0; i < KEYS_N; i++)
		if (!keys_table[i].replay && keys_table[i].fkey && has_code(&keys_table[i], KEY_F(n))) {
			*changes = keys_table[i].refuse != NULL;
			return keys_table[i].fkey;
		}
	return NULL;
}

void keys_hint(bool replay, char *buf, size_t cap)
{
	buf[0] = '\0';
	const key_def *e;
	for (int i = 0; (e = nth_shown(replay, i, true)); i++)
		ac_strlcatf(buf, cap, "%s%s", i ? "  " : "", replay ? e->rp_hint : e->hint);
}

#undef K
#undef H
