#include "tuner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tuner {
	tuner_io io;
	const tuner_plan *p;
	void (*done)(void *ctx, tuner_result *r);
	void *ctx;
	tuner_result *r;
	int step;
	bool busy, in_flight;
	uint32_t pending_id;
	int pending_clip, pending_cand, pending_round;
	uv_timer_t kick, deadline;
	int open_timers;
};

int tuner_plan_add_clip(tuner_plan *p, const char *name, const audio_clip *c, ac_err *err)
{
	if (p->n_clips == TUNER_MAX_CLIPS)
		return ac_errf(err, AC_EINVAL, "--clip: at most %d clips", TUNER_MAX_CLIPS);
	size_t n = c->n < (size_t)30 * AUDIO_RATE ? c->n : (size_t)30 * AUDIO_RATE;
	int k = p->n_clips;
	ac_strlcpy(p->clip_names[k], name, sizeof p->clip_names[0]);
	p->clip_seconds[k] = (double)n / AUDIO_RATE;
	p->ref[k] = malloc((size_t)80 * p->frames * sizeof(float));
	proto_frame f = { .dtype = DT_FLOAT32, .rank = 1, .dims = { n } };
	ac_strlcpy(f.name, "audio", sizeof f.name);
	unsigned char hdr[64];
	size_t hl = proto_encode_frame_header(&f, hdr, sizeof hdr);
	p->frame[k] = hl ? malloc(hl + f.data_len + 1) : NULL;
	if (!p->ref[k] || !p->frame[k]) {
		free(p->ref[k]);
		free(p->frame[k]);
		return ac_errf(err, AC_ENOMEM, "out of memory for clip %s", name);
	}
	audio_clip cut = *c;
	cut.n = n;
	audio_log_mel(&cut, p->frames, p->ref[k]);
	memcpy(p->frame[k], hdr, hl);
	memcpy(p->frame[k] + hl, c->samples, f.data_len);
	p->frame_len[k] = hl + f.data_len;
	p->n_clips++;
	return 0;
}

void tuner_plan_free(tuner_plan *p)
{
	for (int i = 0; i < p->n_clips; i++) {
		free(p->ref[i]);
		free(p->frame[i]);
	}
	p->n_clips = 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double *s = malloc((size_t)n * sizeof *s);
	if (!s)
		return NAN;
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static void next_step(tuner *t);

static void on_kick(uv_timer_t *h)
{
	next_step(h->data);
}

static void later(tuner *t)
{
	uv_timer_start(&t->kick, on_kick, 0, 0);
}

static int timing_steps(const tuner *t)
{
	return (t->p->rounds + 1) * t->p->n_shapes;
}

static void choose(const tuner_plan *p, tuner_result *r)
{
	r->chosen = -1;
	for (int i = 0; i < p->n_shapes; i++) {
		const tuner_cand *c = &r->c[i];
		if (c->failed || !c->n_ms)
			continue;
		if (r->chosen < 0 || median(c->ms, c->n_ms) < median(r->c[r->chosen].ms, r->c[r->chosen].n_ms))
			r->chosen = i;
	}
}

static void finish(tuner *t)
{
	t->busy = false;
	if (t->r->chosen < 0)
		choose(t->p, t->r);
	t->done(t->ctx, t->r);
}

static void on_deadline(uv_timer_t *h);
static void on_reply(void *ctx, int browser, const proto_msg *m, const proto_frame *frames, int n);

static void next_step(tuner *t)
{
	if (!t->busy || t->io.quitting(t->io.ctx))
		return;
	const tuner_plan *p = t->p;
	tuner_result *r = t->r;
	int clip = 0, ci, round = 0;
	if (t->step < timing_steps(t)) {
		round = t->step / p->n_shapes;
		ci = t->step % p->n_shapes;
		if (r->c[ci].failed) {
			t->step++;
			later(t);
			return;
		}
	} else {
		if (t->step == timing_steps(t))
			choose(p, r);
		clip = t->step - timing_steps(t) + 1;
		ci = r->chosen;
		if (clip >= p->n_clips || ci < 0) {
			finish(t);
			return;
		}
	}
	const tune_shape *sh = &p->shapes[ci];
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "type", "logmel");
	cJSON_AddNumberToObject(msg, "tensors", 1);
	cJSON_AddNumberToObject(msg, "frames", p->frames);
	cJSON *wg = cJSON_AddArrayToObject(msg, "workgroup");
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(sh->wx));
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(sh->wy));
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
	cJSON_AddNumberToObject(msg, "items", sh->items);
	cJSON_AddNumberToObject(msg, "repeat", clip == 0 && round > 0 ? p->repeat : 1);
	bridge_blob blob = { p->frame[clip], p->frame_len[clip] };
	int rc = t->io.request(t->io.ctx, r->browser, msg, &blob, 1, on_reply, t, &t->pending_id);
	cJSON_Delete(msg);
	if (rc) {
		snprintf(r->skip, sizeof r->skip, "%s is no longer connected", r->kind);
		finish(t);
		return;
	}
	t->in_flight = true;
	t->pending_clip = clip;
	t->pending_cand = ci;
	t->pending_round = round;
	if (p->progress) {
		fprintf(stderr, "\r\033[K%s: %s %dx%dx1/%d %s", r->kind, clip ? "verifying" : round ? "timing" : "warming up",
			sh->wx, sh->wy, sh->items, p->clip_names[clip]);
		if (!isatty(STDERR_FILENO))
			fputc('\n', stderr);
	}
	uv_timer_start(&t->deadline, on_deadline, (uint64_t)(p->timeout_s * 1000), 0);
}

