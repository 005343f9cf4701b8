/* Applying model events: workload rows, sessions in browsers, requests and their figures (the
 * tables are in workloads.c), and the event log lines of these kinds. Like the rest of the pool:
 * no I/O, no decisions, only state. A little over 600 lines: the session appliers and the two
 * readers of the page's loaded reply (io, WebNN placement) they use belong together. */
#include "pool_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many runtimes of the page hold a session (browser-js/ort-lanes.js): runs of one session
 * overlap only across them. */
static int lanes_of(const cJSON *loaded)
{
	const cJSON *l = loaded ? cJSON_GetObjectItemCaseSensitive(loaded, "lanes") : NULL;
	return cJSON_IsNumber(l) && l->valuedouble >= 1 && l->valuedouble <= 64 ? (int)l->valuedouble : 1;
}

/* "name type [dims]; ... -> name type [dims]" from the page's loaded reply (ORT's metadata). */
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

/* The loaded reply's "placement" (browser-js/ort-placement.js) as one line: how many nodes the
 * backend took and the ops ORT ran on its CPU (wasm) kernels instead, or that ORT did not say. */
static void describe_placement(const cJSON *loaded, char *out, size_t cap)
{
	out[0] = '\0';
	const cJSON *pl = loaded ? cJSON_GetObjectItemCaseSensitive(loaded, "placement") : NULL;
	if (!cJSON_IsObject(pl))
		return;
	const cJSON *known = cJSON_GetObjectItemCaseSensitive(pl, "known");
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(pl, "note");
	if (!cJSON_IsTrue(known)) {
		ac_strlcpy(out, cJSON_IsString(note) ? note->valuestring : "onnxruntime-web did not say where the nodes ran", cap);
		return;
	}
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(pl, "nodes");
	const cJSON *on_ep = cJSON_GetObjectItemCaseSensitive(pl, "nodes_on_ep");
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(pl, "partitions");
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(pl, "fallback_ops"), *op;
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(loaded, "device_type");
	if (cJSON_IsNumber(nodes) && cJSON_IsNumber(on_ep))
		snprintf(out, cap, "WebNN took %.0f of %.0f nodes", on_ep->valuedouble, nodes->valuedouble);
	else
		ac_strlcpy(out, "WebNN took the graph", cap);
	if (cJSON_IsNumber(parts))
		ac_strlcatf(out, cap, " (%.0f partition%s)", parts->valuedouble, parts->valuedouble == 1 ? "" : "s");
	const cJSON *nfb = cJSON_GetObjectItemCaseSensitive(pl, "fallback_nodes");
	if (cJSON_IsString(dev))
		ac_strlcatf(out, cap, "; deviceType %s", dev->valuestring);
	int n = 0;
	char list[400] = "";
	cJSON_ArrayForEach(op, ops)
		if (cJSON_IsString(op))
			ac_strlcatf(list, sizeof list, "%s%s", n++ ? ", " : "", op->valuestring);
	if (!n) {
		ac_strlcatf(out, cap, "; no op on ORT's CPU fallback");
		return;
	}
	if (strlen(list) == sizeof list - 1) /* cut: say so rather than end mid-name */
		memcpy(list + sizeof list - 5, " ...", 4);
	ac_strlcatf(out, cap, "; on ORT's CPU (wasm) fallback");
	if (cJSON_IsNumber(nfb))
		ac_strlcatf(out, cap, ", %.0f nodes", nfb->valuedouble);
	ac_strlcatf(out, cap, ": %s", list);
}

/* The row ev->model names, with its figures; AC_EINVAL with *err set when there is none. */
static int need_row(pool *p, const ac_event *ev, pool_model **m, row_stats **st, ac_err *err)
{
	int ri = ev->model ? pool_row_index(p, ev->model) : -1;
	if (ri < 0)
		return ac_errf(err, AC_EINVAL, "%s for unknown model row %d", ev_kind_name(ev->kind), ev->model);
	*m = &p->models[ri];
	if (st)
		*st = &p->stats[ri];
	return 0;
}

/* A request's lifecycle event: its row, the request, and the session it is in flight on (NULL
 * when queued or between stages). */
