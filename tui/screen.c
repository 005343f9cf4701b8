/* The interactive screen: terminal setup and teardown, loop integration, and drawing. Layout and
 * text come from layout.c and format.c, the columns from columns_*.c, the rows' order and the
 * selection from screen_rows.c; keys from keys.c.
 * Over 600 lines on purpose: it is everything that draws with curses (terminal restore, colours,
 * each panel and pop-up, the loop's handlers), so that only this file and keys.c include curses;
 * whatever can be a pure function lives in the files above. */
#include "screen.h"

#include <ctype.h>
#include <curses.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "replay.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER 1
#endif

const char *const screen_precisions[] = { "fp32", "fp16", "int8", "int4", "q4f16", NULL };
const char *const screen_platforms[] = { "webgpu", "webnn", "wasm", NULL };

/* ---- terminal restore on every path ----
 * Normal exit: endwin() from the app's on_stopped (after q, SIGINT, SIGTERM, SIGHUP), and again
 * after uv_run() returned. exit() anywhere: atexit. Crashes: a handler that restores the tty with
 * async-signal-safe calls only (saved termios, saved rmcup/cnorm strings), then lets the previous
 * handler (or the default action) run. */

static struct termios saved_tio;
static bool saved_tio_ok;
static int saved_stdin_flags = -1;
static char restore_seq[128];
static size_t restore_len;
static volatile sig_atomic_t tty_dirty; /* curses owns the terminal */
static screen *the_screen;
static SCREEN *the_term;
static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define N_FATAL (sizeof fatal_sigs / sizeof fatal_sigs[0])
static struct sigaction old_fatal[N_FATAL];

static void restore_tty_raw(void)
{
	if (!tty_dirty)
		return;
	tty_dirty = 0;
	if (restore_len) {
		ssize_t w = write(STDOUT_FILENO, restore_seq, restore_len);
		(void)w;
	}
	if (saved_tio_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	if (saved_stdin_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, saved_stdin_flags);
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	restore_tty_raw();
	for (size_t i = 0; i < N_FATAL; i++)
		if (fatal_sigs[i] == sig)
			sigaction(sig, &old_fatal[i], NULL);
	/* a fault re-runs the instruction and meets the previous handler; a sent signal does not */
	if (!si || si->si_code <= 0 || sig == SIGABRT)
		raise(sig);
}

#ifdef HAVE_SANITIZER
static void on_sanitizer_death(void)
{
	restore_tty_raw();
}
#endif

static void restore_at_exit(void)
{
	if (the_screen && the_screen->curses_on) {
		endwin();
		the_screen->curses_on = false;
	}
	restore_tty_raw();
}

static void append_cap(const char *name)
{
	const char *v = tigetstr(name);
	if (!v || v == (char *)-1)
		return;
	size_t n = strlen(v);
	if (restore_len + n < sizeof restore_seq) {
		memcpy(restore_seq + restore_len, v, n);
		restore_len += n;
	}
}

static void install_restore_paths(void)
{
	restore_len = 0;
	append_cap("sgr0");
	append_cap("cnorm");
	append_cap("rmkx");
	append_cap("rmcup");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_FATAL; i++)
		sigaction(fatal_sigs[i], &sa, &old_fatal[i]);
	static bool registered;
	if (!registered) {
		atexit(restore_at_exit);
		registered = true;
	}
#ifdef HAVE_SANITIZER
	__sanitizer_set_death_callback(on_sanitizer_death);
#endif
}

/* ---- colours ---- */

/* the roles (tui/columns.h) as curses attributes */
typedef struct {
	short fg8, bg8, fg256, bg256;
	attr_t extra; /* added in colour */
	attr_t mono;  /* used without colour */
} role_style;

