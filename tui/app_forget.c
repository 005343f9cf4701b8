/* --forget-lost SECS: an attached browser (an operator opened our URL) that is lost and has not
 * come back within SECS is forgotten: EV_BROWSER_FORGOTTEN takes its row out of the pool, so that
 * a long churn of new browsers does not keep a row for each for ever. Managed and Grid browsers
 * are their supervisor's and never forgotten this way (pool_unforgettable() says which may be).
 *
 * No polling: one timer, armed for the earliest lost attached browser's deadline when one is lost,
 * and after each firing for the next one; a little past it (a tenth of SECS, at most 1 s), so that
 * one firing forgets a burst of browsers lost together, and gives the memory they held back to the
 * system once (glibc keeps what free() returns inside its heap: 1,000 rows kept 10.8 MB of RSS
 * without malloc_trim, 0.05 MB with it; bench/README.md). Live only: a replay applies the
 * recorded events. A page that comes back after it was forgotten is a new browser with a new id
 * (resolve_id() in app.c finds no row for its instance); ids are never reused. */
#include "app.h"

#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static int64_t forget_us(const app *a) { return (int64_t)(a->opt->forget_lost_s * 1e6); }

/* The earliest time a browser may be forgotten, or 0 when none may. */
static int64_t next_due(const app *a)
{
	int64_t due = 0;
	for (size_t i = 0; i < pool_browser_count(a->pool); i++) {
		const pool_browser *b = pool_browser_at(a->pool, i);
		if (pool_unforgettable(a->pool, b))
			continue;
		int64_t t = b->changed_us + forget_us(a);
		if (!due || t < due)
			due = t;
	}
	return due;
}

static void on_forget_timer(uv_timer_t *t);

static void arm(app *a)
{
	int64_t due = next_due(a);
	if (!due || a->quitting)
		return;
	int64_t slack = forget_us(a) / 10 < 1000000 ? forget_us(a) / 10 : 1000000;
	int64_t now = ac_now_us(), ms = due + slack > now ? (due + slack - now + 999) / 1000 : 0;
	uv_timer_start(&a->forget_timer, on_forget_timer, (uint64_t)ms, 0);
}

/* One browser: its event, then its socket if the bridge still keeps one; 1 when it was forgotten. */
static int forget(app *a, const pool_browser *b, int64_t now)
{
	char kind[32], why[160];
	int id = b->id;
	double lost_s = (double)(now - b->changed_us) / 1e6;
	snprintf(kind, sizeof kind, "%s", b->kind);
	snprintf(why, sizeof why, "lost for %.0f s (--forget-lost %g s)", lost_s, a->opt->forget_lost_s);
	ac_event ev = { .kind = EV_BROWSER_FORGOTTEN, .t_us = now, .browser = id, .family = kind, .text = why,
			.x = { lost_s } };
	ac_err err;
	if (pool_apply(a->pool, &ev, &err)) { /* cannot happen: it was just checked */
		ac_event e = { .kind = EV_ERROR, .t_us = now, .browser = id, .text = err.msg };
		pool_apply(a->pool, &e, &err);
		return 0;
	}
	if (a->br)
		bridge_forget(a->br, id);
	return 1;
}

static void on_forget_timer(uv_timer_t *t)
{
	app *a = t->data;
	int64_t now = ac_now_us();
	int forgot = 0;
	for (size_t i = 0; i < pool_browser_count(a->pool) && !a->quitting;) {
		const pool_browser *b = pool_browser_at(a->pool, i);
		if (!pool_unforgettable(a->pool, b) && now - b->changed_us >= forget_us(a))
			forgot += forget(a, b, now); /* the row is gone: the next one is at i now */
		else
			i++;
	}
#ifdef __GLIBC__
	if (forgot)
		malloc_trim(0);
#endif
	arm(a);
}

static void arm_after(void *ctx)
{
	app *a = ctx;
	if (!uv_is_active((uv_handle_t *)&a->forget_timer))
		arm(a);
}

/* Pool listener: a browser lost with no timer running arms it (one already running is due no later
 * than this one: every browser waits the same time); once its requests in flight have been put
 * back (events queued behind this one), so that it counts as one that may be forgotten. */
static void forget_on_event(void *ctx, const ac_event *ev)
{
	app *a = ctx;
	if (ev->kind == EV_BROWSER_LOST && !uv_is_active((uv_handle_t *)&a->forget_timer))
		pool_after(a->pool, arm_after, a);
}

int app_start_forget(app *a, ac_err *err)
{
	uv_timer_init(a->loop, &a->forget_timer);
	a->forget_timer.data = a;
	if (a->opt->forget_lost_s <= 0)
		return 0;
	return pool_add_listener(a->pool, forget_on_event, a) ? ac_errf(err, AC_ENOMEM, "too many pool listeners") : 0;
}

void app_forget_close(app *a)
{
	if (a->forget_timer.loop && !uv_is_closing((uv_handle_t *)&a->forget_timer)) {
		uv_timer_stop(&a->forget_timer);
		uv_close((uv_handle_t *)&a->forget_timer, NULL);
	}
}
