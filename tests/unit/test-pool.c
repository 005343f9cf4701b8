/* The pool (pool/pool.c) driven by events, and its JSON snapshot (tui/snapshot.c).
 * Over 600 lines on purpose: one topic (the pool's state after each event, as read back) whose
 * tests all share the event helpers below; split by file they would only scatter it. */
#include <stdio.h>
#include <string.h>

#include "../../pool/pool.h"
#include "../../tui/snapshot.h"
#include "check.h"
#include "tests.h"

static void free_pool(void *p) { pool_free(p); }

static pool *new_pool(void)
{
	pool *p = NULL;
	if (pool_new(&p) != 0)
		return NULL;
	return check_defer(free_pool, p);
}

static int64_t t0 = 1795685261000000; /* a plausible wall-clock time in microseconds */

static ac_event ev(ev_kind kind, int browser, int64_t num)
{
	ac_event e;
	memset(&e, 0, sizeof e);
	e.kind = kind;
	e.browser = browser;
	e.num = num;
	e.t_us = t0;
	t0 += 1000;
	return e;
}

/* Applies e and expects it to be accepted. */
static int apply_ok(pool *p, const ac_event *e)
{
	ac_err err = { 0, "" };
	int rc = pool_apply(p, e, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s refused: %s", ev_kind_name(e->kind), err.msg);
	CHECK_EQ_INT(rc, 0);
	return 0;
}

/* A browser as a byte image, to check that a refused event changed nothing. */
typedef struct {
	size_t n;
	uint64_t events;
	pool_browser b[4];
} pool_image;

static void image_of(const pool *p, pool_image *img)
{
	memset(img, 0, sizeof *img);
	img->n = pool_browser_count(p);
	img->events = pool_event_count(p);
	for (size_t i = 0; i < img->n && i < 4; i++)
		memcpy(&img->b[i], pool_browser_at(p, i), sizeof img->b[i]);
}

/* Applies e, expects it refused with a message containing `names`, and the pool unchanged. */
static int apply_refused(pool *p, const ac_event *e, const char *names)
{
	pool_image before, after;
	image_of(p, &before);
	ac_err err = { 0, "" };
	int rc = pool_apply(p, e, &err);
	CHECK(rc < 0);
	CHECK_EQ_INT(err.code, rc);
	if (names)
		CHECK_CONTAINS(err.msg, names);
	image_of(p, &after);
	CHECK_EQ_INT(after.n, before.n);
	CHECK_EQ_INT(after.events, before.events);
	CHECK(memcmp(&before, &after, sizeof before) == 0);
	return 0;
}

typedef struct {
	int calls;
	ev_kind last;
	const ac_event *last_ptr;
} listen_count;

static void count_listener(void *ctx, const ac_event *e)
{
	listen_count *lc = ctx;
	lc->calls++;
	lc->last = e->kind;
	lc->last_ptr = e;
}

/* The managed browser id (b) lost, back, then exited. */
static int lifecycle_lost_back_exited(pool *p, int id, const pool_browser *b)
{
	ac_event e = ev(EV_BROWSER_LOST, id, 0);
	e.text = "heartbeat timeout";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(b->state, BS_LOST);
	CHECK_STR(b->reason, "heartbeat timeout");
	CHECK_EQ_INT(b->changed_us, e.t_us);

	e = ev(EV_BROWSER_CONNECTED, id, 0);
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(b->state, BS_CONNECTED);
	CHECK_EQ_INT(b->connects, 2);
	CHECK_STR(b->reason, "");
	CHECK(b->caps.valid); /* still known until a new hello replaces it */
	CHECK_EQ_INT(pool_browser_count(p), 1);

	e = ev(EV_BROWSER_EXITED, id, 0);
	e.num2 = 15;
	e.text = "killed by signal 15 (SIGTERM)";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(b->state, BS_EXITED);
	CHECK_EQ_INT(b->exit_status, 0);
	CHECK_EQ_INT(b->exit_signal, 15);
	CHECK_STR(b->reason, "killed by signal 15 (SIGTERM)");
	return 0;
}

int test_pool_managed_lifecycle(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	listen_count lc = { 0, 0, NULL };
	pool_add_listener(p, count_listener, &lc);
	int id = pool_next_id(p);
	CHECK_EQ_INT(id, 1);

	ac_event e = ev(EV_BROWSER_LAUNCHED, id, 4242);
	e.family = "chromium";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(pool_browser_count(p), 1);
	const pool_browser *b = pool_browser_find(p, id);
	CHECK(b != NULL);
	CHECK_EQ_INT(b->state, BS_LAUNCHING);
	CHECK(b->managed);
	CHECK_EQ_INT(b->pid, 4242);
	CHECK_STR(b->kind, "chromium");
	CHECK_EQ_INT(b->launched_us, e.t_us);
	CHECK_EQ_INT(b->rtt_us, -1);
	CHECK_EQ_INT(b->connects, 0);
	CHECK(!b->caps.valid);

	e = ev(EV_BROWSER_VERSION, id, 0);
	e.text = "156.0.8078.108";
	CHECK_OK(apply_ok(p, &e));
	CHECK_STR(b->version, "156.0.8078.108");

	e = ev(EV_BROWSER_CONNECTED, id, 0);
	e.family = "chromium";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(b->state, BS_CONNECTED);
	CHECK_EQ_INT(b->connects, 1);
	CHECK_EQ_INT(b->connected_us, e.t_us);

	e = ev(EV_BROWSER_HELLO, id, 0);
	e.data = load_fixture("hello-chromium-swiftshader.json");
	CHECK(e.data != NULL);
	CHECK_OK(apply_ok(p, &e));
	CHECK(b->caps.valid);
	CHECK_STR(b->version, "156.0.8078.108"); /* `--version` beats the page's guess for managed ones */
	CHECK_STR(b->kind, "chromium");
	CHECK_EQ_INT(b->caps.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);

	e = ev(EV_BROWSER_RTT, id, 1130);
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(b->rtt_us, 1130);

	CHECK_OK(lifecycle_lost_back_exited(p, id, b));

	CHECK_EQ_INT(pool_event_count(p), 8);
	CHECK_EQ_INT(lc.calls, 8);
	CHECK_EQ_INT(lc.last, EV_BROWSER_EXITED);

	/* reconnects show in the snapshot */
	cJSON *s = DEFER_JSON(snapshot_json(p, t0));
	CHECK(s != NULL);
	const cJSON *jb = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "browsers"), 0);
	CHECK(jb != NULL);
	CHECK_EQ_INT(cJSON_GetObjectItemCaseSensitive(jb, "reconnects")->valuedouble, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jb, "state")), "exited");
	return 0;
}

