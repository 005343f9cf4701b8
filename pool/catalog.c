#include "catalog.h"
#include "infer.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const prec_names[PREC__COUNT] = { "fp32", "fp16", "int8", "int4", "q4f16" };
static const char *const prec_files[PREC__COUNT] = {
	"model.onnx", "model_fp16.onnx", "model_quantized.onnx", "model_q4.onnx", "model_q4f16.onnx",
};

const char *prec_name(ac_precision p) { return (unsigned)p < PREC__COUNT ? prec_names[p] : "?"; }
const char *prec_file(ac_precision p) { return (unsigned)p < PREC__COUNT ? prec_files[p] : "?"; }

int prec_from_name(const char *name)
{
	for (int i = 0; name && i < PREC__COUNT; i++)
		if (strcmp(name, prec_names[i]) == 0)
			return i;
	return AC_EINVAL;
}

int prec_from_bits(int bits, bool mixed)
{
	if (mixed)
		return bits == 4 || bits == 16 ? PREC_Q4F16 : AC_EINVAL;
	switch (bits) {
	case 32: return PREC_FP32;
	case 16: return PREC_FP16;
	case 8: return PREC_INT8;
	case 4: return PREC_INT4;
	default: return AC_EINVAL;
	}
}

static const struct { const char *name; fill_kind kind; } fills[] = {
	{ "tokens", FILL_TOKENS }, { "ones", FILL_ONES }, { "zeros", FILL_ZEROS },
	{ "uniform", FILL_UNIFORM }, { "normal", FILL_NORMAL }, { "audio_logmel", FILL_AUDIO_LOGMEL },
	{ "audio_pcm", FILL_AUDIO_PCM }, { "scalar", FILL_SCALAR }, { "image", FILL_IMAGE },
};

static const char *const dtypes[] = { "float32", "float16", "int64", "int32", "int8", "uint8", "bool", NULL };

