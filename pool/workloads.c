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

static uint64_t session_key(int browser, int session)
{
	return (uint64_t)(uint32_t)browser << 32 | (uint32_t)session;
}

pool_session *pool_session_get(pool *p, int browser, int session)
{
	/* the index (pool_internal.h) takes the rows added since; pa_session_loading keeps them unique */
	for (; p->session_ixd < p->n_sessions; p->session_ixd++) {
		const pool_session *s = &p->sessions[p->session_ixd];
		if (ix_put(&p->session_ix, session_key(s->browser, s->session), p->session_ixd)) {
			p->session_ixd = 0; /* out of memory: the scan below, and a rebuild next time */
			for (size_t i = 0; i < p->n_sessions; i++)
				if (p->sessions[i].browser == browser && p->sessions[i].session == session)
					return &p->sessions[i];
			return NULL;
		}
	}
	long i = ix_get(&p->session_ix, session_key(browser, session));
	return i < 0 ? NULL : &p->sessions[i];
}

const pool_session *pool_session_find(const pool *p, int browser, int session)
{
	return pool_session_get((pool *)p, browser, session);
}

/* Rebuilds the request index when it is not in step with the table (first use, pool_load, out
 * of memory); false if it cannot be. */
static bool req_ix_sync(pool *p)
{
	if (p->req_ix_ok)
		return true;
	ix_clear(&p->req_ix);
	for (size_t i = 0; i < p->n_requests; i++)
		if (ix_put(&p->req_ix, (uint64_t)p->requests[i].id, i))
			return false;
	return p->req_ix_ok = true;
}

pool_request *pool_request_get(pool *p, int64_t id)
{
	if (req_ix_sync(p)) {
		long i = ix_get(&p->req_ix, (uint64_t)id);
		return i < 0 ? NULL : &p->requests[i];
	}
	for (size_t i = 0; i < p->n_requests; i++)
		if (p->requests[i].id == id)
			return &p->requests[i];
	return NULL;
}

const pool_request *pool_request_find(const pool *p, int64_t id)
{
	return pool_request_get((pool *)p, id);
}

pool_request *pool_request_add(pool *p, int64_t id)
{
	if (ac_reserve((void **)&p->requests, &p->cap_requests, p->n_requests + 1, sizeof *p->requests))
		return NULL;
	size_t i = p->n_requests++;
	pool_request *r = &p->requests[i];
	memset(r, 0, sizeof *r);
	r->id = id;
	if (p->req_ix_ok && ix_put(&p->req_ix, (uint64_t)id, i))
		p->req_ix_ok = false;
	return r;
}

typedef struct {
	int64_t id;
	bool front;
} qent;

struct pool_qheap {
	qent *a;
	size_t n, cap;
};

/* before: front first, then the lower id (the order pool_next_queued answers in) */
static bool q_before(qent x, qent y)
{
	return x.front != y.front ? x.front : x.id < y.id;
}

static bool q_push(pool *p, int row_index, qent e)
{
	if (row_index < 0)
		return false;
	if ((size_t)row_index >= p->n_qh) {
		struct pool_qheap *nq = realloc(p->qh, p->n_models * sizeof *nq); /* row_index < n_models */
		if (!nq)
			return false;
		memset(nq + p->n_qh, 0, (p->n_models - p->n_qh) * sizeof *nq);
		p->qh = nq;
		p->n_qh = p->n_models;
	}
	struct pool_qheap *h = &p->qh[row_index];
	if (ac_reserve((void **)&h->a, &h->cap, h->n + 1, sizeof *h->a))
		return false;
	size_t i = h->n++;
	for (; i && q_before(e, h->a[(i - 1) / 2]); i = (i - 1) / 2)
		h->a[i] = h->a[(i - 1) / 2];
	h->a[i] = e;
	return true;
}

static void q_pop(struct pool_qheap *h)
{
	qent e = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && q_before(h->a[c + 1], h->a[c]))
			c++;
		if (!q_before(h->a[c], e))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = e;
}

static bool q_eligible(const pool_request *r)
{
	return !r->inflight && !r->stage;
}