static int need_request(pool *p, const ac_event *ev, pool_model **m, row_stats **st, pool_request **r,
			pool_session **s, ac_err *err)
{
	int rc = need_row(p, ev, m, st, err);
	if (rc)
		return rc;
	if (!(*r = pool_request_get(p, ev->request)))
		return ac_errf(err, AC_EINVAL, "%s for unknown request %lld", ev_kind_name(ev->kind), (long long)ev->request);
	*s = (*r)->inflight ? pool_session_get(p, (*r)->browser, (*r)->session) : NULL;
	return 0;
}

/* The appliers of a request's lifecycle, each given what need_request() found. */
typedef int (*request_applier)(pool *p, const ac_event *ev, pool_model *m, row_stats *st, pool_request *r,
			       pool_session *s, ac_err *err);

static int with_request(pool *p, const ac_event *ev, request_applier fn, ac_err *err)
{
	pool_model *m = NULL;
	row_stats *st = NULL;
	pool_request *r = NULL;
	pool_session *s = NULL;
	int rc = need_request(p, ev, &m, &st, &r, &s, err);
	return rc ? rc : fn(p, ev, m, st, r, s, err);
}

/* A request was sent to a browser or ended there: its last work. */
static void worked(pool *p, const ac_event *ev)
{
	pool_browser *b = ev->browser ? pool_find_browser(p, ev->browser) : NULL;
	if (b)
		b->last_work_us = ev->t_us;
}

/* ---------------------------------------------------------------- workload rows */

int pa_workload_started(pool *p, const ac_event *ev, ac_err *err)
{
	if (ev->model && pool_row_index(p, ev->model) >= 0)
		return ac_errf(err, AC_EINVAL, "model row %d started twice", ev->model);
	if (ac_reserve((void **)&p->models, &p->cap_models, p->n_models + 1, sizeof *p->models))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	row_stats *ns = realloc(p->stats, p->cap_models * sizeof *ns);
	if (!ns)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	p->stats = ns;
	pool_model *m = &p->models[p->n_models];
	row_stats *st = &p->stats[p->n_models];
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
	/* in range before the conversion: a recorded event's numbers are untrusted input (found by
	 * tests/fuzz/fuzz-journal.c) */
	m->warmup = ev->x[1] > 0 && ev->x[1] < 1e9 ? (int)ev->x[1] : 0;
	m->started_us = ev->t_us;
	m->running = true;
	return 0;
}

int pa_workload_stopped(pool *p, const ac_event *ev, ac_err *err)
{
	pool_model *m = NULL;
	int rc = need_row(p, ev, &m, NULL, err);
	if (rc)
		return rc;
	m->running = false;
	ac_strlcpy(m->stop_reason, ev->text, sizeof m->stop_reason);
	return 0;
}

int pa_precision_changed(pool *p, const ac_event *ev, ac_err *err)
{
	pool_model *m = NULL;
	row_stats *st = NULL;
	int rc = need_row(p, ev, &m, &st, err);
	if (rc)
		return rc;
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
}

/* ---------------------------------------------------------------- sessions */

int pa_session_loading(pool *p, const ac_event *ev, ac_err *err)
{
	pool_model *m = NULL;
	int rc = need_row(p, ev, &m, NULL, err);
	if (rc)
		return rc;
	if (pool_session_get(p, ev->browser, ev->session))
		return ac_errf(err, AC_EINVAL, "session %d of browser %d loaded twice", ev->session, ev->browser);
	if (!pool_find_browser(p, ev->browser))
		return ac_errf(err, AC_EINVAL, "session for unknown browser %d", ev->browser);
	if (ac_reserve((void **)&p->sessions, &p->cap_sessions, p->n_sessions + 1, sizeof *p->sessions))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	pool_session *s = &p->sessions[p->n_sessions++];
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
}

/* The session a session event names (its row need not exist any more). */
static int need_session(pool *p, const ac_event *ev, pool_session **s, ac_err *err)
{
	if (!(*s = pool_session_get(p, ev->browser, ev->session)))
		return ac_errf(err, AC_EINVAL, "%s for unknown session %d of browser %d", ev_kind_name(ev->kind),
			       ev->session, ev->browser);
	return 0;
}