static double num(const cJSON *o, const char *k, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* shape: numbers, or names that the manifest's 'dims' defines */
static int parse_shape(const cJSON *shape, const cJSON *dims, const char *path, cat_input *ci, ac_err *err)
{
	ci->rank = cJSON_GetArraySize(shape);
	if (ci->rank > CAT_MAX_RANK)
		return ac_errf(err, AC_EINVAL, "%s: input '%s' has rank %d (at most %d)", path, ci->name, ci->rank, CAT_MAX_RANK);
	for (int d = 0; d < ci->rank; d++) {
		const cJSON *v = cJSON_GetArrayItem(shape, d);
		if (cJSON_IsString(v)) {
			const cJSON *dv = cJSON_GetObjectItemCaseSensitive(dims, v->valuestring);
			if (!cJSON_IsNumber(dv))
				return ac_errf(err, AC_EINVAL, "%s: input '%s' uses dim '%s', which 'dims' does not define",
					       path, ci->name, v->valuestring);
			ci->dims[d] = (int64_t)dv->valuedouble;
		} else if (cJSON_IsNumber(v)) {
			ci->dims[d] = (int64_t)v->valuedouble;
		} else {
			return ac_errf(err, AC_EINVAL, "%s: input '%s' shape[%d] is neither a number nor a dim name",
				       path, ci->name, d);
		}
		if (ci->dims[d] < 0 || ci->dims[d] > (1 << 24))
			return ac_errf(err, AC_EINVAL, "%s: input '%s' dim %d is %lld", path, ci->name, d, (long long)ci->dims[d]);
	}
	return 0;
}

/* fill: how the input is made (kind and its parameters) */
static int parse_fill(const cJSON *fill, const char *path, cat_input *ci, ac_err *err)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(fill, "kind");
	size_t k;
	for (k = 0; k < sizeof fills / sizeof fills[0]; k++)
		if (cJSON_IsString(kind) && strcmp(kind->valuestring, fills[k].name) == 0)
			break;
	if (k == sizeof fills / sizeof fills[0])
		return ac_errf(err, AC_EINVAL, "%s: input '%s' has unknown fill kind '%s'", path, ci->name,
			       cJSON_IsString(kind) ? kind->valuestring : "(none)");
	ci->fill = fills[k].kind;
	switch (ci->fill) {
	case FILL_TOKENS:
		ci->vocab = (int64_t)num(fill, "vocab_size", 0);
		if (ci->vocab < 1)
			return ac_errf(err, AC_EINVAL, "%s: input '%s' needs fill.vocab_size >= 1", path, ci->name);
		break;
	case FILL_UNIFORM: ci->a = num(fill, "low", -1); ci->b = num(fill, "high", 1); break;
	case FILL_NORMAL: ci->a = num(fill, "mean", 0); ci->b = num(fill, "std", 1); break;
	case FILL_SCALAR: ci->a = num(fill, "value", 0); break;
	case FILL_AUDIO_LOGMEL:
		ci->n_mels = (int)num(fill, "n_mels", 80);
		ci->frames = (int)num(fill, "frames", 3000);
		if (ci->n_mels != 80)
			return ac_errf(err, AC_EINVAL, "%s: input '%s': only 80 mel bins are supported", path, ci->name);
		break;
	case FILL_AUDIO_PCM: ci->samples = (int)num(fill, "samples", 512); break;
	case FILL_IMAGE: {
		const cJSON *mean = cJSON_GetObjectItemCaseSensitive(fill, "mean");
		const cJSON *std = cJSON_GetObjectItemCaseSensitive(fill, "std");
		ci->rescale = num(fill, "rescale", 1.0 / 255);
		for (int i = 0; i < 3; i++) {
			const cJSON *mi = cJSON_GetArrayItem(mean, i), *si = cJSON_GetArrayItem(std, i);
			ci->mean[i] = cJSON_IsNumber(mi) ? mi->valuedouble : 0.5;
			ci->std[i] = cJSON_IsNumber(si) ? si->valuedouble : 0.5;
			if (ci->std[i] <= 0)
				return ac_errf(err, AC_EINVAL, "%s: input '%s': fill.std must be above 0", path, ci->name);
		}
		if (ci->rank != 4 || ci->dims[1] < 1 || ci->dims[1] > 3)
			return ac_errf(err, AC_EINVAL, "%s: input '%s': an image fill needs shape [batch, 1..3 channels, "
				       "height, width]", path, ci->name);
		break;
	}
	default: break;
	}
	return 0;
}

static int parse_input(const cJSON *in, const cJSON *dims, const char *path, int idx, cat_input *ci, ac_err *err)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
	const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(in, "dtype");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(in, "shape");
	const cJSON *fill = cJSON_GetObjectItemCaseSensitive(in, "fill");
	if (!cJSON_IsString(name) || !cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsObject(fill))
		return ac_errf(err, AC_EINVAL, "%s: inputs[%d] needs string 'name' and 'dtype', array 'shape', object 'fill'",
			       path, idx);
	ac_strlcpy(ci->name, name->valuestring, sizeof ci->name);
	ac_strlcpy(ci->dtype, dtype->valuestring, sizeof ci->dtype);
	int ok = 0;
	for (int i = 0; dtypes[i]; i++)
		ok |= strcmp(dtypes[i], ci->dtype) == 0;
	if (!ok)
		return ac_errf(err, AC_EINVAL, "%s: input '%s' has unsupported dtype '%s'", path, ci->name, ci->dtype);
	int rc = parse_shape(shape, dims, path, ci, err);
	if (rc == 0)
		rc = parse_fill(fill, path, ci, err);
	if (rc)
		return rc;
	for (int d = 0; d < ci->rank; d++)
		if (ci->dims[d] == 0 && ci->fill != FILL_ZEROS)
			return ac_errf(err, AC_EINVAL, "%s: input '%s' dim %d is 0, which only a zeros fill (an empty "
				       "cache) may be", path, ci->name, d);
	return 0;
}

