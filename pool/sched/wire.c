#include "sched_internal.h"

#include <stdio.h>
#include <string.h>

/* Room for the pending entry of one more request, made before anything is sent. */
static int pend_reserve(sched *s)
{
	return ac_reserve((void **)&s->pend, &s->cap_pend, s->n_pend + 1, sizeof *s->pend) ? AC_ENOMEM : 0;
}

/* Remembers what the reply to request id (just sent, pend_reserve() done) will answer. */
static void pend_add(sched *s, const pending *pd, int browser, uint32_t id)
{
	pending *p = &s->pend[s->n_pend++];
	*p = *pd;
	p->browser = browser;
	p->id = id;
	p->sent_ns = uv_hrtime();
}

/* Sends a run with its n = r->tensors frames and remembers what the reply will answer. */
static int send_run(sched *s, int browser, const sched_run *r, const void *const *frames, const size_t *lens,
		    const pending *pd)
{
	uint32_t id;
	if (pend_reserve(s))
		return AC_ENOMEM;
	int rc = s->io.run(s->io.ctx, browser, r, frames, lens, r->tensors, &id);
	if (rc)
		return rc;
	pend_add(s, pd, browser, id);
	return 0;
}

void sch_ghost_add(sched *s, const pending *pd, const char *why)
{
	ghost *g = &s->ghosts[s->ghost_head];
	*g = (ghost){ .browser = pd->browser, .row = pd->row, .session = pd->session, .id = pd->id,
		      .request = pd->request };
	ac_strlcpy(g->why, why, sizeof g->why);
	s->ghost_head = (s->ghost_head + 1) % GHOST_MAX;
	if (s->n_ghosts < GHOST_MAX)
		s->n_ghosts++;
}

static bool ghost_take(sched *s, int browser, uint32_t id, ghost *out)
{
	for (size_t k = 0; k < s->n_ghosts; k++) {
		ghost *g = &s->ghosts[(s->ghost_head + GHOST_MAX - 1 - k) % GHOST_MAX];
		if (g->browser == browser && g->id == id && g->request) {
			*out = *g;
			g->request = 0; /* a second late reply to one id is not expected; count it once */
			return true;
		}
	}
	return false;
}

/* The deviceType a webnn session asks for: the first of gpu, npu, cpu whose createContext worked
 * in this browser's hello (gpu when none did or no hello came: the load then fails with the
 * browser's own words). What executes is judged from caps, not from this request. */
static const char *webnn_device(const sched *s, int browser)
{
	static const nn_device order[] = { NN_GPU, NN_NPU, NN_CPU };
	const pool_browser *b = pool_browser_find(s->p, browser);
	for (size_t i = 0; b && b->caps.valid && i < sizeof order / sizeof order[0]; i++)
		if (b->caps.webnn.dev[order[i]].ok)
			return nn_device_name(order[i]);
	return "gpu";
}

/* shard: 1-based shard of a sharded row; 0 = the whole model */
int sch_load_shard(sched *s, work *w, int browser, ac_precision prec, const char *platform, bool reference,
		      bool fallback, int shard)
{
	if (ac_reserve((void **)&s->sx, &s->cap_sx, s->n_sx + 1, sizeof *s->sx))
		return AC_ENOMEM;
	int key = ++s->next_session;
	char url[512], file[64];
	catalog_shard_url(w->m, shard, prec, url, sizeof url);
	if (shard)
		snprintf(file, sizeof file, "shard %d/%d %s", shard, w->n_shards, prec_file(prec));
	else /* the file's own name: a dropped-in model's may be silero_vad_v5.onnx */
		ac_strlcpy(file, w->m->file[prec][0] ? (strrchr(w->m->file[prec], '/') ? strrchr(w->m->file[prec], '/') + 1
									      : w->m->file[prec]) : prec_file(prec), sizeof file);
	sched_load l = { .session = (uint32_t)key, .model = w->m->name, .precision = prec_name(prec),
			 .platform = platform, .url = url, .file = shard ? prec_file(prec) : file,
			 .device_type = !strcmp(platform, "webnn") ? webnn_device(s, browser) : NULL };
	uint32_t id;
	if (pend_reserve(s))
		return AC_ENOMEM;
	int rc = s->io.load(s->io.ctx, browser, &l, &id);
	if (rc)
		return rc;
	pend_add(s, &(pending){ .kind = PK_LOAD, .row = w->row, .session = key }, browser, id);
	sess_x *x = &s->sx[s->n_sx++];
	memset(x, 0, sizeof *x);
	x->browser = browser;
	x->session = key;
	x->row = w->row;
	x->shard = shard;
	x->prec = prec;
	x->reference = reference;
	x->fallback = fallback;
	ac_strlcpy(x->model, w->m->name, sizeof x->model);
	ac_event ev = { .kind = EV_SESSION_LOADING, .browser = browser, .session = key, .model = w->row,
			.precision = prec_name(prec), .platform = platform, .text = file,
			.num = reference ? 1 : 0, .num2 = shard };
	sch_emit(s, &ev);
	return 0;
}

