/* accel-top bench: the reference tool's test runner, made real. Every combination of browser x
 * platform x model x precision asked for is run as a workload pinned to that browser, measured,
 * verified against fp32 on wasm in the same browser, and stored with its provenance. A
 * combination that cannot run here is stored as skipped with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "commands.h"

const char *const bench_platforms[PLAT__COUNT] = { "webgpu", "webnn", "wasm" };

void bench_usage(FILE *f)
{
	fputs("Usage: accel-top bench [OPTIONS]\n"
	      "Runs models in real browsers, measures and verifies them, and stores the results.\n", f);
	char names[96];
	family_list(names, sizeof names, "|", FAM_ALL);
	fprintf(f, "  --browser %s|all[,...]  (default all: every installed kind)\n", names);
	fputs("  --platform webgpu|webnn|wasm|all[,...]            (default all)\n"
	      "  --model NAME|all[,...]                             (default all)\n"
	      "  --precision 4|8|16|32|all[,...]  bits (default 32); --mixed-precision: int4 weights, fp16\n"
	      "  --iterations N (default 20)  --warmup N (default 3)  --concurrency N (default 1)\n"
	      "  --comprehensive              every installed browser x platform x model x precision\n"
	      "  --db PATH (default ./accel-top.db)  --db-only  --json FILE  --markdown FILE\n"
	      "  --visible  --allow-fallback  --require-hardware (exit 2 if a result ran on software or fell back)\n"
	      "  --browser-arg KIND=FLAG      one more flag for every browser of KIND (repeatable)\n"
	      "  --timeout SECS per combination (default 600)  --models DIR  --seed N  --audio SRC  --port N\n"
	      "  --text TEXT  --image FILE   real inputs for text and vision models (see accel-top(1))\n"
	      "  --record FILE                record every event of the run (replay: accel-top --replay FILE)\n"
	      "  --shard KIND,KIND            run each model that has shards as a pipeline, shard k on the k-th\n"
	      "                               kind, at 1 and at --concurrency (default 4) in flight, next to the\n"
	      "                               whole model on each of those browsers (the baseline, same run)\n"
	      "  --optimize-audio             audio models: log-mel on the page's GPU, shape from accel-top tune (--db)\n", f);
}

/* ---------------------------------------------------------------- options */

/* "all", or item among the list's entries */
bool bench_in_list(const char *list, const char *item)
{
	return !strcmp(list, "all") || ac_list_has(list, item);
}

enum { B_PLATFORM = 300, B_MODEL, B_PRECISION, B_MIXED, B_ITER, B_WARMUP, B_CONC, B_COMPREHENSIVE, B_DB_ONLY, B_MD,
       B_REQHW, B_SHARD };

/* bench's own options, one occurrence of d */
static int own_opt(opt_ctx *ctx, const opt_desc *d, const char *arg, ac_err *err)
{
	bench *b = ctx->cmd;
	long v;
	switch (d->id) {
	case B_PLATFORM: ac_strlcpy(b->platforms_arg, arg, sizeof b->platforms_arg); break;
	case B_MODEL: ac_strlcpy(b->models_arg, arg, sizeof b->models_arg); break;
	case B_PRECISION: ac_strlcpy(b->precisions_arg, arg, sizeof b->precisions_arg); break;
	case B_MIXED: b->mixed = true; break;
	case B_ITER: case B_WARMUP: case B_CONC: {
		long lo = d->id == B_WARMUP ? 0 : 1;
		if (opt_parse_long(arg, lo, 100000, &v))
			return ac_errf(err, AC_EINVAL, "--%s: '%s' is not a count from %ld to 100000", d->name, arg, lo);
		*(d->id == B_ITER ? &b->iterations : d->id == B_WARMUP ? &b->warmup : &b->concurrency) = (int)v;
		break;
	}
	case B_COMPREHENSIVE: b->comprehensive = true; break;
	case B_DB_ONLY: b->db_only = true; break;
	case B_MD: b->md_path = arg; break;
	case B_REQHW: b->require_hardware = true; break;
	case B_SHARD:
		if (strlen(arg) >= sizeof b->shard_arg)
			return ac_errf(err, AC_EINVAL, "--shard: '%s' is too long", arg);
		ac_strlcpy(b->shard_arg, arg, sizeof b->shard_arg);
		break;
	}
	return 0;
}

