/* Browsers from a Selenium Grid (pool/grid.h, pool/grid_parse.c, pool/apply_grid.c): the
 * new-session request, the Grid's answers as Selenium 4.48 gave them on our machine kind, the
 * EV_GRID_* appliers, and a session's life (made, named, lost, new one; deleted at shutdown)
 * driven through a fake grid_io on a real loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/grid.h"
#include "../../pool/pool.h"
#include "check.h"
#include "tests.h"

/* GET /status and POST /graphql with one session running (Selenium 4.48.0 standalone, node TOML
 * with detect-drivers = false and max-sessions 2; ids and stereotypes shortened). */
static const char status_body[] =
	"{\"value\":{\"nodes\":[{\"slots\":[{\"id\":{\"hostId\":\"h\",\"id\":\"s1\"},\"lastStarted\":\"2026-12-03T14:52:34Z\","
	"\"session\":{\"sessionId\":\"63dc2945112fbfabdc8d72f598c28e75\",\"uri\":\"http://192.0.2.2:4499\"},"
	"\"stereotype\":{\"browserName\":\"chrome\"}},{\"id\":{\"hostId\":\"h\",\"id\":\"s2\"},\"lastStarted\":"
	"\"2026-12-03T14:51:21Z\",\"session\":null,\"stereotype\":{\"browserName\":\"chrome\"}}],"
	"\"uri\":\"http://192.0.2.2:4499\",\"maxSessions\":2,\"availability\":\"UP\",\"sessionTimeout\":300000}],"
	"\"ready\":true,\"message\":\"Selenium Grid ready.\"}}";
static const char graphql_body[] =
	"{\"data\":{\"grid\":{\"totalSlots\":2,\"sessionCount\":1,\"sessionQueueSize\":0},\"nodesInfo\":{\"nodes\":"
	"[{\"uri\":\"http://192.0.2.2:4499\",\"status\":\"UP\",\"sessions\":[{\"id\":\"63dc2945112fbfabdc8d72f598c28e75\"}]}]}}}";

static bool has_arg(const cJSON *args, const char *a)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, args)
		if (cJSON_IsString(x) && !strcmp(x->valuestring, a))
			return true;
	return false;
}

/* browserName chrome; the launcher's Chromium flags less executable, profile and URL; the
 * --browser-args last; the Grid console's name. */
int test_grid_capabilities(void)
{
	const browser_family *f = family_find("chromium@grid");
	CHECK(f && f->webdriver_name && !strcmp(f->webdriver_name, "chrome"));
	for (int i = 0; family_at(i); i++)
		CHECK(family_at(i) != f); /* not in the menus of local families */
	const char *extra[] = { "--use-angle=swiftshader" };
	cJSON *c = grid_capabilities(f, extra, 1, false, 7);
	const cJSON *am = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "capabilities"), "alwaysMatch");
	CHECK_STR(cJSON_GetObjectItem(am, "browserName")->valuestring, "chrome");
	CHECK_STR(cJSON_GetObjectItem(am, "se:name")->valuestring, "accel-top browser 7");
	const cJSON *args = cJSON_GetObjectItem(cJSON_GetObjectItem(am, "goog:chromeOptions"), "args");
	CHECK(cJSON_IsArray(args));
	CHECK(has_arg(args, "--headless=new") && has_arg(args, "--no-sandbox") && has_arg(args, "--enable-unsafe-webgpu"));
	CHECK(has_arg(args, "--disable-background-networking") && has_arg(args, "--no-first-run"));
	CHECK(!has_arg(args, "chromium@grid"));
	const cJSON *x;
	cJSON_ArrayForEach(x, args)
		CHECK(strncmp(x->valuestring, "--user-data-dir", 15) && strncmp(x->valuestring, "http", 4));
	CHECK_STR(cJSON_GetArrayItem(args, cJSON_GetArraySize(args) - 1)->valuestring, "--use-angle=swiftshader");
	cJSON_Delete(c);
	return 0;
}

