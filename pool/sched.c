#include "sched.h"
#include "inputs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_CAP 10000 /* a rate workload faster than its browsers stops growing here */

typedef struct work {
	struct work *next;
	sched *s;
	int row;
	const cat_model *m;
	ac_precision prec;
	char platform[8];
	char pin[24];
	int concurrency;
	double rps, rate_credit;
	int64_t count;
	double duration_s;
	bool running;
	uv_timer_t rate_timer, end_timer;
	int open_timers;
	ac_tensor inputs[CAT_MAX_IO];
	unsigned char *frames[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int n_in;
	/* sharded: shard k (1-based) runs on a browser matching shard_pin[k - 1]; in_index[k - 1][i]
	 * is the model input that shard input i is (-1: the previous shard's output) */
	int n_shards;
	char shard_pin[CAT_MAX_SHARDS][24];
	int in_index[CAT_MAX_SHARDS][CAT_MAX_IO];
} work;

typedef enum { PK_LOAD, PK_RUN, PK_UNLOAD, PK_REFRUN } pend_kind;

typedef struct {
	int browser;
	uint32_t id;
	pend_kind kind;
	int row, session;
	int64_t request;
	uint64_t sent_ns;
	bool want_outputs;
	bool custom;          /* a submitted request with inputs of its own: not used for verification */
	int stage;            /* sharded rows: the shard this run is (1-based); 0 = the whole model */
} pending;

/* A run taken back from a browser (lost, reconnected, timed out): a reply that still comes for it
 * is late, and is discarded and counted, never delivered. */
typedef struct {
	int browser, row, session;
	uint32_t id;
	int64_t request;
	char why[64];
} ghost;
#define GHOST_MAX 1024

/* A request submitted through sched_submit(): its own inputs (or the row's), whether its outputs
 * go back to the submitter. Kept until the request ends, since a put-back request is sent again. */
typedef struct {
	int64_t request;
	int row;
	unsigned char *frames[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int n;                /* 0 = the row's inputs */
	bool want_outputs;
} submitted;

/* A sharded request between stages, or in a later stage: what the earlier stages returned (the
 * next stage's "previous" inputs, framed) and their figures, summed for EV_REQUEST_DONE. */
typedef struct {
	int64_t request;
	int stage;            /* shards done */
	int n;
	unsigned char *frames[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	char names[CAT_MAX_IO][64];
	double rtt_ms, compute_ms, queue_ms, page_ms;
} staged;

/* Circuit breaker per (browser, row); the pool holds the state shown, this the timing. */
#define BRK_THRESHOLD 3        /* consecutive errors that open it */
#define BRK_COOLDOWN_S 5.0     /* first wait before a probe; doubles on a failed probe */
#define BRK_COOLDOWN_MAX_S 60.0
typedef struct {
	int browser, row;
	breaker_state state;
	int fails;
	double cooldown_s;
	uint64_t probe_at_ms;  /* loop time */
	bool probing;          /* half-open: the one probe request is out */
	char last_error[120];
} breaker;

/* What the scheduler keeps about a session beyond the pool's view. */
typedef struct {
	int browser, session, row;
	int shard;            /* 1-based shard of a sharded row; 0 = the whole model */
	char model[64];
	ac_precision prec;
	bool reference, fallback, verify_sent, retiring, unload_sent;
	bool have_out, verified;
	ac_tensor out0;
	uint32_t lanes_done;  /* lanes (page runtimes, see ort-lanes.js) whose output was compared */
} sess_x;

typedef enum { REF_NONE, REF_LOADING, REF_RUNNING, REF_DONE, REF_FAILED } ref_state;

typedef struct {
	int browser;
	char model[64];
	ref_state state;
	int session;
	ac_tensor out0;
	char error[200];
} refout;

struct sched {
	uv_loop_t *loop;
	pool *p;
	const catalog *cat;
	sched_config cfg;
	sched_io io;
	work *works;
	pending *pend;
	size_t n_pend, cap_pend;
	sess_x *sx;
	size_t n_sx, cap_sx;
	refout *refs;
	size_t n_refs, cap_refs;
	int next_row, next_session;
	int64_t next_request;
	bool closing;
	ghost ghosts[GHOST_MAX];   /* ring */
	size_t ghost_head, n_ghosts;
	submitted *subs;
	size_t n_subs, cap_subs;
	breaker *brks;
	size_t n_brks, cap_brks;
	staged *stg;
	size_t n_stg, cap_stg;
	uv_timer_t tick;           /* request timeouts, breaker probes */
};

static void emit(sched *s, ac_event *ev)
{
	ac_err err;
	ev->t_us = ac_now_us();
	if (s->io.emit(s->io.ctx, ev, &err)) {
		ac_event e = { .kind = EV_ERROR, .t_us = ev->t_us, .browser = ev->browser, .text = err.msg };
		s->io.emit(s->io.ctx, &e, &err);
	}
}

static void emit_error(sched *s, int browser, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit_error(sched *s, int browser, const char *fmt, ...)
{
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	ac_event ev = { .kind = EV_ERROR, .browser = browser, .text = text };
	emit(s, &ev);
}

static work *work_find(sched *s, int row)
{
	for (work *w = s->works; w; w = w->next)
		if (w->row == row)
			return w;
	return NULL;
}

static sess_x *sx_find(sched *s, int browser, int session)
{
	for (size_t i = 0; i < s->n_sx; i++)
		if (s->sx[i].browser == browser && s->sx[i].session == session)
			return &s->sx[i];
	return NULL;
}

static refout *ref_find(sched *s, int browser, const char *model, bool create)
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

static int plat_index(const char *name)
{
	for (int i = 0; i < PLAT__COUNT; i++)
		if (strcmp(plat_name((ac_platform)i), name) == 0)
			return i;
	return -1;
}

static bool browser_ready(const pool_browser *b)
{
	return b && b->state == BS_CONNECTED && b->caps.valid;
}

/* Lower is better: the kind suited to the model's type, before any measurement exists. */
static int preference(const cat_model *m, const pool_browser *b)
{
	if (!strcmp(m->type, "audio"))
		return strcmp(b->kind, "firefox") ? 1 : 0;
	if (!strcmp(m->type, "vision") || !strcmp(m->type, "multimodal"))
		return !strcmp(b->kind, "chromium") || !strcmp(b->kind, "chrome") ? 0 : 1;
	if (!strcmp(b->kind, "edge") && b->caps.verdict[PLAT_WEBNN].status == CL_HARDWARE)
		return 0;
	return !strcmp(b->kind, "chromium") ? 1 : 2;
}

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

/* ---------------------------------------------------------------- sending */

/* Sends msg with n frames (runs) and remembers what the reply will answer. */
static int send_frames(sched *s, int browser, cJSON *msg, int row, pend_kind kind, int session, int64_t request,
		       bool want_outputs, bool custom, unsigned char *const *fr, const size_t *lens, int n)
{
	uint32_t id;
	const void *frames[CAT_MAX_IO];
	for (int i = 0; i < n; i++)
		frames[i] = fr[i];
	if (ac_reserve((void **)&s->pend, &s->cap_pend, s->n_pend + 1, sizeof *s->pend)) {
		cJSON_Delete(msg);
		return AC_ENOMEM;
	}
	int rc = s->io.request(s->io.ctx, browser, msg, frames, lens, n, &id);
	cJSON_Delete(msg);
	if (rc)
		return rc;
	s->pend[s->n_pend++] = (pending){ .browser = browser, .id = id, .kind = kind, .row = row,
					   .session = session, .request = request, .sent_ns = uv_hrtime(),
					   .want_outputs = want_outputs, .custom = custom };
	return 0;
}

static int send_msg(sched *s, int browser, cJSON *msg, work *w, pend_kind kind, int session, int64_t request,
		    bool want_outputs)
{
	bool run = (kind == PK_RUN || kind == PK_REFRUN) && w;
	return send_frames(s, browser, msg, w ? w->row : 0, kind, session, request, want_outputs, false,
			   run ? w->frames : NULL, run ? w->lens : NULL, run ? w->n_in : 0);
}

/* ---------------------------------------------------------------- late replies */

static void ghost_add(sched *s, const pending *pd, const char *why)
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

/* ---------------------------------------------------------------- submitted requests */

static submitted *sub_find(sched *s, int64_t request)
{
	for (size_t i = 0; i < s->n_subs; i++)
		if (s->subs[i].request == request)
			return &s->subs[i];
	return NULL;
}

static void sub_drop(sched *s, int64_t request)
{
	submitted *u = sub_find(s, request);
	if (!u)
		return;
	for (int i = 0; i < u->n; i++)
		free(u->frames[i]);
	*u = s->subs[--s->n_subs];
}

/* ---------------------------------------------------------------- circuit breakers */

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
	emit(s, &ev);
}

/* Whether the breaker lets a request go to this browser for this row now. */
static bool brk_allows(sched *s, int browser, int row)
{
	breaker *k = brk_find(s, browser, row, false);
	return !k || k->state == BRK_CLOSED || (k->state == BRK_HALF_OPEN && !k->probing);
}

static void brk_sent(sched *s, int browser, int row)
{
	breaker *k = brk_find(s, browser, row, false);
	if (k && k->state == BRK_HALF_OPEN)
		k->probing = true;
}

static void brk_result(sched *s, int browser, int row, bool ok, const char *why)
{
	breaker *k = brk_find(s, browser, row, !ok);
	if (!k)
		return;
	k->probing = false;
	if (ok) {
		bool was = k->state != BRK_CLOSED;
		k->fails = 0;
		k->cooldown_s = BRK_COOLDOWN_S;
		if (was) {
			k->state = BRK_CLOSED;
			brk_emit(s, k, "a probe request succeeded");
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
static void brk_reset(sched *s, int browser, const char *why)
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

/* shard: 1-based shard of a sharded row; 0 = the whole model */
static int load_shard(sched *s, work *w, int browser, ac_precision prec, const char *platform, bool reference,
		      bool fallback, int shard)
{
	if (ac_reserve((void **)&s->sx, &s->cap_sx, s->n_sx + 1, sizeof *s->sx))
		return AC_ENOMEM;
	int key = ++s->next_session;
	char url[512], file[64];
	catalog_shard_url(w->m, shard, prec, url, sizeof url);
	if (shard)
		snprintf(file, sizeof file, "shard %d/%d %s", shard, w->n_shards, prec_file(prec));
	else
		ac_strlcpy(file, prec_file(prec), sizeof file);
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "type", "load");
	cJSON_AddNumberToObject(msg, "session", key);
	cJSON_AddStringToObject(msg, "model", w->m->name);
	cJSON_AddStringToObject(msg, "precision", prec_name(prec));
	cJSON_AddStringToObject(msg, "platform", platform);
	cJSON_AddStringToObject(msg, "url", url);
	cJSON_AddStringToObject(msg, "file", prec_file(prec));
	if (!strcmp(platform, "webnn"))
		cJSON_AddStringToObject(msg, "device_type", "gpu");
	int rc = send_msg(s, browser, msg, w, PK_LOAD, key, 0, false);
	if (rc)
		return rc;
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
	emit(s, &ev);
	return 0;
}

static int load(sched *s, work *w, int browser, ac_precision prec, const char *platform, bool reference, bool fallback)
{
	return load_shard(s, w, browser, prec, platform, reference, fallback, 0);
}

static void unload(sched *s, sess_x *x)
{
	if (x->unload_sent)
		return;
	x->unload_sent = true;
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "type", "unload");
	cJSON_AddNumberToObject(msg, "session", x->session);
	send_msg(s, x->browser, msg, NULL, PK_UNLOAD, x->session, 0, false);
}

/* ---------------------------------------------------------------- placement and dispatch */

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

static bool pin_matches(const work *w, const pool_browser *b)
{
	return pin_matches_shard(w, b, 0);
}

static void place(sched *s, work *w)
{
	int pi = plat_index(w->platform);
	for (size_t i = 0; i < pool_browser_count(s->p); i++) {
		const pool_browser *b = pool_browser_at(s->p, i);
		for (int k = w->n_shards ? 1 : 0; k <= w->n_shards; k++) {
			/* browsers may come and go inside load(): b is looked up again each time */
			b = pool_browser_at(s->p, i);
			if (!browser_ready(b) || (k ? !pin_matches_shard(w, b, k) : !pin_matches(w, b)) ||
			    has_live_session(s, w, b->id, k))
				continue;
			char why[256];
			if (b->caps.verdict[pi].status == CL_UNAVAILABLE ||
			    !sched_variant_runs(b, w->prec, w->platform, why, sizeof why)) {
				if (s->cfg.allow_fallback && strcmp(w->platform, "wasm"))
					load_shard(s, w, b->id, w->prec, "wasm", false, true, k);
				continue;
			}
			load_shard(s, w, b->id, w->prec, w->platform, false, false, k);
		}
	}
}

/* 0 for a hardware adapter, 1 software, 2 anything else (unknown, unavailable). */
static int class_rank(const pool_browser *b, const char *platform)
{
	int pi = plat_index(platform);
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

/* stage: the shard to run (1-based) on a sharded row; 0 = the whole model */
static sess_x *pick(sched *s, work *w, int stage)
{
	sess_x *best = NULL;
	double best_score = 0;
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->row != w->row || x->reference || x->retiring || x->prec != w->prec || x->shard != stage)
			continue;
		const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
		const pool_browser *b = pool_browser_find(s->p, x->browser);
		if (!ps || ps->state != SS_READY || ps->inflight >= window_of(s, ps) || !browser_ready(b) ||
		    !brk_allows(s, x->browser, w->row))
			continue;
		/* measured: latency times load; not yet: the kind suited to the model, hardware before
		 * software, the least loaded */
		double score = ps->ewma_ms >= 0 ? ps->ewma_ms * (ps->inflight + 1)
						: preference(w->m, b) * 1e-3 + class_rank(b, ps->platform_used) * 1e-4 + ps->inflight;
		if (ps->ewma_ms < 0)
			score -= 1e6; /* unmeasured sessions get a request first, to be measured */
		if (!best || score < best_score) {
			best = x;
			best_score = score;
		}
	}
	return best;
}

static staged *stg_find(sched *s, int64_t request)
{
	for (size_t i = 0; i < s->n_stg; i++)
		if (s->stg[i].request == request)
			return &s->stg[i];
	return NULL;
}

static void stg_drop(sched *s, int64_t request)
{
	staged *g = stg_find(s, request);
	if (!g)
		return;
	for (int i = 0; i < g->n; i++)
		free(g->frames[i]);
	*g = s->stg[--s->n_stg];
}

/* One frame: header + data (the layout build_inputs makes); NULL if it cannot be framed. */
static unsigned char *frame_tensor(const char *name, uint8_t dtype, int rank, const uint64_t *dims, const void *data,
				   size_t bytes, size_t *len)
{
	proto_frame f = { .dtype = dtype, .rank = (uint8_t)rank };
	memcpy(f.dims, dims, sizeof f.dims);
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

static int popcount32(uint32_t v)
{
	int n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

/* Lanes of x's session whose output has not been compared yet, when it can be now. */
static bool lanes_left(sched *s, const sess_x *x)
{
	const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
	if (!ps || ps->lanes <= 1 || !x->verified)
		return false;
	const refout *r = ref_find(s, x->browser, x->model, false);
	int lanes = ps->lanes < 32 ? ps->lanes : 32;
	return r && r->state == REF_DONE && popcount32(x->lanes_done) < lanes;
}

/* Sends one stage of a request (stage 0: the whole model). Returns 0 when sent. */
static int send_stage(sched *s, work *w, sess_x *x, int64_t req, int stage, bool *verified_out)
{
	const submitted *u = sub_find(s, req);
	bool custom = u && u->n > 0;
	unsigned char *const *in_frames = custom ? u->frames : w->frames;
	const size_t *in_lens = custom ? u->lens : w->lens;
	bool last = !w->n_shards || stage == w->n_shards;
	/* the last stage's first run with the row's own inputs is compared with the reference, and
	 * so is one run of every other lane of the page (ort-lanes.js) once the reference is known */
	bool verify = last && !custom && (!x->verify_sent || lanes_left(s, x));
	bool want = !last || verify || (u && u->want_outputs);
	unsigned char *fr[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int n = 0;
	if (!stage) {
		n = custom ? u->n : w->n_in;
		for (int i = 0; i < n; i++) {
			fr[i] = in_frames[i];
			lens[i] = in_lens[i];
		}
	} else {
		const cat_shard *sh = &w->m->shards[stage - 1];
		const staged *g = stage > 1 ? stg_find(s, req) : NULL;
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
	}
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "type", "run");
	cJSON_AddNumberToObject(msg, "session", x->session);
	cJSON_AddNumberToObject(msg, "tensors", n);
	cJSON_AddStringToObject(msg, "outputs", want ? "all" : "none");
	int rc = send_frames(s, x->browser, msg, w->row, PK_RUN, x->session, req, want, !verify, fr, lens, n);
	if (rc)
		return rc;
	s->pend[s->n_pend - 1].stage = stage;
	if (verify)
		x->verify_sent = true;
	*verified_out = verify;
	brk_sent(s, x->browser, w->row);
	ac_event ev = { .kind = EV_REQUEST_SENT, .model = w->row, .request = req, .browser = x->browser,
			.session = x->session };
	emit(s, &ev);
	return 0;
}

/* A sharded row's request waiting for shard k + 1 (k shards done), the oldest first. */
static const pool_request *next_staged(sched *s, work *w, int *stage)
{
	const pool_request *best = NULL;
	for (size_t i = 0; i < pool_request_count(s->p); i++) {
		const pool_request *r = pool_request_at(s->p, i);
		if (r->model != w->row || r->inflight || !r->stage || !stg_find(s, r->id))
			continue;
		if (!best || r->stage > best->stage || (r->stage == best->stage && r->id < best->id))
			best = r;
	}
	if (best)
		*stage = best->stage + 1;
	return best;
}

static void dispatch(sched *s, work *w)
{
	const pool_request *r;
	sess_x *x;
	bool v;
	/* later stages first: they finish requests, and free the earlier shards' sessions to take
	 * the next request while these run (the pipeline) */
	for (int stage; w->n_shards && (r = next_staged(s, w, &stage));) {
		int64_t req = r->id;
		if (!(x = pick(s, w, stage)) || send_stage(s, w, x, req, stage, &v))
			break;
	}
	while ((r = pool_next_queued(s->p, w->row)) && (x = pick(s, w, w->n_shards ? 1 : 0))) {
		if (send_stage(s, w, x, r->id, w->n_shards ? 1 : 0, &v))
			break;
	}
}

static void enqueue(sched *s, work *w)
{
	ac_event ev = { .kind = EV_REQUEST_QUEUED, .model = w->row, .request = ++s->next_request };
	emit(s, &ev);
}

static void fill(sched *s, work *w)
{
	const pool_model *m = pool_model_find(s->p, w->row);
	if (!w->running || !m || w->rps > 0)
		return;
	while ((w->count == 0 || m->submitted < w->count) && m->queue + m->inflight < w->concurrency)
		enqueue(s, w);
}

static void retire_idle(sched *s, work *w)
{
	for (size_t i = 0; i < s->n_sx; i++) {
		sess_x *x = &s->sx[i];
		if (x->row != w->row || x->reference || x->unload_sent)
			continue;
		if (w->running && !x->retiring && x->prec == w->prec)
			continue;
		const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
		if (ps && ps->state == SS_READY && ps->inflight == 0 && (x->verified || !x->verify_sent || !w->running))
			unload(s, x);
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
			emit(s, &ev);
		}
	} while (n == 256);
	ac_event ev = { .kind = EV_WORKLOAD_STOPPED, .model = w->row, .text = why };
	emit(s, &ev);
	retire_idle(s, w);
}

static void check_finished(sched *s, work *w)
{
	const pool_model *m = pool_model_find(s->p, w->row);
	if (w->running && m && w->count > 0 && m->finished >= w->count) {
		char why[96];
		snprintf(why, sizeof why, "completed %lld requests", (long long)w->count);
		stop(s, w, why);
	}
}

/* No session can serve the row any more, and none is on its way: end its requests with why. */
static void check_servable(sched *s, work *w, const char *why)
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
			emit(s, &q);
			ac_event f = { .kind = EV_REQUEST_FAILED, .model = w->row, .request = id,
				       .text = "queue full: the browsers serve fewer requests per second than asked" };
			emit(s, &f);
			continue;
		}
		enqueue(s, w);
	}
	dispatch(s, w);
	check_finished(s, w);
}

static void on_duration(uv_timer_t *t)
{
	work *w = t->data;
	stop(w->s, w, "duration reached");
}

/* ---------------------------------------------------------------- verification */

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
	emit(s, &ev);
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
	refout *r = ref_find(s, x->browser, x->model, true);
	work *w = work_find(s, x->row);
	if (!r || r->state != REF_NONE || !w)
		return;
	if (!w->m->has[PREC_FP32]) {
		r->state = REF_FAILED;
		ac_strlcpy(r->error, "the model has no fp32 variant to verify against", sizeof r->error);
		return;
	}
	if (load(s, w, x->browser, PREC_FP32, "wasm", true, false) == 0) {
		r->state = REF_LOADING;
		r->session = s->next_session;
	}
}

