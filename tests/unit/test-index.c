/* The pool's id -> position index (pool/index.c) against a plain array, and the sorted latency
 * window (pool_lat_add, pool/workloads.c) against a sort of the ring, through many replacements. */
#include <stdlib.h>
#include <string.h>

#include "../../pool/pool.h"
#include "../../pool/pool_internal.h"
#include "check.h"
#include "tests.h"

static void free_ix(void *ix)
{
	ix_free(ix); /* its arrays */
	free(ix);
}

/* xorshift: a fixed sequence, the same every run */
static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int test_index_matches_array(void)
{
	enum { KEYS = 3000 };
	static long want[KEYS];
	ac_index *ix = check_defer(free_ix, calloc(1, sizeof *ix));
	CHECK(ix);
	for (int k = 0; k < KEYS; k++)
		want[k] = -1;
	CHECK_EQ_INT(ix_get(ix, 7), -1);
	uint64_t s = 88172645463325252ULL;
	for (int step = 0; step < 200000; step++) {
		int k = (int)(next(&s) % KEYS);
		uint64_t key = (uint64_t)k * 1000003ULL; /* clusters, as consecutive ids make */
		if (next(&s) % 3) {
			CHECK_EQ_INT(ix_put(ix, key, (size_t)step), 0);
			want[k] = step;
		} else {
			ix_del(ix, key);
			want[k] = -1;
		}
		int probe = (int)(next(&s) % KEYS);
		CHECK_EQ_INT(ix_get(ix, (uint64_t)probe * 1000003ULL), want[probe]);
	}
	size_t n = 0;
	for (int k = 0; k < KEYS; k++) {
		CHECK_EQ_INT(ix_get(ix, (uint64_t)k * 1000003ULL), want[k]);
		n += want[k] >= 0;
	}
	CHECK_EQ_INT(ix->n, n);
	ix_clear(ix);
	CHECK_EQ_INT(ix_get(ix, 0), -1);
	return 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

int test_lat_window_sorted(void)
{
	row_stats *st = check_defer(free, calloc(1, sizeof *st));
	float *ring = check_defer(free, malloc(STATS_LAT_MAX * sizeof *ring));
	CHECK(st && ring);
	uint64_t s = 2463534242ULL;
	for (int i = 0; i < 3 * STATS_LAT_MAX + 17; i++) {
		/* few distinct values (ties, values equal to the one leaving), then a wide spread */
		float v = i < STATS_LAT_MAX ? (float)(next(&s) % 50) : (float)(next(&s) % 100000) / 7.0f;
		pool_lat_add(st, v);
		size_t n = st->n_lat < STATS_LAT_MAX ? (size_t)st->n_lat : STATS_LAT_MAX;
		if (i % 509 && i != 3 * STATS_LAT_MAX + 16)
			continue;
		memcpy(ring, st->lat, n * sizeof *ring);
		qsort(ring, n, sizeof *ring, cmp_float);
		CHECK(memcmp(ring, st->lat_sorted, n * sizeof *ring) == 0);
	}
	st->n_lat = 0; /* a precision change starts the window again */
	pool_lat_add(st, 3);
	pool_lat_add(st, 1);
	CHECK(st->lat_sorted[0] == 1 && st->lat_sorted[1] == 3);
	return 0;
}

static void free_pool(void *p) { pool_free(p); }

static int64_t t_ev = 1795685261000000;

static int apply(pool *p, ac_event e)
{
	ac_err err = { 0, "" };
	e.t_us = (t_ev += 1000);
	return pool_apply(p, &e, &err);
}

/* what pool_next_queued answered before its heaps: the scan of the request table */
static const pool_request *scan_next(const pool *p, int model)
{
	const pool_request *best = NULL;
	for (size_t i = 0; i < pool_request_count(p); i++) {
		const pool_request *r = pool_request_at(p, i);
		if (r->model != model || r->inflight || r->stage)
			continue;
		if (!best || (r->front && !best->front) || (r->front == best->front && r->id < best->id))
			best = r;
	}
	return best;
}

/* a random queued (or, inflight: in flight) request of the table, or 0 */
static int64_t pick(const pool *p, uint64_t *s, bool inflight)
{
	size_t n = pool_request_count(p);
	for (size_t k = 0, at = n ? (size_t)(next(s) % n) : 0; k < n; k++) {
		const pool_request *r = pool_request_at(p, (at + k) % n);
		if (r->inflight == inflight)
			return r->id;
	}
	return 0;
}

/* Requests queued (ids not in order), sent, put back in front, done and failed at random on two
 * rows: pool_next_queued answers as the scan does after every event. */
int test_next_queued_matches_scan(void)
{
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = 1, .family = "chromium" }), 0);
	for (int m = 1; m <= 2; m++) {
		CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_WORKLOAD_STARTED, .model = m, .name = "bert-tiny",
						  .precision = "fp32", .platform = "wasm", .family = "auto", .text = "text" }), 0);
		CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_SESSION_LOADING, .browser = 1, .session = m, .model = m,
						  .precision = "fp32", .platform = "wasm", .text = "model.onnx" }), 0);
		CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_SESSION_READY, .browser = 1, .session = m, .platform = "wasm" }), 0);
	}
	uint64_t s = 1234567;
	int64_t next_id = 1;
	for (int step = 0; step < 20000; step++) {
		int m = 1 + (int)(next(&s) % 2), op = (int)(next(&s) % 10);
		int64_t id;
		if (op < 4) { /* queued: sometimes an id below the last (a recording may have any order) */
			id = next(&s) % 4 ? next_id++ : (int64_t)(next(&s) % (uint64_t)next_id) + 1;
			if (!pool_request_find(p, id))
				CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = m, .request = id }), 0);
		} else if (op < 6) { /* sent: mostly the one the scheduler would send */
			const pool_request *r = next(&s) % 3 ? pool_next_queued(p, m) : NULL;
			id = r ? r->id : pick(p, &s, false);
			r = pool_request_find(p, id);
			if (r)
				CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = r->model, .request = id,
								  .browser = 1, .session = r->model }), 0);
		} else if ((id = pick(p, &s, op != 9))) {
			const pool_request *r = pool_request_find(p, id);
			ev_kind k = op == 6 ? EV_REQUEST_REQUEUED : op < 9 ? EV_REQUEST_DONE : EV_REQUEST_FAILED;
			CHECK_EQ_INT(apply(p, (ac_event){ .kind = k, .model = r->model, .request = id, .browser = 1,
							  .session = r->model, .text = "x", .x = { 1, 1, 0, 0 } }), 0);
		}
		for (int k = 1; k <= 2; k++)
			CHECK(pool_next_queued(p, k) == scan_next(p, k));
	}
	return 0;
}