static const opt_desc b_platform = { "platform", B_PLATFORM, "webgpu|webnn|wasm|all[,...]", own_opt, 0 },
	b_model = { "model", B_MODEL, "NAME|all[,...]", own_opt, 0 },
	b_precision = { "precision", B_PRECISION, "4|8|16|32|all[,...]", own_opt, 0 },
	b_mixed = { "mixed-precision", B_MIXED, NULL, own_opt, 0 },
	b_iterations = { "iterations", B_ITER, "N", own_opt, 0 },
	b_warmup = { "warmup", B_WARMUP, "N", own_opt, 0 },
	b_concurrency = { "concurrency", B_CONC, "N", own_opt, 0 },
	b_comprehensive = { "comprehensive", B_COMPREHENSIVE, NULL, own_opt, 0 },
	b_db_only = { "db-only", B_DB_ONLY, NULL, own_opt, 0 },
	b_markdown = { "markdown", B_MD, "FILE", own_opt, 0 },
	b_require_hardware = { "require-hardware", B_REQHW, NULL, own_opt, 0 },
	b_shard = { "shard", B_SHARD, "KIND,KIND", own_opt, 0 };

const opt_desc *const bench_options[] = {
	&opt_browser, &b_platform, &b_model, &b_precision, &b_mixed, &b_iterations, &b_warmup, &b_concurrency,
	&b_comprehensive, &opt_db, &b_db_only, &opt_json_file, &b_markdown, &opt_visible, &opt_browser_arg,
	&opt_allow_fallback, &b_require_hardware, &opt_timeout, &opt_models, &opt_seed, &opt_audio, &opt_text, &opt_image, &opt_port,
	&opt_record, &b_shard, &opt_optimize_audio, &opt_help, NULL,
};

/* --shard KIND,KIND: known kinds, two or more; the browsers launched are those. */
static int check_shard(bench *b, ac_err *err)
{
	char kinds[64];
	ac_strlcpy(kinds, b->shard_arg, sizeof kinds);
	b->shard_kinds = 0;
	for (char *save, *t = strtok_r(kinds, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!family_find(t))
			return ac_errf(err, AC_EINVAL, "--shard: unknown browser '%s' (%s)", t, family_known());
		if (b->shard_kinds == CAT_MAX_SHARDS)
			return ac_errf(err, AC_EINVAL, "--shard: at most %d browser kinds", CAT_MAX_SHARDS);
		b->shard_kinds++;
	}
	if (b->shard_kinds < 2)
		return ac_errf(err, AC_EINVAL, "--shard: name one browser kind per shard, e.g. chromium,firefox");
	ac_strlcpy(b->browsers_arg, b->shard_arg, sizeof b->browsers_arg);
	return 0;
}

/* What the options mean together, once all are read; names are checked before any browser starts. */
static int check_args(bench *b, ac_err *err)
{
	ac_strlcpy(b->browsers_arg, b->o.browser, sizeof b->browsers_arg);
	if (!b->concurrency)
		b->concurrency = b->shard_arg[0] ? 4 : 1;
	if (b->shard_arg[0] && check_shard(b, err))
		return AC_EINVAL;
	b->o.tune_db = b->o.db; /* --optimize-audio reads the choices tune stored there */
	/* --concurrency N means N requests in flight: the per-session window must not hold them back */
	if (b->o.inflight < b->concurrency)
		b->o.inflight = b->concurrency < 64 ? b->concurrency : 64;
	if (b->comprehensive) {
		ac_strlcpy(b->browsers_arg, "all", sizeof b->browsers_arg);
		ac_strlcpy(b->platforms_arg, "all", sizeof b->platforms_arg);
		ac_strlcpy(b->models_arg, "all", sizeof b->models_arg);
		ac_strlcpy(b->precisions_arg, "all", sizeof b->precisions_arg);
	}
	/* names are checked now, before any browser starts */
	char buf[256];
	ac_strlcpy(buf, b->platforms_arg, sizeof buf);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcmp(t, "all") && strcmp(t, "webgpu") && strcmp(t, "webnn") && strcmp(t, "wasm"))
			return ac_errf(err, AC_EINVAL, "--platform: unknown platform '%s' (webgpu, webnn, wasm, all)", t);
	ac_strlcpy(buf, b->precisions_arg, sizeof buf);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcmp(t, "all") && prec_from_bits(atoi(t), false) < 0)
			return ac_errf(err, AC_EINVAL, "--precision: '%s' is not 4, 8, 16, 32 or all", t);
	return 0;
}

