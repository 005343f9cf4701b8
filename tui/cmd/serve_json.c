/* accel-top serve: the JSON of tensors both ways and of where a request ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "../../pool/inputs.h"

/* Fills t for model input ci from {"dims": [...], "data": [...]} or a flat array of numbers. */
int serve_input_from_json(const cat_input *ci, const cJSON *j, ac_tensor *t, ac_err *err)
{
	const cJSON *data = cJSON_IsArray(j) ? j : cJSON_GetObjectItemCaseSensitive(j, "data");
	const cJSON *dims = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "dims") : NULL;
	if (!cJSON_IsArray(data))
		return ac_errf(err, AC_EINVAL, "input %s: give an array of numbers, or {\"dims\": [...], \"data\": [...]}", ci->name);
	int dt = dtype_from_name(ci->dtype);
	if (dt < 0 || dtype_size((uint8_t)dt) == 0)
		return ac_errf(err, AC_EINVAL, "input %s: type %s cannot be given as JSON", ci->name, ci->dtype);
	memset(t, 0, sizeof *t);
	ac_strlcpy(t->name, ci->name, sizeof t->name);
	t->dtype = (uint8_t)dt;
	uint64_t want = 1;
	if (dims) {
		int r = cJSON_GetArraySize(dims);
		if (!cJSON_IsArray(dims) || r > TENSOR_MAX_RANK)
			return ac_errf(err, AC_EINVAL, "input %s: dims must be an array of at most %d sizes", ci->name, TENSOR_MAX_RANK);
		t->rank = (uint8_t)r;
		for (int i = 0; i < r; i++) {
			const cJSON *d = cJSON_GetArrayItem(dims, i);
			if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 1e9)
				return ac_errf(err, AC_EINVAL, "input %s: dims[%d] is not a size", ci->name, i);
			t->dims[i] = (uint64_t)d->valuedouble;
			want *= t->dims[i];
		}
	} else {
		t->rank = (uint8_t)ci->rank;
		for (int i = 0; i < ci->rank; i++) {
			t->dims[i] = (uint64_t)ci->dims[i];
			want *= t->dims[i];
		}
	}
	uint64_t n = (uint64_t)cJSON_GetArraySize(data);
	if (n != want)
		return ac_errf(err, AC_EINVAL, "input %s: %llu values for a shape of %llu", ci->name, (unsigned long long)n,
			       (unsigned long long)want);
	size_t es = dtype_size(t->dtype);
	t->bytes = (size_t)n * es;
	if (!(t->data = calloc(n ? n : 1, es)))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	uint64_t i = 0;
	for (const cJSON *x = data->child; x; x = x->next, i++) {
		if (!cJSON_IsNumber(x) && !cJSON_IsBool(x)) {
			tensor_free(t);
			return ac_errf(err, AC_EINVAL, "input %s: element %llu is not a number", ci->name, (unsigned long long)i);
		}
		double d = cJSON_IsBool(x) ? cJSON_IsTrue(x) : x->valuedouble;
		unsigned char *p = (unsigned char *)t->data + i * es;
		switch (t->dtype) {
		case DT_FLOAT32: { float f = (float)d; memcpy(p, &f, 4); break; }
		case DT_FLOAT64: memcpy(p, &d, 8); break;
		case DT_INT64: { int64_t k = (int64_t)d; memcpy(p, &k, 8); break; }
		case DT_INT32: { int32_t k = (int32_t)d; memcpy(p, &k, 4); break; }
		case DT_INT8: { int8_t k = (int8_t)d; memcpy(p, &k, 1); break; }
		case DT_UINT8: case DT_BOOL: { uint8_t k = (uint8_t)d; memcpy(p, &k, 1); break; }
		default:
			tensor_free(t);
			return ac_errf(err, AC_EINVAL, "input %s: type %s cannot be given as JSON", ci->name, ci->dtype);
		}
	}
	return 0;
}

