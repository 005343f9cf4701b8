/* accel-top bench: one combination after the other, each as a workload pinned to its browser(s),
 * stopped when done or at --timeout, and its result taken from the pool. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* ---------------------------------------------------------------- results */

static store_result *new_result(bench *b, const combo *c)
{
	b->results = realloc(b->results, (size_t)(b->n_results + 1) * sizeof *b->results);
	store_result *r = &b->results[b->n_results++];
	memset(r, 0, sizeof *r);
	const pool_browser *pb = pool_browser_find(b->a.pool, c->browser);
	r->browser_id = c->browser;
	ac_strlcpy(r->browser_kind, pb ? pb->kind : "?", sizeof r->browser_kind);
	ac_strlcpy(r->browser_version, pb ? pb->version : "", sizeof r->browser_version);
	ac_strlcpy(r->model, c->m->name, sizeof r->model);
	ac_strlcpy(r->model_type, c->m->type, sizeof r->model_type);
	ac_strlcpy(r->precision_requested, prec_name(c->prec), sizeof r->precision_requested);
	ac_strlcpy(r->platform_requested, bench_platforms[c->platform], sizeof r->platform_requested);
	r->iterations = b->iterations;
	r->warmup = b->warmup;
	r->concurrency = c->concurrency;
	if (c->sharded) {
		ac_strlcpy(r->shard, b->shard_arg, sizeof r->shard);
		ac_strlcpy(r->browser_kind, b->shard_arg, sizeof r->browser_kind);
	}
	return r;
}

