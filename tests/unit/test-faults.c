/* The pool's fault accounting (pool/pool.c, pool/workloads.c): every request ends once, late replies
 * are counted and change nothing, breakers are shown per row; and the scaling options. */
#include <string.h>

#include "../../pool/pool.h"
#include "../../tui/options.h"
#include "../../tui/snapshot.h"
#include "check.h"
#include "tests.h"

static void free_pool(void *p) { pool_free(p); }

static int64_t t = 1795685261000000;

static int apply(pool *p, ac_event e)
{
	ac_err err = { 0, "" };
	e.t_us = (t += 1000);
	return pool_apply(p, &e, &err);
}

/* A pool with browser 1 connected and row 1 (bert-tiny) with session 1 ready on it. */
static pool *row_pool(void)
{
	pool *p = NULL;
	if (pool_new(&p))
		return NULL;
	check_defer(free_pool, p);
	if (apply(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = 1, .family = "chromium" }) ||
	    apply(p, (ac_event){ .kind = EV_WORKLOAD_STARTED, .model = 1, .name = "bert-tiny", .precision = "fp32",
				 .platform = "wasm", .family = "auto", .text = "text" }) ||
	    apply(p, (ac_event){ .kind = EV_SESSION_LOADING, .browser = 1, .session = 1, .model = 1,
				 .precision = "fp32", .platform = "wasm", .text = "model.onnx" }) ||
	    apply(p, (ac_event){ .kind = EV_SESSION_READY, .browser = 1, .session = 1, .platform = "wasm" }))
		return NULL;
	return p;
}

int test_faults_request_accounting(void)
{
	pool *p = row_pool();
	CHECK(p);
	for (int r = 1; r <= 3; r++)
		CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = r }), 0);
	/* 1 done; 2 put back when its browser went, sent again, failed; 3 timed out in the queue */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = 1, .browser = 1, .session = 1 }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_DONE, .model = 1, .request = 1, .browser = 1, .session = 1,
					  .x = { 5, 4 } }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = 2, .browser = 1, .session = 1 }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_REQUEUED, .model = 1, .request = 2, .browser = 1,
					  .text = "lost" }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = 2, .browser = 1, .session = 1 }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_FAILED, .model = 1, .request = 2, .browser = 1, .session = 1,
					  .text = "run_failed" }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_FAILED, .model = 1, .request = 3, .num = 1,
					  .text = "no browser served it within 2 s" }), 0);
	/* a late reply for 2 (already ended): counted, nothing else changes */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_DISCARDED, .model = 1, .request = 2, .browser = 1,
					  .text = "late" }), 0);
	/* a request ends once: a second end is refused */
	CHECK(apply(p, (ac_event){ .kind = EV_REQUEST_DONE, .model = 1, .request = 1, .browser = 1, .session = 1 }) != 0);
	CHECK(apply(p, (ac_event){ .kind = EV_REQUEST_FAILED, .model = 1, .request = 3, .text = "again" }) != 0);
	pool_request_totals rt;
	pool_request_totals_get(p, &rt);
	CHECK_EQ_INT(rt.submitted, 3);
	CHECK_EQ_INT(rt.done, 1);
	CHECK_EQ_INT(rt.failed, 2);
	CHECK_EQ_INT(rt.timed_out, 1);
	CHECK_EQ_INT(rt.requeued, 1);
	CHECK_EQ_INT(rt.discarded, 1);
	CHECK_EQ_INT(rt.pending, 0);
	const pool_model *m = pool_model_find(p, 1);
	CHECK_EQ_INT(m->requeued, 1);
	CHECK_EQ_INT(m->discarded, 1);
	CHECK_EQ_INT(m->timed_out, 1);
	CHECK_EQ_INT(m->completed, 1);
	CHECK_EQ_INT(m->errors, 2);
	CHECK(pool_browser_find(p, 1)->last_work_us > 0);
	return 0;
}

int test_faults_breakers(void)
{
	pool *p = row_pool();
	CHECK(p);
	CHECK(pool_breaker_find(p, 1, 1) == NULL);
	CHECK(apply(p, (ac_event){ .kind = EV_BREAKER, .browser = 1, .model = 1, .name = "ajar" }) != 0);
	CHECK(apply(p, (ac_event){ .kind = EV_BREAKER, .browser = 1, .name = "open" }) != 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BREAKER, .browser = 1, .model = 1, .name = "open", .num = 3,
					  .x = { 5 }, .text = "run_failed: bad dims" }), 0);
	const pool_breaker *k = pool_breaker_find(p, 1, 1);
	CHECK(k && k->state == BRK_OPEN && k->failures == 3 && k->probe_at_us == k->changed_us + 5000000);
	CHECK_EQ_INT(pool_model_find(p, 1)->breakers_open, 1);
	CHECK(strstr(pool_model_find(p, 1)->breaker_note, "browser 1 open (3 consecutive errors): run_failed"));
	cJSON *j = snapshot_json(p, t);
	char *s = cJSON_PrintUnformatted(j);
	CHECK(strstr(s, "\"breaker\":\"open\"") && strstr(s, "\"failures\":3"));
	cJSON_free(s);
	cJSON_Delete(j);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BREAKER, .browser = 1, .model = 1, .name = "half-open", .num = 3 }), 0);
	CHECK_EQ_INT(pool_model_find(p, 1)->breakers_open, 1);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BREAKER, .browser = 1, .model = 1, .name = "closed" }), 0);
	CHECK_EQ_INT(pool_model_find(p, 1)->breakers_open, 0);
	CHECK_EQ_INT(pool_breaker_count(p), 1);
	return 0;
}

