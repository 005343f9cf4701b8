/* Recordings (pool/journal.c) and pool checkpoints (pool/checkpoint.c): events written and read
 * back equal, replayed pools equal to the live one, torn and corrupted files, wrong files. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../pool/journal.h"
#include "../../tui/snapshot.h"
#include "check.h"
#include "tests.h"

static void free_pool(void *p) { pool_free(p); }
static void free_journal(void *j) { journal_free(j); }
static void close_writer(void *w) { journal_close(w); }
static void unlink_path(void *path)
{
	unlink(path);
	free(path);
}

static pool *new_pool(void)
{
	pool *p = NULL;
	if (pool_new(&p) != 0)
		return NULL;
	return check_defer(free_pool, p);
}

/* A fresh path in $TMPDIR, removed after the test. */
static char *temp_path(const char *what)
{
	static int seq;
	const char *tmp = getenv("TMPDIR");
	char buf[1024];
	snprintf(buf, sizeof buf, "%s/accel-top-test-%d-%d-%s", tmp ? tmp : "/tmp", (int)getpid(), seq++, what);
	return check_defer(unlink_path, strdup(buf));
}

static int write_file(const char *path, const void *buf, size_t len)
{
	unlink(path); /* a new file: rewriting a truncated one makes ext4 write it out on close */
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(len == 0 || fwrite(buf, 1, len, f) == len);
	CHECK(fclose(f) == 0);
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
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

static int same_event(const ac_event *a, const ac_event *b)
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

#define MAX_EVENTS 1200
#define MAX_MARKS 16

typedef struct {
	pool *p;
	journal_writer *w;
	int64_t t;
	size_t n;             /* events applied */
	int append_rc;
	ac_err append_err;
	/* snapshots of the live pool after events [0, at) */
	size_t mark_at[MAX_MARKS];
	int64_t mark_t[MAX_MARKS];
	char *mark_json[MAX_MARKS];
	size_t n_marks;
} live;

static void record(void *ctx, const ac_event *ev)
{
	live *l = ctx;
	if (!l->append_rc)
		l->append_rc = journal_append(l->w, ev, l->p, &l->append_err);
}

static char *snapshot_text_of(const pool *p, int64_t now_us)
{
	cJSON *j = snapshot_json(p, now_us);
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	return DEFER_FREE(s);
}

static int emit(live *l, ac_event ev)
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

static int mark(live *l)
{
	CHECK(l->n_marks < MAX_MARKS);
	l->mark_at[l->n_marks] = l->n;
	l->mark_t[l->n_marks] = l->t;
	CHECK((l->mark_json[l->n_marks] = snapshot_text_of(l->p, l->t)) != NULL);
	l->n_marks++;
	return 0;
}

#define EMIT(...) CHECK_OK(emit(l, (ac_event){ __VA_ARGS__ }))

/* Two browsers with real hellos, a workload at 5 req/s for about 45 s of event time (so several
 * checkpoints), a precision change, a browser lost and back, a failed request, heartbeats. */
static int run_session(live *l, const char *path)
{
	cJSON *hello[2] = { load_fixture("hello-chromium-swiftshader.json"), load_fixture("hello-firefox-fallback.json") };
	CHECK(hello[0] && hello[1]);
	cJSON *meta = parse_json("{\"inputs\":[{\"name\":\"input_ids\",\"type\":\"int64\",\"dims\":[1,32]}],"
				 "\"outputs\":[{\"name\":\"logits\",\"type\":\"float32\",\"dims\":[1,\"seq\",2]}]}");
	CHECK(meta != NULL);
	ac_err err = { 0, "" };
	CHECK((l->p = new_pool()) != NULL);
	int rc = journal_create(path, "accel-top --record test", &l->w, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s", err.msg);
	CHECK_EQ_INT(rc, 0);
	check_defer(close_writer, l->w);
	CHECK_EQ_INT(pool_add_listener(l->p, record, l), 0);
	l->t = 1795685261000000;
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
		EMIT(.kind = EV_BROWSER_HELLO, .browser = b + 1, .data = hello[b]);
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
		     .data = meta);
		l->t += 5000;
		EMIT(.kind = EV_VERIFIED, .browser = b + 1, .session = 1, .model = 1, .precision = "fp32",
		     .platform = "wasm", .x = { 2.4e-7, 1.1e-7, 1e-4 }, .num = 1, .text = "fp32 on wasm (reference)");
	}
	CHECK_OK(mark(l));
	int session[2] = { 1, 1 }, next_session = 2;
	int64_t req = 0, next_hb = l->t + 2000000;
	bool b2_up = true;
	for (int i = 0; i < 225; i++) {
		l->t += 200000;
		while (next_hb <= l->t) {
			for (int b = 0; b < 2; b++)
				if (b == 0 || b2_up)
					EMIT(.kind = EV_BROWSER_RTT, .browser = b + 1, .num = 250 + (i * 37 + b * 11) % 700);
			next_hb += 2000000;
		}
		if (i == 60) { /* precision changed: new sessions, old ones unloaded */
			EMIT(.kind = EV_PRECISION_CHANGED, .model = 1, .precision = "fp16");
			for (int b = 0; b < 2; b++) {
				int old = session[b];
				session[b] = next_session++;
				l->t += 1000;
				EMIT(.kind = EV_SESSION_LOADING, .browser = b + 1, .session = session[b], .model = 1,
				     .precision = "fp16", .platform = "wasm", .text = "bert-tiny.fp16.onnx");
				l->t += 120000;
				EMIT(.kind = EV_SESSION_READY, .browser = b + 1, .session = session[b], .x = { 118.5 },
				     .platform = "wasm", .data = meta);
				EMIT(.kind = EV_VERIFIED, .browser = b + 1, .session = session[b], .model = 1, .precision = "fp16",
				     .platform = "wasm", .x = { 3.1e-3, 1.7e-3, 1e-2 }, .num = 1, .text = "fp32 on wasm (reference)");
				EMIT(.kind = EV_SESSION_UNLOADED, .browser = b + 1, .session = old);
			}
			CHECK_OK(mark(l));
		}
		int b = (b2_up ? i % 2 : 0);
		req++;
		EMIT(.kind = EV_REQUEST_QUEUED, .model = 1, .request = req);
		l->t += 150 + i % 50;
		EMIT(.kind = EV_REQUEST_SENT, .model = 1, .request = req, .browser = b + 1, .session = session[b]);
		if (i == 130) { /* browser 2 lost with a request on it, then back with a new page */
			if (b == 1) {
				l->t += 1000;
				EMIT(.kind = EV_BROWSER_LOST, .browser = 2, .text = "heartbeat timeout");
				EMIT(.kind = EV_REQUEST_REQUEUED, .model = 1, .request = req, .browser = 2, .text = "browser lost");
				b2_up = false;
				b = 0;
				l->t += 100;
				EMIT(.kind = EV_REQUEST_SENT, .model = 1, .request = req, .browser = 1, .session = session[0]);
				/* the supervisor's plan, a breaker, a late reply and a scaling decision */
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
		}
		if (i == 150) {
			l->t += 3000;
			EMIT(.kind = EV_REQUEST_FAILED, .model = 1, .request = req, .browser = b + 1, .session = session[b],
			     .text = "RangeError: offset is out of bounds");
			EMIT(.kind = EV_ERROR, .browser = b + 1, .text = "request failed in the page");
			continue;
		}
		int64_t total_ns = 6000000 + (i * 7919) % 9000000;
		l->t += total_ns / 1000 + 40;
		double compute = 4.2000000000000455 + (i % 13) * 0.1;
		EMIT(.kind = EV_REQUEST_DONE, .model = 1, .request = req, .browser = b + 1, .session = session[b],
		     .x = { (double)total_ns / 1e6, compute, (i % 3) * 0.1, compute + 0.6000000000000227 });
		if (i == 170) {
			l->t += 500000;
			EMIT(.kind = EV_BROWSER_CONNECTED, .browser = 2, .family = "firefox");
			l->t += 30000;
			EMIT(.kind = EV_BROWSER_HELLO, .browser = 2, .data = hello[1]);
			session[1] = next_session++;
			EMIT(.kind = EV_SESSION_LOADING, .browser = 2, .session = session[1], .model = 1, .precision = "fp16",
			     .platform = "wasm", .text = "bert-tiny.fp16.onnx");
			l->t += 90000;
			EMIT(.kind = EV_SESSION_FAILED, .browser = 2, .session = session[1], .text = "out of memory");
			session[1] = next_session++;
			EMIT(.kind = EV_SESSION_LOADING, .browser = 2, .session = session[1], .model = 1, .precision = "fp16",
			     .platform = "wasm", .text = "bert-tiny.fp16.onnx");
			l->t += 90000;
			EMIT(.kind = EV_SESSION_READY, .browser = 2, .session = session[1], .x = { 88 }, .platform = "webgpu",
			     .data = meta);
			b2_up = true;
			CHECK_OK(mark(l));
		}
		if (i == 100 || i == 200)
			CHECK_OK(mark(l));
	}
	l->t += 1000;
	EMIT(.kind = EV_WORKLOAD_STOPPED, .model = 1, .text = "stopped by the user");
	EMIT(.kind = EV_BROWSER_EXITED, .browser = 1, .num = 0, .num2 = 15, .text = "exited (signal 15)");
	CHECK_OK(mark(l));
	rc = journal_flush(l->w, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s", err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK(l->n < MAX_EVENTS);
	return 0;
}

static journal *open_ok(const char *path)
{
	journal *j = NULL;
	ac_err err = { 0, "" };
	if (journal_open(path, &j, &err) != 0) {
		check_fail(__FILE__, __LINE__, "journal_open: %s", err.msg);
		return NULL;
	}
	return check_defer(free_journal, j);
}

/* The pool restored to `upto` prints as `want` at time t. */
static int restored_equals(journal *j, size_t upto, int64_t t, const char *want)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_err err = { 0, "" };
	int rc = journal_restore(j, p, upto, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "journal_restore(%zu): %s", upto, err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(pool_event_count(p), upto);
	char *got = snapshot_text_of(p, t);
	CHECK(got != NULL);
	if (strcmp(got, want) != 0) {
		check_fail(__FILE__, __LINE__, "restored to event %zu differs:\n  live:     %.600s\n  restored: %.600s", upto,
			   want, got);
		return 1;
	}
	return 0;
}

int test_journal_events_roundtrip(void)
{
	cJSON *hello = load_fixture("hello-firefox-nvidia-hardware.json");
	CHECK(hello != NULL);
	char *path = temp_path("events.acc");
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "events", &w, &err), 0);
	check_defer(close_writer, w);
	ac_event in[EV__COUNT * 2];
	const double xs[][4] = {
		{ 0 }, { 12.345678, 3.2000000476837158, 0.1, 1.0 / 3 }, { -0.0, -7.5, 1e308, INFINITY },
		{ NAN, 2.384185791015625e-07, -1e-300, 4e15 }, { 1e20, 0.5, 123456789.123, -42 },
	};
	const int64_t t = 1795685261857979;
	for (int k = 0; k < EV__COUNT * 2; k++) {
		ac_event *e = &in[k];
		memset(e, 0, sizeof *e);
		e->kind = (ev_kind)(k % EV__COUNT);
		e->t_us = t + (k % 7 == 3 ? -5000 : k * 1234567); /* times may even go back */
		e->browser = k % 3 ? k : 0;
		e->model = k % 4 ? -k : 0;
		e->session = k % 5 ? 1000000 + k : 0;
		e->request = k % 2 ? (int64_t)1 << (k % 63) : 0;
		e->num = k == 3 ? INT64_MIN : k == 4 ? INT64_MAX : k * 1000 - 3;
		e->num2 = k % 6 ? -k : 0;
		memcpy(e->x, xs[k % 5], sizeof e->x);
		e->family = k % 2 ? "chromium" : NULL;
		e->text = k % 3 == 0 ? "" : k % 3 == 1 ? "a longer text with unicode \xc3\xa9 and \"quotes\"" : NULL;
		e->name = k % 4 == 1 ? "bert-tiny" : NULL;
		e->precision = k % 4 == 2 ? "q4f16" : NULL;
		e->platform = k % 5 == 1 ? "webgpu" : NULL;
		e->data = k % 4 == 0 ? hello : NULL;
		CHECK_EQ_INT(journal_append(w, e, NULL, &err), 0);
	}
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = open_ok(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	CHECK_STR(journal_command(j), "events");
	CHECK_EQ_INT(journal_event_count(j), EV__COUNT * 2);
	CHECK_EQ_INT(journal_checkpoint_count(j), 0);
	for (int k = 0; k < EV__COUNT * 2; k++) {
		ac_event out;
		CHECK_EQ_INT(journal_event(j, (size_t)k, &out, &err), 0);
		CHECK_EQ_INT(journal_event_time(j, (size_t)k), in[k].t_us);
		CHECK_OK(same_event(&out, &in[k]));
	}
	ac_event out;
	CHECK(journal_event(j, EV__COUNT * 2, &out, &err) < 0);
	return 0;
}

int test_journal_restore_matches_live(void)
{
	char *path = temp_path("live.acc");
	live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(run_session(l, path));
	journal *j = open_ok(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	CHECK_STR(journal_command(j), "accel-top --record test");
	CHECK_EQ_INT(journal_event_count(j), l->n);
	CHECK(journal_checkpoint_count(j) >= 4); /* ~50 s of events, one every 10 s */
	CHECK_EQ_INT(journal_start_us(j), 1795685261000000);
	CHECK_EQ_INT(journal_end_us(j), l->t);
	CHECK_EQ_INT(journal_find(j, 0), 0);
	CHECK_EQ_INT(journal_find(j, l->t), l->n);
	for (size_t m = 0; m < l->n_marks; m++) {
		CHECK_OK(restored_equals(j, l->mark_at[m], l->mark_t[m], l->mark_json[m]));
		/* out of order: forwards and back through the same pool must not matter either */
	}
	/* one pool taken back and forth */
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_err err = { 0, "" };
	for (size_t k = 0; k < l->n_marks; k++) {
		size_t m = (k * 5) % l->n_marks;
		CHECK_EQ_INT(journal_restore(j, p, l->mark_at[m], &err), 0);
		char *got = snapshot_text_of(p, l->mark_t[m]);
		CHECK_STR(got, l->mark_json[m]);
	}
	/* the end equals the live pool; past the end is the end */
	CHECK_EQ_INT(journal_restore(j, p, l->n + 100, &err), 0);
	CHECK_STR(snapshot_text_of(p, l->t), snapshot_text_of(l->p, l->t));
	return 0;
}

static void count_calls(void *ctx, const ac_event *ev)
{
	(void)ev;
	(*(int *)ctx)++;
}

int test_journal_checkpoint_roundtrip(void)
{
	char *path = temp_path("ck.acc");
	live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(run_session(l, path));
	uint8_t *img;
	size_t len;
	CHECK_EQ_INT(pool_save(l->p, &img, &len), 0);
	DEFER_FREE(img);
	pool *q = new_pool();
	CHECK(q != NULL);
	int calls = 0;
	CHECK_EQ_INT(pool_add_listener(q, count_calls, &calls), 0);
	ac_err err = { 0, "" };
	CHECK_EQ_INT(pool_load(q, img, len, &err), 0);
	CHECK_STR(snapshot_text_of(q, l->t), snapshot_text_of(l->p, l->t));
	CHECK_EQ_INT(pool_browser_count(q), 2);
	CHECK_EQ_INT(pool_event_count(q), l->n);
	CHECK_EQ_INT(pool_log_count(q), pool_log_count(l->p));
	for (size_t i = 0; i < pool_log_count(q); i++)
		CHECK_STR(pool_log_at(q, i)->text, pool_log_at(l->p, i)->text);
	/* saved again: the same image */
	uint8_t *img2;
	size_t len2;
	CHECK_EQ_INT(pool_save(q, &img2, &len2), 0);
	DEFER_FREE(img2);
	CHECK_EQ_INT(len2, len);
	for (size_t i = 0; i < len; i++)
		if (img[i] != img2[i]) {
			check_fail(__FILE__, __LINE__, "images differ at byte %zu of %zu", i, len);
			return 1;
		}
	CHECK_EQ_INT(pool_next_id(q), pool_next_id(l->p));
	/* the loaded pool goes on: listeners kept, tables grow */
	ac_event ev = { .kind = EV_BROWSER_CONNECTED, .t_us = l->t + 1, .browser = 77, .family = "chromium" };
	CHECK_EQ_INT(pool_apply(q, &ev, &err), 0);
	ac_event wl = { .kind = EV_WORKLOAD_STARTED, .t_us = l->t + 2, .model = 9, .name = "vit-tiny", .precision = "fp32",
			.platform = "webgpu", .text = "vision" };
	CHECK_EQ_INT(pool_apply(q, &wl, &err), 0);
	for (int64_t r = 1; r <= 40; r++) {
		ac_event qe = { .kind = EV_REQUEST_QUEUED, .t_us = l->t + 2 + r, .model = 9, .request = 1000 + r };
		CHECK_EQ_INT(pool_apply(q, &qe, &err), 0);
	}
	CHECK_EQ_INT(calls, 42);
	CHECK_EQ_INT(pool_browser_count(q), 3);
	CHECK_EQ_INT(pool_model_count(q), 2);
	CHECK_EQ_INT(pool_model_find(q, 9)->queue, 40);
	/* an empty pool round trips too */
	pool *e = new_pool();
	uint8_t *ei;
	size_t el;
	CHECK_EQ_INT(pool_save(e, &ei, &el), 0);
	DEFER_FREE(ei);
	CHECK_EQ_INT(pool_load(q, ei, el, &err), 0);
	CHECK_EQ_INT(pool_browser_count(q), 0);
	CHECK_EQ_INT(pool_event_count(q), 0);
	/* another build's layout, a damaged image: refused, the pool unchanged */
	CHECK_EQ_INT(pool_load(q, img, len, &err), 0);
	img[20] ^= 0x40; /* the first layout word: sizeof(pool_browser) */
	CHECK(pool_load(q, img, len, &err) < 0);
	CHECK_CONTAINS(err.msg, "another build");
	img[20] ^= 0x40;
	CHECK(pool_load(q, img, len / 2, &err) < 0);
	CHECK(pool_load(q, img, 10, &err) < 0);
	CHECK_STR(snapshot_text_of(q, l->t), snapshot_text_of(l->p, l->t));
	return 0;
}

/* The records of a recording as the file lays them out: start offsets and types. */
typedef struct {
	size_t start[MAX_EVENTS * 2], end[MAX_EVENTS * 2];
	char type[MAX_EVENTS * 2];
	size_t n;
} layout;

static int parse_layout(const uint8_t *b, size_t len, layout *lay)
{
	size_t pos = 8;
	lay->n = 0;
	while (pos + 17 <= len) {
		uint32_t plen = (uint32_t)b[pos] | (uint32_t)b[pos + 1] << 8 | (uint32_t)b[pos + 2] << 16 |
				(uint32_t)b[pos + 3] << 24;
		CHECK(lay->n < MAX_EVENTS * 2);
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

/* Opens the first `cut` bytes of the recording and restores its end. */
static int check_cut(const uint8_t *full, size_t len, const layout *lay, size_t cut, const char *path, live *l)
{
	(void)len;
	CHECK_OK(write_file(path, full, cut));
	journal *j = NULL;
	ac_err err = { 0, "" };
	int rc = journal_open(path, &j, &err);
	if (cut < 8) {
		CHECK(rc < 0);
		CHECK_CONTAINS(err.msg, "not an accel-top recording");
		return 0;
	}
	if (rc)
		check_fail(__FILE__, __LINE__, "cut at %zu: %s", cut, err.msg);
	CHECK_EQ_INT(rc, 0);
	size_t events = 0, first_torn = cut;
	bool boundary = cut == 8;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->end[r] <= cut)
			events += lay->type[r] == 'E';
		else if (first_torn == cut && lay->start[r] < cut)
			first_torn = lay->start[r];
		boundary |= lay->end[r] == cut;
	}
	int fail = 0;
	if (journal_event_count(j) != events) {
		check_fail(__FILE__, __LINE__, "cut at %zu: %zu events, want %zu", cut, journal_event_count(j), events);
		fail = 1;
	}
	char want[128];
	snprintf(want, sizeof want, "stopped at byte %zu of %zu: ", cut == 8 ? 8 : first_torn, cut);
	if (!fail && boundary && cut > 8 && journal_truncation(j)) {
		check_fail(__FILE__, __LINE__, "cut at a record's end %zu: %s", cut, journal_truncation(j));
		fail = 1;
	}
	if (!fail && !boundary && (!journal_truncation(j) || !strstr(journal_truncation(j), want))) {
		check_fail(__FILE__, __LINE__, "cut at %zu: '%s', want '%s'", cut,
			   journal_truncation(j) ? journal_truncation(j) : "(none)", want);
		fail = 1;
	}
	pool *p = NULL;
	if (!fail && pool_new(&p) == 0) {
		rc = journal_restore(j, p, journal_event_count(j), &err);
		if (rc || pool_event_count(p) != events) {
			check_fail(__FILE__, __LINE__, "cut at %zu: restore %d (%s), %llu events", cut, rc, err.msg,
				   (unsigned long long)pool_event_count(p));
			fail = 1;
		}
		/* a cut at a marked point restores exactly that snapshot */
		for (size_t m = 0; !fail && m < l->n_marks; m++)
			if (l->mark_at[m] == events && events) {
				cJSON *s = snapshot_json(p, l->mark_t[m]);
				char *got = cJSON_PrintUnformatted(s);
				if (strcmp(got, l->mark_json[m]) != 0) {
					check_fail(__FILE__, __LINE__, "cut at %zu: snapshot differs", cut);
					fail = 1;
				}
				free(got);
				cJSON_Delete(s);
			}
		pool_free(p);
	}
	journal_free(j);
	return fail;
}

int test_journal_truncated(void)
{
	char *path = temp_path("full.acc"), *cut_path = temp_path("cut.acc");
	live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(run_session(l, path));
	size_t len;
	uint8_t *full = read_file(path, &len);
	CHECK(full != NULL);
	layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(parse_layout(full, len, lay));
	CHECK(lay->n > 10);
	/* every byte of the last records (the last checkpoint among them), every byte of the header,
	 * and a spread through the middle */
	size_t last = lay->start[lay->n > 6 ? lay->n - 6 : 1];
	for (size_t r = lay->n; r-- > 1;)
		if (lay->type[r] == 'C') {
			if (lay->start[r] < last)
				last = lay->start[r];
			break;
		}
	size_t n_cuts = 0;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->end[r] <= last)
			continue;
		/* every byte of a small record; of a big one (a checkpoint) its first and last 100 bytes
		 * and every 37th between */
		size_t size = lay->end[r] - lay->start[r];
		for (size_t k = 0; k < size; k++)
			if (size < 400 || k < 100 || k >= size - 100 || k % 37 == 0) {
				CHECK_OK(check_cut(full, len, lay, lay->start[r] + k, cut_path, l));
				n_cuts++;
			}
	}
	CHECK(n_cuts > 500);
	CHECK_OK(check_cut(full, len, lay, len, cut_path, l));
	for (size_t cut = 0; cut <= lay->end[0] + 20; cut++)
		CHECK_OK(check_cut(full, len, lay, cut, cut_path, l));
	for (size_t cut = lay->end[0]; cut < last; cut += 97)
		CHECK_OK(check_cut(full, len, lay, cut, cut_path, l));
	for (size_t r = 1; r < lay->n; r++) /* every record boundary, and one byte short of it */
		if (lay->end[r] < last) {
			CHECK_OK(check_cut(full, len, lay, lay->end[r], cut_path, l));
			CHECK_OK(check_cut(full, len, lay, lay->end[r] - 1, cut_path, l));
		}
	return 0;
}