int sch_load(sched *s, work *w, int browser, ac_precision prec, const char *platform, bool reference, bool fallback)
{
	return sch_load_shard(s, w, browser, prec, platform, reference, fallback, 0);
}

void sch_unload(sched *s, sess_x *x)
{
	if (x->unload_sent)
		return;
	x->unload_sent = true;
	uint32_t id;
	if (!pend_reserve(s) && !s->io.unload(s->io.ctx, x->browser, x->session, &id))
		pend_add(s, &(pending){ .kind = PK_UNLOAD, .session = x->session }, x->browser, id);
}

/* The frames of one stage of a request (stage 0: the whole model): the request's own inputs or
 * the row's, and on a later shard what the earlier shards returned. Returns their number, or < 0. */
static int stage_frames(sched *s, work *w, const submitted *u, int64_t req, int stage, const void **fr,
			size_t *lens)
{
	bool custom = u && u->n > 0;
	unsigned char *const *in_frames = custom ? u->frames : w->frames;
	const size_t *in_lens = custom ? u->lens : w->lens;
	int n = 0;
	if (!stage) {
		n = custom ? u->n : w->n_in;
		for (int i = 0; i < n; i++) {
			fr[i] = in_frames[i];
			lens[i] = in_lens[i];
		}
		return n;
	}
	const cat_shard *sh = &w->m->shards[stage - 1];
	const staged *g = stage > 1 ? sch_stg_find(s, req) : NULL;
	for (int i = 0; i < sh->n_inputs; i++) {
		int mi = w->in_index[stage - 1][i];
		if (mi >= 0) {
			fr[n] = in_frames[mi];
			lens[n++] = in_lens[mi];
			continue;
		}
		int j = 0;
		while (g && j < g->n && strcmp(g->names[j], sh->inputs[i]))
			j++;
		if (!g || j == g->n)
			return AC_EINVAL; /* not expected: the catalog checked the names */
		fr[n] = g->frames[j];
		lens[n++] = g->lens[j];
	}
	return n;
}

static bool has_logmel_input(const cat_model *m)
{
	for (int i = 0; i < m->n_inputs; i++)
		if (m->inputs[i].fill == FILL_AUDIO_LOGMEL)
			return true;
	return false;
}

/* --text / --image: the run carries "prepare", and the image file in the image input's place. */
void sch_with_prepare(const work *w, sched_run *r, const void **fr, size_t *lens)
{
	if (!w->has_prep)
		return;
	r->prepare = &w->prep;
	if (w->prep.image >= 0 && w->prep.image < r->tensors) {
		fr[w->prep.image] = w->image_frame;
		lens[w->prep.image] = w->image_frame_len;
	}
}

