/* The pool: every table of accel-top's state, changed only by pool_apply().
 *
 * Readers (the screen, the batch printer, the journal) get const views through the accessors
 * below; they never change the pool. The pool does no I/O. */
#ifndef AC_POOL_H
#define AC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "event.h"

typedef enum { BS_LAUNCHING, BS_CONNECTED, BS_LOST, BS_EXITED } browser_state;

const char *browser_state_name(browser_state s);

typedef struct {
	int id;
	char kind[32];        /* family we launched, or what the page said it is */
	char version[64];     /* from `EXE --version` for managed browsers, else the page's */
	bool managed;         /* launched and supervised by us */
	browser_state state;
	int pid;              /* managed only; 0 = n/a */
	int64_t launched_us, connected_us, changed_us; /* 0 = n/a */
	int connects;         /* connections seen; reconnects = connects - 1 */
	char peer[64];        /* the address its WebSocket came from (browser_connected's text); "" = n/a */
	int restarts;         /* times a managed browser was started again under this id */
	int64_t rtt_us;       /* last heartbeat round trip, -1 = n/a */
	int exit_status, exit_signal;
	char reason[256];     /* why lost / exited / failed; "" otherwise */
	ac_caps caps;         /* valid once hello arrived */
	/* supervision (managed browsers) */
	int64_t restart_at_us;  /* a restart is planned for then; 0 = none */
	int restarts_recent;    /* restarts in the minute before the last plan */
	bool held;              /* restarted too often: not restarted again until the operator asks */
	char note[160];         /* the supervisor's last word on it: "restart in 2 s", "held down: ..." */
	int64_t last_work_us;   /* last request sent to it or ended there; 0 = never */
	char audio_frontend[160]; /* --optimize-audio: the GPU log-mel shape in use and its measured gain */
	/* a browser from a Selenium Grid (EV_GRID_*): where it runs; "" while none */
	bool grid;
	char grid_session[64];  /* the WebDriver session id */
	char grid_node[128];    /* the Grid node's URI */
	double grid_create_s;   /* how long the Grid took to create the session; < 0 = n/a */
	/* Resource use (nvtop style: a figure counts only while its flag is set; the screen says
	 * n/a, the JSON null). rss_bytes and nproc: the managed browser's process tree, from
	 * EV_BROWSER_USAGE; cpu_pct: % of one core over the last sampling interval (above 100 with
	 * several cores busy); page_mem_bytes: the page's measureUserAgentSpecificMemory(), from
	 * EV_BROWSER_RTT, where the browser has it. */
	bool rss_valid, cpu_valid, page_mem_valid;
	int nproc;
	int64_t rss_bytes;
	double cpu_pct;
	int64_t page_mem_bytes;
	/* CPU time of the process tree since it started (user + system, reaped children included),
	 * from the same sample as rss_bytes; for /metrics' counter. Not valid from recordings made
	 * before EV_BROWSER_USAGE carried it. */
	bool cpu_seconds_valid;
	double cpu_seconds;
} pool_browser;

/* A model row: one (model, precision, platform) with its queue and measured latency. Filled by the
 * inference work (models loaded in browsers, requests run); empty until a model is launched. */
#define POOL_MODEL_BROWSERS 16
#define POOL_LAT_HISTORY 120   /* latency samples kept for sparklines, newest last */
#define POOL_MAX_SHARDS 4
typedef struct {
	int id;
	char name[64];        /* bert-tiny, ... */
	char type[16];        /* text, vision, audio, multimodal */
	char precision[8];    /* fp32, fp16, int8, int4, q4f16: the variant loaded */
	char platform[8];     /* webgpu, webnn, wasm: requested */
	int n_browsers;
	int browsers[POOL_MODEL_BROWSERS];  /* ids of browsers with this variant loaded */
	int queue, inflight;
	uint64_t completed, errors;
	bool lat_valid;       /* at least one completion */
	double p50_ms, p95_ms, p99_ms, mean_ms, min_ms, max_ms;
	double measured_rps;  /* post-warm-up completions / time from the end of warm-up to the last */
	double rps;           /* completions per second over the last few seconds */
	bool err_valid;       /* verification ran */
	double max_abs_err;   /* largest over the browsers serving it */
	double max_norm_err;  /* max |out - ref| / max |ref|, largest over the browsers */
	bool verify_ok;       /* every verification within the precision's tolerance */
	/* mean split of the latency: waiting (here and in the page), on the wire (sockets and
	 * both ends' message handling outside the page's measured span), the page's own handling
	 * around the run (decoding, tensors, encoding), computing */
	double queue_ms, wire_ms, page_ms, compute_ms;
	/* recent latencies for a sparkline */
	float history[POOL_LAT_HISTORY];
	int history_len;
	bool running;         /* a workload is feeding this row */
	/* the workload */
	char pin[24];         /* browser kind, "auto", or "#ID" */
	int concurrency;      /* requests kept in flight (0 = rate) */
	double target_rps;    /* requests per second (0 = concurrency) */
	int64_t count;        /* requests to run, 0 = until stopped */
	int warmup;           /* first completions excluded from the figures */
	int64_t submitted;    /* requests queued so far */
	int64_t finished;     /* requests that ended (done or failed), warm-up included */
	int64_t started_us;
	bool fallback;        /* some result ran on wasm instead of the requested platform */
	char stop_reason[128];
	char last_error[200];  /* why the latest request failed */
	uint64_t requeued;     /* requests put back after their browser was lost */
	uint64_t discarded;    /* late replies thrown away (the request had been taken back) */
	uint64_t timed_out;    /* requests ended by --request-timeout (counted in errors too) */
	int breakers_open;     /* breakers of this row that are open or half-open */
	char breaker_note[200];/* the latest breaker change: "browser 1 open after 3 errors: ..." */
	/* sharded rows (pin "KIND,KIND"): per shard, means over the stages that ended after warm-up;
	 * transfer = round trip - the page's own span (sockets, framing, both ends' handling) */
	int n_shards;         /* 0 = not sharded (or no stage ended yet) */
	struct {
		uint64_t n;
		int browser;      /* the browser of the latest stage */
		double compute_ms, transfer_ms, total_ms, bytes;
	} shard[POOL_MAX_SHARDS];
} pool_model;