int test_journal_corrupted(void)
{
	char *path = temp_path("bad.acc");
	live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(run_session(l, path));
	size_t len;
	uint8_t *b = read_file(path, &len);
	CHECK(b != NULL);
	layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(parse_layout(b, len, lay));
	/* a byte of the payload, of the time, and of the length, in records through the middle */
	const size_t where[] = { 17 + 1, 9 + 3, 1 };
	for (size_t r = lay->n / 3; r < lay->n / 3 + 12; r++)
		for (int w = 0; w < 3; w++) {
			size_t at = lay->start[r] + where[w];
			if (at >= lay->end[r])
				continue;
			b[at] ^= 0x20;
			CHECK_OK(write_file(path, b, len));
			b[at] ^= 0x20;
			journal *j = open_ok(path);
			CHECK(j != NULL);
			size_t events = 0;
			for (size_t k = 0; k < r; k++)
				events += lay->type[k] == 'E';
			CHECK_EQ_INT(journal_event_count(j), events);
			char want[96];
			snprintf(want, sizeof want, "stopped at byte %zu of %zu: ", lay->start[r], len);
			CHECK_CONTAINS(journal_truncation(j), want);
			if (w < 2)
				CHECK_CONTAINS(journal_truncation(j), "CRC");
			pool *p = new_pool();
			ac_err err = { 0, "" };
			CHECK_EQ_INT(journal_restore(j, p, events, &err), 0);
			CHECK_EQ_INT(pool_event_count(p), events);
		}
	return 0;
}

