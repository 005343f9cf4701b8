/* --optimize-audio: the log-mel input of audio models is computed on the page's GPU by the WGSL
 * kernels (browser-js/logmel-wgsl.js) instead of in C. The scheduler calls its hook
 * (optaudio_encode_audio) while it frames a run of such a model: the log-mel frame is replaced by
 * the raw 16 kHz clip and the request gains an "audio_logmel" field naming the input, its frames and the workgroup shape,
 * the one `accel-top tune` stored for this browser + adapter. When none is stored, the first use
 * tunes that browser then and there (the tune engine, tui/tuner.h, on the app's clip, fewer
 * rounds) and stores the result for the next start; requests sent meanwhile use the default
 * shape and say so ("tuned": false). Reference runs (fp32 on wasm) keep the C log-mel, so the scheduler's verification
 * compares the GPU front end + model against the C front end + wasm model end to end. */
#ifndef AC_OPTAUDIO_H
#define AC_OPTAUDIO_H

#include "../bridge/bridge.h"
#include "../pool/audio.h"
#include "../pool/catalog.h"
#include "../pool/pool.h"
#include "tuner.h"

typedef struct optaudio optaudio;

/* What optaudio needs of the application. */
typedef struct {
	pool *pool;             /* sessions, models, browsers; EV_AUDIO_FRONTEND goes to pool_apply() */
	const catalog *cat;
	const audio_clip *clip; /* the app's clip; NULL: none, nothing is rewritten */
	bool batch;             /* notes on stderr (else the screen owns the terminal) */
	tuner_io tuner;         /* first-use tuning */
} optaudio_io;

optaudio *optaudio_new(const optaudio_io *io, const char *db_path);
/* The scheduler's encode_audio hook (sched_config, pool/sched.h), ctx an optaudio: for a run of
 * model m on this browser, replaces the log-mel frame by the clip (owned by o) and fills spec
 * with the shape to use; 1 when it did. */
int optaudio_encode_audio(void *ctx, int browser, const cat_model *m, const void **frames, size_t *lens, int n,
			 proto_logmel_spec *spec);
/* Closes its timers (on shutdown, before the loop's last run); free after uv_run returned. */
void optaudio_close(optaudio *o);
void optaudio_free(optaudio *o);

#endif
