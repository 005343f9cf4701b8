/* accel-top doctor: checks, in order, everything accel-top needs on this machine, and prints one
 * line per check (OK, WARN or FAIL) with the concrete fix for each problem: the libraries and the
 * libwebsockets libuv plugin, the browsers and their versions, the Vulkan drivers, the bridge
 * serving its page, each browser launching and connecting, a round trip, the classification of
 * each platform, and one run of the smallest demo model per platform, verified.
 *
 * Lines come out in that order: every check has its slot from the start, and a line is printed
 * once it and every slot before it are decided. A WARN (a software adapter, WebNN missing when
 * it was not asked for by name) leaves the exit status 0; a FAIL makes it 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bridge/probe.h"
#include "../app.h"
#include "commands.h"
#include "doctor.h"

/* ---------------------------------------------------------------- the loop's stages */

static void finish_all(doctor *d);
static void next_stage(doctor *d);
static bool interrupted(doctor *d);

static dbrowser *by_id(doctor *d, int id)
{
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].id && d->br[k].id == id)
			return &d->br[k];
	return NULL;
}

static void on_step(uv_timer_t *t)
{
	next_stage(t->data);
}

/* Stages move on from the loop, not from inside the event or reply that ended one. */
static void step(doctor *d)
{
	uv_timer_stop(&d->deadline);
	uv_timer_start(&d->step, on_step, 0, 0);
}

static void arm(doctor *d, void (*cb)(uv_timer_t *))
{
	uv_timer_start(&d->deadline, cb, (uint64_t)(d->o.timeout_s * 1000), 0);
}

/* ---- bridge: the page and onnxruntime-web over plain HTTP, before any browser ---- */

static void got_ort(void *ctx, int status, size_t bytes, const char *error)
{
	doctor *d = ctx;
	if (interrupted(d))
		return;
	int i = d->i_bridge;
	char url[64];
	snprintf(url, sizeof url, "%s://127.0.0.1:%d/", d->a.tls_on ? "https" : "http", bridge_port(d->a.br));
	if (error || status != 200) {
		doc_set(&d->l, i, ST_FAIL, "%s serves the page, but GET /ort/ort.all.min.mjs gave %d%s%s", url, status,
		    error ? ": " : "", error ? error : "");
		doc_fix(&d->l, i, "", "", "make deps (installs onnxruntime-web into browser-js/node_modules)");
		ac_strlcpy(d->why_not, "not checked: the bridge does not serve onnxruntime-web", sizeof d->why_not);
		return finish_all(d);
	}
	doc_set(&d->l, i, ST_OK, "listening on %s; GET / gave 200 (%zu bytes), GET /ort/ort.all.min.mjs 200 (%zu bytes)", url,
	    d->page_bytes, bytes);
	doc_flush(&d->l);
	d->stage = STAGE_LAUNCH;
	step(d);
}

static void got_page(void *ctx, int status, size_t bytes, const char *error)
{
	doctor *d = ctx;
	if (interrupted(d))
		return;
	ac_err err = { 0 };
	int i = d->i_bridge;
	if (error || status != 200) {
		doc_set(&d->l, i, ST_FAIL, "the bridge listens on port %d but GET /?token=... gave %d%s%s", bridge_port(d->a.br),
		    status, error ? ": " : "", error ? error : "");
		doc_fix(&d->l, i, "", "", "check that ACCEL_TOP_DATA (or the executable's folder) holds browser-js/index.html");
		ac_strlcpy(d->why_not, "not checked: the bridge does not serve its page", sizeof d->why_not);
		return finish_all(d);
	}
	d->page_bytes = bytes;
	if ((d->a.tls_on ? probe_https_get : probe_http_get)(d->a.loop, bridge_port(d->a.br), "/ort/ort.all.min.mjs", 10000, got_ort, d, &err))
		got_ort(d, 0, 0, err.msg);
}

static void start_bridge_check(doctor *d)
{
	ac_err err = { 0 };
	char path[256];
	snprintf(path, sizeof path, "/?token=%s", d->a.token);
	if ((d->a.tls_on ? probe_https_get : probe_http_get)(d->a.loop, bridge_port(d->a.br), path, 10000, got_page, d, &err))
		got_page(d, 0, 0, err.msg);
}

/* ---- tls: whether pages are served so that browsers elsewhere get a secure context ---- */

