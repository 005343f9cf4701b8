#include "replies.h"

#include <stdlib.h>

#include "../pool/ac.h"

/* Drops answered slots; when full, the oldest unanswered one too. */
static void compact(reply_table *t)
{
	size_t k = 0;
	bool drop = t->n - t->dead >= REPLIES_MAX;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].cb)
			continue;
		if (drop) {
			drop = false;
			continue;
		}
		t->v[k++] = t->v[i];
	}
	t->n = k;
	t->dead = 0;
}

int replies_add(reply_table *t, uint32_t id, int browser, bridge_reply_fn cb, void *ctx)
{
	if (t->dead > t->n / 2 || t->n - t->dead >= REPLIES_MAX)
		compact(t);
	if (ac_reserve((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v))
		return AC_ENOMEM;
	t->v[t->n++] = (reply_slot){ .id = id, .browser = browser, .cb = cb, .ctx = ctx };
	return 0;
}

bool replies_take(reply_table *t, uint32_t id, int browser, reply_slot *out)
{
	size_t lo = 0, hi = t->n; /* binary search: ids only grow */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	reply_slot *r = lo < t->n ? &t->v[lo] : NULL;
	if (!r || r->id != id || !r->cb || r->browser != browser)
		return false;
	*out = *r;
	r->cb = NULL;
	t->dead++;
	return true;
}

void replies_free(reply_table *t)
{
	free(t->v);
	*t = (reply_table){ 0 };
}
