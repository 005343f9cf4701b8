/* A map from a 64-bit key to a table position (open addressing, linear probing, deletion by
 * backward shift): the pool finds a browser, a session or a request by its id in O(1) instead of
 * walking its table (bench/load.py: 1,000 sessions looked up on every request). The tables stay
 * the truth; an index is a cache of them, rebuilt whole when in doubt (pool_load). */
#ifndef AC_INDEX_H
#define AC_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t *keys;
	uint32_t *vals;  /* position + 1; 0 = an empty slot */
	size_t cap, n;   /* cap: a power of two, or 0 */
} ac_index;

/* The position stored for key, or -1. */
long ix_get(const ac_index *ix, uint64_t key);
/* Stores (or replaces) key -> pos; negative on out of memory (the index is then emptied: a
 * lookup misses, and the caller falls back to its table). */
int ix_put(ac_index *ix, uint64_t key, size_t pos);
void ix_del(ac_index *ix, uint64_t key);
void ix_clear(ac_index *ix);
void ix_free(ac_index *ix);

#endif
