#include "format.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "layout.h"

const char *const fmt_status_words[] = { "HARDWARE", "SOFTWARE", "UNAVAILABLE", "UNKNOWN", "n/a", NULL };

const char *fmt_class_word(ac_class c)
{
	switch (c) {
	case CL_HARDWARE: return "HARDWARE";
	case CL_SOFTWARE: return "SOFTWARE";
	case CL_UNAVAILABLE: return "UNAVAILABLE";
	case CL_UNKNOWN: return "UNKNOWN";
	}
	return "UNKNOWN";
}

const char *fmt_status_word(const ac_caps *c, ac_platform p)
{
	if (!c->valid || (unsigned)p >= PLAT__COUNT)
		return "n/a";
	return fmt_class_word(c->verdict[p].status);
}

/* ---- UTF-8 and display width ---- */

/* Decodes one character at s; *len gets its byte length (1 for an invalid byte). Returns the
 * code point, or -1 for invalid UTF-8. */
static long utf8_decode(const unsigned char *s, int *len)
{
	unsigned c = s[0];
	int n;
	long cp;
	if (c < 0x80) {
		*len = 1;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		cp = c & 0x07;
	} else {
		*len = 1;
		return -1;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = 1;
			return -1;
		}
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	static const long least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		*len = 1;
		return -1;
	}
	*len = n;
	return cp;
}

/* One character as shown: its bytes (or "?" for anything unsafe) and its columns. */
static int char_cols(const unsigned char *s, int *len, bool *replace)
{
	long cp = utf8_decode(s, len);
	*replace = false;
	if (cp < 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
		*replace = true;
		return 1;
	}
	if (cp < 0x7f)
		return 1;
	int w = wcwidth((wchar_t)cp);
	if (w < 0) {
		*replace = true;
		return 1;
	}
	return w;
}

int fmt_width(const char *s)
{
	int cols = 0, len;
	bool rep;
	for (const unsigned char *p = (const unsigned char *)s; *p; p += len)
		cols += char_cols(p, &len, &rep);
	return cols;
}

static bool word_char(unsigned char c)
{
	return isalnum(c) || c == '_';
}

/* Moves a cut at byte offset `cut` of s to the start of any status word it falls inside. */
static size_t protect_words(const char *s, size_t cut)
{
	size_t n = strlen(s);
	for (const char *const *w = fmt_status_words; *w; w++) {
		size_t wl = strlen(*w);
		for (size_t i = 0; i + wl <= n; i++) {
			if (i >= cut)
				break;
			if (strncasecmp(s + i, *w, wl) != 0)
				continue;
			if (i > 0 && word_char((unsigned char)s[i - 1]))
				continue;
			if (i + wl < n && word_char((unsigned char)s[i + wl]))
				continue;
			if (cut > i && cut < i + wl)
				cut = i;
		}
	}
	return cut;
}

