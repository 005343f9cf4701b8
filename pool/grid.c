/* The Selenium Grid backend (grid.h): sessions asked for, kept alive, lost, deleted; the Grid's
 * capacity polled. One gsess per Grid browser; every HTTP call carries a gcall naming its purpose
 * and browser id, so an answer that comes after its session went is recognised (and a session
 * made for nobody is deleted at once).
 *
 * About 640 lines: one state machine (a session's life, its calls, the capacity that decides
 * "full", the bounded shutdown) over the same two tables; split, each part would need the others'
 * internals. Its pure parts (the messages) are in grid_parse.c. */
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX_ARGS 16
#define CALL_TIMEOUT_MS 20000    /* navigation, keep-alive, delete, capacity */
#define LATE_SESSION_MS 330000   /* the Grid's own queue timeout (300 s) and some: a POST we gave up on */

typedef enum { GS_REQUESTING, GS_NAVIGATING, GS_RUNNING, GS_DELETING } gs_state;
typedef enum { GC_CREATE, GC_NAVIGATE, GC_ALIVE, GC_DELETE, GC_POLL, GC_STATUS } gc_kind;

typedef struct gsess {
	struct gsess *next;
	int id;
	const browser_family *fam;
	gs_state state;
	char session[64];
	char page_url[1024];
	int64_t requested_us;
	double create_s;       /* POST /session's time */
	bool node_told;        /* EV_GRID_CREATED emitted */
	bool restart;          /* start again once deleted */
	uint64_t create_deadline_ms;
	uint64_t alive_at_ms;  /* the next keep-alive */
	int probes_left;       /* after a loss, asked again every second while the Grid is unsure */
	struct gcall *create;  /* the POST /session in flight */
} gsess;

typedef struct gcall {
	struct gcall *next;
	struct grid *g;
	gc_kind kind;
	int id;                /* browser */
	char session[64];
	uint32_t handle;
	bool abandoned;        /* a POST /session we stopped waiting for: delete what it makes */
} gcall;

struct grid {
	uv_loop_t *loop;
	grid_config cfg;
	char url[256];
	grid_io io;
	gsess *sessions;
	gcall *calls;
	struct { const char *family, *arg; } extra[GRID_MAX_ARGS];
	int n_extra;
	uv_timer_t poll, keep, grace;
	int open_handles;
	bool polling, shutting_down;
	grid_view last;        /* the latest capacity seen */
	bool last_valid, last_down;
	char last_msg[256];
	void (*done)(void *);
	void *done_ctx;
};

static void emit(grid *g, ac_event *ev)
{
	ac_err err;
	ev->t_us = ac_now_us();
	g->io.emit(g->io.ctx, ev, &err);
}

static void emit_browser(grid *g, ev_kind kind, int id, const char *name, const char *text, const char *family)
{
	ac_event ev = { .kind = kind, .browser = id, .name = name, .text = text, .family = family };
	emit(g, &ev);
}

