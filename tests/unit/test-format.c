/* Screen formatting (tui/format.c): status words, fitting text without cutting a status word,
 * sanitising what browsers send, durations, numbers, sparklines, rows at every width, header
 * lines, the detail pane text, the column tables and one validity rule for every printer.
 * Over 600 lines on purpose: one topic (what tui/format.c prints) over shared sample rows and
 * locale helpers; split by file it would only scatter. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/format.h"
#include "../../tui/layout.h"
#include "../../tui/snapshot.h"
#include "check.h"
#include "tests.h"

/* Runs with a UTF-8 locale (wide characters count two columns), restoring the previous one. */
static char *saved_locale;
static void restore_locale(void *p)
{
	setlocale(LC_CTYPE, p);
	free(p);
}

static int utf8_locale(void)
{
	const char *cur = setlocale(LC_CTYPE, NULL);
	saved_locale = strdup(cur ? cur : "C");
	check_defer(restore_locale, saved_locale);
	if (!setlocale(LC_CTYPE, "C.UTF-8") && !setlocale(LC_CTYPE, "C.utf8") && !setlocale(LC_CTYPE, "en_US.UTF-8")) {
		check_fail(__FILE__, __LINE__, "no UTF-8 locale available");
		return 1;
	}
	return 0;
}

static bool whole_word(const char *s, size_t i, size_t wl)
{
	bool before = i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_');
	bool after = !s[i + wl] || !(isalnum((unsigned char)s[i + wl]) || s[i + wl] == '_');
	return before && after;
}

static int check_no_partial_word(const char *orig, const char *out, int width)
{
	size_t ol = strlen(out);
	int w = fmt_width(out);
	if (w > width)
		check_fail(__FILE__, __LINE__, "'%s' at %d: %d columns", orig, width, w);
	CHECK(w <= width);
	bool cut = ol && out[ol - 1] == '~' && strcmp(out, orig) != 0;
	size_t keep = cut ? ol - 1 : ol;
	CHECK(strncmp(orig, out, keep) == 0); /* a prefix (ASCII input) */
	for (const char *const *wd = fmt_status_words; *wd; wd++) {
		size_t wl = strlen(*wd);
		for (size_t i = 0; orig[i]; i++)
			if (!strncasecmp(orig + i, *wd, wl) && whole_word(orig, i, wl) && i < keep && keep < i + wl) {
				check_fail(__FILE__, __LINE__, "'%s' at width %d cuts %s: '%s'", orig, width, *wd, out);
				return 1;
			}
	}
	return 0;
}

int test_format_status_words(void)
{
	ac_caps c;
	memset(&c, 0, sizeof c);
	CHECK_STR(fmt_status_word(&c, PLAT_WEBGPU), "n/a");
	c.valid = true;
	c.verdict[PLAT_WEBGPU].status = CL_SOFTWARE;
	c.verdict[PLAT_WEBNN].status = CL_UNAVAILABLE;
	c.verdict[PLAT_WASM].status = CL_HARDWARE;
	CHECK_STR(fmt_status_word(&c, PLAT_WEBGPU), "SOFTWARE");
	CHECK_STR(fmt_status_word(&c, PLAT_WEBNN), "UNAVAILABLE");
	CHECK_STR(fmt_status_word(&c, PLAT_WASM), "HARDWARE");
	CHECK_STR(fmt_class_word(CL_UNKNOWN), "UNKNOWN");
	int longest = 0;
	for (const char *const *w = fmt_status_words; *w; w++)
		if ((int)strlen(*w) > longest)
			longest = (int)strlen(*w);
	CHECK_EQ_INT(longest, FMT_STATUS_MAX);
	return 0;
}

