/* The detail pane's text: everything a browser reported, everything about a model row. Pure
 * functions like the rest of tui/format.c; validity of each figure from tui/fields.h. */
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "format.h"

static const char *tri_text(int t)
{
	return t == TRI_UNSET ? "n/a" : t ? "yes" : "no";
}

static void limit_text(char *out, size_t cap, const char *name, int64_t v)
{
	if (caps_limit_valid(v))
		ac_strlcatf(out, cap, "%s=%lld ", name, (long long)v);
	else
		ac_strlcatf(out, cap, "%s=n/a ", name);
}

/* Memory and CPU: of the process tree for a managed browser, of the page where it measures. */
static void browser_usage_line(fmt_lines *l, const pool_browser *b)
{
	char rss[16], cpu[16], page[16];
	fmt_bytes(rss, sizeof rss, b->rss_bytes, b->rss_valid);
	fmt_pct(cpu, sizeof cpu, b->cpu_pct, b->cpu_valid);
	fmt_bytes(page, sizeof page, b->page_mem_bytes, b->page_mem_valid);
	if (!b->managed)
		fmt_lines_add(l, "  RSS and CPU n/a (attached: not our process), page memory %s", page);
	else if (b->rss_valid)
		fmt_lines_add(l, "  RSS %s in %d processes, CPU %s%%, page memory %s", rss, b->nproc, cpu, page);
	else
		fmt_lines_add(l, "  RSS n/a, CPU n/a, page memory %s", page);
}

/* What the hello said about WebGPU: the verdict, the adapter, its features and limits. */
static void caps_webgpu_lines(fmt_lines *l, const ac_caps *c, int width)
{
	const caps_webgpu *g = &c->webgpu;
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "WebGPU %s", fmt_status_word(c, PLAT_WEBGPU));
	fmt_lines_wrap(l, "  evidence", c->verdict[PLAT_WEBGPU].evidence, width);
	if (!g->api)
		fmt_lines_add(l, "  navigator.gpu: missing");
	else if (!g->adapter)
		fmt_lines_add(l, "  adapter: none");
	else {
		fmt_lines_add(l, "  vendor \"%s\"  architecture \"%s\"", g->vendor, g->architecture);
		fmt_lines_add(l, "  device \"%s\"  description \"%s\"", g->device, g->description);
		fmt_lines_add(l, "  isFallbackAdapter %s", tri_text(g->fallback));
	}
	if (g->error[0])
		fmt_lines_wrap(l, "  error", g->error, width);
	if (g->adapter) {
		fmt_lines_wrap(l, "  features", g->features[0] ? g->features : "(none)", width);
		char lim[512] = "";
		limit_text(lim, sizeof lim, "maxBufferSize", g->max_buffer_size);
		limit_text(lim, sizeof lim, "maxStorageBufferBindingSize", g->max_storage_binding);
		limit_text(lim, sizeof lim, "maxComputeWorkgroupSizeX", g->max_wg_size_x);
		limit_text(lim, sizeof lim, "maxComputeInvocationsPerWorkgroup", g->max_invocations);
		limit_text(lim, sizeof lim, "maxComputeWorkgroupStorageSize", g->max_wg_storage);
		fmt_lines_wrap(l, "  limits", lim, width);
	}
}

/* WebNN: the verdict and each device's context, with the error text where it failed. */
static void caps_webnn_lines(fmt_lines *l, const ac_caps *c, int width)
{
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "WebNN %s", fmt_status_word(c, PLAT_WEBNN));
	fmt_lines_wrap(l, "  evidence", c->verdict[PLAT_WEBNN].evidence, width);
	if (!c->webnn.api)
		fmt_lines_add(l, "  navigator.ml: missing");
	for (int d = 0; d < NN__COUNT; d++) {
		const caps_nn_device *dv = &c->webnn.dev[d];
		char label[32];
		snprintf(label, sizeof label, "  %s", nn_device_name((nn_device)d));
		if (!dv->reported)
			fmt_lines_add(l, "%s: not reported", label);
		else if (dv->ok)
			fmt_lines_add(l, "%s: context ok, accelerated %s", label, tri_text(dv->accelerated));
		else
			fmt_lines_wrap(l, label, dv->error[0] ? dv->error : "failed (no error text)", width);
	}
}

