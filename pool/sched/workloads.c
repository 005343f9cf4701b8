#include "sched_internal.h"
#include "../inputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sch_dispatch(sched *s, work *w)
{
	const pool_request *r;
	sess_x *x;
	bool v;
	/* later stages first: they finish requests, and free the earlier shards' sessions to take
	 * the next request while these run (the pipeline) */
	for (int stage; w->n_shards && (r = sch_next_staged(s, w, &stage));) {
		int64_t req = r->id;
		if (!(x = sch_pick(s, w, stage)) || sch_send_stage(s, w, x, req, stage, &v))
			break;
	}
	while ((r = pool_next_queued(s->p, w->row)) && (x = sch_pick(s, w, w->n_shards ? 1 : 0))) {
		if (sch_send_stage(s, w, x, r->id, w->n_shards ? 1 : 0, &v))
			break;
	}
}

void sch_enqueue(sched *s, work *w)
{
	ac_event ev = { .kind = EV_REQUEST_QUEUED, .model = w->row, .request = ++s->next_request };
	sch_emit(s, &ev);
}

void sch_fill(sched *s, work *w)
{
	const pool_model *m = pool_model_find(s->p, w->row);
	if (!w->running || !m || w->rps > 0)
		return;
	while ((w->count == 0 || m->submitted < w->count) && m->queue + m->inflight < w->concurrency)
		sch_enqueue(s, w);
}

void sch_retire_idle(sched *s, work *w)
{
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->row != w->row || x->reference || x->unload_sent)
			continue;
		if (w->running && !x->retiring && x->prec == w->prec)
			continue;
		const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
		if (ps && ps->state == SS_READY && ps->inflight == 0 && (x->verified || !x->verify_sent || !w->running))
			sch_unload(s, x);
	}
}

static void stop(sched *s, work *w, const char *why)
{
	if (!w->running)
		return;
	w->running = false;
	uv_timer_stop(&w->rate_timer);
	uv_timer_stop(&w->end_timer);
	/* every queued request ends now, with the reason */
	int64_t ids[256];
	int n;
	do {
		n = 0;
		for (size_t i = 0; i < pool_request_count(s->p) && n < 256; i++) {
			const pool_request *r = pool_request_at(s->p, i);
			if (r->model == w->row && !r->inflight)
				ids[n++] = r->id;
		}
		for (int i = 0; i < n; i++) {
			char text[160];
			snprintf(text, sizeof text, "workload stopped: %s", why);
			ac_event ev = { .kind = EV_REQUEST_FAILED, .model = w->row, .request = ids[i], .text = text };
			sch_emit(s, &ev);
		}
	} while (n == 256);
	ac_event ev = { .kind = EV_WORKLOAD_STOPPED, .model = w->row, .text = why };
	sch_emit(s, &ev);
	sch_retire_idle(s, w);
}

void sch_check_finished(sched *s, work *w)
{
	const pool_model *m = pool_model_find(s->p, w->row);
	if (w->running && m && w->count > 0 && m->finished >= w->count) {
		char why[96];
		snprintf(why, sizeof why, "completed %lld requests", (long long)w->count);
		stop(s, w, why);
	}
}

/* No session can serve the row any more, and none is on its way: end its requests with why. */
void sch_check_servable(sched *s, work *w, const char *why)
{
	if (!w->running)
		return;
	int missing = 0;
	for (int k = w->n_shards ? 1 : 0; k <= w->n_shards; k++) {
		bool live = false;
		for (size_t i = 0; i < s->n_sx && !live; i++) {
			sess_x *x = &s->sx[i];
			if (x->row != w->row || x->reference || x->prec != w->prec || x->shard != k)
				continue;
			const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
			live = ps && (ps->state == SS_READY || ps->state == SS_LOADING);
		}
		if (!live && !missing)
			missing = k ? k : -1;
	}
	if (!missing)
		return;
	char text[400];
	if (missing > 0)
		snprintf(text, sizeof text, "no browser can run shard %d: %s", missing, why);
	else
		snprintf(text, sizeof text, "no browser can run it: %s", why);
	stop(s, w, text);
}

