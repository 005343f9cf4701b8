/* The scheduler: the live side of running models. It decides where sessions load and where
 * requests go, sends the commands through the interface it is given, and turns every decision and
 * every reply into events for the pool. It only runs live: replay feeds the recorded events to
 * the pool without it.
 *
 * Placement: a workload pinned to a browser kind (or "#ID") loads there; "auto" loads on every
 * connected browser whose platform is not unavailable and prefers, until measurements exist, the
 * kind suited to the model's type (each family's suits() in pool/family.c: audio on firefox;
 * vision on chromium or chrome; text on edge with hardware WebNN, else chromium). Then dispatch
 * follows measured latency (EWMA) times load. Each session has an in-flight window; each browser's first result of a
 * session is verified against the fp32 model on wasm in the same browser, same inputs. */
#ifndef AC_SCHED_H
#define AC_SCHED_H

#include <stdbool.h>
#include <uv.h>

#include "../bridge/proto.h"
#include "audio.h"
#include "catalog.h"
#include "pool.h"

typedef struct {
	char model[64];      /* a catalog name */
	char precision[8];   /* fp32 fp16 int8 int4 q4f16 */
	char platform[8];    /* webgpu webnn wasm */
	char browser[24];    /* a family name, "#ID", or "auto" */
	int concurrency;     /* requests kept in flight (used when rps is 0) */
	double rps;          /* requests per second (0 = use concurrency) */
	double duration_s;   /* 0 = until stopped or count reached */
	int64_t count;       /* requests to run, warm-up included (0 = until stopped) */
	int warmup;          /* first completions left out of the figures */
	bool on_demand;      /* no requests of its own: only what sched_submit() brings */
	char shard[64];      /* "" = the whole model; "KIND,KIND" (or "#ID"s): shard k of the model's
	                        "shards" on a browser of the k-th; browser is then ignored */
} workload_spec;

/* What the scheduler sends: a load / run as typed by the codec (bridge/proto.h), without an id. */
typedef proto_load sched_load;
typedef proto_run sched_run;

/* The scheduler's hands. Each sender returns 0 with *id set to the request id its reply will
 * carry; the reply comes back through sched_on_response(). A nonzero return (AC_ENOENT: no
 * connection) means nothing was sent. A fake for tests needs only these four and a ctx. */
typedef struct {
	/* An event for the pool (pool_apply()). */
	int (*emit)(void *ctx, const ac_event *ev, ac_err *err);
	int (*load)(void *ctx, int browser, const sched_load *l, uint32_t *id);
	/* frames[0..n): complete binary frames (header + data), n == r->tensors */
	int (*run)(void *ctx, int browser, const sched_run *r, const void *const *frames, const size_t *lens, int n,
		   uint32_t *id);
	int (*unload)(void *ctx, int browser, int session, uint32_t *id);
	void *ctx;
} sched_io;

typedef struct {
	bool allow_fallback;  /* a session that fails on its platform is loaded on wasm instead */
	uint64_t seed;        /* inputs */
	int window;           /* requests in flight per session */
	const audio_clip *audio; /* for audio models */
	const char *text;     /* --text: token inputs made in the page from it, with the model's tokenizer.json */
	const unsigned char *image; /* --image: the file's bytes; image inputs are decoded from it in the page */
	size_t image_len;
	double request_timeout_s; /* a request not ended this long after it was queued fails; 0 = never */
	/* A request from sched_submit() got its result (after EV_REQUEST_DONE was applied): its output
	 * frames (none unless asked for). Failures are EV_REQUEST_FAILED events. */
	void (*on_done)(void *ctx, int row, int64_t request, int browser, int session, const proto_frame *frames,
			int n);
	void *on_done_ctx;
	/* Optional (--optimize-audio, tui/optaudio.h): called before a run of a model with a log-mel
	 * input is sent (not the fp32 reference runs). frames[0..n) / lens are the run's frames; it
	 * may replace one (the replacement stays the hook's, valid until its next call) and fill
	 * *spec, returning 1: the run then carries "audio_logmel" and the page computes that input.
	 * Returns 0 to send the run as it is. */
	int (*encode_audio)(void *ctx, int browser, const cat_model *m, const void **frames, size_t *lens, int n,
			    proto_logmel_spec *spec);
	void *encode_audio_ctx;
} sched_config;

typedef struct sched sched;

int sched_new(uv_loop_t *loop, pool *p, const catalog *cat, const sched_config *cfg, const sched_io *io,
	      sched **out);
/* Pool listener: reacts to browsers arriving and leaving. */
void sched_on_event(void *ctx, const ac_event *ev);
/* The reply (loaded / result / unloaded / error) to a request this scheduler sent through its
 * sched_io: the io hands each reply of its own back here (tui/app.c: the bridge routes it by id). */
void sched_on_response(sched *s, int browser, const proto_msg *m, const proto_frame *frames, int n);

int sched_start(sched *s, const workload_spec *w, int *row, ac_err *err);
int sched_stop(sched *s, int row, const char *why, ac_err *err);
/* direction +1 / -1: the next / previous variant the model has that the row's browsers can
 * run. On success err->msg may hold a note (err->code 0) naming variants skipped and why. */
int sched_change_precision(sched *s, int row, int direction, ac_err *err);

/* Queues one request on a running row (an on_demand one, typically) with its own inputs (n = 0:
 * the row's seeded inputs). want_outputs: the page sends the outputs back, for cfg.on_done.
 * *request is its id; it ends with EV_REQUEST_DONE or EV_REQUEST_FAILED, exactly once. */
/* A request on the row's inputs, but with its own text (token inputs, through the model's
 * tokenizer.json) and/or image file bytes (image input), made into inputs by the page; NULL for
 * what it does not bring. Not used for verification, like other requests with inputs of their own. */
int sched_submit_prepared(sched *s, int row, const char *text, const unsigned char *image, size_t image_len,
			  bool want_outputs, int64_t *request, ac_err *err);
int sched_submit(sched *s, int row, const ac_tensor *inputs, int n, bool want_outputs, int64_t *request,
		 ac_err *err);
/* The catalog model a row runs; NULL if no such row. */
const cat_model *sched_row_model(const sched *s, int row);

/* Whether browser b can be trusted with this variant on this platform; why not, if not.
 * (onnxruntime-web's WebGPU float16 kernels return zeros, with no error, on an adapter without
 * shader-f16, such as SwiftShader.) */
bool sched_variant_runs(const pool_browser *b, ac_precision p, const char *platform, char *why, size_t cap);

/* The first output of the row's first verified run in a browser (NULL if none yet): for tests
 * and the bench's summaries. */
const ac_tensor *sched_first_output(const sched *s, int row, int browser);

/* Stops the scheduler and closes its timers; what it holds is freed. */
void sched_close(sched *s);
/* After the loop has ended (the pool may call its listener until then). */
void sched_free(sched *s);

#endif