int test_pool_attached_browser(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_event e = ev(EV_BROWSER_CONNECTED, 5, 0);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	const pool_browser *b = pool_browser_find(p, 5);
	CHECK(b != NULL);
	CHECK(!b->managed);
	CHECK_EQ_INT(b->state, BS_CONNECTED);
	CHECK_EQ_INT(b->pid, 0);
	CHECK_EQ_INT(b->connects, 1);
	CHECK_STR(b->kind, "firefox");
	CHECK_STR(b->version, "");

	e = ev(EV_BROWSER_HELLO, 5, 0);
	e.data = load_fixture("hello-firefox-fallback.json");
	CHECK(e.data != NULL);
	CHECK_OK(apply_ok(p, &e));
	CHECK_STR(b->kind, "firefox");
	CHECK_STR(b->version, "153.0"); /* no `--version` for attached ones: the page's */

	/* the page's name replaces the guess for attached browsers */
	e = ev(EV_BROWSER_CONNECTED, 6, 0);
	CHECK_OK(apply_ok(p, &e));
	b = pool_browser_find(p, 6);
	CHECK(b != NULL);
	CHECK_STR(b->kind, "unknown");
	e = ev(EV_BROWSER_HELLO, 6, 0);
	e.data = load_fixture("hello-chromium-swiftshader.json");
	CHECK_OK(apply_ok(p, &e));
	CHECK_STR(b->kind, "chromium");
	CHECK_STR(b->version, "156.0.0.0");

	CHECK(pool_settled(p)); /* attached browsers never hold the first snapshot back */
	return 0;
}

