/* The scheduler's fault handling against a real pool and fake browsers (fake-sched-io.h):
 * circuit breakers (open after 3 errors, probe after the cool-down, close on success), requeue on
 * browser loss exactly once, late replies discarded. Every test ends by counting every request
 * exactly once (sh_accounting). The breaker's 5 s cool-down is not waited for (fake_clock_back);
 * only the --request-timeout test sleeps, twice 30 ms past a 20 ms timeout. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sched-harness.h"
#include "tests.h"

/* ---------------------------------------------------------------- circuit breakers */

static const pool_breaker *brk_of(const harness *h, int browser, int row)
{
	return pool_breaker_find(h->p, browser, row);
}

/* Fails the oldest run on browser b. */
static int fail_run(harness *h, int b)
{
	fake_msg *m = fake_next(h->f, b, FM_RUN);
	CHECK(m != NULL);
	CHECK_EQ_INT(fake_answer_error(h->f, m, "run_failed", "boom"), 0);
	return 0;
}

/* Three errors in a row open a (browser, row) breaker: nothing is sent there; after the cool-down
 * the tick makes it half-open and exactly one probe goes; a failed probe opens it for twice as
 * long; a probe that succeeds closes it and the window fills again. Row A (browser 1) shows that
 * the tick leaves an open breaker alone before its cool-down; row B (browser 2) has its cool-down
 * start moved back (fake_clock_back) so that it is over at once: BRK_COOLDOWN_S is 5 s in
 * pool/sched.c and not configurable. */
int test_sched_breaker_open_probe_close(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "chromium", "hello-chromium-swiftshader.json"), 0);
	int ra, rb;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "#1", 1, 0, &ra), 0);
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "#2", 2, 0, &rb), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, NULL, 0, 2), 2); /* the two loads */
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 1);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 2);
	/* row A: three errors */
	for (int i = 0; i < 2; i++) {
		CHECK_OK(fail_run(h, 1));
		CHECK_EQ_INT(brk_of(h, 1, ra) ? brk_of(h, 1, ra)->state : BRK_CLOSED, BRK_CLOSED);
		CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 1);
	}
	CHECK_OK(fail_run(h, 1));
	CHECK_EQ_INT(brk_of(h, 1, ra)->state, BRK_OPEN);
	CHECK_EQ_INT(brk_of(h, 1, ra)->failures, 3);
	CHECK_EQ_INT(sh_last(h, EV_BREAKER)->x0, 5);
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 0);
	CHECK_EQ_INT(pool_model_find(h->p, ra)->queue, 1);
	CHECK_EQ_INT(pool_model_find(h->p, ra)->breakers_open, 1);
	/* row B: two errors, then the third with the cool-down's start 5 s back */
	CHECK_OK(fail_run(h, 2));
	CHECK_OK(fail_run(h, 2));
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 2);
	fake_clock_back(h->f, 5000);
	CHECK_OK(fail_run(h, 2));
	CHECK_EQ_INT(brk_of(h, 2, rb)->state, BRK_OPEN);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 1); /* sent before it opened */
	CHECK_OK(fail_run(h, 2)); /* a fourth error while open: still open, nothing sent */
	CHECK_EQ_INT(brk_of(h, 2, rb)->state, BRK_OPEN);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 0);
	CHECK_EQ_INT(sh_count(h, EV_BREAKER), 2);
	CHECK_EQ_INT(fake_tick(h->f), 0);
	CHECK_EQ_INT(brk_of(h, 1, ra)->state, BRK_OPEN); /* 5 s have not passed */
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 0);
	CHECK_EQ_INT(brk_of(h, 2, rb)->state, BRK_HALF_OPEN);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 1); /* one probe, though the window is 2 */
	CHECK_EQ_INT(pool_model_find(h->p, rb)->queue, 1);
	/* the probe fails: open again, for 10 s */
	fake_clock_back(h->f, 10000);
	CHECK_OK(fail_run(h, 2));
	CHECK_EQ_INT(brk_of(h, 2, rb)->state, BRK_OPEN);
	CHECK_EQ_INT(sh_last(h, EV_BREAKER)->x0, 10);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 0);
	CHECK_EQ_INT(fake_tick(h->f), 0);
	CHECK_EQ_INT(brk_of(h, 2, rb)->state, BRK_HALF_OPEN);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 1);
	/* the probe succeeds: closed, and the window is full again */
	CHECK_EQ_INT(fake_answer_run(h->f, fake_next(h->f, 2, FM_RUN), 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(brk_of(h, 2, rb)->state, BRK_CLOSED);
	CHECK_EQ_INT(brk_of(h, 2, rb)->failures, 0);
	CHECK_CONTAINS(sh_last(h, EV_BREAKER)->text, "probe request succeeded");
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 2);
	CHECK_EQ_INT(pool_model_find(h->p, rb)->breakers_open, 0);
	CHECK_EQ_INT(pool_model_find(h->p, ra)->breakers_open, 1);
	CHECK_EQ_INT(sh_count(h, EV_BREAKER), 6); /* open, open, half-open, open, half-open, closed */
	return sh_accounting(h);
}

