/* The pool's id -> position index (pool/index.c) against a plain array, and the sorted latency
 * window (pool_lat_add, pool/workloads.c) against a sort of the ring, through many replacements. */
#include <stdlib.h>
#include <string.h>

#include "../../pool/pool_internal.h"
#include "check.h"
#include "tests.h"

static void free_ix(void *ix) { ix_free(ix); }

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