int test_pool_refused_events(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	listen_count lc = { 0, 0, NULL };
	pool_add_listener(p, count_listener, &lc);
	ac_event e = ev(EV_BROWSER_LAUNCHED, 1, 100);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_CONNECTED, 1, 0);
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(lc.calls, 2);

	/* hello for a browser nobody knows */
	e = ev(EV_BROWSER_HELLO, 99, 0);
	e.data = load_fixture("hello-firefox-fallback.json");
	CHECK(e.data != NULL);
	CHECK_OK(apply_refused(p, &e, "99"));
	CHECK(pool_browser_find(p, 99) == NULL);

	/* the other per-browser events for unknown browsers */
	ev_kind kinds[] = { EV_BROWSER_VERSION, EV_BROWSER_RTT, EV_BROWSER_LOST, EV_BROWSER_EXITED, EV_BROWSER_FAILED };
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		e = ev(kinds[i], 42, 7);
		e.text = "x";
		CHECK_OK(apply_refused(p, &e, "42"));
	}

	/* a malformed hello leaves the browser as it was */
	e = ev(EV_BROWSER_HELLO, 1, 0);
	e.data = parse_json("{\"type\":\"hello\",\"webgpu\":{\"fallback\":\"yes\"}}");
	CHECK_OK(apply_refused(p, &e, "hello.webgpu.fallback"));
	CHECK(!pool_browser_find(p, 1)->caps.valid);

	/* launched twice */
	e = ev(EV_BROWSER_LAUNCHED, 1, 101);
	e.family = "firefox";
	CHECK_OK(apply_refused(p, &e, "1"));

	/* an unknown kind */
	e = ev(EV__COUNT, 1, 0);
	CHECK_OK(apply_refused(p, &e, NULL));

	/* connected after the process exited */
	e = ev(EV_BROWSER_EXITED, 1, 1);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_CONNECTED, 1, 0);
	CHECK_OK(apply_refused(p, &e, "exited"));

	CHECK_EQ_INT(lc.calls, 3); /* launched, connected, exited: never a refused one */
	CHECK_EQ_INT(pool_event_count(p), 3);
	return 0;
}

int test_pool_lost_after_exited(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_event e = ev(EV_BROWSER_LAUNCHED, 3, 55);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_CONNECTED, 3, 0);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_EXITED, 3, 1);
	e.text = "exited with status 1";
	CHECK_OK(apply_ok(p, &e));
	const pool_browser *b = pool_browser_find(p, 3);
	int64_t changed = b->changed_us;
	e = ev(EV_BROWSER_LOST, 3, 0);
	e.text = "socket closed";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(b->state, BS_EXITED);
	CHECK_STR(b->reason, "exited with status 1");
	CHECK_EQ_INT(b->exit_status, 1);
	CHECK_EQ_INT(b->changed_us, changed);
	return 0;
}

int test_pool_settled(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	CHECK(pool_settled(p)); /* nothing on its way */
	ac_event e = ev(EV_BROWSER_LAUNCHED, 1, 10);
	e.family = "chromium";
	CHECK_OK(apply_ok(p, &e));
	CHECK(!pool_settled(p)); /* launching */
	e = ev(EV_BROWSER_VERSION, 1, 0);
	e.text = "156";
	CHECK_OK(apply_ok(p, &e));
	CHECK(!pool_settled(p));
	e = ev(EV_BROWSER_CONNECTED, 1, 0);
	CHECK_OK(apply_ok(p, &e));
	CHECK(!pool_settled(p)); /* connected, no hello yet */
	e = ev(EV_BROWSER_HELLO, 1, 0);
	e.data = load_fixture("hello-chromium-swiftshader.json");
	CHECK(e.data != NULL);
	CHECK_OK(apply_ok(p, &e));
	CHECK(pool_settled(p));

	e = ev(EV_BROWSER_LAUNCHED, 2, 11);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	CHECK(!pool_settled(p));
	e = ev(EV_BROWSER_FAILED, 2, 0);
	e.text = "firefox-esr: not found";
	CHECK_OK(apply_ok(p, &e));
	CHECK(pool_settled(p)); /* failed counts as done */

	e = ev(EV_BROWSER_LAUNCHED, 3, 12);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	CHECK(!pool_settled(p));
	e = ev(EV_BROWSER_EXITED, 3, 0);
	CHECK_OK(apply_ok(p, &e));
	CHECK(pool_settled(p)); /* exited counts as done */

	/* an attached browser without hello does not hold anything back */
	e = ev(EV_BROWSER_CONNECTED, 4, 0);
	CHECK_OK(apply_ok(p, &e));
	CHECK(pool_settled(p));
	return 0;
}