static gsess *find(const grid *g, int id)
{
	for (gsess *s = g->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void drop(grid *g, gsess *s)
{
	for (gsess **pp = &g->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}

static void maybe_finish(grid *g);
static void on_answer(void *ctx, int status, const char *body, size_t len, const char *error);

/* ---- calls ---- */

static gcall *call(grid *g, gc_kind kind, int id, const char *session, const char *method, const char *path,
		   const char *body, unsigned timeout_ms)
{
	gcall *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->g = g;
	c->kind = kind;
	c->id = id;
	ac_strlcpy(c->session, session ? session : "", sizeof c->session);
	char url[1400];
	snprintf(url, sizeof url, "%s%s", g->url, path);
	ac_err err;
	c->next = g->calls;
	g->calls = c;
	if (g->io.http(g->io.ctx, method, url, body, timeout_ms, on_answer, c, &c->handle, &err)) {
		g->calls = c->next;
		free(c);
		return NULL;
	}
	return c;
}

static void call_free(grid *g, gcall *c)
{
	for (gcall **pp = &g->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void call_session(grid *g, gc_kind kind, gsess *s, const char *method, const char *suffix, const char *body)
{
	char path[160];
	snprintf(path, sizeof path, "/session/%s%s", s->session, suffix);
	call(g, kind, s->id, s->session, method, path, body, CALL_TIMEOUT_MS);
}

/* ---- capacity ---- */

static const char graphql_query[] =
	"{\"query\":\"{ grid { totalSlots sessionCount sessionQueueSize } "
	"nodesInfo { nodes { uri status sessions { id } } } }\"}";

static void poll_now(grid *g)
{
	if (g->polling || g->shutting_down)
		return;
	g->polling = call(g, GC_POLL, 0, NULL, "POST", "/graphql", graphql_query, CALL_TIMEOUT_MS) != NULL;
}

static void on_poll_timer(uv_timer_t *t) { poll_now(t->data); }

/* EV_GRID_CAPACITY when what the operator sees would change. */
static void capacity(grid *g, const grid_view *v, const char *down)
{
	char msg[256] = "";
	if (down)
		snprintf(msg, sizeof msg, "%.250s", down);
	else if (!v->ready)
		snprintf(msg, sizeof msg, "Selenium Grid at %.100s not ready: %.120s", g->url, v->message);
	else if (v->used >= v->slots && v->queued > 0)
		snprintf(msg, sizeof msg, "Selenium Grid at %.100s is full: %d of %d slots used, %d queued", g->url,
			 v->used, v->slots, v->queued);
	bool same = g->last_valid && !strcmp(msg, g->last_msg) && (down != NULL) == g->last_down &&
		    (down || (v->slots == g->last.slots && v->used == g->last.used && v->queued == g->last.queued));
	if (!down)
		g->last = *v;
	g->last_valid = true;
	g->last_down = down != NULL;
	ac_strlcpy(g->last_msg, msg, sizeof g->last_msg);
	if (same)
		return;
	ac_event ev = { .kind = EV_GRID_CAPACITY, .num = down ? -1 : v->slots, .num2 = down ? 0 : v->used,
			.x = { down ? 0 : v->queued }, .name = g->url, .text = msg };
	emit(g, &ev);
}

/* The node of each session we made and have not named yet. */
static void tell_nodes(grid *g, const grid_view *v)
{
	for (gsess *s = g->sessions; s; s = s->next) {
		if (s->node_told || !s->session[0] || s->state == GS_DELETING)
			continue;
		for (int i = 0; i < v->n; i++)
			if (!strcmp(v->s[i].id, s->session)) {
				ac_event ev = { .kind = EV_GRID_CREATED, .browser = s->id, .name = s->session,
						.text = v->s[i].node,
						.x = { s->create_s } };
				s->node_told = true;
				emit(g, &ev);
				break;
			}
	}
}

static void down_message(grid *g, const char *error, char *out, size_t cap)
{
	snprintf(out, cap, "Selenium Grid at %.100s is down: %.100s (start it, or fix --grid)", g->url, error);
}

/* Why a session was not made though the Grid was reached; what its capacity said last. */
static void full_message(grid *g, const char *what, char *out, size_t cap)
{
	if (g->last_valid && !g->last_down && g->last.used >= g->last.slots)
		snprintf(out, cap, "Selenium Grid at %.80s is full: %.60s (%d of %d slots used, %d queued); free a slot "
			 "or give the node more max-sessions", g->url, what, g->last.used, g->last.slots, g->last.queued);
	else
		snprintf(out, cap, "Selenium Grid at %.80s made no session: %.100s", g->url, what);
}

static void poll_answer(grid *g, gcall *c, int status, const char *body, const char *error)
{
	grid_view v;
	ac_err err;
	char msg[256];
	if (error) {
		g->polling = false;
		down_message(g, error, msg, sizeof msg);
		capacity(g, NULL, msg);
		return;
	}
	int rc = c->kind == GC_POLL ? (status == 200 ? grid_parse_graphql(body, &v, &err) : AC_EPROTO)
				    : (status == 200 ? grid_parse_status(body, &v, &err) : AC_EPROTO);
	if (rc && c->kind == GC_POLL) { /* an older or stripped Grid: /status says most of it */
		if (!call(g, GC_STATUS, 0, NULL, "GET", "/status", NULL, CALL_TIMEOUT_MS))
			g->polling = false;
		return;
	}
	g->polling = false;
	if (rc) {
		snprintf(msg, sizeof msg, "Selenium Grid at %.100s: neither /graphql nor /status answered as a Grid 4 does "
			 "(HTTP %d)", g->url, status);
		capacity(g, NULL, msg);
		return;
	}
	capacity(g, &v, NULL);
	tell_nodes(g, &v);
}

/* ---- the session's life ---- */

static void request(grid *g, gsess *s);

static void ended(grid *g, gsess *s, ev_kind end_kind, const char *why)
{
	int id = s->id;
	bool again = s->restart && !g->shutting_down;
	const browser_family *fam = s->fam;
	char url[1024];
	ac_strlcpy(url, s->page_url, sizeof url);
	drop(g, s);
	ac_event ev = { .kind = end_kind, .browser = id, .text = why };
	emit(g, &ev);
	if (again) {
		ac_err err;
		if (grid_start(g, fam, id, url, &err))
			emit_browser(g, EV_BROWSER_FAILED, id, NULL, err.msg, NULL);
	}
	maybe_finish(g);
}

/* The session is gone without us: the Grid says so, or it was never made. */
static void lost(grid *g, gsess *s, const char *why)
{
	char text[300];
	emit_browser(g, EV_GRID_LOST, s->id, s->session, why, NULL);
	bool made = s->session[0] != '\0';
	snprintf(text, sizeof text, "%s: %.250s", made ? "grid session ended" : "no grid session", why);
	ended(g, s, made ? EV_BROWSER_EXITED : EV_BROWSER_FAILED, text);
}

static void delete_session(grid *g, gsess *s, const char *why)
{
	s->state = GS_DELETING;
	emit_browser(g, EV_GRID_DELETED, s->id, s->session, why, NULL);
	call_session(g, GC_DELETE, s, "DELETE", "", NULL);
}

static void navigate(grid *g, gsess *s)
{
	char url[1100];
	snprintf(url, sizeof url, "%s&id=%d", s->page_url, s->id);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "url", url);
	char *body = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	s->state = GS_NAVIGATING;
	s->alive_at_ms = uv_now(g->loop) + (uint64_t)(g->cfg.keepalive_s * 1000);
	call_session(g, GC_NAVIGATE, s, "POST", "/url", body);
	free(body);
}

static void create_answer(grid *g, gcall *c, int status, const char *body, const char *error)
{
	gsess *s = find(g, c->id);
	char sid[64], msg[320];
	ac_err err;
	int rc = error ? AC_EIO : grid_parse_session(status, body, sid, sizeof sid, &err);
	if (c->abandoned || !s || s->create != c) { /* nobody waits for it: a session made now is deleted */
		if (!rc) {
			char path[100];
			snprintf(path, sizeof path, "/session/%s", sid);
			call(g, GC_DELETE, 0, sid, "DELETE", path, NULL, CALL_TIMEOUT_MS);
		}
		return;
	}
	s->create = NULL;
	s->create_s = (double)(ac_now_us() - s->requested_us) / 1e6;
	if (rc && error && !strncmp(error, "cannot connect", 14)) {
		down_message(g, error, msg, sizeof msg);
		capacity(g, NULL, msg);
		lost(g, s, msg);
		return;
	}
	if (rc && error) { /* connected, then no answer: a full Grid queues the request */
		full_message(g, error, msg, sizeof msg);
		lost(g, s, msg);
		return;
	}
	if (rc) {
		snprintf(msg, sizeof msg, "Selenium Grid at %.100s refused the session: %.150s", g->url, err.msg);
		lost(g, s, msg);
		return;
	}
	ac_strlcpy(s->session, sid, sizeof s->session);
	cJSON *j = cJSON_Parse(body); /* the version the node's driver reports */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "value"), "capabilities"), "browserVersion");
	if (cJSON_IsString(v))
		emit_browser(g, EV_BROWSER_VERSION, s->id, NULL, v->valuestring, NULL);
	cJSON_Delete(j);
	if (g->shutting_down) {
		delete_session(g, s, "accel-top quits");
		return;
	}
	navigate(g, s);
	g->polling = false; /* an answer in flight is older than the session */
	poll_now(g);
}

/* A W3C answer that says the session no longer exists. */
static bool session_gone(int status, const char *body)
{
	return status == 404 || (body && strstr(body, "invalid session id"));
}

static void session_answer(grid *g, gcall *c, int status, const char *body, const char *error)
{
	gsess *s = find(g, c->id);
	if (c->kind == GC_DELETE) {
		if (s && !strcmp(s->session, c->session) && s->state == GS_DELETING)
			ended(g, s, EV_BROWSER_EXITED, s->restart ? "grid session deleted (restart asked for)"
							   : "grid session deleted");
		return;
	}
	if (!s || strcmp(s->session, c->session) || s->state == GS_DELETING)
		return; /* about a session that went meanwhile */
	char why[300];
	if (!error && session_gone(status, body)) {
		char msg[200] = "";
		cJSON *j = cJSON_Parse(body);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "value"), "message");
		if (cJSON_IsString(m))
			snprintf(msg, sizeof msg, "%.190s", m->valuestring);
		cJSON_Delete(j);
		char *nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		snprintf(why, sizeof why, "the Grid no longer has it (HTTP %d): %s", status, msg[0] ? msg : "invalid session id");
		lost(g, s, why);
		return;
	}
	if (c->kind == GC_NAVIGATE) {
		if (error || status != 200) {
			snprintf(why, sizeof why, "could not open the page: %.200s", error ? error : body);
			s->restart = false;
			delete_session(g, s, why);
			return;
		}
		s->state = GS_RUNNING;
	}
	/* Just after a session is deleted from outside, the Grid answers 500 ("Unable to execute
	 * request for an existing session") before it answers 404: ask again shortly. A keep-alive
	 * that failed to connect says the Grid is down: the capacity poll reports it, and the
	 * browser's WebSocket says whether the browser went with it. */
	if (c->kind == GC_ALIVE && !error && status != 200 && s->probes_left > 0) {
		s->probes_left--;
		s->alive_at_ms = uv_now(g->loop) + 1000;
	}
}