static void check_tls(doctor *d, const char *start_error)
{
	int i = d->i_tls;
	const app *a = &d->a;
	if (start_error && !strncmp(start_error, "--tls", 5)) {
		doc_set(&d->l, i, ST_FAIL, "%s", start_error);
		doc_fix(&d->l, i, "", "", "give a readable PEM certificate and its own unencrypted key, or use --tls self-signed");
	} else if (start_error) {
		return; /* the bridge line says why; this one is "not checked" */
	} else if (a->tls_on) {
		doc_set(&d->l, i, ST_OK, "https and wss on port %d; %s; %s", bridge_port(a->br), a->tls_line[0] + 5,
			a->tls_line[1] + 5);
	} else if (a->insecure[0]) {
		doc_set(&d->l, i, ST_WARN, "%s", a->insecure);
		doc_fix(&d->l, i, "", "", "start accel-top with --tls self-signed (then trust it once on the other machine: "
			"the spki flag for Chromium, or accept the certificate), or --tls-cert FILE --tls-key FILE");
	} else {
		doc_set(&d->l, i, ST_OK, "http on %s, a loopback address: pages there are a secure context; browsers on other "
			"machines need https (--tls self-signed, or --tls-cert FILE --tls-key FILE)", d->o.listen);
	}
}

/* ---- launch: each browser starts and says hello ---- */

static void launch_failed(doctor *d, dbrowser *b, const char *why)
{
	doc_set(&d->l, b->i_launch, ST_FAIL, "%s", why);
	doc_fix(&d->l, b->i_launch, "", "", "run '%s --version' to see that it starts at all; accel-top -b --browsers %s "
	    "shows why it stops (its reason column)", b->exe, b->fam->name);
}

static bool all_launched(const doctor *d)
{
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].installed && !d->br[k].launched)
			return false;
	return true;
}

static void on_launch_deadline(uv_timer_t *t)
{
	doctor *d = t->data;
	if (interrupted(d))
		return;
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		if (b->installed && !b->launched) {
			char why[160];
			snprintf(why, sizeof why, "%s did not connect and say hello within %.0f s (--timeout)", b->fam->name, d->o.timeout_s);
			launch_failed(d, b, why);
			b->launched = true;
		}
	}
	doc_flush(&d->l);
	d->stage = STAGE_RTT;
	d->cur = -1;
	step(d);
}

static void start_launches(doctor *d)
{
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		if (!b->installed)
			continue;
		ac_err err = { 0 };
		b->start_us = ac_now_us();
		if (app_start_browser(&d->a, b->fam->name, &err)) {
			launch_failed(d, b, err.msg);
			b->launched = true;
			continue;
		}
		for (size_t j = 0; j < pool_browser_count(d->a.pool) && !b->id; j++) { /* the id it was given */
			const pool_browser *pb = pool_browser_at(d->a.pool, j);
			if (!strcmp(pb->kind, b->fam->name) && !by_id(d, pb->id))
				b->id = pb->id;
		}
	}
	doc_flush(&d->l);
	if (all_launched(d)) {
		d->stage = STAGE_RTT;
		d->cur = -1;
		step(d);
	} else {
		arm(d, on_launch_deadline);
	}
}

/* ---- round trip: pings, then 1 MiB echoed ---- */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void on_rtt_deadline(uv_timer_t *t)
{
	doctor *d = t->data;
	if (interrupted(d))
		return;
	dbrowser *b = &d->br[d->cur];
	doc_set(&d->l, b->i_rtt, ST_FAIL, "%s: %s within %.0f s (--timeout)", b->fam->name,
	    b->pings < DOC_PINGS ? "no pong" : "the 1 MiB echo did not come back", d->o.timeout_s);
	doc_fix(&d->l, b->i_rtt, "", "", "the browser is connected but does not answer: run accel-top -b --browsers %s and "
	    "look at its reason column", b->fam->name);
	doc_flush(&d->l);
	step(d);
}

static void send_ping(doctor *d, dbrowser *b)
{
	int rc = b->pings < DOC_PINGS ? bridge_ping(d->a.br, b->id, NULL) : bridge_echo(d->a.br, b->id, DOC_ECHO_BYTES, NULL);
	if (b->pings == DOC_PINGS)
		b->echo_sent_ns = uv_hrtime();
	if (rc) {
		doc_set(&d->l, b->i_rtt, ST_FAIL, "cannot send to %s: %s", b->fam->name, uv_strerror(rc));
		doc_flush(&d->l);
		step(d);
	}
}

