/* One accel-top process: loop, pool, bridge, launcher, signals. Front ends (batch, screen,
 * benchmarks) start an app, read its pool, and call app_quit(). */
#ifndef AC_APP_H
#define AC_APP_H

#include <uv.h>

#include "../bridge/bridge.h"
#include "../pool/launcher.h"
#include "../pool/pool.h"
#include "options.h"

typedef struct app {
	uv_loop_t *loop;
	const options *opt;
	pool *pool;
	bridge *br;
	launcher *ln;
	uv_signal_t sig_int, sig_term, sig_hup;
	uv_timer_t tick, settle;   /* for the front end's use */
	char token[160];
	char data_dir[4096], www_dir[4200], ort_dir[4300];
	bool quitting;
	int exit_code;
	/* set by the front end before app_start() */
	void (*on_reply)(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes);
	void (*on_stopped)(struct app *a);
	void *user;
} app;

int app_start(app *a, uv_loop_t *loop, const options *o, ac_err *err);
int app_launch_browsers(app *a, ac_err *err);

/* Stops browsers (SIGTERM, then SIGKILL), removes profiles, stops the bridge and closes the
 * app's handles; uv_run() returns once all is closed. */
void app_quit(app *a, int code);

/* After uv_run() returned. */
void app_free(app *a);

#endif
