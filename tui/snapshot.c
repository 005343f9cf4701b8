#include "snapshot.h"

#include <string.h>
#include <time.h>

#include "fields.h"
#include "format.h"

static void add_tri(cJSON *o, const char *k, int t)
{
	if (t == TRI_UNSET)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddBoolToObject(o, k, t);
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
	col_json_str_or_null(o, "error", g->error);
	cJSON *feats = cJSON_AddArrayToObject(o, "features");
	char buf[sizeof g->features];
	ac_strlcpy(buf, g->features, sizeof buf);
	char *save = NULL;
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		cJSON_AddItemToArray(feats, cJSON_CreateString(t));
	cJSON *lim = cJSON_AddObjectToObject(o, "limits");
	col_json_num_or_null(lim, "maxBufferSize", (double)g->max_buffer_size, caps_limit_valid(g->max_buffer_size));
	col_json_num_or_null(lim, "maxStorageBufferBindingSize", (double)g->max_storage_binding, caps_limit_valid(g->max_storage_binding));
	col_json_num_or_null(lim, "maxComputeWorkgroupSizeX", (double)g->max_wg_size_x, caps_limit_valid(g->max_wg_size_x));
	col_json_num_or_null(lim, "maxComputeInvocationsPerWorkgroup", (double)g->max_invocations, caps_limit_valid(g->max_invocations));
	col_json_num_or_null(lim, "maxComputeWorkgroupStorageSize", (double)g->max_wg_storage, caps_limit_valid(g->max_wg_storage));
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
		col_json_str_or_null(x, "error", dv->error);
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

/* The columns' values (tui/columns_browser.c) where each has always been in the object, the
 * rest of the browser around them, then any column not placed here. */
static cJSON *browser_json(const pool_browser *b)
{
	cJSON *o = cJSON_CreateObject();
	const col_spec *t = browser_columns;
	col_row r = { .b = b };
	bool done[BC__COUNT] = { false };
	col_json_put(o, t, BC_ID, &r, done);
	col_json_put(o, t, BC_KIND, &r, done);
	col_json_put(o, t, BC_VERSION, &r, done);
	col_json_put(o, t, BC_MODE, &r, done);
	col_json_put(o, t, BC_STATE, &r, done);
	col_json_num_or_null(o, "pid", b->pid, browser_pid_valid(b));
	col_json_str_or_null(o, "reason", b->reason);
	cJSON_AddNumberToObject(o, "reconnects", b->connects > 1 ? b->connects - 1 : 0);
	cJSON_AddNumberToObject(o, "restarts", b->restarts);
	cJSON_AddBoolToObject(o, "held", b->held);
	col_json_num_or_null(o, "restart_at", (double)b->restart_at_us / 1e6, b->restart_at_us > 0);
	col_json_str_or_null(o, "supervisor", b->note);
	col_json_num_or_null(o, "last_work", (double)b->last_work_us / 1e6, b->last_work_us > 0);
	col_json_str_or_null(o, "audio_frontend", b->audio_frontend);
	if (b->grid) { /* where a Selenium Grid browser runs */
		cJSON *g = cJSON_AddObjectToObject(o, "grid");
		col_json_str_or_null(g, "session", b->grid_session);
		col_json_str_or_null(g, "node", b->grid_node);
		col_json_num_or_null(g, "create_s", b->grid_create_s, b->grid_create_s >= 0);
	} else {
		cJSON_AddNullToObject(o, "grid");
	}
	col_json_put(o, t, BC_RTT, &r, done);
	col_json_put(o, t, BC_RSS, &r, done);
	col_json_put(o, t, BC_PROCS, &r, done);
	col_json_put(o, t, BC_CPU, &r, done);
	col_json_put(o, t, BC_PAGE_MEM, &r, done);
	col_json_str_or_null(o, "user_agent", b->caps.valid ? b->caps.user_agent : NULL);
	if (b->caps.valid)
		add_tri(o, "cross_origin_isolated", b->caps.cross_origin_isolated);
	else
		cJSON_AddNullToObject(o, "cross_origin_isolated");
	/* only when the page said: recordings from before pages reported it replay to the same JSON */
	if (b->caps.valid && b->caps.secure_context != TRI_UNSET)
		add_tri(o, "secure_context", b->caps.secure_context);
	col_json_num_or_null(o, "hardware_concurrency", b->caps.hardware_concurrency, caps_cores_valid(&b->caps));
	col_json_num_or_null(o, "device_memory_gb", b->caps.device_memory_gb, caps_memory_valid(&b->caps));
	cJSON_AddItemToObject(o, "webgpu", webgpu_json(&b->caps));
	cJSON_AddItemToObject(o, "webnn", webnn_json(&b->caps));
	cJSON_AddItemToObject(o, "wasm", wasm_json(&b->caps));
	col_json_rest(o, t, BC__COUNT, &r, done);
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
		col_json_str_or_null(o, "io", s->io);
		col_json_str_or_null(o, "placement", s->placement);
		cJSON_AddStringToObject(o, "platform_requested", s->platform);
		col_json_str_or_null(o, "platform_used", s->platform_used);
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
		col_json_num_or_null(o, "load_ms", s->load_ms, session_load_valid(s));
		cJSON_AddNumberToObject(o, "lanes", s->lanes);
		col_json_str_or_null(o, "error", s->error);
		cJSON_AddNumberToObject(o, "completed", (double)s->completed);
		cJSON_AddNumberToObject(o, "inflight", s->inflight);
		col_json_num_or_null(o, "ewma_ms", s->ewma_ms, session_ewma_valid(s));
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

static cJSON *breakers_json(const pool *p, const pool_model *m)
{
	cJSON *brk = cJSON_CreateArray();
	for (size_t i = 0; i < pool_breaker_count(p); i++) {
		const pool_breaker *k = pool_breaker_at(p, i);
		if (k->model != m->id)
			continue;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "browser", k->browser);
		cJSON_AddStringToObject(x, "state", breaker_state_name(k->state));
		cJSON_AddNumberToObject(x, "failures", k->failures);
		col_json_num_or_null(x, "probe_at", (double)k->probe_at_us / 1e6, k->probe_at_us > 0);
		col_json_str_or_null(x, "reason", k->reason);
		cJSON_AddItemToArray(brk, x);
	}
	return brk;
}

/* sharded rows: per shard means (null for a whole-model row) */
static void shards_json(cJSON *o, const pool_model *m)
{
	if (!strchr(m->pin, ',')) {
		cJSON_AddNullToObject(o, "sharded_on");
		cJSON_AddNullToObject(o, "shards");
		return;
	}
	cJSON_AddStringToObject(o, "sharded_on", m->pin);
	cJSON *sh = cJSON_AddArrayToObject(o, "shards");
	for (int k = 0; k < m->n_shards && k < POOL_MAX_SHARDS; k++) {
		const __typeof__(m->shard[0]) *f = &m->shard[k];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "shard", k + 1);
		cJSON_AddNumberToObject(x, "browser", f->browser);
		cJSON_AddNumberToObject(x, "runs", (double)f->n);
		col_json_num_or_null(x, "compute_ms", f->compute_ms, model_shard_valid(m, k));
		col_json_num_or_null(x, "transfer_ms", f->transfer_ms, model_shard_valid(m, k));
		col_json_num_or_null(x, "total_ms", f->total_ms, model_shard_valid(m, k));
		col_json_num_or_null(x, "bytes", f->bytes, model_shard_valid(m, k));
		cJSON_AddItemToArray(sh, x);
	}
}

