/* The recording tests' harness: files in $TMPDIR, a realistic session recorded from a live pool
 * (with snapshots of that pool at marked points), and a recording's record layout. Test code,
 * not product code. */
#include "journal-harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tui/snapshot.h"
#include "check.h"

static void free_pool(void *p) { pool_free(p); }
void jh_free_journal(void *j) { journal_free(j); }
void jh_close_writer(void *w) { journal_close(w); }
static void unlink_path(void *path)
{
	unlink(path);
	free(path);
}

pool *jh_new_pool(void)
{
	pool *p = NULL;
	if (pool_new(&p) != 0)
		return NULL;
	return check_defer(free_pool, p);
}

/* A fresh path in $TMPDIR, removed after the test. */
char *jh_temp_path(const char *what)
{
	static int seq;
	const char *tmp = getenv("TMPDIR");
	char buf[1024];
	snprintf(buf, sizeof buf, "%s/accel-top-test-%d-%d-%s", tmp ? tmp : "/tmp", (int)getpid(), seq++, what);
	return check_defer(unlink_path, strdup(buf));
}

int jh_write_file(const char *path, const void *buf, size_t len)
{
	unlink(path); /* a new file: rewriting a truncated one makes ext4 write it out on close */
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(len == 0 || fwrite(buf, 1, len, f) == len);
	CHECK(fclose(f) == 0);
	return 0;
}

uint8_t *jh_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return DEFER_FREE(b);
}

static int same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int jh_same_event(const ac_event *a, const ac_event *b)
{
	CHECK_EQ_INT(a->kind, b->kind);
	CHECK_EQ_INT(a->t_us, b->t_us);
	CHECK_EQ_INT(a->browser, b->browser);
	CHECK_EQ_INT(a->model, b->model);
	CHECK_EQ_INT(a->session, b->session);
	CHECK_EQ_INT(a->request, b->request);
	CHECK_EQ_INT(a->num, b->num);
	CHECK_EQ_INT(a->num2, b->num2);
	for (int i = 0; i < 4; i++)
		if (memcmp(&a->x[i], &b->x[i], sizeof a->x[i]) != 0) {
			check_fail(__FILE__, __LINE__, "%s x[%d]: %.17g != %.17g", ev_kind_name(a->kind), i, a->x[i], b->x[i]);
			return 1;
		}
	CHECK(same_str(a->family, b->family));
	CHECK(same_str(a->text, b->text));
	CHECK(same_str(a->name, b->name));
	CHECK(same_str(a->precision, b->precision));
	CHECK(same_str(a->platform, b->platform));
	CHECK((a->data == NULL) == (b->data == NULL));
	if (a->data)
		CHECK(cJSON_Compare(a->data, b->data, 1));
	return 0;
}

/* ---- a realistic session, recorded live ---- */

static void record(void *ctx, const ac_event *ev)
{
	jh_live *l = ctx;
	if (!l->append_rc)
		l->append_rc = journal_append(l->w, ev, l->p, &l->append_err);
}

char *jh_snapshot_text(const pool *p, int64_t now_us)
{
	cJSON *j = snapshot_json(p, now_us);
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	return DEFER_FREE(s);
}

