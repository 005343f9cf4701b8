#include "optaudio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pool/store.h"
#include "../pool/tune.h"
#include "tuner.h"

#define OA_BROWSERS 64

typedef enum { OA_DEFAULT, OA_TUNING, OA_TUNED, OA_WAITING } oa_state;

typedef struct {
	int browser;
	oa_state state;
	tune_shape sh;
	double speedup;   /* over the default, as measured; 0 = n/a */
	int64_t run_id;
} oa_choice;

struct optaudio {
	optaudio_io io;
	char db[4096];
	oa_choice per[OA_BROWSERS];
	int n;
	unsigned char *pcm;      /* the clip as one float32 frame named pcm_name */
	size_t pcm_len;
	char pcm_name[64];
	/* first-use tuning, one browser at a time */
	tuner_plan plan;
	int plan_frames;         /* 0 = no plan yet */
	tuner *tn;
	tuner_result result;
	int tuning;              /* the browser being tuned, 0 = none */
};

optaudio *optaudio_new(const optaudio_io *io, const char *db_path)
{
	optaudio *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->io = *io;
	ac_strlcpy(o->db, db_path, sizeof o->db);
	return o;
}

void optaudio_close(optaudio *o)
{
	if (o && o->tn) {
		tuner_close(o->tn);
		o->tn = NULL;
	}
}

void optaudio_free(optaudio *o)
{
	if (!o)
		return;
	free(o->pcm);
	tuner_plan_free(&o->plan);
	tuner_result_free(&o->result);
	free(o);
}

static void note(optaudio *o, const pool_browser *pb, const oa_choice *c, const char *why)
{
	/* an event, so the screen, the JSON and a recording show the shape in use and its gain */
	char shape[48];
	snprintf(shape, sizeof shape, "%dx%dx1/%d", c->sh.wx, c->sh.wy, c->sh.items);
	ac_event ev = { .kind = EV_AUDIO_FRONTEND, .t_us = ac_now_us(), .browser = pb->id, .name = shape,
			.num = c->state == OA_TUNED, .x = { c->state == OA_TUNED ? c->speedup : 0 }, .text = why };
	ac_err err;
	pool_apply(o->io.pool, &ev, &err);
	if (!o->io.batch) /* the screen owns the terminal */
		return;
	if (c->state == OA_TUNED)
		fprintf(stderr, "accel-top: --optimize-audio: %s #%d computes log-mel on its GPU with workgroup %dx%dx1, "
			"%d per thread (tuned by run %lld: %.2fx the default)\n", pb->kind, pb->id, c->sh.wx, c->sh.wy,
			c->sh.items, (long long)c->run_id, c->speedup);
	else
		fprintf(stderr, "accel-top: --optimize-audio: %s #%d computes log-mel on its GPU with the default workgroup "
			"%dx%dx1, %s\n", pb->kind, pb->id, c->sh.wx, c->sh.wy, why);
}

static oa_choice *find(optaudio *o, int browser)
{
	for (int i = 0; i < o->n; i++)
		if (o->per[i].browser == browser)
			return &o->per[i];
	return NULL;
}

static void start_tuning(optaudio *o, const pool_browser *pb, oa_choice *c);

/* Tuning of one browser finished: store it, use it, and tune the next one waiting. */
static void on_tuned(void *ctx, tuner_result *r)
{
	optaudio *o = ctx;
	oa_choice *c = find(o, r->browser);
	const pool_browser *pb = pool_browser_find(o->io.pool, r->browser);
	o->tuning = 0;
	if (c && pb && r->chosen >= 0 && !r->skip[0]) {
		store_tuning rows[TUNER_MAX_SHAPES];
		tuner_rows(&o->plan, r, (double)ac_now_us() / 1e6, rows);
		store *st = NULL;
		ac_err err = { 0 };
		int64_t run = 0;
		if (store_open(o->db, &st, &err) == 0 &&
		    store_begin_run(st, "accel-top --optimize-audio (tuned on first use)", &run, &err) == 0) {
			store_add_browser(st, run, pb, &err);
			for (int i = 0; i < o->plan.n_shapes && !err.code; i++)
				store_add_tuning(st, run, &rows[i], &err);
			store_end_run(st, run, &err);
		}
		store_close(st);
		c->state = OA_TUNED;
		c->sh = o->plan.shapes[r->chosen];
		c->run_id = run;
		c->speedup = rows[0].have_figures && rows[r->chosen].median_ms > 0 ? rows[0].median_ms / rows[r->chosen].median_ms : 0;
		if (err.code && o->io.batch)
			fprintf(stderr, "accel-top: --optimize-audio: the tuning could not be stored: %s\n", err.msg);
		note(o, pb, c, "");
	} else if (c) {
		c->state = OA_DEFAULT;
		if (pb)
			note(o, pb, c, r->skip[0] ? r->skip : "untuned: no candidate ran and verified on first use");
	}
	tuner_result_free(r);
	for (int i = 0; i < o->n; i++) {
		const pool_browser *next = pool_browser_find(o->io.pool, o->per[i].browser);
		if (o->per[i].state == OA_WAITING && next && next->state == BS_CONNECTED) {
			start_tuning(o, next, &o->per[i]);
			break;
		}
	}
}

