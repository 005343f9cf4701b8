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
 *   workloads.c      the model, session and request tables and their figures (no appliers) */
#ifndef AC_POOL_INTERNAL_H
#define AC_POOL_INTERNAL_H

#include "pool.h"

#define STATS_LAT_MAX 4096   /* latency samples kept for percentiles */
#define STATS_DONE_MAX 512   /* completion times kept for the rate */

typedef struct {
	float lat[STATS_LAT_MAX];      /* total ms of post-warm-up completions (ring) */
	uint64_t n_lat;
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
	/* where the last browser and session lookups ended: callers walk them in table order (the
	 * scheduler, per request, over every session), so a lookup that starts there is O(1)
	 * instead of a scan of 1,000 browsers each time (bench/load.py) */
	size_t browser_hint, session_hint;
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
