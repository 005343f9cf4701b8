/* Kernel tuning helpers shared by `accel-top tune` and --optimize-audio: candidate workgroup
 * shapes, the key a tuning is stored under (browser + adapter), and the check of a GPU log-mel
 * against the C reference. Pure functions: no I/O. */
#ifndef AC_TUNE_H
#define AC_TUNE_H

#include <stddef.h>

#include "ac.h"
#include "caps.h"

/* The candidates `tune` times, the first being the default the gain is measured against: 64x1x1
 * is the usual WebGPU starting point; 256x1x1 and 128x2x1 are the shapes the reference tool
 * hard-coded for Firefox and Chrome. */
#define TUNE_DEFAULT_CANDIDATES "64x1x1/1,256x1x1/1,128x2x1/1,32x8x1/1,16x16x1/1,256x1x1/4,128x2x1/4,64x4x1/2"

/* Largest |GPU - C| allowed on the (log10 + 4) / 4 scale Whisper feeds its encoder: f32 sums of
 * 400 products against double ones, well below what one quantisation step of the model costs. */
#define TUNE_TOLERANCE 2e-3

typedef struct {
	int wx, wy, items;
} tune_shape;

/* "XxYx1[/ITEMS],..." into out[0..*n); X*Y a power of two up to 1024, Z 1, ITEMS 1..16. */
int tune_parse_shapes(const char *list, tune_shape *out, int cap, int *n, ac_err *err);

/* "vendor / architecture / device / description" of the WebGPU adapter the page reported. */
void tune_adapter_key(const ac_caps *caps, char *out, size_t cap);

double tune_max_abs_diff(const float *ref, const void *got_le_f32, size_t n);

#endif