static void verify_waiting(sched *s, int browser, const char *model_name)
{
	char model[64]; /* callers pass a name inside a table that may move */
	ac_strlcpy(model, model_name, sizeof model);
	refout *r = ref_find(s, browser, model, false);
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
			emit(s, &ev);
		}
		work *w = work_find(s, row); /* x may have moved: listeners can start work */
		if (w)
			retire_idle(s, w);
		r = ref_find(s, browser, model, false);
		if (!r)
			return;
	}
}

static void keep_output(ac_tensor *t, const proto_frame *f)
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
	keep_output(&x->out0, f);
	x->have_out = true;
	const pool_session *ps = pool_session_find(s->p, x->browser, x->session);
	if (x->prec == PREC_FP32 && ps && !strcmp(ps->platform_used, "wasm") && !x->shard) {
		refout *r = ref_find(s, x->browser, x->model, true);
		if (r && r->state != REF_DONE) { /* this session is the reference itself */
			keep_output(&r->out0, f);
			r->state = REF_DONE;
		}
		compare(s, x, &x->out0, "is the reference itself (fp32 on wasm)");
		verify_waiting(s, x->browser, x->model);
		return;
	}
	refout *r = ref_find(s, x->browser, x->model, false);
	if (r && r->state == REF_DONE)
		compare(s, x, &r->out0, ref_note(x));
	else if (!r || r->state == REF_NONE)
		start_reference(s, x);
	else if (r->state == REF_FAILED)
		verify_waiting(s, x->browser, x->model);
}

