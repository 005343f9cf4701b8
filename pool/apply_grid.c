/* Browsers from a Selenium Grid: the appliers and log lines of the EV_GRID_* kinds (event.h).
 * A Grid browser is a managed browser whose process lives on a Grid node: its row is made by
 * EV_GRID_REQUESTED (as EV_BROWSER_LAUNCHED makes a local one's), the rest records where it runs
 * and what the Grid has. Its end is the ordinary EV_BROWSER_EXITED / _FAILED (the loss path). */
#include "pool_internal.h"

#include <stdio.h>
#include <string.h>

const pool_grid *pool_grid_get(const pool *p) { return &p->grid; }

static int need_grid_browser(pool *p, const ac_event *ev, pool_browser **out, ac_err *err)
{
	*out = pool_find_browser(p, ev->browser);
	if (!*out || !(*out)->grid)
		return ac_errf(err, AC_EINVAL, "%s for browser %d, which is not from a Selenium Grid",
			       ev_kind_name(ev->kind), ev->browser);
	return 0;
}

int pa_grid_requested(pool *p, const ac_event *ev, ac_err *err)
{
	if (!ev->family || !ev->family[0])
		return ac_errf(err, AC_EINVAL, "grid_requested without a kind");
	ac_event launched = *ev;
	launched.num = 0; /* no process of ours */
	int rc = pa_browser_launched(p, &launched, err);
	if (rc)
		return rc;
	pool_browser *b = pool_find_browser(p, ev->browser);
	b->grid = true;
	b->grid_session[0] = b->grid_node[0] = '\0';
	b->grid_create_s = -1;
	return 0;
}

int pa_grid_created(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_grid_browser(p, ev, &b, err);
	if (rc)
		return rc;
	ac_strlcpy(b->grid_session, ev->name ? ev->name : "", sizeof b->grid_session);
	ac_strlcpy(b->grid_node, ev->text ? ev->text : "", sizeof b->grid_node);
	b->grid_create_s = ev->x[0];
	b->changed_us = ev->t_us;
	return 0;
}

/* Lost and deleted: the session is gone; where it ran stays shown until the next one. */
static int session_gone(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_grid_browser(p, ev, &b, err);
	if (rc)
		return rc;
	b->grid_session[0] = '\0';
	b->changed_us = ev->t_us;
	return 0;
}

int pa_grid_lost(pool *p, const ac_event *ev, ac_err *err) { return session_gone(p, ev, err); }
int pa_grid_deleted(pool *p, const ac_event *ev, ac_err *err) { return session_gone(p, ev, err); }

int pa_grid_capacity(pool *p, const ac_event *ev, ac_err *err)
{
	(void)err;
	pool_grid *g = &p->grid;
	g->seen = true;
	g->up = ev->num >= 0;
	g->slots = g->up ? (int)ev->num : 0;
	g->used = g->up ? (int)ev->num2 : 0;
	g->queued = g->up ? (int)ev->x[0] : 0;
	ac_strlcpy(g->url, ev->name ? ev->name : "", sizeof g->url);
	ac_strlcpy(g->message, ev->text ? ev->text : "", sizeof g->message);
	g->t_us = ev->t_us;
	return 0;
}

bool pl_grid_requested(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s: session asked of the Selenium Grid at %s", pool_kind_of(p, ev->browser, "?"),
		 ev->text ? ev->text : "?");
	return true;
}

bool pl_grid_created(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "grid session %.12s on node %s (%.1f s)", ev->name ? ev->name : "?",
		 ev->text ? ev->text : "?", ev->x[0]);
	return true;
}

bool pl_grid_lost(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "grid session %.12s lost: %s", ev->name && ev->name[0] ? ev->name : "(none)",
		 ev->text ? ev->text : "?");
	return true;
}

bool pl_grid_deleted(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "grid session %.12s deleted: %s", ev->name ? ev->name : "?", ev->text ? ev->text : "?");
	return true;
}

bool pl_grid_capacity(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	if (ev->num < 0 || (ev->text && ev->text[0]))
		snprintf(text, cap, "%s", ev->text && ev->text[0] ? ev->text : "Selenium Grid unreachable");
	else
		snprintf(text, cap, "Selenium Grid: %lld slots, %lld used, %.0f queued", (long long)ev->num,
			 (long long)ev->num2, ev->x[0]);
	return true;
}