/* Appends the shown form of s[0..nbytes) to out. */
static size_t put_sanitised(char *out, size_t cap, size_t o, const char *s, size_t nbytes)
{
	int len;
	bool rep;
	const unsigned char *p = (const unsigned char *)s, *end = p + nbytes;
	for (; p < end && *p; p += len) {
		char_cols(p, &len, &rep);
		if (rep) {
			if (o + 1 < cap)
				out[o++] = '?';
		} else if (o + (size_t)len < cap) {
			memcpy(out + o, p, (size_t)len);
			o += (size_t)len;
		} else {
			break;
		}
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

int fmt_fit(char *out, size_t cap, const char *s, int width)
{
	if (!cap)
		return 0;
	out[0] = '\0';
	if (!s || width <= 0)
		return 0;
	int total = fmt_width(s);
	if (total <= width) {
		put_sanitised(out, cap, 0, s, strlen(s));
		return total;
	}
	/* the longest prefix that leaves one column for the '~' */
	int cols = 0, len;
	bool rep;
	size_t cut = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
		int c = char_cols(p, &len, &rep);
		if (cols + c > width - 1)
			break;
		cols += c;
		cut += (size_t)len;
	}
	size_t moved = protect_words(s, cut);
	if (moved != cut) {
		cut = moved;
		char tmp[1024];
		size_t k = cut < sizeof tmp - 1 ? cut : sizeof tmp - 1;
		memcpy(tmp, s, k);
		tmp[k] = '\0';
		cols = fmt_width(tmp);
	}
	size_t o = put_sanitised(out, cap, 0, s, cut);
	if (o + 1 < cap) {
		out[o++] = '~';
		out[o] = '\0';
		cols++;
	}
	return cols;
}

int fmt_pad(char *out, size_t cap, const char *s, int width, bool right_align)
{
	char tmp[1024];
	int cols = fmt_fit(tmp, sizeof tmp, s, width);
	int pad = width > cols ? width - cols : 0;
	size_t o = 0, tl = strlen(tmp);
	if (!cap)
		return 0;
	if (right_align)
		for (; pad > 0 && o + 1 < cap; pad--)
			out[o++] = ' ';
	size_t k = tl < cap - 1 - o ? tl : cap - 1 - o;
	memcpy(out + o, tmp, k);
	o += k;
	for (; pad > 0 && o + 1 < cap; pad--)
		out[o++] = ' ';
	out[o] = '\0';
	return width > cols ? width : cols;
}

/* ---- numbers and times ---- */

void fmt_duration(char *out, size_t cap, int64_t us)
{
	if (us < 0) {
		snprintf(out, cap, "n/a");
		return;
	}
	long long s = (long long)(us / 1000000);
	if (s < 60)
		snprintf(out, cap, "%llds", s);
	else if (s < 3600)
		snprintf(out, cap, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, cap, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, cap, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

void fmt_uptime(char *out, size_t cap, int64_t us)
{
	if (us < 0) {
		snprintf(out, cap, "n/a");
		return;
	}
	long long s = (long long)(us / 1000000);
	long long d = s / 86400;
	s %= 86400;
	if (d)
		snprintf(out, cap, "%lldd %02lld:%02lld:%02lld", d, s / 3600, s % 3600 / 60, s % 60);
	else
		snprintf(out, cap, "%02lld:%02lld:%02lld", s / 3600, s % 3600 / 60, s % 60);
}

void fmt_clock(char *out, size_t cap, int64_t t_us)
{
	time_t t = (time_t)(t_us / 1000000);
	struct tm tm;
	if (t_us <= 0 || !localtime_r(&t, &tm) || !strftime(out, cap, "%H:%M:%S", &tm))
		snprintf(out, cap, "--:--:--");
}

void fmt_ms(char *out, size_t cap, double ms, bool valid)
{
	if (!valid || !(ms >= 0) || ms > 1e12)
		snprintf(out, cap, "n/a");
	else if (ms < 10)
		snprintf(out, cap, "%.2f", ms);
	else if (ms < 100)
		snprintf(out, cap, "%.1f", ms);
	else if (ms < 100000)
		snprintf(out, cap, "%.0f", ms);
	else
		snprintf(out, cap, "%.0fs", ms / 1000);
}

void fmt_count(char *out, size_t cap, uint64_t n)
{
	if (n < 10000)
		snprintf(out, cap, "%llu", (unsigned long long)n);
	else if (n < 1000000)
		snprintf(out, cap, "%.1fk", (double)n / 1e3);
	else if (n < 1000000000ULL)
		snprintf(out, cap, "%.1fM", (double)n / 1e6);
	else
		snprintf(out, cap, "%.1fG", (double)n / 1e9);
}

void fmt_bytes(char *out, size_t cap, int64_t bytes, bool valid)
{
	double k = (double)bytes / 1024, m = k / 1024, g = m / 1024;
	if (!valid || bytes < 0)
		snprintf(out, cap, "n/a");
	else if (k < 999.5)
		snprintf(out, cap, "%.0fK", k);
	else if (m < 999.5)
		snprintf(out, cap, "%.0fM", m);
	else if (g < 9.95)
		snprintf(out, cap, "%.1fG", g);
	else if (g < 999.5)
		snprintf(out, cap, "%.0fG", g);
	else
		snprintf(out, cap, "%.1fT", g / 1024);
}

void fmt_pct(char *out, size_t cap, double pct, bool valid)
{
	if (!valid || !(pct >= 0) || pct > 1e6)
		snprintf(out, cap, "n/a");
	else if (pct < 99.95)
		snprintf(out, cap, "%.1f", pct);
	else
		snprintf(out, cap, "%.0f", pct);
}

void fmt_rate(char *out, size_t cap, double r)
{
	if (!(r >= 0))
		snprintf(out, cap, "n/a");
	else if (r < 100)
		snprintf(out, cap, "%.1f", r);
	else if (r < 1e6)
		snprintf(out, cap, "%.0f", r);
	else
		snprintf(out, cap, "%.1fM", r / 1e6);
}

int fmt_sparkline(char *out, size_t cap, const float *hist, int len, int width, bool utf8)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[8] = { '_', '.', '-', ':', '=', '+', '*', '#' };
	size_t o = 0;
	if (!cap)
		return 0;
	out[0] = '\0';
	if (width <= 0 || len <= 0 || !hist)
		return 0;
	int shown = len < width ? len : width;
	const float *h = hist + (len - shown);
	float max = 0;
	for (int i = 0; i < shown; i++)
		if (h[i] > max)
			max = h[i];
	for (int i = shown; i < width && o + 1 < cap; i++)
		out[o++] = ' ';
	for (int i = 0; i < shown; i++) {
		int lv = 0;
		if (max > 0 && h[i] > 0)
			lv = (int)(h[i] / max * 7.0f + 0.5f);
		lv = lv < 0 ? 0 : lv > 7 ? 7 : lv;
		if (utf8) {
			if (o + 3 >= cap)
				break;
			memcpy(out + o, blocks[lv], 3);
			o += 3;
		} else {
			if (o + 1 >= cap)
				break;
			out[o++] = ascii[lv];
		}
	}
	out[o] = '\0';
	return width;
}

void fmt_id_list(char *out, size_t cap, const int *ids, int n)
{
	if (!cap)
		return;
	out[0] = '\0';
	if (n <= 0) {
		snprintf(out, cap, "-");
		return;
	}
	for (int i = 0; i < n; i++)
		ac_strlcatf(out, cap, "%s%d", i ? "," : "", ids[i]);
}

/* ---- header ---- */

int fmt_header_top(char *out, size_t cap, int width, const char *name, const char *url, const char *uptime,
		   const char *clock)
{
	char right[96], left[600];
	int nw = fmt_width(name), uw = fmt_width(url);
	for (int variant = 0; variant < 4; variant++) {
		bool with_name = variant < 2, with_clock = variant == 0;
		if (variant < 3)
			snprintf(right, sizeof right, "up %s%s%s", uptime, with_clock ? "  " : "", with_clock ? clock : "");
		else
			right[0] = '\0';
		int rw = fmt_width(right);
		int need = (with_name ? nw + 2 : 0) + uw + (rw ? rw + 2 : 0);
		if (need > width && variant < 3)
			continue;
		snprintf(left, sizeof left, "%s%s%s", with_name ? name : "", with_name ? "  " : "", url);
		int lw = width - (rw ? rw + 1 : 0); /* one space between left and right at least */
		char lbuf[1024], rbuf[128];
		fmt_pad(lbuf, sizeof lbuf, left, lw, false);
		fmt_pad(rbuf, sizeof rbuf, right, width - lw, true);
		snprintf(out, cap, "%s%s", lbuf, rw ? rbuf : "");
		return with_name ? nw : 0;
	}
	return 0;
}

void fmt_header_counts(char *out, size_t cap, int width, const header_counts *c)
{
	char rate[16], errs[16];
	fmt_rate(rate, sizeof rate, c->done_per_s);
	fmt_count(errs, sizeof errs, c->errors);
	snprintf(out, cap, "browsers %zu/%zu connected   models %d/%zu running   in flight %d   done/s %s   errors %s",
		 c->connected, c->browsers, c->running, c->models, c->inflight, rate, errs);
	if (fmt_width(out) <= width)
		return;
	snprintf(out, cap, "browsers %zu/%zu  models %d/%zu running  in flight %d  done/s %s  errors %s",
		 c->connected, c->browsers, c->running, c->models, c->inflight, rate, errs);
}

/* ---- panel rows ---- */

void fmt_browser_load(const pool_model *models, size_t n_models, const pool_session *sessions, size_t n_sessions,
		      int browser_id, browser_load *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n_models; i++) {
		const pool_model *m = &models[i];
		for (int k = 0; k < m->n_browsers && k < POOL_MODEL_BROWSERS; k++)
			if (m->browsers[k] == browser_id) {
				out->models++;
				break;
			}
	}
	for (size_t i = 0; i < n_sessions; i++)
		if (sessions[i].browser == browser_id)
			out->inflight += sessions[i].inflight;
}

static void adapter_text(char *out, size_t cap, const ac_caps *c)
{
	if (!c->valid) {
		snprintf(out, cap, "n/a");
		return;
	}
	const caps_webgpu *g = &c->webgpu;
	if (!g->adapter) {
		snprintf(out, cap, "none");
		return;
	}
	if (g->vendor[0] && g->architecture[0])
		snprintf(out, cap, "%s/%s", g->vendor, g->architecture);
	else if (g->vendor[0] || g->architecture[0])
		snprintf(out, cap, "%s", g->vendor[0] ? g->vendor : g->architecture);
	else if (g->description[0] || g->device[0])
		snprintf(out, cap, "%s", g->description[0] ? g->description : g->device);
	else
		snprintf(out, cap, "(hidden)");
}

void fmt_browser_cell(char *out, size_t cap, const pool_browser *b, const browser_load *ld, int col)
{
	switch (col) {
	case BC_ID: snprintf(out, cap, "%d", b->id); break;
	case BC_KIND: snprintf(out, cap, "%s", b->kind[0] ? b->kind : "?"); break;
	case BC_VERSION: snprintf(out, cap, "%s", b->version[0] ? b->version : "n/a"); break;
	case BC_MODE: snprintf(out, cap, "%s", b->managed ? "managed" : "attached"); break;
	case BC_STATE: /* the supervisor's plan says more than "exited" */
		if (b->held)
			snprintf(out, cap, "held");
		else if (b->restart_at_us > 0 && b->state != BS_CONNECTED)
			snprintf(out, cap, "restart");
		else
			snprintf(out, cap, "%s", browser_state_name(b->state));
		break;
	case BC_WEBGPU: snprintf(out, cap, "%s", fmt_status_word(&b->caps, PLAT_WEBGPU)); break;
	case BC_ADAPTER: adapter_text(out, cap, &b->caps); break;
	case BC_WEBNN: snprintf(out, cap, "%s", fmt_status_word(&b->caps, PLAT_WEBNN)); break;
	case BC_MODELS: snprintf(out, cap, "%d", ld ? ld->models : 0); break;
	case BC_INFL: snprintf(out, cap, "%d", ld ? ld->inflight : 0); break;
	case BC_RTT: /* the last round trip of a browser no longer connected says nothing now */
		fmt_ms(out, cap, (double)b->rtt_us / 1000.0, b->rtt_us >= 0 && b->state == BS_CONNECTED);
		break;
	case BC_RSS: fmt_bytes(out, cap, b->rss_bytes, b->rss_valid); break;
	case BC_CPU: fmt_pct(out, cap, b->cpu_pct, b->cpu_valid); break;
	default: snprintf(out, cap, "?"); break;
	}
}

void fmt_model_cell(char *out, size_t cap, const pool_model *m, int col, int width, bool utf8)
{
	switch (col) {
	case MC_ID: snprintf(out, cap, "%d", m->id); break;
	case MC_MODEL: snprintf(out, cap, "%s", m->name[0] ? m->name : "?"); break;
	case MC_TYPE: snprintf(out, cap, "%s", m->type[0] ? m->type : "n/a"); break;
	case MC_PREC: snprintf(out, cap, "%s", m->precision[0] ? m->precision : "n/a"); break;
	case MC_PLAT: snprintf(out, cap, "%s%s", m->platform[0] ? m->platform : "n/a", m->fallback ? "*" : ""); break;
	case MC_STATE: snprintf(out, cap, "%s", !m->running ? "stopped" : m->breakers_open ? "breaker" : "running"); break;
	case MC_BROWSERS: fmt_id_list(out, cap, m->browsers, m->n_browsers < POOL_MODEL_BROWSERS ? m->n_browsers : POOL_MODEL_BROWSERS); break;
	case MC_QUEUE: snprintf(out, cap, "%d", m->queue); break;
	case MC_INFL: snprintf(out, cap, "%d", m->inflight); break;
	case MC_P50: fmt_ms(out, cap, m->p50_ms, m->lat_valid); break;
	case MC_P95: fmt_ms(out, cap, m->p95_ms, m->lat_valid); break;
	case MC_P99: fmt_ms(out, cap, m->p99_ms, m->lat_valid); break;
	case MC_RPS: fmt_rate(out, cap, m->rps); break;
	case MC_ERR: fmt_count(out, cap, m->errors); break;
	case MC_VERIFY:
		if (!m->err_valid)
			snprintf(out, cap, "n/a");
		else if (!m->verify_ok)
			snprintf(out, cap, "FAIL");
		else
			snprintf(out, cap, "%.1e", m->max_abs_err);
		break;
	case MC_SPARK: {
		int n = m->history_len < 0 ? 0 : m->history_len > POOL_LAT_HISTORY ? POOL_LAT_HISTORY : m->history_len;
		fmt_sparkline(out, cap, m->history, n, width, utf8);
		break;
	}
	default: snprintf(out, cap, "?"); break;
	}
}

static void append_cell(char *out, size_t cap, size_t *o, bool *first, const char *text, int width, bool right)
{
	char cell[1024];
	fmt_pad(cell, sizeof cell, text, width, right);
	if (!*first && *o + 1 < cap)
		out[(*o)++] = ' ';
	*first = false;
	size_t k = strlen(cell);
	if (*o + k >= cap)
		k = cap - 1 - *o;
	memcpy(out + *o, cell, k);
	*o += k;
	out[*o] = '\0';
}

void fmt_browser_row(char *out, size_t cap, const pool_browser *b, const browser_load *ld, const int *widths)
{
	int n;
	const col_spec *cs = layout_browser_cols(&n);
	size_t o = 0;
	bool first = true;
	if (!cap)
		return;
	out[0] = '\0';
	for (int c = 0; c < n; c++) {
		if (!widths[c])
			continue;
		char text[512];
		fmt_browser_cell(text, sizeof text, b, ld, c);
		append_cell(out, cap, &o, &first, text, widths[c], cs[c].right);
	}
}

void fmt_model_row(char *out, size_t cap, const pool_model *m, const int *widths, bool utf8)
{
	int n;
	const col_spec *cs = layout_model_cols(&n);
	size_t o = 0;
	bool first = true;
	if (!cap)
		return;
	out[0] = '\0';
	for (int c = 0; c < n; c++) {
		if (!widths[c])
			continue;
		char text[1024];
		fmt_model_cell(text, sizeof text, m, c, widths[c], utf8);
		append_cell(out, cap, &o, &first, text, widths[c], cs[c].right);
	}
}

/* ---- detail pane ---- */

void fmt_lines_add(fmt_lines *l, const char *fmt, ...)
{
	if (l->n >= l->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->line[l->n], FMT_LINE_MAX, fmt, ap);
	va_end(ap);
	l->n++;
}

void fmt_lines_rewrap(const fmt_lines *in, fmt_lines *out, int width)
{
	if (width < 20)
		width = 20;
	for (int i = 0; i < in->n && out->n < out->cap; i++) {
		const char *line = in->line[i];
		if (fmt_width(line) <= width) {
			fmt_lines_add(out, "%s", line);
			continue;
		}
		int indent = (int)strspn(line, " ") + 4;
		if (indent > width / 2)
			indent = 4;
		const char *p = line;
		bool first = true;
		while (*p && out->n < out->cap) {
			int avail = first ? width : width - indent;
			/* the longest prefix of p that fits avail columns, ending at a space if one exists */
			int cols = 0, len;
			bool rep;
			const char *q = p, *last_space = NULL;
			while (*q) {
				int c = char_cols((const unsigned char *)q, &len, &rep);
				if (cols + c > avail)
					break;
				if (*q == ' ' && q > p)
					last_space = q;
				cols += c;
				q += len;
			}
			const char *end = !*q ? q : last_space ? last_space : q;
			if (end == p) /* not even one character fits (cannot happen from 20 columns up) */
				end = p + 1;
			char piece[FMT_LINE_MAX];
			size_t k = (size_t)(end - p) < sizeof piece - 1 ? (size_t)(end - p) : sizeof piece - 1;
			memcpy(piece, p, k);
			while (k > 0 && piece[k - 1] == ' ')
				k--;
			piece[k] = '\0';
			fmt_lines_add(out, "%*s%s", first ? 0 : indent, "", piece);
			first = false;
			p = end;
			while (*p == ' ')
				p++;
		}
	}
}

void fmt_lines_wrap(fmt_lines *l, const char *label, const char *words, int width)
{
	char cur[FMT_LINE_MAX];
	int indent = label[0] ? (int)strlen(label) + 2 : 4;
	if (width < indent + 10)
		width = indent + 10;
	if (indent > 40)
		indent = 4;
	if (label[0])
		snprintf(cur, sizeof cur, "%s: ", label);
	else
		snprintf(cur, sizeof cur, "  ");
	int cols = fmt_width(cur);
	bool empty = true;
	const char *p = words ? words : "";
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		char word[FMT_LINE_MAX];
		size_t wl = (size_t)(e - p) < sizeof word - 1 ? (size_t)(e - p) : sizeof word - 1;
		memcpy(word, p, wl);
		word[wl] = '\0';
		int ww = fmt_width(word);
		if (!empty && cols + 1 + ww > width) {
			fmt_lines_add(l, "%s", cur);
			snprintf(cur, sizeof cur, "%*s", indent, "");
			cols = indent;
			empty = true;
		}
		if (!empty && strlen(cur) + 1 < sizeof cur) {
			strcat(cur, " ");
			cols++;
		}
		if (strlen(cur) + wl < sizeof cur)
			strcat(cur, word);
		cols += ww;
		empty = false;
		p = e;
	}
	fmt_lines_add(l, "%s", cur);
}