int test_format_fit_keeps_status_words(void)
{
	static const char *const texts[] = {
		"chromium hello: webgpu software, webnn unavailable, wasm software",
		"WebGPU SOFTWARE   architecture=\"swiftshader\" names a software (CPU) implementation",
		"UNAVAILABLE",
		"webnn n/a because HARDWARE was UNKNOWN",
		"softwares software_x xsoftware SOFTWARE",
		"2 firefox SOFTWARE (hidden) UNAVAILABLE 0 0 n/a",
	};
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
		for (int w = 0; w <= (int)strlen(texts[t]) + 2; w++) {
			char out[512];
			int cols = fmt_fit(out, sizeof out, texts[t], w);
			CHECK_EQ_INT(cols, fmt_width(out));
			CHECK_OK(check_no_partial_word(texts[t], out, w));
		}
	/* what fits is untouched */
	char out[64];
	fmt_fit(out, sizeof out, "SOFTWARE", 8);
	CHECK_STR(out, "SOFTWARE");
	fmt_fit(out, sizeof out, "SOFTWARE", 7);
	CHECK_STR(out, "~");
	fmt_fit(out, sizeof out, "webgpu SOFTWARE", 12);
	CHECK_STR(out, "webgpu ~");
	fmt_fit(out, sizeof out, "abcdef", 4);
	CHECK_STR(out, "abc~");
	/* small buffers never overflow */
	char tiny[4];
	fmt_fit(tiny, sizeof tiny, "abcdefgh", 10);
	CHECK_EQ_INT(strlen(tiny), 3);
	return 0;
}

int test_format_fit_sanitises(void)
{
	CHECK_OK(utf8_locale());
	char out[128];
	/* a page cannot send escape sequences or control characters to the terminal */
	fmt_fit(out, sizeof out, "a\033[31mred\033[0m\tb\r\n", 40);
	CHECK(!strchr(out, '\033') && !strchr(out, '\t') && !strchr(out, '\r') && !strchr(out, '\n'));
	CHECK_STR(out, "a?[31mred?[0m?b??");
	/* C1 controls and invalid UTF-8 too */
	fmt_fit(out, sizeof out, "x\xc2\x9by\xff\xfez\xe2\x82", 40);
	CHECK_STR(out, "x?y??z??");
	/* wide characters count two columns and are never split */
	CHECK_EQ_INT(fmt_width("\xe6\xbc\xa2\xe5\xad\x97"), 4); /* two CJK ideographs */
	CHECK_EQ_INT(fmt_fit(out, sizeof out, "\xe6\xbc\xa2\xe5\xad\x97xyz", 4), 3);
	CHECK_STR(out, "\xe6\xbc\xa2~");
	CHECK_EQ_INT(fmt_width("caf\xc3\xa9"), 4);
	/* padding to exact widths, either side */
	CHECK_EQ_INT(fmt_pad(out, sizeof out, "ab", 5, false), 5);
	CHECK_STR(out, "ab   ");
	fmt_pad(out, sizeof out, "ab", 5, true);
	CHECK_STR(out, "   ab");
	fmt_pad(out, sizeof out, "caf\xc3\xa9", 6, true);
	CHECK_STR(out, "  caf\xc3\xa9");
	CHECK_EQ_INT(fmt_width(out), 6);
	return 0;
}

int test_format_durations(void)
{
	char b[32];
	fmt_duration(b, sizeof b, 0);
	CHECK_STR(b, "0s");
	fmt_duration(b, sizeof b, 45 * 1000000LL);
	CHECK_STR(b, "45s");
	fmt_duration(b, sizeof b, (12 * 60 + 3) * 1000000LL);
	CHECK_STR(b, "12m03s");
	fmt_duration(b, sizeof b, (3 * 3600 + 7 * 60 + 59) * 1000000LL);
	CHECK_STR(b, "3h07m");
	fmt_duration(b, sizeof b, (2 * 86400 + 5 * 3600) * 1000000LL);
	CHECK_STR(b, "2d05h");
	fmt_duration(b, sizeof b, -1);
	CHECK_STR(b, "n/a");
	fmt_uptime(b, sizeof b, (2 * 3600 + 3 * 60 + 4) * 1000000LL);
	CHECK_STR(b, "02:03:04");
	fmt_uptime(b, sizeof b, (86400 + 2 * 3600 + 3 * 60 + 4) * 1000000LL + 999999);
	CHECK_STR(b, "1d 02:03:04");
	fmt_uptime(b, sizeof b, -5);
	CHECK_STR(b, "n/a");
	fmt_clock(b, sizeof b, 1795685510LL * 1000000);
	CHECK_EQ_INT(strlen(b), 8);
	CHECK(b[2] == ':' && b[5] == ':');
	fmt_clock(b, sizeof b, 0);
	CHECK_STR(b, "--:--:--");
	return 0;
}