static void on_reply(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes)
{
	doctor *d = ((app *)ctx)->user;
	(void)id;
	if (interrupted(d) || d->stage != STAGE_RTT || d->cur < 0 || d->br[d->cur].id != browser)
		return;
	dbrowser *b = &d->br[d->cur];
	if (type == PM_PONG && b->pings < DOC_PINGS) {
		b->rtt_ns[b->pings++] = rtt_ns;
		send_ping(d, b);
	} else if (type == PM_ECHO && b->pings == DOC_PINGS) {
		double echo_ms = (double)(uv_hrtime() - b->echo_sent_ns) / 1e6;
		uint64_t s[DOC_PINGS];
		memcpy(s, b->rtt_ns, sizeof s);
		qsort(s, DOC_PINGS, sizeof s[0], cmp_u64);
		if (bytes < DOC_ECHO_BYTES) {
			doc_set(&d->l, b->i_rtt, ST_FAIL, "%d pings answered (median %.2f ms), but the 1 MiB echo came back with %zu bytes",
			    DOC_PINGS, (double)s[DOC_PINGS / 2] / 1e6, bytes);
		} else {
			doc_set(&d->l, b->i_rtt, ST_OK, "%d pings over the WebSocket: median %.2f ms (%.2f to %.2f); 1 MiB sent and "
			    "echoed back in %.1f ms", DOC_PINGS, (double)s[DOC_PINGS / 2] / 1e6, (double)s[0] / 1e6,
			    (double)s[DOC_PINGS - 1] / 1e6, echo_ms);
		}
		doc_flush(&d->l);
		step(d);
	}
}

static void next_rtt(doctor *d)
{
	while (++d->cur < d->nb) {
		dbrowser *b = &d->br[d->cur];
		if (!b->installed)
			continue;
		const pool_browser *pb = b->id ? pool_browser_find(d->a.pool, b->id) : NULL;
		if (!pb || pb->state != BS_CONNECTED || !pb->caps.valid) {
			doc_set(&d->l, b->i_rtt, ST_FAIL, "not checked: %s is not connected (see its launch line)", b->fam->name);
			continue;
		}
		b->pings = 0;
		arm(d, on_rtt_deadline);
		send_ping(d, b);
		return;
	}
	doc_flush(&d->l);
	d->stage = STAGE_MODELS;
	d->cur = -1;
	step(d);
}

/* ---- models: one tiny run per platform, verified against fp32 on wasm ---- */
static bool row_settled(doctor *d)
{
	return pool_model_settled(d->a.pool, d->row);
}

static void end_model(doctor *d, bool timed_out)
{
	ac_err err;
	int b = d->cur / PLAT__COUNT, p = d->cur % PLAT__COUNT;
	doctor_judge_model(d, &d->br[b], p, timed_out);
	if (!d->row_stopped)
		sched_stop(d->a.sch, d->row, "timed out (doctor --timeout)", &err);
	d->row = 0;
	doc_flush(&d->l);
	step(d);
}

static void on_model_deadline(uv_timer_t *t)
{
	doctor *d = t->data;
	if (interrupted(d))
		return;
	if (d->row)
		end_model(d, true);
}

static void next_model(doctor *d)
{
	ac_err err = { 0 };
	while (++d->cur < d->nb * PLAT__COUNT) {
		dbrowser *b = &d->br[d->cur / PLAT__COUNT];
		int p = d->cur % PLAT__COUNT;
		int i = b->installed ? b->i_model[p] : -1;
		if (i < 0)
			continue;
		const pool_browser *pb = b->id ? pool_browser_find(d->a.pool, b->id) : NULL;
		if (!pb || pb->state != BS_CONNECTED || !pb->caps.valid) {
			doc_set(&d->l, i, ST_FAIL, "not run: %s is not connected (see its launch line)", b->fam->name);
			continue;
		}
		const ac_verdict *v = &pb->caps.verdict[p];
		if (v->status == CL_UNAVAILABLE) {
			doc_set(&d->l, i, d->l.ck[b->i_caps[p]].st, "not run: %s is unavailable in %s (see its caps line)", plat_name((ac_platform)p),
			    b->fam->name);
			continue;
		}
		const cat_model *cm = catalog_find(d->a.cat, DOC_MODEL);
		if (!cm || !cm->has[doctor_model_precision(p)] || !cm->has[PREC_FP32]) {
			doc_set(&d->l, i, ST_FAIL, "not run: the demo model %s (%s and fp32) is not in build/models", DOC_MODEL,
			    prec_name(doctor_model_precision(p)));
			doc_fix(&d->l, i, "", "", "make (builds the demo models into build/models)");
			continue;
		}
		launch_form f = { .concurrency = 1, .count = 1, .warmup = 0 };
		ac_strlcpy(f.model, DOC_MODEL, sizeof f.model);
		ac_strlcpy(f.precision, prec_name(doctor_model_precision(p)), sizeof f.precision);
		ac_strlcpy(f.platform, plat_name((ac_platform)p), sizeof f.platform);
		snprintf(f.browser, sizeof f.browser, "#%d", b->id);
		d->row_stopped = false;
		if (app_launch_model(&d->a, &f, &d->row, &err)) {
			d->row = 0;
			doc_set(&d->l, i, ST_FAIL, "%s could not start: %s", DOC_MODEL, err.msg);
			continue;
		}
		arm(d, on_model_deadline);
		return;
	}
	doc_flush(&d->l);
	finish_all(d);
}