/* Which precisions the arguments ask for. */
static bool wants_precision(const bench *b, ac_precision p)
{
	if (p == PREC_Q4F16)
		return b->mixed || !strcmp(b->precisions_arg, "all");
	if (b->mixed && strcmp(b->precisions_arg, "all") && strcmp(b->precisions_arg, "32"))
		return false; /* --mixed-precision with explicit bits: only the mixed variant */
	static const char *const bits[] = { "32", "16", "8", "4" };
	if (b->mixed && !strcmp(b->precisions_arg, "32"))
		return false;
	return bench_in_list(b->precisions_arg, bits[p]);
}

/* ---------------------------------------------------------------- output */

static cJSON *result_json(const store_result *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "browser_id", r->browser_id);
	cJSON_AddStringToObject(o, "browser", r->browser_kind);
	cJSON_AddStringToObject(o, "browser_version", r->browser_version);
	cJSON_AddStringToObject(o, "model", r->model);
	cJSON_AddStringToObject(o, "model_type", r->model_type);
	cJSON_AddStringToObject(o, "precision_requested", r->precision_requested);
	if (r->precision_loaded[0]) cJSON_AddStringToObject(o, "precision_loaded", r->precision_loaded);
	else cJSON_AddNullToObject(o, "precision_loaded");
	if (r->file_loaded[0]) cJSON_AddStringToObject(o, "file_loaded", r->file_loaded);
	else cJSON_AddNullToObject(o, "file_loaded");
	cJSON_AddStringToObject(o, "platform_requested", r->platform_requested);
	if (r->platform_used[0]) cJSON_AddStringToObject(o, "platform_used", r->platform_used);
	else cJSON_AddNullToObject(o, "platform_used");
	if (r->classification[0]) cJSON_AddStringToObject(o, "classification", r->classification);
	else cJSON_AddNullToObject(o, "classification");
	cJSON_AddStringToObject(o, "evidence", r->evidence);
	cJSON_AddBoolToObject(o, "fallback", r->fallback);
	cJSON_AddStringToObject(o, "status", r->status);
	if (r->reason[0]) cJSON_AddStringToObject(o, "reason", r->reason);
	else cJSON_AddNullToObject(o, "reason");
	cJSON_AddNumberToObject(o, "iterations", r->iterations);
	cJSON_AddNumberToObject(o, "warmup", r->warmup);
	cJSON_AddNumberToObject(o, "concurrency", r->concurrency);
#define FIG(name, v, ok) do { if (ok) cJSON_AddNumberToObject(o, name, v); else cJSON_AddNullToObject(o, name); } while (0)
	FIG("p50_ms", r->p50_ms, r->have_figures);
	FIG("p95_ms", r->p95_ms, r->have_figures);
	FIG("p99_ms", r->p99_ms, r->have_figures);
	FIG("mean_ms", r->mean_ms, r->have_figures);
	FIG("throughput_rps", r->throughput_rps, r->have_figures);
	FIG("load_ms", r->load_ms, r->have_figures && r->load_ms >= 0);
	FIG("compute_mean_ms", r->compute_mean_ms, r->have_figures);
	FIG("wire_mean_ms", r->wire_mean_ms, r->have_figures);
	FIG("memory_bytes", r->memory_bytes, r->have_memory);
	FIG("verify_max_abs", r->verify_max_abs, r->have_verify);
	FIG("verify_norm_err", r->verify_norm_err, r->have_verify);
	FIG("verify_tolerance", r->verify_tolerance, r->have_verify);