int test_format_numbers(void)
{
	char b[32];
	fmt_ms(b, sizeof b, 0.686, true);
	CHECK_STR(b, "0.69");
	fmt_ms(b, sizeof b, 12.34, true);
	CHECK_STR(b, "12.3");
	fmt_ms(b, sizeof b, 136.2, true);
	CHECK_STR(b, "136");
	fmt_ms(b, sizeof b, 99999, true);
	CHECK_STR(b, "99999");
	fmt_ms(b, sizeof b, 123456, true);
	CHECK_STR(b, "123s");
	fmt_ms(b, sizeof b, 5, false);
	CHECK_STR(b, "n/a");
	fmt_ms(b, sizeof b, -1, true);
	CHECK_STR(b, "n/a");
	fmt_count(b, sizeof b, 9999);
	CHECK_STR(b, "9999");
	fmt_count(b, sizeof b, 12345);
	CHECK_STR(b, "12.3k");
	fmt_count(b, sizeof b, 4560000);
	CHECK_STR(b, "4.6M");
	fmt_rate(b, sizeof b, 19.84);
	CHECK_STR(b, "19.8");
	fmt_rate(b, sizeof b, 1234.4);
	CHECK_STR(b, "1234");
	int ids[] = { 1, 2, 13 };
	fmt_id_list(b, sizeof b, ids, 3);
	CHECK_STR(b, "1,2,13");
	fmt_id_list(b, sizeof b, ids, 0);
	CHECK_STR(b, "-");
	return 0;
}

int test_format_sparkline(void)
{
	char b[512];
	float h[POOL_LAT_HISTORY] = { 0 };
	CHECK_EQ_INT(fmt_sparkline(b, sizeof b, h, 0, 10, true), 0);
	CHECK_STR(b, "");
	h[0] = 1;
	h[1] = 2;
	h[2] = 4;
	/* short history: right-aligned, scaled to the largest sample */
	CHECK_EQ_INT(fmt_sparkline(b, sizeof b, h, 3, 5, false), 5);
	CHECK_STR(b, "  -=#");
	fmt_sparkline(b, sizeof b, h, 3, 5, true);
	CHECK_STR(b, "  \u2583\u2585\u2588");
	CHECK_EQ_INT(fmt_width(b), 5);
	/* long history: the newest samples only */
	for (int i = 0; i < POOL_LAT_HISTORY; i++)
		h[i] = (float)(i < POOL_LAT_HISTORY - 4 ? 1000 : 0);
	h[POOL_LAT_HISTORY - 1] = 8;
	fmt_sparkline(b, sizeof b, h, POOL_LAT_HISTORY, 4, false);
	CHECK_STR(b, "___#");
	/* infinite samples (from an untrusted recording) are the top, the others the bottom: no
	 * inf / inf converted to int (build with SANITIZE=1 to see the difference) */
	float inf[3] = { 1, HUGE_VALF, HUGE_VALF };
	fmt_sparkline(b, sizeof b, inf, 3, 3, false);
	CHECK_STR(b, "_##");
	/* all zero stays at the bottom; never more columns than asked */
	float z[3] = { 0, 0, 0 };
	fmt_sparkline(b, sizeof b, z, 3, 3, false);
	CHECK_STR(b, "___");
	for (int w = 0; w < 140; w++) {
		fmt_sparkline(b, sizeof b, h, POOL_LAT_HISTORY, w, true);
		CHECK(fmt_width(b) <= w);
	}
	/* a buffer too small is cut, never overrun */
	char tiny[8];
	fmt_sparkline(tiny, sizeof tiny, h, POOL_LAT_HISTORY, 40, true);
	CHECK(strlen(tiny) < sizeof tiny);
	return 0;
}