/* Sends one stage of a request (stage 0: the whole model). Returns 0 when sent. */
int sch_send_stage(sched *s, work *w, sess_x *x, int64_t req, int stage, bool *verified_out)
{
	const submitted *u = sch_sub_find(s, req);
	bool custom = u && (u->n > 0 || u->has_prep);
	bool last = !w->n_shards || stage == w->n_shards;
	/* the last stage's first run with the row's own inputs is compared with the reference, and
	 * so is one run of every other lane of the page (ort-lanes.js) once the reference is known */
	bool verify = last && !custom && (!x->verify_sent || sch_lanes_left(s, x));
	bool want = !last || verify || (u && u->want_outputs);
	const void *fr[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int n = stage_frames(s, w, u, req, stage, fr, lens);
	if (n < 0)
		return n;
	sched_run r = { .session = (uint32_t)x->session, .tensors = n, .outputs = want };
	if (!custom && !stage)
		sch_with_prepare(w, &r, fr, lens);
	if (u && u->has_prep && !stage) { /* the request's own text / image */
		r.prepare = &u->prep;
		if (u->prep.image >= 0 && u->prep.image < n) {
			fr[u->prep.image] = u->image_frame;
			lens[u->prep.image] = u->image_frame_len;
		}
	}
	/* --optimize-audio: the page may compute a log-mel input itself from the clip */
	proto_logmel_spec audio;
	if (s->cfg.encode_audio && has_logmel_input(w->m) &&
	    s->cfg.encode_audio(s->cfg.encode_audio_ctx, x->browser, w->m, fr, lens, n, &audio) > 0)
		r.audio_logmel = &audio;
	pending pd = { .kind = PK_RUN, .row = w->row, .session = x->session, .request = req, .want_outputs = want,
		       .custom = !verify, .stage = stage };
	int rc = send_run(s, x->browser, &r, fr, lens, &pd);
	if (rc)
		return rc;
	if (verify)
		x->verify_sent = true;
	*verified_out = verify;
	sch_brk_sent(s, x->browser, w->row);
	ac_event ev = { .kind = EV_REQUEST_SENT, .model = w->row, .request = req, .browser = x->browser,
			.session = x->session };
	sch_emit(s, &ev);
	return 0;
}

static pending *pend_take(sched *s, int browser, uint32_t id, pending *out)
{
	for (size_t i = 0; i < s->n_pend; i++)
		if (s->pend[i].browser == browser && s->pend[i].id == id) {
			*out = s->pend[i];
			s->pend[i] = s->pend[--s->n_pend];
			return out;
		}
	return NULL;
}

static const char *ep_used(const proto_msg *m, const char *dflt)
{
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(m->root, "ep");
	if (cJSON_IsArray(ep))
		ep = cJSON_GetArrayItem(ep, 0);
	if (cJSON_IsObject(ep))
		ep = cJSON_GetObjectItemCaseSensitive(ep, "name");
	return cJSON_IsString(ep) ? ep->valuestring : dflt;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *error_text(const proto_msg *m, char *buf, size_t cap)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(m->root, "code");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m->root, "message");
	snprintf(buf, cap, "%s: %s", cJSON_IsString(c) ? c->valuestring : "error",
		 cJSON_IsString(t) ? t->valuestring : "");
	return buf;
}

static void on_loaded(sched *s, const pending *pd, const proto_msg *m)
{
	const pool_session *ps = pool_session_find(s->p, pd->browser, pd->session);
	/* the data carries ORT's metadata; the whole reply is small */
	ac_event ev = { .kind = EV_SESSION_READY, .browser = pd->browser, .session = pd->session,
			.model = pd->row, .x = { num(m->root, "load_ms") },
			.platform = ep_used(m, ps ? ps->platform : "?"), .data = m->root };
	sch_emit(s, &ev);
	/* found after emitting: a listener may have started work that moved the table */
	sess_x *x = sch_sx_find(s, pd->browser, pd->session);
	work *w = sch_work_find(s, pd->row);
	if (!x || !w)
		return;
	if (x->reference) {
		refout *r = sch_ref_find(s, x->browser, x->model, false);
		sched_run run = { .session = (uint32_t)x->session, .tensors = w->n_in, .outputs = true };
		pending pd = { .kind = PK_REFRUN, .row = w->row, .session = x->session, .want_outputs = true };
		const void *fr[CAT_MAX_IO];
		size_t lens[CAT_MAX_IO];
		for (int i = 0; i < w->n_in; i++)
			fr[i] = w->frames[i], lens[i] = w->lens[i];
		sch_with_prepare(w, &run, fr, lens);
		if (send_run(s, x->browser, &run, fr, lens, &pd) == 0 && r)
			r->state = REF_RUNNING;
		return;
	}
	if (!w->running || x->prec != w->prec)
		sch_retire_idle(s, w);
	sch_dispatch(s, w);
}

static void on_load_failed(sched *s, const pending *pd, const char *why)
{
	ac_event ev = { .kind = EV_SESSION_FAILED, .browser = pd->browser, .session = pd->session,
			.model = pd->row, .text = why };
	sch_emit(s, &ev);
	sess_x *x = sch_sx_find(s, pd->browser, pd->session);
	work *w = sch_work_find(s, pd->row);
	if (!x || !w)
		return;
	if (x->reference) {
		refout *r = sch_ref_find(s, x->browser, x->model, false);
		if (r) {
			r->state = REF_FAILED;
			snprintf(r->error, sizeof r->error, "the fp32 wasm reference failed to load: %.150s", why);
		}
		sch_verify_waiting(s, x->browser, x->model);
		return;
	}
	const pool_session *ps = pool_session_find(s->p, pd->browser, pd->session);
	if (s->cfg.allow_fallback && ps && strcmp(ps->platform, "wasm") && w->running) {
		sch_load(s, w, pd->browser, x->prec, "wasm", false, true);
		return;
	}
	sch_check_servable(s, w, why);
}