int test_grid_parse_answers(void)
{
	grid_view v;
	ac_err err;
	CHECK_OK(grid_parse_graphql(graphql_body, &v, &err));
	CHECK(v.ready);
	CHECK_EQ_INT(v.slots, 2);
	CHECK_EQ_INT(v.used, 1);
	CHECK_EQ_INT(v.queued, 0);
	CHECK_EQ_INT(v.n, 1);
	CHECK_STR(v.s[0].id, "63dc2945112fbfabdc8d72f598c28e75");
	CHECK_STR(v.s[0].node, "http://192.0.2.2:4499");
	CHECK_OK(grid_parse_status(status_body, &v, &err));
	CHECK(v.ready);
	CHECK_EQ_INT(v.slots, 2);
	CHECK_EQ_INT(v.used, 1);
	CHECK_EQ_INT(v.queued, -1); /* /status does not say */
	CHECK_EQ_INT(v.n, 1);
	CHECK_STR(v.s[0].node, "http://192.0.2.2:4499");
	CHECK_STR(v.message, "");
	/* a GraphQL error (an older Grid's schema) and something that is no Grid */
	CHECK(grid_parse_graphql("[{\"message\":\"Validation error\"}]", &v, &err) < 0);
	CHECK(grid_parse_status("<html>nginx</html>", &v, &err) < 0);
	CHECK_OK(grid_parse_status("{\"value\":{\"ready\":false,\"message\":\"Selenium Grid not ready.\",\"nodes\":[]}}", &v, &err));
	CHECK(!v.ready);
	CHECK_STR(v.message, "Selenium Grid not ready.");
	/* POST /session: the id, or the Grid's W3C error */
	char id[64];
	CHECK_OK(grid_parse_session(200, "{\"value\":{\"sessionId\":\"abc\",\"capabilities\":{}}}", id, sizeof id, &err));
	CHECK_STR(id, "abc");
	CHECK(grid_parse_session(500, "{\"value\":{\"error\":\"session not created\",\"message\":\"Could not start a new "
				      "session.\\nline 2\"}}", id, sizeof id, &err) < 0);
	CHECK_STR(err.msg, "the Grid answered HTTP 500: session not created: Could not start a new session.");
	return 0;
}

static int apply(pool *p, ac_event e)
{
	ac_err err;
	e.t_us = 1000;
	return pool_apply(p, &e, &err);
}

/* The appliers: a row made like a launched browser, with no pid; where it runs; what the Grid has. */
int test_grid_appliers(void)
{
	pool *p;
	CHECK_OK(pool_new(&p));
	CHECK(apply(p, (ac_event){ .kind = EV_GRID_CREATED, .browser = 3, .name = "s", .text = "n" }) < 0);
	CHECK_OK(apply(p, (ac_event){ .kind = EV_GRID_REQUESTED, .browser = 3, .family = "chromium@grid",
				      .text = "http://127.0.0.1:4444" }));
	const pool_browser *b = pool_browser_find(p, 3);
	CHECK(b && b->managed && b->grid && b->state == BS_LAUNCHING && b->pid == 0);
	CHECK_STR(b->kind, "chromium@grid");
	CHECK(!pool_settled(p));
	CHECK_OK(apply(p, (ac_event){ .kind = EV_GRID_CREATED, .browser = 3, .name = "abc", .text = "http://n1:5555",
				      .x = { 4.5 } }));
	CHECK_STR(b->grid_session, "abc");
	CHECK_STR(b->grid_node, "http://n1:5555");
	CHECK(b->grid_create_s == 4.5);
	CHECK_OK(apply(p, (ac_event){ .kind = EV_GRID_LOST, .browser = 3, .name = "abc", .text = "gone" }));
	CHECK_STR(b->grid_session, "");
	CHECK_STR(b->grid_node, "http://n1:5555"); /* where it ran stays shown */
	CHECK_OK(apply(p, (ac_event){ .kind = EV_BROWSER_EXITED, .browser = 3, .text = "grid session ended: gone" }));
	CHECK_OK(apply(p, (ac_event){ .kind = EV_GRID_REQUESTED, .browser = 3, .family = "chromium@grid", .text = "u" }));
	CHECK_EQ_INT(b->restarts, 1);
	CHECK(!pool_grid_get(p)->seen);
	CHECK_OK(apply(p, (ac_event){ .kind = EV_GRID_CAPACITY, .num = 2, .num2 = 1, .x = { 3 }, .name = "u", .text = "" }));
	const pool_grid *g = pool_grid_get(p);
	CHECK(g->seen && g->up && g->slots == 2 && g->used == 1 && g->queued == 3);
	CHECK_OK(apply(p, (ac_event){ .kind = EV_GRID_CAPACITY, .num = -1, .name = "u", .text = "down: refused" }));
	CHECK(g->seen && !g->up && g->slots == 0);
	CHECK_STR(g->message, "down: refused");
	/* the kinds' names are part of the recording format */
	CHECK_STR(ev_kind_name(EV_GRID_REQUESTED), "grid_requested");
	CHECK_EQ_INT(ev_kind_from_name("grid_capacity"), 35);
	pool_free(p);
	return 0;
}

