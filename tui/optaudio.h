/* --optimize-audio: the log-mel input of audio models is computed on the page's GPU by the WGSL
 * kernels (browser-js/logmel-wgsl.js) instead of in C. A run request for such a model is
 * rewritten on its way to the bridge: the log-mel frame is replaced by the raw 16 kHz clip and
 * the request gains an "audio_logmel" field naming the input, its frames and the workgroup shape,
 * the one `accel-top tune` stored for this browser + adapter. When none is stored, the first use
 * tunes that browser then and there (the tune engine, tui/tuner.h, on the app's clip, fewer
 * rounds) and stores the result for the next start; requests sent meanwhile use the default
 * shape and say so ("tuned": false). Reference runs (fp32 on wasm) keep the C log-mel, so the scheduler's verification
 * compares the GPU front end + model against the C front end + wasm model end to end. */
#ifndef AC_OPTAUDIO_H
#define AC_OPTAUDIO_H

#include "app.h"

typedef struct optaudio optaudio;

optaudio *optaudio_new(app *a, const char *db_path);
/* blobs[0..n) are the request's frames in input order; one may be replaced (owned by o). */
void optaudio_rewrite(optaudio *o, int browser, cJSON *msg, bridge_blob *blobs, int n);
/* Replies to its own tuning requests: true when it was one. */
bool optaudio_on_response(optaudio *o, int browser, const proto_msg *m, const proto_frame *frames, int n);
/* Closes its timers (on shutdown, before the loop's last run); free after uv_run returned. */
void optaudio_close(optaudio *o);
void optaudio_free(optaudio *o);

#endif
