/* Applying model events: workload rows, sessions in browsers, requests, and the figures measured
 * from them. Like the rest of the pool: no I/O, no decisions, only state. */
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

static int row_index(const pool *p, int id)
{
	for (size_t i = 0; i < p->n_models; i++)
		if (p->models[i].id == id)
			return (int)i;
	return -1;
}

const pool_model *pool_model_find(const pool *p, int id)
{
	int i = row_index(p, id);
	return i < 0 ? NULL : &p->models[i];
}

static pool_session *session_find(pool *p, int browser, int session)
{
	for (size_t i = 0; i < p->n_sessions; i++)
		if (p->sessions[i].browser == browser && p->sessions[i].session == session)
			return &p->sessions[i];
	return NULL;
}

const pool_session *pool_session_find(const pool *p, int browser, int session)
{
	return session_find((pool *)p, browser, session);
}

static pool_request *request_find(pool *p, int64_t id)
{
	for (size_t i = 0; i < p->n_requests; i++)
		if (p->requests[i].id == id)
			return &p->requests[i];
	return NULL;
}

const pool_request *pool_request_find(const pool *p, int64_t id)
{
	return request_find((pool *)p, id);
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

/* Grows an array of `size`-byte elements to hold one more. */
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
	int i = row_index(p, model);
	return i < 0 ? 0 : rate(&p->stats[i], now_us);
}

static void update_figures(pool_model *m, row_stats *st, int64_t now_us)
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

/* "name type [dims]; ... -> name type [dims]" from the page's loaded reply (ORT's metadata). */
/* How many runtimes of the page hold a session (browser-js/ort-lanes.js): runs of one session
 * overlap only across them. */
static int lanes_of(const cJSON *loaded)
{
	const cJSON *l = loaded ? cJSON_GetObjectItemCaseSensitive(loaded, "lanes") : NULL;
	return cJSON_IsNumber(l) && l->valuedouble >= 1 && l->valuedouble <= 64 ? (int)l->valuedouble : 1;
}

static void describe_io(const cJSON *loaded, char *out, size_t cap)
{
	out[0] = '\0';
	const char *keys[] = { "inputs", "outputs" };
	for (int k = 0; k < 2; k++) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(loaded, keys[k]), *it;
		if (k)
			ac_strlcatf(out, cap, " -> ");
		int n = 0;
		cJSON_ArrayForEach(it, list) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
			const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
			const cJSON *dims = cJSON_GetObjectItemCaseSensitive(it, "dims"), *d;
			ac_strlcatf(out, cap, "%s%s", n++ ? "; " : "", cJSON_IsString(name) ? name->valuestring : "?");
			if (cJSON_IsString(type))
				ac_strlcatf(out, cap, " %s", type->valuestring);
			if (cJSON_IsArray(dims)) {
				ac_strlcatf(out, cap, " [");
				int i = 0;
				cJSON_ArrayForEach(d, dims) {
					if (cJSON_IsNumber(d))
						ac_strlcatf(out, cap, "%s%.0f", i++ ? "," : "", d->valuedouble);
					else if (cJSON_IsString(d))
						ac_strlcatf(out, cap, "%s%s", i++ ? "," : "", d->valuestring);
				}
				ac_strlcatf(out, cap, "]");
			}
		}
	}
}

static void request_remove(pool *p, pool_request *r)
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

static void recount(pool *p, pool_model *m)
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