static void sample_browser(pool_browser *b, int id, const char *kind, ac_class gpu, ac_class nn)
{
	memset(b, 0, sizeof *b);
	b->id = id;
	snprintf(b->kind, sizeof b->kind, "%s", kind);
	snprintf(b->version, sizeof b->version, "156.0.8078.108");
	b->managed = true;
	b->state = BS_CONNECTED;
	b->rtt_us = 686;
	b->caps.valid = true;
	b->caps.webgpu.adapter = true;
	snprintf(b->caps.webgpu.vendor, sizeof b->caps.webgpu.vendor, "google");
	snprintf(b->caps.webgpu.architecture, sizeof b->caps.webgpu.architecture, "swiftshader");
	b->caps.verdict[PLAT_WEBGPU].status = gpu;
	b->caps.verdict[PLAT_WEBNN].status = nn;
	b->caps.verdict[PLAT_WASM].status = CL_SOFTWARE;
}

int test_format_rows_every_width(void)
{
	static const ac_class classes[] = { CL_HARDWARE, CL_SOFTWARE, CL_UNAVAILABLE, CL_UNKNOWN };
	int n, w[32];
	const col_spec *bc = layout_browser_cols(&n);
	for (int width = LAYOUT_MIN_COLS; width <= 300; width++)
		for (size_t g = 0; g < 4; g++) {
			pool_browser b;
			sample_browser(&b, 12, "chromium", classes[g], classes[3 - g]);
			browser_load ld = { 1, 2 };
			layout_columns(bc, n, width, w);
			char row[2048];
			fmt_browser_row(row, sizeof row, &b, &ld, w);
			CHECK(fmt_width(row) <= width);
			CHECK_CONTAINS(row, fmt_class_word(classes[g]));
			CHECK_CONTAINS(row, fmt_class_word(classes[3 - g]));
			if (width >= 200)
				CHECK_CONTAINS(row, "google/swiftshader");
		}
	/* before hello: n/a, never a false status */
	pool_browser b;
	sample_browser(&b, 3, "firefox", CL_HARDWARE, CL_HARDWARE);
	b.caps.valid = false;
	b.state = BS_LAUNCHING;
	layout_columns(bc, n, 80, w);
	char row[2048];
	fmt_browser_row(row, sizeof row, &b, NULL, w);
	CHECK(!strstr(row, "HARDWARE"));
	CHECK_CONTAINS(row, "launching");
	CHECK_CONTAINS(row, "n/a");

	/* model rows */
	pool_model m;
	memset(&m, 0, sizeof m);
	m.id = 4;
	snprintf(m.name, sizeof m.name, "bert-tiny");
	snprintf(m.type, sizeof m.type, "text");
	snprintf(m.precision, sizeof m.precision, "q4f16");
	snprintf(m.platform, sizeof m.platform, "webgpu");
	m.n_browsers = 2;
	m.browsers[0] = 1;
	m.browsers[1] = 2;
	m.running = true;
	const col_spec *mc = layout_model_cols(&n);
	for (int width = LAYOUT_MIN_COLS; width <= 300; width++) {
		layout_columns(mc, n, width, w);
		fmt_model_row(row, sizeof row, &m, w, true);
		CHECK(fmt_width(row) <= width);
		CHECK_CONTAINS(row, "bert-tiny");
		CHECK_CONTAINS(row, "q4f16");
		CHECK_CONTAINS(row, "n/a"); /* no latency yet */
	}
	m.lat_valid = true;
	m.p50_ms = 12.34;
	m.p95_ms = 20;
	m.p99_ms = 33;
	m.history_len = 3;
	m.history[0] = 1;
	m.history[1] = 2;
	m.history[2] = 3;
	m.err_valid = true;
	m.verify_ok = false;
	m.fallback = true;
	layout_columns(mc, n, 300, w);
	fmt_model_row(row, sizeof row, &m, w, false);
	CHECK_CONTAINS(row, "12.3");
	CHECK_CONTAINS(row, "FAIL");
	CHECK_CONTAINS(row, "webgpu*");
	CHECK_CONTAINS(row, "-+#");
	return 0;
}

