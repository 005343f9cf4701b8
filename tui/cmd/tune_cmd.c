/* accel-top tune: the audio front end (log-mel, browser-js/logmel-wgsl.js) is a set of WGSL
 * kernels whose workgroup shape and items per thread are parameters. This command times every
 * candidate shape on each connected browser's WebGPU adapter, checks every output against the C
 * reference (audio_log_mel() in pool/audio.c), picks the fastest verified candidate and stores
 * the measurements and the choice in the database, keyed by browser kind, version and adapter.
 * A later start finds that choice and reuses it, unless --force. Nothing here is assumed about
 * which shape suits which browser: the figures are what this run measured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tune_cmd.h"
#include "commands.h"

void tune_usage(FILE *f)
{
	fputs("Usage: accel-top tune [OPTIONS]\n"
	      "Times the WebGPU log-mel kernels (audio front end) with each candidate workgroup shape on\n"
	      "every browser, verifies them against the C reference, and stores the fastest per browser + adapter.\n"
	      "  --browser chromium|chrome|edge|firefox|all[,...]   (default all: every installed kind)\n"
	      "  --force             measure again even where the database holds a choice\n"
	      "  --shapes LIST       candidates XxYx1[/ITEMS],... (default " TUNE_DEFAULT_CANDIDATES ");\n"
	      "                      the first is the default the gain is measured against\n"
	      "  --clip LIST         speech|silence|sweep|noise|FILE.wav[,...] (default speech,silence,sweep):\n"
	      "                      the first is timed, every one is verified\n"
	      "  --seconds S         clip length (default: the file's, 3 s for generated clips; at most 30)\n"
	      "  --frames N          log-mel frames, 10 ms each (default 3000: the audio model's 30 s input)\n"
	      "  --rounds N (default 3)  --repeat N kernel runs per request (default 3)\n"
	      "  --db PATH (default ./accel-top.db)  --json FILE  --timeout SECS per request (default 120)\n"
	      "  --visible  --port N\n", f);
}

enum { T_FORCE = 300, T_SHAPES, T_CLIP, T_SECONDS, T_FRAMES, T_ROUNDS, T_REPEAT };

/* tune's own options, one occurrence of d */
static int own_opt(opt_ctx *ctx, const opt_desc *d, const char *arg, ac_err *err)
{
	tune *t = ctx->cmd;
	long v;
	switch (d->id) {
	case T_FORCE: t->force = true; break;
	case T_SHAPES: ac_strlcpy(t->shapes_arg, arg, sizeof t->shapes_arg); break;
	case T_CLIP: ac_strlcpy(t->clips_arg, arg, sizeof t->clips_arg); break;
	case T_SECONDS:
		if (opt_parse_double(arg, 0, 30, &t->seconds) || !(t->seconds > 0))
			return ac_errf(err, AC_EINVAL, "--seconds: '%s' is not a length from 0 to 30 seconds", arg);
		break;
	case T_FRAMES: case T_ROUNDS: case T_REPEAT: {
		long hi = d->id == T_FRAMES ? 3000 : 1000;
		if (opt_parse_long(arg, 1, hi, &v))
			return ac_errf(err, AC_EINVAL, "--%s: '%s' is not a count from 1 to %ld", d->name, arg, hi);
		*(d->id == T_FRAMES ? &t->plan.frames : d->id == T_ROUNDS ? &t->plan.rounds : &t->plan.repeat) = (int)v;
		break;
	}
	}
	return 0;
}

static const opt_desc t_force = { "force", T_FORCE, NULL, own_opt, 0 },
	t_shapes = { "shapes", T_SHAPES, "LIST", own_opt, 0 },
	t_clip = { "clip", T_CLIP, "LIST", own_opt, 0 },
	t_seconds = { "seconds", T_SECONDS, "S", own_opt, 0 },
	t_frames = { "frames", T_FRAMES, "N", own_opt, 0 },
	t_rounds = { "rounds", T_ROUNDS, "N", own_opt, 0 },
	t_repeat = { "repeat", T_REPEAT, "N", own_opt, 0 };

