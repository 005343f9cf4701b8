/* The pool's dispatch: pool_apply() looks the event's kind up in the table (event.h), applies it,
 * logs it and hands it to every listener; events emitted while listeners run wait in a queue and
 * follow in order (run to completion, pool.h). The appliers are in apply_*.c. */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An event emitted while listeners ran, with copies of what it borrowed. */
typedef struct pool_queued {
	struct pool_queued *next;
	ac_event ev;
	char *str[5];
	cJSON *data;
} pool_queued;

typedef struct pool_after {
	struct pool_after *next;
	void (*fn)(void *ctx);
	void *ctx;
} pool_after_t;

static const struct {
	int (*apply)(pool *p, const ac_event *ev, ac_err *err);
	bool (*line)(const pool *p, const ac_event *ev, char *text, size_t cap);
} kinds[EV__COUNT] = {
#define POOL_KIND_ROW_(e, n, name, ap, pl) [e] = { ap, pl },
	EV_KINDS(POOL_KIND_ROW_)
#undef POOL_KIND_ROW_
};

int pool_new(pool **out)
{
	pool *p = calloc(1, sizeof *p);
	if (!p)
		return AC_ENOMEM;
	*out = p;
	return 0;
}

void pool_free_tables(pool *p)
{
	free(p->browsers);
	free(p->models);
	free(p->stats);
	free(p->sessions);
	free(p->requests);
	free(p->breakers);
	ix_free(&p->browser_ix);
	ix_free(&p->session_ix);
	ix_free(&p->req_ix);
	pool_queue_free(p);
}

static void queued_free(pool_queued *q)
{
	for (int i = 0; i < 5; i++)
		free(q->str[i]);
	cJSON_Delete(q->data);
	free(q);
}

void pool_free(pool *p)
{
	if (!p)
		return;
	pool_free_tables(p);
	while (p->q_head) {
		pool_queued *q = p->q_head;
		p->q_head = q->next;
		queued_free(q);
	}
	while (p->a_head) {
		pool_after_t *a = p->a_head;
		p->a_head = a->next;
		free(a);
	}
	free(p);
}

int pool_add_listener(pool *p, pool_listener fn, void *ctx)
{
	if (p->n_listeners == POOL_MAX_LISTENERS)
		return AC_ENOMEM;
	p->listeners[p->n_listeners] = fn;
	p->listener_ctx[p->n_listeners] = ctx;
	p->n_listeners++;
	return 0;
}

int pool_next_id(pool *p)
{
	return ++p->last_id;
}

const char *pool_bridge_url(const pool *p) { return p->bridge_url; }
int pool_bridge_port(const pool *p) { return p->bridge_port; }
int64_t pool_started_us(const pool *p) { return p->started_us; }
uint64_t pool_event_count(const pool *p) { return p->events; }
uint64_t pool_error_count(const pool *p) { return p->errors; }
size_t pool_log_count(const pool *p) { return p->log_len; }

void pool_request_totals_get(const pool *p, pool_request_totals *out)
{
	*out = p->totals;
	out->pending = p->n_requests;
}

const pool_log_entry *pool_log_at(const pool *p, size_t i)
{
	if (i >= p->log_len)
		return NULL;
	return &p->log[(p->log_head + POOL_LOG_MAX - p->log_len + i) % POOL_LOG_MAX];
}

static void log_line(pool *p, const ac_event *ev, const char *text)
{
	pool_log_entry *e = &p->log[p->log_head];
	e->t_us = ev->t_us;
	e->kind = ev->kind;
	e->browser = ev->browser;
	ac_strlcpy(e->text, text, sizeof e->text);
	p->log_head = (p->log_head + 1) % POOL_LOG_MAX;
	if (p->log_len < POOL_LOG_MAX)
		p->log_len++;
}

