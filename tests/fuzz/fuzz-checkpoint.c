/* libFuzzer target for the checkpoint loader (pool/checkpoint.c, pool_load): a checkpoint is a
 * raw image of the pool's tables inside a recording, and a recording is untrusted input (sent by
 * someone else, torn, edited); replay loads one on every seek (journal_restore).
 *
 * The first input byte is a mode; the rest is the checkpoint. Even mode: the bytes are the whole
 * image as pool_save() writes it (header, layout words, squeezed body). Odd mode: the bytes are
 * the body alone, unsqueezed; this target puts this build's header in front (so mutations reach
 * the tables' fields instead of the layout check and the run-length framing). A refused image
 * must say why and leave the pool as it was. A loaded pool is then used as replay would: the
 * snapshot (JSON and text, as -b prints it), every accessor, a few events applied to what it
 * holds (heartbeats, usage, requests sent, done and failed, a breaker, precision and workload
 * changes, sessions unloaded, a browser lost and one new), saved and loaded again (a pool the
 * loader accepted must give an image it accepts), and freed. A crash, a sanitizer report or a
 * leak aborts. Build: make build-fuzz/fuzz-checkpoint; run: scripts/fuzz.sh smoke checkpoint.
 * Seeds: build-fuzz/ck-seeds writes real ones from the fixture recording (tests/fuzz/ck-seeds.c);
 * tests/fuzz/corpus-checkpoint/ holds a few of them and the inputs that found bugs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/journal.h"
#include "../../tui/columns.h"
#include "../../tui/format.h"
#include "../../tui/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t hdr[256];
static size_t hdr_len;
static FILE *devnull;

/* This build's header (magic, format, layout words), from the image of an empty pool. */
static void init(void)
{
	pool *p;
	uint8_t *img;
	size_t len;
	if (pool_new(&p) || pool_save(p, &img, &len))
		abort();
	uint32_t nl;
	memcpy(&nl, img + 12, 4);
	hdr_len = 16 + 4 * (size_t)nl; /* the body's length follows */
	if (hdr_len > sizeof hdr || hdr_len > len)
		abort();
	memcpy(hdr, img, hdr_len);
	free(img);
	pool_free(p);
	if (!(devnull = fopen("/dev/null", "w")))
		abort();
}

static void put_uv(uint8_t **o, uint64_t v)
{
	do {
		*(*o)++ = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

/* The body b[0, n) as an image of this build: one literal run. */
static uint8_t *wrap(const uint8_t *b, size_t n, size_t *len)
{
	uint8_t *img = malloc(hdr_len + 8 + 10 + n + 1), *o = img;
	if (!img)
		abort();
	memcpy(o, hdr, hdr_len);
	o += hdr_len;
	uint64_t bl = n;
	memcpy(o, &bl, 8);
	o += 8;
	if (n) {
		put_uv(&o, n);
		memcpy(o, b, n);
		o += n;
		put_uv(&o, 0);
	}
	*len = (size_t)(o - img);
	return img;
}

static void apply(pool *p, ac_event ev)
{
	ac_err err;
	(void)pool_apply(p, &ev, &err);
}

/* A few events of the kinds a recording holds after a checkpoint, aimed at what p holds. */
static void go_on(pool *p, int64_t t)
{
	for (size_t i = 0; i < pool_browser_count(p) && i < 3; i++) {
		int b = pool_browser_at(p, i)->id;
		apply(p, (ac_event){ .kind = EV_BROWSER_RTT, .t_us = t++, .browser = b, .num = 1500, .num2 = 1 << 20 });
		apply(p, (ac_event){ .kind = EV_BROWSER_USAGE, .t_us = t++, .browser = b, .num = 1 << 28, .num2 = 9,
				     .x = { 12.5, 3.25 } });
	}
	for (size_t i = 0; i < pool_request_count(p) && i < 4; i++) {
		pool_request r = *pool_request_at(p, i);
		const pool_session *s = pool_session_count(p) ? pool_session_at(p, i % pool_session_count(p)) : NULL;
		ac_event ev = { .t_us = t++, .model = r.model, .request = r.id, .browser = r.browser, .session = r.session };
		if (!r.inflight && s) {
			ev.kind = EV_REQUEST_SENT;
			ev.browser = s->browser;
			ev.session = s->session;
			apply(p, ev);
		}
		ev.kind = i % 2 ? EV_REQUEST_FAILED : EV_REQUEST_DONE;
		ev.t_us = t++;
		ev.x[0] = 20, ev.x[1] = 10, ev.x[2] = 1, ev.x[3] = 15;
		ev.text = "fuzz";
		apply(p, ev);
	}
	for (size_t i = 0; i < pool_breaker_count(p) && i < 2; i++) {
		const pool_breaker *k = pool_breaker_at(p, i);
		apply(p, (ac_event){ .kind = EV_BREAKER, .t_us = t++, .browser = k->browser, .model = k->model,
				     .name = "half-open", .num = 1, .text = "probe" });
	}
	for (size_t i = 0; i < pool_model_count(p) && i < 2; i++) {
		int m = pool_model_at(p, i)->id;
		apply(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .t_us = t++, .model = m, .request = 1000000 + (int64_t)i });
		apply(p, (ac_event){ .kind = EV_PRECISION_CHANGED, .t_us = t++, .model = m, .precision = "int8" });
		apply(p, (ac_event){ .kind = EV_WORKLOAD_STOPPED, .t_us = t++, .model = m, .text = "fuzz" });
	}
	if (pool_session_count(p)) {
		const pool_session *s = pool_session_at(p, 0);
		apply(p, (ac_event){ .kind = EV_SESSION_UNLOADED, .t_us = t++, .browser = s->browser, .session = s->session });
	}
	if (pool_browser_count(p)) {
		int b = pool_browser_at(p, 0)->id;
		apply(p, (ac_event){ .kind = EV_BROWSER_LOST, .t_us = t++, .browser = b, .text = "fuzz" });
		apply(p, (ac_event){ .kind = EV_BROWSER_RESTARTING, .t_us = t++, .browser = b, .x = { 2 }, .num = 1,
				     .text = "fuzz" });
	}
	apply(p, (ac_event){ .kind = EV_GRID_CAPACITY, .t_us = t++, .num = 2, .num2 = 1, .name = "http://g", .text = "" });
	/* a fixed id, not pool_next_id(): a recording may hold browser id INT_MAX, and then
	 * pool_next_id() overflows (a live-pool bug, reported; replay never calls it) */
	apply(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .t_us = t++, .browser = 1000000, .family = "firefox" });
}

