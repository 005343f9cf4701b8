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

static void finish_all(tune *t);

static void next_browser(tune *t)
{
	while (t->cur < t->n_bt && (t->bt[t->cur].r.skip[0] || t->bt[t->cur].stored))
		t->cur++;
	if (t->cur >= t->n_bt) {
		finish_all(t);
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

/* ---------------------------------------------------------------- output */

static void print_rows(const store_tuning *rows, int n)
{
	const store_tuning *def = NULL;
	for (int i = 0; i < n; i++)
		if (rows[i].is_default)
			def = &rows[i];
	printf("  %-10s %5s %10s %10s %8s %11s %11s %10s  %s\n", "workgroup", "items", "median ms", "min ms", "samples",
	       "vs default", "max |err|", "compile ms", "");
	for (int i = 0; i < n; i++) {
		const store_tuning *r = &rows[i];
		char shape[24], vs[24] = "n/a", med[16] = "n/a", mn[16] = "n/a", err[16] = "n/a", cm[16] = "n/a";
		snprintf(shape, sizeof shape, "%dx%dx1", r->wx, r->wy);
		if (r->have_figures) {
			snprintf(med, sizeof med, "%.3f", r->median_ms);
			snprintf(mn, sizeof mn, "%.3f", r->min_ms);
			snprintf(cm, sizeof cm, "%.0f", r->compile_ms);
			if (def && def->have_figures && r->median_ms > 0)
				snprintf(vs, sizeof vs, "%.2fx", def->median_ms / r->median_ms);
		}
		if (r->have_verify)
			snprintf(err, sizeof err, "%.2e", r->verify_max_abs);
		printf("  %-10s %5d %10s %10s %8d %11s %11s %10s  %s%s%s%s\n", shape, r->items, med, mn, r->samples, vs, err,
		       cm, r->is_default ? "default " : "", r->chosen ? "CHOSEN " : "", strcmp(r->status, "ok") ? "failed: " : "",
		       r->reason);
	}
}

/* The line that says what was chosen and what it gains, from the rows (measured or stored). */
static void summary(const store_tuning *rows, int n, char *out, size_t cap)
{
	const store_tuning *def = NULL, *ch = NULL;
	for (int i = 0; i < n; i++) {
		if (rows[i].is_default)
			def = &rows[i];
		if (rows[i].chosen)
			ch = &rows[i];
	}
	if (!ch) {
		snprintf(out, cap, "no candidate ran and verified: nothing chosen");
		return;
	}
	snprintf(out, cap, "chosen %dx%dx1, %d per thread: %.3f ms median (%s)", ch->wx, ch->wy, ch->items, ch->median_ms,
		 ch->timing);
	if (def && def->have_figures && ch != def)
		ac_strlcatf(out, cap, "; the default %dx%dx1/%d took %.3f ms: %.2fx (%+.1f%% time)", def->wx, def->wy,
			    def->items, def->median_ms, def->median_ms / ch->median_ms,
			    (ch->median_ms / def->median_ms - 1) * 100);
	else if (ch == def)
		ac_strlcatf(out, cap, "; it is the default: no gain over it");
}

static cJSON *rows_json(const store_tuning *rows, int n)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		const store_tuning *r = &rows[i];
		cJSON *o = cJSON_CreateObject();
		cJSON *wg = cJSON_AddArrayToObject(o, "workgroup");
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(r->wx));
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(r->wy));
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
		cJSON_AddNumberToObject(o, "items", r->items);
		cJSON_AddBoolToObject(o, "default", r->is_default);
		cJSON_AddBoolToObject(o, "chosen", r->chosen);
		cJSON_AddStringToObject(o, "status", r->status);
		cJSON_AddStringToObject(o, "reason", r->reason);
		cJSON_AddStringToObject(o, "timing", r->timing);
		cJSON_AddNumberToObject(o, "samples", r->samples);
#define FIG(name, v, ok) do { if (ok) cJSON_AddNumberToObject(o, name, v); else cJSON_AddNullToObject(o, name); } while (0)
		FIG("median_ms", r->median_ms, r->have_figures);
		FIG("min_ms", r->min_ms, r->have_figures);
		FIG("mean_ms", r->mean_ms, r->have_figures);
		FIG("compile_ms", r->compile_ms, r->have_figures);
		FIG("verify_max_abs", r->verify_max_abs, r->have_verify);
