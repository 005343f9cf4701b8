#include "sched_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int popcount32(uint32_t v)
{
	int n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

/* Lanes of x's session whose output has not been compared yet, when it can be now. */
bool sch_lanes_left(sched *s, const sess_x *x)
{
	const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
	if (!ps || ps->lanes <= 1 || !x->verified)
		return false;
	const refout *r = sch_ref_find(s, x->browser, x->model, false);
	int lanes = ps->lanes < 32 ? ps->lanes : 32;
	return r && r->state == REF_DONE && popcount32(x->lanes_done) < lanes;
}

/* Compares out (an output of x) with ref and emits EV_VERIFIED. */
static void compare_out(sched *s, sess_x *x, const ac_tensor *out, const ac_tensor *ref, const char *note)
{
	const cat_model *m = catalog_find(s->cat, x->model);
	const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
	double tol = m ? m->tolerance[x->prec] : 0;
	ac_event ev = { .kind = EV_VERIFIED, .model = x->row, .browser = x->browser, .session = x->session,
			.precision = prec_name(x->prec), .platform = ps ? ps->platform_used : NULL };
	char text[160];
	uint64_t n = tensor_count(out);
	if (n != tensor_count(ref) || n == 0) {
		snprintf(text, sizeof text, "output has %llu elements, the reference %llu", (unsigned long long)n,
			 (unsigned long long)tensor_count(ref));
		ev.x[0] = ev.x[1] = INFINITY;
	} else {
		double maxd = 0, maxr = 0;
		bool finite = true;
		for (uint64_t i = 0; i < n; i++) {
			double o = tensor_get(out, i), r = tensor_get(ref, i);
			finite &= isfinite(o) && isfinite(r);
			maxd = fmax(maxd, fabs(o - r));
			maxr = fmax(maxr, fabs(r));
		}
		ev.x[0] = finite ? maxd : INFINITY;
		ev.x[1] = finite ? (maxr > 0 ? maxd / maxr : maxd) : INFINITY;
		snprintf(text, sizeof text, "%s", note);
	}
	ev.x[2] = tol;
	ev.num = isfinite(ev.x[1]) && ev.x[1] <= tol;
	if (!isfinite(ev.x[0])) /* JSON has no infinity: a huge number says the same */
		ev.x[0] = ev.x[1] = 1e308;
	ev.text = text;
	x->verified = true;
	sch_emit(s, &ev);
}

static void compare(sched *s, sess_x *x, const ac_tensor *ref, const char *note)
{
	compare_out(s, x, &x->out0, ref, note);
}

static const char *ref_note(const sess_x *x)
{
	return x->shard ? "sharded: against the whole model, fp32 on wasm, in the last shard's browser"
			: "against fp32 on wasm in the same browser";
}

static void start_reference(sched *s, sess_x *x)
{
	refout *r = sch_ref_find(s, x->browser, x->model, true);
	work *w = sch_work_find(s, x->row);
	if (!r || r->state != REF_NONE || !w)
		return;
	if (!w->m->has[PREC_FP32]) {
		r->state = REF_FAILED;
		ac_strlcpy(r->error, "the model has no fp32 variant to verify against", sizeof r->error);
		return;
	}
	if (sch_load(s, w, x->browser, PREC_FP32, "wasm", true, false) == 0) {
		r->state = REF_LOADING;
		r->session = s->next_session;
	}
}

void sch_verify_waiting(sched *s, int browser, const char *model_name)
{
	char model[64]; /* callers pass a name inside a table that may move */
	ac_strlcpy(model, model_name, sizeof model);
	refout *r = sch_ref_find(s, browser, model, false);
	if (!r || (r->state != REF_DONE && r->state != REF_FAILED))
		return;
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->browser != browser || strcmp(x->model, model) || !x->have_out || x->verified || x->reference)
			continue;
		int row = x->row;
		if (r->state == REF_DONE) {
			compare(s, x, &r->out0, ref_note(x));
		} else {
			x->verified = true;
			char note[200];
			snprintf(note, sizeof note, "cannot verify: %.180s", r->error);
			ac_event ev = { .kind = EV_VERIFIED, .model = x->row, .browser = browser, .session = x->session,
					.precision = prec_name(x->prec), .x = { -1, -1, -1 }, .text = note };
			sch_emit(s, &ev);
		}
		work *w = sch_work_find(s, row); /* x may have moved: listeners can start work */
		if (w)
			sch_retire_idle(s, w);
		r = sch_ref_find(s, browser, model, false);
		if (!r)
			return;
	}
}

void sch_keep_output(ac_tensor *t, const proto_frame *f)
{
	tensor_free(t);
	ac_strlcpy(t->name, f->name, sizeof t->name);
	t->dtype = f->dtype;
	t->rank = f->rank;
	memcpy(t->dims, f->dims, sizeof t->dims);
	t->data = malloc(f->data_len + 1);
	if (t->data)
		memcpy(t->data, f->data, f->data_len);
	t->bytes = f->data_len;
}

static void got_output(sched *s, sess_x *x, const proto_frame *f)
{
	sch_keep_output(&x->out0, f);
	x->have_out = true;
	const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
	if (x->prec == PREC_FP32 && ps && !strcmp(ps->platform_used, "wasm") && !x->shard) {
		refout *r = sch_ref_find(s, x->browser, x->model, true);
		if (r && r->state != REF_DONE) { /* this session is the reference itself */
			sch_keep_output(&r->out0, f);
			r->state = REF_DONE;
		}
		compare(s, x, &x->out0, "is the reference itself (fp32 on wasm)");
		sch_verify_waiting(s, x->browser, x->model);
		return;
	}
	refout *r = sch_ref_find(s, x->browser, x->model, false);
	if (r && r->state == REF_DONE)
		compare(s, x, &r->out0, ref_note(x));
	else if (!r || r->state == REF_NONE)
		start_reference(s, x);
	else if (r->state == REF_FAILED)
		sch_verify_waiting(s, x->browser, x->model);
}

/* An output of x to verify: the session's first, or the first of another lane of its page. */
void sch_verify_output(sched *s, sess_x *x, const proto_frame *f, int lane)
{
	uint32_t bit = lane >= 0 && lane < 32 ? 1u << lane : 0;
	if (!x->have_out) {
		x->lanes_done |= bit;
		got_output(s, x, f);
		return;
	}
	refout *r = sch_ref_find(s, x->browser, x->model, false);
	if (!bit || (x->lanes_done & bit) || !r || r->state != REF_DONE)
		return; /* that lane again, or the reference not there yet: a later run of it is asked */
	x->lanes_done |= bit;
	ac_tensor t;
	memset(&t, 0, sizeof t);
	sch_keep_output(&t, f);
	char note[160];
	snprintf(note, sizeof note, "lane %d: %s", lane, ref_note(x));
	compare_out(s, x, &t, &r->out0, note);
	tensor_free(&t);
}