int test_pool_next_id(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	CHECK_EQ_INT(pool_next_id(p), 1);
	CHECK_EQ_INT(pool_next_id(p), 2);
	/* ids that arrive in events (replay, attached browsers) are never handed out again */
	ac_event e = ev(EV_BROWSER_LAUNCHED, 10, 1);
	e.family = "chromium";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(pool_next_id(p), 11);
	e = ev(EV_BROWSER_CONNECTED, 50, 0);
	CHECK_OK(apply_ok(p, &e));
	int id = pool_next_id(p);
	CHECK(id > 50);
	/* a lower id arriving later does not move the counter back */
	e = ev(EV_BROWSER_LAUNCHED, 3, 1);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	int next = pool_next_id(p);
	CHECK(next > id);
	for (size_t i = 0; i < pool_browser_count(p); i++)
		CHECK(pool_browser_at(p, i)->id != next);
	/* many more: still unique and growing */
	int last = next;
	for (int i = 0; i < 100; i++) {
		int n = pool_next_id(p);
		CHECK(n > last);
		last = n;
	}
	return 0;
}

int test_pool_growth(void)
{
	/* more browsers than the first allocation holds; earlier ones keep their data */
	pool *p = new_pool();
	CHECK(p != NULL);
	for (int i = 1; i <= 40; i++) {
		ac_event e = ev(EV_BROWSER_LAUNCHED, i, 1000 + i);
		e.family = i % 2 ? "chromium" : "firefox";
		CHECK_OK(apply_ok(p, &e));
	}
	CHECK_EQ_INT(pool_browser_count(p), 40);
	for (int i = 1; i <= 40; i++) {
		const pool_browser *b = pool_browser_find(p, i);
		CHECK(b != NULL);
		CHECK_EQ_INT(b->pid, 1000 + i);
		CHECK_STR(b->kind, i % 2 ? "chromium" : "firefox");
	}
	CHECK(pool_browser_at(p, 40) == NULL);
	CHECK(pool_browser_find(p, 41) == NULL);
	return 0;
}

int test_pool_bridge_listening(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	CHECK_STR(pool_bridge_url(p), "");
	CHECK_EQ_INT(pool_bridge_port(p), 0);
	ac_event e = ev(EV_BRIDGE_LISTENING, 0, 8765);
	e.text = "http://127.0.0.1:8765/";
	CHECK_OK(apply_ok(p, &e));
	CHECK_STR(pool_bridge_url(p), "http://127.0.0.1:8765/");
	CHECK_EQ_INT(pool_bridge_port(p), 8765);
	CHECK_EQ_INT(pool_started_us(p), e.t_us);
	/* an error event is recorded but changes no browser */
	e = ev(EV_ERROR, 0, 0);
	e.text = "something went wrong";
	CHECK_OK(apply_ok(p, &e));
	CHECK_EQ_INT(pool_event_count(p), 2);
	CHECK_EQ_INT(pool_browser_count(p), 0);
	return 0;
}

/* ---- snapshot_json ---- */

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const cJSON *browser_in(const cJSON *snap, int id)
{
	const cJSON *b;
	cJSON_ArrayForEach(b, get(snap, "browsers"))
		if (cJSON_IsNumber(get(b, "id")) && get(b, "id")->valuedouble == id)
			return b;
	return NULL;
}

/* The bridge listening; browser 1 launching, 2 connected with hello and rtt, 3 lost, 4 exited,
 * 5 attached. */