int test_journal_wrong_files(void)
{
	ac_err err = { 0, "" };
	journal *j = NULL;
	char *path = temp_path("wrong");
	char msg[1200];
	/* missing */
	CHECK(journal_open(path, &j, &err) < 0);
	snprintf(msg, sizeof msg, "%s: No such file or directory", path);
	CHECK_STR(err.msg, msg);
	CHECK_EQ_INT(err.code, AC_ENOENT);
	/* not a recording: text, empty, a directory */
	snprintf(msg, sizeof msg, "%s is not an accel-top recording (no ACCTREC1 header)", path);
	const char *texts[] = { "hello, world\n", "", "ACCT", "SQLite format 3\0\0\0\0\0\0\0\0" };
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		CHECK_OK(write_file(path, texts[i], strlen(texts[i])));
		CHECK(journal_open(path, &j, &err) < 0);
		CHECK_STR(err.msg, msg);
	}
	const char *tmp = getenv("TMPDIR");
	CHECK(journal_open(tmp ? tmp : "/tmp", &j, &err) < 0);
	CHECK_CONTAINS(err.msg, "not an accel-top recording");
	/* another format version */
	CHECK_OK(write_file(path, "ACCTREC2\x05\0\0\0", 12));
	CHECK(journal_open(path, &j, &err) < 0);
	snprintf(msg, sizeof msg, "%s is a recording of format 2; this accel-top reads format 1", path);
	CHECK_STR(err.msg, msg);
	/* only the magic: a recording torn before its header record */
	CHECK_OK(write_file(path, "ACCTREC1", 8));
	CHECK_EQ_INT(journal_open(path, &j, &err), 0);
	check_defer(free_journal, j);
	CHECK_EQ_INT(journal_event_count(j), 0);
	CHECK_CONTAINS(journal_truncation(j), "stopped at byte 8 of 8");
	pool *p = new_pool();
	CHECK_EQ_INT(journal_restore(j, p, 5, &err), 0);
	CHECK_EQ_INT(pool_event_count(p), 0);
	/* unwritable */
	journal_writer *w;
	CHECK(journal_create("/nonexistent-dir/x.acc", "x", &w, &err) < 0);
	CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.acc");
	return 0;
}

