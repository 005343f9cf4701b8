#include "format.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

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
		/* h[i] >= max first: an infinite sample (a recording is untrusted) would make inf / inf,
		 * and a NaN converted to int is undefined */
		if (max > 0 && h[i] >= max)
			lv = 7;
		else if (max > 0 && h[i] > 0)
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

void fmt_browser_cell(char *out, size_t cap, const pool_browser *b, const browser_load *ld, int col)
{
	col_row r = { .b = b, .ld = ld };
	if (col >= 0 && col < BC__COUNT)
		browser_columns[col].cell(out, cap, &r);
	else
		snprintf(out, cap, "?");
}

void fmt_model_cell(char *out, size_t cap, const pool_model *m, int col, int width, bool utf8)
{
	col_row r = { .m = m, .width = width, .utf8 = utf8 };
	if (col >= 0 && col < MC__COUNT)
		model_columns[col].cell(out, cap, &r);
	else
		snprintf(out, cap, "?");
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

/* A row of either panel: the shown columns' cells, padded, one space between. */
static void table_row(char *out, size_t cap, const col_spec *cs, int n, const int *widths, col_row *r)
{
	size_t o = 0;
	bool first = true;
	if (!cap)
		return;
	out[0] = '\0';
	for (int c = 0; c < n; c++) {
		if (!widths[c])
			continue;
		char text[1024];
		r->width = widths[c];
		cs[c].cell(text, sizeof text, r);
		append_cell(out, cap, &o, &first, text, widths[c], cs[c].right);
	}
}

void fmt_browser_row(char *out, size_t cap, const pool_browser *b, const browser_load *ld, const int *widths)
{
	table_row(out, cap, browser_columns, BC__COUNT, widths, &(col_row){ .b = b, .ld = ld });
}

void fmt_model_row(char *out, size_t cap, const pool_model *m, const int *widths, bool utf8)
{
	table_row(out, cap, model_columns, MC__COUNT, widths, &(col_row){ .m = m, .utf8 = utf8 });
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