/* An output of x to verify: the session's first, or the first of another lane of its page. */
static void verify_output(sched *s, sess_x *x, const proto_frame *f, int lane)
{
	uint32_t bit = lane >= 0 && lane < 32 ? 1u << lane : 0;
	if (!x->have_out) {
		x->lanes_done |= bit;
		got_output(s, x, f);
		return;
	}
	refout *r = ref_find(s, x->browser, x->model, false);
	if (!bit || (x->lanes_done & bit) || !r || r->state != REF_DONE)
		return; /* that lane again, or the reference not there yet: a later run of it is asked */
	x->lanes_done |= bit;
	ac_tensor t;
	memset(&t, 0, sizeof t);
	keep_output(&t, f);
	char note[160];
	snprintf(note, sizeof note, "lane %d: %s", lane, ref_note(x));
	compare_out(s, x, &t, &r->out0, note);
	tensor_free(&t);
}

/* ---------------------------------------------------------------- replies */

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
	emit(s, &ev);
	/* found after emitting: a listener may have started work that moved the table */
	sess_x *x = sx_find(s, pd->browser, pd->session);
	work *w = work_find(s, pd->row);
	if (!x || !w)
		return;
	if (x->reference) {
		refout *r = ref_find(s, x->browser, x->model, false);
		cJSON *msg = cJSON_CreateObject();
		cJSON_AddStringToObject(msg, "type", "run");
		cJSON_AddNumberToObject(msg, "session", x->session);
		cJSON_AddNumberToObject(msg, "tensors", w->n_in);
		cJSON_AddStringToObject(msg, "outputs", "all");
		if (send_msg(s, x->browser, msg, w, PK_REFRUN, x->session, 0, true) == 0 && r)
			r->state = REF_RUNNING;
		return;
	}
	if (!w->running || x->prec != w->prec)
		retire_idle(s, w);
	dispatch(s, w);
}

