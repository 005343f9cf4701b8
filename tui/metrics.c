#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

/* ---------------------------------------------------------------- the buffer */

static void put(metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(metrics_buf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

void metrics_buf_free(metrics_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

void metrics_escape_label(const char *v, char *out, size_t cap)
{
	size_t o = 0;
	for (; v && *v && o + 3 < cap; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			out[o++] = '\\';
			out[o++] = *v == '\n' ? 'n' : *v;
		} else {
			out[o++] = *v;
		}
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
}

/* HELP and TYPE of a family: every family has both, before its samples. */
static void family(metrics_buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A double as the format writes it: integers without a point, others in the fewest digits that
 * read back as the same double (0.26, not 0.26000000000000001). */
static void put_value(metrics_buf *b, double v)
{
	if (v == (double)(int64_t)v && v > -9e15 && v < 9e15) {
		put(b, "%lld\n", (long long)v);
		return;
	}
	char t[40];
	snprintf(t, sizeof t, "%.15g", v);
	if (strtod(t, NULL) != v)
		snprintf(t, sizeof t, "%.17g", v);
	put(b, "%s\n", t);
}

/* ---------------------------------------------------------------- series by label set */

/* Sessions of the same (model, precision, platform, browser), rows with the same (model,
 * precision, platform): one series each, their figures summed (two workloads of one model on one
 * browser would otherwise write the same series twice, which the format forbids). */
typedef struct {
	char labels[400];       /* rendered and escaped: model="..",precision="..",platform=".." ... */
	bool unsent;            /* browser="none": failures of requests no browser had taken */
	uint64_t ok, failed;
	uint64_t lat[POOL_LAT_BUCKETS + 1];
	double lat_sum_ms;
	uint64_t verified, mismatched, verify_failed;
	int64_t queue, inflight;
} agg;

typedef struct {
	agg *v;
	size_t n, cap;
	bool oom;
} agg_list;

static agg *agg_get(agg_list *l, const char *labels)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].labels, labels))
			return &l->v[i];
	if (ac_reserve((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) {
		l->oom = true;
		return NULL;
	}
	agg *a = &l->v[l->n++];
	memset(a, 0, sizeof *a);
	ac_strlcpy(a->labels, labels, sizeof a->labels);
	return a;
}

static void row_labels(char *out, size_t cap, const char *model, const char *precision, const char *platform)
{
	char m[160], pr[24], pl[24];
	metrics_escape_label(model, m, sizeof m);
	metrics_escape_label(precision, pr, sizeof pr);
	metrics_escape_label(platform, pl, sizeof pl);
	snprintf(out, cap, "model=\"%s\",precision=\"%s\",platform=\"%s\"", m, pr, pl);
}

/* The per-browser figures of every (non-reference) session, and per row the failures of requests
 * that no browser had taken (a queue timeout), as browser="none". */
static void collect_sessions(const pool *p, agg_list *l)
{
	for (size_t i = 0; i < pool_session_count(p); i++) {
		const pool_session *s = pool_session_at(p, i);
		const pool_model *m = pool_model_find(p, s->model);
		if (s->reference || !m)
			continue;
		char rl[300], labels[400];
		row_labels(rl, sizeof rl, m->name, s->precision, s->platform);
		snprintf(labels, sizeof labels, "%s,browser=\"%d\"", rl, s->browser);
		agg *a = agg_get(l, labels);
		if (!a)
			return;
		a->ok += s->completed;
		a->failed += s->failed;
		for (int k = 0; k <= POOL_LAT_BUCKETS; k++)
			a->lat[k] += s->lat_counts[k];
		a->lat_sum_ms += s->lat_sum_ms;
		a->verified += (uint64_t)s->verifications;
		a->mismatched += (uint64_t)s->verify_mismatches;
		a->verify_failed += (uint64_t)s->verify_failures;
	}
}

static void collect_unsent(const pool *p, agg_list *l)
{
	for (size_t i = 0; i < pool_model_count(p); i++) {
		const pool_model *m = pool_model_at(p, i);
		uint64_t on_browsers = 0;
		for (size_t k = 0; k < pool_session_count(p); k++) {
			const pool_session *s = pool_session_at(p, k);
			if (s->model == m->id)
				on_browsers += s->failed;
		}
		if (m->errors <= on_browsers)
			continue;
		char rl[300], labels[400];
		row_labels(rl, sizeof rl, m->name, m->precision, m->platform);
		snprintf(labels, sizeof labels, "%s,browser=\"none\"", rl);
		agg *a = agg_get(l, labels);
		if (!a)
			return;
		a->unsent = true;
		a->failed += m->errors - on_browsers;
	}
}

static void collect_rows(const pool *p, agg_list *l)
{
	for (size_t i = 0; i < pool_model_count(p); i++) {
		const pool_model *m = pool_model_at(p, i);
		char labels[400];
		row_labels(labels, sizeof labels, m->name, m->precision, m->platform);
		agg *a = agg_get(l, labels);
		if (!a)
			return;
		a->queue += m->queue;
		a->inflight += m->inflight;
	}
}

/* ---------------------------------------------------------------- families */

static void process_metrics(metrics_buf *b, const pool *p, int64_t now_us, const metrics_self *self)
{
	char v[80];
	metrics_escape_label(AC_VERSION, v, sizeof v);
	family(b, "accel_top_build_info", "gauge", "accel-top's version, as a label; the value is always 1.");
	put(b, "accel_top_build_info{version=\"%s\"} 1\n", v);
	if (pool_started_us(p) > 0) {
		family(b, "accel_top_start_time_seconds", "gauge", "When this accel-top started, in seconds since the epoch.");
		put(b, "accel_top_start_time_seconds ");
		put_value(b, (double)pool_started_us(p) / 1e6);
		family(b, "accel_top_uptime_seconds", "gauge", "Seconds since this accel-top started.");
		put(b, "accel_top_uptime_seconds ");
		put_value(b, (double)(now_us - pool_started_us(p)) / 1e6);
	}
	if (self && self->valid) {
		family(b, "accel_top_process_resident_memory_bytes", "gauge",
		       "Resident set size of the accel-top process, from /proc/self/stat.");
		put(b, "accel_top_process_resident_memory_bytes ");
		put_value(b, (double)self->rss_bytes);
		family(b, "accel_top_process_cpu_seconds_total", "counter",
		       "User and system CPU time of the accel-top process, from /proc/self/stat.");
		put(b, "accel_top_process_cpu_seconds_total ");
		put_value(b, self->cpu_seconds);
	}
}

/* Where a browser runs: its Grid node's host, else the address its WebSocket came from (127.0.0.1
 * for one on this machine); "" while neither is known. Without scheme, path and port. */
static void browser_host(const pool_browser *br, char *out, size_t cap)
{
	const char *h = br->grid && br->grid_node[0] ? br->grid_node : br->peer;
	const char *s = strstr(h, "://");
	ac_strlcpy(out, s ? s + 3 : h, cap);
	out[strcspn(out, "/")] = '\0';
	char *colon = strrchr(out, ':');
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    (strchr(out, ':') == colon || colon[-1] == ']'))
		*colon = '\0'; /* host:port or [v6]:port; a bare v6 address keeps its colons */
}

static void browser_info(metrics_buf *b, const pool *p)
{
	family(b, "accel_top_browser_info", "gauge",
	       "One series per browser: its id, kind, version, host, mode (managed or attached) and state; the value is always 1.");
	for (size_t i = 0; i < pool_browser_count(p); i++) {
		const pool_browser *br = pool_browser_at(p, i);
		char kind[80], ver[140], host[140], h[136];
		metrics_escape_label(br->kind, kind, sizeof kind);
		metrics_escape_label(br->version, ver, sizeof ver);
		browser_host(br, h, sizeof h);
		metrics_escape_label(h, host, sizeof host);
		put(b, "accel_top_browser_info{browser=\"%d\",kind=\"%s\",version=\"%s\",host=\"%s\",mode=\"%s\",state=\"%s\"} 1\n",
		    br->id, kind, ver, host, br->managed ? "managed" : "attached", browser_state_name(br->state));
	}
	family(b, "accel_top_browser_platform_class", "gauge",
	       "How each platform runs in each browser that said hello: class is hardware, software, unavailable or unknown; the value is always 1.");
	for (size_t i = 0; i < pool_browser_count(p); i++) {
		const pool_browser *br = pool_browser_at(p, i);
		for (int k = 0; br->caps.valid && k < PLAT__COUNT; k++)
			put(b, "accel_top_browser_platform_class{browser=\"%d\",platform=\"%s\",class=\"%s\"} 1\n", br->id,
			    plat_name((ac_platform)k), class_name(br->caps.verdict[k].status));
	}
}

/* One gauge or counter per browser, only for the browsers whose figure is valid. */
typedef struct {
	const char *name, *type, *help;
	bool (*valid)(const pool_browser *b);
	double (*value)(const pool_browser *b);
} browser_metric;

static bool always(const pool_browser *b) { (void)b; return true; }
static bool rss_ok(const pool_browser *b) { return b->rss_valid; }
static bool cpu_ok(const pool_browser *b) { return b->cpu_seconds_valid; }
static bool page_ok(const pool_browser *b) { return b->page_mem_valid; }
static double v_rss(const pool_browser *b) { return (double)b->rss_bytes; }
static double v_nproc(const pool_browser *b) { return b->nproc; }
static double v_cpu(const pool_browser *b) { return b->cpu_seconds; }
static double v_rtt(const pool_browser *b) { return (double)b->rtt_us / 1e6; }
static double v_page(const pool_browser *b) { return (double)b->page_mem_bytes; }
static double v_restarts(const pool_browser *b) { return b->restarts; }
static double v_connects(const pool_browser *b) { return b->connects; }

static const browser_metric browser_metrics[] = {
	{ "accel_top_browser_resident_memory_bytes", "gauge",
	  "Resident set size of a managed browser's process tree (shared pages counted in each process, as ps does).",
	  rss_ok, v_rss },
	{ "accel_top_browser_processes", "gauge", "Live processes in a managed browser's process tree.",
	  browser_nproc_valid, v_nproc },
	{ "accel_top_browser_cpu_seconds_total", "counter",
	  "User and system CPU time of a managed browser's process tree since it started (resets when it restarts).",
	  cpu_ok, v_cpu },
	{ "accel_top_browser_page_memory_bytes", "gauge",
	  "The page's performance.measureUserAgentSpecificMemory(), where the browser has it.", page_ok, v_page },
	{ "accel_top_browser_heartbeat_rtt_seconds", "gauge",
	  "The last heartbeat round trip of a connected browser.", browser_rtt_valid, v_rtt },
	{ "accel_top_browser_restarts_total", "counter",
	  "Times a managed browser was started again under the same id.", always, v_restarts },
	{ "accel_top_browser_connections_total", "counter",
	  "WebSocket connections a browser opened (reconnects are this minus 1).", always, v_connects },
};

static void browser_figures(metrics_buf *b, const pool *p)
{
	for (size_t m = 0; m < sizeof browser_metrics / sizeof browser_metrics[0]; m++) {
		const browser_metric *bm = &browser_metrics[m];
		family(b, bm->name, bm->type, bm->help);
		for (size_t i = 0; i < pool_browser_count(p); i++) {
			const pool_browser *br = pool_browser_at(p, i);
			if (!bm->valid(br))
				continue;
			put(b, "%s{browser=\"%d\"} ", bm->name, br->id);
			put_value(b, bm->value(br));
		}
	}
}

static void request_figures(metrics_buf *b, const agg_list *l)
{
	family(b, "accel_top_requests_total", "counter",
	       "Requests that ended, by outcome (ok or error), per model, precision, platform (requested) and browser; browser=\"none\": failed before any browser took them.");
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].unsent)
			put(b, "accel_top_requests_total{%s,outcome=\"ok\"} %llu\n", l->v[i].labels,
			    (unsigned long long)l->v[i].ok);
		put(b, "accel_top_requests_total{%s,outcome=\"error\"} %llu\n", l->v[i].labels,
		    (unsigned long long)l->v[i].failed);
	}
	family(b, "accel_top_request_duration_seconds", "histogram",
	       "Latency of completed requests from queued to result (warm-up included), per model, precision, platform and the browser that finished them.");
	for (size_t i = 0; i < l->n; i++) {
		const agg *a = &l->v[i];
		if (a->unsent)
			continue;
		uint64_t cum = 0;
		for (int k = 0; k < POOL_LAT_BUCKETS; k++) {
			cum += a->lat[k];
			put(b, "accel_top_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", a->labels,
			    pool_lat_bounds_ms[k] / 1000.0, (unsigned long long)cum);
		}
		cum += a->lat[POOL_LAT_BUCKETS];
		put(b, "accel_top_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", a->labels, (unsigned long long)cum);
		put(b, "accel_top_request_duration_seconds_sum{%s} ", a->labels);
		put_value(b, a->lat_sum_ms / 1000.0);
		put(b, "accel_top_request_duration_seconds_count{%s} %llu\n", a->labels, (unsigned long long)cum);
	}
}