/* ---- a session's life through a fake grid_io ---- */

typedef struct {
	char method[8], url[256], body[2048];
	grid_http_done done;
	void *ctx;
	bool answered;
} fake_call;

typedef struct {
	pool *p;
	fake_call calls[64];
	int n;
	bool finished;
} fake;

static int fake_emit(void *ctx, const ac_event *ev, ac_err *err)
{
	fake *f = ctx;
	return pool_apply(f->p, ev, err);
}

static int fake_http(void *ctx, const char *method, const char *url, const char *body, unsigned timeout_ms,
		     grid_http_done done, void *done_ctx, uint32_t *handle, ac_err *err)
{
	fake *f = ctx;
	(void)timeout_ms;
	if (f->n == 64)
		return ac_errf(err, AC_ENOMEM, "fake full");
	fake_call *c = &f->calls[f->n];
	snprintf(c->method, sizeof c->method, "%s", method);
	snprintf(c->url, sizeof c->url, "%s", url);
	snprintf(c->body, sizeof c->body, "%s", body ? body : "");
	c->done = done;
	c->ctx = done_ctx;
	*handle = (uint32_t)++f->n;
	return 0;
}

static void fake_cancel(void *ctx, uint32_t handle)
{
	fake *f = ctx;
	if (handle && handle <= (uint32_t)f->n)
		f->calls[handle - 1].answered = true;
}

/* The oldest unanswered call of METHOD whose URL ends with tail; NULL if none. */
static fake_call *pending(fake *f, const char *method, const char *tail)
{
	for (int i = 0; i < f->n; i++) {
		fake_call *c = &f->calls[i];
		size_t ul = strlen(c->url), tl = strlen(tail);
		if (!c->answered && !strcmp(c->method, method) && ul >= tl && !strcmp(c->url + ul - tl, tail))
			return c;
	}
	return NULL;
}

static void answer(fake_call *c, int status, const char *body)
{
	c->answered = true;
	c->done(c->ctx, status, body, strlen(body), NULL);
}

static void on_done(void *ctx)
{
	((fake *)ctx)->finished = true;
}

static int count_kind(pool *p, ev_kind k)
{
	int n = 0;
	for (size_t i = 0; i < pool_log_count(p); i++)
		n += pool_log_at(p, i)->kind == k;
	return n;
}

