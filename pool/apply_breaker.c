/* Circuit breakers per (browser, model row): their table, EV_BREAKER's applier and its log line.
 * The scheduler decides; the pool only keeps what it said. */
#include "pool_internal.h"

#include <stdio.h>
#include <string.h>

const char *breaker_state_name(breaker_state s)
{
	switch (s) {
	case BRK_CLOSED: return "closed";
	case BRK_OPEN: return "open";
	case BRK_HALF_OPEN: return "half-open";
	}
	return "?";
}

int breaker_state_from_name(const char *name)
{
	for (int i = BRK_CLOSED; name && i <= BRK_HALF_OPEN; i++)
		if (!strcmp(name, breaker_state_name((breaker_state)i)))
			return i;
	return AC_EINVAL;
}

size_t pool_breaker_count(const pool *p) { return p->n_breakers; }
const pool_breaker *pool_breaker_at(const pool *p, size_t i) { return i < p->n_breakers ? &p->breakers[i] : NULL; }

const pool_breaker *pool_breaker_find(const pool *p, int browser, int model)
{
	for (size_t i = 0; i < p->n_breakers; i++)
		if (p->breakers[i].browser == browser && p->breakers[i].model == model)
			return &p->breakers[i];
	return NULL;
}

/* The row's count of breakers not closed, and its note on the latest change (k's). */
static void note_on_row(pool *p, const pool_breaker *k)
{
	for (size_t i = 0; i < p->n_models; i++) {
		pool_model *m = &p->models[i];
		if (m->id != k->model)
			continue;
		m->breakers_open = 0;
		for (size_t j = 0; j < p->n_breakers; j++)
			m->breakers_open += p->breakers[j].model == m->id && p->breakers[j].state != BRK_CLOSED;
		snprintf(m->breaker_note, sizeof m->breaker_note, "browser %d %s (%d consecutive errors)%s%.120s", k->browser,
			 breaker_state_name(k->state), k->failures, k->reason[0] ? ": " : "", k->reason);
	}
}

int pa_breaker(pool *p, const ac_event *ev, ac_err *err)
{
	int st = breaker_state_from_name(ev->name);
	if (st < 0 || !ev->browser || !ev->model)
		return ac_errf(err, AC_EINVAL, "breaker event needs a browser, a model and a state (closed, open, half-open)");
	pool_breaker *k = (pool_breaker *)pool_breaker_find(p, ev->browser, ev->model);
	if (!k) {
		if (ac_reserve((void **)&p->breakers, &p->cap_breakers, p->n_breakers + 1, sizeof *p->breakers))
			return ac_errf(err, AC_ENOMEM, "out of memory");
		k = &p->breakers[p->n_breakers++];
		memset(k, 0, sizeof *k);
		k->browser = ev->browser;
		k->model = ev->model;
	}
	k->state = (breaker_state)st;
	k->failures = (int)ev->num;
	k->probe_at_us = st == BRK_OPEN ? ev->t_us + (int64_t)(ev->x[0] * 1e6) : 0;
	k->changed_us = ev->t_us;
	ac_strlcpy(k->reason, ev->text ? ev->text : "", sizeof k->reason);
	note_on_row(p, k);
	return 0;
}

bool pl_breaker(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	const char *kind = pool_kind_of(p, ev->browser, "browser"), *why = ev->text ? ev->text : "";
	if (ev->name && !strcmp(ev->name, "open"))
		snprintf(text, cap, "%s: model %d breaker open after %lld errors, probe in %.0f s: %s", kind, ev->model,
			 (long long)ev->num, ev->x[0], why);
	else
		snprintf(text, cap, "%s: model %d breaker %s%s%s", kind, ev->model, ev->name ? ev->name : "?",
			 ev->text && ev->text[0] ? ": " : "", why);
	return true;
}