static void on_answer(void *ctx, int status, const char *body, size_t len, const char *error)
{
	gcall *c = ctx;
	grid *g = c->g;
	(void)len;
	switch (c->kind) {
	case GC_CREATE: create_answer(g, c, status, body, error); break;
	case GC_POLL:
	case GC_STATUS: poll_answer(g, c, status, body, error); break;
	default: session_answer(g, c, status, body, error); break;
	}
	call_free(g, c);
	maybe_finish(g);
}

static void request(grid *g, gsess *s)
{
	const char *args[GRID_MAX_ARGS];
	int n = 0;
	for (int i = 0; i < g->n_extra; i++) {
		const char *f = g->extra[i].family;
		size_t fl = strlen(f);
		/* "chromium" flags apply to "chromium@grid" too */
		if (!strcmp(f, s->fam->name) || (!strncmp(s->fam->name, f, fl) && s->fam->name[fl] == '@'))
			args[n++] = g->extra[i].arg;
	}
	cJSON *caps = grid_capabilities(s->fam, args, n, g->cfg.visible, s->id);
	char *body = caps ? cJSON_PrintUnformatted(caps) : NULL;
	cJSON_Delete(caps);
	s->state = GS_REQUESTING;
	s->session[0] = '\0';
	s->node_told = false;
	s->requested_us = ac_now_us();
	s->create_deadline_ms = uv_now(g->loop) + (uint64_t)(g->cfg.create_timeout_s * 1000);
	emit_browser(g, EV_GRID_REQUESTED, s->id, NULL, g->url, s->fam->name);
	s->create = body ? call(g, GC_CREATE, s->id, NULL, "POST", "/session", body, LATE_SESSION_MS) : NULL;
	free(body);
	if (!s->create)
		lost(g, s, "could not send the new-session request (out of memory)");
}

