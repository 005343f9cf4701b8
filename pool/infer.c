/* The inference rules for a model folder without a complete accel.json (infer.h). Documented,
 * rule by rule, in models/README.md ("Dropping in a model"); change both together. */
#include "infer.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "onnx.h"

typedef struct {
	const char *name;     /* the model's, for messages */
	const char *dir;
	const cJSON *config, *pre, *overlay;
	bool has_sr;          /* the model has a sample-rate input: its float input is audio */
	cJSON *dims;          /* name -> value, as resolved */
} ictx;

/* What an input is made of, decided from its name and element type. */
typedef enum { K_TOKENS, K_ONES, K_ZEROS, K_IMAGE, K_LOGMEL, K_PCM, K_RATE, K_PAST, K_STATE, K_NORMAL } kind;

static const cJSON *get(const cJSON *o, const char *k) { return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL; }

/* A number from config.json, also looked for in its text_config / vision_config / audio_config. */
static double cfg_num(const ictx *c, const char *sub, const char *k, double dflt)
{
	const cJSON *v = get(c->config, k);
	if (!cJSON_IsNumber(v) && sub)
		v = get(get(c->config, sub), k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static double pre_num(const ictx *c, const char *k, double dflt)
{
	const cJSON *v = get(c->pre, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static bool is(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static bool ends(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

static bool is_int(int elem) { return elem == 7 || elem == 6 || elem == 3 || elem == 2; }
static bool is_float(int elem) { return elem == 1; }

static void lower(char *dst, const char *src, size_t cap)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

static const char *const PCM_NAMES[] = { "input_values", "audio", "audio_values", "input_audio", "waveform", "wav",
					 "pcm", "speech", "samples", NULL };
static const char *const SAMPLE_DIMS[] = { "samples", "num_samples", "n_samples", "audio_length", "sample_count", NULL };
static const char *const RATE_NAMES[] = { "sr", "sample_rate", "sampling_rate", NULL };
static const char *const STATE_NAMES[] = { "state", "h", "c", "h0", "c0", "hidden", "cell", NULL };

static int classify(const ictx *c, const onnx_value *v, kind *out, ac_err *err)
{
	char n[64], last[48] = "";
	lower(n, v->name, sizeof n);
	if (v->has_shape && v->rank > 0)
		lower(last, v->param[v->rank - 1], sizeof last);
	int e = v->elem;
	if (ends(n, "input_ids") && is_int(e)) *out = K_TOKENS;
	else if (ends(n, "attention_mask") && (is_int(e) || e == 9 || is_float(e))) *out = K_ONES;
	else if ((ends(n, "token_type_ids") || ends(n, "position_ids")) && is_int(e)) *out = K_ZEROS;
	else if (!strcmp(n, "pixel_values") && is_float(e)) *out = K_IMAGE;
	else if (!strcmp(n, "input_features") && is_float(e)) *out = K_LOGMEL;
	else if (is(n, RATE_NAMES) && is_int(e) && (!v->has_shape || v->rank == 0 || (v->rank == 1 && v->dim[0] == 1)))
		*out = K_RATE;
	else if (strstr(n, "past_key_values") || !strncmp(n, "past_", 5) || strstr(n, "cache")) *out = K_PAST;
	else if (is(n, STATE_NAMES) || strstr(n, "state")) *out = K_STATE;
	else if (is_float(e) && (is(n, PCM_NAMES) || is(last, SAMPLE_DIMS) || (c->has_sr && v->rank >= 1 && v->rank <= 2)))
		*out = K_PCM;
	else if (e == 9) *out = K_ZEROS;
	else if (is_float(e)) *out = K_NORMAL;
	else
		return ac_errf(err, AC_EINVAL, "model %s: input '%s' (%s) matches no rule: write its \"fill\" in %s/accel.json "
			       "(e.g. {\"kind\": \"zeros\"}; accel-top models --inspect shows the rest)", c->name, v->name,
			       onnx_elem_name(e), c->dir);
	if (!v->has_shape)
		return ac_errf(err, AC_EINVAL, "model %s: input '%s' declares no shape: write its \"shape\" in %s/accel.json",
			       c->name, v->name, c->dir);
	return 0;
}

/* preprocessor_config.json "size": 224, {"height", "width"}, {"shortest_edge"}; or crop_size. */
static double image_side(const ictx *c, const char *which)
{
	const cJSON *sz = get(c->pre, "crop_size");
	if (!sz)
		sz = get(c->pre, "size");
	if (cJSON_IsNumber(sz))
		return sz->valuedouble;
	if (cJSON_IsNumber(get(sz, which)))
		return get(sz, which)->valuedouble;
	if (cJSON_IsNumber(get(sz, "shortest_edge")))
		return get(sz, "shortest_edge")->valuedouble;
	return cfg_num(c, "vision_config", "image_size", INFER_IMAGE_DEFAULT);
}

static int64_t seq_len(const ictx *c)
{
	double m = cfg_num(c, "text_config", "max_position_embeddings", 0);
	if (m <= 0) m = cfg_num(c, "text_config", "n_positions", 0);
	if (m <= 0) m = cfg_num(c, "text_config", "max_seq_len", 0);
	return m > 0 && m < INFER_SEQ_DEFAULT ? (int64_t)m : INFER_SEQ_DEFAULT;
}

/* The value and the name of axis `axis` of input v (filled as k): the name is the file's
 * dim_param, or for an unnamed dim the rule's own ("batch", "sequence", "samples", ...). */
static int64_t resolve(const ictx *c, const onnx_value *v, kind k, int axis, const char **rule)
{
	char p[48];
	lower(p, v->param[axis], sizeof p);
	bool lastax = axis == v->rank - 1;
	static const char *const BATCH[] = { "batch", "batch_size", "n", "b", "num_images", NULL };
	static const char *const SEQ[] = { "sequence", "sequence_length", "seq_len", "seq", "num_tokens",
					   "text_sequence_length", "decoder_sequence_length", NULL };
	*rule = "batch";
	if (is(p, BATCH) || (axis == 0 && k != K_PAST))
		return 1;
	if (k == K_PAST && (strstr(p, "past") || strstr(p, "sequence"))) {
		*rule = "past_sequence_length";
		return 0; /* an empty cache: nothing decoded yet */
	}
	if (k == K_IMAGE && v->rank == 4) {
		*rule = axis == 1 ? "num_channels" : axis == 2 ? "height" : "width";
		return axis == 1 ? (int64_t)cfg_num(c, "vision_config", "num_channels", 3)
				 : (int64_t)image_side(c, axis == 2 ? "height" : "width");
	}
	if (k == K_LOGMEL && v->rank == 3) {
		*rule = axis == 1 ? "feature_size" : "frames";
		return axis == 1 ? (int64_t)pre_num(c, "feature_size", cfg_num(c, NULL, "num_mel_bins", 80))
				 : (int64_t)pre_num(c, "nb_max_frames", INFER_FRAMES_DEFAULT);
	}
	if (k == K_PCM && lastax) {
		*rule = "samples";
		return (int64_t)pre_num(c, "n_samples", INFER_SAMPLES_DEFAULT);
	}
	if ((k == K_TOKENS || k == K_ONES || k == K_ZEROS) && lastax) {
		*rule = "sequence_length";
		return seq_len(c);
	}
	if (is(p, SEQ)) {
		*rule = "sequence_length";
		return seq_len(c);
	}
	if (is(p, SAMPLE_DIMS)) {
		*rule = "samples";
		return (int64_t)pre_num(c, "n_samples", INFER_SAMPLES_DEFAULT);
	}
	if (!strcmp(p, "num_heads") || !strcmp(p, "num_attention_heads")) {
		*rule = "num_heads";
		return (int64_t)cfg_num(c, "text_config", "num_attention_heads", -1);
	}
	if (k == K_STATE && !p[0])
		return 1; /* an unnamed dim of a state (Silero's [2, ?, 128]) is its batch */
	*rule = NULL;
	return -1;
}

static int add_shape(ictx *c, const onnx_value *v, kind k, cJSON *shape, int64_t *rd, ac_err *err)
{
	for (int d = 0; d < v->rank; d++) {
		rd[d] = v->dim[d];
		if (v->dim[d] >= 0) {
			cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)v->dim[d]));
			continue;
		}
		const char *rule;
		const char *name = v->param[d][0] ? v->param[d] : NULL;
		const cJSON *known = name ? get(c->dims, name) : NULL;
		int64_t val = known ? (int64_t)known->valuedouble : resolve(c, v, k, d, &rule);
		if (val < 0) {
			if (name)
				return ac_errf(err, AC_EINVAL, "model %s: input '%s' dim %d ('%s') has no rule: write \"dims\": "
					       "{\"%s\": N} in %s/accel.json", c->name, v->name, d, name, name, c->dir);
			return ac_errf(err, AC_EINVAL, "model %s: input '%s' dim %d is unnamed and has no rule: write the "
				       "input's \"shape\" in %s/accel.json", c->name, v->name, d, c->dir);
		}
		if (!name)
			name = rule;
		rd[d] = val;
		if (!get(c->dims, name))
			cJSON_AddNumberToObject(c->dims, name, (double)val);
		cJSON_AddItemToArray(shape, cJSON_CreateString(name));
	}
	return 0;
}

/* The pixel range after preprocessor_config.json's rescale and normalisation, per channel. */
static void add_image_fill(const ictx *c, cJSON *fill)
{
	const cJSON *mean = get(c->pre, "image_mean"), *std = get(c->pre, "image_std");
	const cJSON *norm = get(c->pre, "do_normalize");
	bool normalise = !cJSON_IsFalse(norm);
	double rescale = pre_num(c, "rescale_factor", 1.0 / 255);
	double m[3], s[3];
	for (int i = 0; i < 3; i++) {
		const cJSON *mi = cJSON_GetArrayItem(mean, i), *si = cJSON_GetArrayItem(std, i);
		m[i] = normalise ? cJSON_IsNumber(mi) ? mi->valuedouble : 0.5 : 0;
		s[i] = normalise ? cJSON_IsNumber(si) && si->valuedouble > 0 ? si->valuedouble : 0.5 : 1;
	}
	cJSON_AddStringToObject(fill, "kind", "image");
	cJSON_AddItemToObject(fill, "mean", cJSON_CreateDoubleArray(m, 3));
	cJSON_AddItemToObject(fill, "std", cJSON_CreateDoubleArray(s, 3));
	cJSON_AddNumberToObject(fill, "rescale", rescale);
}

static int add_input(ictx *c, const onnx_value *v, cJSON *inputs, unsigned *seen, ac_err *err)
{
	kind k = K_NORMAL;
	int rc = classify(c, v, &k, err);
	if (rc)
		return rc;
	*seen |= 1u << k;
	cJSON *in = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *fill = cJSON_CreateObject();
	cJSON_AddItemToArray(inputs, in);
	cJSON_AddStringToObject(in, "name", v->name);
	cJSON_AddStringToObject(in, "dtype", onnx_elem_name(v->elem));
	cJSON_AddItemToObject(in, "shape", shape);
	cJSON_AddItemToObject(in, "fill", fill);
	int64_t rd[ONNX_MAX_RANK];
	if ((rc = add_shape(c, v, k, shape, rd, err)))
		return rc;
	switch (k) {
	case K_TOKENS: {
		double vocab = cfg_num(c, "text_config", "vocab_size", 0);
		if (vocab < 1)
			return ac_errf(err, AC_EINVAL, "model %s: input '%s' takes token ids, and no config.json gives "
				       "vocab_size: write \"fill\": {\"kind\": \"tokens\", \"vocab_size\": N} in %s/accel.json",
				       c->name, v->name, c->dir);
		cJSON_AddStringToObject(fill, "kind", "tokens");
		cJSON_AddNumberToObject(fill, "vocab_size", vocab);
		break;
	}
	case K_ONES: cJSON_AddStringToObject(fill, "kind", "ones"); break;
	case K_IMAGE: add_image_fill(c, fill); break;
	case K_LOGMEL: {
		if (v->rank != 3)
			return ac_errf(err, AC_EINVAL, "model %s: input '%s' (log-mel) has rank %d, not 3 ([batch, mels, "
				       "frames]): write the input in %s/accel.json", c->name, v->name, v->rank, c->dir);
		cJSON_AddStringToObject(fill, "kind", "audio_logmel");
		cJSON_AddNumberToObject(fill, "n_mels", (double)rd[1]);
		cJSON_AddNumberToObject(fill, "frames", (double)rd[2]);
		break;
	}
	case K_PCM: {
		cJSON_AddStringToObject(fill, "kind", "audio_pcm");
		cJSON_AddNumberToObject(fill, "samples", v->rank ? (double)rd[v->rank - 1] : 1);
		cJSON_AddNumberToObject(fill, "sample_rate", pre_num(c, "sampling_rate", 16000));
		break;
	}
	case K_RATE:
		cJSON_AddStringToObject(fill, "kind", "scalar");
		cJSON_AddNumberToObject(fill, "value", pre_num(c, "sampling_rate", 16000));
		break;
	case K_NORMAL:
		cJSON_AddStringToObject(fill, "kind", "normal");
		cJSON_AddNumberToObject(fill, "mean", 0);
		cJSON_AddNumberToObject(fill, "std", 1);
		break;
	default: cJSON_AddStringToObject(fill, "kind", "zeros"); break;
	}
	return 0;
}

/* The type from the inputs; else from config.json's model_type; else an error. */
static int model_type(const ictx *c, unsigned seen, const char **out, ac_err *err)
{
	bool text = seen & (1u << K_TOKENS), image = seen & (1u << K_IMAGE);
	bool audio = seen & ((1u << K_LOGMEL) | (1u << K_PCM) | (1u << K_RATE));
	static const char *const VISION[] = { "vit", "deit", "beit", "convnext", "resnet", "mobilenet_v2", "swin", "dinov2",
					      "detr", "yolos", "segformer", "efficientnet", NULL };
	static const char *const AUDIO[] = { "whisper", "wav2vec2", "hubert", "wavlm", "audio-spectrogram-transformer",
					     "speecht5", "unispeech", NULL };
	const cJSON *mt = get(c->config, "model_type");
	const char *t = cJSON_IsString(mt) ? mt->valuestring : "";
	*out = text && image ? "multimodal" : image ? "vision" : audio ? "audio" : text ? "text" : NULL;
	const cJSON *given = get(c->overlay, "type");
	if (!*out && cJSON_IsString(given))
		*out = given->valuestring; /* the overlay's, which replaces it anyway */
	if (!*out && t[0])
		*out = is(t, VISION) ? "vision" : is(t, AUDIO) ? "audio" : "text";
	if (!*out)
		return ac_errf(err, AC_EINVAL, "model %s: its inputs do not say whether it is text, vision or audio, and "
			       "there is no config.json: write {\"format\": 1, \"type\": \"audio\"} (or text, vision, "
			       "multimodal) in %s/accel.json", c->name, c->dir);
	return 0;
}

static cJSON *load_json(const char *dir, const char *file, ac_err *err, int *rc)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "rb");
	*rc = 0;
	if (!f)
		return NULL;
	char *buf = malloc((1 << 20) + 1);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf) {
		*rc = ac_errf(err, AC_ENOMEM, "out of memory");
		return NULL;
	}
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		*rc = ac_errf(err, AC_EINVAL, "%s: not a JSON object", path);
	}
	return j;
}