int test_faults_supervision_events(void)
{
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_LAUNCHED, .browser = 1, .family = "chromium", .num = 42 }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_EXITED, .browser = 1, .num2 = 9, .text = "killed" }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_RESTARTING, .browser = 1, .x = { 2 }, .num = 1,
					  .text = "restart in 2.0 s" }), 0);
	const pool_browser *b = pool_browser_find(p, 1);
	CHECK(b->restart_at_us == t + 2000000 && b->restarts_recent == 1 && !strcmp(b->note, "restart in 2.0 s"));
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_LAUNCHED, .browser = 1, .family = "chromium", .num = 43 }), 0);
	CHECK(b->restart_at_us == 0 && b->restarts == 1 && !b->held);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_EXITED, .browser = 1, .num2 = 9, .text = "killed" }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_HELD, .browser = 1, .text = "held down" }), 0);
	CHECK(b->held && b->restart_at_us == 0);
	CHECK(apply(p, (ac_event){ .kind = EV_SCALED, .browser = 2, .num = 1 }) != 0); /* no family */
	CHECK(apply(p, (ac_event){ .kind = EV_SCALED, .browser = 2, .family = "chromium", .num = 2 }) != 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_SCALED, .browser = 2, .family = "chromium", .num = 1,
					  .text = "queue" }), 0);
	const pool_log_entry *e = pool_log_at(p, pool_log_count(p) - 1);
	CHECK(e && strstr(e->text, "scale up: chromium 2: queue"));
	return 0;
}

static int parse(options *o, const char *a1, const char *a2, const char *a3, const char *a4, ac_err *err)
{
	char *argv[] = { "accel-top", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL) + (a4 != NULL);
	options_defaults(o);
	return options_parse(o, argc, argv, err);
}

int test_faults_scaling_options(void)
{
	options o;
	ac_err err;
	CHECK_EQ_INT(parse(&o, "--browsers", "chromium:1-4,firefox:0-2", NULL, NULL, &err), 0);
	CHECK(o.scaling && o.n_launch == 2);
	CHECK(o.launch[0].count == 1 && o.launch[0].min == 1 && o.launch[0].max == 4);
	CHECK(o.launch[1].count == 0 && o.launch[1].min == 0 && o.launch[1].max == 2);
	CHECK_EQ_INT(parse(&o, "--browsers", "chromium:2", NULL, NULL, &err), 0);
	CHECK(!o.scaling && o.launch[0].min == 2 && o.launch[0].max == 2);
	CHECK_EQ_INT(parse(&o, "--max-browsers", "3", NULL, NULL, &err), 0); /* the default kinds, 1 to 3 each */
	CHECK(o.scaling && o.n_launch == 2 && o.launch[0].min == 1 && o.launch[1].max == 3);
	CHECK_EQ_INT(parse(&o, "--browsers", "chromium", "--max-browsers", "firefox:2", &err), 0);
	CHECK(o.n_launch == 2 && !strcmp(o.launch[1].family, "firefox") && o.launch[1].min == 0 && o.launch[1].max == 2);
	CHECK_EQ_INT(parse(&o, "--min-browsers", "chromium:2", "--max-browsers", "chromium:1", &err), AC_EINVAL);
	CHECK(strstr(err.msg, "minimum 2 is above maximum 1"));
	CHECK_EQ_INT(parse(&o, "--browsers", "chromium:3-1", NULL, NULL, &err), AC_EINVAL);
	CHECK(strstr(err.msg, "MIN <= MAX"));
	CHECK_EQ_INT(parse(&o, "--max-browsers", "safari:2", NULL, NULL, &err), AC_EINVAL);
	CHECK(strstr(err.msg, "unknown browser 'safari'"));
	CHECK_EQ_INT(parse(&o, "--no-launch", "--max-browsers", "2", NULL, &err), AC_EINVAL);
	CHECK_EQ_INT(parse(&o, "--request-timeout", "0", "--idle-timeout", "5", &err), 0);
	CHECK(o.request_timeout_s == 0 && o.idle_timeout_s == 5);
	CHECK_EQ_INT(parse(&o, "--browser-arg", "chromium=--use-angle=vulkan", "--browser-arg", "firefox=-safe-mode", &err), 0);
	CHECK(o.n_browser_args == 2 && !strcmp(o.browser_args[0].family, "chromium") &&
	      !strcmp(o.browser_args[0].arg, "--use-angle=vulkan") && !strcmp(o.browser_args[1].arg, "-safe-mode"));
	CHECK_EQ_INT(parse(&o, "--browser-arg", "chromium", NULL, NULL, &err), AC_EINVAL);
	CHECK_EQ_INT(parse(&o, "--browser-arg", "chromium=", NULL, NULL, &err), AC_EINVAL);
	CHECK_EQ_INT(parse(&o, "--browser-arg", "=--x", NULL, NULL, &err), AC_EINVAL);
	CHECK(strstr(err.msg, "give KIND=FLAG"));
	CHECK_EQ_INT(parse(&o, "--request-timeout", "-1", NULL, NULL, &err), AC_EINVAL);
	CHECK(strstr(err.msg, "--request-timeout"));
	return 0;
}