static void on_rate_tick(uv_timer_t *t)
{
	work *w = t->data;
	sched *s = w->s;
	const pool_model *m = pool_model_find(s->p, w->row);
	w->rate_credit += w->rps * 0.01; /* the timer runs every 10 ms */
	while (w->rate_credit >= 1 && m && (w->count == 0 || m->submitted < w->count)) {
		w->rate_credit -= 1;
		if (m->queue >= QUEUE_CAP) {
			int64_t id = ++s->next_request;
			ac_event q = { .kind = EV_REQUEST_QUEUED, .model = w->row, .request = id };
			sch_emit(s, &q);
			ac_event f = { .kind = EV_REQUEST_FAILED, .model = w->row, .request = id,
				       .text = "queue full: the browsers serve fewer requests per second than asked" };
			sch_emit(s, &f);
			continue;
		}
		sch_enqueue(s, w);
	}
	sch_dispatch(s, w);
	sch_check_finished(s, w);
}

static void on_duration(uv_timer_t *t)
{
	work *w = t->data;
	stop(w->s, w, "duration reached");
}

/* Why a queued request of this row is still waiting, for its timeout message. */
static void waiting_reason(sched *s, work *w, char *out, size_t cap)
{
	int ready = 0, blocked = 0, loading = 0;
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->row != w->row || x->reference || x->retiring || x->prec != w->prec)
			continue;
		const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
		if (ps && ps->state == SS_LOADING)
			loading++;
		if (!ps || ps->state != SS_READY)
			continue;
		if (sch_brk_allows(s, x->browser, w->row))
			ready++;
		else
			blocked++;
	}
	if (!ready && !blocked && !loading)
		snprintf(out, cap, "no connected browser has %s loaded", w->m->name);
	else if (!ready && !blocked)
		snprintf(out, cap, "%s was still loading", w->m->name);
	else if (!ready)
		snprintf(out, cap, "the circuit breaker is open on every browser serving it");
	else
		snprintf(out, cap, "the browsers serving it were busy with earlier requests");
}

/* Ends request r, past --request-timeout, with why: taken back from its browser if in flight. */
static void expire_one(sched *s, const pool_request *r)
{
	int64_t req = r->id;
	int row = r->model, browser = r->browser;
	work *w = sch_work_find(s, row);
	char text[300];
	if (r->inflight) {
		const pool_browser *b = pool_browser_find(s->p, browser);
		snprintf(text, sizeof text, "no result within %g s (--request-timeout) from browser %d (%s)",
			 s->cfg.request_timeout_s, browser, b ? b->kind : "?");
		for (size_t i = 0; i < s->n_pend; i++)
			if (s->pend[i].kind == PK_RUN && s->pend[i].request == req) {
				pending pd = s->pend[i];
				s->pend[i] = s->pend[--s->n_pend];
				sch_ghost_add(s, &pd, "it had timed out");
				break;
			}
	} else {
		char why[160] = "the workload is gone";
		if (w)
			waiting_reason(s, w, why, sizeof why);
		snprintf(text, sizeof text, "no browser served it within %g s (--request-timeout): %s",
			 s->cfg.request_timeout_s, why);
	}
	ac_event ev = { .kind = EV_REQUEST_FAILED, .model = row, .request = req, .browser = browser,
			.session = r->inflight ? r->session : 0, .num = 1, .text = text };
	sch_emit(s, &ev);
	if (browser)
		sch_brk_result(s, browser, row, false, "timed out");
	if ((w = sch_work_find(s, row))) {
		sch_fill(s, w);
		sch_check_finished(s, w);
	}
}

void sch_expire_requests(sched *s)
{
	if (s->cfg.request_timeout_s <= 0)
		return;
	int64_t now = ac_now_us(), limit = (int64_t)(s->cfg.request_timeout_s * 1e6);
	/* bounded: each pass ends one request, unless the pool refused the event */
	for (size_t pass = pool_request_count(s->p); pass > 0; pass--) {
		const pool_request *r = NULL;
		for (size_t i = 0; i < pool_request_count(s->p); i++) {
			const pool_request *c = pool_request_at(s->p, i);
			if (now - c->queued_us > limit) {
				r = c;
				break;
			}
		}
		if (!r)
			return;
		expire_one(s, r);
	}
}

