/* Forgetting long-lost attached browsers (EV_BROWSER_FORGOTTEN, --forget-lost): the applier and
 * what it refuses, what it keeps (totals, the row's figures, sessions that counted something),
 * the table's lookups afterwards, the log line, and the event through a recording and its replay. */
#include <stdio.h>
#include <string.h>

#include "../../pool/journal.h"
#include "../../pool/pool.h"
#include "../../tui/options.h"
#include "../../tui/snapshot.h"
#include "check.h"
#include "journal-harness.h"
#include "tests.h"

static int64_t ft = 1795685261000000;

static int put(pool *p, ac_event e)
{
	ac_err err = { 0, "" };
	e.t_us = ft += 1000;
	int rc = pool_apply(p, &e, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s refused: %s", ev_kind_name(e.kind), err.msg);
	return rc ? 1 : 0;
}

/* Applies e and expects it refused with a message containing `why`, the browsers unchanged. */
static int refused(pool *p, ac_event e, const char *why)
{
	size_t n = pool_browser_count(p);
	uint64_t events = pool_event_count(p);
	ac_err err = { 0, "" };
	e.t_us = ft += 1000;
	CHECK(pool_apply(p, &e, &err) < 0);
	CHECK_CONTAINS(err.msg, why);
	CHECK_EQ_INT(pool_browser_count(p), n);
	CHECK_EQ_INT(pool_event_count(p), events);
	return 0;
}

static ac_event forgotten(int id, double lost_s)
{
	return (ac_event){ .kind = EV_BROWSER_FORGOTTEN, .browser = id, .family = "firefox", .x = { lost_s },
			   .text = "lost for 600 s (--forget-lost 600 s)" };
}

/* Browser 1 managed, 2 from a Grid, 3..5 attached; row 1 with a request done on 4 (session 1)
 * and one in flight on 5; a session on 3 that never ran anything; an open breaker of 3. */
static int setup(pool *p)
{
	CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_LAUNCHED, .browser = 1, .num = 4242, .family = "chromium" }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = 1, .family = "chromium" }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_GRID_REQUESTED, .browser = 2, .family = "chromium@grid",
				    .text = "http://grid:4444" }));
	for (int b = 3; b <= 5; b++)
		CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = b, .family = "firefox" }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_WORKLOAD_STARTED, .model = 1, .name = "bert-tiny", .precision = "fp32",
				    .platform = "wasm", .family = "auto", .num = 1, .text = "text" }));
	for (int b = 3; b <= 5; b++) {
		CHECK_OK(put(p, (ac_event){ .kind = EV_SESSION_LOADING, .browser = b, .session = 1, .model = 1,
					    .precision = "fp32", .platform = "wasm", .text = "model.onnx" }));
		CHECK_OK(put(p, (ac_event){ .kind = EV_SESSION_READY, .browser = b, .session = 1, .x = { 12 },
					    .platform = "wasm" }));
	}
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = 1 }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = 1, .browser = 4, .session = 1 }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_DONE, .model = 1, .request = 1, .browser = 4, .session = 1,
				    .x = { 3, 1 } }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = 2 }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = 2, .browser = 5, .session = 1 }));
	CHECK_OK(put(p, (ac_event){ .kind = EV_BREAKER, .model = 1, .browser = 3, .name = "open", .num = 3, .x = { 5 },
				    .text = "3 errors" }));
	return 0;
}

