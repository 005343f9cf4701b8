/* Checks of a checkpoint's tables before pool_load (checkpoint.c) makes them the pool's: the
 * image is untrusted input (a recording can come from anyone), and the tables are raw structs, so
 * every field that the pool or a reader could misuse is checked against what the live pool can
 * hold: strings end within their arrays, bools are 0 or 1, enums are in range, counts fit their
 * arrays, ids are positive, counters below INT_MAX / 2 (appliers add to them), and times are a
 * clock's (0 or 1970..2112, as journal.c requires of record times), so that no subtraction of
 * them overflows. Each refusal names the first field found wrong. Found necessary by
 * tests/fuzz/fuzz-checkpoint.c. */
#include "journal.h"
#include "pool_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	ac_err *err;
	const char *table;
	size_t row;
	bool bad;
} ck;

/* field is the expression checked ("b->caps.valid"): the message names it from the row on */
static bool fail(ck *c, const char *field, const char *why)
{
	const char *arrow = strstr(field, "->");
	field = arrow ? arrow + 2 : field;
	if (!c->bad)
		ac_errf(c->err, AC_EINVAL, "checkpoint: %s[%zu].%s %s (the recording's checkpoint is corrupt)", c->table,
			c->row, field, why);
	c->bad = true;
	return false;
}

static bool ck_str(ck *c, const char *field, const char *s, size_t cap)
{
	return memchr(s, '\0', cap) ? true : fail(c, field, "is not terminated");
}

/* A bool read as a byte: loading a bool that is not 0 or 1 is undefined. */
static bool ck_bool(ck *c, const char *field, const void *b)
{
	unsigned char v;
	memcpy(&v, b, 1);
	return v <= 1 ? true : fail(c, field, "is not a bool");
}

/* An enum read as an int (loading one out of its range is undefined). */
static bool ck_enum(ck *c, const char *field, const void *e, int lo, int hi)
{
	int v;
	memcpy(&v, e, sizeof v);
	return v >= lo && v <= hi ? true : fail(c, field, "is out of its range");
}

static bool ck_range(ck *c, const char *field, int64_t v, int64_t lo, int64_t hi)
{
	return v >= lo && v <= hi ? true : fail(c, field, "is out of range");
}

static bool ck_real(ck *c, const char *field, double v)
{
	return isfinite(v) ? true : fail(c, field, "is not a finite number");
}

#define STR(c, s) ck_str(c, #s, s, sizeof s)
#define BOOL(c, b) ck_bool(c, #b, &(b))
#define ENUM(c, e, lo, hi) ck_enum(c, #e, &(e), lo, hi)
_Static_assert(sizeof(browser_state) == sizeof(int) && sizeof(ac_class) == sizeof(int) &&
		       sizeof(session_state) == sizeof(int) && sizeof(breaker_state) == sizeof(int) &&
		       sizeof(ev_kind) == sizeof(int),
	       "ck_enum reads enums as ints");
#define RANGE(c, v, lo, hi) ck_range(c, #v, (int64_t)(v), lo, hi)
/* counters: appliers add to them, a live pool never gets near half of INT_MAX */
#define COUNT(c, v) ck_range(c, #v, (int64_t)(v), 0, INT_MAX / 2)
/* ids and keys: events set them (any positive int a recording holds), nothing adds to them */
#define ID(c, v) ck_range(c, #v, (int64_t)(v), 1, INT_MAX)
#define KEY(c, v) ck_range(c, #v, (int64_t)(v), 0, INT_MAX)
#define TIME(c, v) ck_range(c, #v, v, 0, JOURNAL_MAX_US)
#define REAL(c, v) ck_real(c, #v, v)
#define TRI(c, v) ck_range(c, #v, v, TRI_UNSET, 1)

static bool ck_caps(ck *c, const ac_caps *k)
{
	bool ok = BOOL(c, k->valid) && STR(c, k->name) && STR(c, k->version) && STR(c, k->user_agent) &&
		  TRI(c, k->cross_origin_isolated) && TRI(c, k->secure_context) && REAL(c, k->device_memory_gb);
	const caps_webgpu *g = &k->webgpu;
	ok = ok && BOOL(c, g->api) && BOOL(c, g->adapter) && STR(c, g->error) && STR(c, g->vendor) &&
	     STR(c, g->architecture) && STR(c, g->device) && STR(c, g->description) && TRI(c, g->fallback) &&
	     STR(c, g->features);
	ok = ok && BOOL(c, k->webnn.api) && BOOL(c, k->webnn.linux_chromium);
	for (int d = 0; ok && d < NN__COUNT; d++) {
		const caps_nn_device *v = &k->webnn.dev[d];
		ok = BOOL(c, v->reported) && BOOL(c, v->ok) && TRI(c, v->accelerated) && STR(c, v->error);
	}
	ok = ok && BOOL(c, k->wasm.api) && TRI(c, k->wasm.simd) && TRI(c, k->wasm.threads);
	for (int p = 0; ok && p < PLAT__COUNT; p++)
		ok = ENUM(c, k->verdict[p].status, CL_UNAVAILABLE, CL_UNKNOWN) && STR(c, k->verdict[p].evidence);
	return ok;
}