static const role_style styles[R__COUNT] = {
	[R_NORMAL]       = { -1, -1, -1, -1, A_NORMAL, A_NORMAL },
	[R_HEADER]       = { COLOR_CYAN, -1, 45, -1, A_BOLD, A_BOLD },
	[R_TITLE]        = { COLOR_BLACK, COLOR_WHITE, 16, 250, A_NORMAL, A_BOLD },
	[R_TITLE_FOCUS]  = { COLOR_BLACK, COLOR_CYAN, 16, 45, A_BOLD, A_BOLD | A_REVERSE },
	[R_COLHEAD]      = { COLOR_BLACK, COLOR_GREEN, 16, 71, A_NORMAL, A_REVERSE },
	[R_SELECTED]     = { COLOR_BLACK, COLOR_CYAN, 16, 45, A_NORMAL, A_REVERSE },
	[R_SELECTED_DIM] = { COLOR_BLACK, COLOR_WHITE, 16, 250, A_NORMAL, A_UNDERLINE },
	[R_HW]           = { COLOR_GREEN, -1, 40, -1, A_BOLD, A_BOLD },
	[R_SW]           = { COLOR_YELLOW, -1, 214, -1, A_NORMAL, A_NORMAL },
	[R_UNAVAIL]      = { COLOR_RED, -1, 203, -1, A_NORMAL, A_NORMAL },
	[R_UNKNOWN]      = { COLOR_MAGENTA, -1, 177, -1, A_NORMAL, A_NORMAL },
	[R_NA]           = { COLOR_BLUE, -1, 244, -1, A_NORMAL, A_NORMAL },
	[R_GOOD]         = { COLOR_GREEN, -1, 40, -1, A_NORMAL, A_NORMAL },
	[R_WARN]         = { COLOR_YELLOW, -1, 220, -1, A_BOLD, A_BOLD },
	[R_CRIT]         = { COLOR_RED, -1, 196, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[R_FKEY]         = { -1, -1, -1, -1, A_BOLD, A_BOLD },
	[R_FLABEL]       = { COLOR_BLACK, COLOR_CYAN, 16, 45, A_NORMAL, A_REVERSE },
	[R_STATUS_ERR]   = { COLOR_RED, -1, 196, -1, A_BOLD, A_BOLD },
	[R_POPUP]        = { COLOR_WHITE, COLOR_BLUE, 255, 24, A_NORMAL, A_NORMAL },
	[R_POPUP_SEL]    = { COLOR_BLACK, COLOR_CYAN, 16, 45, A_NORMAL, A_REVERSE },
	[R_DIM]          = { COLOR_BLUE, -1, 244, -1, A_NORMAL, A_NORMAL },
};

static void colors_init(screen *s)
{
	if (!s->color)
		return;
	start_color();
	/* -1 is the terminal's own colour where it has one; otherwise white on black */
	bool dflt = use_default_colors() == OK;
	bool c256 = COLORS >= 256 && COLOR_PAIRS > R__COUNT;
	for (int r = 1; r < R__COUNT && r < COLOR_PAIRS; r++) {
		const role_style *st = &styles[r];
		short fg = c256 ? st->fg256 : st->fg8, bg = c256 ? st->bg256 : st->bg8;
		if (!dflt && fg < 0)
			fg = COLOR_WHITE;
		if (!dflt && bg < 0)
			bg = COLOR_BLACK;
		init_pair((short)r, fg, bg);
	}
}

static attr_t attr(const screen *s, role r)
{
	if (!s->color)
		return styles[r].mono;
	return (r ? COLOR_PAIR(r) : 0) | styles[r].extra;
}

/* ---- drawing primitives ---- */

/* Text fitted (and padded) to w columns at y,x. */
static void put(const screen *s, int y, int x, int w, const char *text, role r, bool right)
{
	char buf[2048];
	if (w <= 0 || y < 0 || y >= s->rows || x >= s->cols)
		return;
	if (x + w > s->cols)
		w = s->cols - x;
	fmt_pad(buf, sizeof buf, text, w, right);
	attrset(attr(s, r));
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
}

/* Colours the status words (upper case, whole words) in text already drawn at y,x. */
static void tint_status_words(const screen *s, int y, int x, int w, const char *shown)
{
	for (const char *const *wd = fmt_status_words; *wd; wd++) {
		if (!strcmp(*wd, "n/a"))
			continue;
		size_t wl = strlen(*wd);
		for (const char *p = strstr(shown, *wd); p; p = strstr(p + wl, *wd)) {
			if ((p > shown && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) ||
			    isalnum((unsigned char)p[wl]) || p[wl] == '_')
				continue;
			char prefix[2048];
			size_t k = (size_t)(p - shown) < sizeof prefix - 1 ? (size_t)(p - shown) : sizeof prefix - 1;
			memcpy(prefix, shown, k);
			prefix[k] = '\0';
			int col = fmt_width(prefix);
			if (col + (int)wl > w)
				continue;
			attrset(attr(s, col_status_role(*wd)));
			mvaddnstr(y, x + col, p, (int)wl);
			attrset(A_NORMAL);
		}
	}
}

/* A line of free text with its status words coloured. */
static void put_text(const screen *s, int y, int x, int w, const char *text, role r)
{
	char buf[2048];
	if (w <= 0)
		return;
	fmt_pad(buf, sizeof buf, text, w, false);
	attrset(attr(s, r));
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
	if (r == R_NORMAL || r == R_POPUP)
		tint_status_words(s, y, x, w, buf);
}

static void hline_fill(const screen *s, int y, int x, int w, role r)
{
	put(s, y, x, w, "", r, false);
}

/* ---- the view: a copy of the pool at the last refresh ---- */

static bool view_refresh(screen *s)
{
	const pool *p = s->a->pool;
	view *v = &s->v;
	if (!p)
		return false;
	v->now_us = app_now_us(s->a);
	v->started_us = pool_started_us(p);
	ac_strlcpy(v->url, pool_bridge_url(p), sizeof v->url);
	v->errors = pool_error_count(p);
	size_t nb = pool_browser_count(p), nm = pool_model_count(p), ns = pool_session_count(p);
	if (ac_reserve((void **)&v->b, &v->b_cap, nb, sizeof *v->b) ||
	    ac_reserve((void **)&v->m, &v->m_cap, nm, sizeof *v->m) ||
	    ac_reserve((void **)&v->ses, &v->s_cap, ns, sizeof *v->ses)) {
		screen_say(s, true, "out of memory: showing the previous state");
		return false;
	}
	v->nb = 0;
	for (size_t i = 0; i < nb; i++) {
		const pool_browser *b = pool_browser_at(p, i);
		if (b)
			v->b[v->nb++] = *b;
	}
	v->nm = 0;
	for (size_t i = 0; i < nm; i++) {
		const pool_model *m = pool_model_at(p, i);
		if (m) {
			v->m[v->nm] = *m;
			/* the row's figure is from its last event; this one is for now */
			v->m[v->nm].rps = pool_model_rps(p, m->id, v->now_us);
			v->nm++;
		}
	}
	v->ns = 0;
	for (size_t i = 0; i < ns; i++) {
		const pool_session *se = pool_session_at(p, i);
		if (se)
			v->ses[v->ns++] = *se;
	}
	v->nlog = 0;
	size_t nl = pool_log_count(p);
	for (size_t i = 0; i < nl && v->nlog < POOL_LOG_MAX; i++) {
		const pool_log_entry *e = pool_log_at(p, i);
		if (e)
			v->log[v->nlog++] = *e;
	}
	return true;
}

void screen_say(screen *s, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->status, sizeof s->status, fmt, ap);
	va_end(ap);
	s->status_error = error;
}

/* ---- panels ---- */