static void on_load_failed(sched *s, const pending *pd, const char *why)
{
	ac_event ev = { .kind = EV_SESSION_FAILED, .browser = pd->browser, .session = pd->session,
			.model = pd->row, .text = why };
	emit(s, &ev);
	sess_x *x = sx_find(s, pd->browser, pd->session);
	work *w = work_find(s, pd->row);
	if (!x || !w)
		return;
	if (x->reference) {
		refout *r = ref_find(s, x->browser, x->model, false);
		if (r) {
			r->state = REF_FAILED;
			snprintf(r->error, sizeof r->error, "the fp32 wasm reference failed to load: %.150s", why);
		}
		verify_waiting(s, x->browser, x->model);
		return;
	}
	const pool_session *ps = pool_session_find(s->p, pd->browser, pd->session);
	if (s->cfg.allow_fallback && ps && strcmp(ps->platform, "wasm") && w->running) {
		load(s, w, pd->browser, x->prec, "wasm", false, true);
		return;
	}
	check_servable(s, w, why);
}

/* One stage of a sharded request ended with its result: its figures become EV_SHARD_DONE; below
 * the last shard its outputs are kept, framed, for the next stage (false: nothing more to do now);
 * the last shard's turns *done into the whole request's figures, summed over its stages. */
static bool stage_done(sched *s, work *w, const pending *pd, ac_event *done, const proto_frame *frames, int n)
{
	staged *g = stg_find(s, pd->request);
	if (!g) {
		if (ac_reserve((void **)&s->stg, &s->cap_stg, s->n_stg + 1, sizeof *s->stg)) {
			ac_event f = { .kind = EV_REQUEST_FAILED, .model = pd->row, .request = pd->request,
				       .browser = pd->browser, .session = pd->session, .text = "out of memory" };
			emit(s, &f);
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
		emit(s, &ev);
		return true;
	}
	for (int i = 0; i < g->n; i++)
		free(g->frames[i]);
	g->n = 0;
	const char *bad = NULL;
	for (int i = 0; i < n && i < CAT_MAX_IO && !bad; i++) {
		g->frames[i] = frame_tensor(frames[i].name, frames[i].dtype, frames[i].rank, frames[i].dims, frames[i].data,
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
		emit(s, &f);
		return false;
	}
	emit(s, &ev);
	brk_result(s, pd->browser, pd->row, true, NULL);
	if ((w = work_find(s, pd->row))) {
		retire_idle(s, w);
		dispatch(s, w);
	}
	return false;
}

static void on_result(sched *s, const pending *pd, const proto_msg *m, const proto_frame *frames, int n)
{
	sess_x *x = sx_find(s, pd->browser, pd->session);
	work *w = work_find(s, pd->row);
	if (pd->kind == PK_REFRUN) {
		refout *r = x ? ref_find(s, x->browser, x->model, false) : NULL;
		if (r && n > 0) {
			keep_output(&r->out0, &frames[0]);
			r->state = REF_DONE;
		} else if (r) {
			r->state = REF_FAILED;
			ac_strlcpy(r->error, "the reference run returned no output", sizeof r->error);
		}
		if (x) {
			verify_waiting(s, x->browser, x->model);
			unload(s, x);
		}
		return;
	}
	double total = (double)(uv_hrtime() - pd->sent_ns) / 1e6;
	const submitted *u = sub_find(s, pd->request);
	bool to_submitter = u != NULL;
	ac_event ev = { .kind = EV_REQUEST_DONE, .model = pd->row, .request = pd->request, .browser = pd->browser,
			.session = pd->session,
			.x = { total, num(m->root, "compute_ms"), num(m->root, "queue_ms"), num(m->root, "page_ms") } };
	if (pd->stage && w && !stage_done(s, w, pd, &ev, frames, n))
		return;
	stg_drop(s, pd->request);
	emit(s, &ev);
	brk_result(s, pd->browser, pd->row, true, NULL);
	if (to_submitter && s->cfg.on_done)
		s->cfg.on_done(s->cfg.on_done_ctx, pd->row, pd->request, pd->browser, pd->session, frames, n);
	x = sx_find(s, pd->browser, pd->session);
	w = work_find(s, pd->row);
	if (x && pd->want_outputs && !pd->custom && n > 0)
		verify_output(s, x, &frames[0], (int)num(m->root, "lane"));
	if (!w)
		return;
	fill(s, w);
	check_finished(s, w);
	retire_idle(s, w);
	dispatch(s, w);
}

static void on_run_failed(sched *s, const pending *pd, const char *why)
{
	work *w = work_find(s, pd->row);
	if (pd->kind == PK_REFRUN) {
		sess_x *x = sx_find(s, pd->browser, pd->session);
		refout *r = x ? ref_find(s, x->browser, x->model, false) : NULL;
		if (r) {
			r->state = REF_FAILED;
			snprintf(r->error, sizeof r->error, "the fp32 wasm reference run failed: %.150s", why);
			verify_waiting(s, x->browser, x->model);
		}
		return;
	}
	ac_event ev = { .kind = EV_REQUEST_FAILED, .model = pd->row, .request = pd->request, .browser = pd->browser,
			.session = pd->session, .text = why };
	emit(s, &ev);
	brk_result(s, pd->browser, pd->row, false, why);
	w = work_find(s, pd->row);
	if (!w)
		return;
	fill(s, w);
	check_finished(s, w);
	retire_idle(s, w);
	dispatch(s, w);
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
				emit(s, &ev);
		} else if (m->type == PM_ERROR) {
			emit_error(s, browser, "browser %d: %s", browser, error_text(m, why, sizeof why));
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
		emit(s, &ev);
		break;
	}
	}
}