/* The session's state changed: its row's browsers change with it. */
static void session_changed(pool *p, const pool_session *s)
{
	int ri = pool_row_index(p, s->model);
	if (ri >= 0)
		pool_recount(p, &p->models[ri]);
}

int pa_session_ready(pool *p, const ac_event *ev, ac_err *err)
{
	pool_session *s = NULL;
	int rc = need_session(p, ev, &s, err);
	if (rc)
		return rc;
	s->state = SS_READY;
	s->load_ms = ev->x[0];
	s->lanes = lanes_of(ev->data);
	describe_io(ev->data, s->io, sizeof s->io);
	describe_placement(ev->data, s->placement, sizeof s->placement);
	ac_strlcpy(s->platform_used, ev->platform ? ev->platform : s->platform, sizeof s->platform_used);
	session_changed(p, s);
	return 0;
}

int pa_session_failed(pool *p, const ac_event *ev, ac_err *err)
{
	pool_session *s = NULL;
	int rc = need_session(p, ev, &s, err);
	if (rc)
		return rc;
	s->state = SS_FAILED;
	ac_strlcpy(s->error, ev->text, sizeof s->error);
	session_changed(p, s);
	return 0;
}

int pa_session_unloaded(pool *p, const ac_event *ev, ac_err *err)
{
	pool_session *s = NULL;
	int rc = need_session(p, ev, &s, err);
	if (rc)
		return rc;
	s->state = SS_RETIRED;
	session_changed(p, s);
	return 0;
}

/* Verification could not run on a session (x[1] < 0): say why, claim nothing. */
static void not_verified(pool *p, pool_model *m, const ac_event *ev)
{
	pool_session *s = pool_session_get(p, ev->browser, ev->session);
	if (s) {
		s->verified = true;
		s->verify_ok = false;
		s->verify_abs = s->verify_err = -1;
		s->verify_failures++;
		ac_strlcpy(s->verify_note, ev->text, sizeof s->verify_note);
	}
	m->verify_ok = false;
}

int pa_verified(pool *p, const ac_event *ev, ac_err *err)
{
	pool_model *m = NULL;
	int rc = need_row(p, ev, &m, NULL, err);
	if (rc)
		return rc;
	if (ev->x[1] < 0) {
		not_verified(p, m, ev);
		return 0;
	}
	pool_session *s = pool_session_get(p, ev->browser, ev->session);
	if (s) {
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
		s->verify_mismatches += ev->num != 1;
	}
	if (!m->err_valid || ev->x[0] > m->max_abs_err)
		m->max_abs_err = ev->x[0];
	if (!m->err_valid || ev->x[1] > m->max_norm_err)
		m->max_norm_err = ev->x[1];
	m->verify_ok = (m->err_valid ? m->verify_ok : true) && ev->num == 1;
	m->err_valid = true;
	return 0;
}

/* ---------------------------------------------------------------- requests */

int pa_request_queued(pool *p, const ac_event *ev, ac_err *err)
{
	pool_model *m = NULL;
	int rc = need_row(p, ev, &m, NULL, err);
	if (rc)
		return rc;
	if (pool_request_get(p, ev->request))
		return ac_errf(err, AC_EINVAL, "request %lld queued twice", (long long)ev->request);
	pool_request *r = pool_request_add(p, ev->request);
	if (!r)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	r->model = ev->model;
	r->queued_us = ev->t_us;
	pool_queue_note(p, r);
	m->submitted++;
	m->queue++;
	p->totals.submitted++;
	return 0;
}

int pa_request_discarded(pool *p, const ac_event *ev, ac_err *err)
{
	pool_model *m = NULL;
	int rc = need_row(p, ev, &m, NULL, err);
	if (rc)
		return rc;
	/* the request may have ended, elsewhere, already */
	m->discarded++;
	p->totals.discarded++;
	return 0;
}