static void on_event(void *ctx, const ac_event *ev)
{
	doctor *d = ((app *)ctx)->user;
	if (interrupted(d))
		return;
	dbrowser *b = by_id(d, ev->browser);
	if (!b && ev->kind == EV_BROWSER_LAUNCHED && ev->family) /* in case the launch is reported later */
		for (int k = 0; k < d->nb && !b; k++)
			if (d->br[k].installed && !d->br[k].id && !strcmp(d->br[k].fam->name, ev->family))
				(b = &d->br[k])->id = ev->browser;
	if (b && ev->kind == EV_BROWSER_VERSION) {
		doc_set(&d->l, b->i_installed, ST_OK, "%s, version %s", b->exe, ev->text ? ev->text : "?");
		doc_flush(&d->l);
	}
	if (b && !b->launched && (ev->kind == EV_BROWSER_HELLO || ev->kind == EV_BROWSER_FAILED ||
				  ev->kind == EV_BROWSER_EXITED || ev->kind == EV_BROWSER_LOST)) {
		const pool_browser *pb = pool_browser_find(d->a.pool, b->id);
		if (ev->kind == EV_BROWSER_HELLO && pb && pb->caps.valid) {
			doc_set(&d->l, b->i_launch, ST_OK, "%s %s launched (pid %d), connected and said hello in %.1f s", b->fam->name,
			    pb->version[0] ? pb->version : pb->caps.version, pb->pid, (double)(ac_now_us() - b->start_us) / 1e6);
			doc_check_caps(&d->l, b->i_caps, b->fam->name, pb, d->named, d->vulkan_ok);
		} else {
			char why[400];
			snprintf(why, sizeof why, "%s %s before saying hello: %s", b->fam->name,
				 ev->kind == EV_BROWSER_FAILED ? "could not be launched" : ev->kind == EV_BROWSER_LOST ?
				 "lost its connection" : "exited", ev->text ? ev->text : pb ? pb->reason : "");
			launch_failed(d, b, why);
		}
		b->launched = true;
		doc_flush(&d->l);
		if (d->stage == STAGE_LAUNCH && all_launched(d)) {
			d->stage = STAGE_RTT;
			d->cur = -1;
			step(d);
		}
	}
	if (d->stage == STAGE_RTT && b && d->cur >= 0 && b == &d->br[d->cur] &&
	    (ev->kind == EV_BROWSER_LOST || ev->kind == EV_BROWSER_EXITED)) {
		doc_set(&d->l, b->i_rtt, ST_FAIL, "%s went away during the round trip: %s", b->fam->name, ev->text ? ev->text : "");
		doc_flush(&d->l);
		step(d);
	}
	if (d->stage == STAGE_MODELS && d->row) {
		if (ev->kind == EV_WORKLOAD_STOPPED && ev->model == d->row)
			d->row_stopped = true;
		if (d->row_stopped && row_settled(d))
			end_model(d, false);
	}
}

static void next_stage(doctor *d)
{
	if (interrupted(d))
		return;
	switch (d->stage) {
	case STAGE_BRIDGE: start_bridge_check(d); break;
	case STAGE_LAUNCH: start_launches(d); break;
	case STAGE_RTT: next_rtt(d); break;
	case STAGE_MODELS: next_model(d); break;
	default: break;
	}
}

/* ---------------------------------------------------------------- the end */

static void finish_all(doctor *d)
{
	if (d->stage == STAGE_DONE)
		return;
	d->stage = STAGE_DONE;
	if (d->deadline.loop) {
		uv_timer_stop(&d->deadline);
		uv_timer_stop(&d->step);
	}
	for (int k = 0; k < d->nb; k++) /* the launcher never reported a version (not launched, or silent) */
		if (d->br[k].installed)
			doc_set(&d->l, d->br[k].i_installed, d->br[k].id ? ST_WARN : ST_OK, "%s%s", d->br[k].exe,
			    d->br[k].id ? ", but '--version' printed no version" : " (version not probed: not launched)");
	doc_fail_pending(&d->l, d->why_not[0] ? d->why_not : "not checked");
	int n[4];
	doc_count(&d->l, n);
	int code = n[ST_FAIL] ? 1 : 0;
	if (d->fix_path && doc_write_script(&d->l, d->fix_path))
		code = 1;
	if (d->l.json)
		printf("{\"summary\":{\"ok\":%d,\"warn\":%d,\"fail\":%d,\"exit_status\":%d}}\n", n[ST_OK], n[ST_WARN], n[ST_FAIL], code);
	else
		printf("doctor: %d ok, %d warn, %d fail%s%s\n", n[ST_OK], n[ST_WARN], n[ST_FAIL],
		       d->fix_path ? "; fixes written to " : "", d->fix_path ? d->fix_path : "");
	fflush(stdout);
	app_quit(&d->a, code);
}