/* ---------------------------------------------------------------- browsers coming and going */

/* Work a listener puts off until its events are applied (pool_after: run to completion). */
static void dispatch_all(void *ctx)
{
	sched *s = ctx;
	for (work *w = s->works; w && !s->closing; w = w->next)
		dispatch(s, w);
}

static void place_all(void *ctx)
{
	sched *s = ctx;
	for (work *w = s->works; w && !s->closing; w = w->next)
		if (w->running) {
			place(s, w);
			dispatch(s, w);
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
			ghost_add(s, &copy, why);
			ac_event ev = { .kind = EV_REQUEST_REQUEUED, .model = copy.row, .request = copy.request,
					.browser = browser, .text = why };
			emit(s, &ev);
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
		brk_reset(s, ev->browser, "the browser has a new page");
		break;
	case EV_BROWSER_LOST:
	case EV_BROWSER_EXITED:
		browser_gone(s, ev->browser, ev->kind == EV_BROWSER_LOST ? "the browser was lost" : "the browser exited");
		break;
	case EV_REQUEST_DONE:
	case EV_REQUEST_FAILED:
		sub_drop(s, ev->request);
		stg_drop(s, ev->request);
		break;
	case EV_REQUEST_REQUEUED: /* a sharded request starts again from its first shard */
		stg_drop(s, ev->request);
		break;
	case EV_BROWSER_HELLO: /* placing reads the sessions it loads: after this event (run to completion) */
		pool_after(s->p, place_all, s);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- the tick: timeouts, probes */

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
		if (brk_allows(s, x->browser, w->row))
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

static void expire_requests(sched *s)
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
		int64_t req = r->id;
		int row = r->model, browser = r->browser;
		work *w = work_find(s, row);
		char text[300];
		if (r->inflight) {
			const pool_browser *b = pool_browser_find(s->p, browser);
			snprintf(text, sizeof text, "no result within %g s (--request-timeout) from browser %d (%s)",
				 s->cfg.request_timeout_s, browser, b ? b->kind : "?");
			for (size_t i = 0; i < s->n_pend; i++)
				if (s->pend[i].kind == PK_RUN && s->pend[i].request == req) {
					pending pd = s->pend[i];
					s->pend[i] = s->pend[--s->n_pend];
					ghost_add(s, &pd, "it had timed out");
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
		emit(s, &ev);
		if (browser)
			brk_result(s, browser, row, false, "timed out");
		if ((w = work_find(s, row))) {
			fill(s, w);
			check_finished(s, w);
		}
	}
}

static void on_tick(uv_timer_t *t)
{
	sched *s = t->data;
	uint64_t now = uv_now(s->loop);
	for (size_t i = 0; i < s->n_brks; i++) {
		breaker *k = &s->brks[i];
		if (k->state == BRK_OPEN && now >= k->probe_at_ms) {
			k->state = BRK_HALF_OPEN;
			k->probing = false;
			brk_emit(s, k, "cool-down over: one probe request may go");
		}
	}
	expire_requests(s);
	for (work *w = s->works; w; w = w->next)
		dispatch(s, w);
}

/* ---------------------------------------------------------------- workloads */

static int build_inputs(sched *s, work *w, ac_err *err)
{
	int rc = inputs_make(w->m, s->cfg.seed, s->cfg.audio, w->inputs, err);
	if (rc)
		return rc;
	w->n_in = w->m->n_inputs;
	for (int i = 0; i < w->n_in; i++) {
		const ac_tensor *t = &w->inputs[i];
		if (!(w->frames[i] = frame_tensor(t->name, t->dtype, t->rank, t->dims, t->data, t->bytes, &w->lens[i])))
			return ac_errf(err, AC_EINVAL, "model %s input %s cannot be framed", w->m->name, t->name);
	}
	return 0;
}

static void start_work(void *ctx)
{
	work *w = ctx;
	if (w->s->closing)
		return;
	place(w->s, w);
	fill(w->s, w);
	dispatch(w->s, w);
}

static void dispatch_later(void *ctx)
{
	work *w = ctx;
	if (!w->s->closing)
		dispatch(w->s, w);
}

static void work_free(work *w)
{
	inputs_free(w->inputs, CAT_MAX_IO);
	for (int i = 0; i < CAT_MAX_IO; i++)
		free(w->frames[i]);
	free(w);
}

int sched_start(sched *s, const workload_spec *spec, int *row_out, ac_err *err)
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
	if (plat_index(spec->platform) < 0)
		return ac_errf(err, AC_EINVAL, "unknown platform '%s' (webgpu, webnn, wasm)", spec->platform);
	if (spec->concurrency < 1 && spec->rps <= 0 && !spec->on_demand)
		return ac_errf(err, AC_EINVAL, "a workload needs a concurrency of 1 or more, or a rate");
	char pins[CAT_MAX_SHARDS][24];
	int n_pins = 0;
	if (spec->shard[0]) {
		if (!m->n_shards)
			return ac_errf(err, AC_EINVAL, "model %s is not described as shards (its accel.json has no 'shards'; "
				       "see models/README.md)", m->name);
		char buf[64];
		ac_strlcpy(buf, spec->shard, sizeof buf);
		for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (n_pins == CAT_MAX_SHARDS || strlen(t) >= sizeof pins[0])
				return ac_errf(err, AC_EINVAL, "--shard '%s': at most %d browser kinds", spec->shard, CAT_MAX_SHARDS);
			ac_strlcpy(pins[n_pins++], t, sizeof pins[0]);
		}
		if (n_pins != m->n_shards)
			return ac_errf(err, AC_EINVAL, "--shard '%s' names %d browser(s), but %s has %d shards: name one kind "
				       "(or #ID) per shard, e.g. chromium,firefox", spec->shard, n_pins, m->name, m->n_shards);
		if (!catalog_shards_have(m, (ac_precision)prec))
			return ac_errf(err, AC_ENOENT, "model %s has no %s variant of every shard (%s/%s/onnx/%s)", m->name,
				       prec_name((ac_precision)prec), m->dir, m->shards[0].folder, prec_file((ac_precision)prec));
	}
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
	int rc = build_inputs(s, w, err);
	if (rc) {
		work_free(w);
		return rc;
	}
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
	emit(s, &ev);
	if (row_out)
		*row_out = w->row;
	if (w->rps > 0)
		uv_timer_start(&w->rate_timer, on_rate_tick, 10, 10);
	if (w->duration_s > 0)
		uv_timer_start(&w->end_timer, on_duration, (uint64_t)(w->duration_s * 1000), 0);
	/* from inside a listener the row exists only once its event is applied (run to completion) */
	pool_after(s->p, start_work, w);
	return 0;
}