/* As browser_json(): the columns' values (tui/columns_model.c) in their places, the rest around
 * them, then any column not placed here. */
static cJSON *model_json(const pool *p, const pool_model *row, int64_t now_us)
{
	pool_model now = *row; /* the row's rate is from its last event; this one is for now */
	const pool_model *m = &now;
	now.rps = pool_model_rps(p, m->id, now_us);
	cJSON *o = cJSON_CreateObject();
	const col_spec *t = model_columns;
	col_row r = { .m = m };
	bool done[MC__COUNT] = { false };
	col_json_put(o, t, MC_ID, &r, done);
	col_json_put(o, t, MC_MODEL, &r, done);
	col_json_put(o, t, MC_TYPE, &r, done);
	col_json_put(o, t, MC_PREC, &r, done);
	col_json_put(o, t, MC_PLAT, &r, done);
	col_json_put(o, t, MC_STATE, &r, done);
	col_json_str_or_null(o, "stop_reason", m->stop_reason);
	col_json_put(o, t, MC_BROWSERS, &r, done);
	col_json_put(o, t, MC_QUEUE, &r, done);
	col_json_put(o, t, MC_INFL, &r, done);
	cJSON_AddNumberToObject(o, "completed", (double)m->completed);
	col_json_put(o, t, MC_P50, &r, done);
	col_json_put(o, t, MC_P95, &r, done);
	col_json_put(o, t, MC_P99, &r, done);
	col_json_put(o, t, MC_RPS, &r, done);
	col_json_put(o, t, MC_ERR, &r, done);
	col_json_num_or_null(o, "max_abs_err", m->max_abs_err, m->err_valid);
	col_json_num_or_null(o, "max_norm_err", m->max_norm_err, m->err_valid);
	if (m->err_valid)
		cJSON_AddBoolToObject(o, "verified", m->verify_ok);
	else
		cJSON_AddNullToObject(o, "verified");
	cJSON_AddBoolToObject(o, "fallback", m->fallback);
	col_json_num_or_null(o, "queue_ms", m->queue_ms, m->lat_valid);
	col_json_num_or_null(o, "wire_ms", m->wire_ms, m->lat_valid);
	col_json_num_or_null(o, "page_ms", m->page_ms, m->lat_valid);
	col_json_num_or_null(o, "compute_ms", m->compute_ms, m->lat_valid);
	cJSON_AddNumberToObject(o, "requeued", (double)m->requeued);
	cJSON_AddNumberToObject(o, "discarded", (double)m->discarded);
	cJSON_AddNumberToObject(o, "timed_out", (double)m->timed_out);
	col_json_str_or_null(o, "last_error", m->last_error);
	cJSON_AddItemToObject(o, "sessions", sessions_json(p, m));
	cJSON_AddItemToObject(o, "breakers", breakers_json(p, m));
	shards_json(o, m);
	col_json_rest(o, t, MC__COUNT, &r, done);
	return o;
}