static bool ends(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

/* Whether the row can take a text (its model has token inputs and a tokenizer.json) and an image. */
int sch_prep_check(const work *w, bool text, bool image, const char *tname, const char *iname, ac_err *err)
{
	const cat_model *m = w->m;
	if (w->n_shards)
		return ac_errf(err, AC_EINVAL, "%s and %s apply to whole models, not to sharded runs (%s)", tname, iname, m->name);
	if (text && w->tmpl.ids < 0)
		return ac_errf(err, AC_EINVAL, "model %s has no token input for %s", m->name, tname);
	if (image && w->tmpl.image < 0)
		return ac_errf(err, AC_EINVAL, "model %s has no image input for %s (an input with an \"image\" fill)",
			       m->name, iname);
	char path[4400];
	snprintf(path, sizeof path, "%s/tokenizer.json", m->dir);
	if (text && access(path, R_OK) != 0)
		return ac_errf(err, AC_ENOENT, "model %s has no tokenizer.json in %s: %s needs the model's own "
			       "tokenizer (put its tokenizer.json in that folder)", m->name, m->dir, tname);
	return 0;
}

/* --text / --image for this row: which inputs the page makes (w->prep), checked here. */
static int build_prepare(sched *s, work *w, ac_err *err)
{
	const cat_model *m = w->m;
	proto_prepare *p = &w->tmpl;
	*p = (proto_prepare){ .ids = -1, .mask = -1, .type_ids = -1, .image = -1 };
	for (int i = 0; i < m->n_inputs; i++) {
		const cat_input *ci = &m->inputs[i];
		if (ci->fill == FILL_TOKENS && p->ids < 0)
			p->ids = i;
		else if (ends(ci->name, "attention_mask"))
			p->mask = i;
		else if (ends(ci->name, "token_type_ids"))
			p->type_ids = i;
		else if (ci->fill == FILL_IMAGE && p->image < 0) {
			p->image = i;
			memcpy(p->mean, ci->mean, sizeof p->mean);
			memcpy(p->std, ci->std, sizeof p->std);
			p->rescale = ci->rescale;
			memcpy(p->image_dims, ci->dims, sizeof p->image_dims);
		}
	}
	if (p->ids < 0)
		p->mask = p->type_ids = -1;
	snprintf(w->tok_url, sizeof w->tok_url, "/models/%d/%s/tokenizer.json", m->root, m->name);
	w->prep = *p;
	if (!s->cfg.text)
		w->prep.ids = w->prep.mask = w->prep.type_ids = -1;
	if (!s->cfg.image)
		w->prep.image = -1;
	p = &w->prep;
	w->has_prep = p->ids >= 0 || p->image >= 0;
	if (!w->has_prep)
		return 0;
	int rc = sch_prep_check(w, p->ids >= 0, p->image >= 0, "--text", "--image", err);
	if (rc)
		return rc;
	if (p->ids >= 0) {
		p->text = s->cfg.text;
		p->tokenizer = w->tok_url;
	}
	if (p->image >= 0) {
		uint64_t n = s->cfg.image_len;
		if (!(w->image_frame = sch_frame_tensor(m->inputs[p->image].name, DT_UINT8, 1, &n, s->cfg.image,
							s->cfg.image_len, &w->image_frame_len)))
			return ac_errf(err, AC_EINVAL, "the --image file cannot be framed (too large?)");
	}
	return 0;
}

int sch_build_inputs(sched *s, work *w, ac_err *err)
{
	int rc = inputs_make(w->m, s->cfg.seed, s->cfg.audio, w->inputs, err);
	if (rc)
		return rc;
	w->n_in = w->m->n_inputs;
	for (int i = 0; i < w->n_in; i++) {
		const ac_tensor *t = &w->inputs[i];
		if (!(w->frames[i] = sch_frame_tensor(t->name, t->dtype, t->rank, t->dims, t->data, t->bytes, &w->lens[i])))
			return ac_errf(err, AC_EINVAL, "model %s input %s cannot be framed", w->m->name, t->name);
	}
	return build_prepare(s, w, err);
}

/* The catalog model, precision and platform a spec names, checked. */
static int spec_model(sched *s, const workload_spec *spec, const cat_model **out, int *prec_out, ac_err *err)
{
	const cat_model *m = catalog_find(s->cat, spec->model);
	if (!m) {
		char names[512] = "";
		for (int i = 0; i < s->cat->n; i++)
			ac_strlcatf(names, sizeof names, "%s%s", i ? ", " : "", s->cat->models[i].name);
		return ac_errf(err, AC_ENOENT, "no model named '%s' (available: %s)", spec->model, names);
	}
	int prec = prec_from_name(spec->precision);
	if (prec < 0)
		return ac_errf(err, AC_EINVAL, "unknown precision '%s' (fp32, fp16, int8, int4, q4f16)", spec->precision);
	if (!m->has[prec])
		return ac_errf(err, AC_ENOENT, "model %s has no %s variant (%s/onnx/%s is absent)", m->name,
			       prec_name((ac_precision)prec), m->dir, prec_file((ac_precision)prec));
	if (sch_plat_index(spec->platform) < 0)
		return ac_errf(err, AC_EINVAL, "unknown platform '%s' (webgpu, webnn, wasm)", spec->platform);
	if (spec->concurrency < 1 && spec->rps <= 0 && !spec->on_demand)
		return ac_errf(err, AC_EINVAL, "a workload needs a concurrency of 1 or more, or a rate");
	*out = m;
	*prec_out = prec;
	return 0;
}

/* --shard "KIND,KIND": one pin per shard of m, checked. Returns the number of pins, or < 0. */
static int spec_shard_pins(const workload_spec *spec, const cat_model *m, int prec, char pins[][24], ac_err *err)
{
	int n_pins = 0;
	if (!spec->shard[0])
		return 0;
	if (!m->n_shards)
		return ac_errf(err, AC_EINVAL, "model %s is not described as shards (its accel.json has no 'shards'; "
			       "see models/README.md)", m->name);
	char buf[64];
	ac_strlcpy(buf, spec->shard, sizeof buf);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n_pins == CAT_MAX_SHARDS || strlen(t) >= 24)
			return ac_errf(err, AC_EINVAL, "--shard '%s': at most %d browser kinds", spec->shard, CAT_MAX_SHARDS);
		ac_strlcpy(pins[n_pins++], t, 24);
	}
	if (n_pins != m->n_shards)
		return ac_errf(err, AC_EINVAL, "--shard '%s' names %d browser(s), but %s has %d shards: name one kind "
			       "(or #ID) per shard, e.g. chromium,firefox", spec->shard, n_pins, m->name, m->n_shards);
	if (!catalog_shards_have(m, (ac_precision)prec))
		return ac_errf(err, AC_ENOENT, "model %s has no %s variant of every shard (%s/%s/onnx/%s)", m->name,
			       prec_name((ac_precision)prec), m->dir, m->shards[0].folder, prec_file((ac_precision)prec));
	return n_pins;
}