static void verify_figures(metrics_buf *b, const agg_list *l)
{
	family(b, "accel_top_verifications_total", "counter",
	       "Outputs compared with the fp32 wasm reference, by result: ok (within the precision's tolerance), mismatch (outside it), error (the comparison could not run).");
	for (size_t i = 0; i < l->n; i++) {
		const agg *a = &l->v[i];
		if (a->unsent)
			continue;
		put(b, "accel_top_verifications_total{%s,result=\"ok\"} %llu\n", a->labels,
		    (unsigned long long)(a->verified - a->mismatched));
		put(b, "accel_top_verifications_total{%s,result=\"mismatch\"} %llu\n", a->labels,
		    (unsigned long long)a->mismatched);
		put(b, "accel_top_verifications_total{%s,result=\"error\"} %llu\n", a->labels,
		    (unsigned long long)a->verify_failed);
	}
}

static void queue_figures(metrics_buf *b, const agg_list *rows)
{
	family(b, "accel_top_queue_depth", "gauge", "Requests waiting to be sent, per model, precision and platform.");
	for (size_t i = 0; i < rows->n; i++)
		put(b, "accel_top_queue_depth{%s} %lld\n", rows->v[i].labels, (long long)rows->v[i].queue);
	family(b, "accel_top_requests_in_flight", "gauge", "Requests sent to a browser and not ended yet, per model, precision and platform.");
	for (size_t i = 0; i < rows->n; i++)
		put(b, "accel_top_requests_in_flight{%s} %lld\n", rows->v[i].labels, (long long)rows->v[i].inflight);
}

