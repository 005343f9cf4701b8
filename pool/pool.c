/* The pool's dispatch: pool_apply() looks the event's kind up in the table (event.h), applies it,
 * logs it and hands it to every listener. The appliers are in apply_*.c. */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
}

void pool_free(pool *p)
{
	if (!p)
		return;
	pool_free_tables(p);
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

int pool_apply(pool *p, const ac_event *ev, ac_err *err)
{
	int rc = apply_one(p, ev, err);
	if (rc)
		return rc;
	notify(p, ev);
	return 0;
}