int sched_stop(sched *s, int row, const char *why, ac_err *err)
{
	work *w = work_find(s, row);
	if (!w)
		return ac_errf(err, AC_ENOENT, "model %d does not exist", row);
	if (!w->running)
		return ac_errf(err, AC_EINVAL, "model %d is already stopped", row);
	stop(s, w, why);
	return 0;
}

int sched_change_precision(sched *s, int row, int direction, ac_err *err)
{
	work *w = work_find(s, row);
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
			if (!browser_ready(b) || !pin_matches(w, b))
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
	emit(s, &ev);
	ac_errf(err, 0, "%s", note);
	place(s, w);
	retire_idle(s, w);
	dispatch(s, w);
	return 0;
}

int sched_submit(sched *s, int row, const ac_tensor *inputs, int n, bool want_outputs, int64_t *request,
		 ac_err *err)
{
	work *w = s->closing ? NULL : work_find(s, row);
	if (!w)
		return ac_errf(err, AC_ENOENT, "model %d does not exist", row);
	if (!w->running)
		return ac_errf(err, AC_EINVAL, "model %d is stopped: %s", row, pool_model_find(s->p, row)->stop_reason);
	if (n < 0 || n > CAT_MAX_IO || (n && n != w->n_in))
		return ac_errf(err, AC_EINVAL, "model %s takes %d inputs, %d given", w->m->name, w->n_in, n);
	if (ac_reserve((void **)&s->subs, &s->cap_subs, s->n_subs + 1, sizeof *s->subs))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	submitted u = { .request = s->next_request + 1, .row = row, .n = n, .want_outputs = want_outputs };
	for (int i = 0; i < n; i++) {
		const ac_tensor *t = &inputs[i];
		if (!(u.frames[i] = frame_tensor(t->name, t->dtype, t->rank, t->dims, t->data, t->bytes, &u.lens[i]))) {
			for (int k = 0; k < i; k++)
				free(u.frames[k]);
			return ac_errf(err, AC_EINVAL, "input %s of %s cannot be framed", t->name, w->m->name);
		}
	}
	s->subs[s->n_subs++] = u;
	*request = u.request;
	enqueue(s, w);
	if ((w = work_find(s, row)))
		pool_after(s->p, dispatch_later, w); /* once the request is queued (run to completion) */
	return 0;
}

const cat_model *sched_row_model(const sched *s, int row)
{
	for (const work *w = s->works; w; w = w->next)
		if (w->row == row)
			return w->m;
	return NULL;
}

int sched_kind_preference(const char *model_type, const char *kind)
{
	cat_model m;
	pool_browser b;
	memset(&m, 0, sizeof m);
	memset(&b, 0, sizeof b);
	ac_strlcpy(m.type, model_type, sizeof m.type);
	ac_strlcpy(b.kind, kind, sizeof b.kind);
	return preference(&m, &b);
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
		work_free(w);
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
		sub_drop(s, s->subs[0].request);
	while (s->n_stg)
		stg_drop(s, s->stg[0].request);
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