#undef FIG
	if (r->have_verify) cJSON_AddBoolToObject(o, "verify_ok", r->verify_ok);
	else cJSON_AddNullToObject(o, "verify_ok");
	cJSON_AddStringToObject(o, "verify_note", r->verify_note);
	if (r->placement[0]) cJSON_AddStringToObject(o, "placement", r->placement);
	else cJSON_AddNullToObject(o, "placement");
	cJSON_AddStringToObject(o, "output_head", r->output_head);
	if (r->shard[0]) {
		cJSON_AddStringToObject(o, "shard", r->shard);
		cJSON *figs = cJSON_Parse(r->shard_figures);
		if (figs)
			cJSON_AddItemToObject(o, "shards", figs);
	} else {
		cJSON_AddNullToObject(o, "shard");
	}
	return o;
}

static int write_json(bench *b, int64_t run_id)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "run", (double)run_id);
	cJSON_AddStringToObject(root, "command", b->command);
	cJSON *arr = cJSON_AddArrayToObject(root, "results");
	for (int i = 0; i < b->n_results; i++)
		cJSON_AddItemToArray(arr, result_json(&b->results[i]));
	char *s = cJSON_Print(root);
	cJSON_Delete(root);
	FILE *f = fopen(b->o.json_path, "w");
	if (!f) {
		fprintf(stderr, "accel-top bench: cannot write %s\n", b->o.json_path);
		free(s);
		return 1;
	}
	fputs(s, f);
	fputc('\n', f);
	fclose(f);
	free(s);
	return 0;
}

/* Where ORT put the nodes of each webnn result (the ops WebNN lacks run on ORT's CPU kernels):
 * not in the database's table, so said here, under it. */
static void print_placement(const bench *b, FILE *out)
{
	bool first = true;
	for (int i = 0; i < b->n_results; i++) {
		const store_result *r = &b->results[i];
		if (!r->placement[0])
			continue;
		fprintf(out, "%s%s %s %s %s: %s\n", first ? "\nnode placement (onnxruntime-web's log):\n  " : "  ",
			r->browser_kind, r->platform_used, r->model, r->precision_loaded, r->placement);
		first = false;
	}
}

/* --shard: each sharded result next to its baselines from this run, in words. */
static void print_shard_summary(bench *b, FILE *out)
{
	for (int i = 0; i < b->n_results; i++) {
		const store_result *r = &b->results[i];
		if (!r->shard[0] || r->concurrency != 1)
			continue;
		fprintf(out, "\nsharded %s %s on %s, shards on %s: %s", r->model, r->precision_requested,
			r->platform_requested, r->shard, r->status);
		if (strcmp(r->status, "ok")) {
			fprintf(out, " (%s)\n", r->reason);
			continue;
		}
		fputc('\n', out);
		cJSON *figs = cJSON_Parse(r->shard_figures);
		const cJSON *f;
		cJSON_ArrayForEach(f, figs) {
			const cJSON *br = cJSON_GetObjectItemCaseSensitive(f, "browser");
			fprintf(out, "  shard %d on %s: compute %.2f ms, transfer %.2f ms, total %.2f ms, %.0f bytes out\n",
				cJSON_GetObjectItemCaseSensitive(f, "shard")->valueint, cJSON_IsString(br) ? br->valuestring : "?",
				cJSON_GetObjectItemCaseSensitive(f, "compute_ms")->valuedouble,
				cJSON_GetObjectItemCaseSensitive(f, "transfer_ms")->valuedouble,
				cJSON_GetObjectItemCaseSensitive(f, "total_ms")->valuedouble,
				cJSON_GetObjectItemCaseSensitive(f, "bytes")->valuedouble);
		}
		cJSON_Delete(figs);
		fprintf(out, "  sharded, 1 in flight: p50 %.2f ms, p95 %.2f ms, %.2f req/s\n", r->p50_ms, r->p95_ms,
			r->throughput_rps);
		for (int j = 0; j < b->n_results; j++) {
			const store_result *o = &b->results[j];
			if (strcmp(o->model, r->model) || strcmp(o->precision_requested, r->precision_requested) ||
			    strcmp(o->platform_requested, r->platform_requested))
				continue;
			if (o->shard[0] && o->concurrency > 1) {
				if (strcmp(o->status, "ok"))
					fprintf(out, "  sharded, %d in flight: %s (%s)\n", o->concurrency, o->status, o->reason);
				else
					fprintf(out, "  sharded, %d in flight: p50 %.2f ms, p95 %.2f ms, %.2f req/s: pipelining gain "
						"x%.2f over 1 in flight\n", o->concurrency, o->p50_ms, o->p95_ms, o->throughput_rps,
						r->throughput_rps > 0 ? o->throughput_rps / r->throughput_rps : 0);
			} else if (!o->shard[0]) {
				if (strcmp(o->status, "ok"))
					fprintf(out, "  whole model on %s: %s (%s)\n", o->browser_kind, o->status, o->reason);
				else
					fprintf(out, "  whole model on %s, 1 in flight: p50 %.2f ms, p95 %.2f ms, %.2f req/s "
						"(sharded p50 is x%.2f of it)\n", o->browser_kind, o->p50_ms, o->p95_ms,
						o->throughput_rps, o->p50_ms > 0 ? r->p50_ms / o->p50_ms : 0);
			}
		}
		if (r->have_verify)
			fprintf(out, "  verified: %s (error %.2g, tolerance %.2g; %s)\n", r->verify_ok ? "yes" : "NO",
				r->verify_norm_err, r->verify_tolerance, r->verify_note);
		else
			fprintf(out, "  verified: no (%s)\n", r->verify_note);
	}
}