/* The screen's rows and detail panes of every browser and model (pure functions of the tables). */
static void screen_all(const pool *p, int64_t now)
{
	static char lines[256][FMT_LINE_MAX];
	char row[2048];
	int bw[BC__COUNT], mw[MC__COUNT];
	for (int i = 0; i < BC__COUNT; i++)
		bw[i] = 12;
	for (int i = 0; i < MC__COUNT; i++)
		mw[i] = 12;
	size_t nb = pool_browser_count(p), nm = pool_model_count(p), ns = pool_session_count(p);
	const pool_browser *bs = nb ? pool_browser_at(p, 0) : NULL;
	const pool_model *ms = nm ? pool_model_at(p, 0) : NULL;
	const pool_session *ss = ns ? pool_session_at(p, 0) : NULL;
	for (size_t i = 0; i < nb; i++) {
		browser_load ld;
		fmt_browser_load(ms, nm, ss, ns, bs[i].id, &ld);
		fmt_browser_row(row, sizeof row, &bs[i], &ld, bw);
		fmt_lines l = { .line = lines, .cap = 256 };
		fmt_browser_detail(&l, &bs[i], &ld, 100, now);
	}
	for (size_t i = 0; i < nm; i++) {
		fmt_model_row(row, sizeof row, &ms[i], mw, i % 2);
		fmt_lines l = { .line = lines, .cap = 256 };
		fmt_model_detail(&l, &ms[i], bs, nb, ss, ns, 100, i % 2, now);
		fmt_lines k = { .line = lines, .cap = 256 };
		fmt_shard_detail(&k, &ms[i], ms, nm, bs, nb);
	}
}

/* Every reader of a pool, as the screen, the batch printer and /metrics use them. */
static void read_all(const pool *p, int64_t now)
{
	char *s = NULL;
	cJSON *j = snapshot_json(p, now);
	if (j)
		s = cJSON_PrintUnformatted(j);
	free(s);
	cJSON_Delete(j);
	snapshot_text(devnull, p, now);
	char line[512];
	(void)snapshot_grid_line(p, line, sizeof line);
	for (size_t i = 0; i < pool_browser_count(p); i++)
		if (pool_browser_find(p, pool_browser_at(p, i)->id) == NULL)
			abort(); /* a browser the table holds cannot be found by its id */
	for (size_t i = 0; i < pool_model_count(p); i++) {
		int m = pool_model_at(p, i)->id;
		(void)pool_model_find(p, m);
		(void)pool_model_settled(p, m);
		(void)pool_model_rps(p, m, now);
		(void)pool_next_queued(p, m);
	}
	for (size_t i = 0; i < pool_session_count(p); i++) {
		const pool_session *x = pool_session_at(p, i);
		(void)pool_session_find(p, x->browser, x->session);
	}
	for (size_t i = 0; i < pool_request_count(p); i++)
		(void)pool_request_find(p, pool_request_at(p, i)->id);
	for (size_t i = 0; i < pool_breaker_count(p); i++) {
		const pool_breaker *k = pool_breaker_at(p, i);
		(void)pool_breaker_find(p, k->browser, k->model);
	}
	for (size_t i = 0; i < pool_log_count(p); i++)
		if (!pool_log_at(p, i))
			abort();
	(void)pool_settled(p);
	(void)pool_grid_get(p);
	screen_all(p, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull)
		init();
	if (size < 1)
		return 0;
	uint8_t *img = NULL;
	size_t len = size - 1;
	const uint8_t *in = data + 1;
	if (data[0] & 1) {
		img = wrap(data + 1, size - 1, &len);
		in = img;
	}
	pool *p;
	if (pool_new(&p))
		abort();
	ac_err err;
	err.msg[0] = '\0';
	int rc = pool_load(p, in, len, &err);
	free(img);
	if (rc) {
		if (rc > 0 || !err.msg[0] || pool_browser_count(p) || pool_model_count(p) || pool_event_count(p))
			abort(); /* a refusal must say why and leave the (empty) pool as it was */
		pool_free(p);
		return 0;
	}
	int64_t now = 1796298509000000; /* the fixture's end */
	read_all(p, now);
	go_on(p, now + 1);
	read_all(p, now + 1000000);
	uint8_t *again;
	size_t again_len;
	if (pool_save(p, &again, &again_len))
		abort();
	pool *q;
	if (pool_new(&q))
		abort();
	if (pool_load(q, again, again_len, &err)) {
		fprintf(stderr, "a loaded pool's own image is refused: %s\n", err.msg);
		abort();
	}
	free(again);
	pool_free(q);
	pool_free(p);
	return 0;
}
