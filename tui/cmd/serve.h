/* accel-top serve, inside: the JSON of its answers and of the inputs it is given (serve_json.c). */
#ifndef AC_SERVE_H
#define AC_SERVE_H

#include <cjson/cJSON.h>

#include "../../bridge/proto.h"
#include "../../pool/catalog.h"
#include "../../pool/pool.h"
#include "../../pool/tensor.h"

/* Fills t for model input ci from {"dims": [...], "data": [...]} or a flat array of numbers. */
int serve_input_from_json(const cat_input *ci, const cJSON *j, ac_tensor *t, ac_err *err);
/* A request's "audio" (a WAV file: the model's audio inputs from it, its other inputs seeded as
 * the row's are) into tin[0..*n), and its "image" file's bytes (*img, free() it). */
int serve_own_inputs(const cat_model *cm, uint64_t seed, const char *audio, const char *image, ac_tensor *tin, int *n,
		     unsigned char **img, size_t *img_len, ac_err *err);
/* One output: dtype, dims, count, and its data ("all") or min/max/mean and the first 8 ("summary"). */
cJSON *serve_tensor_json(const proto_frame *f, const char *mode);
/* Where it ran: browser, execution provider, adapter and its classification with evidence. */
cJSON *serve_provenance(const pool *p, int browser, int session);

#endif
