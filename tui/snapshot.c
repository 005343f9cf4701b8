#include "snapshot.h"

#include <string.h>
#include <time.h>

#include "format.h"

/* Strings: "" (not reported) becomes null, so readers tell unknown from empty-but-reported
 * only where the browser really reported an empty string (WebGPU adapter info does). */
static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_tri(cJSON *o, const char *k, int t)
{
	if (t == TRI_UNSET)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddBoolToObject(o, k, t);
}

static void add_num_or_null(cJSON *o, const char *k, double v, bool valid)
{
	if (valid)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *verdict_json(const ac_caps *c, ac_platform p)
{
	cJSON *o = cJSON_CreateObject();
	if (!c->valid) {
		cJSON_AddNullToObject(o, "status");
		cJSON_AddStringToObject(o, "evidence", "no hello received yet");
		return o;
	}
	cJSON_AddStringToObject(o, "status", class_name(c->verdict[p].status));
	cJSON_AddStringToObject(o, "evidence", c->verdict[p].evidence);
	return o;
}

static cJSON *webgpu_json(const ac_caps *c)
{
	cJSON *o = verdict_json(c, PLAT_WEBGPU);
	if (!c->valid)
		return o;
	const caps_webgpu *g = &c->webgpu;
	cJSON_AddBoolToObject(o, "api", g->api);
	cJSON_AddBoolToObject(o, "adapter", g->adapter);
	/* adapter.info strings are reported even when empty (Firefox hides them): keep "" then */
	if (g->adapter) {
		cJSON_AddStringToObject(o, "vendor", g->vendor);
		cJSON_AddStringToObject(o, "architecture", g->architecture);
		cJSON_AddStringToObject(o, "device", g->device);
		cJSON_AddStringToObject(o, "description", g->description);
	} else {
		cJSON_AddNullToObject(o, "vendor");
		cJSON_AddNullToObject(o, "architecture");
		cJSON_AddNullToObject(o, "device");
		cJSON_AddNullToObject(o, "description");
	}
	add_tri(o, "fallback", g->fallback);
	add_str_or_null(o, "error", g->error);
	cJSON *feats = cJSON_AddArrayToObject(o, "features");
	char buf[sizeof g->features];
	ac_strlcpy(buf, g->features, sizeof buf);
	char *save = NULL;
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		cJSON_AddItemToArray(feats, cJSON_CreateString(t));
	cJSON *lim = cJSON_AddObjectToObject(o, "limits");
	add_num_or_null(lim, "maxBufferSize", (double)g->max_buffer_size, g->max_buffer_size >= 0);
	add_num_or_null(lim, "maxStorageBufferBindingSize", (double)g->max_storage_binding, g->max_storage_binding >= 0);
	add_num_or_null(lim, "maxComputeWorkgroupSizeX", (double)g->max_wg_size_x, g->max_wg_size_x >= 0);
	add_num_or_null(lim, "maxComputeInvocationsPerWorkgroup", (double)g->max_invocations, g->max_invocations >= 0);
	add_num_or_null(lim, "maxComputeWorkgroupStorageSize", (double)g->max_wg_storage, g->max_wg_storage >= 0);
	return o;
}

static cJSON *webnn_json(const ac_caps *c)
{
	cJSON *o = verdict_json(c, PLAT_WEBNN);
	if (!c->valid)
		return o;
	cJSON_AddBoolToObject(o, "api", c->webnn.api);
	cJSON *devs = cJSON_AddObjectToObject(o, "devices");
	for (int d = 0; d < NN__COUNT; d++) {
		const caps_nn_device *dv = &c->webnn.dev[d];
		if (!dv->reported) {
			cJSON_AddNullToObject(devs, nn_device_name((nn_device)d));
			continue;
		}
		cJSON *x = cJSON_AddObjectToObject(devs, nn_device_name((nn_device)d));
		cJSON_AddBoolToObject(x, "ok", dv->ok);
		add_str_or_null(x, "error", dv->error);
		add_tri(x, "accelerated", dv->accelerated);
	}
	return o;
}

static cJSON *wasm_json(const ac_caps *c)
{
	cJSON *o = verdict_json(c, PLAT_WASM);
	if (!c->valid)
		return o;
	cJSON_AddBoolToObject(o, "api", c->wasm.api);
	add_tri(o, "simd", c->wasm.simd);
	add_tri(o, "threads", c->wasm.threads);
	return o;
}

static cJSON *browser_json(const pool_browser *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", b->id);
	cJSON_AddStringToObject(o, "kind", b->kind);
	add_str_or_null(o, "version", b->version);
	cJSON_AddBoolToObject(o, "managed", b->managed);
	cJSON_AddStringToObject(o, "state", browser_state_name(b->state));
	add_num_or_null(o, "pid", b->pid, b->pid > 0);
	add_str_or_null(o, "reason", b->reason);
	cJSON_AddNumberToObject(o, "reconnects", b->connects > 1 ? b->connects - 1 : 0);
	cJSON_AddNumberToObject(o, "restarts", b->restarts);
	cJSON_AddBoolToObject(o, "held", b->held);
	add_num_or_null(o, "restart_at", (double)b->restart_at_us / 1e6, b->restart_at_us > 0);
	add_str_or_null(o, "supervisor", b->note);
	add_num_or_null(o, "last_work", (double)b->last_work_us / 1e6, b->last_work_us > 0);
	add_str_or_null(o, "audio_frontend", b->audio_frontend);
	add_num_or_null(o, "rtt_ms", (double)b->rtt_us / 1000.0, b->rtt_us >= 0);
	add_num_or_null(o, "rss_bytes", (double)b->rss_bytes, b->rss_valid);
	add_num_or_null(o, "nproc", b->nproc, b->rss_valid);
	add_num_or_null(o, "cpu_pct", b->cpu_pct, b->cpu_valid);
	add_num_or_null(o, "page_memory_bytes", (double)b->page_mem_bytes, b->page_mem_valid);
	add_str_or_null(o, "user_agent", b->caps.valid ? b->caps.user_agent : NULL);
	if (b->caps.valid)
		add_tri(o, "cross_origin_isolated", b->caps.cross_origin_isolated);
	else
		cJSON_AddNullToObject(o, "cross_origin_isolated");
	add_num_or_null(o, "hardware_concurrency", b->caps.hardware_concurrency, b->caps.valid && b->caps.hardware_concurrency >= 0);
	add_num_or_null(o, "device_memory_gb", b->caps.device_memory_gb, b->caps.valid && b->caps.device_memory_gb >= 0);
	cJSON_AddItemToObject(o, "webgpu", webgpu_json(&b->caps));
	cJSON_AddItemToObject(o, "webnn", webnn_json(&b->caps));
	cJSON_AddItemToObject(o, "wasm", wasm_json(&b->caps));
	return o;
}

/* Where each of the row's sessions runs: the provenance of its results. */
static cJSON *sessions_json(const pool *p, const pool_model *m)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < pool_session_count(p); i++) {
		const pool_session *s = pool_session_at(p, i);
		if (s->model != m->id || s->reference)
			continue;
		const pool_browser *b = pool_browser_find(p, s->browser);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "browser", s->browser);
		cJSON_AddStringToObject(o, "kind", b ? b->kind : "?");
		cJSON_AddStringToObject(o, "state", session_state_name(s->state));
		cJSON_AddStringToObject(o, "precision", s->precision);
		cJSON_AddStringToObject(o, "file", s->file);
		add_str_or_null(o, "io", s->io);
		cJSON_AddStringToObject(o, "platform_requested", s->platform);
		add_str_or_null(o, "platform_used", s->platform_used);
		cJSON_AddBoolToObject(o, "fallback", s->platform_used[0] && strcmp(s->platform_used, s->platform) != 0);
		int pi = PLAT_WASM;
		for (int k = 0; k < PLAT__COUNT; k++)
			if (!strcmp(plat_name((ac_platform)k), s->platform_used[0] ? s->platform_used : s->platform))
				pi = k;
		if (b && b->caps.valid) {
			cJSON_AddStringToObject(o, "classification", class_name(b->caps.verdict[pi].status));
			cJSON_AddStringToObject(o, "evidence", b->caps.verdict[pi].evidence);
		} else {
			cJSON_AddNullToObject(o, "classification");
			cJSON_AddNullToObject(o, "evidence");
		}
		add_num_or_null(o, "load_ms", s->load_ms, s->load_ms >= 0);
		cJSON_AddNumberToObject(o, "lanes", s->lanes);
		add_str_or_null(o, "error", s->error);
		cJSON_AddNumberToObject(o, "completed", (double)s->completed);
		cJSON_AddNumberToObject(o, "inflight", s->inflight);
		add_num_or_null(o, "ewma_ms", s->ewma_ms, s->ewma_ms >= 0);
		const pool_breaker *k = pool_breaker_find(p, s->browser, m->id);
		cJSON_AddStringToObject(o, "breaker", breaker_state_name(k ? k->state : BRK_CLOSED));
		if (s->verified) {
			cJSON *v = cJSON_AddObjectToObject(o, "verification");
			cJSON_AddNumberToObject(v, "max_abs_err", s->verify_abs);
			cJSON_AddNumberToObject(v, "norm_err", s->verify_err);
			cJSON_AddNumberToObject(v, "tolerance", s->verify_tol);
			cJSON_AddBoolToObject(v, "ok", s->verify_ok);
			cJSON_AddStringToObject(v, "against", s->verify_note);
			cJSON_AddNumberToObject(v, "outputs_compared", s->verifications);
		} else {
			cJSON_AddNullToObject(o, "verification");
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *model_json(const pool *p, const pool_model *m, int64_t now_us)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddStringToObject(o, "type", m->type);
	cJSON_AddStringToObject(o, "precision", m->precision);
	cJSON_AddStringToObject(o, "platform", m->platform);
	cJSON_AddBoolToObject(o, "running", m->running);
	add_str_or_null(o, "stop_reason", m->stop_reason);
	cJSON *br = cJSON_AddArrayToObject(o, "browsers");
	for (int i = 0; i < m->n_browsers; i++)
		cJSON_AddItemToArray(br, cJSON_CreateNumber(m->browsers[i]));
	cJSON_AddNumberToObject(o, "queue", m->queue);
	cJSON_AddNumberToObject(o, "inflight", m->inflight);
	cJSON_AddNumberToObject(o, "completed", (double)m->completed);
	add_num_or_null(o, "p50_ms", m->p50_ms, m->lat_valid);
	add_num_or_null(o, "p95_ms", m->p95_ms, m->lat_valid);
	add_num_or_null(o, "p99_ms", m->p99_ms, m->lat_valid);
	cJSON_AddNumberToObject(o, "rps", pool_model_rps(p, m->id, now_us));
	cJSON_AddNumberToObject(o, "errors", (double)m->errors);
	add_num_or_null(o, "max_abs_err", m->max_abs_err, m->err_valid);
	add_num_or_null(o, "max_norm_err", m->max_norm_err, m->err_valid);
	if (m->err_valid)
		cJSON_AddBoolToObject(o, "verified", m->verify_ok);
	else
		cJSON_AddNullToObject(o, "verified");
	cJSON_AddBoolToObject(o, "fallback", m->fallback);
	add_num_or_null(o, "queue_ms", m->queue_ms, m->lat_valid);
	add_num_or_null(o, "wire_ms", m->wire_ms, m->lat_valid);
	add_num_or_null(o, "page_ms", m->page_ms, m->lat_valid);
	add_num_or_null(o, "compute_ms", m->compute_ms, m->lat_valid);
	cJSON_AddNumberToObject(o, "requeued", (double)m->requeued);
	cJSON_AddNumberToObject(o, "discarded", (double)m->discarded);
	cJSON_AddNumberToObject(o, "timed_out", (double)m->timed_out);
	add_str_or_null(o, "last_error", m->last_error);
	cJSON_AddItemToObject(o, "sessions", sessions_json(p, m));
	cJSON *brk = cJSON_AddArrayToObject(o, "breakers");
	for (size_t i = 0; i < pool_breaker_count(p); i++) {
		const pool_breaker *k = pool_breaker_at(p, i);
		if (k->model != m->id)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "browser", k->browser);
		cJSON_AddStringToObject(x, "state", breaker_state_name(k->state));
		cJSON_AddNumberToObject(x, "failures", k->failures);
		add_num_or_null(x, "probe_at", (double)k->probe_at_us / 1e6, k->probe_at_us > 0);
		add_str_or_null(x, "reason", k->reason);
		cJSON_AddItemToArray(brk, x);
	}
	/* sharded rows: per shard means (null for a whole-model row) */
	if (!strchr(m->pin, ',')) {
		cJSON_AddNullToObject(o, "sharded_on");
		cJSON_AddNullToObject(o, "shards");
		return o;
	}
	cJSON_AddStringToObject(o, "sharded_on", m->pin);
	cJSON *sh = cJSON_AddArrayToObject(o, "shards");
	for (int k = 0; k < m->n_shards && k < POOL_MAX_SHARDS; k++) {
		const __typeof__(m->shard[0]) *f = &m->shard[k];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "shard", k + 1);
		cJSON_AddNumberToObject(x, "browser", f->browser);
		cJSON_AddNumberToObject(x, "runs", (double)f->n);
		add_num_or_null(x, "compute_ms", f->compute_ms, f->n > 0);
		add_num_or_null(x, "transfer_ms", f->transfer_ms, f->n > 0);
		add_num_or_null(x, "total_ms", f->total_ms, f->n > 0);
		add_num_or_null(x, "bytes", f->bytes, f->n > 0);
		cJSON_AddItemToArray(sh, x);
	}
	return o;
}