/* A run sent before the breaker opened that then succeeds closes it (a result is a result), and
 * the breaker's reason says so rather than claiming a probe that was never sent. */
int test_sched_breaker_closed_by_earlier_run(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	int r;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "#1", 2, 0, &r), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, NULL, 0, 1), 1); /* the load */
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 2);
	for (int i = 0; i < 3; i++)
		CHECK_OK(fail_run(h, 1));
	CHECK_EQ_INT(brk_of(h, 1, r)->state, BRK_OPEN);
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 1); /* sent before it opened */
	CHECK_EQ_INT(fake_answer_run(h->f, fake_next(h->f, 1, FM_RUN), 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(brk_of(h, 1, r)->state, BRK_CLOSED);
	CHECK_CONTAINS(sh_last(h, EV_BREAKER)->text, "a request sent before it opened succeeded");
	return sh_accounting(h);
}

/* ---------------------------------------------------------------- browsers lost, late replies */

static int64_t requeued_id(const harness *h, int nth)
{
	for (int i = 0; i < h->n_ev; i++)
		if (h->ev[i].kind == EV_REQUEST_REQUEUED && nth-- == 0)
			return h->ev[i].request;
	return 0;
}

/* A lost browser's runs go back to the front of the queue, once (its exit after the loss does
 * not put them back again); they are the next ones sent; the replies that still come from the
 * lost browser are discarded, counted, and never delivered. */
int test_sched_requeue_on_loss_once(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-fallback.json"), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "auto", 4, 8, &row), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 1, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 2, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(sh_inflight(h, row, 1), 2);
	CHECK_EQ_INT(sh_inflight(h, row, 2), 2);
	fake_msg *late[2] = { fake_next(h->f, 1, FM_RUN), NULL };
	late[1] = fake_at(h->f, fake_count(h->f) - 3); /* browser 1's second run */
	CHECK(late[1]->browser == 1 && late[1]->kind == FM_RUN && late[1] != late[0]);
	CHECK_EQ_INT(fake_browser_event(h->f, EV_BROWSER_LOST, 1, "heartbeat timeout"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 2);
	for (int i = 0; i < 2; i++) {
		const pool_request *r = pool_request_find(h->p, requeued_id(h, i));
		CHECK(r && !r->inflight && r->front);
	}
	CHECK_EQ_INT(pool_model_find(h->p, row)->requeued, 2);
	CHECK_EQ_INT(fake_browser_event(h->f, EV_BROWSER_EXITED, 1, "exit status 1"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 2);
	/* browser 2's window frees: the put-back requests go first */
	CHECK_EQ_INT(fake_answer_run(h->f, fake_next(h->f, 2, FM_RUN), 0, sh_outs_a, 1), 0);
	const pool_request *r0 = pool_request_find(h->p, requeued_id(h, 0));
	const pool_request *r1 = pool_request_find(h->p, requeued_id(h, 1));
	CHECK((r0->inflight && r0->browser == 2) || (r1->inflight && r1->browser == 2));
	/* the lost browser's replies come late: one while its request is back in the queue or on
	 * browser 2, one after every request has ended */
	CHECK_EQ_INT(fake_answer_run(h->f, late[0], 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DISCARDED), 1);
	CHECK(fake_answer_all(h->f, 0, sh_outs_a, 1, 100) > 0);
	const pool_model *m = pool_model_find(h->p, row);
	CHECK(!m->running);
	CHECK_CONTAINS(m->stop_reason, "completed 8 requests");
	CHECK_EQ_INT(fake_answer_error(h->f, late[1], "run_failed", "too late"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DISCARDED), 2);
	CHECK_EQ_INT(m->discarded, 2);
	CHECK_EQ_INT(m->completed, 8);
	CHECK_EQ_INT(m->errors, 0);
	for (int i = 0; i < h->n_ev; i++)
		CHECK(!(h->ev[i].kind == EV_REQUEST_DONE || h->ev[i].kind == EV_REQUEST_FAILED) || h->ev[i].browser != 1);
	pool_request_totals t;
	pool_request_totals_get(h->p, &t);
	CHECK(t.submitted == 8 && t.done == 8 && t.failed == 0 && t.requeued == 2 && t.discarded == 2 && t.pending == 0);
	return sh_accounting(h);
}

/* A new page on a connected browser (EV_BROWSER_CONNECTED again) drops its old sessions: its
 * runs are put back once, and loads go to the new page. */
int test_sched_requeue_on_reconnect(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "auto", 1, 0, &row), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, NULL, 0, 1), 1);
	fake_msg *old = fake_next(h->f, 1, FM_RUN);
	CHECK(old != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 1);
	CHECK_CONTAINS(sh_last(h, EV_REQUEST_REQUEUED)->text, "reconnected");
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_LOAD), 1);
	CHECK_EQ_INT(fake_answer_error(h->f, old, "no_session", "session 1 is not loaded"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DISCARDED), 1);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 1, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(pool_request_find(h->p, sh_last(h, EV_REQUEST_REQUEUED)->request)->inflight, 1);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 1);
	return sh_accounting(h);
}