static int request_sent(pool *p, const ac_event *ev, pool_model *m, row_stats *st, pool_request *r,
			pool_session *s, ac_err *err)
{
	(void)st;
	(void)s;
	pool_session *to = pool_session_get(p, ev->browser, ev->session);
	if (r->inflight || !to)
		return ac_errf(err, AC_EINVAL, "request %lld sent twice or to an unknown session", (long long)r->id);
	r->inflight = true;
	r->front = false;
	r->browser = ev->browser;
	r->session = ev->session;
	if (!r->stage) /* a later stage of a sharded request: its wait began with the first */
		r->sent_us = ev->t_us;
	to->inflight++;
	pool_recount(p, m);
	worked(p, ev);
	return 0;
}

int pa_request_sent(pool *p, const ac_event *ev, ac_err *err)
{
	return with_request(p, ev, request_sent, err);
}

/* A completion after warm-up: its latency and its split into the row's figures. */
static void measure(pool_model *m, row_stats *st, const pool_request *r, const ac_event *ev)
{
	double total = ev->x[0], compute = ev->x[1], page_queue = ev->x[2];
	/* a page that does not report its span has all of it counted as wire */
	double in_page = ev->x[3] > 0 ? ev->x[3] : compute + page_queue;
	/* latency as the submitter sees it: from queued here to the result back here. Differences in
	 * double: a recording's times are untrusted input (any int64), and below 2^53 us the result
	 * is the same as integer arithmetic's (found by tests/fuzz/fuzz-journal.c) */
	double e2e = ((double)ev->t_us - (double)r->queued_us) / 1000.0;
	pool_lat_add(st, (float)e2e);
	st->sum_queue += ((double)r->sent_us - (double)r->queued_us) / 1000.0 + page_queue;
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

const double pool_lat_bounds_ms[POOL_LAT_BUCKETS] = { 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 };

/* One completed request into its session's histogram (pool.h). */
static void observe_latency(pool_session *s, double ms)
{
	int k = 0;
	while (k < POOL_LAT_BUCKETS && ms > pool_lat_bounds_ms[k])
		k++;
	s->lat_counts[k]++;
	s->lat_sum_ms += ms;
}

static int request_done(pool *p, const ac_event *ev, pool_model *m, row_stats *st, pool_request *r,
			pool_session *s, ac_err *err)
{
	if (!s)
		return ac_errf(err, AC_EINVAL, "request %lld done but not in flight", (long long)r->id);
	s->inflight--;
	s->completed++;
	observe_latency(s, (double)(ev->t_us - r->queued_us) / 1000.0);
	if (!r->stage) /* a sharded request's last stage: EV_SHARD_DONE measured the session */
		s->ewma_ms = s->ewma_ms < 0 ? ev->x[0] : 0.8 * s->ewma_ms + 0.2 * ev->x[0];
	m->finished++;
	m->completed++;
	if (m->completed == (uint64_t)m->warmup || (m->warmup == 0 && m->completed == 1))
		st->warm_end_us = m->warmup ? ev->t_us : m->started_us;
	if (strcmp(s->platform_used, m->platform) != 0)
		m->fallback = true;
	st->done_at[st->n_done++ % STATS_DONE_MAX] = ev->t_us;
	if (m->completed > (uint64_t)m->warmup)
		measure(m, st, r, ev);
	pool_request_remove(p, r);
	pool_update_figures(m, st, ev->t_us);
	p->totals.done++;
	pool_recount(p, m);
	worked(p, ev);
	return 0;
}

int pa_request_done(pool *p, const ac_event *ev, ac_err *err)
{
	return with_request(p, ev, request_done, err);
}

static int request_failed(pool *p, const ac_event *ev, pool_model *m, row_stats *st, pool_request *r,
			pool_session *s, ac_err *err)
{
	(void)st;
	(void)err;
	if (s) {
		s->inflight--;
		s->failed++;
	}
	m->finished++;
	m->errors++;
	ac_strlcpy(m->last_error, ev->text, sizeof m->last_error);
	pool_request_remove(p, r);
	p->totals.failed++;
	if (ev->num == 1) { /* ended by --request-timeout */
		m->timed_out++;
		p->totals.timed_out++;
	}
	pool_recount(p, m);
	worked(p, ev);
	return 0;
}

int pa_request_failed(pool *p, const ac_event *ev, ac_err *err)
{
	return with_request(p, ev, request_failed, err);
}

static int request_requeued(pool *p, const ac_event *ev, pool_model *m, row_stats *st, pool_request *r,
			pool_session *s, ac_err *err)
{
	(void)ev;
	(void)st;
	(void)err;
	r->stage = 0; /* a sharded request starts again from its first shard */
	m->requeued++;
	p->totals.requeued++;
	if (s)
		s->inflight--;
	r->inflight = false;
	r->front = true;
	r->browser = r->session = 0;
	pool_queue_note(p, r);
	pool_recount(p, m);
	return 0;
}

int pa_request_requeued(pool *p, const ac_event *ev, ac_err *err)
{
	return with_request(p, ev, request_requeued, err);
}

/* A stage after warm-up: its figures into the shard's running means. */
static void measure_shard(pool_model *m, int k, const ac_event *ev)
{
	double in_page = ev->x[1] > 0 ? ev->x[1] : ev->x[0];
	__typeof__(m->shard[0]) *f = &m->shard[k - 1];
	f->n++;
	f->compute_ms += (ev->x[0] - f->compute_ms) / (double)f->n;
	f->transfer_ms += (fmax(0, ev->x[2] - in_page) - f->transfer_ms) / (double)f->n;
	f->total_ms += (ev->x[2] - f->total_ms) / (double)f->n;
	f->bytes += (ev->x[3] - f->bytes) / (double)f->n;
}

static int shard_done(pool *p, const ac_event *ev, pool_model *m, row_stats *st, pool_request *r,
			pool_session *s, ac_err *err)
{
	(void)st;
	int k = (int)ev->num, n = (int)ev->num2;
	if (!s || s->browser != ev->browser || s->session != ev->session || k < 1 || k > n || n > POOL_MAX_SHARDS)
		return ac_errf(err, AC_EINVAL, "shard %d/%d of request %lld is not in flight on session %d of browser %d",
			       k, n, (long long)r->id, ev->session, ev->browser);
	m->n_shards = n;
	if (m->completed >= (uint64_t)m->warmup)
		measure_shard(m, k, ev);
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
	pool_recount(p, m);
	return 0;
}

int pa_shard_done(pool *p, const ac_event *ev, ac_err *err)
{
	return with_request(p, ev, shard_done, err);
}

/* ---------------------------------------------------------------- log lines */

#define OR(s, dflt) ((s) ? (s) : (dflt))

bool pl_workload_started(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "model %d: %s %s on %s started", ev->model, ev->name, ev->precision, ev->platform);
	return true;
}

