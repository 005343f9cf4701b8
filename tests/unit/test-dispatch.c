/* Run-to-completion dispatch (pool/pool.c): an event a listener emits is applied after the one
 * being dispatched has reached every listener; listeners see events in the order they were
 * applied, with the state after each; queued events own copies of what they borrowed; a queued
 * event that no longer fits becomes an error event; pool_after() waits for the queue. */
#include <stdio.h>
#include <string.h>

#include "../../pool/pool.h"
#include "check.h"
#include "tests.h"

static void free_pool(void *p) { pool_free(p); }

#define SEEN_MAX 16

/* One listener's view: the kinds it was given, in order, and the state it read with each. */
typedef struct {
	pool *p;
	int n;
	ev_kind kind[SEEN_MAX];
	char text[SEEN_MAX][64];     /* the event's text as given */
	char version[SEEN_MAX][64];  /* browser 1's version in the pool when it was given */
	bool caps_valid[SEEN_MAX];   /* browser 1's caps in the pool when it was given */
	bool after_ran[SEEN_MAX];    /* the pool_after work had run when it was given */
} seen;

static bool after_ran;

static void record(void *ctx, const ac_event *ev)
{
	seen *s = ctx;
	if (s->n == SEEN_MAX)
		return;
	const pool_browser *b = pool_browser_find(s->p, 1);
	s->kind[s->n] = ev->kind;
	ac_strlcpy(s->text[s->n], ev->text, sizeof s->text[0]);
	ac_strlcpy(s->version[s->n], b ? b->version : "-", sizeof s->version[0]);
	s->caps_valid[s->n] = b && b->caps.valid;
	s->after_ran[s->n] = after_ran;
	s->n++;
}

typedef struct {
	pool *p;
	const cJSON *hello;
	int applied_rc[4];
	int n_rc;
	char version_at_emit[64];        /* browser 1's version right after emitting one */
	char version_seen_after_emit[64]; /* what follow_up read right after its emit */
} emitter;

/* Emitted from pool_after(): applies at once, so the state read after it has it. */
static void follow_up(void *ctx)
{
	emitter *e = ctx;
	after_ran = true;
	ac_event r = { .kind = EV_BROWSER_RTT, .t_us = 50, .browser = 1, .num = 1234 };
	ac_err err;
	e->applied_rc[e->n_rc++] = pool_apply(e->p, &r, &err);
	const pool_browser *b = pool_browser_find(e->p, 1);
	snprintf(e->version_seen_after_emit, sizeof e->version_seen_after_emit, "rtt %lld", b ? (long long)b->rtt_us : -1);
}

/* On a connection, emits a version (its text in a buffer overwritten right after), a hello (its
 * data deleted right after) and an error; on the version, one more; and puts off follow_up. */
static void emit_during(void *ctx, const ac_event *ev)
{
	emitter *e = ctx;
	ac_err err;
	if (ev->kind == EV_BROWSER_CONNECTED) {
		char buf[64];
		snprintf(buf, sizeof buf, "156.0.1");
		ac_event v = { .kind = EV_BROWSER_VERSION, .t_us = 10, .browser = 1, .text = buf };
		e->applied_rc[e->n_rc++] = pool_apply(e->p, &v, &err);
		memset(buf, 'x', sizeof buf - 1);
		buf[sizeof buf - 1] = '\0';
		/* the version is queued: the pool still has none */
		ac_strlcpy(e->version_at_emit, pool_browser_find(e->p, 1)->version, sizeof e->version_at_emit);
		cJSON *hello = cJSON_Duplicate(e->hello, 1);
		ac_event h = { .kind = EV_BROWSER_HELLO, .t_us = 11, .browser = 1, .data = hello };
		pool_apply(e->p, &h, &err);
		cJSON_Delete(hello);
		snprintf(buf, sizeof buf, "an error");
		ac_event x = { .kind = EV_ERROR, .t_us = 12, .text = buf };
		pool_apply(e->p, &x, &err);
		memset(buf, 'y', 8);
		pool_after(e->p, follow_up, e);
	} else if (ev->kind == EV_BROWSER_VERSION) {
		ac_event u = { .kind = EV_BROWSER_USAGE, .t_us = 13, .browser = 1, .num = 1000, .num2 = 2 };
		pool_apply(e->p, &u, &err);
	}
}

static pool *setup(seen *before, seen *after, emitter *em)
{
	pool *p = NULL;
	if (pool_new(&p) != 0)
		return NULL;
	check_defer(free_pool, p);
	memset(before, 0, sizeof *before);
	memset(after, 0, sizeof *after);
	memset(em, 0, sizeof *em);
	before->p = after->p = em->p = p;
	after_ran = false;
	pool_add_listener(p, record, before);
	pool_add_listener(p, emit_during, em);
	pool_add_listener(p, record, after);
	return p;
}

