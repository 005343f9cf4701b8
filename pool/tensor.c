#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct { uint8_t size; const char *name; } dtypes[DT__MAX + 1] = {
	[DT_FLOAT32] = { 4, "float32" }, [DT_FLOAT16] = { 2, "float16" }, [DT_INT64] = { 8, "int64" },
	[DT_INT32] = { 4, "int32" }, [DT_INT8] = { 1, "int8" }, [DT_UINT8] = { 1, "uint8" },
	[DT_BOOL] = { 1, "bool" }, [DT_UINT16] = { 2, "uint16" }, [DT_FLOAT64] = { 8, "float64" },
};

size_t dtype_size(uint8_t d) { return d >= 1 && d <= DT__MAX ? dtypes[d].size : 0; }
const char *dtype_name(uint8_t d) { return d >= 1 && d <= DT__MAX ? dtypes[d].name : "?"; }

int dtype_from_name(const char *name)
{
	for (int d = 1; name && d <= DT__MAX; d++)
		if (strcmp(dtypes[d].name, name) == 0)
			return d;
	return -1;
}

uint64_t tensor_count(const ac_tensor *t)
{
	uint64_t n = 1;
	for (int i = 0; i < t->rank; i++)
		n *= t->dims[i];
	return n;
}

void tensor_free(ac_tensor *t)
{
	free(t->data);
	t->data = NULL;
	t->bytes = 0;
}

float half_to_float(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	float v;
	if (exp == 0)
		v = ldexpf((float)mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexpf((float)(mant | 0x400), exp - 25);
	return sign ? -v : v;
}

double tensor_get(const ac_tensor *t, uint64_t i)
{
	const unsigned char *p = t->data;
	switch (t->dtype) {
	case DT_FLOAT32: { float f; memcpy(&f, p + 4 * i, 4); return f; }
	case DT_FLOAT16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return half_to_float(h); }
	case DT_FLOAT64: { double d; memcpy(&d, p + 8 * i, 8); return d; }
	case DT_INT64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
	case DT_INT32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
	case DT_INT8: return (int8_t)p[i];
	case DT_UINT8: case DT_BOOL: return p[i];
	case DT_UINT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return v; }
	default: return NAN;
	}
}