int test_format_browser_load(void)
{
	pool_model m[2];
	memset(m, 0, sizeof m);
	m[0].n_browsers = 2;
	m[0].browsers[0] = 1;
	m[0].browsers[1] = 2;
	m[1].n_browsers = 1;
	m[1].browsers[0] = 2;
	pool_session s[3];
	memset(s, 0, sizeof s);
	s[0].browser = 1;
	s[0].inflight = 3;
	s[1].browser = 2;
	s[1].inflight = 1;
	s[2].browser = 2;
	s[2].inflight = 4;
	browser_load ld;
	fmt_browser_load(m, 2, s, 3, 1, &ld);
	CHECK_EQ_INT(ld.models, 1);
	CHECK_EQ_INT(ld.inflight, 3);
	fmt_browser_load(m, 2, s, 3, 2, &ld);
	CHECK_EQ_INT(ld.models, 2);
	CHECK_EQ_INT(ld.inflight, 5);
	fmt_browser_load(m, 2, s, 3, 9, &ld);
	CHECK_EQ_INT(ld.models, 0);
	CHECK_EQ_INT(ld.inflight, 0);
	return 0;
}

int test_format_header(void)
{
	CHECK_OK(utf8_locale());
	char line[1024];
	const char *token_url = "http://127.0.0.1:38791/?token=f656ab36b455cb77eb26145cb704cd26";
	for (int w = LAYOUT_MIN_COLS; w <= 300; w++) {
		int nw = fmt_header_top(line, sizeof line, w, "accel-top 0.1.0", token_url, "00:01:02", "09:41:21");
		CHECK_EQ_INT(fmt_width(line), w);
		CHECK_CONTAINS(line, token_url); /* the URL with its token is whole, to be copied */
		CHECK_CONTAINS(line, "up 00:01:02");
		if (nw)
			CHECK(strncmp(line, "accel-top 0.1.0", 15) == 0);
		if (w >= 120)
			CHECK(nw > 0 && strstr(line, "09:41:21"));
	}
	/* a URL wider than the line is cut, not the line overrun */
	char url[300];
	memset(url, 'x', sizeof url - 1);
	url[sizeof url - 1] = '\0';
	fmt_header_top(line, sizeof line, 80, "accel-top", url, "00:00:01", "00:00:01");
	CHECK_EQ_INT(fmt_width(line), 80);

	header_counts hc = { 2, 2, 1, 3, 4, 19.84, 12 };
	for (int w = LAYOUT_MIN_COLS - 10; w <= 300; w++) {
		fmt_header_counts(line, sizeof line, w, &hc);
		CHECK(fmt_width(line) <= w);
		CHECK_CONTAINS(line, "browsers 2/2");
		CHECK_CONTAINS(line, "errors 12");
		CHECK_CONTAINS(line, "19.8");
	}
	return 0;
}

static char detail_store[200][FMT_LINE_MAX];

static int joined_contains(const fmt_lines *l, const char *needle)
{
	for (int i = 0; i < l->n; i++)
		if (strstr(l->line[i], needle))
			return 1;
	return 0;
}