static bool ck_browser(ck *c, const pool_browser *b)
{
	return ID(c, b->id) && STR(c, b->kind) && STR(c, b->version) && BOOL(c, b->managed) &&
	       ENUM(c, b->state, BS_LAUNCHING, BS_EXITED) && TIME(c, b->launched_us) &&
	       TIME(c, b->connected_us) && TIME(c, b->changed_us) && COUNT(c, b->connects) && STR(c, b->peer) &&
	       COUNT(c, b->restarts) && RANGE(c, b->rtt_us, -1, JOURNAL_MAX_US) && STR(c, b->reason) &&
	       ck_caps(c, &b->caps) && TIME(c, b->restart_at_us) && COUNT(c, b->restarts_recent) && BOOL(c, b->held) &&
	       STR(c, b->note) && TIME(c, b->last_work_us) && STR(c, b->audio_frontend) && BOOL(c, b->grid) &&
	       STR(c, b->grid_session) && STR(c, b->grid_node) && REAL(c, b->grid_create_s) && BOOL(c, b->rss_valid) &&
	       BOOL(c, b->cpu_valid) && BOOL(c, b->page_mem_valid) && COUNT(c, b->nproc) && REAL(c, b->cpu_pct) &&
	       BOOL(c, b->cpu_seconds_valid) && REAL(c, b->cpu_seconds);
}

static bool ck_model(ck *c, const pool_model *m, const row_stats *st)
{
	bool ok = ID(c, m->id) && STR(c, m->name) && STR(c, m->type) && STR(c, m->precision) && STR(c, m->platform) &&
		  RANGE(c, m->n_browsers, 0, POOL_MODEL_BROWSERS) && COUNT(c, m->queue) && COUNT(c, m->inflight) &&
		  BOOL(c, m->lat_valid) && BOOL(c, m->err_valid) && BOOL(c, m->verify_ok) &&
		  RANGE(c, m->history_len, 0, POOL_LAT_HISTORY) && BOOL(c, m->running) && STR(c, m->pin) &&
		  COUNT(c, m->concurrency) && REAL(c, m->target_rps) && RANGE(c, m->count, 0, INT64_MAX / 2) &&
		  COUNT(c, m->warmup) && RANGE(c, m->submitted, 0, INT64_MAX / 2) &&
		  RANGE(c, m->finished, 0, INT64_MAX / 2) && TIME(c, m->started_us) && BOOL(c, m->fallback) &&
		  STR(c, m->stop_reason) && STR(c, m->last_error) && COUNT(c, m->breakers_open) &&
		  STR(c, m->breaker_note) && RANGE(c, m->n_shards, 0, POOL_MAX_SHARDS);
	for (int i = 0; ok && i < m->n_browsers; i++)
		ok = ID(c, m->browsers[i]);
	ok = ok && TIME(c, st->warm_end_us) && TIME(c, st->last_done_us);
	for (size_t i = 0; ok && i < STATS_DONE_MAX; i++)
		ok = TIME(c, st->done_at[i]);
	return ok;
}

static bool ck_session(ck *c, const pool_session *s)
{
	return ID(c, s->browser) && KEY(c, s->session) && ID(c, s->model) && BOOL(c, s->reference) &&
	       RANGE(c, s->shard, 0, POOL_MAX_SHARDS) && STR(c, s->precision) && STR(c, s->platform) &&
	       STR(c, s->platform_used) && STR(c, s->file) && STR(c, s->io) && STR(c, s->placement) &&
	       ENUM(c, s->state, SS_LOADING, SS_RETIRED) && COUNT(c, s->lanes) && COUNT(c, s->verifications) &&
	       STR(c, s->error) && COUNT(c, s->inflight) && BOOL(c, s->verified) && BOOL(c, s->verify_ok) &&
	       STR(c, s->verify_note) && COUNT(c, s->verify_mismatches) && COUNT(c, s->verify_failures);
}