/* The Selenium Grid's meter after the counts, where there is room: "  grid 1/2 used, 0 queued",
 * or "  GRID DOWN" / "  GRID FULL" (the event log has the whole message). Its width, 0 for none. */
static int draw_grid_meter(screen *s, int y, int x, int room)
{
	const pool_grid *g = s->a->pool ? pool_grid_get(s->a->pool) : NULL;
	if (!g || !g->seen)
		return 0;
	char t[80];
	const char *trouble = !g->message[0] ? "" : g->used >= g->slots ? " FULL" : " NOT READY";
	if (!g->up)
		snprintf(t, sizeof t, "  GRID DOWN");
	else if (g->queued >= 0)
		snprintf(t, sizeof t, "  grid %d/%d used, %d queued%s", g->used, g->slots, g->queued, trouble);
	else
		snprintf(t, sizeof t, "  grid %d/%d used%s", g->used, g->slots, trouble);
	int w = fmt_width(t);
	if (w > room)
		return 0;
	put(s, y, x, w, t, !g->up || g->message[0] ? R_WARN : R_NORMAL, false);
	return w;
}

static void draw_header(screen *s, lrect r)
{
	const view *v = &s->v;
	char url[600], up[32], clock[16], line[2048];
	header_counts hc = { .browsers = v->nb, .models = v->nm, .errors = v->errors };
	for (size_t i = 0; i < v->nb; i++)
		hc.connected += v->b[i].state == BS_CONNECTED;
	for (size_t i = 0; i < v->nm; i++) {
		hc.running += v->m[i].running;
		hc.inflight += v->m[i].inflight;
		hc.done_per_s += v->m[i].rps;
	}
	/* line 1: name, URL, uptime */
	if (s->a->replay && s->a->rp) {
		/* the recorded date and time, the speed, playing or paused */
		char when[40];
		const replay *rp = s->a->rp;
		replay_format_time(when, sizeof when, v->now_us);
		snprintf(url, sizeof url, "REPLAY %s  %gx  %s", when, rp->speed,
			 rp->playing ? "playing" : rp->now_us >= replay_end_us(rp) ? "paused (end)" : "paused");
	} else if (!v->url[0])
		snprintf(url, sizeof url, "(bridge not listening yet)");
	else if (s->show_token)
		snprintf(url, sizeof url, "%s?token=%s", v->url, s->a->token);
	else
		snprintf(url, sizeof url, "%s  (token hidden: u shows)", v->url);
	fmt_uptime(up, sizeof up, v->started_us > 0 ? v->now_us - v->started_us : -1);
	fmt_clock(clock, sizeof clock, v->now_us);
	static const char name[] = "accel-top " AC_VERSION;
	int nw = fmt_header_top(line, sizeof line, r.w, name, url, up, clock);
	put(s, r.y, r.x, r.w, line, R_NORMAL, false);
	if (nw)
		put(s, r.y, r.x, nw, name, R_HEADER, false);
	if (s->a->replay) {
		const char *rp = strstr(line, "REPLAY");
		if (rp) {
			char pre[2048];
			size_t k = (size_t)(rp - line);
			memcpy(pre, line, k);
			pre[k] = '\0';
			put(s, r.y, r.x + fmt_width(pre), 6, "REPLAY", R_WARN, false);
		}
	}
	/* line 2: counts, and on the right what the display is doing, as far as there is room */
	fmt_header_counts(line, sizeof line, r.w, &hc);
	put(s, r.y + 1, r.x, r.w, line, R_NORMAL, false);
	const char *e = strstr(line, "errors ");
	if (e && hc.errors) {
		char pre[2048];
		size_t k = (size_t)(e - line) + 7;
		memcpy(pre, line, k);
		pre[k] = '\0';
		int col = fmt_width(pre);
		put(s, r.y + 1, r.x + col, fmt_width(e + 7), e + 7, R_WARN, false);
	}
	int room = r.w - fmt_width(line) - 1;
	room -= draw_grid_meter(s, r.y + 1, r.x + fmt_width(line), room);
	const char *flag_words[3] = { s->paused ? "PAUSED" : NULL, s->readonly ? "READ-ONLY" : NULL,
				      s->filter[0] ? "FILTERED" : NULL };
	char flags[64] = "";
	for (int i = 0; i < 3; i++)
		if (flag_words[i] && (int)(strlen(flags) + 1 + strlen(flag_words[i])) <= room)
			ac_strlcatf(flags, sizeof flags, " %s", flag_words[i]);
	int fw = (int)strlen(flags);
	if (fw)
		put(s, r.y + 1, r.x + r.w - fw, fw, flags, R_WARN, false);
}

/* A cell's colour: its column's role function with the thresholds of the options. */
static role cell_role(const screen *s, const col_spec *c, const col_row *r)
{
	col_limits lim = { s->o->warn_ms, s->o->crit_ms, s->o->warn_queue, s->o->crit_queue };
	return c->role ? c->role(r, &lim) : R_NORMAL;
}

static void draw_panel_title(screen *s, lrect r, panel_id p, const char *text)
{
	bool focused = s->focus == p;
	put(s, r.y, r.x, r.w, text, focused ? R_TITLE_FOCUS : R_TITLE, false);
}

static void draw_col_heads(screen *s, lrect r, const col_spec *cs, int n, const int *w, int sort_col_idx, bool desc)
{
	hline_fill(s, r.y + 1, r.x, r.w, R_COLHEAD);
	int x = r.x;
	for (int c = 0; c < n; c++) {
		if (!w[c])
			continue;
		char t[64];
		snprintf(t, sizeof t, "%s%s", cs[c].title, c == sort_col_idx ? (desc ? "v" : "^") : "");
		if (fmt_width(t) > w[c])
			snprintf(t, sizeof t, "%s", cs[c].title);
		put(s, r.y + 1, x, w[c], t, R_COLHEAD, cs[c].right);
		x += w[c] + 1;
	}
}