/* A circuit breaker per (browser, model row): after repeated errors the scheduler stops sending
 * there, and probes with one request once the cool-down has passed. */
typedef enum { BRK_CLOSED, BRK_OPEN, BRK_HALF_OPEN } breaker_state;
const char *breaker_state_name(breaker_state s);
int breaker_state_from_name(const char *name); /* negative if unknown */
typedef struct {
	int browser, model;
	breaker_state state;
	int failures;          /* consecutive */
	int64_t probe_at_us;   /* open: when the next probe may go; 0 = n/a */
	int64_t changed_us;
	char reason[160];
} pool_breaker;

typedef enum { SS_LOADING, SS_READY, SS_FAILED, SS_RETIRED } session_state;

/* Request latency per session as a histogram, for /metrics: the upper bounds of its buckets in
 * milliseconds (1 ms to 10 s); a session counts every completed request (warm-up included) in the
 * first bucket whose bound is >= its latency, above the last in lat_counts[POOL_LAT_BUCKETS]. */
#define POOL_LAT_BUCKETS 13
extern const double pool_lat_bounds_ms[POOL_LAT_BUCKETS];

/* An onnxruntime-web session in one browser: a variant of a row's model on one platform. */
typedef struct {
	int browser, session;     /* the key: session numbers are per browser */
	int model;                /* row id */
	bool reference;           /* fp32 on wasm, loaded to verify the row's outputs */
	int shard;                /* sharded rows: which shard (1-based) it runs; 0 = the whole model */
	char precision[8];
	char platform[8];         /* requested */
	char platform_used[8];    /* what the page created the session with */
	char file[64];            /* the .onnx file loaded */
	char io[320];             /* inputs -> outputs as ORT reported them: "input_ids int64 [1,32]; ..." */
	char placement[480];      /* webnn: where ORT put the nodes (loaded's "placement"), ops on its CPU
				   * fallback named; "" when the page sent none (other platforms) */
	session_state state;
	double load_ms;           /* < 0 = n/a */
	int lanes;                /* runtimes in the page that hold it (loaded's "lanes"; 1 if not said) */
	int verifications;        /* outputs compared with the reference: one per lane that ran it */
	char error[256];
	int inflight;
	uint64_t completed, failed;
	double ewma_ms;           /* < 0 = not measured yet */
	bool verified, verify_ok;
	double verify_abs, verify_err, verify_tol;
	char verify_note[96];
	int verify_mismatches;    /* verifications outside the tolerance */
	int verify_failures;      /* verifications that could not run (no reference, an error) */
	/* the latency of its completed requests (queued to result, as the row's p50): not
	 * cumulative per bucket (the last one is above every bound), and their sum */
	uint64_t lat_counts[POOL_LAT_BUCKETS + 1];
	double lat_sum_ms;
} pool_session;

typedef struct {
	int64_t id;
	int model;
	int browser, session;     /* 0 while queued */
	bool inflight;
	bool front;               /* put back after its browser was lost: goes first */
	int stage;                /* sharded rows: shards done (waiting for the next while not in flight) */
	int64_t queued_us, sent_us;
} pool_request;

const char *session_state_name(session_state s);

/* The latest events, for the event log (newest last). */
#define POOL_LOG_MAX 256
typedef struct {
	int64_t t_us;
	ev_kind kind;
	int browser;
	char text[200];   /* a one-line description, made when the event was applied */
} pool_log_entry;

typedef struct pool pool;

/* Called after every applied event (journal, screen refresh). */
typedef void (*pool_listener)(void *ctx, const ac_event *ev);