const opt_desc *const tune_options[] = {
	&opt_browser, &t_force, &t_shapes, &t_clip, &t_seconds, &t_frames, &t_rounds, &t_repeat, &opt_db,
	&opt_json_file, &opt_timeout, &opt_visible, &opt_port, &opt_help, NULL,
};

static void defaults(tune *t)
{
	options_defaults(&t->o);
	t->o.batch = true;
	t->o.port = 0;
	t->o.timeout_s = 120;
	ac_strlcpy(t->shapes_arg, TUNE_DEFAULT_CANDIDATES, sizeof t->shapes_arg);
	ac_strlcpy(t->clips_arg, "speech,silence,sweep", sizeof t->clips_arg);
	t->plan.rounds = 3;
	t->plan.repeat = 3;
	t->plan.frames = 3000;
	t->plan.progress = true;
}

/* What the options mean together, once all are read. */
static int check_args(tune *t, ac_err *err)
{
	ac_strlcpy(t->browsers_arg, t->o.browser, sizeof t->browsers_arg);
	t->plan.timeout_s = t->o.timeout_s;
	return tune_parse_shapes(t->shapes_arg, t->plan.shapes, TUNER_MAX_SHAPES, &t->plan.n_shapes, err);
	return 0;
}

/* The clips: loaded, cut to length, with their C reference log-mel and their ATNS frame. */
static int load_clips(tune *t, ac_err *err)
{
	char buf[256];
	ac_strlcpy(buf, t->clips_arg, sizeof buf);
	for (char *save, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		audio_clip c = { 0 };
		size_t gen = (size_t)((t->seconds > 0 ? t->seconds : 3) * AUDIO_RATE);
		if (!strcmp(s, "silence")) {
			audio_silence(&c, gen);
		} else if (!strcmp(s, "sweep")) {
			audio_sweep(&c, gen, 100, 7900);
		} else if (!strcmp(s, "noise")) {
			audio_noise(&c, gen, 1);
		} else {
			char path[4300];
			if (!strcmp(s, "speech"))
				snprintf(path, sizeof path, "%.4000s/build/audio/speech.wav", t->a.data_dir);
			else
				ac_strlcpy(path, s, sizeof path);
			int rc = audio_load_wav(path, &c, err);
			if (rc) {
				if (!strcmp(s, "speech"))
					ac_strlcatf(err->msg, sizeof err->msg, " (made by 'make' with espeak-ng)");
				return rc;
			}
			if (t->seconds > 0 && c.n > gen)
				c.n = gen;
		}
		int rc = tuner_plan_add_clip(&t->plan, s, &c, err);
		audio_free(&c);
		if (rc)
			return rc;
	}
	if (!t->plan.n_clips)
		return ac_errf(err, AC_EINVAL, "--clip: name at least one clip");
	return 0;
}

/* ---------------------------------------------------------------- the run */

static void next_browser(tune *t)
{
	while (t->cur < t->n_bt && (t->bt[t->cur].r.skip[0] || t->bt[t->cur].stored))
		t->cur++;
	if (t->cur >= t->n_bt) {
		tune_finish_all(t);
		return;
	}
	const pool_browser *pb = pool_browser_find(t->a.pool, t->bt[t->cur].r.browser);
	if (!pb) {
		snprintf(t->bt[t->cur].r.skip, sizeof t->bt[0].r.skip, "the browser went away");
		next_browser(t);
		return;
	}
	tuner_begin(t->tn, pb, &t->bt[t->cur].r);
}

static void on_tuned(void *ctx, tuner_result *r)
{
	tune *t = ctx;
	(void)r;
	t->cur++;
	next_browser(t);
}

static bool on_response(app *a, int browser, const proto_msg *m, const proto_frame *frames, int n)
{
	tune *t = a->user;
	return tuner_on_response(t->tn, browser, m, frames, n);
}