/* A checkpoint comes after the event that crossed each JOURNAL_CHECKPOINT_US boundary. */
int test_journal_checkpoint_spacing(void)
{
	char *path = temp_path("spacing.acc");
	pool *p = new_pool();
	CHECK(p != NULL);
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "spacing", &w, &err), 0);
	check_defer(close_writer, w);
	int64_t t0 = 1795685261000000;
	for (int i = 0; i <= 100; i++) { /* 0..50 s, every 0.5 s */
		ac_event e = { .kind = EV_BROWSER_CONNECTED, .t_us = t0 + i * 500000, .browser = i + 1, .family = "chromium" };
		CHECK_EQ_INT(pool_apply(p, &e, &err), 0);
		CHECK_EQ_INT(journal_append(w, &e, p, &err), 0);
	}
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = open_ok(path);
	CHECK(j != NULL);
	CHECK_EQ_INT(journal_checkpoint_count(j), 6); /* after the events at 0, 10, 20, 30, 40, 50 s */
	CHECK_EQ_INT(journal_find(j, t0 + 10000000), 21);
	pool *q = new_pool();
	CHECK_EQ_INT(journal_restore(j, q, 21, &err), 0);
	CHECK_EQ_INT(pool_browser_count(q), 21);
	CHECK_EQ_INT(journal_restore(j, q, 20, &err), 0);
	CHECK_EQ_INT(pool_browser_count(q), 20);
	return 0;
}