int pool_new(pool **out);
void pool_free(pool *p);
/* Adds a listener (at most POOL_MAX_LISTENERS), called in the order added. */
#define POOL_MAX_LISTENERS 8
int pool_add_listener(pool *p, pool_listener fn, void *ctx);

/* Applies one event. Returns 0, or a negative code with *err set when the event does not fit the
 * state (unknown browser, malformed hello); the pool is unchanged then.
 *
 * Run to completion: an event is applied, then handed to every listener in the order they were
 * added, before the next event is applied. An event a listener emits (pool_apply from inside a
 * listener, directly or through a scheduler, supervisor or launcher) is not applied there: it is
 * queued, with copies of its strings and data, and returns 0; queued events are applied in the
 * order they were emitted once the current one has reached every listener. So every listener
 * (and the journal, which is one) sees the events in the order they were applied, and the state
 * a listener reads is exactly the state after the event it is given. A queued event that does
 * not fit the state when its turn comes is replaced by an EV_ERROR with the reason (the emitter
 * cannot be told any more). Called from outside a listener, pool_apply applies at once and
 * returns after the queue it led to is empty; so a listener that emits and then reads the state
 * sees the old state: it puts that work off with pool_after(). */
int pool_apply(pool *p, const ac_event *ev, ac_err *err);

/* Runs fn(ctx) once the event being dispatched and every event queued behind it have reached
 * every listener (at once when no event is being dispatched): for a listener's follow-up work
 * that reads the state its own events lead to. What fn emits applies at once. */
void pool_after(pool *p, void (*fn)(void *ctx), void *ctx);

/* A fresh browser id, never used before in this pool. */
int pool_next_id(pool *p);

size_t pool_browser_count(const pool *p);
const pool_browser *pool_browser_at(const pool *p, size_t i);
const pool_browser *pool_browser_find(const pool *p, int id);

/* Bridge address as announced by EV_BRIDGE_LISTENING (the URL never holds the token). */
const char *pool_bridge_url(const pool *p);
int pool_bridge_port(const pool *p);
int64_t pool_started_us(const pool *p);
uint64_t pool_event_count(const pool *p);

size_t pool_model_count(const pool *p);
const pool_model *pool_model_at(const pool *p, size_t i);
const pool_model *pool_model_find(const pool *p, int id);

/* No request of the row is in flight, and every session of it that produced results has its
 * verification (a bench or doctor run over a row is complete then). */
bool pool_model_settled(const pool *p, int model);

/* Completions per second over the last 5 seconds up to now_us. */
double pool_model_rps(const pool *p, int model, int64_t now_us);

size_t pool_session_count(const pool *p);
const pool_session *pool_session_at(const pool *p, size_t i);
const pool_session *pool_session_find(const pool *p, int browser, int session);

size_t pool_request_count(const pool *p);
const pool_request *pool_request_at(const pool *p, size_t i);
const pool_request *pool_request_find(const pool *p, int64_t id);
/* The next request a row should dispatch: put-back ones first, then the oldest (requests of a
 * sharded row between stages are not in it: the scheduler finds those by their stage). */
const pool_request *pool_next_queued(const pool *p, int model);

size_t pool_breaker_count(const pool *p);
const pool_breaker *pool_breaker_at(const pool *p, size_t i);
/* NULL when the pair never had a breaker event (closed). */
const pool_breaker *pool_breaker_find(const pool *p, int browser, int model);

/* Requests over the pool's life, for exactly-once accounting: every submitted request ends once,
 * done or failed; requeued and discarded count events on the way. */
typedef struct {
	uint64_t submitted, done, failed, timed_out, requeued, discarded, pending;
} pool_request_totals;
void pool_request_totals_get(const pool *p, pool_request_totals *out);

size_t pool_log_count(const pool *p);
/* i = 0 is the oldest kept entry. */
const pool_log_entry *pool_log_at(const pool *p, size_t i);
uint64_t pool_error_count(const pool *p);

/* The Selenium Grid (--grid) as last seen by EV_GRID_CAPACITY; seen false before the first. */
typedef struct {
	bool seen, up;
	int slots, used, queued;
	char url[256];
	char message[256];    /* why it cannot be used now (down, full), "" when it can */
	int64_t t_us;
} pool_grid;
const pool_grid *pool_grid_get(const pool *p);

/* True when no managed browser is still on its way: each has said hello, or is lost, exited or
 * failed (a browser lost before its hello counts as settled: it will not say hello by waiting). */
bool pool_settled(const pool *p);

/* Why browser b cannot be forgotten (EV_BROWSER_FORGOTTEN) now, or NULL when it can: it must be
 * attached (an operator opened our URL; not launched by us nor from a Selenium Grid: those are
 * their supervisor's), lost, and have no request in flight there. While it can, its changed_us
 * is when it was lost (nothing else changes a lost attached browser's row). */
const char *pool_unforgettable(const pool *p, const pool_browser *b);

#endif