cJSON *snapshot_json(const pool *p, int64_t now_us)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "time", (double)now_us / 1e6);
	cJSON *br = cJSON_AddObjectToObject(o, "bridge");
	col_json_str_or_null(br, "url", pool_bridge_url(p));
	col_json_num_or_null(br, "port", pool_bridge_port(p), pool_bridge_port(p) > 0);
	const pool_grid *g = pool_grid_get(p);
	if (g->seen) {
		cJSON *gj = cJSON_AddObjectToObject(o, "grid");
		cJSON_AddStringToObject(gj, "url", g->url);
		cJSON_AddBoolToObject(gj, "up", g->up);
		col_json_num_or_null(gj, "slots", g->slots, g->up);
		col_json_num_or_null(gj, "used", g->used, g->up);
		col_json_num_or_null(gj, "queued", g->queued, g->up && g->queued >= 0);
		col_json_str_or_null(gj, "message", g->message);
	} else {
		cJSON_AddNullToObject(o, "grid");
	}
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

bool snapshot_grid_line(const pool *p, char *out, size_t cap)
{
	const pool_grid *g = pool_grid_get(p);
	if (!g->seen)
		return false;
	if (!g->up) {
		snprintf(out, cap, "grid: DOWN %s", g->message);
		return true;
	}
	char queued[16] = "n/a"; /* GET /status does not say */
	if (g->queued >= 0)
		snprintf(queued, sizeof queued, "%d", g->queued);
	snprintf(out, cap, "grid: %s  slots %d  used %d  queued %s%s%s", g->url, g->slots, g->used, queued,
		 g->message[0] ? "  " : "", g->message);
	return true;
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
	char line[2048];
	if (snapshot_grid_line(p, line, sizeof line))
		fprintf(f, "%s\n", line);
	col_batch_head(line, sizeof line, browser_columns, BC__COUNT);
	fprintf(f, "%s\n", line);
	for (size_t i = 0; i < n; i++) {
		const pool_browser *b = pool_browser_at(p, i);
		col_batch_row(line, sizeof line, browser_columns, BC__COUNT, &(col_row){ .b = b });
		fprintf(f, "%s\n", line);
		if (b->reason[0])
			fprintf(f, "     reason: %s\n", b->reason);
		if (b->note[0])
			fprintf(f, "     supervisor: %s\n", b->note);
		if (b->grid)
			fprintf(f, "     grid: node %s, session %s\n", b->grid_node[0] ? b->grid_node : "n/a",
				b->grid_session[0] ? b->grid_session : "none");
		if (b->caps.valid)
			for (int pl = 0; pl < PLAT__COUNT; pl++)
				fprintf(f, "     %-7s %s\n", plat_name((ac_platform)pl), b->caps.verdict[pl].evidence);
	}
	if (pool_model_count(p)) {
		col_batch_head(line, sizeof line, model_columns, MC__COUNT);
		fprintf(f, "%s\n", line);
		for (size_t i = 0; i < pool_model_count(p); i++) {
			pool_model m = *pool_model_at(p, i);
			m.rps = pool_model_rps(p, m.id, now_us);
			col_batch_row(line, sizeof line, model_columns, MC__COUNT, &(col_row){ .m = &m });
			fprintf(f, "%s%s\n", line, m.fallback ? " FALLBACK" : "");
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
