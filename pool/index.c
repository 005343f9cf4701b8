/* The pool's id -> position maps (index.h). */
#include "index.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33; /* splitmix64's finaliser: ids are small and consecutive */
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

long ix_get(const ac_index *ix, uint64_t key)
{
	if (!ix->cap)
		return -1;
	for (size_t i = slot_of(key, ix->cap);; i = (i + 1) & (ix->cap - 1)) {
		if (!ix->vals[i])
			return -1;
		if (ix->keys[i] == key)
			return (long)ix->vals[i] - 1;
	}
}

static void put_raw(ac_index *ix, uint64_t key, uint32_t val)
{
	size_t i = slot_of(key, ix->cap);
	while (ix->vals[i] && ix->keys[i] != key)
		i = (i + 1) & (ix->cap - 1);
	if (!ix->vals[i])
		ix->n++;
	ix->keys[i] = key;
	ix->vals[i] = val;
}

static int grow(ac_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	ac_index nx = { calloc(cap, sizeof *nx.keys), calloc(cap, sizeof *nx.vals), cap, 0 };
	if (!nx.keys || !nx.vals) {
		free(nx.keys);
		free(nx.vals);
		return -1;
	}
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->vals[i])
			put_raw(&nx, ix->keys[i], ix->vals[i]);
	ix_free(ix);
	*ix = nx;
	return 0;
}

int ix_put(ac_index *ix, uint64_t key, size_t pos)
{
	if (pos >= UINT32_MAX - 1 || ((ix->n + 1) * 2 > ix->cap && grow(ix))) {
		ix_clear(ix);
		return -1;
	}
	put_raw(ix, key, (uint32_t)(pos + 1));
	return 0;
}

void ix_del(ac_index *ix, uint64_t key)
{
	if (!ix->cap)
		return;
	size_t mask = ix->cap - 1, i = slot_of(key, ix->cap);
	while (ix->vals[i] && ix->keys[i] != key)
		i = (i + 1) & mask;
	if (!ix->vals[i])
		return;
	ix->n--;
	/* backward shift: move up every later entry of the run whose home is not between the hole
	 * and it, so that no lookup stops at the hole before finding its key */
	for (size_t j = (i + 1) & mask; ix->vals[j]; j = (j + 1) & mask) {
		size_t home = slot_of(ix->keys[j], ix->cap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			ix->keys[i] = ix->keys[j];
			ix->vals[i] = ix->vals[j];
			i = j;
		}
	}
	ix->vals[i] = 0;
}

void ix_clear(ac_index *ix)
{
	for (size_t i = 0; i < ix->cap; i++)
		ix->vals[i] = 0;
	ix->n = 0;
}

void ix_free(ac_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	*ix = (ac_index){ 0 };
}
