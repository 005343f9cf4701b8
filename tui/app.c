/* The application: one loop that owns the pool, the bridge and the launcher, and wires events
 * from the bridge and the launcher into pool_apply(). The front ends (batch printer, screen) read
 * the pool through the listener and the snapshot functions. About 700 lines, because it is the
 * wiring of every part on the loop (start, stop, the event sinks and the bridge's hooks); what has
 * a job of its own is beside it: app_actions.c, app_grid.c, app_tls.c. */
#include "app.h"
#include "../pool/inputs.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pool/grid.h"
#include "../pool/journal.h"
#include "metrics.h"
#include "optaudio.h"
#include "replay.h"
#include "snapshot.h"
#include "usage.h"

/* ---- event sinks ---- */

static int apply_event(void *ctx, const ac_event *ev, ac_err *err)
{
	app *a = ctx;
	return pool_apply(a->pool, ev, err);
}

/* A reply to one of the scheduler's requests. */
static void on_sched_reply(void *ctx, int browser, const proto_msg *m, const proto_frame *frames, int n)
{
	app *a = ctx;
	if (a->sch)
		sched_on_response(a->sch, browser, m, frames, n);
}

/* The scheduler's hands (sched_io): the typed requests encoded by the codec and sent; the reply
 * comes back to on_sched_reply. */
static int send_encoded(app *a, int browser, cJSON *msg, const void *const *frames, const size_t *lens, int n,
			uint32_t *id)
{
	if (!msg)
		return AC_ENOMEM;
	bridge_blob blobs[CAT_MAX_IO];
	for (int i = 0; i < n && i < CAT_MAX_IO; i++)
		blobs[i] = (bridge_blob){ frames[i], lens[i] };
	int rc = bridge_request(a->br, browser, msg, blobs, n, on_sched_reply, a, id);
	cJSON_Delete(msg);
	return rc;
}

static int sched_load_cmd(void *ctx, int browser, const sched_load *l, uint32_t *id)
{
	return send_encoded(ctx, browser, proto_encode_load(l), NULL, NULL, 0, id);
}

static int sched_run_cmd(void *ctx, int browser, const sched_run *r, const void *const *frames, const size_t *lens,
			 int n, uint32_t *id)
{
	return send_encoded(ctx, browser, proto_encode_run(r), frames, lens, n, id);
}

static int sched_unload_cmd(void *ctx, int browser, int session, uint32_t *id)
{
	return send_encoded(ctx, browser, proto_encode_unload((uint32_t)session), NULL, NULL, 0, id);
}

int app_request(app *a, int browser, cJSON *msg, const bridge_blob *frames, int n, bridge_reply_fn cb, void *cb_ctx,
		uint32_t *id)
{
	if (a->replay || !a->br)
		return AC_ENOENT;
	return bridge_request(a->br, browser, msg, frames, n, cb, cb_ctx, id);
}

static int tuner_request(void *ctx, int browser, cJSON *msg, const bridge_blob *frames, int n, bridge_reply_fn cb,
			 void *cb_ctx, uint32_t *id)
{
	return app_request(ctx, browser, msg, frames, n, cb, cb_ctx, id);
}

static bool tuner_quitting(void *ctx)
{
	const app *a = ctx;
	return a->quitting;
}

void app_tuner_io(app *a, tuner_io *io)
{
	*io = (tuner_io){ .loop = a->loop, .request = tuner_request, .quitting = tuner_quitting, .ctx = a };
}

static int resolve_id(void *ctx, bool has_requested, uint32_t requested)
{
	app *a = ctx;
	if (has_requested && requested > 0 && requested <= INT32_MAX &&
	    pool_browser_find(a->pool, (int)requested))
		return (int)requested;
	return pool_next_id(a->pool);
}

/* ---- the supervisor's hands ---- */

static int sup_launch(void *ctx, const char *family, int id, ac_err *err)
{
	app *a = ctx;
	const browser_family *f = family_find(family);
	if (!a->ln || !f)
		return ac_errf(err, AC_EINVAL, "cannot launch %s now", family);
	return app_start_managed(a, f, id, err);
}