/* Checkpoints are bounded by events too (a burst), and a clock going back starts a new one. */
int test_journal_checkpoint_bursts(void)
{
	char *path = temp_path("burst.acc");
	pool *p = new_pool();
	CHECK(p != NULL);
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "burst", &w, &err), 0);
	check_defer(close_writer, w);
	int64_t t0 = 1795685261000000;
	ac_event e = { .kind = EV_BROWSER_CONNECTED, .t_us = t0, .browser = 1, .family = "chromium" };
	CHECK_EQ_INT(pool_apply(p, &e, &err), 0);
	CHECK_EQ_INT(journal_append(w, &e, p, &err), 0);
	for (int i = 1; i <= JOURNAL_CHECKPOINT_EVENTS + 10; i++) { /* all within a second */
		ac_event r = { .kind = EV_BROWSER_RTT, .t_us = t0 + i * 100, .browser = 1, .num = i };
		CHECK_EQ_INT(pool_apply(p, &r, &err), 0);
		CHECK_EQ_INT(journal_append(w, &r, p, &err), 0);
	}
	ac_event back = { .kind = EV_BROWSER_RTT, .t_us = t0 - 5000000, .browser = 1, .num = 7 };
	CHECK_EQ_INT(pool_apply(p, &back, &err), 0);
	CHECK_EQ_INT(journal_append(w, &back, p, &err), 0);
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = open_ok(path);
	CHECK(j != NULL);
	CHECK_EQ_INT(journal_checkpoint_count(j), 3);
	pool *q = new_pool();
	CHECK_EQ_INT(journal_restore(j, q, journal_event_count(j), &err), 0);
	CHECK_EQ_INT(pool_browser_find(q, 1)->rtt_us, 7);
	CHECK_EQ_INT(journal_restore(j, q, JOURNAL_CHECKPOINT_EVENTS + 5, &err), 0);
	CHECK_EQ_INT(pool_browser_find(q, 1)->rtt_us, JOURNAL_CHECKPOINT_EVENTS + 4);
	return 0;
}