static void scroll_into_view(screen *s, int p, int rows)
{
	int sel = (int)s->sel_idx[p];
	if (rows <= 0)
		return;
	if (s->top[p] > sel)
		s->top[p] = sel;
	if (sel >= s->top[p] + rows)
		s->top[p] = sel - rows + 1;
	int maxtop = (int)s->norder[p] - rows;
	if (s->top[p] > maxtop)
		s->top[p] = maxtop;
	if (s->top[p] < 0)
		s->top[p] = 0;
}

static void title_text(const screen *s, char *out, size_t cap, const char *name, panel_id p, size_t shown, size_t total)
{
	snprintf(out, cap, " %s %zu", name, total);
	if (shown != total)
		ac_strlcatf(out, cap, " (%zu shown)", shown);
	ac_strlcatf(out, cap, "   sort: %s %s", screen_sort_name(p, s->sort_col[p]), s->sort_desc[p] ? "desc" : "asc");
	if (s->filter[0])
		ac_strlcatf(out, cap, "   filter: %s", s->filter);
}

/* One row's cells, each padded to its width, in its column's colour (or the selection's). */
static void draw_row(screen *s, int y, int x, const col_spec *cs, int n, const int *w, col_row *cr, const role *rowr)
{
	for (int c = 0; c < n; c++) {
		if (!w[c])
			continue;
		char text[1024];
		cr->width = w[c];
		cs[c].cell(text, sizeof text, cr);
		put(s, y, x, w[c], text, rowr ? *rowr : cell_role(s, &cs[c], cr), cs[c].right);
		x += w[c] + 1;
	}
}

/* A list panel (browsers or models): title, column heads, and the rows in the sorted order. */
static void draw_list(screen *s, lrect r, panel_id p)
{
	bool models = p == PANEL_MODELS;
	int n = models ? MC__COUNT : BC__COUNT, w[(int)BC__COUNT + (int)MC__COUNT]; /* either panel's */
	const col_spec *cs = models ? model_columns : browser_columns;
	size_t total = models ? s->v.nm : s->v.nb;
	layout_columns(cs, n, r.w, w);
	char title[256];
	title_text(s, title, sizeof title, models ? "Models" : "Browsers", p, s->norder[p], total);
	draw_panel_title(s, r, p, title);
	draw_col_heads(s, r, cs, n, w, col_sort_column(cs, n, s->sort_col[p]), s->sort_desc[p]);
	int rows = r.h - LAYOUT_PANEL_CHROME;
	s->page[p] = rows;
	if (!s->norder[p]) {
		const char *none = models ? "  no models running: press l to launch one"
					  : "  no browsers yet: they are starting, or open the URL above in one";
		const char *filtered = models ? "  no model matches the filter (/ changes it, Esc in / clears it)"
					      : "  no browser matches the filter (/ changes it, Esc in / clears it)";
		put(s, r.y + 2, r.x, r.w, total ? filtered : none, R_DIM, false);
		return;
	}
	scroll_into_view(s, p, rows);
	for (int i = 0; i < rows; i++) {
		size_t idx = (size_t)(s->top[p] + i);
		if (idx >= s->norder[p])
			break;
		browser_load ld;
		col_row cr = { .utf8 = s->utf8 };
		if (models) {
			cr.m = &s->v.m[s->order[p][idx]];
		} else {
			cr.b = &s->v.b[s->order[p][idx]];
			fmt_browser_load(s->v.m, s->v.nm, s->v.ses, s->v.ns, cr.b->id, &ld);
			cr.ld = &ld;
		}
		bool sel = idx == s->sel_idx[p];
		role rowr = s->focus == p || (s->focus == PANEL_DETAIL && s->detail_of == p) ? R_SELECTED : R_SELECTED_DIM;
		int y = r.y + 2 + i;
		if (sel)
			hline_fill(s, y, r.x, r.w, rowr);
		draw_row(s, y, r.x, cs, n, w, &cr, sel ? &rowr : NULL);
	}
}

static role log_role(const pool_log_entry *e)
{
	switch (e->kind) {
	case EV_ERROR:
	case EV_BROWSER_FAILED: return R_CRIT;
	case EV_BROWSER_LOST:
	case EV_BROWSER_EXITED: return R_WARN;
	default: return R_NORMAL;
	}
}

static void draw_log(screen *s, lrect r)
{
	char title[128];
	int rows = r.h - 1;
	s->page[PANEL_LOG] = rows;
	int n = (int)s->v.nlog;
	int maxscroll = n - rows > 0 ? n - rows : 0;
	if (s->log_scroll > maxscroll)
		s->log_scroll = maxscroll;
	if (s->log_scroll < 0)
		s->log_scroll = 0;
	snprintf(title, sizeof title, " Events %d%s", n, s->log_scroll ? "   (scrolled: End returns to the newest)" : "");
	draw_panel_title(s, r, PANEL_LOG, title);
	int first = n - rows - s->log_scroll;
	if (first < 0)
		first = 0;
	for (int i = 0; i < rows && first + i < n; i++) {
		const pool_log_entry *e = &s->v.log[first + i];
		char t[16], line[300], id[16] = "   ";
		fmt_clock(t, sizeof t, e->t_us);
		if (e->browser)
			snprintf(id, sizeof id, "#%-2d", e->browser);
		snprintf(line, sizeof line, "%s %s %s", t, id, e->text);
		put_text(s, r.y + 1 + i, r.x, r.w, line, log_role(e));
	}
}