static int five_browsers(pool *p)
{
	ac_event e = ev(EV_BRIDGE_LISTENING, 0, 8765);
	e.text = "http://127.0.0.1:8765/";
	CHECK_OK(apply_ok(p, &e));
	for (int id = 1; id <= 4; id++) {
		e = ev(EV_BROWSER_LAUNCHED, id, 100 + id);
		e.family = "chromium";
		CHECK_OK(apply_ok(p, &e));
	}
	for (int id = 2; id <= 3; id++) {
		e = ev(EV_BROWSER_CONNECTED, id, 0);
		CHECK_OK(apply_ok(p, &e));
	}
	e = ev(EV_BROWSER_HELLO, 2, 0);
	e.data = load_fixture("hello-chromium-swiftshader.json");
	CHECK(e.data != NULL);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_RTT, 2, 1500);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_LOST, 3, 0);
	e.text = "socket closed";
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_EXITED, 4, 0);
	e.num2 = 9;
	e.text = "killed by signal 9";
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_CONNECTED, 5, 0);
	e.family = "firefox";
	CHECK_OK(apply_ok(p, &e));
	return 0;
}

/* Browser 2 of five_browsers() in the snapshot: connected with the SwiftShader hello. */
static int check_hello_browser(const cJSON *b2)
{
	CHECK(b2 != NULL);
	CHECK(cJSON_IsNumber(get(b2, "rtt_ms")));
	CHECK(get(b2, "rtt_ms")->valuedouble == 1.5);
	CHECK(cJSON_IsTrue(get(b2, "managed")));
	CHECK_EQ_INT(get(b2, "hardware_concurrency")->valuedouble, 2);
	CHECK(get(b2, "device_memory_gb")->valuedouble == 16.0);
	CHECK(cJSON_IsTrue(get(b2, "cross_origin_isolated")));
	const cJSON *g = get(b2, "webgpu");
	CHECK_STR(cJSON_GetStringValue(get(g, "status")), "software");
	CHECK_CONTAINS(cJSON_GetStringValue(get(g, "evidence")), "swiftshader");
	CHECK_STR(cJSON_GetStringValue(get(g, "vendor")), "google");
	CHECK_STR(cJSON_GetStringValue(get(g, "device")), ""); /* reported empty: "" not null */
	CHECK(cJSON_IsTrue(get(g, "fallback")));
	CHECK(cJSON_IsNull(get(g, "error")));
	CHECK_EQ_INT(get(get(g, "limits"), "maxComputeWorkgroupSizeX")->valuedouble, 256);
	CHECK_EQ_INT(cJSON_GetArraySize(get(g, "features")), 21);
	const cJSON *nn = get(b2, "webnn");
	CHECK_STR(cJSON_GetStringValue(get(nn, "status")), "unavailable");
	CHECK_CONTAINS(cJSON_GetStringValue(get(nn, "evidence")), "cpu, gpu, npu: NotSupportedError");
	CHECK(cJSON_IsFalse(get(get(get(nn, "devices"), "gpu"), "ok")));
	CHECK(cJSON_IsNull(get(get(get(nn, "devices"), "gpu"), "accelerated")));
	CHECK_STR(cJSON_GetStringValue(get(get(b2, "wasm"), "status")), "software");
	CHECK(cJSON_IsTrue(get(get(b2, "wasm"), "threads")));
	return 0;
}