void pool_queue_note(pool *p, const pool_request *r)
{
	if (p->qh_ok && !q_push(p, pool_row_index(p, r->model), (qent){ r->id, r->front }))
		p->qh_ok = false;
}

void pool_queue_free(pool *p)
{
	for (size_t i = 0; i < p->n_qh; i++)
		free(p->qh[i].a);
	free(p->qh);
	p->qh = NULL;
	p->n_qh = 0;
	p->qh_ok = false;
}

static bool q_rebuild(pool *p)
{
	for (size_t i = 0; i < p->n_qh; i++)
		p->qh[i].n = 0;
	for (size_t i = 0; i < p->n_requests; i++) {
		const pool_request *r = &p->requests[i];
		if (q_eligible(r) && !q_push(p, pool_row_index(p, r->model), (qent){ r->id, r->front }))
			return false;
	}
	return p->qh_ok = true;
}

static const pool_request *next_queued_scan(const pool *p, int model)
{
	const pool_request *best = NULL;
	for (size_t i = 0; i < p->n_requests; i++) {
		const pool_request *r = &p->requests[i];
		if (r->model != model || !q_eligible(r))
			continue;
		if (!best || (r->front && !best->front) || (r->front == best->front && r->id < best->id))
			best = r;
	}
	return best;
}

/* The heap's top, once the entries that no longer describe a queued request (sent, ended, put
 * back in front since) are dropped; the scan when the heaps cannot be had (out of memory). */
const pool_request *pool_next_queued(const pool *cp, int model)
{
	pool *p = (pool *)cp; /* the heaps are a cache of the request table */
	if (!p->qh_ok && !q_rebuild(p))
		return next_queued_scan(p, model);
	int ri = pool_row_index(p, model);
	if (ri < 0 || (size_t)ri >= p->n_qh)
		return NULL;
	struct pool_qheap *h = &p->qh[ri];
	while (h->n) {
		const pool_request *r = pool_request_get(p, h->a[0].id);
		if (r && r->model == model && q_eligible(r) && r->front == h->a[0].front)
			return r;
		q_pop(h);
	}
	return NULL;
}

/* The first position in a[0..n) (ascending) whose value is >= v. */
static size_t lower_bound(const float *a, size_t n, float v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The ring keeps the last STATS_LAT_MAX samples; lat_sorted the same ones in order, so that a
 * percentile is one read instead of a selection over 4,096 samples per completion. Once the ring
 * is full the oldest sample leaves as the new one comes: only the values between the two move. */
void pool_lat_add(row_stats *st, float ms)
{
	float *a = st->lat_sorted;
	size_t n = st->n_lat < STATS_LAT_MAX ? (size_t)st->n_lat : STATS_LAT_MAX;
	size_t j = lower_bound(a, n, ms);
	if (n < STATS_LAT_MAX) {
		memmove(a + j + 1, a + j, (n - j) * sizeof *a);
		a[j] = ms;
	} else {
		size_t i = lower_bound(a, n, st->lat[st->n_lat % STATS_LAT_MAX]); /* the oldest's place */
		if (j > i) { /* the new value is larger: close the gap upwards */
			memmove(a + i, a + i + 1, (j - 1 - i) * sizeof *a);
			a[j - 1] = ms;
		} else {
			memmove(a + j + 1, a + j, (i - j) * sizeof *a);
			a[j] = ms;
		}
	}
	st->lat[st->n_lat++ % STATS_LAT_MAX] = ms;
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
	if (n) { /* the value a full sort would put at each rank */
		m->p50_ms = st->lat_sorted[(size_t)(0.50 * (n - 1) + 0.5)];
		m->p95_ms = st->lat_sorted[(size_t)(0.95 * (n - 1) + 0.5)];
		m->p99_ms = st->lat_sorted[(size_t)(0.99 * (n - 1) + 0.5)];
		m->lat_valid = true;
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
	size_t i = (size_t)(r - p->requests);
	if (p->req_ix_ok)
		ix_del(&p->req_ix, (uint64_t)r->id);
	*r = p->requests[--p->n_requests];
	if (p->req_ix_ok && i < p->n_requests && ix_put(&p->req_ix, (uint64_t)r->id, i))
		p->req_ix_ok = false;
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