/* Keep-alive, and the bound on a session's creation. */
static void on_keep_timer(uv_timer_t *t)
{
	grid *g = t->data;
	uint64_t now = uv_now(g->loop);
	for (gsess *s = g->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state == GS_RUNNING || s->state == GS_NAVIGATING) {
			if (now >= s->alive_at_ms) {
				s->alive_at_ms = now + (uint64_t)(g->cfg.keepalive_s * 1000);
				call_session(g, GC_ALIVE, s, "GET", "/url", NULL);
			}
			continue;
		}
		if (s->state != GS_REQUESTING || now < s->create_deadline_ms)
			continue;
		char why[300], what[64];
		snprintf(what, sizeof what, "no session within %.0f s", g->cfg.create_timeout_s);
		full_message(g, what, why, sizeof why);
		if (s->create)
			s->create->abandoned = true;
		s->create = NULL;
		lost(g, s, why);
	}
}

/* ---- the interface ---- */

int grid_new(uv_loop_t *loop, const grid_config *cfg, const grid_io *io, grid **out, ac_err *err)
{
	grid *g = calloc(1, sizeof *g);
	if (!g)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	g->loop = loop;
	g->cfg = *cfg;
	g->io = *io;
	ac_strlcpy(g->url, cfg->url, sizeof g->url);
	size_t n = strlen(g->url);
	while (n && g->url[n - 1] == '/')
		g->url[--n] = '\0';
	uv_timer_init(loop, &g->poll);
	uv_timer_init(loop, &g->keep);
	uv_timer_init(loop, &g->grace);
	g->poll.data = g->keep.data = g->grace.data = g;
	g->open_handles = 3;
	uv_timer_start(&g->poll, on_poll_timer, 0, (uint64_t)(cfg->poll_s * 1000));
	/* every second: creation bounds, and a keep-alive when keepalive_s comes round */
	uv_timer_start(&g->keep, on_keep_timer, 1000, 1000);
	*out = g;
	return 0;
}

