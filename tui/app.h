/* One accel-top process: loop, pool, bridge, launcher, signals. Front ends (batch, screen,
 * benchmarks) start an app, read its pool, and call app_quit(). */
#ifndef AC_APP_H
#define AC_APP_H

#include <uv.h>

#include "../bridge/bridge.h"
#include "../bridge/tls.h"
#include "../pool/catalog.h"
#include "../pool/launcher.h"
#include "../pool/pool.h"
#include "../pool/sched.h"
#include "../pool/supervisor.h"
#include "options.h"

struct journal_writer;
struct tuner_io;
struct replay;
struct usage_sampler;

typedef struct app {
	uv_loop_t *loop;
	const options *opt;
	pool *pool;
	bridge *br;
	launcher *ln;
	catalog *cat;
	sched *sch;
	supervisor *sup;
	struct grid *grid;         /* --grid: browsers from a Selenium Grid (pool/grid.h) */
	struct optaudio *oa;       /* --optimize-audio (tui/optaudio.h) */
	audio_clip clip;
	bool have_clip;
	char audio_error[300];
	unsigned char *image;     /* --image: the file's bytes, decoded in the page */
	size_t image_len;
	uv_signal_t sig_int, sig_term, sig_hup;
	uv_timer_t tick, settle;   /* for the front end's use */
	uv_timer_t runs_timer;     /* starts the --run workloads once the browsers are up */
	uv_timer_t forget_timer;   /* --forget-lost: the next lost attached browser to forget (app_forget.c) */
	bool runs_started;
	char token[160];
	/* TLS (--tls-cert/--tls-key, --tls self-signed): the certificate served, and what the front
	 * ends print about it; or, without TLS, why browsers elsewhere get no secure context */
	bool tls_on;
	tls_info tls;
	char tls_line[2][1400];     /* what is served (fingerprint), and how a Chromium elsewhere trusts it */
	char insecure[400];        /* "" or the warning with the fix (tls_insecure_remote()) */
	char insecure_short[400];  /* the same in fewer words, for the screen's status line */
	char spki_flag[96];        /* --ignore-certificate-errors-spki-list=..., for managed Chromiums */
	char ff_override[512];     /* cert_override.txt for managed Firefoxes */
	char data_dir[4096], www_dir[4200], ort_dir[4300], tok_dir[4300];
	bool quitting;
	int exit_code;
	/* --record: every applied event goes to the journal, flushed every second */
	struct journal_writer *rec;
	uv_timer_t rec_timer;
	/* --replay: no bridge, launcher or scheduler; the replay driver feeds the pool */
	bool replay;
	struct replay *rp;
	/* live: RSS and CPU of each managed browser's processes, sampled from /proc (tui/usage.h) */
	struct usage_sampler *usage;
	/* set by the front end before app_start() */
	void (*on_reply)(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes);
	void (*on_stopped)(struct app *a);
	/* results of sched_submit() requests (serve --stdio), with a->user as ctx */
	void (*on_done)(void *ctx, int row, int64_t request, int browser, int session, const proto_frame *frames, int n);
	void *user;
} app;

int app_start(app *a, uv_loop_t *loop, const options *o, ac_err *err);
/* Starts a managed browser of family f under id: launched here, or asked of the Selenium Grid
 * for a family that runs there (f->webdriver_name). */
int app_start_managed(app *a, const browser_family *f, int id, ac_err *err);
/* Stops a managed browser: SIGTERM here, DELETE of its session on the Grid. */
int app_stop_managed(app *a, int id, ac_err *err);
/* --grid: the Selenium Grid backend on the loop, listening to the pool (tui/app_grid.c). */
int app_start_grid(app *a, ac_err *err);
/* --forget-lost: attached browsers lost that long are forgotten (tui/app_forget.c); the timer's
 * handle is closed by app_forget_close(). */
int app_start_forget(app *a, ac_err *err);
void app_forget_close(app *a);
/* --replay: a fresh pool fed by the recording o->replay on a virtual clock (playing from its start
 * when play is true). Actions on live browsers answer "not available in replay". */
int app_start_replay(app *a, uv_loop_t *loop, const options *o, bool play, ac_err *err);
/* The time the front ends show: the virtual clock in replay, ac_now_us() live. */
int64_t app_now_us(const app *a);
int app_launch_browsers(app *a, ac_err *err);

/* ---- Actions: what keys, commands and scripts ask of the pool. Each returns 0, or a negative
 * code with a one-line message in *err saying what is wrong and what to do. ---- */

/* An attached browser is told to drop and re-open its socket (its page reconnects with the same
 * id); a managed one is restarted with the same id. Either way its models are loaded again and
 * its requests in flight go back to the front of their queues. */
int app_reconnect_browser(app *a, int browser, ac_err *err);
/* Stops a managed browser (SIGTERM to its process group). */
int app_stop_browser(app *a, int browser, ac_err *err);
/* Launches one more managed browser of this family (chromium, chrome, edge, firefox). */
int app_start_browser(app *a, const char *family, ac_err *err);

/* What the launch form, the bench and scripts ask for: see pool/sched.h. */
typedef workload_spec launch_form;

/* "MODEL[:PRECISION[:PLATFORM[:BROWSER[:CONCURRENCY]]]]" (defaults fp32, wasm, auto, 1); BROWSER may be
 * KIND,KIND: the model's shards, one per browser (app_launch_model() reads it so). */
int app_parse_run(const char *spec, launch_form *f, ac_err *err);

/* Loads the model where needed and starts a workload; *model_id names its row. */
int app_launch_model(app *a, const launch_form *f, int *model_id, ac_err *err);
int app_stop_model(app *a, int model_id, ac_err *err);
/* Switches a model row to the next (+1) or previous (-1) available precision. */
int app_change_precision(app *a, int model_id, int direction, ac_err *err);
/* Models the launch form offers (catalog names), NULL past the end. */
const char *app_model_name(app *a, size_t i);

/* A request of the front end's own (e.g. logmel for `tune`): msg gets its id; the reply comes
 * to cb(cb_ctx, ...). AC_ENOENT when the browser has no open connection (or in replay). */
int app_request(app *a, int browser, cJSON *msg, const bridge_blob *frames, int n, bridge_reply_fn cb, void *cb_ctx,
		uint32_t *id);
/* The tuner's hands (tui/tuner.h) on this app: its loop, app_request(), whether it is quitting. */
void app_tuner_io(app *a, struct tuner_io *io);

/* Stops browsers (SIGTERM, then SIGKILL), removes profiles, stops the bridge and closes the
 * app's handles; uv_run() returns once all is closed. */
void app_quit(app *a, int code);

/* After uv_run() returned. */
void app_free(app *a);

/* tui/app_tls.c, called by app_start(): the certificate of --tls-cert/--tls-key or --tls
 * self-signed into a->tls (or a->insecure set when browsers elsewhere get no secure context),
 * before anything starts; and, once the bridge and the launcher exist, the spki flag for managed
 * Chromiums and the certificate override for managed Firefoxes. */
int app_prepare_tls(app *a, const options *o, ac_err *err);
void app_trust_for_managed(app *a);

#endif