int test_forget_refusals(void)
{
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	CHECK_OK(setup(p));
	CHECK_OK(refused(p, forgotten(9, 600), "unknown browser 9"));
	CHECK_OK(refused(p, forgotten(3, 600), "not lost"));
	CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_LOST, .browser = 1, .text = "socket closed" }));
	CHECK_OK(refused(p, forgotten(1, 600), "managed (its supervisor owns it)"));
	CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_EXITED, .browser = 2, .text = "session gone" }));
	CHECK_OK(refused(p, forgotten(2, 600), "Selenium Grid"));
	/* lost with a request still in flight (not yet put back): not yet */
	CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_LOST, .browser = 5, .text = "socket closed" }));
	CHECK_OK(refused(p, forgotten(5, 600), "in flight"));
	CHECK(pool_unforgettable(p, pool_browser_find(p, 5)) != NULL);
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_REQUEUED, .model = 1, .request = 2, .browser = 5,
				    .text = "browser lost" }));
	CHECK(pool_unforgettable(p, pool_browser_find(p, 5)) == NULL);
	CHECK_OK(put(p, forgotten(5, 600)));
	CHECK(pool_browser_find(p, 5) == NULL);
	return 0;
}

int test_forget_applier(void)
{
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	CHECK_OK(setup(p));
	CHECK_OK(put(p, (ac_event){ .kind = EV_REQUEST_REQUEUED, .model = 1, .request = 2, .browser = 5,
				    .text = "browser lost" }));
	const pool_model *m = pool_model_find(p, 1);
	CHECK(m != NULL);
	CHECK_EQ_INT(m->breakers_open, 1);
	pool_request_totals before, after;
	pool_request_totals_get(p, &before);
	size_t sessions = pool_session_count(p);
	uint64_t completed = m->completed;
	CHECK_EQ_INT(completed, 1);
	for (int b = 3; b <= 4; b++)
		CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_LOST, .browser = b, .text = "socket closed" }));
	CHECK_OK(put(p, forgotten(3, 600.4)));
	CHECK_OK(put(p, forgotten(4, 7)));
	/* the rows are gone; the others are still found, wherever the lookup hint was */
	CHECK_EQ_INT(pool_browser_count(p), 3);
	CHECK(pool_browser_find(p, 3) == NULL && pool_browser_find(p, 4) == NULL);
	const int left[] = { 5, 1, 2, 5, 2, 1 };
	for (int i = 0; i < 6; i++)
		CHECK(pool_browser_find(p, left[i]) && pool_browser_find(p, left[i])->id == left[i]);
	/* 3's session counted nothing and went, 4's ran a request and stays (its counters); 3's breaker went */
	CHECK_EQ_INT(pool_session_count(p), sessions - 1);
	CHECK(pool_session_find(p, 3, 1) == NULL);
	CHECK(pool_session_find(p, 4, 1) && pool_session_find(p, 4, 1)->completed == 1);
	CHECK(pool_breaker_find(p, 3, 1) == NULL);
	m = pool_model_find(p, 1);
	CHECK_EQ_INT(m->breakers_open, 0);
	/* the row's figures and the pool's totals are what they were */
	CHECK_EQ_INT(m->completed, completed);
	CHECK(m->lat_valid);
	pool_request_totals_get(p, &after);
	CHECK(memcmp(&before, &after, sizeof before) == 0);
	/* the log lines */
	const pool_log_entry *e = pool_log_at(p, pool_log_count(p) - 2);
	CHECK_STR(e->text, "forgot browser 3 (firefox, lost for 10 min)");
	CHECK_EQ_INT(e->browser, 3);
	CHECK_STR(pool_log_at(p, pool_log_count(p) - 1)->text, "forgot browser 4 (firefox, lost for 7 s)");
	/* ids are never given again; the snapshot has no row for them */
	CHECK(pool_next_id(p) > 5);
	char *snap = jh_snapshot_text(p, ft);
	CHECK(snap != NULL);
	cJSON *j = DEFER_JSON(cJSON_Parse(snap));
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "browsers")), 3);
	return 0;
}