cJSON *snapshot_json(const pool *p, int64_t now_us)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "time", (double)now_us / 1e6);
	cJSON *br = cJSON_AddObjectToObject(o, "bridge");
	add_str_or_null(br, "url", pool_bridge_url(p));
	add_num_or_null(br, "port", pool_bridge_port(p), pool_bridge_port(p) > 0);
	cJSON *arr = cJSON_AddArrayToObject(o, "browsers");
	for (size_t i = 0; i < pool_browser_count(p); i++)
		cJSON_AddItemToArray(arr, browser_json(pool_browser_at(p, i)));
	cJSON *models = cJSON_AddArrayToObject(o, "models");
	for (size_t i = 0; i < pool_model_count(p); i++)
		cJSON_AddItemToArray(models, model_json(p, pool_model_at(p, i), now_us));
	cJSON_AddItemToObject(o, "requests", snapshot_requests_json(p));
	return o;
}

cJSON *snapshot_requests_json(const pool *p)
{
	pool_request_totals t;
	pool_request_totals_get(p, &t);
	cJSON *rq = cJSON_CreateObject();
	cJSON_AddNumberToObject(rq, "submitted", (double)t.submitted);
	cJSON_AddNumberToObject(rq, "done", (double)t.done);
	cJSON_AddNumberToObject(rq, "failed", (double)t.failed);
	cJSON_AddNumberToObject(rq, "pending", (double)t.pending);
	cJSON_AddNumberToObject(rq, "timed_out", (double)t.timed_out);
	cJSON_AddNumberToObject(rq, "requeued", (double)t.requeued);
	cJSON_AddNumberToObject(rq, "discarded", (double)t.discarded);
	return rq;
}