int test_format_browser_detail(void)
{
	cJSON *j = load_fixture("hello-chromium-swiftshader.json");
	CHECK(j != NULL);
	pool_browser b;
	sample_browser(&b, 1, "chromium", CL_SOFTWARE, CL_UNAVAILABLE);
	ac_err err = { 0, "" };
	CHECK_EQ_INT(caps_from_hello(j, &b.caps, &err), 0);
	browser_load ld = { 0, 0 };
	fmt_lines l = { detail_store, 0, 200 };
	fmt_browser_detail(&l, &b, &ld, 100, 0);
	CHECK(joined_contains(&l, "WebGPU SOFTWARE"));
	CHECK(joined_contains(&l, "WebNN UNAVAILABLE"));
	CHECK(joined_contains(&l, "architecture \"swiftshader\""));
	CHECK(joined_contains(&l, "maxBufferSize="));
	CHECK(joined_contains(&l, "WebNN is not supported on this platform"));
	CHECK(joined_contains(&l, "  gpu: NotSupportedError"));
	CHECK(joined_contains(&l, "user agent: Mozilla/5.0"));
	CHECK(joined_contains(&l, "HeadlessChrome"));
	/* rewrapped to the pane: no line wider than it, no status word split across lines */
	static char wrapped[200][FMT_LINE_MAX];
	for (int width = 30; width <= 200; width += 7) {
		fmt_lines out = { wrapped, 0, 200 };
		fmt_lines_rewrap(&l, &out, width);
		CHECK(out.n >= l.n);
		for (int i = 0; i < out.n; i++) {
			CHECK(fmt_width(out.line[i]) <= width);
			size_t len = strlen(out.line[i]);
			if (len && out.line[i][len - 1] == ' ')
				check_fail(__FILE__, __LINE__, "line ends in a space: '%s'", out.line[i]);
			CHECK(len == 0 || out.line[i][len - 1] != ' ');
		}
		CHECK(joined_contains(&out, "SOFTWARE"));
		CHECK(joined_contains(&out, "UNAVAILABLE"));
	}
	/* before hello */
	pool_browser nb;
	sample_browser(&nb, 5, "firefox", CL_HARDWARE, CL_HARDWARE);
	nb.caps.valid = false;
	l.n = 0;
	fmt_browser_detail(&l, &nb, NULL, 80, 0);
	CHECK(joined_contains(&l, "no hello received yet"));
	CHECK(!joined_contains(&l, "HARDWARE"));
	return 0;
}

int test_format_model_detail(void)
{
	pool_model m;
	memset(&m, 0, sizeof m);
	m.id = 7;
	snprintf(m.name, sizeof m.name, "bert-tiny");
	snprintf(m.precision, sizeof m.precision, "fp16");
	snprintf(m.platform, sizeof m.platform, "webgpu");
	m.n_browsers = 2;
	m.browsers[0] = 1;
	m.browsers[1] = 9; /* gone */
	m.concurrency = 4;
	m.lat_valid = true;
	m.queue_ms = 1;
	m.wire_ms = 1;
	m.compute_ms = 8;
	m.err_valid = true;
	m.verify_ok = true;
	m.max_abs_err = 1.5e-7;
	pool_browser b;
	sample_browser(&b, 1, "chromium", CL_SOFTWARE, CL_UNAVAILABLE);
	pool_session s;
	memset(&s, 0, sizeof s);
	s.browser = 1;
	s.session = 3;
	s.model = 7;
	s.state = SS_READY;
	s.load_ms = 120;
	s.ewma_ms = 9.5;
	snprintf(s.precision, sizeof s.precision, "fp16");
	snprintf(s.platform, sizeof s.platform, "webgpu");
	snprintf(s.platform_used, sizeof s.platform_used, "wasm");
	fmt_lines l = { detail_store, 0, 200 };
	fmt_model_detail(&l, &m, &b, 1, &s, 1, 100, false, 0);
	CHECK(joined_contains(&l, "Model 7: bert-tiny"));
	CHECK(joined_contains(&l, "concurrency 4"));
	CHECK(joined_contains(&l, "queue 1.00 ms, wire 1.00 ms, compute 8.00 ms"));
	CHECK(joined_contains(&l, "qqqqqqwwwwwwcccccccc"));
	CHECK(joined_contains(&l, "within tolerance"));
	CHECK(joined_contains(&l, "1 chromium"));
	CHECK(joined_contains(&l, "9: gone"));
	CHECK(joined_contains(&l, "(ran on wasm)"));
	CHECK(joined_contains(&l, "load 120 ms"));
	return 0;
}