static void skip(bench *b, const combo *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void skip(bench *b, const combo *c, const char *fmt, ...)
{
	store_result *r = new_result(b, c);
	ac_strlcpy(r->status, "skipped", sizeof r->status);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	const pool_browser *pb = pool_browser_find(b->a.pool, c->browser);
	if (pb && pb->caps.valid) {
		ac_strlcpy(r->classification, class_name(pb->caps.verdict[c->platform].status), sizeof r->classification);
		ac_strlcpy(r->evidence, pb->caps.verdict[c->platform].evidence, sizeof r->evidence);
	}
}

/* The result of the workload that just ended, from the pool: the only source of figures. */
/* What the session that ran it loaded and how its output compared with the reference. */
static void collect_session(store_result *r, const pool_session *used)
{
	ac_strlcpy(r->precision_loaded, used->precision, sizeof r->precision_loaded);
	ac_strlcpy(r->file_loaded, used->file, sizeof r->file_loaded);
	ac_strlcpy(r->platform_used, used->platform_used[0] ? used->platform_used : "", sizeof r->platform_used);
	r->fallback = used->platform_used[0] && strcmp(used->platform_used, used->platform) != 0;
	r->load_ms = used->load_ms;
	if (used->verified && used->verify_err >= 0) {
		r->have_verify = true;
		r->verify_max_abs = used->verify_abs;
		r->verify_norm_err = used->verify_err;
		r->verify_tolerance = used->verify_tol;
		r->verify_ok = used->verify_ok;
	}
	ac_strlcpy(r->verify_note, used->verified ? used->verify_note : "not verified", sizeof r->verify_note);
	ac_strlcpy(r->placement, used->placement, sizeof r->placement);
}

/* --shard: each stage's figures as JSON; a sharded run with no stage measured has failed. */
static void collect_shards(bench *b, store_result *r, const pool_model *m)
{
	char *o = r->shard_figures;
	size_t cap = sizeof r->shard_figures;
	ac_strlcpy(o, "[", cap);
	for (int k = 0; k < m->n_shards; k++) {
		const pool_browser *sb = pool_browser_find(b->a.pool, m->shard[k].browser);
		ac_strlcatf(o, cap, "%s{\"shard\":%d,\"browser\":\"%s\",\"runs\":%llu,\"compute_ms\":%.3f,"
			    "\"transfer_ms\":%.3f,\"total_ms\":%.3f,\"bytes\":%.0f}", k ? "," : "", k + 1,
			    sb ? sb->kind : "?", (unsigned long long)m->shard[k].n, m->shard[k].compute_ms,
			    m->shard[k].transfer_ms, m->shard[k].total_ms, m->shard[k].bytes);
	}
	ac_strlcatf(o, cap, "]");
	if (m->n_shards == 0 && !strcmp(r->status, "ok")) {
		ac_strlcpy(r->status, "failed", sizeof r->status);
		ac_strlcpy(r->reason, "no stage of a sharded request was measured", sizeof r->reason);
	}
}

/* The first values of the output, for the eye (the verification compared all of them). */
static void collect_output(bench *b, store_result *r, const combo *c, const pool_model *m)
{
	int out_browser = c->browser;
	if (c->sharded && m && m->n_shards)
		out_browser = m->shard[m->n_shards - 1].browser;
	const ac_tensor *out = sched_first_output(b->a.sch, b->row, out_browser);
	if (out) {
		snprintf(r->output_head, sizeof r->output_head, "%s[%llu]:", out->name,
			 (unsigned long long)tensor_count(out));
		for (uint64_t i = 0; i < tensor_count(out) && i < 6; i++)
			ac_strlcatf(r->output_head, sizeof r->output_head, " %.5g", tensor_get(out, i));
	}
}

static void collect(bench *b, const combo *c)
{
	store_result *r = new_result(b, c);
	const pool_model *m = pool_model_find(b->a.pool, b->row);
	const pool_session *used = NULL;
	for (size_t i = 0; i < pool_session_count(b->a.pool); i++) {
		const pool_session *s = pool_session_at(b->a.pool, i);
		/* sharded: the last shard's session, which gives the output that is verified */
		if (s->model == b->row && !s->reference && (!c->sharded || (m && s->shard == m->n_shards)) &&
		    (!used || s->completed > used->completed))
			used = s;
	}
	const pool_browser *pb = pool_browser_find(b->a.pool, c->browser);
	if (used)
		collect_session(r, used);
	int pi = c->platform;
	if (r->platform_used[0])
		for (int k = 0; k < PLAT__COUNT; k++)
			if (!strcmp(bench_platforms[k], r->platform_used))
				pi = k;
	if (pb && pb->caps.valid) {
		ac_strlcpy(r->classification, class_name(pb->caps.verdict[pi].status), sizeof r->classification);
		ac_strlcpy(r->evidence, pb->caps.verdict[pi].evidence, sizeof r->evidence);
	}
	uint64_t measured = m && m->completed > (uint64_t)b->warmup ? m->completed - (uint64_t)b->warmup : 0;
	if (m && m->lat_valid && measured >= (uint64_t)b->iterations && m->errors == 0) {
		ac_strlcpy(r->status, "ok", sizeof r->status);
		r->have_figures = true;
		r->p50_ms = m->p50_ms;
		r->p95_ms = m->p95_ms;
		r->p99_ms = m->p99_ms;
		r->mean_ms = m->mean_ms;
		r->min_ms = m->min_ms;
		r->max_ms = m->max_ms;
		r->throughput_rps = m->measured_rps;
		r->compute_mean_ms = m->compute_ms;
		r->wire_mean_ms = m->wire_ms;
		r->queue_mean_ms = m->queue_ms;
		if (r->have_verify && !r->verify_ok)
			snprintf(r->reason, sizeof r->reason, "output outside the %s tolerance: error %.3g > %.3g",
				 r->precision_loaded, r->verify_norm_err, r->verify_tolerance);
	} else {
		ac_strlcpy(r->status, "failed", sizeof r->status);
		const char *why = m ? m->stop_reason : "not started";
		if (used && used->state == SS_FAILED)
			why = used->error;
		else if (m && m->errors)
			why = m->last_error;
		snprintf(r->reason, sizeof r->reason, "%s (%llu of %d measured runs, %llu errors)", why,
			 (unsigned long long)measured, b->iterations, m ? (unsigned long long)m->errors : 0ULL);
	}
	if (c->sharded && m)
		collect_shards(b, r, m);
	collect_output(b, r, c, m);
}

/* ---------------------------------------------------------------- running */

static bool row_settled(bench *b)
{
	/* stopped, and the verification of the sessions that produced results is in */
	return b->row_stopped && pool_model_settled(b->a.pool, b->row);
}

static void on_step(uv_timer_t *t)
{
	bench_next_combo(t->data);
}

/* The next combination starts from the loop, not from inside the event that ended this one:
 * the scheduler is still in the middle of applying it. */
static void finish_combo(bench *b)
{
	uv_timer_stop(&b->deadline);
	collect(b, &b->combos[b->next - 1]);
	b->row = 0;
	uv_timer_start(&b->step, on_step, 0, 0);
}

void bench_on_event(void *ctx, const ac_event *ev)
{
	bench *b = ((app *)ctx)->user;
	if (!b->started) {
		if (!b->a.quitting && pool_settled(b->a.pool) && b->a.ln) {
			b->started = true;
			uv_timer_start(&b->step, on_step, 0, 0);
		}
		return;
	}
	if (!b->row)
		return;
	if (ev->kind == EV_WORKLOAD_STOPPED && ev->model == b->row)
		b->row_stopped = true;
	if (b->row_stopped && row_settled(b))
		finish_combo(b);
}

static void on_deadline(uv_timer_t *t)
{
	bench *b = t->data;
	ac_err err;
	if (!b->row)
		return;
	if (!b->row_stopped) {
		char why[96];
		snprintf(why, sizeof why, "timed out after %.0f s (--timeout)", b->o.timeout_s);
		sched_stop(b->a.sch, b->row, why, &err);
	}
	if (b->row) /* stopping may have finished it already */
		finish_combo(b); /* whatever verification is still missing stays missing */
}

static void progress(bench *b, const combo *c, const char *what)
{
	const pool_browser *pb = pool_browser_find(b->a.pool, c->browser);
	fprintf(stderr, "\r\033[K[%d/%d] %s%s %s %s %s x%d: %s", b->next, b->n_combos, c->sharded ? "sharded " : "",
		c->sharded ? b->shard_arg : pb ? pb->kind : "?", bench_platforms[c->platform], c->m->name,
		prec_name(c->prec), c->concurrency, what);
	if (!isatty(STDERR_FILENO))
		fputc('\n', stderr);
}

void bench_next_combo(bench *b)
{
	ac_err err;
	while (b->next < b->n_combos) {
		combo *c = &b->combos[b->next++];
		const pool_browser *pb = pool_browser_find(b->a.pool, c->browser);
		/* a sharded combination needs every shard's browser: the first that cannot is the reason */
		for (int k = 0; c->sharded && k < b->shard_kinds; k++) {
			const pool_browser *sb = pool_browser_find(b->a.pool, b->shard_browsers[k]);
			char why[256];
			if (!sb || sb->state != BS_CONNECTED || !sb->caps.valid ||
			    sb->caps.verdict[c->platform].status == CL_UNAVAILABLE ||
			    !sched_variant_runs(sb, c->prec, bench_platforms[c->platform], why, sizeof why)) {
				pb = sb;
				break;
			}
		}
		if (!pb || pb->state != BS_CONNECTED || !pb->caps.valid) {
			skip(b, c, "%s is %s: %s", pb ? pb->kind : "browser", pb ? browser_state_name(pb->state) : "gone",
			     pb && pb->reason[0] ? pb->reason : "it did not say hello");
			ac_strlcpy(b->results[b->n_results - 1].status, "failed", sizeof b->results[0].status);
			continue;
		}
		if (c->sharded && !catalog_shards_have(c->m, c->prec)) {
			skip(b, c, "%s has no %s variant of every shard", c->m->name, prec_name(c->prec));
			continue;
		}
		if (!c->m->has[c->prec]) {
			skip(b, c, "%s has no %s variant (onnx/%s is absent)", c->m->name, prec_name(c->prec), prec_file(c->prec));
			continue;
		}
		char why[256];
		if (!sched_variant_runs(pb, c->prec, bench_platforms[c->platform], why, sizeof why) && !b->o.allow_fallback) {
			skip(b, c, "%s", why);
			continue;
		}
		if (pb->caps.verdict[c->platform].status == CL_UNAVAILABLE && !b->o.allow_fallback) {
			skip(b, c, "%s is unavailable in %s: %s", bench_platforms[c->platform], pb->kind,
			     pb->caps.verdict[c->platform].evidence);
			continue;
		}
		launch_form f = { .concurrency = c->concurrency, .count = b->warmup + b->iterations, .warmup = b->warmup };
		ac_strlcpy(f.model, c->m->name, sizeof f.model);
		ac_strlcpy(f.precision, prec_name(c->prec), sizeof f.precision);
		ac_strlcpy(f.platform, bench_platforms[c->platform], sizeof f.platform);
		snprintf(f.browser, sizeof f.browser, "#%d", c->browser);
		for (int k = 0; c->sharded && k < b->shard_kinds; k++) /* "#1,#2": exactly these browsers */
			ac_strlcatf(f.shard, sizeof f.shard, "%s#%d", k ? "," : "", b->shard_browsers[k]);
		b->row_stopped = false;
		progress(b, c, "running");
		if (app_launch_model(&b->a, &f, &b->row, &err)) {
			b->row = 0;
			skip(b, c, "%s", err.msg);
			ac_strlcpy(b->results[b->n_results - 1].status, "failed", sizeof b->results[0].status);
			continue;
		}
		uv_timer_start(&b->deadline, on_deadline, (uint64_t)(b->o.timeout_s * 1000), 0);
		return;
	}
	bench_finish_all(b);
}

