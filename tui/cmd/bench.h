/* accel-top bench, inside: its state and what its files (bench_cmd.c: options, plan, start, and
 * storing and printing the results; bench_run.c: one combination after the other, and its
 * result) share. */
#ifndef AC_BENCH_H
#define AC_BENCH_H

#include "../../pool/store.h"
#include "../app.h"

typedef struct {
	int browser;        /* pool id (sharded: the first shard's) */
	int platform;       /* ac_platform */
	const cat_model *m;
	ac_precision prec;
	bool sharded;       /* --shard: the model as its shards, over shard_browsers */
	int concurrency;
} combo;

typedef struct {
	app a;
	options o;
	/* bench options */
	char browsers_arg[128], platforms_arg[64], models_arg[256], precisions_arg[64];
	bool mixed, comprehensive, db_only, require_hardware;
	int iterations, warmup, concurrency;
	const char *md_path;   /* --timeout, --db, --json FILE: in o */
	char shard_arg[64];          /* --shard KIND,KIND: "" = off */
	int shard_kinds;             /* kinds named */
	int shard_browsers[CAT_MAX_SHARDS]; /* pool ids, one per shard */
	/* the run */
	combo *combos;
	int n_combos, next;
	int row;            /* the workload running now, 0 = none */
	bool row_stopped;
	uv_timer_t deadline, step;
	store_result *results;
	int n_results;
	int exit_code;
	bool started;
	char command[1024];
} bench;

extern const char *const bench_platforms[PLAT__COUNT]; /* ac_platform order */

/* "all", or item among the list's entries */
bool bench_in_list(const char *list, const char *item);

/* bench_run.c: the pool listener, and the next combination (the first once the browsers settled) */
void bench_on_event(void *ctx, const ac_event *ev);
void bench_next_combo(bench *b);

/* bench_cmd.c: stores, writes and prints the results, then quits the app with bench's exit code */
void bench_finish_all(bench *b);

#endif