bool pl_workload_stopped(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "model %d stopped: %s", ev->model, OR(ev->text, ""));
	return true;
}

bool pl_precision_changed(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "model %d: precision changed to %s", ev->model, ev->precision);
	return true;
}

bool pl_session_ready(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	const pool_session *s = pool_session_find(p, ev->browser, ev->session);
	snprintf(text, cap, "%s: %s %s loaded on %s in %.0f ms", pool_kind_of(p, ev->browser, "browser"),
		 s ? s->file : "?", s && s->reference ? "(reference)" : "", OR(ev->platform, "?"), ev->x[0]);
	if (s && s->placement[0])
		ac_strlcatf(text, cap, "; %s", s->placement);
	return true;
}

bool pl_session_failed(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s: load failed: %s", pool_kind_of(p, ev->browser, "browser"), OR(ev->text, ""));
	return true;
}

bool pl_request_requeued(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "model %d: request %lld put back: %s", ev->model, (long long)ev->request, OR(ev->text, ""));
	return true;
}

bool pl_request_discarded(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s: late reply for request %lld discarded: %s", pool_kind_of(p, ev->browser, "browser"),
		 (long long)ev->request, OR(ev->text, ""));
	return true;
}

bool pl_verified(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s: model %d %s/%s %s (error %.2g, tolerance %.2g)", pool_kind_of(p, ev->browser, "browser"),
		 ev->model, OR(ev->precision, "?"), OR(ev->platform, "?"), ev->num == 1 ? "verified" : "OUTSIDE TOLERANCE",
		 ev->x[1], ev->x[2]);
	return true;
}