static void on_result(sched *s, const pending *pd, const proto_msg *m, const proto_frame *frames, int n)
{
	sess_x *x = sch_sx_find(s, pd->browser, pd->session);
	work *w = sch_work_find(s, pd->row);
	if (pd->kind == PK_REFRUN) {
		refout *r = x ? sch_ref_find(s, x->browser, x->model, false) : NULL;
		if (r && n > 0) {
			sch_keep_output(&r->out0, &frames[0]);
			r->state = REF_DONE;
		} else if (r) {
			r->state = REF_FAILED;
			ac_strlcpy(r->error, "the reference run returned no output", sizeof r->error);
		}
		if (x) {
			sch_verify_waiting(s, x->browser, x->model);
			sch_unload(s, x);
		}
		return;
	}
	double total = (double)(uv_hrtime() - pd->sent_ns) / 1e6;
	const submitted *u = sch_sub_find(s, pd->request);
	bool to_submitter = u != NULL;
	ac_event ev = { .kind = EV_REQUEST_DONE, .model = pd->row, .request = pd->request, .browser = pd->browser,
			.session = pd->session,
			.x = { total, num(m->root, "compute_ms"), num(m->root, "queue_ms"), num(m->root, "page_ms") } };
	if (pd->stage && w && !sch_stage_done(s, w, pd, &ev, frames, n))
		return;
	sch_stg_drop(s, pd->request);
	sch_emit(s, &ev);
	sch_brk_result(s, pd->browser, pd->row, true, NULL);
	if (to_submitter && s->cfg.on_done)
		s->cfg.on_done(s->cfg.on_done_ctx, pd->row, pd->request, pd->browser, pd->session, frames, n);
	x = sch_sx_find(s, pd->browser, pd->session);
	w = sch_work_find(s, pd->row);
	if (x && pd->want_outputs && !pd->custom && n > 0)
		sch_verify_output(s, x, &frames[0], (int)num(m->root, "lane"));
	if (!w)
		return;
	sch_fill(s, w);
	sch_check_finished(s, w);
	sch_retire_idle(s, w);
	sch_dispatch(s, w);
}

static void on_run_failed(sched *s, const pending *pd, const char *why)
{
	work *w = sch_work_find(s, pd->row);
	if (pd->kind == PK_REFRUN) {
		sess_x *x = sch_sx_find(s, pd->browser, pd->session);
		refout *r = x ? sch_ref_find(s, x->browser, x->model, false) : NULL;
		if (r) {
			r->state = REF_FAILED;
			snprintf(r->error, sizeof r->error, "the fp32 wasm reference run failed: %.150s", why);
			sch_verify_waiting(s, x->browser, x->model);
		}
		return;
	}
	ac_event ev = { .kind = EV_REQUEST_FAILED, .model = pd->row, .request = pd->request, .browser = pd->browser,
			.session = pd->session, .text = why };
	sch_emit(s, &ev);
	sch_brk_result(s, pd->browser, pd->row, false, why);
	w = sch_work_find(s, pd->row);
	if (!w)
		return;
	sch_fill(s, w);
	sch_check_finished(s, w);
	sch_retire_idle(s, w);
	sch_dispatch(s, w);
}

void sched_on_response(sched *s, int browser, const proto_msg *m, const proto_frame *frames, int n)
{
	if (s->closing)
		return;
	pending pd;
	char why[400];
	if (!pend_take(s, browser, m->id, &pd)) {
		ghost g;
		if (ghost_take(s, browser, m->id, &g)) {
			char text[200];
			snprintf(text, sizeof text, "%s arrived after the request was taken back (%s)",
				 m->type == PM_ERROR ? "an error" : "a result", g.why);
			ac_event ev = { .kind = EV_REQUEST_DISCARDED, .model = g.row, .request = g.request,
					.browser = browser, .session = g.session, .text = text };
			if (pool_model_find(s->p, g.row))
				sch_emit(s, &ev);
		} else if (m->type == PM_ERROR) {
			sch_emit_error(s, browser, "browser %d: %s", browser, error_text(m, why, sizeof why));
		}
		return;
	}
	bool is_error = m->type == PM_ERROR;
	switch (pd.kind) {
	case PK_LOAD:
		if (is_error)
			on_load_failed(s, &pd, error_text(m, why, sizeof why));
		else
			on_loaded(s, &pd, m);
		break;
	case PK_RUN:
	case PK_REFRUN:
		if (is_error)
			on_run_failed(s, &pd, error_text(m, why, sizeof why));
		else
			on_result(s, &pd, m, frames, n);
		break;
	case PK_UNLOAD: {
		ac_event ev = { .kind = EV_SESSION_UNLOADED, .browser = browser, .session = pd.session };
		sch_emit(s, &ev);
		break;
	}
	}
}