void bench_finish_all(bench *b)
{
	ac_err err = { 0 };
	store *st = NULL;
	int64_t run_id = 0;
	fprintf(stderr, "\r\033[K");
	if (store_open(b->o.db, &st, &err) == 0 && store_begin_run(st, b->command, &run_id, &err) == 0) {
		for (size_t i = 0; i < pool_browser_count(b->a.pool); i++)
			store_add_browser(st, run_id, pool_browser_at(b->a.pool, i), &err);
		for (int i = 0; i < b->n_results; i++)
			if (store_add_result(st, run_id, &b->results[i], &err))
				break;
		store_end_run(st, run_id, &err);
	}
	if (err.code) {
		fprintf(stderr, "accel-top bench: %s\n", err.msg);
		b->exit_code = 1;
	}
	if (b->o.json_path && write_json(b, run_id))
		b->exit_code = 1;
	if (st && b->md_path) {
		FILE *f = fopen(b->md_path, "w");
		if (f) {
			store_report(st, run_id, REPORT_MD, f, &err);
			fclose(f);
		}
	}
	if (st && !b->db_only)
		store_report(st, run_id, REPORT_MD, stdout, &err);
	if (!b->db_only)
		print_placement(b, stdout);
	if (!b->db_only && b->shard_arg[0])
		print_shard_summary(b, stdout);
	store_close(st);
	int ran = 0, failed = 0, soft = 0;
	for (int i = 0; i < b->n_results; i++) {
		store_result *r = &b->results[i];
		if (!strcmp(r->status, "ok")) {
			ran++;
			if (r->have_verify && !r->verify_ok)
				failed++;
			if (strcmp(r->classification, "hardware") || r->fallback)
				soft++;
		} else if (!strcmp(r->status, "failed")) {
			failed++;
		}
	}
	fprintf(stderr, "accel-top bench: run %lld: %d ran, %d failed or outside tolerance, %d skipped; stored in %s\n",
		(long long)run_id, ran, failed, b->n_results - ran - failed, b->o.db);
	if (!b->exit_code) {
		if (b->require_hardware && soft) {
			fprintf(stderr, "accel-top bench: --require-hardware: %d result(s) ran on a software adapter or fell back\n", soft);
			b->exit_code = 2;
		} else if (failed) {
			b->exit_code = 1;
		} else if (!ran) {
			fprintf(stderr, "accel-top bench: nothing could run (every combination was skipped)\n");
			b->exit_code = 3;
		}
	}
	app_quit(&b->a, b->exit_code);
}

/* ---------------------------------------------------------------- main */