int pool_apply_work(pool *p, const ac_event *ev, ac_err *err)
{
	int ri = ev->model ? row_index(p, ev->model) : -1;
	pool_model *m = ri >= 0 ? &p->models[ri] : NULL;
	row_stats *st = ri >= 0 ? &p->stats[ri] : NULL;
	if (ev->kind != EV_WORKLOAD_STARTED && ev->kind != EV_SESSION_READY && ev->kind != EV_SESSION_FAILED &&
	    ev->kind != EV_SESSION_UNLOADED && !m)
		return ac_errf(err, AC_EINVAL, "%s for unknown model row %d", ev_kind_name(ev->kind), ev->model);
	pool_session *s = NULL;
	pool_request *r = NULL;
	switch (ev->kind) {
	case EV_WORKLOAD_STARTED:
		if (m)
			return ac_errf(err, AC_EINVAL, "model row %d started twice", ev->model);
		if (ac_reserve((void **)&p->models, &p->cap_models, p->n_models + 1, sizeof *p->models))
			return ac_errf(err, AC_ENOMEM, "out of memory");
		{
			row_stats *ns = realloc(p->stats, p->cap_models * sizeof *ns);
			if (!ns)
				return ac_errf(err, AC_ENOMEM, "out of memory");
			p->stats = ns;
		}
		m = &p->models[p->n_models];
		st = &p->stats[p->n_models];
		p->n_models++;
		memset(m, 0, sizeof *m);
		memset(st, 0, sizeof *st);
		m->id = ev->model;
		ac_strlcpy(m->name, ev->name, sizeof m->name);
		ac_strlcpy(m->type, ev->text, sizeof m->type);
		ac_strlcpy(m->precision, ev->precision, sizeof m->precision);
		ac_strlcpy(m->platform, ev->platform, sizeof m->platform);
		ac_strlcpy(m->pin, ev->family ? ev->family : "auto", sizeof m->pin);
		m->concurrency = (int)ev->num;
		m->target_rps = ev->x[0];
		m->count = ev->num2;
		m->warmup = (int)ev->x[1];
		m->started_us = ev->t_us;
		m->running = true;
		return 0;
	case EV_WORKLOAD_STOPPED:
		m->running = false;
		ac_strlcpy(m->stop_reason, ev->text, sizeof m->stop_reason);
		return 0;
	case EV_PRECISION_CHANGED:
		/* the figures describe one precision: start them again (counts stay cumulative) */
		ac_strlcpy(m->precision, ev->precision, sizeof m->precision);
		st->n_lat = 0;
		st->n_split = 0;
		st->sum_queue = st->sum_wire = st->sum_page = st->sum_compute = st->sum_e2e = 0;
		st->warm_end_us = ev->t_us;
		m->lat_valid = m->err_valid = false;
		m->verify_ok = false;
		m->max_abs_err = m->max_norm_err = 0;
		memset(m->shard, 0, sizeof m->shard);
		return 0;
	case EV_SESSION_LOADING:
		if (session_find(p, ev->browser, ev->session))
			return ac_errf(err, AC_EINVAL, "session %d of browser %d loaded twice", ev->session, ev->browser);
		if (!pool_find_browser(p, ev->browser))
			return ac_errf(err, AC_EINVAL, "session for unknown browser %d", ev->browser);
		if (ac_reserve((void **)&p->sessions, &p->cap_sessions, p->n_sessions + 1, sizeof *p->sessions))
			return ac_errf(err, AC_ENOMEM, "out of memory");
		s = &p->sessions[p->n_sessions++];
		memset(s, 0, sizeof *s);
		s->browser = ev->browser;
		s->session = ev->session;
		s->model = ev->model;
		s->reference = ev->num == 1;
		s->shard = (int)ev->num2;
		ac_strlcpy(s->precision, ev->precision, sizeof s->precision);
		ac_strlcpy(s->platform, ev->platform, sizeof s->platform);
		ac_strlcpy(s->file, ev->text, sizeof s->file);
		s->state = SS_LOADING;
		s->load_ms = -1;
		s->lanes = 1;
		s->ewma_ms = -1;
		return 0;
	case EV_SESSION_READY:
	case EV_SESSION_FAILED:
	case EV_SESSION_UNLOADED:
		if (!(s = session_find(p, ev->browser, ev->session)))
			return ac_errf(err, AC_EINVAL, "%s for unknown session %d of browser %d", ev_kind_name(ev->kind),
				       ev->session, ev->browser);
		if (ev->kind == EV_SESSION_READY) {
			s->state = SS_READY;
			s->load_ms = ev->x[0];
			s->lanes = lanes_of(ev->data);
			describe_io(ev->data, s->io, sizeof s->io);
			ac_strlcpy(s->platform_used, ev->platform ? ev->platform : s->platform, sizeof s->platform_used);
		} else if (ev->kind == EV_SESSION_FAILED) {
			s->state = SS_FAILED;
			ac_strlcpy(s->error, ev->text, sizeof s->error);
		} else {
			s->state = SS_RETIRED;
		}
		if ((ri = row_index(p, s->model)) >= 0)
			recount(p, &p->models[ri]);
		return 0;
	case EV_VERIFIED:
		if (ev->x[1] < 0) { /* verification could not run: say why, claim nothing */
			if ((s = session_find(p, ev->browser, ev->session))) {
				s->verified = true;
				s->verify_ok = false;
				s->verify_abs = s->verify_err = -1;
				ac_strlcpy(s->verify_note, ev->text, sizeof s->verify_note);
			}
			m->verify_ok = false;
			return 0;
		}
		if ((s = session_find(p, ev->browser, ev->session))) {
			/* a session's page may run it in several lanes, each verified: the worst counts */
			bool first = !s->verified || s->verify_err < 0;
			if (first || ev->x[1] >= s->verify_err) {
				s->verify_abs = ev->x[0];
				s->verify_err = ev->x[1];
				s->verify_tol = ev->x[2];
				ac_strlcpy(s->verify_note, ev->text, sizeof s->verify_note);
			}
			s->verify_ok = (first ? true : s->verify_ok) && ev->num == 1;
			s->verified = true;
			s->verifications++;
		}
		if (!m->err_valid || ev->x[0] > m->max_abs_err)
			m->max_abs_err = ev->x[0];
		if (!m->err_valid || ev->x[1] > m->max_norm_err)
			m->max_norm_err = ev->x[1];
		m->verify_ok = (m->err_valid ? m->verify_ok : true) && ev->num == 1;
		m->err_valid = true;
		return 0;
	case EV_REQUEST_QUEUED:
		if (request_find(p, ev->request))
			return ac_errf(err, AC_EINVAL, "request %lld queued twice", (long long)ev->request);
		if (ac_reserve((void **)&p->requests, &p->cap_requests, p->n_requests + 1, sizeof *p->requests))
			return ac_errf(err, AC_ENOMEM, "out of memory");
		r = &p->requests[p->n_requests++];
		memset(r, 0, sizeof *r);
		r->id = ev->request;
		r->model = ev->model;
		r->queued_us = ev->t_us;
		m->submitted++;
		m->queue++;
		p->totals.submitted++;
		return 0;
	case EV_REQUEST_DISCARDED: /* the request may have ended, elsewhere, already */
		m->discarded++;
		p->totals.discarded++;
		return 0;
	default:
		break;
	}
	/* request lifecycle */
	if (!(r = request_find(p, ev->request)))
		return ac_errf(err, AC_EINVAL, "%s for unknown request %lld", ev_kind_name(ev->kind), (long long)ev->request);
	s = r->inflight ? session_find(p, r->browser, r->session) : NULL;
	switch (ev->kind) {
	case EV_REQUEST_SENT: {
		pool_session *to = session_find(p, ev->browser, ev->session);
		if (r->inflight || !to)
			return ac_errf(err, AC_EINVAL, "request %lld sent twice or to an unknown session", (long long)r->id);
		r->inflight = true;
		r->front = false;
		r->browser = ev->browser;
		r->session = ev->session;
		if (!r->stage) /* a later stage of a sharded request: its wait began with the first */
			r->sent_us = ev->t_us;
		to->inflight++;
		break;
	}
	case EV_REQUEST_DONE: {
		if (!s)
			return ac_errf(err, AC_EINVAL, "request %lld done but not in flight", (long long)r->id);
		double total = ev->x[0], compute = ev->x[1], page_queue = ev->x[2];
		/* a page that does not report its span has all of it counted as wire */
		double in_page = ev->x[3] > 0 ? ev->x[3] : compute + page_queue;
		s->inflight--;
		s->completed++;
		if (!r->stage) /* a sharded request's last stage: EV_SHARD_DONE measured the session */
			s->ewma_ms = s->ewma_ms < 0 ? total : 0.8 * s->ewma_ms + 0.2 * total;
		m->finished++;
		m->completed++;
		if (m->completed == (uint64_t)m->warmup || (m->warmup == 0 && m->completed == 1))
			st->warm_end_us = m->warmup ? ev->t_us : m->started_us;
		if (strcmp(s->platform_used, m->platform) != 0)
			m->fallback = true;
		st->done_at[st->n_done++ % STATS_DONE_MAX] = ev->t_us;
		if (m->completed > (uint64_t)m->warmup) {
			/* latency as the submitter sees it: from queued here to the result back here */
			double e2e = (double)(ev->t_us - r->queued_us) / 1000.0;
			st->lat[st->n_lat++ % STATS_LAT_MAX] = (float)e2e;
			st->sum_queue += (double)(r->sent_us - r->queued_us) / 1000.0 + page_queue;
			st->sum_wire += fmax(0, total - in_page);
			st->sum_page += fmax(0, in_page - compute - page_queue);
			st->sum_compute += compute;
			st->sum_e2e += e2e;
			st->min_e2e = st->n_split ? fmin(st->min_e2e, e2e) : e2e;
			st->max_e2e = st->n_split ? fmax(st->max_e2e, e2e) : e2e;
			st->last_done_us = ev->t_us;
			st->n_split++;
			if (m->history_len == POOL_LAT_HISTORY) {
				memmove(m->history, m->history + 1, (POOL_LAT_HISTORY - 1) * sizeof m->history[0]);
				m->history_len--;
			}
			m->history[m->history_len++] = (float)e2e;
		}
		request_remove(p, r);
		update_figures(m, st, ev->t_us);
		p->totals.done++;
		break;
	}
	case EV_REQUEST_FAILED:
		if (s) {
			s->inflight--;
			s->failed++;
		}
		m->finished++;
		m->errors++;
		ac_strlcpy(m->last_error, ev->text, sizeof m->last_error);
		request_remove(p, r);
		p->totals.failed++;
		if (ev->num == 1) { /* ended by --request-timeout */
			m->timed_out++;
			p->totals.timed_out++;
		}
		break;
	case EV_SHARD_DONE: {
		int k = (int)ev->num, n = (int)ev->num2;
		if (!s || s->browser != ev->browser || s->session != ev->session || k < 1 || k > n || n > POOL_MAX_SHARDS)
			return ac_errf(err, AC_EINVAL, "shard %d/%d of request %lld is not in flight on session %d of browser %d",
				       k, n, (long long)r->id, ev->session, ev->browser);
		m->n_shards = n;
		if (m->completed >= (uint64_t)m->warmup) {
			double in_page = ev->x[1] > 0 ? ev->x[1] : ev->x[0];
			__typeof__(m->shard[0]) *f = &m->shard[k - 1];
			f->n++;
			f->compute_ms += (ev->x[0] - f->compute_ms) / (double)f->n;
			f->transfer_ms += (fmax(0, ev->x[2] - in_page) - f->transfer_ms) / (double)f->n;
			f->total_ms += (ev->x[2] - f->total_ms) / (double)f->n;
			f->bytes += (ev->x[3] - f->bytes) / (double)f->n;
		}
		m->shard[k - 1].browser = ev->browser;
		/* the session's latency is its own stage's round trip */
		s->ewma_ms = s->ewma_ms < 0 ? ev->x[2] : 0.8 * s->ewma_ms + 0.2 * ev->x[2];
		if (k < n) { /* the stage is over: the request leaves this session for the next stage */
			s->inflight--;
			s->completed++;
			r->inflight = false;
			r->stage = k;
			r->browser = r->session = 0;
		}
		break;
	}
	case EV_REQUEST_REQUEUED:
		r->stage = 0; /* a sharded request starts again from its first shard */
		m->requeued++;
		p->totals.requeued++;
		if (s)
			s->inflight--;
		r->inflight = false;
		r->front = true;
		r->browser = r->session = 0;
		break;
	default:
		break;
	}
	recount(p, m);
	return 0;
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
