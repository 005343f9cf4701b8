#include "optaudio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pool/store.h"
#include "../pool/tune.h"

#define OA_BROWSERS 64

typedef struct {
	int browser;
	tune_shape sh;
	bool tuned;
	double speedup;   /* over the default, as tune measured it; 0 = n/a */
	int64_t run_id;
} oa_choice;

struct optaudio {
	char db[4096];
	oa_choice per[OA_BROWSERS];
	int n;
	unsigned char *pcm;      /* the clip as one float32 frame named pcm_name */
	size_t pcm_len;
	char pcm_name[64];
};

optaudio *optaudio_new(const char *db_path)
{
	optaudio *o = calloc(1, sizeof *o);
	if (o)
		ac_strlcpy(o->db, db_path, sizeof o->db);
	return o;
}

void optaudio_free(optaudio *o)
{
	if (!o)
		return;
	free(o->pcm);
	free(o);
}

/* The shape for this browser: looked up once per browser in the database. */
static const oa_choice *choice(optaudio *o, app *a, const pool_browser *pb)
{
	for (int i = 0; i < o->n; i++)
		if (o->per[i].browser == pb->id)
			return &o->per[i];
	oa_choice *c = &o->per[o->n < OA_BROWSERS ? o->n++ : OA_BROWSERS - 1];
	memset(c, 0, sizeof *c);
	c->browser = pb->id;
	int n = 0;
	ac_err err = { 0 };
	tune_shape all[16];
	tune_parse_shapes(TUNE_DEFAULT_CANDIDATES, all, 16, &n, &err);
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
				c->tuned = true;
				c->run_id = rows[i].run_id;
				if (def && def->have_figures && rows[i].median_ms > 0)
					c->speedup = def->median_ms / rows[i].median_ms;
			}
	}
	store_close(st);
	free(rows);
	if (a->opt->batch) { /* the screen has its own line for notes; batch output says it here */
		if (c->tuned)
			fprintf(stderr, "accel-top: --optimize-audio: %s #%d computes log-mel on its GPU with workgroup %dx%dx1, "
				"%d per thread (tuned by run %lld: %.2fx the default)\n", pb->kind, pb->id, c->sh.wx, c->sh.wy,
				c->sh.items, (long long)c->run_id, c->speedup);
		else
			fprintf(stderr, "accel-top: --optimize-audio: %s #%d computes log-mel on its GPU with the default workgroup "
				"%dx%dx1, untuned (%s): run accel-top tune --db %s\n", pb->kind, pb->id, c->sh.wx, c->sh.wy,
				err.code ? err.msg : "no tuning stored for this browser and adapter", o->db);
	}
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

void optaudio_rewrite(optaudio *o, app *a, int browser, cJSON *msg, bridge_blob *blobs, int n)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
	const cJSON *sess = cJSON_GetObjectItemCaseSensitive(msg, "session");
	if (!o || !a->have_clip || !cJSON_IsString(type) || strcmp(type->valuestring, "run") || !cJSON_IsNumber(sess))
		return;
	const pool_session *ps = pool_session_find(a->pool, browser, (int)sess->valuedouble);
	const pool_model *pm = ps && !ps->reference ? pool_model_find(a->pool, ps->model) : NULL;
	const cat_model *m = pm ? catalog_find(a->cat, pm->name) : NULL;
	const pool_browser *pb = pool_browser_find(a->pool, browser);
	if (!m || !pb || !pb->caps.valid || pb->caps.verdict[PLAT_WEBGPU].status == CL_UNAVAILABLE)
		return; /* no WebGPU on that page: the C log-mel goes as before */
	for (int k = 0; k < m->n_inputs && k < n; k++) {
		const cat_input *ci = &m->inputs[k];
		if (ci->fill != FILL_AUDIO_LOGMEL || !make_pcm(o, &a->clip, ci->name))
			continue;
		const oa_choice *c = choice(o, a, pb);
		blobs[k] = (bridge_blob){ o->pcm, o->pcm_len };
		cJSON *spec = cJSON_AddObjectToObject(msg, "audio_logmel");
		cJSON_AddNumberToObject(spec, "index", k);
		cJSON_AddNumberToObject(spec, "frames", ci->frames);
		cJSON *dims = cJSON_AddArrayToObject(spec, "dims");
		for (int d = 0; d < ci->rank; d++)
			cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)ci->dims[d]));
		cJSON *wg = cJSON_AddArrayToObject(spec, "workgroup");
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(c->sh.wx));
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(c->sh.wy));
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
		cJSON_AddNumberToObject(spec, "items", c->sh.items);
		cJSON_AddBoolToObject(spec, "tuned", c->tuned);
		return; /* one log-mel input per model */
	}
}