/* A churn of attached browsers: the table grows and gives back, lookups stay right. */
int test_forget_churn(void)
{
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 300; i++) {
			int id = pool_next_id(p);
			CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = id, .family = "loadgen" }));
			CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_LOST, .browser = id, .text = "closed" }));
		}
		CHECK_EQ_INT(pool_browser_count(p), 300);
		/* every other one, then the rest, out of table order */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = pool_browser_count(p); i-- > 0;) {
				const pool_browser *b = pool_browser_at(p, i);
				if ((b->id % 2) == pass) {
					int id = b->id;
					CHECK_OK(put(p, forgotten(id, 1)));
					CHECK(pool_browser_find(p, id) == NULL);
				}
			}
		CHECK_EQ_INT(pool_browser_count(p), 0);
	}
	CHECK_EQ_INT(pool_next_id(p), 901);
	CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = 901, .family = "firefox" }));
	CHECK(pool_browser_find(p, 901) != NULL);
	return 0;
}

static void record(void *ctx, const ac_event *ev)
{
	void **c = ctx;
	ac_err err;
	if (journal_append(c[0], ev, c[1], &err))
		*(int *)c[2] = 1;
}

/* Live events with forgetting, recorded across checkpoints, read back and replayed: each event as
 * written, and the replayed pool equal to the live one at every point. */
int test_forget_recorded_and_replayed(void)
{
	char *path = jh_temp_path("forget.acc");
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "accel-top --forget-lost 1", &w, &err), 0);
	check_defer(jh_close_writer, w);
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	int failed = 0;
	void *ctx[3] = { w, p, &failed };
	CHECK_EQ_INT(pool_add_listener(p, record, ctx), 0);
	size_t marks[8], n_marks = 0;
	char *want[8];
	int64_t at[8];
	for (int b = 1; b <= 6; b++) {
		CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = b, .family = "firefox" }));
		CHECK_OK(put(p, (ac_event){ .kind = EV_BROWSER_LOST, .browser = b, .text = "closed" }));
		ft += 4000000; /* 4 s apart: checkpoints (every 10 s) fall between forgettings */
		if (b >= 2) {
			CHECK_OK(put(p, forgotten(b - 1, 4)));
			marks[n_marks] = (size_t)pool_event_count(p);
			at[n_marks] = ft;
			want[n_marks++] = jh_snapshot_text(p, ft);
		}
	}
	CHECK_EQ_INT(failed, 0);
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = jh_open(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	CHECK(journal_checkpoint_count(j) >= 1);
	size_t nf = 0;
	for (size_t i = 0; i < journal_event_count(j); i++) {
		ac_event e;
		CHECK_EQ_INT(journal_event(j, i, &e, &err), 0);
		if (e.kind != EV_BROWSER_FORGOTTEN)
			continue;
		nf++;
		CHECK_EQ_INT(e.browser, (int)nf);
		CHECK_STR(e.family, "firefox");
		CHECK(e.x[0] == 4);
	}
	CHECK_EQ_INT(nf, 5);
	for (size_t m = 0; m < n_marks; m++)
		CHECK_OK(jh_restored_equals(j, marks[m], at[m], want[m]));
	pool *r = jh_new_pool();
	CHECK(r != NULL);
	CHECK_EQ_INT(journal_restore(j, r, journal_event_count(j), &err), 0);
	CHECK_EQ_INT(pool_browser_count(r), 1);
	CHECK(pool_browser_find(r, 6) != NULL);
	CHECK_STR(jh_snapshot_text(r, ft), jh_snapshot_text(p, ft));
	return 0;
}

int test_forget_option(void)
{
	options o;
	options_defaults(&o);
	CHECK(o.forget_lost_s == 600);
	ac_err err = { 0, "" };
	char *ok[] = { "accel-top", "--forget-lost", "0", NULL };
	options_defaults(&o);
	CHECK_EQ_INT(options_parse(&o, 3, ok, &err), 0);
	CHECK(o.forget_lost_s == 0);
	char *bad[] = { "accel-top", "--forget-lost", "-1", NULL };
	options_defaults(&o);
	CHECK(options_parse(&o, 3, bad, &err) < 0);
	CHECK_CONTAINS(err.msg, "--forget-lost: '-1' is not a number of seconds from 0 (never)");
	return 0;
}
