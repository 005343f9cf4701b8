#include "sched_internal.h"
#include "../inputs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sch_emit(sched *s, ac_event *ev)
{
	ac_err err;
	ev->t_us = ac_now_us();
	if (s->io.emit(s->io.ctx, ev, &err)) {
		ac_event e = { .kind = EV_ERROR, .t_us = ev->t_us, .browser = ev->browser, .text = err.msg };
		s->io.emit(s->io.ctx, &e, &err);
	}
}

void sch_emit_error(sched *s, int browser, const char *fmt, ...)
{
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	ac_event ev = { .kind = EV_ERROR, .browser = browser, .text = text };
	sch_emit(s, &ev);
}

work *sch_work_find(sched *s, int row)
{
	for (work *w = s->works; w; w = w->next)
		if (w->row == row)
			return w;
	return NULL;
}

sess_x *sch_sx_find(sched *s, int browser, int session)
{
	for (size_t i = 0; i < s->n_sx; i++)
		if (s->sx[i].browser == browser && s->sx[i].session == session)
			return &s->sx[i];
	return NULL;
}

refout *sch_ref_find(sched *s, int browser, const char *model, bool create)
{
	for (size_t i = 0; i < s->n_refs; i++)
		if (s->refs[i].browser == browser && strcmp(s->refs[i].model, model) == 0)
			return &s->refs[i];
	if (!create || ac_reserve((void **)&s->refs, &s->cap_refs, s->n_refs + 1, sizeof *s->refs))
		return NULL;
	refout *r = &s->refs[s->n_refs++];
	memset(r, 0, sizeof *r);
	r->browser = browser;
	ac_strlcpy(r->model, model, sizeof r->model);
	return r;
}

int sch_plat_index(const char *name)
{
	for (int i = 0; i < PLAT__COUNT; i++)
		if (strcmp(plat_name((ac_platform)i), name) == 0)
			return i;
	return -1;
}

bool sch_browser_ready(const pool_browser *b)
{
	return b && b->state == BS_CONNECTED && b->caps.valid;
}

/* One frame: header + data (the layout build_inputs makes); NULL if it cannot be framed. */
unsigned char *sch_frame_tensor(const char *name, uint8_t dtype, int rank, const uint64_t *dims, const void *data,
				   size_t bytes, size_t *len)
{
	proto_frame f = { .dtype = dtype, .rank = (uint8_t)rank };
	if (rank < 0 || (size_t)rank > sizeof f.dims / sizeof f.dims[0])
		return NULL;
	memcpy(f.dims, dims, (size_t)rank * sizeof *dims); /* dims has rank entries, not always 8 */
	ac_strlcpy(f.name, name, sizeof f.name);
	uint8_t hdr[512];
	size_t hl = proto_encode_frame_header(&f, hdr, sizeof hdr);
	unsigned char *out = hl && f.data_len == bytes ? malloc(hl + bytes) : NULL;
	if (!out)
		return NULL;
	memcpy(out, hdr, hl);
	memcpy(out + hl, data, bytes);
	*len = hl + bytes;
	return out;
}

/* Work a listener puts off until its events are applied (pool_after: run to completion). */
static void dispatch_all(void *ctx)
{
	sched *s = ctx;
	for (work *w = s->works; w && !s->closing; w = w->next)
		sch_dispatch(s, w);
}

static void place_all(void *ctx)
{
	sched *s = ctx;
	for (work *w = s->works; w && !s->closing; w = w->next)
		if (w->running) {
			sch_place(s, w);
			sch_dispatch(s, w);
		}
}