/* The model's files, relative to dir, by precision: onnx/<prec_file>, else one bare *.onnx. */
static int find_files(const char *dir, char rel[][160], ac_err *err)
{
	int any = 0;
	for (int p = 0; p < PREC__COUNT; p++) {
		char f[4400];
		snprintf(f, sizeof f, "%s/onnx/%s", dir, prec_file((ac_precision)p));
		rel[p][0] = '\0';
		if (access(f, R_OK) == 0) {
			snprintf(rel[p], 160, "onnx/%s", prec_file((ac_precision)p));
			any++;
		}
	}
	if (any)
		return any;
	DIR *d = opendir(dir);
	if (!d)
		return ac_errf(err, -errno, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !ends(e->d_name, ".onnx") || strlen(e->d_name) >= 160)
			continue;
		if (any++) {
			closedir(d);
			return ac_errf(err, AC_EINVAL, "%s holds several .onnx files and no onnx/model.onnx: name the file of "
				       "each precision in accel.json \"files\" ({\"fp32\": \"%s\"})", dir, rel[PREC_FP32]);
		}
		ac_strlcpy(rel[PREC_FP32], e->d_name, 160);
	}
	closedir(d);
	return any;
}

int infer_has_model(const char *dir)
{
	char rel[PREC__COUNT][160];
	ac_err e;
	return find_files(dir, rel, &e) != 0;
}