static int sup_restart(void *ctx, int browser, ac_err *err)
{
	app *a = ctx;
	const pool_browser *b = pool_browser_find(a->pool, browser);
	if (!a->ln || !b)
		return ac_errf(err, AC_EINVAL, "browser %d cannot be restarted now", browser);
	if (a->grid && grid_has(a->grid, browser)) /* a new session, same id */
		return grid_restart(a->grid, browser, bridge_page_url(a->br), err);
	if (launcher_is_running(a->ln, browser)) /* SIGKILL: a hung or stopped process ignores SIGTERM */
		return launcher_restart(a->ln, browser, SIGKILL) ? ac_errf(err, AC_EIO, "cannot signal browser %d", browser) : 0;
	const browser_family *f = family_find(b->kind);
	if (!f)
		return ac_errf(err, AC_EINVAL, "browser %d: unknown kind %s", browser, b->kind);
	return app_start_managed(a, f, browser, err);
}

static int sup_stop(void *ctx, int browser, ac_err *err)
{
	return app_stop_managed(ctx, browser, err);
}

static int start_supervisor(app *a, ac_err *err)
{
	const options *o = a->opt;
	sup_config c = {
		.idle_timeout_s = o->idle_timeout_s, .scale_wait_s = o->scale_wait_s, .scale_depth = (int)o->scale_depth,
		.scale_sustain_s = 3, .backoff_base_s = 1, .backoff_max_s = 30, .max_restarts = (int)o->max_restarts,
		.lost_grace_s = 2,
	};
	for (int i = 0; o->scaling && i < o->n_launch && c.n_limits < SUP_MAX_KINDS; i++) {
		sup_limit *l = &c.limits[c.n_limits++];
		ac_strlcpy(l->family, o->launch[i].family, sizeof l->family);
		l->min = o->launch[i].min;
		l->max = o->launch[i].max;
	}
	sup_io io = { .emit = apply_event, .launch = sup_launch, .restart = sup_restart, .stop = sup_stop, .ctx = a };
	if (sup_new(a->loop, a->pool, &c, &io, &a->sup))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	return pool_add_listener(a->pool, sup_on_event, a->sup) ? ac_errf(err, AC_ENOMEM, "too many pool listeners") : 0;
}

/* ---- shutdown ---- */

static void close_handle(uv_handle_t *h)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, NULL);
}

static void stop_recording(app *a)
{
	if (a->rec_timer.loop) {
		uv_timer_stop(&a->rec_timer);
		close_handle((uv_handle_t *)&a->rec_timer);
	}
	if (a->rec) {
		journal_writer *w = a->rec;
		a->rec = NULL;
		journal_close(w);
	}
}

static void on_launcher_done(void *ctx)
{
	app *a = ctx;
	a->ln = NULL;
	sched_close(a->sch); /* freed in app_free(): the pool calls its listener until the end */
	optaudio_close(a->oa);
	bridge_stop(a->br);
	/* after the browsers stopped (their exits are in the recording) and the bridge closed */
	stop_recording(a);
	replay_close(a->rp);
	close_handle((uv_handle_t *)&a->sig_int);
	close_handle((uv_handle_t *)&a->sig_term);
	close_handle((uv_handle_t *)&a->sig_hup);
	close_handle((uv_handle_t *)&a->tick);
	close_handle((uv_handle_t *)&a->settle);
	close_handle((uv_handle_t *)&a->runs_timer);
	app_forget_close(a);
	if (a->on_stopped)
		a->on_stopped(a);
}

static void stop_launcher(void *ctx)
{
	app *a = ctx;
	a->grid = NULL; /* freed by its shutdown */
	if (a->ln)
		launcher_shutdown(a->ln, 3000, on_launcher_done, a);
	else
		on_launcher_done(a);
}

void app_quit(app *a, int code)
{
	if (a->quitting)
		return;
	a->quitting = true;
	a->exit_code = code;
	sup_close(a->sup); /* browsers stopping now are not restarted */
	if (a->tick.loop)
		uv_timer_stop(&a->tick);
	if (a->settle.loop)
		uv_timer_stop(&a->settle);
	if (a->forget_timer.loop)
		uv_timer_stop(&a->forget_timer);
	usage_close(a->usage);
	a->usage = NULL;
	/* Grid sessions first, while the bridge (their HTTP) still runs: deleted, each answered or
	 * given up after the bound (one being created may take a session's start) */
	if (a->grid)
		grid_shutdown(a->grid, GRID_QUIT_GRACE_MS, stop_launcher, a);
	else
		stop_launcher(a);
}