#undef FIG
		if (r->have_verify)
			cJSON_AddBoolToObject(o, "verify_ok", r->verify_ok);
		else
			cJSON_AddNullToObject(o, "verify_ok");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The measured rows, kept for printing and stored as one run; returns the run's id (0: none). */
static int64_t store_measured(tune *t)
{
	ac_err err = { 0 };
	store *st = NULL;
	int64_t run_id = 0;
	double now = (double)ac_now_us() / 1e6;
	bool any_measured = false;
	for (int i = 0; i < t->n_bt; i++)
		any_measured |= !t->bt[i].r.skip[0] && !t->bt[i].stored;
	for (int i = 0; i < t->n_bt; i++) {
		btune *b = &t->bt[i];
		if (b->r.skip[0] || b->stored)
			continue;
		b->rows = calloc((size_t)t->plan.n_shapes, sizeof *b->rows);
		b->n_rows = t->plan.n_shapes;
		tuner_rows(&t->plan, &b->r, now, b->rows);
		for (int k = 1; k < t->plan.n_clips; k++) /* a clip that failed verification rules out the choice */
			if (b->r.chosen >= 0 && (!b->r.clip_done[k] || !b->r.clip_ok[k]))
				t->exit_code = 1;
	}
	if (!any_measured)
		return 0;
	if (store_open(t->o.db, &st, &err) == 0 && store_begin_run(st, t->command, &run_id, &err) == 0) {
		for (size_t i = 0; i < pool_browser_count(t->a.pool); i++)
			store_add_browser(st, run_id, pool_browser_at(t->a.pool, i), &err);
		for (int i = 0; i < t->n_bt && !err.code; i++)
			for (int k = 0; !t->bt[i].stored && k < t->bt[i].n_rows && !err.code; k++)
				store_add_tuning(st, run_id, &t->bt[i].rows[k], &err);
		store_end_run(st, run_id, &err);
	}
	store_close(st);
	if (err.code) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		t->exit_code = 1;
	}
	return run_id;
}

static void chosen_json(cJSON *o, const store_tuning *ch, const store_tuning *def)
{
	cJSON *c = cJSON_AddObjectToObject(o, "chosen");
	cJSON *wg = cJSON_AddArrayToObject(c, "workgroup");
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(ch->wx));
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(ch->wy));
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
	cJSON_AddNumberToObject(c, "items", ch->items);
	cJSON_AddNumberToObject(c, "median_ms", ch->median_ms);
	cJSON_AddStringToObject(c, "timing", ch->timing);
	if (def && def->have_figures)
		cJSON_AddNumberToObject(o, "speedup_vs_default", def->median_ms / ch->median_ms);
	else
		cJSON_AddNullToObject(o, "speedup_vs_default");
}

/* A measured browser: each clip's verification against the C reference, printed and in o. */
static void print_clips(tune *t, const btune *b, const store_tuning *ch, cJSON *o)
{
	cJSON *clips = cJSON_AddArrayToObject(o, "clips");
	printf("  verified against the C reference (pool/audio.c), tolerance %.3g:", TUNE_TOLERANCE);
	for (int k = 0; k < t->plan.n_clips; k++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddItemToArray(clips, c);
		cJSON_AddStringToObject(c, "clip", t->plan.clip_names[k]);
		bool done = k == 0 ? ch && ch->have_verify : b->r.clip_done[k];
		double e = k == 0 ? (ch ? b->r.c[b->r.chosen].max_abs : 0) : b->r.clip_err[k];
		bool ok = k == 0 ? done && e <= TUNE_TOLERANCE : b->r.clip_ok[k];
		if (done && (k == 0 || !b->r.clip_reason[k][0]))
			cJSON_AddNumberToObject(c, "max_abs", e);
		else
			cJSON_AddNullToObject(c, "max_abs");
		cJSON_AddBoolToObject(c, "ok", ok);
		if (k && b->r.clip_reason[k][0])
			cJSON_AddStringToObject(c, "reason", b->r.clip_reason[k]);
		if (done && !b->r.clip_reason[k][0])
			printf(" %s %.2e%s", t->plan.clip_names[k], e, ok ? "" : " (FAILED)");
		else
			printf(" %s n/a (%s)", t->plan.clip_names[k], k && b->r.clip_reason[k][0] ? b->r.clip_reason[k] : "not run");
	}
	printf("\n");
}