static void build_detail(screen *s, int width)
{
	fmt_lines raw = { .line = s->detail_raw, .cap = s->detail_raw ? SCREEN_DETAIL_LINES : 0 };
	s->detail.line = s->detail_buf;
	s->detail.cap = s->detail_buf ? SCREEN_DETAIL_LINES : 0;
	s->detail.n = 0;
	if (s->detail_of == PANEL_MODELS) {
		const pool_model *m = screen_sel_model(s);
		if (m) {
			fmt_model_detail(&raw, m, s->v.b, s->v.nb, s->v.ses, s->v.ns, width, s->utf8, s->v.now_us);
			fmt_shard_detail(&raw, m, s->v.m, s->v.nm, s->v.b, s->v.nb);
		}
		else
			fmt_lines_add(&raw, "no models running: press l to launch one");
	} else {
		const pool_browser *b = screen_sel_browser(s);
		if (b) {
			browser_load ld;
			fmt_browser_load(s->v.m, s->v.nm, s->v.ses, s->v.ns, b->id, &ld);
			fmt_browser_detail(&raw, b, &ld, width, s->v.now_us);
		} else {
			fmt_lines_add(&raw, "no browser selected");
		}
	}
	fmt_lines_rewrap(&raw, &s->detail, width);
}

static void draw_detail(screen *s, lrect r, bool side)
{
	int x = r.x, w = r.w;
	if (side) {
		attrset(attr(s, R_DIM));
		mvvline(r.y, r.x, ACS_VLINE, r.h);
		attrset(A_NORMAL);
		x += 2;
		w -= 2;
	}
	build_detail(s, w - 1);
	int rows = r.h - 1;
	s->page[PANEL_DETAIL] = rows;
	int maxscroll = s->detail.n - rows > 0 ? s->detail.n - rows : 0;
	if (s->detail_scroll > maxscroll)
		s->detail_scroll = maxscroll;
	if (s->detail_scroll < 0)
		s->detail_scroll = 0;
	char title[160];
	if (s->detail_of == PANEL_MODELS) {
		const pool_model *m = screen_sel_model(s);
		snprintf(title, sizeof title, " Detail: model %d", m ? m->id : 0);
	} else {
		const pool_browser *b = screen_sel_browser(s);
		snprintf(title, sizeof title, " Detail: browser %d %s", b ? b->id : 0, b ? b->kind : "");
	}
	ac_strlcatf(title, sizeof title, "   lines %d-%d of %d (Enter closes)", s->detail.n ? s->detail_scroll + 1 : 0,
		    s->detail_scroll + rows < s->detail.n ? s->detail_scroll + rows : s->detail.n, s->detail.n);
	lrect tr = { r.y, x, 1, w };
	draw_panel_title(s, tr, PANEL_DETAIL, title);
	for (int i = 0; i < rows && s->detail_scroll + i < s->detail.n; i++)
		put_text(s, r.y + 1 + i, x, w, s->detail.line[s->detail_scroll + i], R_NORMAL);
}

/* the F-key bar, from the key table: F1..F12 that carry a label */
static void draw_fkeys(screen *s, lrect r)
{
	int x = r.x;
	hline_fill(s, r.y, r.x, r.w, R_NORMAL);
	for (int n = 1; n <= 12; n++) {
		bool changes;
		const char *label = keys_fkey_label(n, &changes);
		if (!label)
			continue;
		char key[16]; /* "F12"; room for any int, which gcc -O1 (SANITIZE=1) asks for */
		snprintf(key, sizeof key, "F%d", n);
		int kw = (int)strlen(key), lw = (int)strlen(label);
		if (x + kw + lw > r.x + r.w)
			break;
		put(s, r.y, x, kw, key, R_FKEY, false);
		put(s, r.y, x + kw, lw, label, (s->readonly || s->a->replay) && changes ? R_DIM : R_FLABEL, false);
		x += kw + lw + 1;
	}
}

static void draw_status(screen *s, lrect r)
{
	char line[400];
	role ro = R_NORMAL;
	if (s->mode == MODE_CONFIRM) {
		snprintf(line, sizeof line, "%s [y/N]", s->pending.what);
		ro = R_WARN;
	} else if (s->mode == MODE_FILTER) {
		snprintf(line, sizeof line, "filter: %s_   (Enter keeps it, Esc clears it)", s->filter);
		ro = R_HEADER;
	} else if (s->mode == MODE_JUMP) {
		snprintf(line, sizeof line, "jump to (HH:MM[:SS] or YYYY-MM-DD HH:MM): %s_   (Enter jumps, Esc cancels)", s->jump);
		ro = R_HEADER;
	} else if (s->status[0]) {
		snprintf(line, sizeof line, "%s", s->status);
		ro = s->status_error ? R_STATUS_ERR : R_NORMAL;
	} else {
		keys_hint(s->a->replay, line, sizeof line);
		ro = R_DIM;
	}
	put(s, r.y, r.x, r.w, line, ro, false);
}

/* ---- pop-ups ---- */

static void draw_box(screen *s, int y, int x, int h, int w, const char *title)
{
	attr_t a = attr(s, R_POPUP);
	for (int i = 0; i < h; i++)
		put(s, y + i, x, w, "", R_POPUP, false);
	attrset(a);
	mvaddch(y, x, ACS_ULCORNER);
	mvhline(y, x + 1, ACS_HLINE, w - 2);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	mvvline(y + 1, x, ACS_VLINE, h - 2);
	mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
	attrset(A_NORMAL);
	if (title) {
		char t[128];
		snprintf(t, sizeof t, " %s ", title);
		put(s, y, x + 2, fmt_width(t), t, R_POPUP, false);
	}
}