static void on_signal(uv_signal_t *s, int signum)
{
	app *a = s->data;
	app_quit(a, 128 + signum);
}

/* ---- --run workloads ---- */

int app_parse_run(const char *spec, launch_form *f, ac_err *err)
{
	char buf[256], *parts[5] = { 0 };
	ac_strlcpy(buf, spec, sizeof buf);
	int n = 0;
	for (char *p = buf, *colon; n < 5 && p; p = colon ? colon + 1 : NULL, n++) {
		colon = strchr(p, ':');
		if (colon)
			*colon = '\0';
		parts[n] = p;
	}
	memset(f, 0, sizeof *f);
	if (!parts[0] || !parts[0][0])
		return ac_errf(err, AC_EINVAL, "--run '%s': name a model first (MODEL[:PRECISION[:PLATFORM[:BROWSER[:N]]]])", spec);
	ac_strlcpy(f->model, parts[0], sizeof f->model);
	ac_strlcpy(f->precision, parts[1] && *parts[1] ? parts[1] : "fp32", sizeof f->precision);
	ac_strlcpy(f->platform, parts[2] && *parts[2] ? parts[2] : "wasm", sizeof f->platform);
	ac_strlcpy(f->browser, parts[3] && *parts[3] ? parts[3] : "auto", sizeof f->browser);
	f->concurrency = parts[4] && *parts[4] ? atoi(parts[4]) : 1;
	if (f->concurrency < 1 || f->concurrency > 1024)
		return ac_errf(err, AC_EINVAL, "--run '%s': concurrency must be 1 to 1024", spec);
	return 0;
}

static void start_runs(uv_timer_t *t)
{
	app *a = t->data;
	for (int i = 0; i < a->opt->n_runs && !a->quitting; i++) {
		launch_form f;
		ac_err err;
		int row;
		if (app_parse_run(a->opt->runs[i], &f, &err) || app_launch_model(a, &f, &row, &err)) {
			ac_event ev = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = err.msg };
			pool_apply(a->pool, &ev, &err);
			if (a->opt->batch)
				fprintf(stderr, "accel-top: --run %s: %s\n", a->opt->runs[i], err.msg);
		}
	}
}

static void watch_for_runs(void *ctx, const ac_event *ev)
{
	app *a = ctx;
	(void)ev;
	if (a->runs_started || a->quitting || !a->opt->n_runs || !pool_settled(a->pool) || !pool_browser_count(a->pool))
		return;
	a->runs_started = true;
	uv_timer_start(&a->runs_timer, start_runs, 0, 0); /* from the loop, not inside this event */
}

/* ---- recording ---- */

static void record_event(void *ctx, const ac_event *ev)
{
	app *a = ctx;
	if (!a->rec)
		return;
	ac_err err = { 0 };
	if (journal_append(a->rec, ev, a->pool, &err)) {
		char msg[600];
		snprintf(msg, sizeof msg, "recording to %.200s stopped: %.300s", a->opt->record, err.msg);
		journal_writer *w = a->rec;
		a->rec = NULL; /* the error below is not recorded */
		journal_close(w);
		if (a->opt->batch)
			fprintf(stderr, "accel-top: %s\n", msg);
		ac_event e = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = msg };
		pool_apply(a->pool, &e, &err);
	}
}

static void on_rec_timer(uv_timer_t *t)
{
	app *a = t->data;
	ac_err err = { 0 };
	if (a->rec && journal_flush(a->rec, &err)) {
		char msg[600];
		snprintf(msg, sizeof msg, "recording to %.200s: %.300s", a->opt->record, err.msg);
		if (a->opt->batch)
			fprintf(stderr, "accel-top: %s\n", msg);
		ac_event e = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = msg };
		pool_apply(a->pool, &e, &err);
	}
}