int test_dispatch_run_to_completion(void)
{
	seen before, after;
	emitter em;
	pool *p = setup(&before, &after, &em);
	CHECK(p != NULL);
	CHECK((em.hello = load_fixture("hello-chromium-swiftshader.json")) != NULL);
	ac_err err = { 0, "" };
	ac_event l = { .kind = EV_BROWSER_LAUNCHED, .t_us = 1, .browser = 1, .family = "chromium", .num = 42 };
	CHECK_OK(pool_apply(p, &l, &err));
	ac_event c = { .kind = EV_BROWSER_CONNECTED, .t_us = 2, .browser = 1 };
	CHECK_OK(pool_apply(p, &c, &err));
	/* the emitter was told its events were taken; the version was not applied yet when it looked */
	CHECK_EQ_INT(em.applied_rc[0], 0);
	CHECK_EQ_INT(em.applied_rc[1], 0);
	CHECK_STR(em.version_at_emit, "");
	CHECK_STR(em.version_seen_after_emit, "rtt 1234"); /* pool_after's work: its emit applied at once */
	/* both listeners, before and after the emitter, saw the same order: the cause first, then
	 * what it led to in the order emitted (the usage emitted on the version comes last), then
	 * what pool_after's work emitted */
	const ev_kind want[] = { EV_BROWSER_LAUNCHED, EV_BROWSER_CONNECTED, EV_BROWSER_VERSION, EV_BROWSER_HELLO,
				 EV_ERROR, EV_BROWSER_USAGE, EV_BROWSER_RTT };
	int n = (int)(sizeof want / sizeof want[0]);
	CHECK_EQ_INT(before.n, n);
	CHECK_EQ_INT(after.n, n);
	for (int i = 0; i < n; i++) {
		CHECK_EQ_INT(before.kind[i], want[i]);
		CHECK_EQ_INT(after.kind[i], want[i]);
		/* each saw the state after the event it was given, not after later ones */
		CHECK_STR(before.version[i], after.version[i]);
		CHECK_EQ_INT(before.caps_valid[i], after.caps_valid[i]);
		CHECK_EQ_INT(before.after_ran[i], i == n - 1);
	}
	CHECK_STR(after.version[1], "");        /* connected: no version yet */
	CHECK_STR(after.version[2], "156.0.1"); /* the copy, not the overwritten buffer */
	CHECK_STR(after.text[2], "156.0.1");
	CHECK(!after.caps_valid[2]);
	CHECK(after.caps_valid[3]);            /* the hello's data was copied before it was deleted */
	CHECK_STR(after.text[4], "an error");
	CHECK_STR(pool_browser_find(p, 1)->version, "156.0.1");
	CHECK_EQ_INT(pool_browser_find(p, 1)->rss_bytes, 1000);
	CHECK_EQ_INT(pool_event_count(p), (uint64_t)n);
	CHECK_EQ_INT(pool_error_count(p), 1);
	return 0;
}

/* A queued event that does not fit when its turn comes becomes an error event with the reason,
 * seen by every listener in its place. */
static void emit_bad(void *ctx, const ac_event *ev)
{
	emitter *e = ctx;
	ac_err err;
	if (ev->kind == EV_BROWSER_LAUNCHED) {
		ac_event v = { .kind = EV_BROWSER_VERSION, .t_us = 20, .browser = 9, .text = "1.0" };
		e->applied_rc[e->n_rc++] = pool_apply(e->p, &v, &err);
		ac_event again = { .kind = EV_BROWSER_LAUNCHED, .t_us = 21, .browser = 1, .family = "firefox" };
		e->applied_rc[e->n_rc++] = pool_apply(e->p, &again, &err);
	}
}

int test_dispatch_queued_failure(void)
{
	pool *p = NULL;
	CHECK_OK(pool_new(&p));
	check_defer(free_pool, p);
	seen first = { .p = p }, last = { .p = p };
	emitter em = { .p = p };
	pool_add_listener(p, record, &first);
	pool_add_listener(p, emit_bad, &em);
	pool_add_listener(p, record, &last);
	ac_err err = { 0, "" };
	ac_event l = { .kind = EV_BROWSER_LAUNCHED, .t_us = 1, .browser = 1, .family = "chromium", .num = 42 };
	CHECK_OK(pool_apply(p, &l, &err));
	CHECK_EQ_INT(em.n_rc, 2);
	CHECK_EQ_INT(em.applied_rc[0], 0); /* queued: the emitter cannot know yet */
	CHECK_EQ_INT(em.applied_rc[1], 0);
	CHECK_EQ_INT(last.n, 3);
	CHECK_EQ_INT(first.n, 3);
	CHECK_EQ_INT(last.kind[0], EV_BROWSER_LAUNCHED);
	CHECK_EQ_INT(last.kind[1], EV_ERROR);
	CHECK_STR(last.text[1], "browser_version for unknown browser 9");
	CHECK_EQ_INT(last.kind[2], EV_ERROR);
	CHECK_STR(last.text[2], "browser 1 launched twice");
	CHECK_EQ_INT(first.kind[1], EV_ERROR);
	CHECK_EQ_INT(pool_error_count(p), 2);
	CHECK_EQ_INT(pool_event_count(p), 3);
	CHECK_STR(pool_browser_find(p, 1)->kind, "chromium");
	/* the error keeps the failed event's browser and time, and is in the log */
	const pool_log_entry *e = pool_log_at(p, pool_log_count(p) - 2);
	CHECK(e != NULL);
	CHECK_EQ_INT(e->browser, 9);
	CHECK_EQ_INT(e->t_us, 20);
	CHECK_STR(e->text, "error: browser_version for unknown browser 9");
	/* outside a listener a refusal is returned, as before */
	ac_event v = { .kind = EV_BROWSER_VERSION, .t_us = 30, .browser = 9, .text = "1.0" };
	CHECK(pool_apply(p, &v, &err) < 0);
	CHECK_STR(err.msg, "browser_version for unknown browser 9");
	CHECK_EQ_INT(last.n, 3);
	return 0;
}

static int after_calls;
static void count_after(void *ctx)
{
	(void)ctx;
	after_calls++;
}

/* Outside a dispatch, pool_after runs the work at once. */
int test_dispatch_after_outside(void)
{
	pool *p = NULL;
	CHECK_OK(pool_new(&p));
	check_defer(free_pool, p);
	after_calls = 0;
	pool_after(p, count_after, NULL);
	CHECK_EQ_INT(after_calls, 1);
	return 0;
}