static bool in_list(const char (*names)[64], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* "shards": [{"folder", "inputs": [{"name", "from": "input"|"previous"}], "outputs": [names]}] */
static int parse_shards(const cJSON *shards, const char *path, cat_model *m, ac_err *err)
{
	int n = cJSON_GetArraySize(shards);
	if (!cJSON_IsArray(shards) || n < 2 || n > CAT_MAX_SHARDS)
		return ac_errf(err, AC_EINVAL, "%s: 'shards' must be a list of 2 to %d shards", path, CAT_MAX_SHARDS);
	for (int k = 0; k < n; k++) {
		const cJSON *sh = cJSON_GetArrayItem(shards, k);
		cat_shard *cs = &m->shards[k];
		const cJSON *folder = cJSON_GetObjectItemCaseSensitive(sh, "folder");
		const cJSON *ins = cJSON_GetObjectItemCaseSensitive(sh, "inputs");
		const cJSON *outs = cJSON_GetObjectItemCaseSensitive(sh, "outputs");
		if (!cJSON_IsString(folder) || !folder->valuestring[0] || folder->valuestring[0] == '/' ||
		    strstr(folder->valuestring, "..") || strlen(folder->valuestring) >= sizeof cs->folder)
			return ac_errf(err, AC_EINVAL, "%s: shards[%d].folder must be a relative path inside the "
				       "model's folder, without '..'", path, k);
		ac_strlcpy(cs->folder, folder->valuestring, sizeof cs->folder);
		int ni = cJSON_GetArraySize(ins), no = cJSON_GetArraySize(outs);
		if (!cJSON_IsArray(ins) || ni < 1 || ni > CAT_MAX_IO)
			return ac_errf(err, AC_EINVAL, "%s: shards[%d].inputs must be a list of 1 to %d inputs", path, k,
				       CAT_MAX_IO);
		if (!cJSON_IsArray(outs) || no < 1 || no > CAT_MAX_IO)
			return ac_errf(err, AC_EINVAL, "%s: shards[%d].outputs must be a list of 1 to %d names", path, k,
				       CAT_MAX_IO);
		for (int i = 0; i < no; i++) {
			const cJSON *o = cJSON_GetArrayItem(outs, i);
			if (!cJSON_IsString(o) || !o->valuestring[0] || strlen(o->valuestring) >= sizeof cs->outputs[0])
				return ac_errf(err, AC_EINVAL, "%s: shards[%d].outputs[%d] must be a tensor name", path, k, i);
			ac_strlcpy(cs->outputs[i], o->valuestring, sizeof cs->outputs[0]);
		}
		cs->n_outputs = no;
		bool previous = false;
		for (int i = 0; i < ni; i++) {
			const cJSON *in = cJSON_GetArrayItem(ins, i);
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
			const cJSON *from = cJSON_GetObjectItemCaseSensitive(in, "from");
			if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= sizeof cs->inputs[0] ||
			    !cJSON_IsString(from) || (strcmp(from->valuestring, "input") && strcmp(from->valuestring, "previous")))
				return ac_errf(err, AC_EINVAL, "%s: shards[%d].inputs[%d] needs a string 'name' and 'from': "
					       "\"input\" or \"previous\"", path, k, i);
			ac_strlcpy(cs->inputs[i], name->valuestring, sizeof cs->inputs[0]);
			cs->from_previous[i] = from->valuestring[0] == 'p';
			if (cs->from_previous[i]) {
				if (k == 0)
					return ac_errf(err, AC_EINVAL, "%s: shards[0].inputs[%d] ('%s') comes from 'previous', "
						       "but the first shard has no previous shard", path, i, cs->inputs[i]);
				const cat_shard *prev = &m->shards[k - 1];
				if (!in_list(prev->outputs, prev->n_outputs, cs->inputs[i]))
					return ac_errf(err, AC_EINVAL, "%s: shards[%d].inputs[%d] ('%s') comes from 'previous', "
						       "but shards[%d].outputs does not list it", path, k, i, cs->inputs[i], k - 1);
				previous = true;
			} else {
				bool known = false;
				for (int j = 0; j < m->n_inputs; j++)
					known |= strcmp(m->inputs[j].name, cs->inputs[i]) == 0;
				if (!known)
					return ac_errf(err, AC_EINVAL, "%s: shards[%d].inputs[%d] ('%s') comes from 'input', "
						       "but the model's 'inputs' has no such input", path, k, i, cs->inputs[i]);
			}
		}
		cs->n_inputs = ni;
		if (k > 0 && !previous)
			return ac_errf(err, AC_EINVAL, "%s: shards[%d].inputs takes nothing from the previous shard", path, k);
	}
	const cat_shard *last = &m->shards[n - 1];
	bool same = last->n_outputs == m->n_outputs;
	for (int i = 0; same && i < m->n_outputs; i++)
		same = strcmp(last->outputs[i], m->outputs[i]) == 0;
	if (!same)
		return ac_errf(err, AC_EINVAL, "%s: shards[%d].outputs must be the model's 'outputs', in the same order",
			       path, n - 1);
	m->n_shards = n;
	return 0;
}