/* The command line for the recording's header, without the token. */
static void command_line(const options *o, char *out, size_t cap)
{
	out[0] = '\0';
	ac_strlcatf(out, cap, "accel-top");
	for (int i = 1; i < o->argc; i++) {
		const char *arg = o->argv[i];
		if (!strcmp(arg, "--token")) {
			ac_strlcatf(out, cap, " --token (hidden)");
			i++;
			continue;
		}
		if (!strncmp(arg, "--token=", 8)) {
			ac_strlcatf(out, cap, " --token=(hidden)");
			continue;
		}
		ac_strlcatf(out, cap, strchr(arg, ' ') || !arg[0] ? " '%s'" : " %s", arg);
	}
}

/* Opens the recording. Its listener may come anywhere: events emitted from inside a listener are
 * applied after the one being dispatched (run to completion, pool.h), so every listener, this one
 * too, sees them in the order they were applied. */
static int start_recording(app *a, const options *o, ac_err *err)
{
	char cmd[2048];
	if (o->argc)
		command_line(o, cmd, sizeof cmd);
	else
		snprintf(cmd, sizeof cmd, "accel-top");
	ac_err e = { 0 };
	int rc = journal_create(o->record, cmd, &a->rec, &e);
	if (rc) {
		a->rec = NULL;
		if (strstr(e.msg, o->record))
			return ac_errf(err, rc, "--record: %s", e.msg);
		return ac_errf(err, rc, "--record %s: %s", o->record, e.msg);
	}
	pool_add_listener(a->pool, record_event, a);
	uv_timer_init(a->loop, &a->rec_timer);
	a->rec_timer.data = a;
	uv_timer_start(&a->rec_timer, on_rec_timer, 1000, 1000);
	return 0;
}

/* ---- replay ---- */

int64_t app_now_us(const app *a)
{
	return a->replay && a->rp ? replay_now(a->rp) : ac_now_us();
}

static void init_handles(app *a, uv_loop_t *loop)
{
	uv_signal_init(loop, &a->sig_int);
	uv_signal_init(loop, &a->sig_term);
	uv_signal_init(loop, &a->sig_hup);
	a->sig_int.data = a->sig_term.data = a->sig_hup.data = a;
	uv_signal_start(&a->sig_int, on_signal, SIGINT);
	uv_signal_start(&a->sig_term, on_signal, SIGTERM);
	uv_signal_start(&a->sig_hup, on_signal, SIGHUP);
	uv_timer_init(loop, &a->tick);
	uv_timer_init(loop, &a->settle);
	uv_timer_init(loop, &a->runs_timer);
	a->tick.data = a->settle.data = a->runs_timer.data = a;
}

int app_start_replay(app *a, uv_loop_t *loop, const options *o, bool play, ac_err *err)
{
	int rc;
	a->loop = loop;
	a->opt = o;
	a->replay = true;
	if ((rc = pool_new(&a->pool)))
		return ac_errf(err, rc, "out of memory");
	if ((rc = replay_open(o->replay, a->pool, &a->rp, err)))
		return rc;
	init_handles(a, loop);
	if ((rc = replay_start_clock(a->rp, loop, play)))
		return ac_errf(err, rc, "cannot start the replay clock: %s", uv_strerror(rc));
	return 0;
}

/* ---- start ---- */

