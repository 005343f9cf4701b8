/* The supervisor: keeps the managed browsers the operator asked for alive, and scales them.
 *
 * Restarts: a managed browser that exits on its own, or is lost (silent past the heartbeat
 * timeout, or its page gone) and does not come back, is started again under the same id after
 * an exponential back-off (base, 2 x base, ... capped). A browser restarted max_restarts times
 * within a minute is held down, and the operator is told (the r key restarts it).
 *
 * Scaling: with limits per kind (min..max), a model row whose queue waits longer than
 * scale_wait_s, or holds more than scale_depth requests, for scale_sustain_s gets one more
 * browser of the kind that suits it (pin first, then the kind's preference for the model type),
 * up to max (and for a kind from a Selenium Grid, only while the Grid has a free slot); a browser
 * above min idle for idle_timeout_s is stopped. Every decision is an event
 * with its reason (EV_BROWSER_RESTARTING, EV_BROWSER_HELD, EV_SCALED).
 *
 * Like the scheduler, it only runs live; replay shows its events without it. */
#ifndef AC_SUPERVISOR_H
#define AC_SUPERVISOR_H

#include <stdbool.h>
#include <uv.h>

#include "pool.h"

#define SUP_MAX_KINDS 16

typedef struct {
	char family[16];
	int min, max;
} sup_limit;

typedef struct {
	sup_limit limits[SUP_MAX_KINDS];
	int n_limits;             /* 0 = no scaling */
	double idle_timeout_s;
	double scale_wait_s;
	int scale_depth;
	double scale_sustain_s;
	double backoff_base_s, backoff_max_s;
	int max_restarts;         /* per minute, per browser; 0 = never restart */
	double lost_grace_s;      /* a lost browser gets this long to reconnect before the back-off starts */
} sup_config;

typedef struct {
	int (*emit)(void *ctx, const ac_event *ev, ac_err *err);
	/* start a new managed browser of this family with this id */
	int (*launch)(void *ctx, const char *family, int id, ac_err *err);
	/* kill (SIGKILL) and start again with the same id; or start it when it is not running */
	int (*restart)(void *ctx, int browser, ac_err *err);
	/* stop for good (SIGTERM) */
	int (*stop)(void *ctx, int browser, ac_err *err);
	void *ctx;
} sup_io;

typedef struct supervisor supervisor;

int sup_new(uv_loop_t *loop, pool *p, const sup_config *cfg, const sup_io *io, supervisor **out);
/* Pool listener. */
void sup_on_event(void *ctx, const ac_event *ev);
/* The operator restarts a browser (r): a held one is released, and the restart is not counted
 * against it. */
int sup_restart_now(supervisor *s, int browser, ac_err *err);
/* The operator stopped a browser: it is not restarted. */
void sup_forget(supervisor *s, int browser);
/* Stops reacting (shutdown) and closes its timer. */
void sup_close(supervisor *s);
/* After the loop has ended (the pool may call the listener until then). */
void sup_free(supervisor *s);

#endif
