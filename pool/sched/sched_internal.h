/* The scheduler's own header, shared by the files of pool/sched/ and by nothing else (the public
 * interface is pool/sched.h). One struct sched holds the scheduler's tables; each file does one
 * job over it:
 *   core.c       new/close/free, emitting events, finding rows/sessions/references, browsers
 *                coming and going, the tick
 *   placement.c  where sessions load (pins, preference, platform verdicts) and which session a
 *                request goes to (window, measured latency, breaker)
 *   breaker.c    the circuit breaker per (browser, row)
 *   verify.c     the fp32-on-wasm reference per (browser, model) and the comparison of outputs
 *   shards.c     sharded requests between stages
 *   workloads.c  rows: start/stop, rate and duration timers, filling, dispatch, request timeouts
 *   wire.c       what goes to the browsers (load/run/unload), what is pending, late replies, and
 *                what the replies do
 *   submit.c     requests brought by sched_submit() with inputs of their own
 * Functions shared between the files carry the sch_ prefix; the rest are static.
 *
 * Tables that look like the pool's, and why they stay:
 *   breaker  pool_breaker shows the state, failures at the last change and the reason; this one
 *            also holds what the pool does not: the consecutive-failure count between changes, the
 *            cool-down (doubling), the probe deadline in loop time and whether the probe is out.
 *            Its `state` copies the pool's and could be read from pool_breaker_find() instead.
 *   sess_x   pool_session has row, shard, reference and precision (as text); this one adds what
 *            the pool does not hold: fallback, verify_sent, retiring, unload_sent, the first output
 *            (out0) and the lanes compared. Its row/shard/reference/prec copies are the keys every
 *            loop here filters on, and they exist from the moment the load is sent (the pool's
 *            session only once EV_SESSION_LOADING is applied).
 *
 * Run to completion (pool.h): an event the scheduler emits from inside a pool listener
 * (sched_on_event) is applied only after the current event has reached every listener. Work that
 * reads the effect of its own events (place() then has_live_session(); dispatch()'s loop over
 * pool_next_queued() after EV_REQUEST_SENT) is therefore put off with pool_after() when it starts
 * from a listener: core.c place_all/dispatch_all, workloads.c start_work, submit.c
 * dispatch_later. Outside a listener (replies, timers, actions) events apply at once. */
#ifndef AC_SCHED_INTERNAL_H
#define AC_SCHED_INTERNAL_H

#include "../sched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_CAP 10000 /* a rate workload faster than its browsers stops growing here */

