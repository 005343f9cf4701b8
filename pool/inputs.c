#include "inputs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, and the same sequence everywhere */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double unit(uint64_t *s) { return (double)(next(s) >> 11) / 9007199254740992.0; }

static void put(ac_tensor *t, uint64_t i, double v)
{
	unsigned char *p = t->data;
	switch (t->dtype) {
	case DT_FLOAT32: { float f = (float)v; memcpy(p + 4 * i, &f, 4); break; }
	case DT_INT64: { int64_t x = (int64_t)v; memcpy(p + 8 * i, &x, 8); break; }
	case DT_INT32: { int32_t x = (int32_t)v; memcpy(p + 4 * i, &x, 4); break; }
	case DT_INT8: p[i] = (unsigned char)(int8_t)v; break;
	case DT_UINT8: case DT_BOOL: p[i] = (unsigned char)v; break;
	default: break;
	}
}

int inputs_make(const cat_model *m, uint64_t seed, const audio_clip *clip, ac_tensor *out, ac_err *err)
{
	memset(out, 0, sizeof *out * (size_t)m->n_inputs);
	for (int k = 0; k < m->n_inputs; k++) {
		const cat_input *ci = &m->inputs[k];
		ac_tensor *t = &out[k];
		ac_strlcpy(t->name, ci->name, sizeof t->name);
		int dt = dtype_from_name(ci->dtype);
		if (dt < 0 || dt == DT_FLOAT16) {
			inputs_free(out, k);
			return ac_errf(err, AC_EINVAL, "model %s input %s: dtype %s cannot be generated", m->name, ci->name, ci->dtype);
		}
		t->dtype = (uint8_t)dt;
		t->rank = (uint8_t)ci->rank;
		for (int d = 0; d < ci->rank; d++)
			t->dims[d] = (uint64_t)ci->dims[d];
		uint64_t n = tensor_count(t);
		t->bytes = n * dtype_size(t->dtype);
		t->data = calloc(1, t->bytes + 8);
		if (!t->data) {
			inputs_free(out, k);
			return ac_errf(err, AC_ENOMEM, "out of memory for input %s", ci->name);
		}
		uint64_t s = seed * 1000003u + (uint64_t)k; /* each input its own stream */
		if ((ci->fill == FILL_AUDIO_LOGMEL || ci->fill == FILL_AUDIO_PCM) && !clip) {
			inputs_free(out, k + 1);
			return ac_errf(err, AC_EINVAL, "model %s input %s needs audio, and none was given", m->name, ci->name);
		}
		switch (ci->fill) {
		case FILL_TOKENS:
			for (uint64_t i = 0; i < n; i++)
				put(t, i, (double)(next(&s) % (uint64_t)ci->vocab));
			break;
		case FILL_ONES:
			for (uint64_t i = 0; i < n; i++)
				put(t, i, 1);
			break;
		case FILL_ZEROS:
			break;
		case FILL_SCALAR:
			for (uint64_t i = 0; i < n; i++)
				put(t, i, ci->a);
			break;
		case FILL_UNIFORM:
			for (uint64_t i = 0; i < n; i++)
				put(t, i, ci->a + (ci->b - ci->a) * unit(&s));
			break;
		case FILL_NORMAL:
			for (uint64_t i = 0; i < n; i++) { /* Box-Muller */
				double u1 = unit(&s), u2 = unit(&s);
				put(t, i, ci->a + ci->b * sqrt(-2 * log(u1 + 1e-300)) * cos(2 * M_PI * u2));
			}
			break;
		case FILL_AUDIO_LOGMEL:
			if (t->dtype != DT_FLOAT32 || n != (uint64_t)80 * ci->frames) {
				inputs_free(out, k + 1);
				return ac_errf(err, AC_EINVAL, "model %s input %s: audio_logmel needs float32 with 80 x %d elements",
					       m->name, ci->name, ci->frames);
			}
			audio_log_mel(clip, ci->frames, t->data);
			break;
		case FILL_IMAGE: /* a random image, 0..255 per pixel, rescaled and normalised per channel */
			for (uint64_t i = 0; i < n; i++) {
				uint64_t ch = (i / ((uint64_t)ci->dims[2] * (uint64_t)ci->dims[3])) % (uint64_t)ci->dims[1];
				double px = (double)(next(&s) % 256) * ci->rescale;
				put(t, i, (px - ci->mean[ch]) / ci->std[ch]);
			}
			break;
		case FILL_AUDIO_PCM: {
			size_t at = audio_loudest(clip, (size_t)n);
			for (uint64_t i = 0; i < n; i++)
				put(t, i, at + i < clip->n ? clip->samples[at + i] : 0);
			break;
		}
		}
	}
	return 0;
}

void inputs_free(ac_tensor *t, int n)
{
	for (int i = 0; i < n; i++)
		tensor_free(&t[i]);
}

int inputs_read_image(const char *path, unsigned char **out, size_t *len, ac_err *err)
{
	*out = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ac_errf(err, AC_ENOENT, "image %s: %s", path, strerror(errno));
	enum { MAX = 32 << 20 };
	unsigned char *b = malloc(MAX);
	size_t n = b ? fread(b, 1, MAX, f) : 0;
	fclose(f);
	if (!b)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	if (n < 8 || n == MAX || (memcmp(b, "\x89PNG\r\n\x1a\n", 8) && memcmp(b, "\xff\xd8\xff", 3))) {
		free(b);
		return ac_errf(err, AC_EINVAL, "image %s: not a PNG or JPEG file of at most 32 MB", path);
	}
	*out = b;
	*len = n;
	return 0;
}