/* One browser that was not skipped: where its rows came from, the rows, the choice. Returns
 * whether it has a choice. */
static bool print_tried(tune *t, btune *b, cJSON *o)
{
	char line[400];
	summary(b->rows, b->n_rows, line, sizeof line);
	cJSON_AddStringToObject(o, "source", b->stored ? "stored" : "measured");
	if (b->stored) {
		char when[32];
		time_t tt = (time_t)b->rows[0].measured_at;
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&tt));
		cJSON_AddNumberToObject(o, "stored_run", (double)b->rows[0].run_id);
		printf("  stored by run %lld at %s UTC, timed on %s (accel-top tune --force measures again)\n",
		       (long long)b->rows[0].run_id, when, b->rows[0].workload);
	} else {
		printf("  timed on %s\n", b->rows[0].workload);
	}
	print_rows(b->rows, b->n_rows);
	printf("  %s\n", line);
	cJSON_AddStringToObject(o, "summary", line);
	cJSON_AddItemToObject(o, "candidates", rows_json(b->rows, b->n_rows));
	const store_tuning *ch = NULL, *def = NULL;
	for (int k = 0; k < b->n_rows; k++) {
		if (b->rows[k].chosen)
			ch = &b->rows[k];
		if (b->rows[k].is_default)
			def = &b->rows[k];
	}
	if (ch) {
		chosen_json(o, ch, def);
	} else {
		cJSON_AddNullToObject(o, "chosen");
		t->exit_code = 1;
	}
	if (!b->stored)
		print_clips(t, b, ch, o);
	printf("\n");
	return ch != NULL;
}

static void write_json(tune *t, cJSON *root)
{
	char *s = cJSON_Print(root);
	FILE *f = fopen(t->o.json_path, "w");
	if (f) {
		fputs(s, f);
		fputc('\n', f);
		fclose(f);
	} else {
		fprintf(stderr, "accel-top tune: cannot write %s\n", t->o.json_path);
		t->exit_code = 1;
	}
	free(s);
}

static void finish_all(tune *t)
{
	fprintf(stderr, "\r\033[K");
	int64_t run_id = store_measured(t);
	cJSON *root = cJSON_CreateObject();
	if (run_id)
		cJSON_AddNumberToObject(root, "run", (double)run_id);
	else
		cJSON_AddNullToObject(root, "run");
	cJSON_AddStringToObject(root, "command", t->command);
	cJSON_AddNumberToObject(root, "tolerance", TUNE_TOLERANCE);
	cJSON *jb = cJSON_AddArrayToObject(root, "browsers");
	int chosen = 0, tried = 0;
	for (int i = 0; i < t->n_bt; i++) {
		btune *b = &t->bt[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(jb, o);
		cJSON_AddNumberToObject(o, "browser_id", b->r.browser);
		cJSON_AddStringToObject(o, "browser", b->r.kind);
		cJSON_AddStringToObject(o, "version", b->r.version);
		cJSON_AddStringToObject(o, "adapter", b->r.adapter);
		cJSON_AddStringToObject(o, "classification", b->r.classification);
		printf("%s %s, WebGPU adapter: %s (%s)\n", b->r.kind, b->r.version, b->r.adapter[0] ? b->r.adapter : "n/a",
		       b->r.classification[0] ? b->r.classification : "n/a");
		if (b->r.skip[0]) {
			cJSON_AddStringToObject(o, "source", "skipped");
			cJSON_AddStringToObject(o, "reason", b->r.skip);
			printf("  skipped: %s\n\n", b->r.skip);
			continue;
		}
		tried++;
		chosen += print_tried(t, b, o);
	}
	if (t->o.json_path)
		write_json(t, root);
	cJSON_Delete(root);
	fprintf(stderr, "accel-top tune: %d of %d browsers with WebGPU have a choice%s%s\n", chosen, tried,
		run_id ? "; stored in " : "", run_id ? t->o.db : "");
	if (!tried && !t->exit_code)
		t->exit_code = 3;
	fflush(stdout);
	app_quit(&t->a, t->exit_code);
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
	tune_defaults(&t);
	int code = command_options(self, &t.o, &t, argc, argv);
	if (code >= 0)
		return code;
	if (tune_check_args(&t, &err)) {
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
		tuner_io tio;
		app_tuner_io(&t.a, &tio);
		t.tn = tuner_new(&tio, &t.plan, on_tuned, &t);
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