typedef struct work {
	struct work *next;
	sched *s;
	int row;
	const cat_model *m;
	ac_precision prec;
	char platform[8];
	char pin[24];
	int concurrency;
	double rps, rate_credit;
	int64_t count;
	double duration_s;
	bool running;
	uv_timer_t rate_timer, end_timer;
	int open_timers;
	ac_tensor inputs[CAT_MAX_IO];
	unsigned char *frames[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int n_in;
	/* sharded: shard k (1-based) runs on a browser matching shard_pin[k - 1]; in_index[k - 1][i]
	 * is the model input that shard input i is (-1: the previous shard's output) */
	int n_shards;
	char shard_pin[CAT_MAX_SHARDS][24];
	int in_index[CAT_MAX_SHARDS][CAT_MAX_IO];
	/* --text / --image: what the page makes of them (every run of the row, the reference's too, so
	 * that verification compares like with like), and the image file as the frame that stands in
	 * the image input's place */
	bool has_prep;
	proto_prepare prep, tmpl;   /* tmpl: every token and image input, for per-request text/image */
	char tok_url[600];
	unsigned char *image_frame;
	size_t image_frame_len;
} work;

typedef enum { PK_LOAD, PK_RUN, PK_UNLOAD, PK_REFRUN } pend_kind;

typedef struct {
	int browser;
	uint32_t id;
	pend_kind kind;
	int row, session;
	int64_t request;
	uint64_t sent_ns;
	bool want_outputs;
	bool custom;          /* a submitted request with inputs of its own: not used for verification */
	int stage;            /* sharded rows: the shard this run is (1-based); 0 = the whole model */
} pending;

/* A run taken back from a browser (lost, reconnected, timed out): a reply that still comes for it
 * is late, and is discarded and counted, never delivered. */
typedef struct {
	int browser, row, session;
	uint32_t id;
	int64_t request;
	char why[64];
} ghost;
#define GHOST_MAX 1024

/* A request submitted through sched_submit(): its own inputs (or the row's), whether its outputs
 * go back to the submitter. Kept until the request ends, since a put-back request is sent again. */
typedef struct {
	int64_t request;
	int row;
	unsigned char *frames[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int n;                /* 0 = the row's inputs */
	bool want_outputs;
	/* sched_submit_prepared(): its own text / image, made into inputs by the page (not verified) */
	bool has_prep;
	proto_prepare prep;
	char *text;
	unsigned char *image_frame;
	size_t image_frame_len;
} submitted;

/* A sharded request between stages, or in a later stage: what the earlier stages returned (the
 * next stage's "previous" inputs, framed) and their figures, summed for EV_REQUEST_DONE. */
typedef struct {
	int64_t request;
	int stage;            /* shards done */
	int n;
	unsigned char *frames[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	char names[CAT_MAX_IO][64];
	double rtt_ms, compute_ms, queue_ms, page_ms;
} staged;

/* Circuit breaker per (browser, row); the pool holds the state shown, this the timing. */
#define BRK_THRESHOLD 3        /* consecutive errors that open it */
#define BRK_COOLDOWN_S 5.0     /* first wait before a probe; doubles on a failed probe */
#define BRK_COOLDOWN_MAX_S 60.0
typedef struct {
	int browser, row;
	breaker_state state;
	int fails;
	double cooldown_s;
	uint64_t probe_at_ms;  /* loop time */
	bool probing;          /* half-open: the one probe request is out */
	char last_error[120];
} breaker;

/* What the scheduler keeps about a session beyond the pool's view. */
typedef struct {
	int browser, session, row;
	int shard;            /* 1-based shard of a sharded row; 0 = the whole model */
	char model[64];
	ac_precision prec;
	bool reference, fallback, verify_sent, retiring, unload_sent;
	bool have_out, verified;
	ac_tensor out0;
	uint32_t lanes_done;  /* lanes (page runtimes, see ort-lanes.js) whose output was compared */
	/* where this session and its browser last were in the pool's tables (sch_pick checks and
	 * looks them up again when they are not there: 0 when new) */
	size_t ps_pos, b_pos;
} sess_x;

typedef enum { REF_NONE, REF_LOADING, REF_RUNNING, REF_DONE, REF_FAILED } ref_state;

typedef struct {
	int browser;
	char model[64];
	ref_state state;
	int session;
	ac_tensor out0;
	char error[200];
} refout;

struct sched {
	uv_loop_t *loop;
	pool *p;
	const catalog *cat;
	sched_config cfg;
	sched_io io;
	work *works;
	pending *pend;
	size_t n_pend, cap_pend;
	sess_x *sx;
	size_t n_sx, cap_sx;
	refout *refs;
	size_t n_refs, cap_refs;
	int next_row, next_session;
	int64_t next_request;
	bool closing;
	ghost ghosts[GHOST_MAX];   /* ring */
	size_t ghost_head, n_ghosts;
	submitted *subs;
	size_t n_subs, cap_subs;
	breaker *brks;
	size_t n_brks, cap_brks;
	staged *stg;
	size_t n_stg, cap_stg;
	uv_timer_t tick;           /* request timeouts, breaker probes */
};

/* core.c */
void sch_emit(sched *s, ac_event *ev);
void sch_emit_error(sched *s, int browser, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
work *sch_work_find(sched *s, int row);
sess_x *sch_sx_find(sched *s, int browser, int session);
refout *sch_ref_find(sched *s, int browser, const char *model, bool create);
int sch_plat_index(const char *name);
bool sch_browser_ready(const pool_browser *b);
unsigned char *sch_frame_tensor(const char *name, uint8_t dtype, int rank, const uint64_t *dims, const void *data,
				   size_t bytes, size_t *len);
void sch_work_free(work *w);

/* placement.c */
bool sch_pin_matches(const work *w, const pool_browser *b);
void sch_place(sched *s, work *w);
sess_x *sch_pick(sched *s, work *w, int stage);

/* breaker.c */
bool sch_brk_allows(sched *s, int browser, int row);
void sch_brk_sent(sched *s, int browser, int row);
void sch_brk_result(sched *s, int browser, int row, bool ok, const char *why);
void sch_brk_reset(sched *s, int browser, const char *why);
void sch_brk_tick(sched *s);

/* verify.c */
bool sch_lanes_left(sched *s, const sess_x *x);
void sch_verify_waiting(sched *s, int browser, const char *model_name);
void sch_keep_output(ac_tensor *t, const proto_frame *f);
void sch_verify_output(sched *s, sess_x *x, const proto_frame *f, int lane);

/* shards.c */
staged *sch_stg_find(sched *s, int64_t request);
void sch_stg_drop(sched *s, int64_t request);
const pool_request *sch_next_staged(sched *s, work *w, int *stage);
bool sch_stage_done(sched *s, work *w, const pending *pd, ac_event *done, const proto_frame *frames, int n);

/* workloads.c */
void sch_dispatch(sched *s, work *w);
void sch_enqueue(sched *s, work *w);
void sch_fill(sched *s, work *w);
void sch_retire_idle(sched *s, work *w);
void sch_check_finished(sched *s, work *w);
void sch_check_servable(sched *s, work *w, const char *why);
void sch_expire_requests(sched *s);
int sch_build_inputs(sched *s, work *w, ac_err *err);

/* wire.c */
void sch_with_prepare(const work *w, sched_run *r, const void **fr, size_t *lens);
/* workloads.c */
int sch_prep_check(const work *w, bool text, bool image, const char *tname, const char *iname, ac_err *err);
void sch_ghost_add(sched *s, const pending *pd, const char *why);
int sch_load_shard(sched *s, work *w, int browser, ac_precision prec, const char *platform, bool reference,
		      bool fallback, int shard);
int sch_load(sched *s, work *w, int browser, ac_precision prec, const char *platform, bool reference, bool fallback);
void sch_unload(sched *s, sess_x *x);
int sch_send_stage(sched *s, work *w, sess_x *x, int64_t req, int stage, bool *verified_out);

/* submit.c */
submitted *sch_sub_find(sched *s, int64_t request);
void sch_sub_drop(sched *s, int64_t request);

#endif
