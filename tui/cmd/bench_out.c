/* accel-top bench: the results stored in the database, written as JSON and Markdown, printed,
 * and the exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

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