/* WebAssembly, and what the page knows about the machine. */
static void caps_other_lines(fmt_lines *l, const ac_caps *c, int width)
{
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "WASM %s", fmt_status_word(c, PLAT_WASM));
	fmt_lines_add(l, "  simd %s, threads %s", tri_text(c->wasm.simd), tri_text(c->wasm.threads));
	/* system */
	fmt_lines_add(l, "%s", "");
	char cores[16] = "n/a", mem[24] = "n/a";
	if (caps_cores_valid(c))
		snprintf(cores, sizeof cores, "%d", c->hardware_concurrency);
	if (caps_memory_valid(c))
		snprintf(mem, sizeof mem, "%g GB", c->device_memory_gb);
	fmt_lines_add(l, "cores %s, device memory %s, cross-origin isolated %s, secure context %s", cores, mem,
		      tri_text(c->cross_origin_isolated), tri_text(c->secure_context));
	fmt_lines_wrap(l, "user agent", c->user_agent[0] ? c->user_agent : "n/a", width);
}

void fmt_browser_detail(fmt_lines *l, const pool_browser *b, const browser_load *ld, int width, int64_t now_us)
{
	char t1[32], t2[32], dur[32], rtt[16];
	fmt_lines_add(l, "Browser %d: %s %s, %s", b->id, b->kind, b->version[0] ? b->version : "(version n/a)",
		      b->managed ? "managed" : "attached");
	if (b->managed && browser_pid_valid(b))
		ac_strlcatf(l->line[l->n - 1], FMT_LINE_MAX, " (pid %d)", b->pid);
	fmt_duration(dur, sizeof dur, b->changed_us > 0 ? now_us - b->changed_us : -1);
	fmt_ms(rtt, sizeof rtt, (double)b->rtt_us / 1000.0, browser_rtt_valid(b));
	fmt_lines_add(l, "  state %s for %s, reconnects %d, rtt %s ms", browser_state_name(b->state), dur,
		      b->connects > 1 ? b->connects - 1 : 0, rtt);
	fmt_clock(t1, sizeof t1, b->launched_us);
	fmt_clock(t2, sizeof t2, b->connected_us);
	fmt_lines_add(l, "  launched %s, connected %s", b->launched_us > 0 ? t1 : "n/a", b->connected_us > 0 ? t2 : "n/a");
	if (b->state == BS_EXITED)
		fmt_lines_add(l, "  exit status %d, signal %d", b->exit_status, b->exit_signal);
	if (b->reason[0])
		fmt_lines_wrap(l, "  reason", b->reason, width);
	if (b->note[0])
		fmt_lines_wrap(l, b->held ? "  HELD DOWN" : "  supervisor", b->note, width);
	if (b->audio_frontend[0])
		fmt_lines_wrap(l, "  audio front end", b->audio_frontend, width);
	if (b->grid) { /* a Selenium Grid browser: where it runs */
		char where[300];
		snprintf(where, sizeof where, "node %s, session %s", b->grid_node[0] ? b->grid_node : "n/a",
			 b->grid_session[0] ? b->grid_session : "none");
		fmt_lines_wrap(l, "  grid", where, width);
	}
	if (b->last_work_us > 0) {
		fmt_duration(dur, sizeof dur, now_us - b->last_work_us);
		fmt_lines_add(l, "  last request %s ago", dur);
	}
	if (ld)
		fmt_lines_add(l, "  models loaded %d, requests in flight %d", ld->models, ld->inflight);
	browser_usage_line(l, b);
	const ac_caps *c = &b->caps;
	if (!c->valid) {
		fmt_lines_add(l, "WebGPU n/a, WebNN n/a, WASM n/a: no hello received yet");
		return;
	}
	caps_webgpu_lines(l, c, width);
	caps_webnn_lines(l, c, width);
	caps_other_lines(l, c, width);
}

static void split_bar(char *out, size_t cap, double q, double w, double c, int width)
{
	double total = q + w + c;
	if (!cap)
		return;
	out[0] = '\0';
	if (!(total > 0) || width < 3)
		return;
	int nq = (int)(q / total * width + 0.5), nw = (int)(w / total * width + 0.5);
	if (nq + nw > width)
		nw = width - nq;
	int nc = width - nq - nw;
	size_t o = 0;
	for (int i = 0; i < nq && o + 1 < cap; i++)
		out[o++] = 'q';
	for (int i = 0; i < nw && o + 1 < cap; i++)
		out[o++] = 'w';
	for (int i = 0; i < nc && o + 1 < cap; i++)
		out[o++] = 'c';
	out[o] = '\0';
}