static bool ck_request(ck *c, const pool_request *r)
{
	return RANGE(c, r->id, 1, INT64_MAX) && ID(c, r->model) && KEY(c, r->browser) && KEY(c, r->session) &&
	       BOOL(c, r->inflight) && BOOL(c, r->front) && RANGE(c, r->stage, 0, POOL_MAX_SHARDS) &&
	       TIME(c, r->queued_us) && TIME(c, r->sent_us);
}

static bool ck_breaker(ck *c, const pool_breaker *k)
{
	return ID(c, k->browser) && ID(c, k->model) && ENUM(c, k->state, BRK_CLOSED, BRK_HALF_OPEN) &&
	       COUNT(c, k->failures) && TIME(c, k->probe_at_us) && TIME(c, k->changed_us) && STR(c, k->reason);
}

static bool ck_scalars(ck *c, const pool *p)
{
	const pool_grid *g = &p->grid;
	return KEY(c, p->last_id) && RANGE(c, p->bridge_port, 0, 65535) && TIME(c, p->started_us) &&
	       BOOL(c, g->seen) && BOOL(c, g->up) && STR(c, g->url) && STR(c, g->message) && TIME(c, g->t_us);
}

typedef struct {
	int browser, session;
} ck_key;

static int key_cmp(const void *a, const void *b)
{
	const ck_key *x = a, *y = b;
	if (x->browser != y->browser)
		return x->browser < y->browser ? -1 : 1;
	return x->session < y->session ? -1 : x->session > y->session;
}

/* Each session's in-flight count is the number of in-flight requests on it (the appliers
 * decrement it when one ends: a checkpoint saying fewer would take it below zero). Sorted keys,
 * so that a pool of thousands of sessions and requests is checked in O(n log n). */
static bool ck_inflight(ck *c, const pool *p)
{
	ck_key *k = malloc((p->n_requests ? p->n_requests : 1) * sizeof *k);
	size_t n = 0;
	if (!k)
		return fail(c, "inflight", "cannot be checked (out of memory)");
	for (size_t i = 0; i < p->n_requests; i++)
		if (p->requests[i].inflight)
			k[n++] = (ck_key){ p->requests[i].browser, p->requests[i].session };
	qsort(k, n, sizeof *k, key_cmp);
	bool ok = true;
	for (c->row = 0; ok && c->row < p->n_sessions; c->row++) {
		const pool_session *s = &p->sessions[c->row];
		ck_key want = { s->browser, s->session };
		size_t lo = 0, hi = n;
		while (lo < hi) { /* the first key >= want */
			size_t mid = lo + (hi - lo) / 2;
			if (key_cmp(&k[mid], &want) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t m = 0;
		while (lo + m < n && !key_cmp(&k[lo + m], &want))
			m++;
		ok = (size_t)s->inflight == m || fail(c, "inflight", "is not the count of its requests in flight");
	}
	free(k);
	return ok;
}

int pool_check_loaded(const pool *p, ac_err *err)
{
	ck c = { err, "pool", 0, false };
	bool ok = ck_scalars(&c, p);
	c.table = "browsers";
	for (c.row = 0; ok && c.row < p->n; c.row++)
		ok = ck_browser(&c, &p->browsers[c.row]);
	c.table = "models";
	for (c.row = 0; ok && c.row < p->n_models; c.row++)
		ok = ck_model(&c, &p->models[c.row], &p->stats[c.row]);
	c.table = "sessions";
	for (c.row = 0; ok && c.row < p->n_sessions; c.row++)
		ok = ck_session(&c, &p->sessions[c.row]);
	c.table = "requests";
	for (c.row = 0; ok && c.row < p->n_requests; c.row++)
		ok = ck_request(&c, &p->requests[c.row]);
	c.table = "sessions";
	ok = ok && ck_inflight(&c, p);
	c.table = "breakers";
	for (c.row = 0; ok && c.row < p->n_breakers; c.row++)
		ok = ck_breaker(&c, &p->breakers[c.row]);
	c.table = "log";
	for (c.row = 0; ok && c.row < p->log_len; c.row++) {
		const pool_log_entry *e = &p->log[c.row];
		int kind;
		memcpy(&kind, &e->kind, sizeof kind);
		ok = TIME(&c, e->t_us) && (ev_kind_valid(kind) || fail(&c, "kind", "is not an event kind")) &&
		     KEY(&c, e->browser);
	}
	return ok ? 0 : AC_EINVAL;
}