static const char *tri_text(int t)
{
	return t == TRI_UNSET ? "n/a" : t ? "yes" : "no";
}

static void limit_text(char *out, size_t cap, const char *name, int64_t v)
{
	if (v >= 0)
		ac_strlcatf(out, cap, "%s=%lld ", name, (long long)v);
	else
		ac_strlcatf(out, cap, "%s=n/a ", name);
}

/* Memory and CPU: of the process tree for a managed browser, of the page where it measures. */
static void browser_usage_line(fmt_lines *l, const pool_browser *b)
{
	char rss[16], cpu[16], page[16];
	fmt_bytes(rss, sizeof rss, b->rss_bytes, b->rss_valid);
	fmt_pct(cpu, sizeof cpu, b->cpu_pct, b->cpu_valid);
	fmt_bytes(page, sizeof page, b->page_mem_bytes, b->page_mem_valid);
	if (!b->managed)
		fmt_lines_add(l, "  RSS and CPU n/a (attached: not our process), page memory %s", page);
	else if (b->rss_valid)
		fmt_lines_add(l, "  RSS %s in %d processes, CPU %s%%, page memory %s", rss, b->nproc, cpu, page);
	else
		fmt_lines_add(l, "  RSS n/a, CPU n/a, page memory %s", page);
}