int grid_add_arg(grid *g, const char *family, const char *arg)
{
	if (g->n_extra == GRID_MAX_ARGS)
		return AC_EINVAL;
	g->extra[g->n_extra].family = family;
	g->extra[g->n_extra++].arg = arg;
	return 0;
}

int grid_start(grid *g, const browser_family *fam, int id, const char *page_url, ac_err *err)
{
	if (g->shutting_down)
		return ac_errf(err, AC_EINVAL, "accel-top is shutting down");
	if (!fam->webdriver_name)
		return ac_errf(err, AC_EINVAL, "%s does not run on a Selenium Grid", fam->name);
	if (find(g, id))
		return ac_errf(err, AC_EINVAL, "browser %d already has a grid session", id);
	gsess *s = calloc(1, sizeof *s);
	if (!s)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	s->id = id;
	s->fam = fam;
	ac_strlcpy(s->page_url, page_url, sizeof s->page_url);
	s->next = g->sessions;
	g->sessions = s;
	request(g, s);
	return 0;
}

int grid_stop(grid *g, int id, const char *why, ac_err *err)
{
	gsess *s = find(g, id);
	if (!s)
		return ac_errf(err, AC_ENOENT, "browser %d has no grid session", id);
	s->restart = false;
	if (s->state == GS_DELETING)
		return 0;
	if (s->state == GS_REQUESTING) { /* what the Grid makes for it now is deleted */
		if (s->create)
			s->create->abandoned = true;
		s->create = NULL;
		char text[200];
		snprintf(text, sizeof text, "stopped (%.150s) before the Grid made its session", why);
		ended(g, s, EV_BROWSER_FAILED, text);
		return 0;
	}
	delete_session(g, s, why);
	return 0;
}

