/* accel-top tune: what was measured (or found stored), stored as one run, printed and written as
 * JSON, and the exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tune_cmd.h"

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

void tune_finish_all(tune *t)
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