static int emit(jh_live *l, ac_event ev)
{
	ev.t_us = l->t;
	ac_err err = { 0, "" };
	int rc = pool_apply(l->p, &ev, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s refused: %s", ev_kind_name(ev.kind), err.msg);
	CHECK_EQ_INT(rc, 0);
	if (l->append_rc)
		check_fail(__FILE__, __LINE__, "journal_append: %s", l->append_err.msg);
	CHECK_EQ_INT(l->append_rc, 0);
	l->n++;
	return 0;
}

static int mark(jh_live *l)
{
	CHECK(l->n_marks < JH_MAX_MARKS);
	l->mark_at[l->n_marks] = l->n;
	l->mark_t[l->n_marks] = l->t;
	CHECK((l->mark_json[l->n_marks] = jh_snapshot_text(l->p, l->t)) != NULL);
	l->n_marks++;
	return 0;
}

#define EMIT(...) CHECK_OK(emit(l, (ac_event){ __VA_ARGS__ }))

/* What the session's later steps need from its start. */
typedef struct {
	cJSON *hello[2], *meta;
	int session[2], next_session; /* each browser's current session */
	bool b2_up;
} jh_state;

/* A fresh pool whose every event goes into a new recording at path. */
static int session_open(jh_live *l, const char *path)
{
	ac_err err = { 0, "" };
	CHECK((l->p = jh_new_pool()) != NULL);
	int rc = journal_create(path, "accel-top --record test", &l->w, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s", err.msg);
	CHECK_EQ_INT(rc, 0);
	check_defer(jh_close_writer, l->w);
	CHECK_EQ_INT(pool_add_listener(l->p, record, l), 0);
	l->t = 1795685261000000;
	return 0;
}

/* The bridge, two browsers with their hellos, a workload and a verified session on each. */
static int session_start(jh_live *l, const jh_state *s)
{
	const char *kinds[2] = { "chromium", "firefox" };
	EMIT(.kind = EV_BRIDGE_LISTENING, .num = 8765, .text = "http://127.0.0.1:8765/");
	CHECK_OK(mark(l));
	for (int b = 0; b < 2; b++) {
		l->t += 1000;
		EMIT(.kind = EV_BROWSER_LAUNCHED, .browser = b + 1, .num = 4242 + b, .family = kinds[b]);
		l->t += 20000;
		EMIT(.kind = EV_BROWSER_VERSION, .browser = b + 1, .text = b ? "Mozilla Firefox 153.0esr" : "Chromium 156");
	}
	for (int b = 0; b < 2; b++) {
		l->t += 300000;
		EMIT(.kind = EV_BROWSER_CONNECTED, .browser = b + 1, .family = kinds[b]);
		l->t += 30000;
		EMIT(.kind = EV_BROWSER_HELLO, .browser = b + 1, .data = s->hello[b]);
	}
	CHECK_OK(mark(l));
	l->t += 100000;
	EMIT(.kind = EV_WORKLOAD_STARTED, .model = 1, .name = "bert-tiny", .precision = "fp32", .platform = "wasm",
	     .family = "auto", .x = { 5, 3 }, .text = "text");
	for (int b = 0; b < 2; b++) {
		l->t += 1000;
		EMIT(.kind = EV_SESSION_LOADING, .browser = b + 1, .session = 1, .model = 1, .precision = "fp32",
		     .platform = "wasm", .text = "bert-tiny.fp32.onnx");
		l->t += 150000;
		EMIT(.kind = EV_SESSION_READY, .browser = b + 1, .session = 1, .x = { 151.25 }, .platform = "wasm",
		     .data = s->meta);
		l->t += 5000;
		EMIT(.kind = EV_VERIFIED, .browser = b + 1, .session = 1, .model = 1, .precision = "fp32",
		     .platform = "wasm", .x = { 2.4e-7, 1.1e-7, 1e-4 }, .num = 1, .text = "fp32 on wasm (reference)");
	}
	CHECK_OK(mark(l));
	return 0;
}

/* Precision changed: new sessions, old ones unloaded. */
static int precision_change(jh_live *l, jh_state *s)
{
	EMIT(.kind = EV_PRECISION_CHANGED, .model = 1, .precision = "fp16");
	for (int b = 0; b < 2; b++) {
		int old = s->session[b];
		s->session[b] = s->next_session++;
		l->t += 1000;
		EMIT(.kind = EV_SESSION_LOADING, .browser = b + 1, .session = s->session[b], .model = 1,
		     .precision = "fp16", .platform = "wasm", .text = "bert-tiny.fp16.onnx");
		l->t += 120000;
		EMIT(.kind = EV_SESSION_READY, .browser = b + 1, .session = s->session[b], .x = { 118.5 },
		     .platform = "wasm", .data = s->meta);
		EMIT(.kind = EV_VERIFIED, .browser = b + 1, .session = s->session[b], .model = 1, .precision = "fp16",
		     .platform = "wasm", .x = { 3.1e-3, 1.7e-3, 1e-2 }, .num = 1, .text = "fp32 on wasm (reference)");
		EMIT(.kind = EV_SESSION_UNLOADED, .browser = b + 1, .session = old);
	}
	CHECK_OK(mark(l));
	return 0;
}

/* Browser 2 lost with request req on it (sent to browser *b; it goes to browser 1 instead), the
 * supervisor's plan, a breaker, a late reply and a scaling decision. */
static int lose_browser2(jh_live *l, jh_state *s, int64_t req, int *b)
{
	if (*b == 1) {
		l->t += 1000;
		EMIT(.kind = EV_BROWSER_LOST, .browser = 2, .text = "heartbeat timeout");
		EMIT(.kind = EV_REQUEST_REQUEUED, .model = 1, .request = req, .browser = 2, .text = "browser lost");
		s->b2_up = false;
		*b = 0;
		l->t += 100;
		EMIT(.kind = EV_REQUEST_SENT, .model = 1, .request = req, .browser = 1, .session = s->session[0]);
		EMIT(.kind = EV_BROWSER_RESTARTING, .browser = 2, .x = { 2 }, .num = 1,
		     .text = "restart in 2.0 s unless it comes back (1 in the last minute): lost");
		EMIT(.kind = EV_BREAKER, .browser = 1, .model = 1, .name = "open", .num = 3, .x = { 5 },
		     .text = "run_failed: bad input");
		EMIT(.kind = EV_REQUEST_DISCARDED, .model = 1, .request = req, .browser = 2,
		     .text = "a result arrived after the request was taken back (the browser was lost)");
		EMIT(.kind = EV_SCALED, .browser = 3, .family = "chromium", .num = 1,
		     .text = "model 1 (bert-tiny): queue of 9 waiting 1.2 s for 3 s; chromium 1 -> 2 of at most 2");
		l->t += 5000000;
		EMIT(.kind = EV_BREAKER, .browser = 1, .model = 1, .name = "half-open", .num = 3,
		     .text = "cool-down over: one probe request may go");
		EMIT(.kind = EV_BREAKER, .browser = 1, .model = 1, .name = "closed", .num = 0,
		     .text = "a probe request succeeded");
	}
	CHECK_OK(mark(l));
	return 0;
}

/* Browser 2 back with a new page: one session fails to load, the next is ready. */
static int browser2_back(jh_live *l, jh_state *s)
{
	l->t += 500000;
	EMIT(.kind = EV_BROWSER_CONNECTED, .browser = 2, .family = "firefox");
	l->t += 30000;
	EMIT(.kind = EV_BROWSER_HELLO, .browser = 2, .data = s->hello[1]);
	s->session[1] = s->next_session++;
	EMIT(.kind = EV_SESSION_LOADING, .browser = 2, .session = s->session[1], .model = 1, .precision = "fp16",
	     .platform = "wasm", .text = "bert-tiny.fp16.onnx");
	l->t += 90000;
	EMIT(.kind = EV_SESSION_FAILED, .browser = 2, .session = s->session[1], .text = "out of memory");
	s->session[1] = s->next_session++;
	EMIT(.kind = EV_SESSION_LOADING, .browser = 2, .session = s->session[1], .model = 1, .precision = "fp16",
	     .platform = "wasm", .text = "bert-tiny.fp16.onnx");
	l->t += 90000;
	EMIT(.kind = EV_SESSION_READY, .browser = 2, .session = s->session[1], .x = { 88 }, .platform = "webgpu",
	     .data = s->meta);
	s->b2_up = true;
	CHECK_OK(mark(l));
	return 0;
}

/* 225 requests, one every 200 ms, with heartbeats and the session's incidents among them. */
static int session_requests(jh_live *l, jh_state *s)
{
	int64_t req = 0, next_hb = l->t + 2000000;
	for (int i = 0; i < 225; i++) {
		l->t += 200000;
		while (next_hb <= l->t) {
			for (int b = 0; b < 2; b++)
				if (b == 0 || s->b2_up)
					EMIT(.kind = EV_BROWSER_RTT, .browser = b + 1, .num = 250 + (i * 37 + b * 11) % 700);
			next_hb += 2000000;
		}
		if (i == 60)
			CHECK_OK(precision_change(l, s));
		int b = (s->b2_up ? i % 2 : 0);
		req++;
		EMIT(.kind = EV_REQUEST_QUEUED, .model = 1, .request = req);
		l->t += 150 + i % 50;
		EMIT(.kind = EV_REQUEST_SENT, .model = 1, .request = req, .browser = b + 1, .session = s->session[b]);
		if (i == 130)
			CHECK_OK(lose_browser2(l, s, req, &b));
		if (i == 150) {
			l->t += 3000;
			EMIT(.kind = EV_REQUEST_FAILED, .model = 1, .request = req, .browser = b + 1, .session = s->session[b],
			     .text = "RangeError: offset is out of bounds");
			EMIT(.kind = EV_ERROR, .browser = b + 1, .text = "request failed in the page");
			continue;
		}
		int64_t total_ns = 6000000 + (i * 7919) % 9000000;
		l->t += total_ns / 1000 + 40;
		double compute = 4.2000000000000455 + (i % 13) * 0.1;
		EMIT(.kind = EV_REQUEST_DONE, .model = 1, .request = req, .browser = b + 1, .session = s->session[b],
		     .x = { (double)total_ns / 1e6, compute, (i % 3) * 0.1, compute + 0.6000000000000227 });
		if (i == 170)
			CHECK_OK(browser2_back(l, s));
		if (i == 100 || i == 200)
			CHECK_OK(mark(l));
	}
	return 0;
}

int jh_run_session(jh_live *l, const char *path)
{
	jh_state s = { .hello = { load_fixture("hello-chromium-swiftshader.json"),
				       load_fixture("hello-firefox-fallback.json") },
			    .session = { 1, 1 }, .next_session = 2, .b2_up = true };
	CHECK(s.hello[0] && s.hello[1]);
	s.meta = parse_json("{\"inputs\":[{\"name\":\"input_ids\",\"type\":\"int64\",\"dims\":[1,32]}],"
			    "\"outputs\":[{\"name\":\"logits\",\"type\":\"float32\",\"dims\":[1,\"seq\",2]}]}");
	CHECK(s.meta != NULL);
	CHECK_OK(session_open(l, path));
	CHECK_OK(session_start(l, &s));
	CHECK_OK(session_requests(l, &s));
	l->t += 1000;
	EMIT(.kind = EV_WORKLOAD_STOPPED, .model = 1, .text = "stopped by the user");
	EMIT(.kind = EV_BROWSER_EXITED, .browser = 1, .num = 0, .num2 = 15, .text = "exited (signal 15)");
	CHECK_OK(mark(l));
	ac_err err = { 0, "" };
	int rc = journal_flush(l->w, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s", err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK(l->n < JH_MAX_EVENTS);
	return 0;
}

journal *jh_open(const char *path)
{
	journal *j = NULL;
	ac_err err = { 0, "" };
	if (journal_open(path, &j, &err) != 0) {
		check_fail(__FILE__, __LINE__, "journal_open: %s", err.msg);
		return NULL;
	}
	return check_defer(jh_free_journal, j);
}

/* The pool restored to `upto` prints as `want` at time t. */
int jh_restored_equals(journal *j, size_t upto, int64_t t, const char *want)
{
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	ac_err err = { 0, "" };
	int rc = journal_restore(j, p, upto, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "journal_restore(%zu): %s", upto, err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(pool_event_count(p), upto);
	char *got = jh_snapshot_text(p, t);
	CHECK(got != NULL);
	if (strcmp(got, want) != 0) {
		check_fail(__FILE__, __LINE__, "restored to event %zu differs:\n  live:     %.600s\n  restored: %.600s", upto,
			   want, got);
		return 1;
	}
	return 0;
}

int jh_parse_layout(const uint8_t *b, size_t len, jh_layout *lay)
{
	size_t pos = 8;
	lay->n = 0;
	while (pos + 17 <= len) {
		uint32_t plen = (uint32_t)b[pos] | (uint32_t)b[pos + 1] << 8 | (uint32_t)b[pos + 2] << 16 |
				(uint32_t)b[pos + 3] << 24;
		CHECK(lay->n < JH_MAX_EVENTS * 2);
		lay->start[lay->n] = pos;
		lay->type[lay->n] = (char)b[pos + 8];
		/* the CRC covers type, time and payload, as zlib's crc32 would compute it */
		uint32_t crc = (uint32_t)b[pos + 4] | (uint32_t)b[pos + 5] << 8 | (uint32_t)b[pos + 6] << 16 |
			       (uint32_t)b[pos + 7] << 24;
		CHECK_EQ_INT(journal_crc32(b + pos + 8, plen + 9), crc);
		pos += 17 + plen;
		lay->end[lay->n++] = pos;
	}
	CHECK_EQ_INT(pos, len);
	CHECK_EQ_INT(lay->type[0], 'H');
	return 0;
}