/* The column tables (tui/columns_*.c): every column has a cell; screen columns are wide enough
 * for their titles; no two columns share a sort or batch place or a JSON key; and the -b
 * table's heads are what they always were. */
static int check_table(const col_spec *t, int n)
{
	int sorts = 0, batch = 0;
	for (int c = 0; c < n; c++) {
		CHECK(t[c].cell != NULL);
		if (t[c].title)
			CHECK((int)strlen(t[c].title) <= t[c].min);
		if (t[c].status)
			CHECK(t[c].title && t[c].min >= FMT_STATUS_MAX);
		if (t[c].sort) {
			sorts++;
			CHECK(t[c].sort_name && t[c].cmp);
		}
		if (t[c].batch) {
			batch++;
			CHECK(t[c].batch_title && t[c].batch_width);
		}
		CHECK(!t[c].json == !t[c].json_value);
		for (int d = 0; d < c; d++) {
			CHECK(!t[c].sort || t[c].sort != t[d].sort);
			CHECK(!t[c].batch || t[c].batch != t[d].batch);
			CHECK(!t[c].json || !t[d].json || strcmp(t[c].json, t[d].json));
		}
	}
	for (int k = 0; k < sorts; k++)
		CHECK(col_sort_column(t, n, k) >= 0);
	CHECK_EQ_INT(col_sort_count(t, n), sorts);
	CHECK(col_sort_column(t, n, 0) >= 0 && t[col_sort_column(t, n, 0)].sort_name && !strcmp(t[col_sort_column(t, n, 0)].sort_name, "id"));
	/* every batch column is in the head, once (the titles are one word each) */
	char head[1024];
	col_batch_head(head, sizeof head, t, n);
	int words = 0;
	for (char *w = strtok(head, " "); w; w = strtok(NULL, " "))
		words++;
	CHECK_EQ_INT(words, batch);
	return 0;
}

int test_format_column_tables(void)
{
	CHECK_OK(check_table(browser_columns, BC__COUNT));
	CHECK_OK(check_table(model_columns, MC__COUNT));
	char head[512];
	col_batch_head(head, sizeof head, browser_columns, BC__COUNT);
	CHECK_STR(head, "  ID KIND      VERSION          MANAGED  STATE        RTT_MS WEBGPU      WEBNN       WASM       "
			"    RSS   CPU% PROCS PAGE_MEM");
	col_batch_head(head, sizeof head, model_columns, MC__COUNT);
	CHECK_STR(head, "  ID MODEL                 PREC   PLATFRM BROWSERS QUEUE  INFL   P50_MS   P95_MS   P99_MS   REQ/S "
			"ERRORS    VERIFY");
	/* the sort cycles (s > <), and the column each key marks, as they always were */
	static const char *const bsorts[] = { "id", "kind", "state", "webgpu", "webnn", "rtt", "version", "rss", "cpu" };
	static const int bcols[] = { BC_ID, BC_KIND, BC_STATE, BC_WEBGPU, BC_WEBNN, BC_RTT, BC_VERSION, BC_RSS, BC_CPU };
	static const char *const msorts[] = { "id", "model", "precision", "platform", "p50", "p95", "p99", "req/s",
					      "errors", "queue" };
	static const int mcols[] = { MC_ID, MC_MODEL, MC_PREC, MC_PLAT, MC_P50, MC_P95, MC_P99, MC_RPS, MC_ERR, MC_QUEUE };
	CHECK_EQ_INT(col_sort_count(browser_columns, BC__COUNT), 9);
	CHECK_EQ_INT(col_sort_count(model_columns, MC__COUNT), 10);
	for (int k = 0; k < 9; k++) {
		CHECK_EQ_INT(col_sort_column(browser_columns, BC__COUNT, k), bcols[k]);
		CHECK_STR(browser_columns[bcols[k]].sort_name, bsorts[k]);
	}
	for (int k = 0; k < 10; k++) {
		CHECK_EQ_INT(col_sort_column(model_columns, MC__COUNT, k), mcols[k]);
		CHECK_STR(model_columns[mcols[k]].sort_name, msorts[k]);
	}
	CHECK_EQ_INT(col_sort_column(browser_columns, BC__COUNT, 9), -1);
	/* compares: a browser with a measured RSS sorts after one without */
	pool_browser a, b;
	sample_browser(&a, 1, "chromium", CL_HARDWARE, CL_SOFTWARE);
	sample_browser(&b, 2, "firefox", CL_SOFTWARE, CL_SOFTWARE);
	a.rss_valid = true;
	a.rss_bytes = 1;
	col_row ra = { .b = &a }, rb = { .b = &b };
	CHECK(browser_columns[BC_RSS].cmp(&ra, &rb) > 0 && browser_columns[BC_RSS].cmp(&rb, &ra) < 0);
	CHECK(browser_columns[BC_KIND].cmp(&ra, &rb) < 0 && browser_columns[BC_ID].cmp(&rb, &ra) > 0);
	/* the batch table's own columns are not on the screen */
	int w[32];
	layout_columns(browser_columns, BC__COUNT, 300, w);
	CHECK(w[BC_RTT] > 0 && w[BC_WASM] == 0 && w[BC_PROCS] == 0 && w[BC_PAGE_MEM] == 0);
	return 0;
}