/* The state change, the counters and the log line of one event; its listeners come after. */
static int apply_one(pool *p, const ac_event *ev, ac_err *err)
{
	if (!ev_kind_valid((int)ev->kind) || !kinds[ev->kind].apply)
		return ac_errf(err, AC_EINVAL, "unknown event kind %d", (int)ev->kind);
	int rc = kinds[ev->kind].apply(p, ev, err);
	if (rc)
		return rc;
	p->events++;
	if (ev->kind == EV_ERROR)
		p->errors++;
	char text[200];
	if (kinds[ev->kind].line(p, ev, text, sizeof text))
		log_line(p, ev, text);
	return 0;
}

static void notify(pool *p, const ac_event *ev)
{
	for (int i = 0; i < p->n_listeners; i++)
		p->listeners[i](p->listener_ctx[i], ev);
}

/* A copy of ev that owns its strings and data: the emitter's buffers are gone when it is applied. */
static int enqueue(pool *p, const ac_event *ev, ac_err *err)
{
	pool_queued *q = calloc(1, sizeof *q);
	if (!q)
		return ac_errf(err, AC_ENOMEM, "out of memory queueing %s", ev_kind_name(ev->kind));
	q->ev = *ev;
	const char **field[5] = { &q->ev.family, &q->ev.text, &q->ev.name, &q->ev.precision, &q->ev.platform };
	bool oom = false;
	for (int i = 0; i < 5; i++)
		if (*field[i]) {
			oom |= !(q->str[i] = strdup(*field[i]));
			*field[i] = q->str[i];
		}
	if (ev->data)
		oom |= !(q->data = cJSON_Duplicate(ev->data, 1));
	q->ev.data = q->data;
	if (oom) {
		queued_free(q);
		return ac_errf(err, AC_ENOMEM, "out of memory queueing %s", ev_kind_name(ev->kind));
	}
	if (p->q_tail)
		p->q_tail->next = q;
	else
		p->q_head = q;
	p->q_tail = q;
	return 0;
}

/* The queued events, in order, each to every listener before the next is applied (listeners may
 * queue more). One that no longer fits the state becomes an error event with the reason: its
 * emitter has moved on and cannot be told. */
static void drain(pool *p)
{
	pool_queued *q;
	while ((q = p->q_head)) {
		if (!(p->q_head = q->next))
			p->q_tail = NULL;
		ac_err err = { 0 };
		if (apply_one(p, &q->ev, &err) == 0) {
			notify(p, &q->ev);
		} else {
			ac_event e = { .kind = EV_ERROR, .t_us = q->ev.t_us, .browser = q->ev.browser, .text = err.msg };
			ac_err ignored;
			if (apply_one(p, &e, &ignored) == 0)
				notify(p, &e);
		}
		queued_free(q);
	}
}

/* Work put off by pool_after(), in order, with the queue empty: what it emits applies at once. */
static void run_after(pool *p)
{
	pool_after_t *a;
	while (!p->dispatching && (a = p->a_head)) {
		if (!(p->a_head = a->next))
			p->a_tail = NULL;
		void (*fn)(void *) = a->fn;
		void *ctx = a->ctx;
		free(a);
		fn(ctx);
	}
}

int pool_apply(pool *p, const ac_event *ev, ac_err *err)
{
	if (p->dispatching)
		return enqueue(p, ev, err);
	int rc = apply_one(p, ev, err);
	if (rc)
		return rc;
	p->dispatching = true;
	notify(p, ev);
	drain(p);
	p->dispatching = false;
	run_after(p);
	return 0;
}

void pool_after(pool *p, void (*fn)(void *ctx), void *ctx)
{
	pool_after_t *a = p->dispatching ? malloc(sizeof *a) : NULL;
	if (!a) { /* nothing is being dispatched (or no memory to wait): now */
		fn(ctx);
		return;
	}
	*a = (pool_after_t){ .fn = fn, .ctx = ctx };
	if (p->a_tail)
		p->a_tail->next = a;
	else
		p->a_head = a;
	p->a_tail = a;
}