/* A signal stopped the app before the checks ended: print what was decided, and stop our timers
 * so that nothing fires into a closing app. The exit status is the app's (128 + signal). */
static bool interrupted(doctor *d)
{
	if (!d->a.quitting || d->stage == STAGE_DONE)
		return d->stage == STAGE_DONE;
	d->stage = STAGE_DONE;
	if (d->deadline.loop) {
		uv_timer_stop(&d->deadline);
		uv_timer_stop(&d->step);
	}
	doc_flush(&d->l);
	fprintf(stderr, "accel-top doctor: interrupted; %d of %d checks done\n", d->l.printed, d->l.n);
	return true;
}

static void on_stopped(app *a)
{
	interrupted(a->user);
}

int doctor_run(const command *self, int argc, char **argv)
{
	static doctor d;
	ac_err err = { 0 };
	options_defaults(&d.o);
	d.o.batch = true;
	d.o.port = 0;
	d.o.request_timeout_s = 0; /* doctor's --timeout governs */
	d.o.timeout_s = 120;
	d.platforms = "all";
	int code = command_options(self, &d.o, &d, argc, argv);
	if (code >= 0)
		return code;
	if (doctor_check_args(&d, &err)) {
		fprintf(stderr, "accel-top doctor: %s\n", err.msg);
		return 2;
	}
	d.o.browsers_given = true; /* doctor launches each browser itself, one by one */
	d.o.n_launch = 0;
	doctor_plan(&d, d.o.browser);
	doc_check_libraries(&d.l, d.i_libs);
	for (int k = 0; k < d.nb; k++)
		d.br[k].installed = doc_check_installed(&d.l, d.br[k].i_installed, d.br[k].fam, d.br[k].exe, sizeof d.br[k].exe);
	doctor_plan_browsers(&d);
	d.vulkan_ok = doc_check_vulkan(&d.l, d.i_vulkan);
	doc_flush(&d.l);

	uv_loop_t *loop = uv_default_loop();
	d.a.user = &d;
	d.a.on_reply = on_reply;
	d.a.on_stopped = on_stopped;
	int rc = app_start(&d.a, loop, &d.o, &err);
	check_tls(&d, rc ? err.msg : NULL);
	if (!rc) {
		pool_add_listener(d.a.pool, on_event, &d.a);
		uv_timer_init(loop, &d.deadline);
		uv_timer_init(loop, &d.step);
		d.deadline.data = d.step.data = &d;
		d.stage = STAGE_BRIDGE;
		start_bridge_check(&d);
	} else {
		doc_set(&d.l, d.i_bridge, ST_FAIL, "accel-top cannot start: %s", err.msg);
		if (strstr(err.msg, "libwebsockets-evlib-uv"))
			doc_fix(&d.l, d.i_bridge, "libwebsockets-evlib-uv", "", "apt-get install -y libwebsockets-evlib-uv");
		else if (strstr(err.msg, "make deps"))
			doc_fix(&d.l, d.i_bridge, "", "", "make deps (in the accel-top source folder)");
		else if (strstr(err.msg, "run 'make'"))
			doc_fix(&d.l, d.i_bridge, "", "", "make (in the accel-top source folder)");
		else if (!strncmp(err.msg, "--tls", 5))
			doc_fix(&d.l, d.i_bridge, "", "", "see the tls line");
		else if (strstr(err.msg, "--port"))
			doc_fix(&d.l, d.i_bridge, "", "", "choose a free port with --port, or leave it out");
		ac_strlcpy(d.why_not, "not checked: accel-top could not start (see the bridge line)", sizeof d.why_not);
		finish_all(&d);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (d.deadline.loop) {
		uv_close((uv_handle_t *)&d.deadline, NULL);
		uv_close((uv_handle_t *)&d.step, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	app_free(&d.a);
	uv_loop_close(loop);
	return d.a.exit_code;
}