static void free_pool(void *p) { pool_free(p); }

/* A browser's last round trip says nothing once it is no longer connected: every printer (the
 * column, the detail pane, the -b table, the JSON) says n/a / null, from browser_rtt_valid(). */
int test_format_stale_rtt(void)
{
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	ac_err err = { 0, "" };
	int64_t t = 1795685261000000;
	ac_event evs[] = {
		{ .kind = EV_BROWSER_LAUNCHED, .t_us = t + 1, .browser = 1, .num = 4242, .family = "chromium" },
		{ .kind = EV_BROWSER_CONNECTED, .t_us = t + 2, .browser = 1, .family = "chromium" },
		{ .kind = EV_BROWSER_RTT, .t_us = t + 3, .browser = 1, .num = 1584 },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		CHECK_EQ_INT(pool_apply(p, &evs[i], &err), 0);
	for (int lost = 0; lost < 2; lost++) {
		if (lost)
			CHECK_EQ_INT(pool_apply(p, &(ac_event){ .kind = EV_BROWSER_LOST, .t_us = t + 4, .browser = 1,
								.text = "socket closed" }, &err), 0);
		const pool_browser *b = pool_browser_find(p, 1);
		const char *want = lost ? "n/a" : "1.58";
		char cell[64];
		fmt_browser_cell(cell, sizeof cell, b, NULL, BC_RTT);
		CHECK_STR(cell, want);
		static char lines[64][FMT_LINE_MAX];
		fmt_lines l = { .line = lines, .cap = 64 };
		fmt_browser_detail(&l, b, NULL, 100, t + 5);
		CHECK_CONTAINS(lines[1], lost ? "rtt n/a ms" : "rtt 1.58 ms");
		char row[512];
		col_batch_row(row, sizeof row, browser_columns, BC__COUNT, &(col_row){ .b = b });
		CHECK_CONTAINS(row, lost ? "     n/a " : "    1.58 ");
		cJSON *j = DEFER_JSON(snapshot_json(p, t + 5));
		cJSON *rtt = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "browsers"), 0), "rtt_ms");
		CHECK(rtt && (lost ? cJSON_IsNull(rtt) : cJSON_IsNumber(rtt) && rtt->valuedouble == 1.584));
	}
	return 0;
}