/* Checkpoints of another build (their layout words differ) are skipped: the events are applied
 * from the start and give the same pool. */
int test_journal_foreign_checkpoints(void)
{
	char *path = temp_path("foreign.acc");
	live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(run_session(l, path));
	size_t len;
	uint8_t *b = read_file(path, &len);
	CHECK(b != NULL);
	layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(parse_layout(b, len, lay));
	int changed = 0;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->type[r] != 'C')
			continue;
		uint8_t *rec = b + lay->start[r];
		CHECK(memcmp(rec + 17, "ACCTPOOL", 8) == 0);
		rec[17 + 16] ^= 1; /* sizeof(pool_browser) */
		uint32_t crc = journal_crc32(rec + 8, lay->end[r] - lay->start[r] - 8);
		for (int k = 0; k < 4; k++)
			rec[4 + k] = (uint8_t)(crc >> (8 * k));
		changed++;
	}
	CHECK(changed >= 4);
	CHECK_OK(write_file(path, b, len));
	journal *j = open_ok(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	for (size_t m = 0; m < l->n_marks; m++)
		CHECK_OK(restored_equals(j, l->mark_at[m], l->mark_t[m], l->mark_json[m]));
	return 0;
}

/* The records' CRC is zlib's crc32: the standard check value, and a plain bitwise CRC over
 * every length and alignment. */
