#include "supervisor.h"
#include "family.h"
#include "sched.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 500
#define RESTART_WINDOW_MS 60000  /* restarts counted over the last minute */
#define RESTARTS_KEPT 64
#define SCALE_SPACING_MS 5000    /* at least this between two scale-ups */

typedef struct {
	int id;
	uint64_t restarts_ms[RESTARTS_KEPT]; /* ring of restart times (loop ms) */
	int n_restarts;
	bool planned, lost_wait, forgotten, restarting, held;
	uint64_t restart_at_ms;
} sbrowser;

typedef struct {
	int row;
	uint64_t since_ms; /* under pressure since then; 0 = not */
} spressure;

struct supervisor {
	uv_loop_t *loop;
	pool *p;
	sup_config cfg;
	sup_io io;
	sbrowser *b;
	size_t n, cap;
	spressure *rows;
	size_t n_rows, cap_rows;
	uv_timer_t tick;
	bool closing;
	uint64_t next_scale_ms;
};

static void emit(supervisor *s, ac_event *ev)
{
	ac_err err;
	ev->t_us = ac_now_us();
	if (s->io.emit(s->io.ctx, ev, &err)) {
		ac_event e = { .kind = EV_ERROR, .t_us = ev->t_us, .browser = ev->browser, .text = err.msg };
		s->io.emit(s->io.ctx, &e, &err);
	}
}

static void emit_error(supervisor *s, int browser, const char *text)
{
	ac_event ev = { .kind = EV_ERROR, .browser = browser, .text = text };
	emit(s, &ev);
}

static sbrowser *sb_get(supervisor *s, int id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i].id == id)
			return &s->b[i];
	if (ac_reserve((void **)&s->b, &s->cap, s->n + 1, sizeof *s->b))
		return NULL;
	sbrowser *b = &s->b[s->n++];
	memset(b, 0, sizeof *b);
	b->id = id;
	return b;
}

static int recent_restarts(const supervisor *s, const sbrowser *b)
{
	uint64_t now = uv_now(s->loop);
	int n = 0;
	for (int i = 0; i < b->n_restarts && i < RESTARTS_KEPT; i++)
		if (now - b->restarts_ms[i] < RESTART_WINDOW_MS)
			n++;
	return n;
}

/* The browser went away on its own: plan its restart, or hold it down. */
static void plan_restart(supervisor *s, sbrowser *b, bool lost, const char *why)
{
	if (s->cfg.max_restarts <= 0 || b->forgotten || b->held)
		return;
	int n = recent_restarts(s, b);
	char text[200];
	if (n >= s->cfg.max_restarts) {
		b->held = true;
		b->planned = false;
		/* what the operator must know first: the log line is cut to the screen's width */
		snprintf(text, sizeof text, "held down: restarted %d times in the last minute (press r to restart it); "
			 "last: %.90s", n, why);
		ac_event ev = { .kind = EV_BROWSER_HELD, .browser = b->id, .text = text };
		emit(s, &ev);
		return;
	}
	double delay = fmin(s->cfg.backoff_base_s * pow(2, n), s->cfg.backoff_max_s);
	if (lost)
		delay = fmax(delay, s->cfg.lost_grace_s);
	b->planned = true;
	b->lost_wait = lost;
	b->restart_at_ms = uv_now(s->loop) + (uint64_t)(delay * 1000);
	snprintf(text, sizeof text, "restart in %.1f s%s (%d in the last minute): %.100s", delay,
		 lost ? " unless it comes back" : "", n, why);
	ac_event ev = { .kind = EV_BROWSER_RESTARTING, .browser = b->id, .x = { delay }, .num = n, .text = text };
	emit(s, &ev);
}

static void do_restart(supervisor *s, sbrowser *b)
{
	b->planned = false;
	b->restarts_ms[b->n_restarts++ % RESTARTS_KEPT] = uv_now(s->loop);
	b->restarting = true;
	ac_err err;
	if (s->io.restart(s->io.ctx, b->id, &err)) {
		b->restarting = false;
		char text[300];
		snprintf(text, sizeof text, "could not restart browser %d: %.250s", b->id, err.msg);
		emit_error(s, b->id, text);
		plan_restart(s, b, false, "the restart failed");
	}
}

