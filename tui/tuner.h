/* The engine of `accel-top tune`, for one browser at a time: sends logmel requests with each
 * candidate workgroup shape (a warm-up round, then timed rounds, interleaved so drift hits every
 * candidate alike), checks every output against the C reference, picks the fastest verified
 * candidate and verifies it on the other clips. Used by the tune command and by
 * --optimize-audio's first use on a browser + adapter with nothing stored. */
#ifndef AC_TUNER_H
#define AC_TUNER_H

#include <uv.h>

#include "../bridge/bridge.h"
#include "../pool/audio.h"
#include "../pool/pool.h"
#include "../pool/store.h"
#include "../pool/tune.h"

#define TUNER_MAX_SHAPES 16
#define TUNER_MAX_CLIPS 4

typedef struct {
	tune_shape shapes[TUNER_MAX_SHAPES]; /* [0] is the default */
	int n_shapes;
	int rounds, repeat, frames;
	double timeout_s;
	int n_clips;                         /* clip 0 is timed; every clip is verified */
	char clip_names[TUNER_MAX_CLIPS][64];
	double clip_seconds[TUNER_MAX_CLIPS];
	unsigned char *frame[TUNER_MAX_CLIPS]; /* the clip as one ATNS float32 frame */
	size_t frame_len[TUNER_MAX_CLIPS];
	float *ref[TUNER_MAX_CLIPS];         /* its C log-mel, [80][frames] */
	bool progress;                       /* a progress line per request on stderr */
} tuner_plan;

typedef struct {
	tune_shape sh;
	double *ms;          /* samples: GPU time (timestamp-query) or wall time, as timing says */
	int n_ms;
	char timing[48];
	double compile_ms;
	bool have_out;
	double max_abs;      /* the worst error against the C reference, over its replies */
	bool failed;
	char reason[300];
} tuner_cand;

typedef struct {
	int browser;
	char kind[32], version[64], adapter[300], classification[16];
	tuner_cand c[TUNER_MAX_SHAPES];
	int chosen;          /* index into c, -1 = none */
	double clip_err[TUNER_MAX_CLIPS];
	bool clip_ok[TUNER_MAX_CLIPS], clip_done[TUNER_MAX_CLIPS];
	char clip_reason[TUNER_MAX_CLIPS][200];
	char skip[400];      /* why it was not tuned */
} tuner_result;

typedef struct tuner tuner;

/* What the tuner needs of the application (app_tuner_io() fills it from an app). */
typedef struct tuner_io {
	uv_loop_t *loop;
	/* sends a logmel request (bridge_request()); its reply comes to cb(cb_ctx, ...) */
	int (*request)(void *ctx, int browser, cJSON *msg, const bridge_blob *frames, int n, bridge_reply_fn cb,
		       void *cb_ctx, uint32_t *id);
	bool (*quitting)(void *ctx);
	void *ctx;
} tuner_io;

/* Makes the clip's frame and reference (plan->frames must be set). */
int tuner_plan_add_clip(tuner_plan *p, const char *name, const audio_clip *clip, ac_err *err);
void tuner_plan_free(tuner_plan *p);

tuner *tuner_new(const tuner_io *io, const tuner_plan *p, void (*done)(void *ctx, tuner_result *r), void *ctx);
/* Tunes browser pb (its kind, version, adapter go into r); done() is called once, from the loop. */
void tuner_begin(tuner *t, const pool_browser *pb, tuner_result *r);
bool tuner_busy(const tuner *t);
/* Closes its timers; frees it once they are closed (uv_run must run). */
void tuner_close(tuner *t);

/* The rows to store for r (n = plan->n_shapes), measured at `now`. */
void tuner_rows(const tuner_plan *p, const tuner_result *r, double now, store_tuning *rows);
void tuner_result_free(tuner_result *r);

#endif