int test_journal_crc32(void)
{
	CHECK_EQ_INT(journal_crc32("123456789", 9), 0xCBF43926u);
	CHECK_EQ_INT(journal_crc32("", 0), 0);
	uint8_t buf[80];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; off + n <= sizeof buf; n++) {
			uint32_t c = 0xFFFFFFFFu;
			for (size_t i = 0; i < n; i++) {
				c ^= buf[off + i];
				for (int k = 0; k < 8; k++)
					c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			}
			CHECK_EQ_INT(journal_crc32(buf + off, n), c ^ 0xFFFFFFFFu);
		}
	return 0;
}

/* A token never reaches the file, wherever it appears. */
int test_journal_no_token(void)
{
	char *path = temp_path("token.acc");
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "accel-top --record x", &w, &err), 0);
	check_defer(close_writer, w);
	cJSON *data = parse_json("{\"url\":\"ws://127.0.0.1:8765/ws?token=s3cr3tT0ken&x=1\"}");
	CHECK(data != NULL);
	ac_event in[] = {
		{ .kind = EV_BRIDGE_LISTENING, .t_us = 1, .num = 8765, .text = "http://127.0.0.1:8765/" },
		{ .kind = EV_ERROR, .t_us = 2, .text = "http://127.0.0.1:8765/?token=s3cr3tT0ken#x and token=s3cr3tT0ken" },
		{ .kind = EV_BROWSER_HELLO, .t_us = 3, .browser = 1, .data = data },
	};
	for (size_t i = 0; i < 3; i++)
		CHECK_EQ_INT(journal_append(w, &in[i], NULL, &err), 0);
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	size_t len;
	uint8_t *b = read_file(path, &len);
	CHECK(b != NULL);
	CHECK(memmem(b, len, "s3cr3t", 6) == NULL);
	journal *j = open_ok(path);
	CHECK(j != NULL);
	ac_event out;
	CHECK_EQ_INT(journal_event(j, 0, &out, &err), 0);
	CHECK_STR(out.text, "http://127.0.0.1:8765/");
	CHECK_EQ_INT(journal_event(j, 1, &out, &err), 0);
	CHECK_STR(out.text, "http://127.0.0.1:8765/?token=REDACTED#x and token=REDACTED");
	CHECK_EQ_INT(journal_event(j, 2, &out, &err), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out.data, "url")),
		  "ws://127.0.0.1:8765/ws?token=REDACTED&x=1");
	return 0;
}