static int check_models(bench *b, ac_err *err)
{
	const catalog *cat = b->a.cat;
	char buf[256];
	ac_strlcpy(buf, b->models_arg, sizeof buf);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcmp(t, "all") && !catalog_find(cat, t)) {
			char names[512] = "";
			for (int i = 0; i < cat->n; i++)
				ac_strlcatf(names, sizeof names, "%s%s", i ? ", " : "", cat->models[i].name);
			return ac_errf(err, AC_ENOENT, "--model: no model named '%s' (available: %s)", t, names);
		}
	if (!b->shard_arg[0])
		return 0;
	int sharded = 0;
	for (int i = 0; i < cat->n; i++) {
		if (!bench_in_list(b->models_arg, cat->models[i].name))
			continue;
		if (cat->models[i].n_shards && cat->models[i].n_shards != b->shard_kinds)
			return ac_errf(err, AC_EINVAL, "--shard: %s has %d shards, and %d browser kinds are named",
				       cat->models[i].name, cat->models[i].n_shards, b->shard_kinds);
		if (!cat->models[i].n_shards && strcmp(b->models_arg, "all"))
			return ac_errf(err, AC_EINVAL, "--shard: %s is not described as shards (its accel.json has no "
				       "'shards'; see models/README.md)", cat->models[i].name);
		sharded += cat->models[i].n_shards > 0;
	}
	if (!sharded)
		return ac_errf(err, AC_EINVAL, "--shard: none of the models asked for is described as shards");
	return 0;
}

/* --shard: for each model with shards, platform and precision: the whole model on each shard's
 * browser (1 in flight: the baseline), then the shards as a pipeline at 1 and at --concurrency in
 * flight, all in this run. */
static void plan_sharded(bench *b)
{
	const catalog *cat = b->a.cat;
	char kinds[64];
	ac_strlcpy(kinds, b->shard_arg, sizeof kinds);
	int k = 0;
	for (char *save, *t = strtok_r(kinds, ",", &save); t && k < CAT_MAX_SHARDS; t = strtok_r(NULL, ",", &save)) {
		b->shard_browsers[k] = 0;
		for (size_t i = 0; i < pool_browser_count(b->a.pool) && !b->shard_browsers[k]; i++) {
			const pool_browser *pb = pool_browser_at(b->a.pool, i);
			bool taken = false;
			for (int j = 0; j < k; j++)
				taken |= b->shard_browsers[j] == pb->id;
			if (!strcmp(pb->kind, t) && !taken)
				b->shard_browsers[k] = pb->id;
		}
		k++;
	}
	for (int pl = 0; pl < PLAT__COUNT; pl++) {
		if (!bench_in_list(b->platforms_arg, bench_platforms[pl]))
			continue;
		for (int mi = 0; mi < cat->n; mi++) {
			const cat_model *m = &cat->models[mi];
			if (!bench_in_list(b->models_arg, m->name) || !m->n_shards)
				continue;
			for (int p = 0; p < PREC__COUNT; p++) {
				if (!wants_precision(b, (ac_precision)p))
					continue;
				for (int j = 0; j < b->shard_kinds; j++) {
					bool dup = false;
					for (int i = 0; i < j; i++)
						dup |= b->shard_browsers[i] == b->shard_browsers[j];
					if (!dup)
						b->combos[b->n_combos++] = (combo){ b->shard_browsers[j], pl, m, (ac_precision)p,
										    false, 1 };
				}
				b->combos[b->n_combos++] = (combo){ b->shard_browsers[0], pl, m, (ac_precision)p, true, 1 };
				if (b->concurrency > 1)
					b->combos[b->n_combos++] = (combo){ b->shard_browsers[0], pl, m, (ac_precision)p, true,
									    b->concurrency };
			}
		}
	}
}