void fmt_browser_detail(fmt_lines *l, const pool_browser *b, const browser_load *ld, int width, int64_t now_us)
{
	char t1[32], t2[32], dur[32], rtt[16];
	fmt_lines_add(l, "Browser %d: %s %s, %s", b->id, b->kind, b->version[0] ? b->version : "(version n/a)",
		      b->managed ? "managed" : "attached");
	if (b->managed && b->pid > 0)
		ac_strlcatf(l->line[l->n - 1], FMT_LINE_MAX, " (pid %d)", b->pid);
	fmt_duration(dur, sizeof dur, b->changed_us > 0 ? now_us - b->changed_us : -1);
	fmt_ms(rtt, sizeof rtt, (double)b->rtt_us / 1000.0, b->rtt_us >= 0);
	fmt_lines_add(l, "  state %s for %s, reconnects %d, rtt %s ms", browser_state_name(b->state), dur,
		      b->connects > 1 ? b->connects - 1 : 0, rtt);
	fmt_clock(t1, sizeof t1, b->launched_us);
	fmt_clock(t2, sizeof t2, b->connected_us);
	fmt_lines_add(l, "  launched %s, connected %s", b->launched_us > 0 ? t1 : "n/a", b->connected_us > 0 ? t2 : "n/a");
	if (b->state == BS_EXITED)
		fmt_lines_add(l, "  exit status %d, signal %d", b->exit_status, b->exit_signal);
	if (b->reason[0])
		fmt_lines_wrap(l, "  reason", b->reason, width);
	if (b->note[0])
		fmt_lines_wrap(l, b->held ? "  HELD DOWN" : "  supervisor", b->note, width);
	if (b->audio_frontend[0])
		fmt_lines_wrap(l, "  audio front end", b->audio_frontend, width);
	if (b->last_work_us > 0) {
		fmt_duration(dur, sizeof dur, now_us - b->last_work_us);
		fmt_lines_add(l, "  last request %s ago", dur);
	}
	if (ld)
		fmt_lines_add(l, "  models loaded %d, requests in flight %d", ld->models, ld->inflight);
	browser_usage_line(l, b);
	const ac_caps *c = &b->caps;
	if (!c->valid) {
		fmt_lines_add(l, "WebGPU n/a, WebNN n/a, WASM n/a: no hello received yet");
		return;
	}
	/* WebGPU */
	const caps_webgpu *g = &c->webgpu;
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "WebGPU %s", fmt_status_word(c, PLAT_WEBGPU));
	fmt_lines_wrap(l, "  evidence", c->verdict[PLAT_WEBGPU].evidence, width);
	if (!g->api)
		fmt_lines_add(l, "  navigator.gpu: missing");
	else if (!g->adapter)
		fmt_lines_add(l, "  adapter: none");
	else {
		fmt_lines_add(l, "  vendor \"%s\"  architecture \"%s\"", g->vendor, g->architecture);
		fmt_lines_add(l, "  device \"%s\"  description \"%s\"", g->device, g->description);
		fmt_lines_add(l, "  isFallbackAdapter %s", tri_text(g->fallback));
	}
	if (g->error[0])
		fmt_lines_wrap(l, "  error", g->error, width);
	if (g->adapter) {
		fmt_lines_wrap(l, "  features", g->features[0] ? g->features : "(none)", width);
		char lim[512] = "";
		limit_text(lim, sizeof lim, "maxBufferSize", g->max_buffer_size);
		limit_text(lim, sizeof lim, "maxStorageBufferBindingSize", g->max_storage_binding);
		limit_text(lim, sizeof lim, "maxComputeWorkgroupSizeX", g->max_wg_size_x);
		limit_text(lim, sizeof lim, "maxComputeInvocationsPerWorkgroup", g->max_invocations);
		limit_text(lim, sizeof lim, "maxComputeWorkgroupStorageSize", g->max_wg_storage);
		fmt_lines_wrap(l, "  limits", lim, width);
	}
	/* WebNN */
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "WebNN %s", fmt_status_word(c, PLAT_WEBNN));
	fmt_lines_wrap(l, "  evidence", c->verdict[PLAT_WEBNN].evidence, width);
	if (!c->webnn.api)
		fmt_lines_add(l, "  navigator.ml: missing");
	for (int d = 0; d < NN__COUNT; d++) {
		const caps_nn_device *dv = &c->webnn.dev[d];
		char label[32];
		snprintf(label, sizeof label, "  %s", nn_device_name((nn_device)d));
		if (!dv->reported)
			fmt_lines_add(l, "%s: not reported", label);
		else if (dv->ok)
			fmt_lines_add(l, "%s: context ok, accelerated %s", label, tri_text(dv->accelerated));
		else
			fmt_lines_wrap(l, label, dv->error[0] ? dv->error : "failed (no error text)", width);
	}
	/* WASM */
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "WASM %s", fmt_status_word(c, PLAT_WASM));
	fmt_lines_add(l, "  simd %s, threads %s", tri_text(c->wasm.simd), tri_text(c->wasm.threads));
	/* system */
	fmt_lines_add(l, "%s", "");
	char cores[16] = "n/a", mem[24] = "n/a";
	if (c->hardware_concurrency >= 0)
		snprintf(cores, sizeof cores, "%d", c->hardware_concurrency);
	if (c->device_memory_gb >= 0)
		snprintf(mem, sizeof mem, "%g GB", c->device_memory_gb);
	fmt_lines_add(l, "cores %s, device memory %s, cross-origin isolated %s", cores, mem,
		      tri_text(c->cross_origin_isolated));
	fmt_lines_wrap(l, "user agent", c->user_agent[0] ? c->user_agent : "n/a", width);
}

