/* The tables of model rows, sessions in browsers and requests, and the figures measured from
 * them (their events' appliers are in apply_work.c). Like the rest of the pool: no I/O, no
 * decisions, only state. */
#include "pool_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const ss_names[] = { "loading", "ready", "failed", "retired" };

const char *session_state_name(session_state s) { return (unsigned)s <= SS_RETIRED ? ss_names[s] : "?"; }

size_t pool_model_count(const pool *p) { return p->n_models; }
const pool_model *pool_model_at(const pool *p, size_t i) { return i < p->n_models ? &p->models[i] : NULL; }
size_t pool_session_count(const pool *p) { return p->n_sessions; }
const pool_session *pool_session_at(const pool *p, size_t i) { return i < p->n_sessions ? &p->sessions[i] : NULL; }
size_t pool_request_count(const pool *p) { return p->n_requests; }
const pool_request *pool_request_at(const pool *p, size_t i) { return i < p->n_requests ? &p->requests[i] : NULL; }

int pool_row_index(const pool *p, int id)
{
	for (size_t i = 0; i < p->n_models; i++)
		if (p->models[i].id == id)
			return (int)i;
	return -1;
}

const pool_model *pool_model_find(const pool *p, int id)
{
	int i = pool_row_index(p, id);
	return i < 0 ? NULL : &p->models[i];
}

pool_session *pool_session_get(pool *p, int browser, int session)
{
	for (size_t k = 0, n = p->n_sessions; k < n; k++) {
		size_t i = (p->session_hint + k) % n; /* from where the last lookup ended (pool_internal.h) */
		if (p->sessions[i].browser == browser && p->sessions[i].session == session) {
			p->session_hint = i + 1;
			return &p->sessions[i];
		}
	}
	return NULL;
}

const pool_session *pool_session_find(const pool *p, int browser, int session)
{
	return pool_session_get((pool *)p, browser, session);
}

pool_request *pool_request_get(pool *p, int64_t id)
{
	for (size_t i = 0; i < p->n_requests; i++)
		if (p->requests[i].id == id)
			return &p->requests[i];
	return NULL;
}

const pool_request *pool_request_find(const pool *p, int64_t id)
{
	return pool_request_get((pool *)p, id);
}

const pool_request *pool_next_queued(const pool *p, int model)
{
	const pool_request *best = NULL;
	for (size_t i = 0; i < p->n_requests; i++) {
		const pool_request *r = &p->requests[i];
		if (r->model != model || r->inflight || r->stage)
			continue;
		if (!best || (r->front && !best->front) || (r->front == best->front && r->id < best->id))
			best = r;
	}
	return best;
}

/* The k-th smallest of a[0..n) (quickselect: the value a full sort would put at k, in linear
 * time; a[] is reordered). Replaying a recording applies thousands of completions per seek. */
static float select_k(float *a, ptrdiff_t n, ptrdiff_t k)
{
	ptrdiff_t lo = 0, hi = n - 1;
	while (lo < hi) {
		float pivot = a[lo + (hi - lo) / 2];
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				float t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

static double rate(const row_stats *st, int64_t now_us)
{
	const int64_t window = 5000000;
	uint64_t n = st->n_done < STATS_DONE_MAX ? st->n_done : STATS_DONE_MAX;
	int64_t oldest = now_us;
	uint64_t in = 0;
	for (uint64_t k = 0; k < n; k++) {
		int64_t t = st->done_at[(st->n_done - 1 - k) % STATS_DONE_MAX];
		if (now_us - t > window)
			break;
		in++;
		oldest = t;
	}
	if (!in)
		return 0;
	/* while a workload is younger than the window, divide by the time it has run */
	double span = (double)window;
	if (n == in && now_us - oldest < window)
		span = (double)(now_us - oldest) + 1e5;
	return in / (span / 1e6);
}

double pool_model_rps(const pool *p, int model, int64_t now_us)
{
	int i = pool_row_index(p, model);
	return i < 0 ? 0 : rate(&p->stats[i], now_us);
}

void pool_update_figures(pool_model *m, row_stats *st, int64_t now_us)
{
	uint64_t n = st->n_lat < STATS_LAT_MAX ? st->n_lat : STATS_LAT_MAX;
	if (n) {
		float *tmp = malloc(n * sizeof *tmp);
		if (tmp) {
			memcpy(tmp, st->lat, n * sizeof *tmp);
			/* after a selection, what follows position k is >= it: select the next among those */
			ptrdiff_t k50 = (ptrdiff_t)(0.50 * (n - 1) + 0.5), k95 = (ptrdiff_t)(0.95 * (n - 1) + 0.5),
				  k99 = (ptrdiff_t)(0.99 * (n - 1) + 0.5);
			m->p50_ms = select_k(tmp, (ptrdiff_t)n, k50);
			m->p95_ms = select_k(tmp + k50, (ptrdiff_t)n - k50, k95 - k50);
			m->p99_ms = select_k(tmp + k95, (ptrdiff_t)n - k95, k99 - k95);
			m->lat_valid = true;
			free(tmp);
		}
	}
	if (st->n_split) {
		m->mean_ms = st->sum_e2e / st->n_split;
		m->min_ms = st->min_e2e;
		m->max_ms = st->max_e2e;
		double span = (double)(st->last_done_us - st->warm_end_us) / 1e6;
		m->measured_rps = span > 0 ? st->n_split / span : 0;
		m->queue_ms = st->sum_queue / st->n_split;
		m->wire_ms = st->sum_wire / st->n_split;
		m->page_ms = st->sum_page / st->n_split;
		m->compute_ms = st->sum_compute / st->n_split;
	}
	m->rps = rate(st, now_us);
}

void pool_request_remove(pool *p, pool_request *r)
{
	*r = p->requests[--p->n_requests];
}

void pool_browser_gone(pool *p, int browser)
{
	for (size_t i = 0; i < p->n_sessions; i++) {
		pool_session *s = &p->sessions[i];
		if (s->browser == browser && (s->state == SS_READY || s->state == SS_LOADING)) {
			s->state = SS_RETIRED;
			ac_strlcpy(s->error, "browser went away", sizeof s->error);
		}
	}
}

void pool_recount(pool *p, pool_model *m)
{
	m->queue = m->inflight = 0;
	for (size_t i = 0; i < p->n_requests; i++)
		if (p->requests[i].model == m->id) {
			if (p->requests[i].inflight)
				m->inflight++;
			else
				m->queue++;
		}
	m->n_browsers = 0;
	for (size_t i = 0; i < p->n_sessions && m->n_browsers < POOL_MODEL_BROWSERS; i++) {
		const pool_session *s = &p->sessions[i];
		if (s->model != m->id || s->reference || s->state != SS_READY)
			continue;
		int dup = 0;
		for (int k = 0; k < m->n_browsers; k++)
			dup |= m->browsers[k] == s->browser;
		if (!dup)
			m->browsers[m->n_browsers++] = s->browser;
	}
}

bool pool_model_settled(const pool *p, int model)
{
	const pool_model *m = pool_model_find(p, model);
	if (m && m->inflight)
		return false;
	for (size_t i = 0; i < p->n_sessions; i++) {
		const pool_session *s = &p->sessions[i];
		/* of a sharded row, the last shard's: the earlier shards' outputs are intermediate */
		if (s->model == model && !s->reference && s->completed && !s->verified &&
		    !(s->shard && m && s->shard < m->n_shards))
			return false;
	}
	return true;
}