/* "files": {"fp32": "silero_vad.onnx"}: where each precision is, when not onnx/<usual name> */
static int parse_files(const cJSON *files, const char *path, cat_model *m, ac_err *err)
{
		for (int p = 0; p < PREC__COUNT; p++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(files, prec_names[p]);
		if (files && !cJSON_IsObject(files)) {
			return ac_errf(err, AC_EINVAL, "%s: 'files' must be an object of precision -> file", path);
		}
		if (!f) {
			snprintf(m->file[p], sizeof m->file[p], "onnx/%s", prec_files[p]);
			if (files)
				m->file[p][0] = '\0'; /* "files" lists every precision the model has */
			continue;
		}
		if (!cJSON_IsString(f) || !f->valuestring[0] || f->valuestring[0] == '/' || strstr(f->valuestring, "..") ||
		    strlen(f->valuestring) >= sizeof m->file[p]) {
			return ac_errf(err, AC_EINVAL, "%s: files.%s must be a relative path inside the model's folder, "
				       "without '..'", path, prec_names[p]);
		}
		ac_strlcpy(m->file[p], f->valuestring, sizeof m->file[p]);
	}
	return 0;
}

int catalog_parse_manifest(const char *json, const char *path, cat_model *m, ac_err *err)
{
	cJSON *j = cJSON_Parse(json);
	if (!j)
		return ac_errf(err, AC_EINVAL, "%s: not valid JSON", path);
	int rc = 0;
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	const cJSON *dims = cJSON_GetObjectItemCaseSensitive(j, "dims");
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(j, "inputs");
	const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(j, "outputs");
	const cJSON *tol = cJSON_GetObjectItemCaseSensitive(j, "tolerance");
	if (!cJSON_IsNumber(fmt) || fmt->valueint != 1) {
		rc = ac_errf(err, AC_EINVAL, "%s: 'format' must be 1", path);
		goto out;
	}
	if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= sizeof m->name ||
	    strchr(name->valuestring, '/')) {
		rc = ac_errf(err, AC_EINVAL, "%s: 'name' must be a short string without '/'", path);
		goto out;
	}
	if (!cJSON_IsString(type) || (strcmp(type->valuestring, "text") && strcmp(type->valuestring, "vision") &&
				      strcmp(type->valuestring, "audio") && strcmp(type->valuestring, "multimodal"))) {
		rc = ac_errf(err, AC_EINVAL, "%s: 'type' must be text, vision, audio or multimodal", path);
		goto out;
	}
	if (!cJSON_IsArray(inputs) || cJSON_GetArraySize(inputs) < 1 || cJSON_GetArraySize(inputs) > CAT_MAX_IO) {
		rc = ac_errf(err, AC_EINVAL, "%s: 'inputs' must be a list of 1 to %d inputs", path, CAT_MAX_IO);
		goto out;
	}
	ac_strlcpy(m->name, name->valuestring, sizeof m->name);
	ac_strlcpy(m->type, type->valuestring, sizeof m->type);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "description");
	ac_strlcpy(m->description, cJSON_IsString(d) ? d->valuestring : "", sizeof m->description);
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "source");
	ac_strlcpy(m->source, cJSON_IsString(src) ? src->valuestring : "", sizeof m->source);
	m->n_inputs = 0;
	const cJSON *in;
	cJSON_ArrayForEach(in, inputs) {
		if ((rc = parse_input(in, dims, path, m->n_inputs, &m->inputs[m->n_inputs], err)))
			goto out;
		m->n_inputs++;
	}
	m->n_outputs = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, outputs) {
		const cJSON *on = cJSON_GetObjectItemCaseSensitive(o, "name");
		if (!cJSON_IsString(on) || m->n_outputs == CAT_MAX_IO) {
			rc = ac_errf(err, AC_EINVAL, "%s: outputs[%d] needs a string 'name' (at most %d outputs)", path,
				     m->n_outputs, CAT_MAX_IO);
			goto out;
		}
		ac_strlcpy(m->outputs[m->n_outputs++], on->valuestring, sizeof m->outputs[0]);
	}
	m->n_shards = 0;
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(j, "shards");
	if (shards && (rc = parse_shards(shards, path, m, err)))
		goto out;
	static const double dflt_tol[PREC__COUNT] = { 1e-4, 2e-2, 5e-2, 0.2, 0.2 };
	for (int p = 0; p < PREC__COUNT; p++)
		m->tolerance[p] = num(tol, prec_names[p], dflt_tol[p]);
	rc = parse_files(cJSON_GetObjectItemCaseSensitive(j, "files"), path, m, err);
