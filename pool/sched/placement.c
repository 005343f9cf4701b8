#include "sched_internal.h"
#include "../family.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sched_variant_runs(const pool_browser *b, ac_precision p, const char *platform, char *why, size_t cap)
{
	if (strcmp(platform, "webgpu") || (p != PREC_FP16 && p != PREC_Q4F16) || !b->caps.valid)
		return true;
	if (strstr(b->caps.webgpu.features, "shader-f16"))
		return true;
	snprintf(why, cap, "%s: the WebGPU adapter lacks shader-f16, and onnxruntime-web's float16 kernels "
		 "return wrong results (zeros) without it", prec_name(p));
	return false;
}

static bool has_live_session(sched *s, work *w, int browser, int shard)
{
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->row != w->row || x->browser != browser || x->reference || x->retiring || x->prec != w->prec ||
		    x->shard != shard)
			continue;
		const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
		if (ps && (ps->state == SS_READY || ps->state == SS_LOADING))
			return true;
		if (ps && ps->state == SS_FAILED && !x->fallback)
			return true; /* tried here; a fallback, if allowed, was started then */
	}
	return false;
}

static bool pin_is(const char *pin, const pool_browser *b)
{
	if (!strcmp(pin, "auto"))
		return true;
	if (pin[0] == '#')
		return atoi(pin + 1) == b->id;
	return !strcmp(pin, b->kind);
}

/* shard 0: any shard of a sharded row */
static bool pin_matches_shard(const work *w, const pool_browser *b, int shard)
{
	if (!w->n_shards)
		return pin_is(w->pin, b);
	for (int k = 1; k <= w->n_shards; k++)
		if ((!shard || shard == k) && pin_is(w->shard_pin[k - 1], b))
			return true;
	return false;
}

bool sch_pin_matches(const work *w, const pool_browser *b)
{
	return pin_matches_shard(w, b, 0);
}

void sch_place(sched *s, work *w)
{
	int pi = sch_plat_index(w->platform);
	for (size_t i = 0; i < pool_browser_count(s->p); i++) {
		const pool_browser *b = pool_browser_at(s->p, i);
		for (int k = w->n_shards ? 1 : 0; k <= w->n_shards; k++) {
			/* browsers may come and go inside load(): b is looked up again each time */
			b = pool_browser_at(s->p, i);
			if (!sch_browser_ready(b) || (k ? !pin_matches_shard(w, b, k) : !sch_pin_matches(w, b)) ||
			    has_live_session(s, w, b->id, k))
				continue;
			char why[256];
			if (b->caps.verdict[pi].status == CL_UNAVAILABLE ||
			    !sched_variant_runs(b, w->prec, w->platform, why, sizeof why)) {
				if (s->cfg.allow_fallback && strcmp(w->platform, "wasm"))
					sch_load_shard(s, w, b->id, w->prec, "wasm", false, true, k);
				continue;
			}
			sch_load_shard(s, w, b->id, w->prec, w->platform, false, false, k);
		}
	}
}

/* 0 for a hardware adapter, 1 software, 2 anything else (unknown, unavailable). */
static int class_rank(const pool_browser *b, const char *platform)
{
	int pi = sch_plat_index(platform);
	if (pi < 0)
		return 2;
	ac_class c = b->caps.verdict[pi].status;
	return c == CL_HARDWARE ? 0 : c == CL_SOFTWARE ? 1 : 2;
}

/* Requests in flight per session: --inflight, or more where the page runs the session in several
 * runtimes at once (lanes, browser-js/ort-lanes.js: where Firefox's WebGPU completion floor is
 * measured), so that each lane has one. */
static int window_of(const sched *s, const pool_session *ps)
{
	return ps->lanes > s->cfg.window ? ps->lanes : s->cfg.window;
}

/* x's session and browser in the pool: at the positions they last had (the pool's tables only
 * grow, so they stay there), else looked up. The pick below reads both for every session of the
 * row on every request. */
static const pool_session *sx_session(sched *s, sess_x *x)
{
	const pool_session *ps = pool_session_at(s->p, x->ps_pos);
	if (ps && ps->browser == x->browser && ps->session == x->session)
		return ps;
	if ((ps = pool_session_find(s->p, x->browser, x->session)))
		x->ps_pos = (size_t)(ps - pool_session_at(s->p, 0));
	return ps;
}

static const pool_browser *sx_browser(sched *s, sess_x *x)
{
	const pool_browser *b = pool_browser_at(s->p, x->b_pos);
	if (b && b->id == x->browser)
		return b;
	if ((b = pool_browser_find(s->p, x->browser)))
		x->b_pos = (size_t)(b - pool_browser_at(s->p, 0));
	return b;
}

/* stage: the shard to run (1-based) on a sharded row; 0 = the whole model */
sess_x *sch_pick(sched *s, work *w, int stage)
{
	sess_x *best = NULL;
	double best_score = 0;
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->row != w->row || x->reference || x->retiring || x->prec != w->prec || x->shard != stage)
			continue;
		/* the session's own state first: a full one needs no browser */
		const pool_session *ps = sx_session(s, x);
		if (!ps || ps->state != SS_READY || ps->inflight >= window_of(s, ps))
			continue;
		const pool_browser *b = sx_browser(s, x);
		if (!sch_browser_ready(b) || !sch_brk_allows(s, x->browser, w->row))
			continue;
		/* measured: latency times load; not yet: the kind suited to the model, hardware before
		 * software, the least loaded */
		double score = ps->ewma_ms >= 0 ? ps->ewma_ms * (ps->inflight + 1)
						: family_preference(b->kind, w->m->type, &b->caps) * 1e-3 + class_rank(b, ps->platform_used) * 1e-4 + ps->inflight;
		if (ps->ewma_ms < 0)
			score -= 1e6; /* unmeasured sessions get a request first, to be measured */
		if (!best || score < best_score) {
			best = x;
			best_score = score;
		}
	}
	return best;
}