static const char *session_word(session_state st)
{
	switch (st) {
	case SS_LOADING: return "loading";
	case SS_READY: return "ready";
	case SS_FAILED: return "FAILED";
	case SS_RETIRED: return "retired";
	}
	return "?";
}

/* Latency, its split, verification and the history of a model row. */
static void model_latency_lines(fmt_lines *l, const pool_model *m, int width, bool utf8)
{
	char a[16], b[16], c[16];
	fmt_ms(a, sizeof a, m->p50_ms, m->lat_valid);
	fmt_ms(b, sizeof b, m->p95_ms, m->lat_valid);
	fmt_ms(c, sizeof c, m->p99_ms, m->lat_valid);
	fmt_lines_add(l, "  latency p50 %s ms, p95 %s ms, p99 %s ms", a, b, c);
	if (m->lat_valid) {
		fmt_ms(a, sizeof a, m->queue_ms, true);
		fmt_ms(b, sizeof b, m->wire_ms, true);
		fmt_ms(c, sizeof c, m->compute_ms, true);
		fmt_lines_add(l, "  timing split: queue %s ms, wire %s ms, compute %s ms", a, b, c);
		char bar[FMT_LINE_MAX];
		int bw = width - 4 > 60 ? 60 : width - 4;
		split_bar(bar, sizeof bar, m->queue_ms, m->wire_ms, m->compute_ms, bw);
		if (bar[0])
			fmt_lines_add(l, "  %s  (q queue, w wire, c compute)", bar);
	} else {
		fmt_lines_add(l, "  timing split: n/a (no request completed yet)");
	}
	if (!m->err_valid)
		fmt_lines_add(l, "  verification: not run yet");
	else
		fmt_lines_add(l, "  verification: max abs error %.3g, max relative error %.3g, %s", m->max_abs_err,
			      m->max_norm_err, m->verify_ok ? "within tolerance" : "FAIL (beyond tolerance)");
	if (m->fallback)
		fmt_lines_add(l, "  * some results ran on wasm instead of %s", m->platform);
	int hn = m->history_len < 0 ? 0 : m->history_len > POOL_LAT_HISTORY ? POOL_LAT_HISTORY : m->history_len;
	if (hn > 0) {
		char sp[FMT_LINE_MAX];
		int sw = width - 11;
		if (sw > POOL_LAT_HISTORY)
			sw = POOL_LAT_HISTORY;
		fmt_sparkline(sp, sizeof sp, m->history, hn, sw, utf8);
		fmt_lines_add(l, "  history %s", sp);
	}
}

/* The browsers a row is loaded in, as the row lists them. */
static void model_browser_lines(fmt_lines *l, const pool_model *m, const pool_browser *browsers, size_t n_browsers)
{
	int nb = m->n_browsers < POOL_MODEL_BROWSERS ? m->n_browsers : POOL_MODEL_BROWSERS;
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "Loaded in %d browser%s:", nb, nb == 1 ? "" : "s");
	for (int i = 0; i < nb; i++) {
		const pool_browser *br = NULL;
		for (size_t k = 0; k < n_browsers; k++)
			if (browsers[k].id == m->browsers[i])
				br = &browsers[k];
		if (!br) {
			fmt_lines_add(l, "  %d: gone", m->browsers[i]);
			continue;
		}
		char rtt[16];
		fmt_ms(rtt, sizeof rtt, (double)br->rtt_us / 1000.0, browser_rtt_valid(br));
		fmt_lines_add(l, "  %d %s %s, %s, WebGPU %s, WebNN %s, rtt %s ms", br->id, br->kind,
			      br->version[0] ? br->version : "", browser_state_name(br->state),
			      fmt_status_word(&br->caps, PLAT_WEBGPU), fmt_status_word(&br->caps, PLAT_WEBNN), rtt);
	}
}