out:
	cJSON_Delete(j);
	return rc;
}

static char *slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* The manifest of one model folder: a complete accel.json as written, else the inferred one with
 * the accel.json overlay (if any). 1 when the folder holds no model at all. */
static int folder_manifest(const char *mdir, const char *name, cJSON **out, bool *inferred, ac_err *err)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/accel.json", mdir);
	cJSON *file = NULL;
	*out = NULL;
	*inferred = false;
	if (access(path, F_OK) == 0) {
		char *json = slurp(path, 1 << 20);
		if (!json)
			return ac_errf(err, AC_EIO, "%s: cannot read: %s", path, strerror(errno));
		file = cJSON_Parse(json);
		free(json);
		if (!cJSON_IsObject(file)) {
			cJSON_Delete(file);
			return ac_errf(err, AC_EINVAL, "%s: not valid JSON", path);
		}
		if (cJSON_GetObjectItemCaseSensitive(file, "inputs")) {
			*out = file;
			return 0;
		}
	} else if (!infer_has_model(mdir)) {
		return 1;
	}
	*inferred = true;
	int rc = infer_manifest(mdir, name, file, out, err);
	cJSON_Delete(file);
	return rc;
}

int catalog_manifest_text(const char *dir, const char *name, char **json, bool *inferred, ac_err *err)
{
	cJSON *man;
	*json = NULL;
	int rc = folder_manifest(dir, name, &man, inferred, err);
	if (rc == 1)
		return ac_errf(err, AC_ENOENT, "%s holds no accel.json, no onnx/model*.onnx and no *.onnx", dir);
	if (rc)
		return rc;
	*json = cJSON_Print(man);
	cJSON_Delete(man);
	return *json ? 0 : ac_errf(err, AC_ENOMEM, "out of memory");
}