int test_pool_snapshot_json(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);

	/* before anything: bridge fields null, no browsers */
	cJSON *s0 = DEFER_JSON(snapshot_json(p, t0));
	CHECK(s0 != NULL);
	CHECK(cJSON_IsNull(get(get(s0, "bridge"), "url")));
	CHECK(cJSON_IsNull(get(get(s0, "bridge"), "port")));
	CHECK_EQ_INT(cJSON_GetArraySize(get(s0, "browsers")), 0);
	CHECK(cJSON_IsNumber(get(s0, "time")));

	CHECK_OK(five_browsers(p));

	cJSON *s = DEFER_JSON(snapshot_json(p, t0));
	CHECK(s != NULL);
	/* what a reader gets must print and parse back */
	char *text = DEFER_FREE(cJSON_PrintUnformatted(s));
	CHECK(text != NULL);
	s = parse_json(text);
	CHECK(s != NULL);
	CHECK_STR(cJSON_GetStringValue(get(get(s, "bridge"), "url")), "http://127.0.0.1:8765/");
	CHECK_EQ_INT(get(get(s, "bridge"), "port")->valuedouble, 8765);
	CHECK_EQ_INT(cJSON_GetArraySize(get(s, "browsers")), 5);

	static const char *const states[] = { NULL, "launching", "connected", "lost", "exited", "connected" };
	for (int id = 1; id <= 5; id++) {
		const cJSON *b = browser_in(s, id);
		CHECK(b != NULL);
		CHECK_STR(cJSON_GetStringValue(get(b, "state")), states[id]);
		CHECK(cJSON_IsBool(get(b, "managed")));
		CHECK(cJSON_IsNumber(get(b, "reconnects")));
	}

	/* launching: rtt, caps and hello fields n/a */
	const cJSON *b1 = browser_in(s, 1);
	CHECK(cJSON_IsNull(get(b1, "rtt_ms")));
	CHECK_EQ_INT(get(b1, "pid")->valuedouble, 101);
	CHECK(cJSON_IsNull(get(b1, "version")));
	CHECK(cJSON_IsNull(get(b1, "reason")));
	CHECK(cJSON_IsNull(get(b1, "user_agent")));
	CHECK(cJSON_IsNull(get(b1, "hardware_concurrency")));
	CHECK(cJSON_IsNull(get(b1, "device_memory_gb")));
	CHECK(cJSON_IsNull(get(b1, "cross_origin_isolated")));
	CHECK(cJSON_IsNull(get(get(b1, "webgpu"), "status")));
	CHECK(cJSON_IsString(get(get(b1, "webgpu"), "evidence")));

	CHECK_OK(check_hello_browser(browser_in(s, 2)));

	CHECK_STR(cJSON_GetStringValue(get(browser_in(s, 3), "reason")), "socket closed");
	CHECK_STR(cJSON_GetStringValue(get(browser_in(s, 4), "reason")), "killed by signal 9");

	/* attached: no pid */
	const cJSON *b5 = browser_in(s, 5);
	CHECK(cJSON_IsFalse(get(b5, "managed")));
	CHECK(cJSON_IsNull(get(b5, "pid")));
	CHECK(cJSON_IsNull(get(b5, "rtt_ms")));
	CHECK_STR(cJSON_GetStringValue(get(b5, "kind")), "firefox");
	return 0;
}

/* A Firefox hello: n/a device memory is null; the nvidia one: limits not reported are null. */
int test_pool_snapshot_nulls(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_event e = ev(EV_BROWSER_CONNECTED, 1, 0);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_BROWSER_HELLO, 1, 0);
	e.data = load_fixture("hello-firefox-nvidia-hardware.json");
	CHECK(e.data != NULL);
	CHECK_OK(apply_ok(p, &e));
	cJSON *s = DEFER_JSON(snapshot_json(p, t0));
	const cJSON *b = browser_in(s, 1);
	CHECK(b != NULL);
	CHECK(cJSON_IsNull(get(b, "device_memory_gb")));
	CHECK(cJSON_IsNull(get(b, "pid")));
	const cJSON *g = get(b, "webgpu");
	CHECK_STR(cJSON_GetStringValue(get(g, "status")), "hardware");
	CHECK_STR(cJSON_GetStringValue(get(g, "vendor")), "");
	CHECK(cJSON_IsFalse(get(g, "fallback")));
	CHECK_EQ_INT(get(get(g, "limits"), "maxBufferSize")->valuedouble, 1073741824);
	CHECK(cJSON_IsNull(get(get(g, "limits"), "maxStorageBufferBindingSize")));
	CHECK_STR(cJSON_GetStringValue(get(get(b, "webnn"), "status")), "unavailable");
	return 0;
}

int test_pool_state_names(void)
{
	CHECK_STR(browser_state_name(BS_LAUNCHING), "launching");
	CHECK_STR(browser_state_name(BS_CONNECTED), "connected");
	CHECK_STR(browser_state_name(BS_LOST), "lost");
	CHECK_STR(browser_state_name(BS_EXITED), "exited");
	CHECK_STR(browser_state_name((browser_state)7), "?");
	return 0;
}