/* A recording made by main at 56eb8d2 (tests/fixtures/README.md), applied event by event to a
 * fresh pool through journal.c: the counters and every event log line equal what that build's
 * pool had at the end (the .log file, written by it), and the figures its replay printed. */
int test_journal_replays_main_56eb8d2(void)
{
	const char *root = getenv("ACCEL_TOP_DATA");
	char path[4096], want_path[4096];
	snprintf(path, sizeof path, "%s/tests/fixtures/recording-v1-main-56eb8d2.acrec", root && *root ? root : ".");
	snprintf(want_path, sizeof want_path, "%s/tests/fixtures/recording-v1-main-56eb8d2.log", root && *root ? root : ".");
	ac_err err = { 0, "" };
	journal *j = NULL;
	if (journal_open(path, &j, &err)) {
		check_fail(__FILE__, __LINE__, "%s: %s (set ACCEL_TOP_DATA to the repository root)", path, err.msg);
		return 1;
	}
	check_defer(free_journal, j);
	pool *p = new_pool();
	CHECK(p != NULL);
	size_t n = journal_event_count(j), refused = 0;
	for (size_t i = 0; i < n; i++) {
		ac_event ev;
		CHECK_OK(journal_event(j, i, &ev, &err));
		refused += pool_apply(p, &ev, &err) != 0;
	}
	char got[8192];
	snprintf(got, sizeof got, "events %zu applied %llu refused %zu errors %llu log %zu\n", n,
		 (unsigned long long)pool_event_count(p), refused, (unsigned long long)pool_error_count(p), pool_log_count(p));
	for (size_t i = 0; i < pool_log_count(p); i++) {
		const pool_log_entry *l = pool_log_at(p, i);
		ac_strlcatf(got, sizeof got, "%lld %s %d %s\n", (long long)l->t_us, ev_kind_name(l->kind), l->browser, l->text);
	}
	FILE *f = fopen(want_path, "r");
	CHECK(f != NULL);
	char want[8192];
	size_t len = fread(want, 1, sizeof want - 1, f);
	fclose(f);
	want[len] = '\0';
	CHECK_STR(got, want);
	/* figures from that build's `--replay FILE -b --json --begin END` (the .end.json file) */
	pool_request_totals t;
	pool_request_totals_get(p, &t);
	CHECK_EQ_INT(t.submitted, 326);
	CHECK_EQ_INT(t.done, 325);
	CHECK_EQ_INT(t.requeued, 1);
	CHECK_EQ_INT(t.pending, 1);
	const pool_model *m = pool_model_find(p, 1);
	CHECK(m != NULL);
	CHECK_EQ_INT(m->completed, 325);
	CHECK(m->lat_valid && fabs(m->p50_ms - 7.591000080108643) < 1e-9 && fabs(m->p95_ms - 23.743999481201172) < 1e-9);
	const pool_browser *b = pool_browser_find(p, 1);
	CHECK(b != NULL);
	CHECK_EQ_INT(b->state, BS_EXITED);
	CHECK_STR(b->version, "156.0.8078.114");
	CHECK_EQ_INT(b->pid, 24668);
	return 0;
}