static bool same_inputs(const onnx_info *a, const onnx_info *b)
{
	bool same = a->n_in == b->n_in;
	for (int i = 0; same && i < a->n_in; i++)
		same = !strcmp(a->in[i].name, b->in[i].name) && a->in[i].elem == b->in[i].elem;
	return same;
}

/* Keys of the overlay replace the manifest's; "dims" and "tolerance" merge key by key. */
static void apply_overlay(cJSON *man, const cJSON *overlay)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, overlay) {
		cJSON *mine = cJSON_GetObjectItemCaseSensitive(man, it->string);
		if ((!strcmp(it->string, "dims") || !strcmp(it->string, "tolerance")) && cJSON_IsObject(it) && mine) {
			const cJSON *kv;
			cJSON_ArrayForEach(kv, it) {
				cJSON_DeleteItemFromObjectCaseSensitive(mine, kv->string);
				cJSON_AddItemToObject(mine, kv->string, cJSON_Duplicate(kv, 1));
			}
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(man, it->string);
		cJSON_AddItemToObject(man, it->string, cJSON_Duplicate(it, 1));
	}
}

static int build(ictx *c, const onnx_info *info, char rel[][160], const char *main_rel, const char *notes, cJSON *man,
		 ac_err *err)
{
	cJSON_AddNumberToObject(man, "format", 1);
	cJSON_AddStringToObject(man, "name", c->name);
	cJSON_AddStringToObject(man, "type", "text"); /* replaced below */
	char desc[160];
	snprintf(desc, sizeof desc, "inferred by accel-top from %s%s%s", main_rel, c->config ? " and config.json" : "",
		 c->pre ? " and preprocessor_config.json" : "");
	cJSON_AddStringToObject(man, "description", desc);
	const cJSON *src = get(c->config, "_name_or_path");
	cJSON_AddStringToObject(man, "source", cJSON_IsString(src) ? src->valuestring : "");
	cJSON *files = cJSON_AddObjectToObject(man, "files"), *tol = cJSON_CreateObject();
	static const double dflt_tol[PREC__COUNT] = { 1e-4, 2e-2, 5e-2, 0.2, 0.2 };
	for (int p = 0; p < PREC__COUNT; p++)
		if (rel[p][0]) {
			cJSON_AddStringToObject(files, prec_name((ac_precision)p), rel[p]);
			cJSON_AddNumberToObject(tol, prec_name((ac_precision)p), dflt_tol[p]);
		}
	cJSON_AddItemToObject(man, "dims", c->dims);
	cJSON *inputs = cJSON_AddArrayToObject(man, "inputs"), *outputs = cJSON_AddArrayToObject(man, "outputs");
	cJSON_AddItemToObject(man, "tolerance", tol);
	if (notes[0])
		cJSON_AddStringToObject(man, "notes", notes);
	if (info->n_in > CAT_MAX_IO || info->n_out > CAT_MAX_IO)
		return ac_errf(err, AC_EINVAL, "model %s has %d inputs and %d outputs; accel-top runs models with at most %d "
			       "of each", c->name, info->n_in, info->n_out, CAT_MAX_IO);
	for (int i = 0; i < info->n_in; i++)
		c->has_sr |= is(info->in[i].name, RATE_NAMES);
	unsigned seen = 0;
	int rc;
	for (int i = 0; i < info->n_in; i++)
		if ((rc = add_input(c, &info->in[i], inputs, &seen, err)))
			return rc;
	for (int i = 0; i < info->n_out; i++) {
		const onnx_value *v = &info->out[i];
		cJSON *o = cJSON_CreateObject(), *shape = cJSON_CreateArray();
		cJSON_AddItemToArray(outputs, o);
		cJSON_AddStringToObject(o, "name", v->name);
		cJSON_AddStringToObject(o, "dtype", onnx_elem_name(v->elem));
		for (int d = 0; d < v->rank; d++)
			cJSON_AddItemToArray(shape, v->dim[d] >= 0 ? cJSON_CreateNumber((double)v->dim[d]) :
						    cJSON_CreateString(v->param[d][0] ? v->param[d] : "?"));
		cJSON_AddItemToObject(o, "shape", shape);
	}
	const char *type;
	if ((rc = model_type(c, seen, &type, err)))
		return rc;
	cJSON_ReplaceItemInObjectCaseSensitive(man, "type", cJSON_CreateString(type));
	return 0;
}