static void fail_pending(tuner *t, const char *why)
{
	tuner_result *r = t->r;
	if (t->pending_clip == 0) {
		tuner_cand *c = &r->c[t->pending_cand];
		c->failed = true;
		ac_strlcpy(c->reason, why, sizeof c->reason);
	} else {
		r->clip_done[t->pending_clip] = true;
		r->clip_ok[t->pending_clip] = false;
		ac_strlcpy(r->clip_reason[t->pending_clip], why, sizeof r->clip_reason[0]);
	}
}

/* The reply to one of this tuner's requests; one that comes after its deadline is dropped. */
static void on_reply(void *ctx, int browser, const proto_msg *m, const proto_frame *frames, int n)
{
	tuner *t = ctx;
	if (!t->in_flight || browser != t->r->browser || m->id != t->pending_id)
		return;
	const tuner_plan *p = t->p;
	tuner_result *r = t->r;
	t->in_flight = false;
	uv_timer_stop(&t->deadline);
	if (m->type == PM_ERROR) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(m->root, "message");
		char why[300];
		snprintf(why, sizeof why, "the page: %.280s", cJSON_IsString(msg) ? msg->valuestring : "error");
		fail_pending(t, why);
	} else if (m->type != PM_LOGMEL_RESULT || n != 1 || frames[0].dtype != DT_FLOAT32 ||
		   frames[0].data_len != (size_t)80 * p->frames * 4) {
		fail_pending(t, "the page answered with something other than an 80 x frames float32 log-mel");
	} else {
		double err = tune_max_abs_diff(p->ref[t->pending_clip], frames[0].data, (size_t)80 * p->frames);
		bool ok = err <= TUNE_TOLERANCE;
		if (t->pending_clip == 0) {
			tuner_cand *c = &r->c[t->pending_cand];
			const cJSON *timing = cJSON_GetObjectItemCaseSensitive(m->root, "timing");
			const cJSON *cm = cJSON_GetObjectItemCaseSensitive(m->root, "compile_ms");
			bool ts = !strcmp(timing->valuestring, "timestamp-query");
			const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m->root, ts ? "gpu_ms" : "wall_ms");
			ac_strlcpy(c->timing, timing->valuestring, sizeof c->timing);
			if (cJSON_IsNumber(cm) && cm->valuedouble > 0)
				c->compile_ms = cm->valuedouble;
			c->max_abs = fmax(c->have_out ? c->max_abs : 0, err);
			c->have_out = true;
			if (t->pending_round > 0) {
				int k = cJSON_GetArraySize(arr);
				double *grown = realloc(c->ms, (size_t)(c->n_ms + k + 1) * sizeof *c->ms);
				if (grown) {
					c->ms = grown;
					for (const cJSON *e = arr->child; e; e = e->next)
						c->ms[c->n_ms++] = e->valuedouble;
				}
			}
			if (!ok) {
				c->failed = true;
				snprintf(c->reason, sizeof c->reason, "output differs from the C reference by %.3g (> %.3g)",
					 err, TUNE_TOLERANCE);
			}
		} else {
			r->clip_done[t->pending_clip] = true;
			r->clip_err[t->pending_clip] = err;
			r->clip_ok[t->pending_clip] = ok;
		}
	}
	t->step++;
	later(t);
}

static void on_deadline(uv_timer_t *h)
{
	tuner *t = h->data;
	if (!t->in_flight)
		return;
	t->in_flight = false;
	char why[96];
	snprintf(why, sizeof why, "no answer within %.0f s (--timeout)", t->p->timeout_s);
	fail_pending(t, why);
	t->step++;
	next_step(t);
}