static void random_token(char *out, size_t cap)
{
	unsigned char raw[16];
	if (uv_random(NULL, NULL, raw, sizeof raw, 0, NULL) != 0) /* getrandom(2) or /dev/urandom */
		memset(raw, 0, sizeof raw);
	for (size_t i = 0; i < sizeof raw && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* The folder holding browser-js/: $ACCEL_TOP_DATA, the executable's folder, or ../share/accel-top. */
static int find_data_dir(char *out, size_t cap, ac_err *err)
{
	char exe[4096];
	size_t n = sizeof exe;
	const char *env = getenv("ACCEL_TOP_DATA");
	char cands[3][4096] = { "", "", "" };
	if (env && *env)
		ac_strlcpy(cands[0], env, sizeof cands[0]);
	if (uv_exepath(exe, &n) == 0) {
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(cands[1], sizeof cands[1], "%s", exe);
		snprintf(cands[2], sizeof cands[2], "%.4000s/../share/accel-top", exe);
	}
	for (int i = 0; i < 3; i++) {
		char probe[4200];
		snprintf(probe, sizeof probe, "%.4000s/browser-js/index.html", cands[i]);
		if (cands[i][0] && access(probe, R_OK) == 0) {
			ac_strlcpy(out, cands[i], cap);
			return 0;
		}
	}
	return ac_errf(err, AC_ENOENT, "cannot find browser-js/index.html next to the executable "
		       "(set ACCEL_TOP_DATA to the folder that holds browser-js/)");
}

/* The demo models built by make (build/models), then every --models directory. */
static int load_models(app *a, const options *o, ac_err *err)
{
	a->cat = calloc(1, sizeof *a->cat);
	if (!a->cat)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	char builtin[4200];
	snprintf(builtin, sizeof builtin, "%.4000s/build/models", a->data_dir);
	int rc;
	if (access(builtin, R_OK) != 0)
		return ac_errf(err, AC_ENOENT, "the demo models are not built (%s is missing): run 'make'", builtin);
	if ((rc = catalog_add_dir(a->cat, builtin, err)))
		return rc;
	for (int i = 0; i < o->n_model_dirs; i++)
		if ((rc = catalog_add_dir(a->cat, o->model_dirs[i], err)))
			return rc;
	return 0;
}

/* Audio for the audio models; when it cannot be had, they say why when launched. */
static void load_audio(app *a, const options *o)
{
	ac_err e;
	if (!strcmp(o->audio, "silence")) {
		audio_silence(&a->clip, 30 * AUDIO_RATE);
	} else if (!strcmp(o->audio, "noise")) {
		audio_noise(&a->clip, 30 * AUDIO_RATE, o->seed);
	} else {
		char path[4300];
		if (!strcmp(o->audio, "speech"))
			snprintf(path, sizeof path, "%.4000s/build/audio/speech.wav", a->data_dir);
		else
			ac_strlcpy(path, o->audio, sizeof path);
		if (audio_load_wav(path, &a->clip, &e)) {
			snprintf(a->audio_error, sizeof a->audio_error, "%.200s%s", e.msg,
				 !strcmp(o->audio, "speech") ? " (made by 'make' with espeak-ng)" : "");
			return;
		}
		if (!strcmp(o->audio, "speech"))
			ac_strlcpy(a->clip.source, "speech", sizeof a->clip.source);
	}
	a->have_clip = true;
}

/* GET /metrics (the bridge's hook): the pool now, and this process from /proc/self. */
static char *render_metrics(void *ctx, size_t *len)
{
	app *a = ctx;
	metrics_self self = { 0 };
	ac_err err;
	self.valid = usage_self("/proc", &self.rss_bytes, &self.cpu_seconds, &err) == 0;
	metrics_buf b = { 0 };
	if (metrics_render(a->pool, app_now_us(a), &self, &b)) {
		metrics_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.s;
}

/* Each browser's WebSocket is a file descriptor: raise the soft limit to the hard one (as a
 * shell's `ulimit -n` default of 1024 would cap us near 1,000 browsers), and say so in the log
 * when even the hard limit is low. Before bridge_start(): lws sizes its tables from it. */
#define APP_FDS_WANTED 4096
static rlim_t raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1 << 20 : rl.rlim_max;
		struct rlimit nl = { .rlim_cur = want, .rlim_max = rl.rlim_max };
		if (!setrlimit(RLIMIT_NOFILE, &nl))
			rl.rlim_cur = want;
	}
	return rl.rlim_cur;
}

static void say_fd_limit(app *a, const options *o, rlim_t fds)
{
	if (!fds || fds >= APP_FDS_WANTED)
		return;
	char text[256];
	snprintf(text, sizeof text, "file descriptors limited to %llu (the hard limit): at most about %llu browsers "
		 "can connect; raise it (ulimit -Hn, or LimitNOFILE= in a systemd unit)", (unsigned long long)fds,
		 (unsigned long long)(fds > 64 ? fds - 64 : 0));
	ac_event ev = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = text };
	ac_err err;
	apply_event(a, &ev, &err);
	if (o->batch) /* the screen shows it in its log; batch output has no log */
		fprintf(stderr, "accel-top: %s\n", text);
}