int infer_manifest(const char *dir, const char *name, const cJSON *overlay, cJSON **out, ac_err *err)
{
	*out = NULL;
	char rel[PREC__COUNT][160];
	int rc = find_files(dir, rel, err);
	if (rc <= 0)
		return rc < 0 ? rc : ac_errf(err, AC_ENOENT, "%s has no accel.json, no onnx/model*.onnx and no *.onnx", dir);
	const cJSON *ofiles = get(overlay, "files");
	for (int p = 0; p < PREC__COUNT && cJSON_IsObject(ofiles); p++) {
		const cJSON *f = get(ofiles, prec_name((ac_precision)p));
		if (cJSON_IsString(f) && strlen(f->valuestring) < 160)
			ac_strlcpy(rel[p], f->valuestring, 160);
	}
	int main_p = 0;
	while (main_p < PREC__COUNT && !rel[main_p][0])
		main_p++;
	if (main_p == PREC__COUNT)
		return ac_errf(err, AC_ENOENT, "%s: accel.json \"files\" names no file", dir);
	onnx_info *info = malloc(2 * sizeof *info);
	if (!info)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	char path[4400], notes[400] = "";
	snprintf(path, sizeof path, "%s/%s", dir, rel[main_p]);
	if ((rc = onnx_read_file(path, info, err)))
		goto done;
	/* every precision must take the same inputs (a model_fp16.onnx with float16 inputs does not) */
	for (int p = main_p + 1; p < PREC__COUNT; p++) {
		if (!rel[p][0])
			continue;
		ac_err e2 = { 0 };
		snprintf(path, sizeof path, "%s/%s", dir, rel[p]);
		if (onnx_read_file(path, &info[1], &e2) || !same_inputs(&info[0], &info[1])) {
			ac_strlcatf(notes, sizeof notes, "%s%s left out: %s", notes[0] ? "; " : "", rel[p],
				    e2.code ? "unreadable" : "its inputs differ from the others'");
			rel[p][0] = '\0';
		}
	}
	ictx c = { .name = name, .dir = dir, .overlay = overlay, .dims = cJSON_CreateObject() };
	cJSON *config = load_json(dir, "config.json", err, &rc);
	if (rc)
		goto done_dims;
	cJSON *pre = load_json(dir, "preprocessor_config.json", err, &rc);
	c.config = config;
	c.pre = pre;
	cJSON *man = cJSON_CreateObject();
	if (rc)
		cJSON_Delete(c.dims);
	else
		rc = build(&c, info, rel, rel[main_p], notes, man, err); /* man owns c.dims from here */
	cJSON_Delete(config);
	cJSON_Delete(pre);
	if (rc) {
		cJSON_Delete(man);
		goto done;
	}
	if (overlay)
		apply_overlay(man, overlay);
	*out = man;
	goto done;
done_dims:
	cJSON_Delete(c.dims);
done:
	free(info);
	return rc;
}