/* loaded's "lanes" (runtimes of the page holding the session) is kept; absent or odd, it is 1. */
int test_pool_session_lanes(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_event e = ev(EV_BROWSER_CONNECTED, 1, 0);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_WORKLOAD_STARTED, 0, 0);
	e.model = 1;
	e.name = "bert-tiny";
	e.precision = "fp32";
	e.platform = "webgpu";
	e.family = "auto";
	e.x[0] = 5;
	e.x[1] = 3;
	e.text = "text";
	CHECK_OK(apply_ok(p, &e));
	const char *replies[] = { "{\"lanes\":8}", "{\"load_ms\":3}", "{\"lanes\":\"8\"}", "{\"lanes\":1000}" };
	const int want[] = { 8, 1, 1, 1 };
	for (int i = 0; i < 4; i++) {
		e = ev(EV_SESSION_LOADING, 1, 0);
		e.session = i + 1;
		e.model = 1;
		e.precision = "fp32";
		e.platform = "webgpu";
		e.text = "model.onnx";
		CHECK_OK(apply_ok(p, &e));
		e = ev(EV_SESSION_READY, 1, 0);
		e.session = i + 1;
		e.x[0] = 12;
		e.platform = "webgpu";
		e.data = DEFER_JSON(cJSON_Parse(replies[i]));
		CHECK(e.data != NULL);
		CHECK_OK(apply_ok(p, &e));
		const pool_session *s = pool_session_find(p, 1, i + 1);
		CHECK(s != NULL);
		CHECK_EQ_INT(s->lanes, want[i]);
	}
	return 0;
}

/* loaded's "placement" (browser-js/ort-placement.js) becomes one line naming the ops ORT ran on its
 * CPU fallback, or saying ORT logged none; the event log line carries it. Other platforms: none. */
int test_pool_session_placement(void)
{
	pool *p = new_pool();
	CHECK(p != NULL);
	ac_event e = ev(EV_BROWSER_CONNECTED, 1, 0);
	CHECK_OK(apply_ok(p, &e));
	e = ev(EV_WORKLOAD_STARTED, 0, 0);
	e.model = 1;
	e.name = "silero-vad";
	e.precision = "fp32";
	e.platform = "webnn";
	e.family = "auto";
	e.text = "audio";
	CHECK_OK(apply_ok(p, &e));
	const char *replies[] = {
		"{\"device_type\":\"gpu\",\"placement\":{\"known\":true,\"nodes\":79,\"nodes_on_ep\":79,\"partitions\":1,"
		"\"fallback_ops\":[],\"fallback_nodes\":0,\"note\":null}}",
		"{\"device_type\":\"cpu\",\"placement\":{\"known\":true,\"nodes\":40,\"nodes_on_ep\":35,\"partitions\":3,"
		"\"fallback_ops\":[\"If\",\"Shape x4\"],\"fallback_nodes\":5,\"note\":null}}",
		"{\"device_type\":\"gpu\",\"placement\":{\"known\":false,\"fallback_ops\":[],"
		"\"note\":\"onnxruntime-web logged no node placement for this webnn session\"}}",
		"{\"load_ms\":3}",
	};
	const char *want[] = {
		"WebNN took 79 of 79 nodes (1 partition); deviceType gpu; no op on ORT's CPU fallback",
		"WebNN took 35 of 40 nodes (3 partitions); deviceType cpu; on ORT's CPU (wasm) fallback, 5 nodes: If, Shape x4",
		"onnxruntime-web logged no node placement for this webnn session",
		"",
	};
	for (int i = 0; i < 4; i++) {
		e = ev(EV_SESSION_LOADING, 1, 0);
		e.session = i + 1;
		e.model = 1;
		e.precision = "fp32";
		e.platform = "webnn";
		e.text = "model.onnx";
		CHECK_OK(apply_ok(p, &e));
		e = ev(EV_SESSION_READY, 1, 0);
		e.session = i + 1;
		e.x[0] = 12;
		e.platform = "webnn";
		e.data = DEFER_JSON(cJSON_Parse(replies[i]));
		CHECK(e.data != NULL);
		CHECK_OK(apply_ok(p, &e));
		const pool_session *s = pool_session_find(p, 1, i + 1);
		CHECK(s != NULL);
		CHECK_STR(s->placement, want[i]);
		const pool_log_entry *le = pool_log_at(p, pool_log_count(p) - 1);
		CHECK(le != NULL);
		if (want[i][0])
			CHECK_CONTAINS(le->text, want[i]);
	}
	return 0;
}