/* The circuit breakers the pool knows (a pair that never had a breaker event is closed and not
 * listed): one series per state, 1 for the current one. */
static void breaker_figures(metrics_buf *b, const pool *p)
{
	family(b, "accel_top_breaker_state", "gauge",
	       "Circuit breaker of a (browser, model) pair: 1 for its current state (closed, open, half-open), 0 for the others; summed over workloads with the same labels.");
	agg_list l = { 0 };
	int *state_of = NULL; /* per aggregated entry: counts of each state, 3 ints */
	size_t cap = 0;
	for (size_t i = 0; i < pool_breaker_count(p); i++) {
		const pool_breaker *k = pool_breaker_at(p, i);
		const pool_model *m = pool_model_find(p, k->model);
		if (!m)
			continue;
		char rl[300], labels[400];
		row_labels(rl, sizeof rl, m->name, m->precision, m->platform);
		snprintf(labels, sizeof labels, "browser=\"%d\",%s", k->browser, rl);
		size_t before = l.n;
		agg *a = agg_get(&l, labels);
		if (!a || ac_reserve((void **)&state_of, &cap, l.n * 3, sizeof *state_of))
			break;
		if (l.n > before)
			memset(&state_of[(l.n - 1) * 3], 0, 3 * sizeof *state_of);
		state_of[(size_t)(a - l.v) * 3 + (k->state % 3)]++;
	}
	for (size_t i = 0; i < l.n; i++)
		for (int s = 0; s < 3; s++)
			put(b, "accel_top_breaker_state{%s,state=\"%s\"} %d\n", l.v[i].labels,
			    breaker_state_name((breaker_state)s), state_of[i * 3 + s]);
	free(state_of);
	free(l.v);
}

int metrics_render(const pool *p, int64_t now_us, const metrics_self *self, metrics_buf *out)
{
	agg_list sessions = { 0 }, rows = { 0 };
	collect_sessions(p, &sessions);
	collect_unsent(p, &sessions);
	collect_rows(p, &rows);
	process_metrics(out, p, now_us, self);
	browser_info(out, p);
	browser_figures(out, p);
	request_figures(out, &sessions);
	verify_figures(out, &sessions);
	queue_figures(out, &rows);
	breaker_figures(out, p);
	bool oom = sessions.oom || rows.oom || out->oom;
	free(sessions.v);
	free(rows.v);
	return oom ? AC_ENOMEM : 0;
}