/* The bridge: the page, the runtime, the models' folders, the token, TLS and /metrics. */
static int start_bridge(app *a, uv_loop_t *loop, const options *o, ac_err *err)
{
	if (o->token)
		ac_strlcpy(a->token, o->token, sizeof a->token);
	else
		random_token(a->token, sizeof a->token);
	const char *roots[CAT_MAX_ROOTS];
	for (int i = 0; i < a->cat->n_roots; i++)
		roots[i] = a->cat->roots[i];
	bridge_config bc = {
		.listen_addr = o->listen, .port = o->port, .token = a->token, .max_message = o->max_message,
		.send_queue_max = o->send_queue,
		.www_dir = a->www_dir, .ort_dir = a->ort_dir, .tokenizers_dir = a->tok_dir, .model_dirs = roots, .n_model_dirs = a->cat->n_roots,
		.heartbeat_ms = (unsigned)(o->heartbeat_s * 1000), .timeout_ms = (unsigned)(o->heartbeat_timeout_s * 1000),
		.public_url = o->public_url, .allow_origins = o->allow_origins, .n_allow_origins = o->n_allow_origins,
		.metrics_addr = o->metrics_addr[0] ? o->metrics_addr : NULL, .metrics_port = o->metrics_port,
		.tls_cert = a->tls_on ? a->tls.cert : NULL, .tls_key = a->tls_on ? a->tls.key : NULL,
	};
	bridge_sink sink = { .on_event = apply_event, .resolve_id = resolve_id, .on_reply = a->on_reply,
			     .render_metrics = render_metrics, .ctx = a };
	return bridge_start(loop, &bc, &sink, &a->br, err);
}

int app_start(app *a, uv_loop_t *loop, const options *o, ac_err *err)
{
	rlim_t fds = raise_fd_limit();
	int rc;
	a->loop = loop;
	a->opt = o;
	if ((rc = pool_new(&a->pool)))
		return ac_errf(err, rc, "out of memory");
	if ((rc = app_prepare_tls(a, o, err)))
		return rc;
	if ((rc = find_data_dir(a->data_dir, sizeof a->data_dir, err)))
		return rc;
	snprintf(a->www_dir, sizeof a->www_dir, "%s/browser-js", a->data_dir);
	snprintf(a->ort_dir, sizeof a->ort_dir, "%s/browser-js/node_modules/onnxruntime-web/dist", a->data_dir);
	char probe[4400];
	snprintf(probe, sizeof probe, "%.4300s/ort.all.min.mjs", a->ort_dir);
	if (access(probe, R_OK) != 0)
		return ac_errf(err, AC_ENOENT, "onnxruntime-web is missing (%s): run 'make deps'", a->ort_dir);
	if ((rc = load_models(a, o, err)))
		return rc;
	load_audio(a, o);
	if (o->image && (rc = inputs_read_image(o->image, &a->image, &a->image_len, err)))
		return rc;
	snprintf(a->tok_dir, sizeof a->tok_dir, "%s/browser-js/node_modules/@huggingface/tokenizers/dist", a->data_dir);

	init_handles(a, loop);
	if (o->record && (rc = start_recording(a, o, err)))
		return rc;

	if ((rc = start_bridge(a, loop, o, err)))
		return rc;
	say_fd_limit(a, o, fds);
	if (o->optimize_audio) { /* before the scheduler: its encode_audio hook */
		optaudio_io oio = { .pool = a->pool, .cat = a->cat, .clip = a->have_clip ? &a->clip : NULL,
				    .batch = o->batch };
		app_tuner_io(a, &oio.tuner);
		if (!(a->oa = optaudio_new(&oio, o->tune_db)))
			return ac_errf(err, AC_ENOMEM, "out of memory");
	}
	sched_config sc = { .allow_fallback = o->allow_fallback, .seed = o->seed, .window = (int)o->inflight,
			    .audio = a->have_clip ? &a->clip : NULL, .text = o->text, .image = a->image, .image_len = a->image_len,
			    .request_timeout_s = o->request_timeout_s,
			    .on_done = a->on_done, .on_done_ctx = a->user,
			    .encode_audio = a->oa ? optaudio_encode_audio : NULL, .encode_audio_ctx = a->oa };
	sched_io io = { .emit = apply_event, .load = sched_load_cmd, .run = sched_run_cmd, .unload = sched_unload_cmd,
			.ctx = a };
	if ((rc = sched_new(loop, a->pool, a->cat, &sc, &io, &a->sch)))
		return ac_errf(err, rc, "out of memory");
	pool_add_listener(a->pool, sched_on_event, a->sch);
	pool_add_listener(a->pool, watch_for_runs, a);
	for (int i = 0; i < o->n_runs; i++) { /* a malformed spec is a usage error, before anything starts */
		launch_form f;
		if ((rc = app_parse_run(o->runs[i], &f, err)))
			return rc;
	}
	if ((rc = launcher_new(loop, apply_event, a, &a->ln, err)))
		return rc;
	app_trust_for_managed(a);
	for (int i = 0; i < o->n_browser_args; i++)
		launcher_add_arg(a->ln, o->browser_args[i].family, o->browser_args[i].arg);
	if ((rc = usage_start(loop, a->pool, "/proc", USAGE_INTERVAL_MS, apply_event, a, &a->usage, err)))
		return rc;
	if (o->grid && (rc = app_start_grid(a, err)))
		return rc;
	if ((rc = app_start_forget(a, err)))
		return rc;
	return start_supervisor(a, err);
}