cJSON *serve_tensor_json(const proto_frame *f, const char *mode)
{
	ac_tensor t = { .dtype = f->dtype, .rank = f->rank, .data = (void *)f->data, .bytes = f->data_len };
	memcpy(t.dims, f->dims, sizeof t.dims);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "dtype", dtype_name(f->dtype));
	cJSON *d = cJSON_AddArrayToObject(o, "dims");
	for (int i = 0; i < f->rank; i++)
		cJSON_AddItemToArray(d, cJSON_CreateNumber((double)f->dims[i]));
	uint64_t n = tensor_count(&t);
	cJSON_AddNumberToObject(o, "count", (double)n);
	if (!strcmp(mode, "all")) {
		cJSON *a = cJSON_AddArrayToObject(o, "data");
		for (uint64_t i = 0; i < n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(tensor_get(&t, i)));
		return o;
	}
	double mn = 0, mx = 0, sum = 0;
	cJSON *first = cJSON_AddArrayToObject(o, "first");
	for (uint64_t i = 0; i < n; i++) {
		double x = tensor_get(&t, i);
		mn = i ? (x < mn ? x : mn) : x;
		mx = i ? (x > mx ? x : mx) : x;
		sum += x;
		if (i < 8)
			cJSON_AddItemToArray(first, cJSON_CreateNumber(x));
	}
	if (n) {
		cJSON_AddNumberToObject(o, "min", mn);
		cJSON_AddNumberToObject(o, "max", mx);
		cJSON_AddNumberToObject(o, "mean", sum / (double)n);
	}
	return o;
}

/* Where it ran: browser, execution provider, adapter and its classification with evidence. */
cJSON *serve_provenance(const pool *p, int browser, int session)
{
	cJSON *o = cJSON_CreateObject();
	const pool_browser *b = pool_browser_find(p, browser);
	const pool_session *s = pool_session_find(p, browser, session);
	cJSON_AddNumberToObject(o, "browser", browser);
	cJSON_AddStringToObject(o, "kind", b ? b->kind : "?");
	cJSON_AddStringToObject(o, "version", b && b->version[0] ? b->version : "n/a");
	cJSON_AddBoolToObject(o, "managed", b && b->managed);
	if (b && b->pid)
		cJSON_AddNumberToObject(o, "pid", b->pid);
	else
		cJSON_AddNullToObject(o, "pid");
	const char *used = s && s->platform_used[0] ? s->platform_used : s ? s->platform : "?";
	cJSON_AddStringToObject(o, "platform_requested", s ? s->platform : "?");
	cJSON_AddStringToObject(o, "platform_used", used);
	cJSON_AddStringToObject(o, "precision", s ? s->precision : "?");
	cJSON_AddStringToObject(o, "file", s ? s->file : "?");
	int pi = -1;
	for (int k = 0; k < PLAT__COUNT; k++)
		if (!strcmp(plat_name((ac_platform)k), used))
			pi = k;
	if (b && b->caps.valid && pi >= 0) {
		cJSON_AddStringToObject(o, "classification", class_name(b->caps.verdict[pi].status));
		cJSON_AddStringToObject(o, "evidence", b->caps.verdict[pi].evidence);
	} else {
		cJSON_AddNullToObject(o, "classification");
		cJSON_AddNullToObject(o, "evidence");
	}
	if (b && pi == PLAT_WEBGPU && b->caps.webgpu.adapter) {
		char adapter[600];
		snprintf(adapter, sizeof adapter, "%s%s%s%s%s", b->caps.webgpu.vendor, b->caps.webgpu.architecture[0] ? " " : "",
			 b->caps.webgpu.architecture, b->caps.webgpu.description[0] ? " " : "", b->caps.webgpu.description);
		cJSON_AddStringToObject(o, "adapter", adapter[0] ? adapter : "(the browser names no vendor)");
	} else {
		cJSON_AddNullToObject(o, "adapter");
	}
	if (s && s->verified)
		cJSON_AddBoolToObject(o, "verified", s->verify_ok);
	else
		cJSON_AddNullToObject(o, "verified");
	return o;
}


int serve_own_inputs(const cat_model *cm, uint64_t seed, const char *audio, const char *image, ac_tensor *tin, int *n,
		     unsigned char **img, size_t *img_len, ac_err *err)
{
	if (audio) {
		audio_clip clip = { 0 };
		int rc = audio_load_wav(audio, &clip, err);
		if (!rc && !(rc = inputs_make(cm, seed, &clip, tin, err)))
			*n = cm->n_inputs;
		audio_free(&clip);
		if (rc)
			return rc;
	}
	return image ? inputs_read_image(image, img, img_len, err) : 0;
}