tuner *tuner_new(const tuner_io *io, const tuner_plan *p, void (*done)(void *ctx, tuner_result *r), void *ctx)
{
	tuner *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->io = *io;
	t->p = p;
	t->done = done;
	t->ctx = ctx;
	uv_timer_init(io->loop, &t->kick);
	uv_timer_init(io->loop, &t->deadline);
	t->kick.data = t->deadline.data = t;
	t->open_timers = 2;
	return t;
}

void tuner_begin(tuner *t, const pool_browser *pb, tuner_result *r)
{
	memset(r, 0, sizeof *r);
	r->browser = pb->id;
	r->chosen = -1;
	ac_strlcpy(r->kind, pb->kind, sizeof r->kind);
	ac_strlcpy(r->version, pb->version, sizeof r->version);
	tune_adapter_key(&pb->caps, r->adapter, sizeof r->adapter);
	ac_strlcpy(r->classification, class_name(pb->caps.verdict[PLAT_WEBGPU].status), sizeof r->classification);
	for (int k = 0; k < t->p->n_shapes; k++)
		r->c[k].sh = t->p->shapes[k];
	t->r = r;
	t->step = 0;
	t->busy = true;
	t->in_flight = false;
	later(t);
}

bool tuner_busy(const tuner *t)
{
	return t && t->busy;
}

static void on_timer_closed(uv_handle_t *h)
{
	tuner *t = h->data;
	if (--t->open_timers == 0)
		free(t);
}

void tuner_close(tuner *t)
{
	if (!t)
		return;
	t->busy = t->in_flight = false;
	uv_close((uv_handle_t *)&t->kick, on_timer_closed);
	uv_close((uv_handle_t *)&t->deadline, on_timer_closed);
}

void tuner_rows(const tuner_plan *p, const tuner_result *b, double now, store_tuning *rows)
{
	for (int i = 0; i < p->n_shapes; i++) {
		const tuner_cand *c = &b->c[i];
		store_tuning *r = &rows[i];
		memset(r, 0, sizeof *r);
		r->measured_at = now;
		ac_strlcpy(r->browser_kind, b->kind, sizeof r->browser_kind);
		ac_strlcpy(r->browser_version, b->version, sizeof r->browser_version);
		ac_strlcpy(r->adapter, b->adapter, sizeof r->adapter);
		ac_strlcpy(r->classification, b->classification, sizeof r->classification);
		ac_strlcpy(r->kernel, "logmel", sizeof r->kernel);
		snprintf(r->workload, sizeof r->workload, "%s, %.2f s, %d frames, %d x %d runs", p->clip_names[0],
			 p->clip_seconds[0], p->frames, p->rounds, p->repeat);
		r->wx = c->sh.wx;
		r->wy = c->sh.wy;
		r->items = c->sh.items;
		r->is_default = i == 0;
		r->chosen = i == b->chosen;
		ac_strlcpy(r->status, c->failed || !c->n_ms ? "failed" : "ok", sizeof r->status);
		ac_strlcpy(r->reason, c->failed ? c->reason : !c->n_ms ? "no timed run completed" : "", sizeof r->reason);
		ac_strlcpy(r->timing, c->timing, sizeof r->timing);
		r->samples = c->n_ms;
		if (c->n_ms) {
			double mn = c->ms[0], sum = 0;
			for (int k = 0; k < c->n_ms; k++) {
				mn = fmin(mn, c->ms[k]);
				sum += c->ms[k];
			}
			r->have_figures = true;
			r->median_ms = median(c->ms, c->n_ms);
			r->min_ms = mn;
			r->mean_ms = sum / c->n_ms;
			r->compile_ms = c->compile_ms;
		}
		if (c->have_out) {
			r->have_verify = true;
			r->verify_max_abs = c->max_abs;
			if (i == b->chosen)
				for (int k = 1; k < p->n_clips; k++)
					if (b->clip_done[k] && b->clip_ok[k])
						r->verify_max_abs = fmax(r->verify_max_abs, b->clip_err[k]);
			r->verify_tolerance = TUNE_TOLERANCE;
			r->verify_ok = c->max_abs <= TUNE_TOLERANCE;
		}
	}
}

void tuner_result_free(tuner_result *r)
{
	for (int k = 0; k < TUNER_MAX_SHAPES; k++) {
		free(r->c[k].ms);
		r->c[k].ms = NULL;
	}
}