/* The help: the key table's lines (keys.c) between a fixed head and tail. */
static void draw_help(screen *s)
{
	bool rp = s->a->replay;
	char lines[48][96];
	int n = 0;
	if (rp)
		snprintf(lines[n++], sizeof lines[0], "REPLAY KEYS");
	while (n < 46 && keys_help_line(rp, n - rp, lines[n], sizeof lines[0]))
		n++;
	if (!rp) {
		snprintf(lines[n++], sizeof lines[0], "%s", "");
		snprintf(lines[n++], sizeof lines[0], "Status: HARDWARE / SOFTWARE / UNAVAILABLE / UNKNOWN / n/a");
	}
	int w = s->cols - 4 < 76 ? s->cols - 4 : 76, h = n + 4;
	if (h > s->rows - 2)
		h = s->rows - 2;
	int y = (s->rows - h) / 2, x = (s->cols - w) / 2;
	char title[96] = "Keys";
	if (rp) {
		snprintf(title, sizeof title, "Keys (replay)");
	} else if (s->readonly) {
		char off[48];
		keys_refused(off, sizeof off);
		snprintf(title, sizeof title, "Keys (read-only: %s are off)", off);
	}
	draw_box(s, y, x, h, w, title);
	for (int i = 0; i < n && i < h - 4; i++)
		put_text(s, y + 1 + i, x + 2, w - 4, lines[i], R_POPUP);
	put(s, y + h - 2, x + 2, w - 4, "any key closes this help; see also accel-top(1)", R_POPUP, false);
}

static const char *choice(const char *const *list, int i)
{
	return list[i] ? list[i] : "?";
}

bool screen_browser_choice(const screen *s, int i, char *value, size_t vcap, char *label, size_t lcap)
{
	int nfixed = 1; /* auto, then the families */
	while (family_at(nfixed - 1))
		nfixed++;
	if (i < 0)
		return false;
	if (i < nfixed) {
		const char *fixed = i ? family_at(i - 1)->name : "auto";
		snprintf(value, vcap, "%s", fixed);
		snprintf(label, lcap, "%s", fixed);
		return true;
	}
	int k = i - nfixed;
	for (size_t j = 0; j < s->v.nb; j++) {
		const pool_browser *b = &s->v.b[j];
		if (b->state != BS_CONNECTED)
			continue;
		if (k-- == 0) {
			snprintf(value, vcap, "#%d", b->id);
			snprintf(label, lcap, "#%d (%s %s)", b->id, b->kind, fmt_status_word(&b->caps, PLAT_WEBGPU));
			return true;
		}
	}
	return false;
}

bool screen_shard_choice(const screen *s, int i, char *value, size_t vcap, char *label, size_t lcap)
{
	if (i == 0) {
		snprintf(value, vcap, "%s", "");
		snprintf(label, lcap, "off (the whole model)");
		return true;
	}
	const char *kinds[16];
	int count[16], nk = 0;
	for (size_t j = 0; j < s->v.nb; j++) {
		const pool_browser *b = &s->v.b[j];
		if (b->state != BS_CONNECTED)
			continue;
		int k = 0;
		while (k < nk && strcmp(kinds[k], b->kind))
			k++;
		if (k == nk && nk < 16) {
			kinds[nk] = b->kind;
			count[nk++] = 0;
		}
		if (k < nk)
			count[k]++;
	}
	int n = 0;
	for (int a = 0; a < nk; a++)
		for (int b = 0; b < nk; b++)
			if ((a != b || count[a] > 1) && ++n == i) {
				snprintf(value, vcap, "%s,%s", kinds[a], kinds[b]);
				snprintf(label, lcap, "shard 1 on %s, shard 2 on %s", kinds[a], kinds[b]);
				return true;
			}
	return false;
}

static void draw_launch(screen *s)
{
	int w = 64, h = LF__COUNT + 6;
	int y = (s->rows - h) / 2, x = (s->cols - w) / 2;
	draw_box(s, y, x, h, w, "Launch a model");
	const launch_state *f = &s->form;
	const char *model = app_model_name(s->a, (size_t)f->model);
	const char *labels[LF__COUNT] = { "Model", "Precision", "Platform", "Browser", "Load shape",
					  f->shape ? "Requests/s" : "Concurrency", "Duration s", "Shards" };
	for (int i = 0; i < LF__COUNT; i++) {
		char val[160];
		switch (i) {
		case LF_MODEL: snprintf(val, sizeof val, "< %s >", model ? model : "(none offered yet)"); break;
		case LF_PRECISION: snprintf(val, sizeof val, "< %s >", choice(screen_precisions, f->precision)); break;
		case LF_PLATFORM: snprintf(val, sizeof val, "< %s >", choice(screen_platforms, f->platform)); break;
		case LF_BROWSER: {
			char value[32], label[96];
			if (!screen_browser_choice(s, f->browser, value, sizeof value, label, sizeof label))
				snprintf(label, sizeof label, "auto");
			snprintf(val, sizeof val, "< %s >", label);
			break;
		}
		case LF_SHAPE: snprintf(val, sizeof val, "< %s >", f->shape ? "requests per second" : "concurrency"); break;
		case LF_AMOUNT: snprintf(val, sizeof val, "[%s%s]", f->amount, f->field == i ? "_" : ""); break;
		case LF_DURATION:
			snprintf(val, sizeof val, "[%s%s]  %s", f->duration, f->field == i ? "_" : "",
				 atof(f->duration) > 0 ? "" : "(0 = until stopped)");
			break;
		case LF_SHARD: {
			char value[64], label[96];
			if (!screen_shard_choice(s, f->shard, value, sizeof value, label, sizeof label))
				screen_shard_choice(s, 0, value, sizeof value, label, sizeof label);
			snprintf(val, sizeof val, "< %s >", label);
			break;
		}
		}
		bool sel = f->field == i;
		put(s, y + 2 + i, x + 2, 14, labels[i], sel ? R_POPUP_SEL : R_POPUP, false);
		put(s, y + 2 + i, x + 17, w - 19, val, sel ? R_POPUP_SEL : R_POPUP, false);
	}
	put(s, y + h - 3, x + 2, w - 4, "Up/Down field  Left/Right change  digits edit", R_POPUP, false);
	put(s, y + h - 2, x + 2, w - 4, "Enter launches  Esc cancels", R_POPUP, false);
}

