#include "sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

staged *sch_stg_find(sched *s, int64_t request)
{
	for (size_t i = 0; i < s->n_stg; i++)
		if (s->stg[i].request == request)
			return &s->stg[i];
	return NULL;
}

void sch_stg_drop(sched *s, int64_t request)
{
	staged *g = sch_stg_find(s, request);
	if (!g)
		return;
	for (int i = 0; i < g->n; i++)
		free(g->frames[i]);
	*g = s->stg[--s->n_stg];
}

/* A sharded row's request waiting for shard k + 1 (k shards done), the oldest first. */
const pool_request *sch_next_staged(sched *s, work *w, int *stage)
{
	const pool_request *best = NULL;
	for (size_t i = 0; i < pool_request_count(s->p); i++) {
		const pool_request *r = pool_request_at(s->p, i);
		if (r->model != w->row || r->inflight || !r->stage || !sch_stg_find(s, r->id))
			continue;
		if (!best || r->stage > best->stage || (r->stage == best->stage && r->id < best->id))
			best = r;
	}
	if (best)
		*stage = best->stage + 1;
	return best;
}

/* Keeps a stage's outputs, framed, as the next stage's "previous" inputs; false (and the request
 * failed) when there are none or one cannot be framed. */
static bool keep_outputs(sched *s, staged *g, const pending *pd, const proto_frame *frames, int n)
{
	for (int i = 0; i < g->n; i++)
		free(g->frames[i]);
	g->n = 0;
	const char *bad = NULL;
	for (int i = 0; i < n && i < CAT_MAX_IO && !bad; i++) {
		g->frames[i] = sch_frame_tensor(frames[i].name, frames[i].dtype, frames[i].rank, frames[i].dims, frames[i].data,
					    frames[i].data_len, &g->lens[i]);
		if (!g->frames[i])
			bad = frames[i].name;
		else
			ac_strlcpy(g->names[g->n++], frames[i].name, sizeof g->names[0]);
	}
	if (bad || n == 0) {
		char text[200];
		snprintf(text, sizeof text, "shard %d returned %s", pd->stage, bad ? "an output that cannot be forwarded" : "no outputs");
		ac_event f = { .kind = EV_REQUEST_FAILED, .model = pd->row, .request = pd->request, .browser = pd->browser,
			       .session = pd->session, .text = text };
		sch_emit(s, &f);
		return false;
	}
	return true;
}

/* One stage of a sharded request ended with its result: its figures become EV_SHARD_DONE; below
 * the last shard its outputs are kept, framed, for the next stage (false: nothing more to do now);
 * the last shard's turns *done into the whole request's figures, summed over its stages. */
bool sch_stage_done(sched *s, work *w, const pending *pd, ac_event *done, const proto_frame *frames, int n)
{
	staged *g = sch_stg_find(s, pd->request);
	if (!g) {
		if (ac_reserve((void **)&s->stg, &s->cap_stg, s->n_stg + 1, sizeof *s->stg)) {
			ac_event f = { .kind = EV_REQUEST_FAILED, .model = pd->row, .request = pd->request,
				       .browser = pd->browser, .session = pd->session, .text = "out of memory" };
			sch_emit(s, &f);
			return false;
		}
		g = &s->stg[s->n_stg++];
		memset(g, 0, sizeof *g);
		g->request = pd->request;
	}
	double bytes = 0;
	for (int i = 0; i < n; i++)
		bytes += (double)frames[i].data_len;
	ac_event ev = { .kind = EV_SHARD_DONE, .model = pd->row, .request = pd->request, .browser = pd->browser,
			.session = pd->session, .num = pd->stage, .num2 = w->n_shards,
			.x = { done->x[1], done->x[3], done->x[0], bytes } };
	g->rtt_ms += done->x[0];
	g->compute_ms += done->x[1];
	g->queue_ms += done->x[2];
	g->page_ms += done->x[3];
	g->stage = pd->stage;
	if (pd->stage == w->n_shards) {
		done->x[0] = g->rtt_ms;
		done->x[1] = g->compute_ms;
		done->x[2] = g->queue_ms;
		done->x[3] = g->page_ms;
		sch_emit(s, &ev);
		return true;
	}
	if (!keep_outputs(s, g, pd, frames, n))
		return false;
	sch_emit(s, &ev);
	sch_brk_result(s, pd->browser, pd->row, true, NULL);
	if ((w = sch_work_find(s, pd->row))) {
		sch_retire_idle(s, w);
		sch_dispatch(s, w);
	}
	return false;
}
