/* The actions: what keys, commands and scripts ask of a live accel-top (app.h). Each checks that
 * it can act (not in replay, not shutting down), then asks the supervisor, the launcher, the
 * bridge or the scheduler, which change the pool only through events. */
#include "app.h"

#include <signal.h>
#include <string.h>

/* Whether an action on live browsers can run now; if not, why, in *err. */
static bool can_act(const app *a, bool needs_sched, ac_err *err)
{
	if (a->replay) {
		ac_errf(err, AC_EINVAL, "not available in replay");
		return false;
	}
	if (needs_sched && (!a->sch || a->quitting)) {
		ac_errf(err, AC_EINVAL, "accel-top is shutting down");
		return false;
	}
	return true;
}

static const pool_browser *live_browser(app *a, int id, ac_err *err)
{
	const pool_browser *b = pool_browser_find(a->pool, id);
	if (!b) {
		ac_errf(err, AC_ENOENT, "browser %d does not exist", id);
		return NULL;
	}
	return b;
}

int app_reconnect_browser(app *a, int id, ac_err *err)
{
	if (!can_act(a, false, err))
		return err->code;
	const pool_browser *b = live_browser(a, id, err);
	if (!b)
		return err->code;
	if (b->managed) { /* ours: start it again, same id; its work comes back to it */
		if (!a->sup || a->quitting)
			return ac_errf(err, AC_EINVAL, "accel-top is shutting down");
		return sup_restart_now(a->sup, id, err);
	}
	if (!bridge_is_connected(a->br, id))
		return ac_errf(err, AC_ENOENT, "browser %d (%s) is %s: nothing to reconnect", id, b->kind,
			       browser_state_name(b->state));
	return bridge_reconnect(a->br, id) ? ac_errf(err, AC_EIO, "browser %d: could not send reconnect", id) : 0;
}

int app_stop_browser(app *a, int id, ac_err *err)
{
	if (!can_act(a, false, err))
		return err->code;
	const pool_browser *b = live_browser(a, id, err);
	if (!b)
		return err->code;
	if (!b->managed)
		return ac_errf(err, AC_EINVAL, "browser %d was attached by someone else: close it there", id);
	if (a->sup)
		sup_forget(a->sup, id); /* stopped on purpose: not restarted */
	return app_stop_managed(a, id, err);
}

int app_start_browser(app *a, const char *family, ac_err *err)
{
	if (!can_act(a, false, err))
		return err->code;
	const browser_family *f = family_find(family);
	if (!f)
		return ac_errf(err, AC_EINVAL, "unknown browser '%s' (known: %s)", family, family_known());
	if (!a->ln)
		return ac_errf(err, AC_EINVAL, "accel-top is shutting down");
	return app_start_managed(a, f, pool_next_id(a->pool), err);
}

int app_launch_model(app *a, const launch_form *f, int *model_id, ac_err *err)
{
	if (!can_act(a, true, err))
		return err->code;
	const cat_model *m = catalog_find(a->cat, f->model);
	if (m && !strcmp(m->type, "audio") && !a->have_clip)
		return ac_errf(err, AC_ENOENT, "%s needs audio input: %s", m->name, a->audio_error);
	launch_form g = *f;
	if (!g.shard[0] && strchr(g.browser, ',')) { /* KIND,KIND (--run, serve): the shards, one per browser */
		ac_strlcpy(g.shard, g.browser, sizeof g.shard);
		ac_strlcpy(g.browser, "auto", sizeof g.browser);
	}
	return sched_start(a->sch, &g, model_id, err);
}

int app_stop_model(app *a, int model_id, ac_err *err)
{
	if (!can_act(a, true, err))
		return err->code;
	return sched_stop(a->sch, model_id, "stopped by the operator", err);
}

int app_change_precision(app *a, int model_id, int direction, ac_err *err)
{
	if (!can_act(a, true, err))
		return err->code;
	return sched_change_precision(a->sch, model_id, direction, err);
}

