#include "sched_internal.h"

#include <math.h>
#include <string.h>

static breaker *brk_find(sched *s, int browser, int row, bool create)
{
	for (size_t i = 0; i < s->n_brks; i++)
		if (s->brks[i].browser == browser && s->brks[i].row == row)
			return &s->brks[i];
	if (!create || ac_reserve((void **)&s->brks, &s->cap_brks, s->n_brks + 1, sizeof *s->brks))
		return NULL;
	breaker *k = &s->brks[s->n_brks++];
	memset(k, 0, sizeof *k);
	k->browser = browser;
	k->row = row;
	k->cooldown_s = BRK_COOLDOWN_S;
	return k;
}

static void brk_emit(sched *s, breaker *k, const char *why)
{
	ac_event ev = { .kind = EV_BREAKER, .browser = k->browser, .model = k->row, .name = breaker_state_name(k->state),
			.num = k->fails, .x = { k->state == BRK_OPEN ? k->cooldown_s : 0 }, .text = why };
	sch_emit(s, &ev);
}

/* Whether the breaker lets a request go to this browser for this row now. */
bool sch_brk_allows(sched *s, int browser, int row)
{
	breaker *k = brk_find(s, browser, row, false);
	return !k || k->state == BRK_CLOSED || (k->state == BRK_HALF_OPEN && !k->probing);
}

void sch_brk_sent(sched *s, int browser, int row)
{
	breaker *k = brk_find(s, browser, row, false);
	if (k && k->state == BRK_HALF_OPEN)
		k->probing = true;
}

void sch_brk_result(sched *s, int browser, int row, bool ok, const char *why)
{
	breaker *k = brk_find(s, browser, row, !ok);
	if (!k)
		return;
	bool probed = k->probing;
	k->probing = false;
	if (ok) {
		bool was = k->state != BRK_CLOSED;
		k->fails = 0;
		k->cooldown_s = BRK_COOLDOWN_S;
		if (was) { /* a result is a result: one of a run sent before it opened closes it too */
			k->state = BRK_CLOSED;
			brk_emit(s, k, probed ? "a probe request succeeded" : "a request sent before it opened succeeded");
		}
		return;
	}
	k->fails++;
	ac_strlcpy(k->last_error, why, sizeof k->last_error);
	if (k->state == BRK_HALF_OPEN)
		k->cooldown_s = fmin(k->cooldown_s * 2, BRK_COOLDOWN_MAX_S);
	else if (k->state == BRK_OPEN || k->fails < BRK_THRESHOLD)
		return;
	k->state = BRK_OPEN;
	k->probe_at_ms = uv_now(s->loop) + (uint64_t)(k->cooldown_s * 1000);
	brk_emit(s, k, k->last_error);
}

/* A browser with a new page starts with closed breakers: what failed was in the old page. */
void sch_brk_reset(sched *s, int browser, const char *why)
{
	for (size_t i = 0; i < s->n_brks; i++) {
		breaker *k = &s->brks[i];
		if (k->browser != browser)
			continue;
		bool was = k->state != BRK_CLOSED;
		k->state = BRK_CLOSED;
		k->fails = 0;
		k->probing = false;
		k->cooldown_s = BRK_COOLDOWN_S;
		if (was)
			brk_emit(s, k, why);
	}
}

/* From the tick: an open breaker whose cool-down is over lets one probe request go. */
void sch_brk_tick(sched *s)
{
	uint64_t now = uv_now(s->loop);
	for (size_t i = 0; i < s->n_brks; i++) {
		breaker *k = &s->brks[i];
		if (k->state == BRK_OPEN && now >= k->probe_at_ms) {
			k->state = BRK_HALF_OPEN;
			k->probing = false;
			brk_emit(s, k, "cool-down over: one probe request may go");
		}
	}
}
