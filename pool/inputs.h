/* Model inputs made by accel-top from a manifest: deterministic from a seed, so two runs (and the
 * verification reference) see the same inputs. */
#ifndef AC_INPUTS_H
#define AC_INPUTS_H

#include "audio.h"
#include "catalog.h"
#include "tensor.h"

/* Fills out[0..m->n_inputs-1]. clip is used by audio fills (may be NULL otherwise). */
int inputs_make(const cat_model *m, uint64_t seed, const audio_clip *clip, ac_tensor *out, ac_err *err);
void inputs_free(ac_tensor *t, int n);

/* A PNG or JPEG file's bytes (at most 32 MB), for --image: the page decodes them. free() *out. */
int inputs_read_image(const char *path, unsigned char **out, size_t *len, ac_err *err);

#endif