static void draw_newbrowser(screen *s)
{
	int n = 0;
	while (family_at(n))
		n++;
	int w = 44, h = n + 5;
	int y = (s->rows - h) / 2, x = (s->cols - w) / 2;
	draw_box(s, y, x, h, w, "Start a browser");
	for (int i = 0; i < n; i++) {
		char t[64];
		snprintf(t, sizeof t, "%c  %s", family_at(i)->menu_key, family_at(i)->name);
		put(s, y + 2 + i, x + 2, w - 4, t, i == s->menu_idx ? R_POPUP_SEL : R_POPUP, false);
	}
	put(s, y + h - 2, x + 2, w - 4, "Enter or letter starts  Esc cancels", R_POPUP, false);
}

/* ---- the whole screen ---- */

static void draw(screen *s)
{
	if (!s->curses_on)
		return;
	s->last_draw_us = ac_now_us();
	layout_in li = { .cols = s->cols, .rows = s->rows, .n_browsers = (int)s->norder[PANEL_BROWSERS],
			 .n_models = (int)s->norder[PANEL_MODELS], .detail_open = s->detail_open };
	layout_compute(&li, &s->lay);
	erase();
	if (s->lay.too_small) {
		char now[64];
		snprintf(now, sizeof now, "now %dx%d", s->cols, s->rows);
		int y = s->rows / 2 - 1 > 0 ? s->rows / 2 - 1 : 0;
		int w1 = (int)strlen(LAYOUT_TOO_SMALL);
		int x1 = s->cols > w1 ? (s->cols - w1) / 2 : 0;
		put(s, y, x1, s->cols - x1, LAYOUT_TOO_SMALL, R_WARN, false);
		int w2 = (int)strlen(now);
		if (y + 1 < s->rows)
			put(s, y + 1, s->cols > w2 ? (s->cols - w2) / 2 : 0, w2, now, R_NORMAL, false);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	const layout *l = &s->lay;
	draw_header(s, l->r[LP_HEADER]);
	draw_list(s, l->r[LP_BROWSERS], PANEL_BROWSERS);
	draw_list(s, l->r[LP_MODELS], PANEL_MODELS);
	if (l->r[LP_DETAIL].h)
		draw_detail(s, l->r[LP_DETAIL], l->detail_side);
	draw_log(s, l->r[LP_LOG]);
	draw_fkeys(s, l->r[LP_FKEYS]);
	draw_status(s, l->r[LP_STATUS]);
	if (s->mode == MODE_HELP)
		draw_help(s);
	else if (s->mode == MODE_LAUNCH)
		draw_launch(s);
	else if (s->mode == MODE_NEWBROWSER)
		draw_newbrowser(s);
	wnoutrefresh(stdscr);
	doupdate();
}

static void refresh_view(screen *s)
{
	if (!s->paused && view_refresh(s))
		screen_rebuild(s);
}

static void on_redraw_timer(uv_timer_t *t)
{
	screen *s = ((app *)t->data)->user;
	refresh_view(s);
	draw(s);
}

static void on_tick(uv_timer_t *t)
{
	screen *s = ((app *)t->data)->user;
	if (s->paused)
		return;
	refresh_view(s);
	draw(s);
}

/* Pool changes are drawn at most every 100 ms: the first change starts a timer for what is left
 * of the 100 ms since the last draw, later ones find it running. */
static void on_pool_change(void *ctx, const ac_event *ev)
{
	screen *s = ctx;
	(void)ev;
	app *a = s->a;
	if (a->quitting || s->paused || !s->curses_on || uv_is_active((uv_handle_t *)&a->settle))
		return;
	int64_t since = ac_now_us() - s->last_draw_us;
	uint64_t delay = since >= 100000 ? 0 : (uint64_t)((100000 - since) / 1000 + 1);
	uv_timer_start(&a->settle, on_redraw_timer, delay, 0);
}

/* The replay clock moved: draw like a pool change (at most every 100 ms). */
static void on_replay_move(void *ctx)
{
	on_pool_change(ctx, NULL);
}

static void do_resize(screen *s)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, s->rows, s->cols);
	clearok(stdscr, TRUE);
}

static void react(screen *s, int rx)
{
	if (!s->curses_on)
		return;
	if (rx & RX_RESIZE)
		do_resize(s);
	if (rx & RX_REFRESH)
		refresh_view(s);
	if (rx & (RX_REDRAW | RX_RESIZE | RX_REFRESH | RX_QUIT))
		draw(s);
}

static int dispatch(screen *s, int ch)
{
	if (ch == KEY_RESIZE)
		return RX_RESIZE;
	if (s->a->quitting)
		return RX_NONE;
	s->last_key = ch;
	if (s->mode != MODE_NORMAL)
		return keys_modal(s, ch);
	if (ch >= 0 && ch < KEYMAP_SIZE && s->keys[ch])
		return keys_run(s, s->keys[ch]);
	if (ch == ERR)
		return RX_NONE;
	screen_say(s, false, "unknown key %s: ? shows the keys", keyname(ch) ? keyname(ch) : "?");
	return RX_REDRAW;
}

