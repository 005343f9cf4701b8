/* A tensor as accel-top holds it: name, element type, shape and little-endian data. The dtype
 * numbers are the ones the wire protocol uses (accel-top-protocol(7)). */
#ifndef AC_TENSOR_H
#define AC_TENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	DT_FLOAT32 = 1, DT_FLOAT16, DT_INT64, DT_INT32, DT_INT8, DT_UINT8, DT_BOOL, DT_UINT16, DT_FLOAT64,
	DT__MAX = DT_FLOAT64
} ac_dtype;

#define TENSOR_MAX_RANK 8

typedef struct {
	char name[64];
	uint8_t dtype;
	uint8_t rank;
	uint64_t dims[TENSOR_MAX_RANK];
	void *data;       /* owned */
	size_t bytes;
} ac_tensor;

size_t dtype_size(uint8_t dtype);        /* 0 if unknown */
const char *dtype_name(uint8_t dtype);   /* "float32", ... */
int dtype_from_name(const char *name);   /* negative if unknown */
uint64_t tensor_count(const ac_tensor *t);
void tensor_free(ac_tensor *t);

/* Element i as a double (float16 converted); for comparing outputs. */
double tensor_get(const ac_tensor *t, uint64_t i);
float half_to_float(uint16_t h);

#endif
