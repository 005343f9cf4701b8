/* The pool's private layout, shared by the files that make up the pool. Readers use pool.h only.
 *
 * Who calls whom (one direction, no cycles):
 *   pool.c           the kind table's dispatch (pool_apply), the queue of events emitted while
 *                    listeners run, listeners, the event log, counters
 *     -> apply_browser.c  browsers (and the bridge, errors, scaling): table, appliers, log lines
 *     -> apply_work.c     workload rows, sessions, requests: appliers and log lines
 *     -> apply_breaker.c  circuit breakers: table, applier, log line
 *   apply_work.c -> apply_browser.c (pool_find_browser), workloads.c
 *   apply_browser.c -> workloads.c (pool_browser_gone)
 *   workloads.c      the model, session and request tables and their figures (no appliers)
 *   index.c          the id -> position maps those lookups use (a cache of the tables) */
#ifndef AC_POOL_INTERNAL_H
#define AC_POOL_INTERNAL_H

#include "index.h"
#include "pool.h"

#define STATS_LAT_MAX 4096   /* latency samples kept for percentiles */
#define STATS_DONE_MAX 512   /* completion times kept for the rate */

typedef struct {
	float lat[STATS_LAT_MAX];      /* total ms of post-warm-up completions (ring) */
	uint64_t n_lat;
	/* the same min(n_lat, STATS_LAT_MAX) samples in ascending order: a percentile is one read,
	 * and a completion moves at most two runs of it (pool_lat_add) */
	float lat_sorted[STATS_LAT_MAX];
	int64_t done_at[STATS_DONE_MAX]; /* t_us of completions (ring) */
	uint64_t n_done;
	double sum_queue, sum_wire, sum_page, sum_compute; /* ms, over post-warm-up completions */
	uint64_t n_split;
	double sum_e2e, min_e2e, max_e2e;
	int64_t warm_end_us, last_done_us; /* when measuring started (warm-up over) and the last completion */
} row_stats;

struct pool {
	pool_browser *browsers;
	size_t n, cap;
	int last_id;
	char bridge_url[256];
	int bridge_port;
	int64_t started_us;
	uint64_t events, errors;
	pool_model *models;
	row_stats *stats;             /* parallel to models */
	size_t n_models, cap_models;
	pool_session *sessions;
	size_t n_sessions, cap_sessions;
	/* browsers by id and sessions by (browser, session), each table's first *_ixd rows (the
	 * tables grow, except when pa_browser_forgotten removes rows: it clears both); requests by id while req_ix_ok. Caches of the tables (index.h), built
	 * on first use (after pool_load too): the scheduler looks up every session on every request,
	 * 1,000 of them in bench/load.py */
	ac_index browser_ix, session_ix, req_ix;
	size_t browser_ixd, session_ixd;
	bool req_ix_ok;
	/* per row (parallel to models, n_qh of them): a heap of (request, front) in the order
	 * pool_next_queued answers, with an entry for every queued request (and stale ones, dropped
	 * when they come to the top); rebuilt from the request table while !qh_ok */
	struct pool_qheap *qh;
	size_t n_qh;
	bool qh_ok;
	pool_request *requests;       /* queued and in flight */
	size_t n_requests, cap_requests;
	pool_breaker *breakers;
	size_t n_breakers, cap_breakers;
	pool_request_totals totals;
	pool_grid grid;
	pool_log_entry log[POOL_LOG_MAX];
	size_t log_head, log_len;
	pool_listener listeners[POOL_MAX_LISTENERS];
	void *listener_ctx[POOL_MAX_LISTENERS];
	int n_listeners;
	/* run to completion (pool.h): events emitted while listeners run wait here, in order, and
	 * so does the work put off with pool_after() until the queue is empty */
	bool dispatching;
	struct pool_queued *q_head, *q_tail;
	struct pool_after *a_head, *a_tail;
};

/* The appliers and log lines named by the kind table (event.h): pa_KIND applies the event or
 * refuses it (negative code, *err set, the pool unchanged); pl_KIND writes the event log's line
 * into text and returns true, or returns false when the kind has no line. Both run after the
 * event's predecessors are applied and before its listeners see it. */
#define POOL_KIND_PROTOS_(e, n, name, ap, pl) \
	int ap(pool *p, const ac_event *ev, ac_err *err); \
	bool pl(const pool *p, const ac_event *ev, char *text, size_t cap);
EV_KINDS(POOL_KIND_PROTOS_)
#undef POOL_KIND_PROTOS_

/* apply_browser.c */
pool_browser *pool_find_browser(pool *p, int id);
/* The kind of browser id (0 = none: dflt), for log lines; dflt when there is no such browser. */
const char *pool_kind_of(const pool *p, int id, const char *dflt);

/* workloads.c */
int pool_row_index(const pool *p, int id); /* index into models and stats, -1 if none */
pool_session *pool_session_get(pool *p, int browser, int session);
pool_request *pool_request_get(pool *p, int64_t id);
void pool_request_remove(pool *p, pool_request *r);
/* Appends a request to the table (zeroed, with its id), NULL when out of memory. */
pool_request *pool_request_add(pool *p, int64_t id);
/* r has just been queued or put back (front): into its row's heap for pool_next_queued. */
void pool_queue_note(pool *p, const pool_request *r);
/* Frees the heaps (pool_free_tables). */
void pool_queue_free(pool *p);
/* A post-warm-up latency sample into the ring and the sorted window. */
void pool_lat_add(row_stats *st, float ms);
/* Queue, in-flight and browser counts of row m, from the request and session tables. */
void pool_recount(pool *p, pool_model *m);
/* Percentiles, means and rates of row m after a completion at now_us. */
void pool_update_figures(pool_model *m, row_stats *st, int64_t now_us);
/* A browser went away: its sessions are gone with its page's connection. */
void pool_browser_gone(pool *p, int browser);

/* checkpoint_check.c: 0 when every table of p, just read from a checkpoint, holds only what a
 * live pool can (strings terminated, bools, enums, counts, ids, times); else AC_EINVAL with *err
 * naming the first field found wrong. */
int pool_check_loaded(const pool *p, ac_err *err);

/* pool.c: frees every table the pool holds (not the pool): one place to list them. */
void pool_free_tables(pool *p);

#endif