void sup_on_event(void *ctx, const ac_event *ev)
{
	supervisor *s = ctx;
	if (s->closing || !ev->browser)
		return;
	const pool_browser *pb = pool_browser_find(s->p, ev->browser);
	if (!pb || !pb->managed)
		return;
	sbrowser *b = sb_get(s, ev->browser);
	if (!b)
		return;
	switch (ev->kind) {
	case EV_BROWSER_LAUNCHED:
	case EV_GRID_REQUESTED: /* a Grid browser's launch */
		b->restarting = false;
		b->planned = false;
		break;
	case EV_BROWSER_CONNECTED:
		if (b->planned && b->lost_wait) /* it came back by itself */
			b->planned = false;
		break;
	case EV_BROWSER_EXITED:
		if (b->restarting || b->forgotten)
			break; /* ours: the launcher starts it again, or it was stopped on purpose */
		plan_restart(s, b, false, ev->text ? ev->text : "exited");
		break;
	case EV_BROWSER_FAILED:
		b->restarting = false;
		plan_restart(s, b, false, ev->text ? ev->text : "could not be launched");
		break;
	case EV_BROWSER_LOST:
		if (!b->restarting && pb->state == BS_LOST)
			plan_restart(s, b, true, ev->text ? ev->text : "lost");
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- scaling */

static const sup_limit *limit_of(const supervisor *s, const char *family)
{
	for (int i = 0; i < s->cfg.n_limits; i++)
		if (!strcmp(s->cfg.limits[i].family, family))
			return &s->cfg.limits[i];
	return NULL;
}

/* Managed browsers of a kind that are running or coming back. */
static int kind_count(supervisor *s, const char *family)
{
	int n = 0;
	for (size_t i = 0; i < pool_browser_count(s->p); i++) {
		const pool_browser *pb = pool_browser_at(s->p, i);
		if (!pb->managed || strcmp(pb->kind, family))
			continue;
		sbrowser *b = sb_get(s, pb->id);
		if (b && b->forgotten)
			continue;
		if (pb->state != BS_EXITED || (b && (b->planned || b->held || b->restarting)))
			n++;
	}
	return n;
}

static spressure *row_pressure(supervisor *s, int row)
{
	for (size_t i = 0; i < s->n_rows; i++)
		if (s->rows[i].row == row)
			return &s->rows[i];
	if (ac_reserve((void **)&s->rows, &s->cap_rows, s->n_rows + 1, sizeof *s->rows))
		return NULL;
	s->rows[s->n_rows] = (spressure){ .row = row };
	return &s->rows[s->n_rows++];
}

/* Kinds whose browsers already serve the row (a ready session): capacity there is proven. */
static bool kind_serves(const supervisor *s, int row, const char *family, bool *loading)
{
	bool serves = false;
	for (size_t i = 0; i < pool_session_count(s->p); i++) {
		const pool_session *ss = pool_session_at(s->p, i);
		if (ss->model != row || ss->reference)
			continue;
		const pool_browser *pb = pool_browser_find(s->p, ss->browser);
		if (!pb || strcmp(pb->kind, family))
			continue;
		if (ss->state == SS_READY)
			serves = true;
		if (ss->state == SS_LOADING)
			*loading = true;
	}
	return serves;
}

/* A kind from a Selenium Grid grows only into free slots (as last seen: EV_GRID_CAPACITY). */
static bool grid_has_room(const supervisor *s, const char *family)
{
	const browser_family *f = family_find(family);
	if (!f || !f->webdriver_name)
		return true;
	const pool_grid *g = pool_grid_get(s->p);
	return g->seen && g->up && g->used < g->slots;
}

static bool scale_up_for(supervisor *s, const pool_model *m, double wait_s)
{
	const sup_limit *best = NULL;
	int best_pref = 0, best_count = 0;
	for (int i = 0; i < s->cfg.n_limits; i++) {
		const sup_limit *l = &s->cfg.limits[i];
		if (strcmp(m->pin, "auto") && strcmp(m->pin, l->family))
			continue;
		bool loading = false;
		if (!kind_serves(s, m->id, l->family, &loading))
			continue;
		if (loading)
			return false; /* the last browser added is still loading the model: wait for it */
		int count = kind_count(s, l->family);
		if (count >= l->max || !grid_has_room(s, l->family))
			continue;
		int pref = family_preference(l->family, m->type, NULL);
		if (!best || pref < best_pref || (pref == best_pref && count < best_count)) {
			best = l;
			best_pref = pref;
			best_count = count;
		}
	}
	if (!best)
		return false;
	int id = pool_next_id(s->p);
	char text[200];
	snprintf(text, sizeof text, "model %d (%s): queue of %d waiting %.1f s for %.0f s; %s %d -> %d of at most %d",
		 m->id, m->name, m->queue, wait_s, s->cfg.scale_sustain_s, best->family, best_count, best_count + 1,
		 best->max);
	ac_event ev = { .kind = EV_SCALED, .browser = id, .family = best->family, .num = 1, .text = text };
	emit(s, &ev);
	ac_err err;
	if (s->io.launch(s->io.ctx, best->family, id, &err)) {
		char e[300];
		snprintf(e, sizeof e, "scaling up: %.280s", err.msg);
		emit_error(s, 0, e);
	}
	return true;
}

static void check_pressure(supervisor *s)
{
	uint64_t now = uv_now(s->loop);
	int64_t now_us = ac_now_us();
	for (size_t i = 0; i < pool_model_count(s->p); i++) {
		const pool_model *m = pool_model_at(s->p, i);
		spressure *pr = row_pressure(s, m->id);
		if (!pr)
			return;
		int64_t oldest = 0;
		for (size_t k = 0; k < pool_request_count(s->p); k++) {
			const pool_request *r = pool_request_at(s->p, k);
			if (r->model == m->id && !r->inflight && (!oldest || r->queued_us < oldest))
				oldest = r->queued_us;
		}
		double wait_s = oldest ? (double)(now_us - oldest) / 1e6 : 0;
		bool pressed = m->running && ((m->queue > 0 && wait_s > s->cfg.scale_wait_s) || m->queue > s->cfg.scale_depth);
		if (!pressed) {
			pr->since_ms = 0;
			continue;
		}
		if (!pr->since_ms)
			pr->since_ms = now;
		if (now - pr->since_ms < (uint64_t)(s->cfg.scale_sustain_s * 1000) || now < s->next_scale_ms ||
		    !pool_settled(s->p))
			continue;
		if (scale_up_for(s, m, wait_s)) {
			s->next_scale_ms = now + SCALE_SPACING_MS;
			for (size_t k = 0; k < s->n_rows; k++)
				s->rows[k].since_ms = 0;
			return;
		}
	}
}

static void check_idle(supervisor *s)
{
	int64_t now_us = ac_now_us();
	for (size_t i = 0; i < pool_browser_count(s->p); i++) {
		const pool_browser *pb = pool_browser_at(s->p, i);
		const sup_limit *l = pb->managed && pb->state == BS_CONNECTED ? limit_of(s, pb->kind) : NULL;
		if (!l)
			continue;
		int count = kind_count(s, pb->kind);
		if (count <= l->min)
			continue;
		bool busy = false;
		for (size_t k = 0; k < pool_session_count(s->p) && !busy; k++) {
			const pool_session *ss = pool_session_at(s->p, k);
			busy = ss->browser == pb->id && ss->inflight > 0;
		}
		int64_t since = pb->last_work_us > pb->connected_us ? pb->last_work_us : pb->connected_us;
		double idle_s = (double)(now_us - since) / 1e6;
		if (busy || idle_s < s->cfg.idle_timeout_s)
			continue;
		sbrowser *b = sb_get(s, pb->id);
		if (!b)
			return;
		b->forgotten = true;
		b->planned = false;
		int id = pb->id;
		char kind[32], text[200];
		ac_strlcpy(kind, pb->kind, sizeof kind);
		snprintf(text, sizeof text, "idle for %.0f s (--idle-timeout %g s); %s %d -> %d, at least %d", idle_s,
			 s->cfg.idle_timeout_s, kind, count, count - 1, l->min);
		ac_event ev = { .kind = EV_SCALED, .browser = id, .family = kind, .num = -1, .text = text };
		emit(s, &ev);
		ac_err err;
		if (s->io.stop(s->io.ctx, id, &err)) {
			char e[300];
			snprintf(e, sizeof e, "scaling down: %.280s", err.msg);
			emit_error(s, id, e);
		}
		return; /* one at a time: the pool changed */
	}
}

static void on_tick(uv_timer_t *t)
{
	supervisor *s = t->data;
	uint64_t now = uv_now(s->loop);
	for (size_t i = 0; i < s->n; i++) {
		sbrowser *b = &s->b[i];
		if (!b->planned || now < b->restart_at_ms)
			continue;
		const pool_browser *pb = pool_browser_find(s->p, b->id);
		if (b->lost_wait && pb && pb->state == BS_CONNECTED) {
			b->planned = false;
			continue;
		}
		do_restart(s, b);
		break; /* the table may have moved */
	}
	if (s->cfg.n_limits) {
		check_pressure(s);
		check_idle(s);
	}
}

int sup_restart_now(supervisor *s, int browser, ac_err *err)
{
	sbrowser *b = sb_get(s, browser);
	if (!b)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	b->held = false;
	b->forgotten = false;
	b->planned = false;
	b->n_restarts = 0; /* the operator's restart starts the count again */
	b->restarting = true;
	if (s->io.restart(s->io.ctx, browser, err)) {
		b->restarting = false;
		return err->code;
	}
	return 0;
}

void sup_forget(supervisor *s, int browser)
{
	sbrowser *b = sb_get(s, browser);
	if (b) {
		b->forgotten = true;
		b->planned = false;
	}
}

int sup_new(uv_loop_t *loop, pool *p, const sup_config *cfg, const sup_io *io, supervisor **out)
{
	supervisor *s = calloc(1, sizeof *s);
	if (!s)
		return AC_ENOMEM;
	s->loop = loop;
	s->p = p;
	s->cfg = *cfg;
	s->io = *io;
	uv_timer_init(loop, &s->tick);
	s->tick.data = s;
	uv_timer_start(&s->tick, on_tick, TICK_MS, TICK_MS);
	*out = s;
	return 0;
}

void sup_close(supervisor *s)
{
	if (!s || s->closing)
		return;
	s->closing = true; /* the pool still calls its listener until the end: it only returns now */
	uv_close((uv_handle_t *)&s->tick, NULL);
}

void sup_free(supervisor *s)
{
	if (!s)
		return;
	free(s->b);
	free(s->rows);
	free(s);
}