int test_grid_session_life(void)
{
	static fake f; /* large */
	memset(&f, 0, sizeof f);
	uv_loop_t loop;
	uv_loop_init(&loop);
	CHECK_OK(pool_new(&f.p));
	grid *g;
	ac_err err;
	grid_config cfg = { .url = "http://127.0.0.1:4444/", .keepalive_s = 60, .create_timeout_s = 60, .poll_s = 2 };
	grid_io io = { .emit = fake_emit, .http = fake_http, .cancel = fake_cancel, .ctx = &f };
	CHECK_OK(grid_new(&loop, &cfg, &io, &g, &err));
	pool_add_listener(f.p, grid_on_event, g);
	CHECK_OK(grid_start(g, family_find("chromium@grid"), 1, "http://127.0.0.1:8765/?token=t", &err));
	fake_call *c = pending(&f, "POST", "/session");
	CHECK(c && strstr(c->url, "http://127.0.0.1:4444/session") && strstr(c->body, "\"browserName\":\"chrome\""));
	CHECK(pool_browser_find(f.p, 1)->state == BS_LAUNCHING);
	answer(c, 200, "{\"value\":{\"sessionId\":\"S1\",\"capabilities\":{\"browserVersion\":\"156.0\"}}}");
	CHECK_STR(pool_browser_find(f.p, 1)->version, "156.0");
	c = pending(&f, "POST", "/session/S1/url");
	CHECK(c && strstr(c->body, "http://127.0.0.1:8765/?token=t&id=1"));
	answer(c, 200, "{\"value\":null}");
	c = pending(&f, "POST", "/graphql"); /* asked at once: which node runs S1 */
	CHECK(c);
	answer(c, 200, "{\"data\":{\"grid\":{\"totalSlots\":2,\"sessionCount\":1,\"sessionQueueSize\":0},\"nodesInfo\":"
		       "{\"nodes\":[{\"uri\":\"http://n1:5555\",\"sessions\":[{\"id\":\"S1\"}]}]}}}");
	CHECK_STR(pool_browser_find(f.p, 1)->grid_node, "http://n1:5555");
	CHECK(pool_grid_get(f.p)->used == 1);
	/* the bridge loses it: the Grid is asked at once; unsure (500) first, then gone (404) */
	ac_event lost = { .kind = EV_BROWSER_CONNECTED, .t_us = 1, .browser = 1 };
	CHECK_OK(pool_apply(f.p, &lost, &err));
	lost.kind = EV_BROWSER_LOST;
	lost.text = "socket closed";
	CHECK_OK(pool_apply(f.p, &lost, &err));
	c = pending(&f, "GET", "/session/S1/url");
	CHECK(c);
	answer(c, 500, "{\"value\":{\"error\":\"unknown error\",\"message\":\"Unable to execute request for an existing session\"}}");
	CHECK(grid_has(g, 1));
	CHECK_EQ_INT(count_kind(f.p, EV_GRID_LOST), 0);
	/* asked again a second later, from the keep-alive timer */
	while (!pending(&f, "GET", "/session/S1/url"))
		uv_run(&loop, UV_RUN_ONCE);
	answer(pending(&f, "GET", "/session/S1/url"), 404,
	       "{\"value\":{\"error\":\"invalid session id\",\"message\":\"Unable to find session with ID: S1\"}}");
	CHECK_EQ_INT(count_kind(f.p, EV_GRID_LOST), 1);
	CHECK(!grid_has(g, 1));
	CHECK(pool_browser_find(f.p, 1)->state == BS_EXITED);
	CHECK_CONTAINS(pool_browser_find(f.p, 1)->reason, "grid session ended: the Grid no longer has it (HTTP 404)");
	/* the supervisor's restart: a new session under the same id */
	CHECK_OK(grid_start(g, family_find("chromium@grid"), 1, "http://127.0.0.1:8765/?token=t", &err));
	answer(pending(&f, "POST", "/session"), 200, "{\"value\":{\"sessionId\":\"S2\",\"capabilities\":{}}}");
	CHECK_EQ_INT(pool_browser_find(f.p, 1)->restarts, 1);
	/* quit: S2 deleted; the grid waits for the answer, then ends */
	grid_shutdown(g, 5000, on_done, &f);
	CHECK(!f.finished);
	c = pending(&f, "DELETE", "/session/S2");
	CHECK(c);
	answer(c, 200, "{\"value\":null}");
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(f.finished);
	CHECK_EQ_INT(count_kind(f.p, EV_GRID_DELETED), 1);
	CHECK(pool_browser_find(f.p, 1)->state == BS_EXITED);
	pool_free(f.p);
	CHECK_OK(uv_loop_close(&loop));
	return 0;
}

/* A Grid that refuses connections: the session fails with a one-line reason, and the capacity
 * says the Grid is down. */
int test_grid_down(void)
{
	static fake f;
	memset(&f, 0, sizeof f);
	uv_loop_t loop;
	uv_loop_init(&loop);
	CHECK_OK(pool_new(&f.p));
	grid *g;
	ac_err err;
	grid_config cfg = { .url = "http://127.0.0.1:9", .keepalive_s = 60, .create_timeout_s = 60, .poll_s = 2 };
	grid_io io = { .emit = fake_emit, .http = fake_http, .cancel = fake_cancel, .ctx = &f };
	CHECK_OK(grid_new(&loop, &cfg, &io, &g, &err));
	CHECK_OK(grid_start(g, family_find("chromium@grid"), 1, "http://127.0.0.1:8765/?token=t", &err));
	fake_call *c = pending(&f, "POST", "/session");
	c->answered = true;
	c->done(c->ctx, 0, "", 0, "cannot connect to 127.0.0.1:9: connection refused");
	const pool_browser *b = pool_browser_find(f.p, 1);
	CHECK(b->state == BS_EXITED);
	CHECK_CONTAINS(b->reason, "Selenium Grid at http://127.0.0.1:9 is down: cannot connect");
	CHECK(pool_grid_get(f.p)->seen && !pool_grid_get(f.p)->up);
	CHECK(!strchr(b->reason, '\n'));
	grid_shutdown(g, 1000, on_done, &f);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(f.finished);
	pool_free(f.p);
	CHECK_OK(uv_loop_close(&loop));
	return 0;
}