/* --request-timeout ends a run that got no result (failed, counted as timed out), and its reply
 * when it comes is discarded. */
int test_sched_late_reply_after_timeout(void)
{
	sched_config cfg = { .seed = 7, .window = 1, .request_timeout_s = 0.02 };
	harness *h = sh_setup(&cfg);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "auto", 1, 0, &row), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, NULL, 0, 1), 1);
	fake_msg *slow = fake_next(h->f, 1, FM_RUN);
	CHECK(slow != NULL);
	uv_sleep(30);
	CHECK_EQ_INT(fake_tick(h->f), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_FAILED), 1);
	CHECK_CONTAINS(sh_last(h, EV_REQUEST_FAILED)->text, "--request-timeout");
	CHECK_EQ_INT(sh_last(h, EV_REQUEST_FAILED)->num, 1);
	CHECK_EQ_INT(pool_model_find(h->p, row)->timed_out, 1);
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 2); /* the next one went */
	CHECK_EQ_INT(fake_answer_run(h->f, slow, 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DISCARDED), 1);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DONE), 0);
	CHECK_CONTAINS(sh_last(h, EV_REQUEST_DISCARDED)->text, "timed out");
	/* a queued request that no browser can take times out too, with the reason */
	CHECK_EQ_INT(fake_browser_event(h->f, EV_BROWSER_LOST, 1, "socket closed"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 1);
	uv_sleep(30);
	CHECK_EQ_INT(fake_tick(h->f), 0);
	CHECK_CONTAINS(sh_last(h, EV_REQUEST_FAILED)->text, "no browser served it");
	CHECK_CONTAINS(sh_last(h, EV_REQUEST_FAILED)->text, "no connected browser has txt loaded");
	pool_request_totals t;
	pool_request_totals_get(h->p, &t);
	CHECK_EQ_INT(t.timed_out, 2);
	return sh_accounting(h);
}