/* Every combination asked for, over the browsers launched. */
static void plan(bench *b)
{
	const catalog *cat = b->a.cat;
	size_t nb = pool_browser_count(b->a.pool);
	b->combos = calloc((nb + 2) * PLAT__COUNT * (size_t)cat->n * PREC__COUNT + 1, sizeof *b->combos);
	if (b->shard_arg[0]) {
		plan_sharded(b);
		return;
	}
	for (size_t i = 0; i < nb; i++)
		for (int pl = 0; pl < PLAT__COUNT; pl++) {
			if (!bench_in_list(b->platforms_arg, bench_platforms[pl]))
				continue;
			for (int mi = 0; mi < cat->n; mi++) {
				if (!bench_in_list(b->models_arg, cat->models[mi].name))
					continue;
				for (int p = 0; p < PREC__COUNT; p++)
					if (wants_precision(b, (ac_precision)p))
						b->combos[b->n_combos++] = (combo){ pool_browser_at(b->a.pool, i)->id, pl,
										    &cat->models[mi], (ac_precision)p,
										    false, b->concurrency };
			}
		}
}

static void start_when_settled(uv_timer_t *t)
{
	bench *b = t->data;
	if (!b->started) { /* --settle passed: go with whoever said hello */
		b->started = true;
		bench_next_combo(b);
	}
}

static void defaults(bench *b)
{
	options_defaults(&b->o);
	b->o.batch = true;
	b->o.port = 0;
	b->o.request_timeout_s = 0; /* --timeout per combination governs (SwiftShader runs take minutes) */
	b->o.timeout_s = 600;
	ac_strlcpy(b->platforms_arg, "all", sizeof b->platforms_arg);
	ac_strlcpy(b->models_arg, "all", sizeof b->models_arg);
	ac_strlcpy(b->precisions_arg, "32", sizeof b->precisions_arg);
	b->iterations = 20;
	b->warmup = 3;
	b->concurrency = 0; /* 1, or 4 with --shard, unless given */
}

int bench_run(const command *self, int argc, char **argv)
{
	static bench b;
	ac_err err = { 0 };
	defaults(&b);
	int code = command_options(self, &b.o, &b, argc, argv);
	if (code >= 0)
		return code;
	if (check_args(&b, &err)) {
		fprintf(stderr, "accel-top bench: %s\n", err.msg);
		return 2;
	}
	for (int i = 0; i < argc; i++)
		ac_strlcatf(b.command, sizeof b.command, "%s%s", i ? " " : "accel-top ", argv[i]);
	b.o.argc = argc + 1; /* the recording's header: "accel-top bench ..." (argv[-1] is the program) */
	b.o.argv = argv - 1;
	if (command_launch_kinds(&b.o, b.browsers_arg, &err)) {
		fprintf(stderr, "accel-top bench: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; b.shard_arg[0] && i < b.o.n_launch; i++) { /* "chromium,chromium" needs two */
		char kinds[64];
		int count = 0;
		ac_strlcpy(kinds, b.shard_arg, sizeof kinds);
		for (char *save, *t = strtok_r(kinds, ",", &save); t; t = strtok_r(NULL, ",", &save))
			count += !strcmp(t, b.o.launch[i].family);
		b.o.launch[i].count = count ? count : 1;
	}
	uv_loop_t *loop = uv_default_loop();
	b.a.user = &b;
	int rc = app_start(&b.a, loop, &b.o, &err);
	if (!rc)
		rc = check_models(&b, &err);
	if (!rc) {
		pool_add_listener(b.a.pool, bench_on_event, &b.a);
		uv_timer_init(loop, &b.deadline);
		uv_timer_init(loop, &b.step);
		b.deadline.data = b.step.data = &b;
		rc = app_launch_browsers(&b.a, &err);
	}
	if (!rc)
		plan(&b);
	if (rc) {
		fprintf(stderr, "accel-top bench: %s\n", err.msg);
		b.exit_code = rc == AC_ENOENT && strstr(err.msg, "--model") ? 2 : 1;
		app_quit(&b.a, b.exit_code);
	} else {
		uv_timer_start(&b.a.settle, start_when_settled, (uint64_t)(b.o.settle_s * 1000), 0);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (b.deadline.loop) {
		uv_close((uv_handle_t *)&b.deadline, NULL);
		uv_close((uv_handle_t *)&b.step, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	app_free(&b.a);
	free(b.combos);
	free(b.results);
	uv_loop_close(loop);
	return b.a.exit_code;
}