/* The browsers: their adapter, and a stored choice unless --force. */
static void plan(tune *t)
{
	size_t nb = pool_browser_count(t->a.pool);
	t->bt = calloc(nb + 1, sizeof *t->bt);
	store *st = NULL;
	ac_err err = { 0 };
	if (!t->force && store_open(t->o.db, &st, &err)) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		st = NULL;
	}
	for (size_t i = 0; i < nb; i++) {
		const pool_browser *pb = pool_browser_at(t->a.pool, i);
		btune *b = &t->bt[t->n_bt++];
		tuner_result *r = &b->r;
		r->browser = pb->id;
		r->chosen = -1;
		ac_strlcpy(r->kind, pb->kind, sizeof r->kind);
		ac_strlcpy(r->version, pb->version, sizeof r->version);
		if (pb->state != BS_CONNECTED || !pb->caps.valid) {
			snprintf(r->skip, sizeof r->skip, "%s is %s: %s", pb->kind, browser_state_name(pb->state),
				 pb->reason[0] ? pb->reason : "it did not say hello");
			continue;
		}
		tune_adapter_key(&pb->caps, r->adapter, sizeof r->adapter);
		ac_strlcpy(r->classification, class_name(pb->caps.verdict[PLAT_WEBGPU].status), sizeof r->classification);
		if (pb->caps.verdict[PLAT_WEBGPU].status == CL_UNAVAILABLE) {
			snprintf(r->skip, sizeof r->skip, "WebGPU is unavailable in %s: %.300s", pb->kind,
				 pb->caps.verdict[PLAT_WEBGPU].evidence);
			continue;
		}
		if (st && store_find_tuning(st, r->kind, r->version, r->adapter, "logmel", &b->rows, &b->n_rows, &err) == 0 &&
		    b->n_rows)
			b->stored = true;
	}
	store_close(st);
}

/* ---------------------------------------------------------------- main */

static void on_event(void *ctx, const ac_event *ev)
{
	(void)ev;
	tune *t = ((app *)ctx)->user;
	if (!t->started && !t->a.quitting && pool_settled(t->a.pool) && t->a.ln) {
		t->started = true;
		uv_timer_stop(&t->a.settle);
		plan(t);
		next_browser(t);
	}
}

static void start_when_settled(uv_timer_t *h)
{
	tune *t = h->data;
	if (!t->started) { /* --settle passed: go with whoever said hello */
		t->started = true;
		plan(t);
		next_browser(t);
	}
}

int tune_run(const command *self, int argc, char **argv)
{
	static tune t;
	ac_err err = { 0 };
	defaults(&t);
	int code = command_options(self, &t.o, &t, argc, argv);
	if (code >= 0)
		return code;
	if (check_args(&t, &err)) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		return 2;
	}
	for (int i = 0; i < argc; i++)
		ac_strlcatf(t.command, sizeof t.command, "%s%s", i ? " " : "accel-top ", argv[i]);
	if (command_launch_kinds(&t.o, t.browsers_arg, &err)) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		return 1;
	}
	uv_loop_t *loop = uv_default_loop();
	t.a.user = &t;
	t.a.on_response = on_response;
	int rc = app_start(&t.a, loop, &t.o, &err);
	bool bad_arg = false;
	if (!rc)
		bad_arg = (rc = load_clips(&t, &err)) != 0;
	if (!rc) {
		/* the database first: a file it cannot use is refused before any browser starts */
		store *st = NULL;
		rc = store_open(t.o.db, &st, &err);
		store_close(st);
	}
	if (!rc) {
		pool_add_listener(t.a.pool, on_event, &t.a);
		t.tn = tuner_new(&t.a, &t.plan, on_tuned, &t);
		rc = app_launch_browsers(&t.a, &err);
	}
	if (rc) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		t.exit_code = bad_arg ? 2 : 1;
		app_quit(&t.a, t.exit_code);
	} else {
		uv_timer_start(&t.a.settle, start_when_settled, (uint64_t)(t.o.settle_s * 1000), 0);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (t.tn) {
		tuner_close(t.tn);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	app_free(&t.a);
	for (int i = 0; i < t.n_bt; i++) {
		tuner_result_free(&t.bt[i].r);
		free(t.bt[i].rows);
	}
	free(t.bt);
	tuner_plan_free(&t.plan);
	uv_loop_close(loop);
	return t.a.exit_code;
}