static void split_bar(char *out, size_t cap, double q, double w, double c, int width)
{
	double total = q + w + c;
	if (!cap)
		return;
	out[0] = '\0';
	if (!(total > 0) || width < 3)
		return;
	int nq = (int)(q / total * width + 0.5), nw = (int)(w / total * width + 0.5);
	if (nq + nw > width)
		nw = width - nq;
	int nc = width - nq - nw;
	size_t o = 0;
	for (int i = 0; i < nq && o + 1 < cap; i++)
		out[o++] = 'q';
	for (int i = 0; i < nw && o + 1 < cap; i++)
		out[o++] = 'w';
	for (int i = 0; i < nc && o + 1 < cap; i++)
		out[o++] = 'c';
	out[o] = '\0';
}

static const char *session_word(session_state st)
{
	switch (st) {
	case SS_LOADING: return "loading";
	case SS_READY: return "ready";
	case SS_FAILED: return "FAILED";
	case SS_RETIRED: return "retired";
	}
	return "?";
}

void fmt_model_detail(fmt_lines *l, const pool_model *m, const pool_browser *browsers, size_t n_browsers,
		      const pool_session *sessions, size_t n_sessions, int width, bool utf8, int64_t now_us)
{
	char a[16], b[16], c[16], r[16], done[16], errs[16], dur[32];
	fmt_lines_add(l, "Model %d: %s (%s), %s on %s, %s", m->id, m->name, m->type[0] ? m->type : "type n/a",
		      m->precision[0] ? m->precision : "n/a", m->platform[0] ? m->platform : "n/a",
		      m->running ? "running" : "stopped");
	if (!m->running && m->stop_reason[0])
		fmt_lines_wrap(l, "  stopped", m->stop_reason, width);
	/* the workload */
	char shape[64];
	if (m->concurrency > 0)
		snprintf(shape, sizeof shape, "concurrency %d", m->concurrency);
	else if (m->target_rps > 0)
		snprintf(shape, sizeof shape, "%.3g req/s", m->target_rps);
	else
		snprintf(shape, sizeof shape, "no load shape");
	fmt_duration(dur, sizeof dur, m->started_us > 0 ? now_us - m->started_us : -1);
	fmt_lines_add(l, "  workload: %s, browser %s, %s, running for %s", shape, m->pin[0] ? m->pin : "auto",
		      m->count > 0 ? "a fixed count" : "until stopped", dur);
	if (m->count > 0)
		ac_strlcatf(l->line[l->n - 1], FMT_LINE_MAX, " (%lld requests)", (long long)m->count);
	fmt_lines_add(l, "  submitted %lld, finished %lld, warm-up %d excluded", (long long)m->submitted,
		      (long long)m->finished, m->warmup);
	fmt_count(done, sizeof done, m->completed);
	fmt_count(errs, sizeof errs, m->errors);
	fmt_rate(r, sizeof r, m->rps);
	fmt_lines_add(l, "  completed %s, errors %s, queue %d, in flight %d, %s req/s", done, errs, m->queue,
		      m->inflight, r);
	if (m->requeued || m->discarded || m->timed_out)
		fmt_lines_add(l, "  put back %llu (browser lost), late replies discarded %llu, timed out %llu",
			      (unsigned long long)m->requeued, (unsigned long long)m->discarded,
			      (unsigned long long)m->timed_out);
	if (m->breaker_note[0])
		fmt_lines_wrap(l, m->breakers_open ? "  BREAKER" : "  breaker", m->breaker_note, width);
	if (m->last_error[0])
		fmt_lines_wrap(l, "  last error", m->last_error, width);
	fmt_ms(a, sizeof a, m->p50_ms, m->lat_valid);
	fmt_ms(b, sizeof b, m->p95_ms, m->lat_valid);
	fmt_ms(c, sizeof c, m->p99_ms, m->lat_valid);
	fmt_lines_add(l, "  latency p50 %s ms, p95 %s ms, p99 %s ms", a, b, c);
	if (m->lat_valid) {
		fmt_ms(a, sizeof a, m->queue_ms, true);
		fmt_ms(b, sizeof b, m->wire_ms, true);
		fmt_ms(c, sizeof c, m->compute_ms, true);
		fmt_lines_add(l, "  timing split: queue %s ms, wire %s ms, compute %s ms", a, b, c);
		char bar[FMT_LINE_MAX];
		int bw = width - 4 > 60 ? 60 : width - 4;
		split_bar(bar, sizeof bar, m->queue_ms, m->wire_ms, m->compute_ms, bw);
		if (bar[0])
			fmt_lines_add(l, "  %s  (q queue, w wire, c compute)", bar);
	} else {
		fmt_lines_add(l, "  timing split: n/a (no request completed yet)");
	}
	if (!m->err_valid)
		fmt_lines_add(l, "  verification: not run yet");
	else
		fmt_lines_add(l, "  verification: max abs error %.3g, max relative error %.3g, %s", m->max_abs_err,
			      m->max_norm_err, m->verify_ok ? "within tolerance" : "FAIL (beyond tolerance)");
	if (m->fallback)
		fmt_lines_add(l, "  * some results ran on wasm instead of %s", m->platform);
	int hn = m->history_len < 0 ? 0 : m->history_len > POOL_LAT_HISTORY ? POOL_LAT_HISTORY : m->history_len;
	if (hn > 0) {
		char sp[FMT_LINE_MAX];
		int sw = width - 11;
		if (sw > POOL_LAT_HISTORY)
			sw = POOL_LAT_HISTORY;
		fmt_sparkline(sp, sizeof sp, m->history, hn, sw, utf8);
		fmt_lines_add(l, "  history %s", sp);
	}
	int nb = m->n_browsers < POOL_MODEL_BROWSERS ? m->n_browsers : POOL_MODEL_BROWSERS;
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "Loaded in %d browser%s:", nb, nb == 1 ? "" : "s");
	for (int i = 0; i < nb; i++) {
		const pool_browser *br = NULL;
		for (size_t k = 0; k < n_browsers; k++)
			if (browsers[k].id == m->browsers[i])
				br = &browsers[k];
		if (!br) {
			fmt_lines_add(l, "  %d: gone", m->browsers[i]);
			continue;
		}
		char rtt[16];
		fmt_ms(rtt, sizeof rtt, (double)br->rtt_us / 1000.0, br->rtt_us >= 0);
		fmt_lines_add(l, "  %d %s %s, %s, WebGPU %s, WebNN %s, rtt %s ms", br->id, br->kind,
			      br->version[0] ? br->version : "", browser_state_name(br->state),
			      fmt_status_word(&br->caps, PLAT_WEBGPU), fmt_status_word(&br->caps, PLAT_WEBNN), rtt);
	}
	int ns = 0;
	for (size_t i = 0; i < n_sessions; i++)
		ns += sessions[i].model == m->id;
	if (!ns)
		return;
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "Sessions (%d):", ns);
	for (size_t i = 0; i < n_sessions; i++) {
		const pool_session *se = &sessions[i];
		if (se->model != m->id)
			continue;
		char load[16], ew[16], line[FMT_LINE_MAX];
		fmt_ms(load, sizeof load, se->load_ms, se->load_ms >= 0);
		fmt_ms(ew, sizeof ew, se->ewma_ms, se->ewma_ms >= 0);
		snprintf(line, sizeof line, "  browser %d #%d %s %s%s%s%s: %s, load %s ms, in flight %d, done %llu, failed %llu, "
			 "avg %s ms", se->browser, se->session, se->precision, se->platform,
			 se->platform_used[0] && strcmp(se->platform_used, se->platform) ? " (ran on " : "",
			 se->platform_used[0] && strcmp(se->platform_used, se->platform) ? se->platform_used : "",
			 se->platform_used[0] && strcmp(se->platform_used, se->platform) ? ")" : "",
			 session_word(se->state), load, se->inflight, (unsigned long long)se->completed,
			 (unsigned long long)se->failed, ew);
		if (se->reference)
			ac_strlcatf(line, sizeof line, ", reference");
		if (se->verified)
			ac_strlcatf(line, sizeof line, ", verify %s (abs %.2g, tol %.2g)", se->verify_ok ? "ok" : "FAIL",
				    se->verify_abs, se->verify_tol);
		fmt_lines_wrap(l, "", line + 2, width);
		if (se->file[0])
			fmt_lines_wrap(l, "    file", se->file, width);
		if (se->io[0])
			fmt_lines_wrap(l, "    io", se->io, width);
		if (se->error[0])
			fmt_lines_wrap(l, "    error", se->error, width);
	}
}
