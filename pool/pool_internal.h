/* The pool's private layout, shared by the files that apply events (pool.c for browsers and the
 * log, workloads.c for models, sessions and requests). Readers use pool.h only. */
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
	pool_request *requests;       /* queued and in flight */
	size_t n_requests, cap_requests;
	pool_breaker *breakers;
	size_t n_breakers, cap_breakers;
	pool_request_totals totals;
	pool_log_entry log[POOL_LOG_MAX];
	size_t log_head, log_len;
	pool_listener listeners[POOL_MAX_LISTENERS];
	void *listener_ctx[POOL_MAX_LISTENERS];
	int n_listeners;
};

pool_browser *pool_find_browser(pool *p, int id);
int pool_apply_work(pool *p, const ac_event *ev, ac_err *err);
/* A browser went away: its sessions are gone with its page's connection. */
void pool_browser_gone(pool *p, int browser);
/* Frees every table the pool holds (not the pool): one place to list them. */
void pool_free_tables(pool *p);

#endif