/* A new row's work for a checked spec, with its inputs built; not yet in the list. */
static int work_new(sched *s, const workload_spec *spec, const cat_model *m, int prec, char pins[][24], int n_pins,
		    work **out, ac_err *err)
{
	work *w = calloc(1, sizeof *w);
	if (!w)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	w->s = s;
	w->m = m;
	w->n_shards = n_pins;
	for (int k = 0; k < n_pins; k++) {
		ac_strlcpy(w->shard_pin[k], pins[k], sizeof w->shard_pin[k]);
		for (int i = 0; i < m->shards[k].n_inputs; i++) {
			w->in_index[k][i] = -1;
			for (int j = 0; j < m->n_inputs && !m->shards[k].from_previous[i]; j++)
				if (!strcmp(m->inputs[j].name, m->shards[k].inputs[i]))
					w->in_index[k][i] = j;
		}
	}
	w->prec = (ac_precision)prec;
	ac_strlcpy(w->platform, spec->platform, sizeof w->platform);
	/* a sharded row's pin is its shard placement: "chromium,firefox" */
	ac_strlcpy(w->pin, n_pins ? spec->shard : spec->browser[0] ? spec->browser : "auto", sizeof w->pin);
	w->concurrency = spec->concurrency;
	w->rps = spec->rps;
	w->count = spec->count;
	w->duration_s = spec->duration_s;
	int rc = sch_build_inputs(s, w, err);
	if (rc) {
		sch_work_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* From inside a listener the row exists only once its event is applied (run to completion). */
static void start_work(void *ctx)
{
	work *w = ctx;
	if (w->s->closing)
		return;
	sch_place(w->s, w);
	sch_fill(w->s, w);
	sch_dispatch(w->s, w);
}

int sched_start(sched *s, const workload_spec *spec, int *row_out, ac_err *err)
{
	const cat_model *m = NULL;
	int prec = 0, rc = spec_model(s, spec, &m, &prec, err);
	if (rc)
		return rc;
	char pins[CAT_MAX_SHARDS][24];
	int n_pins = spec_shard_pins(spec, m, prec, pins, err);
	if (n_pins < 0)
		return n_pins;
	work *w = NULL;
	if ((rc = work_new(s, spec, m, prec, pins, n_pins, &w, err)))
		return rc;
	w->row = ++s->next_row;
	w->running = true;
	w->next = s->works;
	s->works = w;
	uv_timer_init(s->loop, &w->rate_timer);
	uv_timer_init(s->loop, &w->end_timer);
	w->rate_timer.data = w->end_timer.data = w;
	w->open_timers = 2;
	ac_event ev = { .kind = EV_WORKLOAD_STARTED, .model = w->row, .name = m->name, .precision = prec_name(w->prec),
			.platform = w->platform, .family = w->pin, .num = w->concurrency, .num2 = w->count,
			.x = { w->rps, spec->warmup }, .text = m->type };
	sch_emit(s, &ev);
	if (row_out)
		*row_out = w->row;
	if (w->rps > 0)
		uv_timer_start(&w->rate_timer, on_rate_tick, 10, 10);
	if (w->duration_s > 0)
		uv_timer_start(&w->end_timer, on_duration, (uint64_t)(w->duration_s * 1000), 0);
	pool_after(s->p, start_work, w);
	return 0;
}

int sched_stop(sched *s, int row, const char *why, ac_err *err)
{
	work *w = sch_work_find(s, row);
	if (!w)
		return ac_errf(err, AC_ENOENT, "model %d does not exist", row);
	if (!w->running)
		return ac_errf(err, AC_EINVAL, "model %d is already stopped", row);
	stop(s, w, why);
	return 0;
}

int sched_change_precision(sched *s, int row, int direction, ac_err *err)
{
	work *w = sch_work_find(s, row);
	if (!w)
		return ac_errf(err, AC_ENOENT, "model %d does not exist", row);
	if (!w->running)
		return ac_errf(err, AC_EINVAL, "model %d is stopped", row);
	int p = w->prec;
	char note[300] = "";
	for (int i = 0; i < PREC__COUNT; i++) {
		p = (p + (direction >= 0 ? 1 : PREC__COUNT - 1)) % PREC__COUNT;
		if (p == (int)w->prec || !w->m->has[p] || (w->n_shards && !catalog_shards_have(w->m, (ac_precision)p)))
			continue;
		/* a variant is usable when a browser the row runs on can run it */
		bool usable = false, any = false;
		char why[256] = "";
		for (size_t k = 0; k < pool_browser_count(s->p); k++) {
			const pool_browser *b = pool_browser_at(s->p, k);
			if (!sch_browser_ready(b) || !sch_pin_matches(w, b))
				continue;
			any = true;
			usable |= sched_variant_runs(b, (ac_precision)p, w->platform, why, sizeof why);
		}
		if (usable || !any)
			break;
		ac_strlcatf(note, sizeof note, "%sskipped %s", note[0] ? "; " : "", why);
	}
	if (p == (int)w->prec)
		return ac_errf(err, AC_ENOENT, "model %s has no other precision its browsers can run%s%s", w->m->name,
			       note[0] ? ": " : "", note);
	/* sessions of the old precision finish what they have and are unloaded; queued requests
	 * wait for the new sessions, so none is lost */
	for (size_t i = 0; i < s->n_sx; i++)
		if (s->sx[i].row == row && !s->sx[i].reference)
			s->sx[i].retiring = true;
	w->prec = (ac_precision)p;
	ac_event ev = { .kind = EV_PRECISION_CHANGED, .model = row, .precision = prec_name(w->prec) };
	sch_emit(s, &ev);
	ac_errf(err, 0, "%s", note);
	sch_place(s, w);
	sch_retire_idle(s, w);
	sch_dispatch(s, w);
	return 0;
}