static const char *status_text(const ac_caps *c, ac_platform p)
{
	return c->valid ? class_name(c->verdict[p].status) : "n/a";
}

void snapshot_text(FILE *f, const pool *p, int64_t now_us)
{
	time_t t = (time_t)(now_us / 1000000);
	struct tm tm;
	char when[32];
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	size_t n = pool_browser_count(p), connected = 0;
	for (size_t i = 0; i < n; i++)
		connected += pool_browser_at(p, i)->state == BS_CONNECTED;
	fprintf(f, "accel-top %s  %s  %s  browsers %zu/%zu connected\n", AC_VERSION, when,
		pool_bridge_url(p)[0] ? pool_bridge_url(p) : "(bridge not listening)", connected, n);
	fprintf(f, "%4s %-9s %-16s %-8s %-10s %8s %-11s %-11s %-11s %6s %6s %5s %8s\n", "ID", "KIND", "VERSION",
		"MANAGED", "STATE", "RTT_MS", "WEBGPU", "WEBNN", "WASM", "RSS", "CPU%", "PROCS", "PAGE_MEM");
	for (size_t i = 0; i < n; i++) {
		const pool_browser *b = pool_browser_at(p, i);
		char rtt[16] = "n/a", rss[16], cpu[16], procs[16] = "n/a", page[16];
		if (b->rtt_us >= 0)
			snprintf(rtt, sizeof rtt, "%.2f", b->rtt_us / 1000.0);
		fmt_bytes(rss, sizeof rss, b->rss_bytes, b->rss_valid);
		fmt_pct(cpu, sizeof cpu, b->cpu_pct, b->cpu_valid);
		if (b->rss_valid)
			snprintf(procs, sizeof procs, "%d", b->nproc);
		fmt_bytes(page, sizeof page, b->page_mem_bytes, b->page_mem_valid);
		fprintf(f, "%4d %-9.9s %-16.16s %-8s %-10s %8s %-11s %-11s %-11s %6s %6s %5s %8s\n", b->id, b->kind,
			b->version[0] ? b->version : "n/a", b->managed ? "managed" : "attached",
			browser_state_name(b->state), rtt, status_text(&b->caps, PLAT_WEBGPU),
			status_text(&b->caps, PLAT_WEBNN), status_text(&b->caps, PLAT_WASM), rss, cpu, procs, page);
		if (b->reason[0])
			fprintf(f, "     reason: %s\n", b->reason);
		if (b->note[0])
			fprintf(f, "     supervisor: %s\n", b->note);
		if (b->caps.valid)
			for (int pl = 0; pl < PLAT__COUNT; pl++)
				fprintf(f, "     %-7s %s\n", plat_name((ac_platform)pl), b->caps.verdict[pl].evidence);
	}
	if (pool_model_count(p)) {
		fprintf(f, "%4s %-21s %-6s %-7s %-8s %5s %5s %8s %8s %8s %7s %6s %9s\n", "ID", "MODEL", "PREC", "PLATFRM",
			"BROWSERS", "QUEUE", "INFL", "P50_MS", "P95_MS", "P99_MS", "REQ/S", "ERRORS", "VERIFY");
		for (size_t i = 0; i < pool_model_count(p); i++) {
			const pool_model *m = pool_model_at(p, i);
			char ids[32] = "", p50[16] = "n/a", p95[16] = "n/a", p99[16] = "n/a", ver[16] = "n/a";
			for (int k = 0; k < m->n_browsers; k++)
				ac_strlcatf(ids, sizeof ids, "%s%d", k ? "," : "", m->browsers[k]);
			if (m->lat_valid) {
				snprintf(p50, sizeof p50, "%.2f", m->p50_ms);
				snprintf(p95, sizeof p95, "%.2f", m->p95_ms);
				snprintf(p99, sizeof p99, "%.2f", m->p99_ms);
			}
			if (m->err_valid)
				snprintf(ver, sizeof ver, "%s %.0e", m->verify_ok ? "ok" : "BAD", m->max_norm_err);
			fprintf(f, "%4d %-21.21s %-6s %-7s %-8s %5d %5d %8s %8s %8s %7.1f %6llu %9s%s\n", m->id, m->name,
				m->precision, m->platform, ids[0] ? ids : "-", m->queue, m->inflight, p50, p95, p99,
				pool_model_rps(p, m->id, now_us), (unsigned long long)m->errors, ver,
				m->fallback ? " FALLBACK" : "");
		}
	}
	pool_request_totals rt;
	pool_request_totals_get(p, &rt);
	if (rt.submitted)
		fprintf(f, "requests: %llu submitted, %llu done, %llu failed (%llu timed out), %llu pending; %llu put back, "
			"%llu late replies discarded\n", (unsigned long long)rt.submitted, (unsigned long long)rt.done,
			(unsigned long long)rt.failed, (unsigned long long)rt.timed_out, (unsigned long long)rt.pending,
			(unsigned long long)rt.requeued, (unsigned long long)rt.discarded);
	fputc('\n', f);
}
