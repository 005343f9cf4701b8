/* Browsers from a Selenium Grid: the launcher's second backend. Where the launcher starts a local
 * process (uv_spawn), this asks a Selenium Grid 4 for a W3C WebDriver session (POST /session)
 * whose goog:chromeOptions carry the family's own flags (build_argv) and the --browser-args, then
 * navigates it to the page URL with its token (POST /session/{id}/url). The browser then talks to
 * us over our WebSocket like any other; WebDriver only starts, keeps and stops it:
 *   - keep-alive: a Grid node ends a session that gets no WebDriver command for its
 *     session-timeout (300 s by default), so every session gets a cheap GET /session/{id}/url
 *     every keepalive_s; an answer saying the session is gone (404, "invalid session id") is a
 *     loss. A browser the bridge reports lost is asked about at once.
 *   - capacity: POST /graphql (falling back to GET /status) every poll_s: slots, sessions,
 *     queue, and which node runs each session.
 *   - stop: DELETE /session/{id}; shutdown deletes every session, waiting (bounded) for those
 *     still being created.
 * Every change is an event (EV_GRID_*, event.h); a session's end is the ordinary
 * EV_BROWSER_EXITED / EV_BROWSER_FAILED, so the supervisor and the scheduler treat it like a
 * local browser's (restart with back-off, requests requeued once).
 *
 * Like the launcher it lives on the loop and does no I/O itself: HTTP goes through grid_io
 * (tui/app.c gives it bridge_http(), tests a fake). */
#ifndef AC_GRID_H
#define AC_GRID_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ac.h"
#include "event.h"
#include "family.h"

typedef void (*grid_http_done)(void *ctx, int status, const char *body, size_t len, const char *error);

typedef struct {
	int (*emit)(void *ctx, const ac_event *ev, ac_err *err);
	/* METHOD url with a JSON body (or NULL); done is called once, later, from the loop */
	int (*http)(void *ctx, const char *method, const char *url, const char *body, unsigned timeout_ms,
		    grid_http_done done, void *done_ctx, uint32_t *handle, ac_err *err);
	void (*cancel)(void *ctx, uint32_t handle); /* done is not called then */
	void *ctx;
} grid_io;

typedef struct {
	const char *url;          /* the Grid's base URL, http://HOST:PORT */
	double keepalive_s;       /* well under the node's session-timeout */
	double create_timeout_s;  /* a session not made by then: the Grid is full (or too slow) */
	double poll_s;            /* capacity */
	bool visible;             /* headed (the node's display) */
} grid_config;

typedef struct grid grid;

/* How long quitting waits for the Grid to delete the sessions (and make, then delete, one being
 * made: a session takes up to ~10 s to start on a loaded node). */
#define GRID_QUIT_GRACE_MS 15000

int grid_new(uv_loop_t *loop, const grid_config *cfg, const grid_io *io, grid **out, ac_err *err);
/* --browser-arg for a family (its own name, or the local family it extends: "chromium" applies
 * to chromium@grid too). Strings must outlive the grid. */
int grid_add_arg(grid *g, const char *family, const char *arg);
/* Asks for a session for browser id; EV_GRID_REQUESTED at once. */
int grid_start(grid *g, const browser_family *fam, int id, const char *page_url, ac_err *err);
/* Deletes its session (EV_GRID_DELETED, then EV_BROWSER_EXITED once the Grid answered). */
int grid_stop(grid *g, int id, const char *why, ac_err *err);
/* Deletes the session and asks for a new one under the same id; or asks for one when it has none. */
int grid_restart(grid *g, int id, const char *page_url, ac_err *err);
/* Whether browser id is one of ours with a session made or on its way. */
bool grid_has(const grid *g, int id);
/* Pool listener: a Grid browser the bridge lost is asked about at once. */
void grid_on_event(void *ctx, const ac_event *ev);
/* Deletes every session (those being made once they are), then closes and frees the grid and
 * calls done; after grace_ms whatever is still unanswered is left. */
void grid_shutdown(grid *g, unsigned grace_ms, void (*done)(void *ctx), void *ctx);

/* ---- pure parts (unit-tested) ---- */

/* The new-session request: {"capabilities":{"alwaysMatch":{"browserName":...,
 * "goog:chromeOptions":{"args":[the family's flags, then args]}, "se:name":...}}}. */
cJSON *grid_capabilities(const browser_family *fam, const char *const *args, int n_args, bool visible, int id);

#define GRID_VIEW_MAX 64
typedef struct {
	int slots, used, queued;  /* queued: -1 when the answer does not say (GET /status) */
	bool ready;
	char message[160];
	int n;                    /* sessions seen, with their node */
	struct { char id[64], node[128]; } s[GRID_VIEW_MAX];
} grid_view;
/* POST /graphql's answer to GRID_GRAPHQL_QUERY; GET /status's answer. */
int grid_parse_graphql(const char *body, grid_view *v, ac_err *err);
int grid_parse_status(const char *body, grid_view *v, ac_err *err);
/* The new session's id from POST /session's answer, or the Grid's error message. */
int grid_parse_session(int status, const char *body, char *id, size_t cap, ac_err *err);

#endif