static void browser_gone(sched *s, int browser, const char *why)
{
	/* in-flight requests go back to the front of their queues */
	for (size_t i = 0; i < s->n_pend;) {
		pending *pd = &s->pend[i];
		if (pd->browser != browser) {
			i++;
			continue;
		}
		pending copy = *pd;
		s->pend[i] = s->pend[--s->n_pend];
		if (copy.kind == PK_RUN) {
			sch_ghost_add(s, &copy, why);
			ac_event ev = { .kind = EV_REQUEST_REQUEUED, .model = copy.row, .request = copy.request,
					.browser = browser, .text = why };
			sch_emit(s, &ev);
		}
	}
	for (size_t i = 0; i < s->n_sx;) {
		if (s->sx[i].browser == browser) {
			tensor_free(&s->sx[i].out0);
			s->sx[i] = s->sx[--s->n_sx];
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < s->n_refs;) {
		if (s->refs[i].browser == browser) {
			tensor_free(&s->refs[i].out0);
			s->refs[i] = s->refs[--s->n_refs];
		} else {
			i++;
		}
	}
	pool_after(s->p, dispatch_all, s); /* once the requeues are applied (run to completion) */
}

void sched_on_event(void *ctx, const ac_event *ev)
{
	sched *s = ctx;
	if (s->closing)
		return;
	switch (ev->kind) {
	case EV_BROWSER_CONNECTED: /* a new connection: the page dropped its old sessions */
		browser_gone(s, ev->browser, "the browser reconnected");
		sch_brk_reset(s, ev->browser, "the browser has a new page");
		break;
	case EV_BROWSER_LOST:
	case EV_BROWSER_EXITED:
		browser_gone(s, ev->browser, ev->kind == EV_BROWSER_LOST ? "the browser was lost" : "the browser exited");
		break;
	case EV_REQUEST_DONE:
	case EV_REQUEST_FAILED:
		sch_sub_drop(s, ev->request);
		sch_stg_drop(s, ev->request);
		break;
	case EV_REQUEST_REQUEUED: /* a sharded request starts again from its first shard */
		sch_stg_drop(s, ev->request);
		break;
	case EV_BROWSER_HELLO: /* placing reads the sessions it loads: after this event (run to completion) */
		pool_after(s->p, place_all, s);
		break;
	default:
		break;
	}
}

static void on_tick(uv_timer_t *t)
{
	sched *s = t->data;
	sch_brk_tick(s);
	sch_expire_requests(s);
	for (work *w = s->works; w; w = w->next)
		sch_dispatch(s, w);
}

void sch_work_free(work *w)
{
	inputs_free(w->inputs, CAT_MAX_IO);
	for (int i = 0; i < CAT_MAX_IO; i++)
		free(w->frames[i]);
	free(w->image_frame);
	free(w);
}

const cat_model *sched_row_model(const sched *s, int row)
{
	for (const work *w = s->works; w; w = w->next)
		if (w->row == row)
			return w->m;
	return NULL;
}

const ac_tensor *sched_first_output(const sched *s, int row, int browser)
{
	for (size_t i = 0; i < s->n_sx; i++)
		if (s->sx[i].row == row && s->sx[i].browser == browser && s->sx[i].have_out)
			return &s->sx[i].out0;
	return NULL;
}

int sched_new(uv_loop_t *loop, pool *p, const catalog *cat, const sched_config *cfg, const sched_io *io, sched **out)
{
	sched *s = calloc(1, sizeof *s);
	if (!s)
		return AC_ENOMEM;
	s->loop = loop;
	s->p = p;
	s->cat = cat;
	s->cfg = *cfg;
	if (s->cfg.window < 1)
		s->cfg.window = 2;
	s->io = *io;
	uv_timer_init(loop, &s->tick);
	s->tick.data = s;
	uv_timer_start(&s->tick, on_tick, 500, 500);
	*out = s;
	return 0;
}

static void free_when_closed(uv_handle_t *h)
{
	work *w = h->data;
	if (--w->open_timers == 0)
		sch_work_free(w);
}

void sched_close(sched *s)
{
	if (!s)
		return;
	s->closing = true;
	while (s->works) {
		work *w = s->works;
		s->works = w->next;
		uv_close((uv_handle_t *)&w->rate_timer, free_when_closed);
		uv_close((uv_handle_t *)&w->end_timer, free_when_closed);
	}
	for (size_t i = 0; i < s->n_sx; i++)
		tensor_free(&s->sx[i].out0);
	for (size_t i = 0; i < s->n_refs; i++)
		tensor_free(&s->refs[i].out0);
	while (s->n_subs)
		sch_sub_drop(s, s->subs[0].request);
	while (s->n_stg)
		sch_stg_drop(s, s->stg[0].request);
	free(s->stg);
	free(s->subs);
	free(s->brks);
	free(s->sx);
	free(s->refs);
	free(s->pend);
	s->sx = NULL;
	s->refs = NULL;
	s->pend = NULL;
	s->subs = NULL;
	s->brks = NULL;
	s->n_sx = s->n_refs = s->n_pend = s->n_brks = 0;
	uv_close((uv_handle_t *)&s->tick, NULL);
}

void sched_free(sched *s)
{
	free(s);
}