static void on_stdin(uv_poll_t *h, int status, int events)
{
	screen *s = h->data;
	(void)events;
	static int empty;
	if (status < 0 || !s->curses_on) {
		uv_poll_stop(h);
		return;
	}
	int rx = 0, ch, got = 0;
	while (s->curses_on && (ch = getch()) != ERR) {
		got++;
		rx |= dispatch(s, ch);
		if (rx & RX_QUIT)
			break;
	}
	/* readable with nothing to read, again and again: the terminal is gone */
	if (!got && ++empty >= 50) {
		uv_poll_stop(h);
		if (!s->a->quitting)
			app_quit(s->a, 0);
		return;
	}
	if (got)
		empty = 0;
	react(s, rx);
}

static void on_winch(uv_signal_t *h, int signum)
{
	(void)signum;
	react(h->data, RX_RESIZE);
}

/* ---- setup and teardown ---- */

static void close_handle(uv_handle_t *h)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, NULL);
}

static void screen_close_terminal(screen *s)
{
	if (s->curses_on) {
		s->curses_on = false;
		endwin();
	}
	tty_dirty = 0;
	if (saved_stdin_flags >= 0)
		fcntl(STDIN_FILENO, F_SETFL, saved_stdin_flags);
}

static void on_app_stopped(app *a)
{
	screen *s = a->user;
	if (s->input_on)
		close_handle((uv_handle_t *)&s->in);
	if (s->winch_on)
		close_handle((uv_handle_t *)&s->winch);
	s->input_on = s->winch_on = false;
	screen_close_terminal(s);
}

static int screen_open(screen *s, ac_err *err)
{
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C"); /* "%.2f" and JSON numbers keep their '.' */
	const char *cs = nl_langinfo(CODESET);
	s->utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	saved_tio_ok = tcgetattr(STDIN_FILENO, &saved_tio) == 0;
	saved_stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
	the_term = newterm(NULL, stdout, stdin);
	if (!the_term)
		return ac_errf(err, AC_EINVAL, "cannot drive terminal type '%s' (set TERM, or use -b)",
			       getenv("TERM") ? getenv("TERM") : "");
	set_term(the_term);
	s->curses_on = true;
	tty_dirty = 1;
	install_restore_paths();
	const char *nc = getenv("NO_COLOR");
	s->color = !s->o->no_color && !(nc && *nc) && has_colors();
	colors_init(s);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	set_escdelay(25);
	curs_set(0);
	getmaxyx(stdscr, s->rows, s->cols);

	uv_loop_t *loop = s->a->loop;
	if (uv_poll_init(loop, &s->in, STDIN_FILENO) == 0) {
		s->in.data = s;
		s->input_on = true;
		uv_poll_start(&s->in, UV_READABLE, on_stdin);
	} else {
		screen_say(s, true, "standard input cannot be watched: keys will not work (q will not quit; use Ctrl-C)");
	}
	uv_signal_init(loop, &s->winch);
	s->winch.data = s;
	s->winch_on = true;
	uv_signal_start(&s->winch, on_winch, SIGWINCH);
	uint64_t ms = (uint64_t)(s->o->delay_s * 1000);
	uv_timer_start(&s->a->tick, on_tick, ms, ms);
	return 0;
}

int screen_run(app *a, uv_loop_t *loop, const options *o)
{
	screen *s = calloc(1, sizeof *s);
	ac_err err = { 0 };
	if (!s) {
		fprintf(stderr, "accel-top: out of memory\n");
		return 1;
	}
	s->a = a;
	s->o = o;
	s->readonly = o->readonly;
	s->show_token = o->show_token;
	s->focus = PANEL_BROWSERS;
	s->detail_of = PANEL_BROWSERS;
	s->last_list = PANEL_BROWSERS;
	s->detail_buf = calloc(SCREEN_DETAIL_LINES, sizeof *s->detail_buf);
	s->detail_raw = calloc(SCREEN_DETAIL_LINES, sizeof *s->detail_raw);
	snprintf(s->form.amount, sizeof s->form.amount, "1");
	snprintf(s->form.duration, sizeof s->form.duration, "0");
	keys_init(s->keys, o->replay != NULL);
	a->user = s;
	a->on_stopped = on_app_stopped;
	the_screen = s;

	int rc;
	if (o->replay) {
		rc = app_start_replay(a, loop, o, true, &err);
		if (!rc) {
			a->rp->on_move = on_replay_move;
			a->rp->ctx = s;
			if (replay_truncation(a->rp))
				screen_say(s, true, "truncated recording: %s; replaying what it holds",
					   replay_truncation(a->rp));
			else if (!replay_count(a->rp))
				screen_say(s, true, "%s holds no event", o->replay);
		}
	} else {
		rc = app_start(a, loop, o, &err);
		if (!rc)
			rc = app_launch_browsers(a, &err);
		if (!rc && a->insecure[0]) /* until a key replaces it */
			screen_say(s, true, "%s", a->insecure_short);
		else if (!rc && a->tls_on)
			screen_say(s, false, "https: a Chromium elsewhere trusts it with %s", a->spki_flag);
	}
	if (!rc) {
		if (pool_add_listener(a->pool, on_pool_change, s))
			rc = ac_errf(&err, AC_ENOMEM, "the pool has no room for another listener");
		else
			rc = screen_open(s, &err);
	}
	if (rc) {
		screen_close_terminal(s);
		fprintf(stderr, "accel-top: %s\n", err.msg);
		app_quit(a, 1);
	} else {
		refresh_view(s);
		draw(s);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	screen_close_terminal(s);
	if (the_term) {
		delscreen(the_term);
		the_term = NULL;
	}
	app_free(a);
	uv_loop_close(loop);
	the_screen = NULL;
	int code = a->exit_code;
	free(s->v.b);
	free(s->v.m);
	free(s->v.ses);
	free(s->order[0]);
	free(s->order[1]);
	free(s->detail_buf);
	free(s->detail_raw);
	free(s);
	return code;
}
