/* Results in sqlite3: runs, the browsers they saw, and one row per (browser, platform, model,
 * precision) measured, with its provenance. The schema is versioned (PRAGMA user_version); a
 * database written by a newer accel-top is refused rather than altered. WAL journal. */
#ifndef AC_STORE_H
#define AC_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ac.h"
#include "pool.h"

#define STORE_SCHEMA_VERSION 3 /* 2: the tuning table; 3: results.shard, results.shard_figures */

typedef struct store store;

typedef struct {
	int browser_id;
	char browser_kind[32], browser_version[64];
	char model[64], model_type[16];
	char precision_requested[8], precision_loaded[8], file_loaded[64];
	char platform_requested[8], platform_used[8];
	char classification[16];  /* of the adapter/backend the result ran on */
	char evidence[384];
	bool fallback;
	char status[12];          /* ok, failed, skipped */
	char reason[400];         /* why skipped or failed */
	int iterations, warmup, concurrency;
	/* figures; valid only when status is ok (n/a is NULL in the database) */
	bool have_figures;
	double p50_ms, p95_ms, p99_ms, mean_ms, min_ms, max_ms, throughput_rps;
	double load_ms, compute_mean_ms, wire_mean_ms, queue_mean_ms;
	bool have_memory;
	double memory_bytes;
	bool have_verify;
	double verify_max_abs, verify_norm_err, verify_tolerance;
	bool verify_ok;
	char verify_note[96];
	char placement[480];      /* webnn: ORT's node placement (pool_session.placement); JSON and text only */
	char output_head[160];    /* the first values of the first output, for eyeballing */
	/* sharded runs: the placement ("chromium,firefox"; "" = the whole model) and the per-shard
	 * means as JSON: [{"shard":1,"browser":"chromium","compute_ms":..,"transfer_ms":..,"total_ms":..,
	 * "bytes":..}, ...] */
	char shard[64];
	char shard_figures[1024];
} store_result;

int store_open(const char *path, store **out, ac_err *err);
void store_close(store *s);

int store_begin_run(store *s, const char *command, int64_t *run_id, ac_err *err);
int store_add_browser(store *s, int64_t run_id, const pool_browser *b, ac_err *err);
int store_add_result(store *s, int64_t run_id, const store_result *r, ac_err *err);
int store_end_run(store *s, int64_t run_id, ac_err *err);

/* One candidate kernel configuration measured by `accel-top tune` on one browser + adapter. */
typedef struct {
	int64_t run_id;
	double measured_at;       /* unix seconds */
	char browser_kind[32], browser_version[64];
	char adapter[300];        /* vendor / architecture / device / description, as the page reported */
	char classification[16];  /* of that adapter: hardware, software */
	char kernel[16];          /* "logmel" */
	char workload[96];        /* what was timed: clip, seconds, frames */
	int wx, wy, items;        /* workgroup wx x wy x 1, items per thread */
	bool is_default, chosen;
	char status[12];          /* ok, failed */
	char reason[300];
	char timing[48];          /* timestamp-query, or wall */
	int samples;
	bool have_figures;
	double median_ms, min_ms, mean_ms, compile_ms;
	bool have_verify, verify_ok;
	double verify_max_abs, verify_tolerance;
} store_tuning;

int store_add_tuning(store *s, int64_t run_id, const store_tuning *t, ac_err *err);
/* The rows of the latest tuning of `kernel` for this browser kind, version and adapter (the run
 * that chose one); *rows is malloc'd, *n = 0 when there is none. */
int store_find_tuning(store *s, const char *kind, const char *version, const char *adapter, const char *kernel,
		      store_tuning **rows, int *n, ac_err *err);

typedef enum { REPORT_MD, REPORT_JSON, REPORT_CSV } report_format;

/* Prints the results of one run (run_id > 0), the latest (0), or all (-1). */
int store_report(store *s, int64_t run_id, report_format fmt, FILE *out, ac_err *err);

#endif