static void start_tuning(optaudio *o, const pool_browser *pb, oa_choice *c)
{
	if (o->tuning) {
		c->state = OA_WAITING;
		return;
	}
	if (!o->tn && !(o->tn = tuner_new(&o->io.tuner, &o->plan, on_tuned, o))) {
		c->state = OA_DEFAULT;
		return;
	}
	c->state = OA_TUNING;
	o->tuning = pb->id;
	note(o, pb, c, "untuned for now: tuning it on first use (the choice is stored for the next start)");
	tuner_begin(o->tn, pb, &o->result);
}

/* The shape for this browser: looked up once per browser in the database, else tuned. */
static const oa_choice *choice(optaudio *o, const pool_browser *pb, int frames)
{
	oa_choice *c = find(o, pb->id);
	if (c)
		return c;
	c = &o->per[o->n < OA_BROWSERS ? o->n++ : OA_BROWSERS - 1];
	memset(c, 0, sizeof *c);
	c->browser = pb->id;
	int n = 0;
	ac_err err = { 0 };
	tune_shape all[TUNER_MAX_SHAPES];
	tune_parse_shapes(TUNE_DEFAULT_CANDIDATES, all, TUNER_MAX_SHAPES, &n, &err);
	c->sh = all[0]; /* the default */
	char adapter[300];
	tune_adapter_key(&pb->caps, adapter, sizeof adapter);
	store *st = NULL;
	store_tuning *rows = NULL;
	int nrows = 0;
	if (store_open(o->db, &st, &err) == 0 &&
	    store_find_tuning(st, pb->kind, pb->version, adapter, "logmel", &rows, &nrows, &err) == 0) {
		const store_tuning *def = NULL;
		for (int i = 0; i < nrows; i++)
			if (rows[i].is_default)
				def = &rows[i];
		for (int i = 0; i < nrows; i++)
			if (rows[i].chosen) {
				c->sh = (tune_shape){ rows[i].wx, rows[i].wy, rows[i].items };
				c->state = OA_TUNED;
				c->run_id = rows[i].run_id;
				if (def && def->have_figures && rows[i].median_ms > 0)
					c->speedup = def->median_ms / rows[i].median_ms;
			}
	}
	store_close(st);
	free(rows);
	if (c->state == OA_TUNED) {
		note(o, pb, c, "");
		return c;
	}
	if (err.code) { /* a database it cannot use: say so, and do not tune into nowhere */
		note(o, pb, c, err.msg);
		return c;
	}
	if (!o->plan_frames) { /* the tuning plan: the default candidates on the app's clip */
		o->plan.frames = frames;
		o->plan.rounds = 2;
		o->plan.repeat = 1; /* lighter than `accel-top tune`: it runs beside the live workload */
		o->plan.timeout_s = 120;
		tune_parse_shapes(TUNE_DEFAULT_CANDIDATES, o->plan.shapes, TUNER_MAX_SHAPES, &o->plan.n_shapes, &err);
		if (tuner_plan_add_clip(&o->plan, o->io.clip->source, o->io.clip, &err)) {
			note(o, pb, c, err.msg);
			return c;
		}
		o->plan_frames = frames;
	}
	start_tuning(o, pb, c);
	return c;
}

static bool make_pcm(optaudio *o, const audio_clip *clip, const char *name)
{
	if (o->pcm && !strcmp(o->pcm_name, name))
		return true;
	free(o->pcm);
	o->pcm = NULL;
	size_t n = clip->n < (size_t)30 * AUDIO_RATE ? clip->n : (size_t)30 * AUDIO_RATE;
	proto_frame f = { .dtype = DT_FLOAT32, .rank = 1, .dims = { n } };
	ac_strlcpy(f.name, name, sizeof f.name);
	unsigned char hdr[320];
	size_t hl = proto_encode_frame_header(&f, hdr, sizeof hdr);
	if (!hl || !(o->pcm = malloc(hl + f.data_len + 1)))
		return false;
	memcpy(o->pcm, hdr, hl);
	memcpy(o->pcm + hl, clip->samples, f.data_len);
	o->pcm_len = hl + f.data_len;
	ac_strlcpy(o->pcm_name, name, sizeof o->pcm_name);
	return true;
}

int optaudio_encode_audio(void *ctx, int browser, const cat_model *m, const void **frames, size_t *lens, int n,
			 proto_logmel_spec *spec)
{
	optaudio *o = ctx;
	const pool_browser *pb = o ? pool_browser_find(o->io.pool, browser) : NULL;
	if (!o || !o->io.clip || !m || !pb || !pb->caps.valid || pb->caps.verdict[PLAT_WEBGPU].status == CL_UNAVAILABLE)
		return 0; /* no WebGPU on that page: the C log-mel goes as before */
	for (int k = 0; k < m->n_inputs && k < n; k++) {
		const cat_input *ci = &m->inputs[k];
		if (ci->fill != FILL_AUDIO_LOGMEL || !make_pcm(o, o->io.clip, ci->name))
			continue;
		if (o->plan_frames && o->plan_frames != ci->frames)
			return 0; /* tuning is planned for one frame count (one audio model); others keep the C path */
		const oa_choice *c = choice(o, pb, ci->frames);
		frames[k] = o->pcm;
		lens[k] = o->pcm_len;
		*spec = (proto_logmel_spec){ .index = k, .frames = ci->frames, .rank = ci->rank,
					     .workgroup = { c->sh.wx, c->sh.wy, 1 }, .items = c->sh.items,
					     .tuned = c->state == OA_TUNED };
		for (int d = 0; d < ci->rank && d < PROTO_MAX_RANK; d++)
			spec->dims[d] = ci->dims[d];
		return 1; /* one log-mel input per model */
	}
	return 0;
}