int grid_restart(grid *g, int id, const char *page_url, ac_err *err)
{
	gsess *s = find(g, id);
	if (!s)
		return ac_errf(err, AC_ENOENT, "browser %d has no grid session to restart", id);
	ac_strlcpy(s->page_url, page_url, sizeof s->page_url);
	if (s->state == GS_DELETING) {
		s->restart = true;
		return 0;
	}
	if (s->state == GS_REQUESTING)
		return 0; /* one is on its way */
	s->restart = true;
	delete_session(g, s, "restart asked for");
	return 0;
}

bool grid_has(const grid *g, int id)
{
	return find(g, id) != NULL;
}

void grid_on_event(void *ctx, const ac_event *ev)
{
	grid *g = ctx;
	gsess *s = ev->kind == EV_BROWSER_LOST && !g->shutting_down ? find(g, ev->browser) : NULL;
	if (s && (s->state == GS_RUNNING || s->state == GS_NAVIGATING)) {
		s->probes_left = 5;
		call_session(g, GC_ALIVE, s, "GET", "/url", NULL); /* is the session gone too? */
	}
}

/* ---- shutdown ---- */

static void handle_closed(uv_handle_t *h)
{
	grid *g = h->data;
	if (--g->open_handles)
		return;
	void (*done)(void *) = g->done;
	void *ctx = g->done_ctx;
	free(g);
	if (done)
		done(ctx);
}

static void close_all(grid *g)
{
	for (gcall *c = g->calls, *next; c; c = next) {
		next = c->next;
		g->io.cancel(g->io.ctx, c->handle);
		free(c);
	}
	g->calls = NULL;
	while (g->sessions)
		drop(g, g->sessions);
	uv_close((uv_handle_t *)&g->poll, handle_closed);
	uv_close((uv_handle_t *)&g->keep, handle_closed);
	uv_close((uv_handle_t *)&g->grace, handle_closed);
}

static void maybe_finish(grid *g)
{
	if (!g->shutting_down || uv_is_closing((uv_handle_t *)&g->poll))
		return;
	for (gsess *s = g->sessions; s; s = s->next)
		return; /* a session is being deleted, or made (and then deleted) */
	for (gcall *c = g->calls; c; c = c->next)
		if (c->kind == GC_DELETE || (c->kind == GC_CREATE && !c->abandoned))
			return;
	close_all(g);
}

static void on_grace_over(uv_timer_t *t)
{
	grid *g = t->data;
	for (gsess *s = g->sessions, *next; s; s = next) {
		next = s->next;
		emit_browser(g, EV_BROWSER_EXITED, s->id, NULL, "left behind: the Grid did not answer in time", NULL);
	}
	close_all(g);
}

void grid_shutdown(grid *g, unsigned grace_ms, void (*done)(void *ctx), void *ctx)
{
	g->shutting_down = true;
	g->done = done;
	g->done_ctx = ctx;
	uv_timer_stop(&g->poll);
	uv_timer_stop(&g->keep);
	for (gsess *s = g->sessions; s; s = s->next) {
		s->restart = false;
		if (s->state == GS_RUNNING || s->state == GS_NAVIGATING)
			delete_session(g, s, "accel-top quits");
		/* one being made is deleted when the Grid answers (create_answer) */
	}
	for (gcall *c = g->calls; c; c = c->next)
		if (c->kind == GC_CREATE && c->abandoned) /* late sessions are not waited for */
			g->io.cancel(g->io.ctx, c->handle), c->handle = 0;
	uv_timer_start(&g->grace, on_grace_over, grace_ms, 0);
	maybe_finish(g);
}
