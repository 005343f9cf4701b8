/* The Selenium Grid's wiring (pool/grid.h): managed browsers that run there or here, and the
 * grid's hands (HTTP on the bridge's lws context, events into the pool). */
#include "app.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../bridge/http_client.h"
#include "../pool/grid.h"

static int emit_event(void *ctx, const ac_event *ev, ac_err *err)
{
	app *a = ctx;
	return pool_apply(a->pool, ev, err);
}

/* ---- managed browsers: launched here, or from the Selenium Grid ---- */

int app_start_managed(app *a, const browser_family *f, int id, ac_err *err)
{
	if (!a->ln || a->quitting)
		return ac_errf(err, AC_EINVAL, "accel-top is shutting down");
	if (!f->webdriver_name)
		return launcher_start(a->ln, f, id, bridge_page_url(a->br), a->opt->visible, err);
	if (!a->grid)
		return ac_errf(err, AC_EINVAL, "%s: %s", f->name, f->install_hint);
	return grid_start(a->grid, f, id, bridge_page_url(a->br), err);
}

int app_stop_managed(app *a, int id, ac_err *err)
{
	if (a->grid && grid_has(a->grid, id))
		return grid_stop(a->grid, id, "stopped", err);
	if (!a->ln || launcher_signal(a->ln, id, SIGTERM) != 0)
		return ac_errf(err, AC_ENOENT, "browser %d is not running", id);
	return 0;
}

/* ---- the Selenium Grid's hands: HTTP on the bridge's lws context ---- */

static int grid_http(void *ctx, const char *method, const char *url, const char *body, unsigned timeout_ms,
		     grid_http_done done, void *done_ctx, uint32_t *handle, ac_err *err)
{
	app *a = ctx;
	return bridge_http(a->br, method, url, body, timeout_ms, done, done_ctx, handle, err);
}

static void grid_cancel(void *ctx, uint32_t handle)
{
	app *a = ctx;
	bridge_http_cancel(a->br, handle);
}

int app_start_grid(app *a, ac_err *err)
{
	const options *o = a->opt;
	grid_config gc = { .url = o->grid, .keepalive_s = o->grid_keepalive_s, .create_timeout_s = o->grid_timeout_s,
			   .poll_s = 2, .visible = o->visible };
	grid_io io = { .emit = emit_event, .http = grid_http, .cancel = grid_cancel, .ctx = a };
	int rc = grid_new(a->loop, &gc, &io, &a->grid, err);
	if (rc)
		return rc;
	for (int i = 0; i < o->n_browser_args; i++)
		grid_add_arg(a->grid, o->browser_args[i].family, o->browser_args[i].arg);
	pool_add_listener(a->pool, grid_on_event, a->grid);
	/* a node on another machine cannot open a loopback URL: say so before anything is asked */
	const char *page = bridge_public_url(a->br);
	bool grid_local = strstr(o->grid, "://127.") || strstr(o->grid, "://localhost") || strstr(o->grid, "://[::1]");
	if (!grid_local && (strstr(page, "://127.") || strstr(page, "://localhost"))) {
		char msg[600];
		snprintf(msg, sizeof msg, "--grid %.200s is not on this machine, but the page URL %.200s is loopback: its "
			 "nodes cannot open it; give --listen 0.0.0.0 and --public-url http://THIS-HOST:PORT/", o->grid, page);
		ac_event ev = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = msg };
		pool_apply(a->pool, &ev, err);
	}
	return 0;
}

