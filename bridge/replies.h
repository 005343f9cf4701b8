/* Who gets the reply to each bridge_request(): id -> (browser, callback, ctx), in id order (the
 * bridge's ids only grow). Kept past the connection's end, so that a late reply still reaches its
 * owner, who decides what late means (the scheduler discards and counts it). No I/O here. */
#ifndef AC_REPLIES_H
#define AC_REPLIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge.h"

#define REPLIES_MAX 65536 /* unanswered requests kept; past it the oldest is forgotten (a page that
			     never answers must not grow the table without end) */

typedef struct {
	uint32_t id;
	int browser;
	bridge_reply_fn cb;   /* NULL: answered */
	void *ctx;
} reply_slot;

typedef struct {
	reply_slot *v;
	size_t n, cap, dead;
} reply_table;

/* id must be above every id added before. AC_ENOMEM when out of memory. */
int replies_add(reply_table *t, uint32_t id, int browser, bridge_reply_fn cb, void *ctx);
/* The owner of the reply with this id from this browser, taken (false: none). */
bool replies_take(reply_table *t, uint32_t id, int browser, reply_slot *out);
void replies_free(reply_table *t);

#endif