/* The row's sessions: where each runs, its load time, counts and verification. */
static void model_session_lines(fmt_lines *l, const pool_model *m, const pool_session *sessions, size_t n_sessions,
				int width)
{
	int ns = 0;
	for (size_t i = 0; i < n_sessions; i++)
		ns += sessions[i].model == m->id;
	if (!ns)
		return;
	fmt_lines_add(l, "%s", "");
	fmt_lines_add(l, "Sessions (%d):", ns);
	for (size_t i = 0; i < n_sessions; i++) {
		const pool_session *se = &sessions[i];
		if (se->model != m->id)
			continue;
		char load[16], ew[16], line[FMT_LINE_MAX];
		fmt_ms(load, sizeof load, se->load_ms, session_load_valid(se));
		fmt_ms(ew, sizeof ew, se->ewma_ms, session_ewma_valid(se));
		snprintf(line, sizeof line, "  browser %d #%d %s %s%s%s%s: %s, load %s ms, in flight %d, done %llu, failed %llu, "
			 "avg %s ms", se->browser, se->session, se->precision, se->platform,
			 se->platform_used[0] && strcmp(se->platform_used, se->platform) ? " (ran on " : "",
			 se->platform_used[0] && strcmp(se->platform_used, se->platform) ? se->platform_used : "",
			 se->platform_used[0] && strcmp(se->platform_used, se->platform) ? ")" : "",
			 session_word(se->state), load, se->inflight, (unsigned long long)se->completed,
			 (unsigned long long)se->failed, ew);
		if (se->reference)
			ac_strlcatf(line, sizeof line, ", reference");
		if (se->verified)
			ac_strlcatf(line, sizeof line, ", verify %s (abs %.2g, tol %.2g)", se->verify_ok ? "ok" : "FAIL",
				    se->verify_abs, se->verify_tol);
		fmt_lines_wrap(l, "", line + 2, width);
		if (se->file[0])
			fmt_lines_wrap(l, "    file", se->file, width);
		if (se->io[0])
			fmt_lines_wrap(l, "    io", se->io, width);
		if (se->placement[0])
			fmt_lines_wrap(l, "    placement", se->placement, width);
		if (se->error[0])
			fmt_lines_wrap(l, "    error", se->error, width);
	}
}

void fmt_model_detail(fmt_lines *l, const pool_model *m, const pool_browser *browsers, size_t n_browsers,
		      const pool_session *sessions, size_t n_sessions, int width, bool utf8, int64_t now_us)
{
	char r[16], done[16], errs[16], dur[32];
	fmt_lines_add(l, "Model %d: %s (%s), %s on %s, %s", m->id, m->name, m->type[0] ? m->type : "type n/a",
		      m->precision[0] ? m->precision : "n/a", m->platform[0] ? m->platform : "n/a",
		      m->running ? "running" : "stopped");
	if (!m->running && m->stop_reason[0])
		fmt_lines_wrap(l, "  stopped", m->stop_reason, width);
	/* the workload */
	char shape[64];
	if (m->concurrency > 0)
		snprintf(shape, sizeof shape, "concurrency %d", m->concurrency);
	else if (m->target_rps > 0)
		snprintf(shape, sizeof shape, "%.3g req/s", m->target_rps);
	else
		snprintf(shape, sizeof shape, "no load shape");
	fmt_duration(dur, sizeof dur, m->started_us > 0 ? now_us - m->started_us : -1);
	fmt_lines_add(l, "  workload: %s, browser %s, %s, running for %s", shape, m->pin[0] ? m->pin : "auto",
		      m->count > 0 ? "a fixed count" : "until stopped", dur);
	if (m->count > 0)
		ac_strlcatf(l->line[l->n - 1], FMT_LINE_MAX, " (%lld requests)", (long long)m->count);
	fmt_lines_add(l, "  submitted %lld, finished %lld, warm-up %d excluded", (long long)m->submitted,
		      (long long)m->finished, m->warmup);
	fmt_count(done, sizeof done, m->completed);
	fmt_count(errs, sizeof errs, m->errors);
	fmt_rate(r, sizeof r, m->rps);
	fmt_lines_add(l, "  completed %s, errors %s, queue %d, in flight %d, %s req/s", done, errs, m->queue,
		      m->inflight, r);
	if (m->requeued || m->discarded || m->timed_out)
		fmt_lines_add(l, "  put back %llu (browser lost), late replies discarded %llu, timed out %llu",
			      (unsigned long long)m->requeued, (unsigned long long)m->discarded,
			      (unsigned long long)m->timed_out);
	if (m->breaker_note[0])
		fmt_lines_wrap(l, m->breakers_open ? "  BREAKER" : "  breaker", m->breaker_note, width);
	if (m->last_error[0])
		fmt_lines_wrap(l, "  last error", m->last_error, width);
	model_latency_lines(l, m, width, utf8);
	model_browser_lines(l, m, browsers, n_browsers);
	model_session_lines(l, m, sessions, n_sessions, width);
}