/* The browsers to launch: --browsers, or one of each installed default family. */
int app_launch_browsers(app *a, ac_err *err)
{
	const options *o = a->opt;
	if (o->no_launch)
		return 0;
	int rc;
	if (o->browsers_given) {
		for (int i = 0; i < o->n_launch; i++) {
			const browser_family *f = family_find(o->launch[i].family);
			char path[4096];
			if (f->webdriver_name && !a->grid)
				return ac_errf(err, AC_EINVAL, "--browsers %s: %s", f->name, f->install_hint);
			if (!f->webdriver_name && (rc = family_locate(f, path, sizeof path, err)))
				return rc; /* asked for and not installed: say so before launching any */
		}
		for (int i = 0; i < o->n_launch; i++)
			for (int k = 0; k < o->launch[i].count; k++) {
				const browser_family *f = family_find(o->launch[i].family);
				if ((rc = app_start_managed(a, f, pool_next_id(a->pool), err)))
					return rc;
			}
		return 0;
	}
	int launched = 0;
	for (int i = 0; family_by_launch(i) && family_by_launch(i)->by_default; i++) {
		const browser_family *f = family_by_launch(i);
		char path[4096];
		ac_err miss;
		if (family_locate(f, path, sizeof path, &miss) != 0) {
			ac_event ev = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = miss.msg };
			pool_apply(a->pool, &ev, err);
			continue;
		}
		if ((rc = launcher_start(a->ln, f, pool_next_id(a->pool), bridge_page_url(a->br), o->visible, err)))
			return rc;
		launched++;
	}
	if (!launched)
		return ac_errf(err, AC_ENOENT, "no supported browser is installed (looked for chromium and "
			       "firefox-esr): apt-get install chromium firefox-esr, or use --no-launch");
	return 0;
}

const char *app_model_name(app *a, size_t i)
{
	return a->cat && i < (size_t)a->cat->n ? a->cat->models[i].name : NULL;
}

void app_free(app *a)
{
	if (a->rec) { /* quit never ran (a start that failed early) */
		journal_close(a->rec);
		a->rec = NULL;
	}
	replay_free(a->rp);
	a->rp = NULL;
	sup_free(a->sup);
	a->sup = NULL;
	sched_free(a->sch);
	a->sch = NULL;
	bridge_free(a->br);
	pool_free(a->pool);
	free(a->cat);
	audio_free(&a->clip);
	free(a->image);
	optaudio_free(a->oa);
	a->oa = NULL;
	a->br = NULL;
	a->pool = NULL;
	a->cat = NULL;
}