/* Adds the model in dir/e (root index root): 0 added or already known, 1 not a model, < 0 error. */
static int add_model(catalog *c, const char *dir, const char *e, int root, ac_err *err)
{
	char mdir[4400], path[4500];
	snprintf(mdir, sizeof mdir, "%.3000s/%.255s", dir, e);
	cJSON *man;
	bool inferred;
	int rc = folder_manifest(mdir, e, &man, &inferred, err);
	if (rc)
		return rc;
	if (c->n == CAT_MAX_MODELS) {
		cJSON_Delete(man);
		return ac_errf(err, AC_EINVAL, "too many models (at most %d)", CAT_MAX_MODELS);
	}
	char *json = cJSON_PrintUnformatted(man);
	cJSON_Delete(man);
	if (!json)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	snprintf(path, sizeof path, "%s/accel.json%s", mdir, inferred ? " (inferred: accel-top models --inspect shows it)" : "");
	cat_model *m = &c->models[c->n];
	memset(m, 0, sizeof *m);
	rc = catalog_parse_manifest(json, path, m, err);
	free(json);
	if (rc)
		return rc;
	if (strcmp(m->name, e) != 0)
		return ac_errf(err, AC_EINVAL, "%s: 'name' is '%s' but the folder is '%s'", path, m->name, e);
	if (catalog_find(c, m->name))
		return 0; /* an earlier directory provides this name: the first one wins */
	ac_strlcpy(m->dir, mdir, sizeof m->dir);
	m->root = root;
	m->inferred = inferred;
	int any = 0;
	for (int p = 0; p < PREC__COUNT; p++) {
		char f[4600];
		snprintf(f, sizeof f, "%s/%s", m->dir, m->file[p]);
		m->has[p] = m->file[p][0] && access(f, R_OK) == 0;
		any |= m->has[p];
	}
	for (int k = 0; k < m->n_shards; k++)
		for (int p = 0; p < PREC__COUNT; p++) {
			char f[4800];
			snprintf(f, sizeof f, "%s/%s/onnx/%s", m->dir, m->shards[k].folder, prec_files[p]);
			m->shards[k].has[p] = access(f, R_OK) == 0;
		}
	if (!any)
		return ac_errf(err, AC_ENOENT, "%s/onnx/ holds none of model.onnx, model_fp16.onnx, "
			       "model_quantized.onnx, model_q4.onnx, model_q4f16.onnx", m->dir);
	c->n++;
	return 0;
}

int catalog_add_dir(catalog *c, const char *dir, ac_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return ac_errf(err, -errno, "models directory %s: %s", dir, strerror(errno));
	if (c->n_roots == CAT_MAX_ROOTS) {
		closedir(d);
		return ac_errf(err, AC_EINVAL, "too many models directories (at most %d)", CAT_MAX_ROOTS);
	}
	int root = c->n_roots++;
	ac_strlcpy(c->roots[root], dir, sizeof c->roots[root]);
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4400];
		struct stat st;
		snprintf(sub, sizeof sub, "%.3000s/%.255s", dir, e->d_name);
		if (stat(sub, &st) || !S_ISDIR(st.st_mode))
			continue;
		rc = add_model(c, dir, e->d_name, root, err);
		if (rc == 1)
			rc = 0;
	}
	closedir(d);
	return rc;
}

const cat_model *catalog_find(const catalog *c, const char *name)
{
	for (int i = 0; name && i < c->n; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	return NULL;
}

void catalog_url(const cat_model *m, ac_precision p, char *out, size_t cap)
{
	if ((unsigned)p < PREC__COUNT && m->file[p][0])
		snprintf(out, cap, "/models/%d/%s/%s", m->root, m->name, m->file[p]);
	else
		snprintf(out, cap, "/models/%d/%s/onnx/%s", m->root, m->name, prec_file(p));
}

void catalog_shard_url(const cat_model *m, int shard, ac_precision p, char *out, size_t cap)
{
	if (shard < 1 || shard > m->n_shards) {
		catalog_url(m, p, out, cap);
		return;
	}
	snprintf(out, cap, "/models/%d/%s/%s/onnx/%s", m->root, m->name, m->shards[shard - 1].folder, prec_file(p));
}

bool catalog_shards_have(const cat_model *m, ac_precision p)
{
	bool all = m->n_shards > 0;
	for (int k = 0; k < m->n_shards; k++)
		all &= m->shards[k].has[p];
	return all;
}
