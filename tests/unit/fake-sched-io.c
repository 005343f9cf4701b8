/* FAKE browsers for the scheduler's unit tests: see fake-sched-io.h. Test code, not product code.
 *
 * This is the one file that knows the shape of sched_io (typed load, run and unload calls, which it
 * encodes with bridge/proto.c into the accel.v1 JSON the page would get, plus complete binary
 * frames per run) and how the scheduler's tick timer is found; the replies are the page's
 * (browser-js/handlers.js), checked by the real codec. */
#include "fake-sched-io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define FAKE_MAX_MSGS 4096

struct fake_io {
	uv_loop_t *loop;
	pool *p;
	sched *s;
	uint32_t next_id;         /* like the bridge: one counter for every browser */
	fake_msg *msgs[FAKE_MAX_MSGS];
	size_t n_msgs;
	int refused;
	char last_refusal[300];
};

static void refuse(fake_io *f, const char *what, const char *why)
{
	f->refused++;
	snprintf(f->last_refusal, sizeof f->last_refusal, "%.40s: %.250s", what, why);
	fprintf(stdout, "     fake-sched-io: %s\n", f->last_refusal);
}

/* ---------------------------------------------------------------- the scheduler's output */

static int fake_emit(void *ctx, const ac_event *ev, ac_err *err)
{
	fake_io *f = ctx;
	int rc = pool_apply(f->p, ev, err);
	if (rc)
		refuse(f, ev_kind_name(ev->kind), err->msg);
	return rc;
}

static const char *str_of(const cJSON *msg, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int int_of(const cJSON *msg, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, key);
	return cJSON_IsNumber(v) ? v->valueint : -1;
}

static bool browser_connected(const fake_io *f, int browser)
{
	const pool_browser *b = pool_browser_find(f->p, browser);
	return b && b->state == BS_CONNECTED;
}

/* Keeps frame i of a run as the page gets it: the bridge stamps the request id and the index. */
static int keep_frame(fake_io *f, fake_msg *m, int i, const void *data, size_t len)
{
	char err[160];
	proto_frame pf;
	if (len < 16 || !(m->frames[i] = malloc(len)))
		return -1;
	memcpy(m->frames[i], data, len);
	m->lens[i] = len;
	for (int k = 0; k < 4; k++) {
		m->frames[i][8 + k] = (unsigned char)(m->id >> (8 * k));
		m->frames[i][12 + k] = (unsigned char)((unsigned)i >> (8 * k));
	}
	if (proto_decode_frame(m->frames[i], len, &pf, err, sizeof err)) {
		refuse(f, "run frame", err);
		return -1;
	}
	ac_strlcpy(m->frame_names[i], pf.name, sizeof m->frame_names[i]);
	return 0;
}

static int fake_send(void *ctx, int browser, cJSON *msg, const void *const *frames, const size_t *lens, int n,
		     uint32_t *id)
{
	fake_io *f = ctx;
	const char *type = str_of(msg, "type");
	if (!browser_connected(f, browser)) { /* the bridge has no connection to send on */
		refuse(f, type, "sent to a browser that is not connected");
		return AC_ENOENT;
	}
	if (f->n_msgs == FAKE_MAX_MSGS || n > CAT_MAX_IO || n < 0)
		return AC_ENOMEM;
	fake_msg *m = calloc(1, sizeof *m);
	if (!m)
		return AC_ENOMEM;
	m->browser = browser;
	m->id = ++f->next_id;
	if (!strcmp(type, "load"))
		m->kind = FM_LOAD;
	else if (!strcmp(type, "run"))
		m->kind = FM_RUN;
	else if (!strcmp(type, "unload"))
		m->kind = FM_UNLOAD;
	else
		refuse(f, type, "not a command the page takes from the scheduler");
	m->session = int_of(msg, "session");
	ac_strlcpy(m->model, str_of(msg, "model"), sizeof m->model);
	ac_strlcpy(m->precision, str_of(msg, "precision"), sizeof m->precision);
	ac_strlcpy(m->platform, str_of(msg, "platform"), sizeof m->platform);
	ac_strlcpy(m->url, str_of(msg, "url"), sizeof m->url);
	m->want_outputs = !strcmp(str_of(msg, "outputs"), "all");
	if (m->kind == FM_RUN && int_of(msg, "tensors") != n)
		refuse(f, "run", "'tensors' differs from the frames sent");
	f->msgs[f->n_msgs++] = m;
	for (int i = 0; i < n; i++, m->n_frames++)
		if (keep_frame(f, m, i, frames[i], lens[i]))
			break;
	*id = m->id;
	return 0;
}

/* The typed sched_io calls, encoded by bridge/proto.c as the bridge would send them: the fake
 * reads the same JSON the page gets. */
static int fake_sent(void *ctx, int browser, cJSON *msg, const void *const *frames, const size_t *lens, int n,
		     uint32_t *id)
{
	if (!msg)
		return AC_ENOMEM;
	int rc = fake_send(ctx, browser, msg, frames, lens, n, id);
	cJSON_Delete(msg);
	return rc;
}

static int fake_load(void *ctx, int browser, const sched_load *l, uint32_t *id)
{
	return fake_sent(ctx, browser, proto_encode_load(l), NULL, NULL, 0, id);
}

static int fake_run(void *ctx, int browser, const sched_run *r, const void *const *frames, const size_t *lens, int n,
		    uint32_t *id)
{
	return fake_sent(ctx, browser, proto_encode_run(r), frames, lens, n, id);
}

static int fake_unload(void *ctx, int browser, int session, uint32_t *id)
{
	return fake_sent(ctx, browser, proto_encode_unload((uint32_t)session), NULL, NULL, 0, id);
}

int fake_new(uv_loop_t *loop, pool *p, const catalog *cat, const sched_config *cfg, fake_io **out)
{
	fake_io *f = calloc(1, sizeof *f);
	if (!f)
		return AC_ENOMEM;
	f->loop = loop;
	f->p = p;
	sched_io io = { .emit = fake_emit, .load = fake_load, .run = fake_run, .unload = fake_unload, .ctx = f };
	int rc = sched_new(loop, p, cat, cfg, &io, &f->s);
	if (!rc)
		rc = pool_add_listener(p, sched_on_event, f->s);
	if (rc) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

sched *fake_sched(fake_io *f)
{
	return f->s;
}

void fake_free(fake_io *f)
{
	if (!f)
		return;
	sched_close(f->s);
	uv_run(f->loop, UV_RUN_DEFAULT); /* the timers' close callbacks */
	sched_free(f->s);
	for (size_t i = 0; i < f->n_msgs; i++) {
		for (int k = 0; k < f->msgs[i]->n_frames; k++)
			free(f->msgs[i]->frames[k]);
		free(f->msgs[i]);
	}
	free(f);
}

/* ---------------------------------------------------------------- browsers */

int fake_browser_event(fake_io *f, ev_kind kind, int browser, const char *why)
{
	ac_err err;
	ac_event ev = { .kind = kind, .t_us = ac_now_us(), .browser = browser, .text = why };
	int rc = pool_apply(f->p, &ev, &err);
	if (rc)
		refuse(f, ev_kind_name(kind), err.msg);
	return rc;
}

int fake_connect_hello(fake_io *f, int browser, const char *kind, const cJSON *hello)
{
	ac_err err;
	cJSON *h = cJSON_Duplicate(hello, true);
	cJSON *b = h ? cJSON_GetObjectItemCaseSensitive(h, "browser") : NULL;
	if (!b)
		return AC_EINVAL;
	cJSON_DeleteItemFromObjectCaseSensitive(b, "name");
	cJSON_AddStringToObject(b, "name", kind);
	ac_event ev = { .kind = EV_BROWSER_CONNECTED, .t_us = ac_now_us(), .browser = browser, .family = kind };
	int rc = pool_apply(f->p, &ev, &err);
	if (!rc) {
		ev = (ac_event){ .kind = EV_BROWSER_HELLO, .t_us = ac_now_us(), .browser = browser, .data = h };
		rc = pool_apply(f->p, &ev, &err);
	}
	if (rc)
		refuse(f, "connect", err.msg);
	cJSON_Delete(h);
	return rc;
}

int fake_connect(fake_io *f, int browser, const char *kind, const char *fixture)
{
	const cJSON *hello = load_fixture(fixture);
	return hello ? fake_connect_hello(f, browser, kind, hello) : AC_ENOENT;
}

/* ---------------------------------------------------------------- what was sent */

int fake_pending(const fake_io *f, int browser, fake_kind kind)
{
	int n = 0;
	for (size_t i = 0; i < f->n_msgs; i++)
		n += !f->msgs[i]->answered && f->msgs[i]->kind == kind && (!browser || f->msgs[i]->browser == browser);
	return n;
}

fake_msg *fake_next(const fake_io *f, int browser, fake_kind kind)
{
	for (size_t i = 0; i < f->n_msgs; i++)
		if (!f->msgs[i]->answered && f->msgs[i]->kind == kind && (!browser || f->msgs[i]->browser == browser))
			return f->msgs[i];
	return NULL;
}

size_t fake_count(const fake_io *f)
{
	return f->n_msgs;
}

fake_msg *fake_at(const fake_io *f, size_t i)
{
	return i < f->n_msgs ? f->msgs[i] : NULL;
}

/* ---------------------------------------------------------------- answers */

/* Decodes json (and the frames) as the bridge does and hands them to the scheduler. */
static int deliver(fake_io *f, fake_msg *m, const char *json, unsigned char *const *bufs, const size_t *lens, int n)
{
	char err[256];
	proto_msg pm;
	proto_frame frames[CAT_MAX_IO];
	int rc = proto_decode_text(json, strlen(json), &pm, err, sizeof err);
	if (rc) {
		refuse(f, "reply", err);
		return rc;
	}
	for (int i = 0; i < n && !rc; i++)
		if ((rc = proto_decode_frame(bufs[i], lens[i], &frames[i], err, sizeof err)))
			refuse(f, "reply frame", err);
	m->answered = true; /* before: the scheduler sends more from inside */
	if (!rc)
		sched_on_response(f->s, m->browser, &pm, frames, n);
	proto_msg_free(&pm);
	return rc;
}

int fake_answer_load(fake_io *f, fake_msg *m, const char *ep, int lanes)
{
	char json[512], extra[64] = "";
	if (!m || m->kind != FM_LOAD || m->answered)
		return AC_EINVAL;
	if (lanes > 0)
		snprintf(extra, sizeof extra, ",\"lanes\":%d", lanes);
	snprintf(json, sizeof json,
		 "{\"type\":\"loaded\",\"id\":%u,\"session\":%d,\"load_ms\":12.5,\"fetch_ms\":1.5,\"bytes\":1024,"
		 "\"ep\":[\"%s\"],\"inputs\":[],\"outputs\":[],\"ort_version\":\"1.30.0\",\"threads\":1%s}",
		 m->id, m->session, ep ? ep : m->platform, extra);
	return deliver(f, m, json, NULL, NULL, 0);
}

static unsigned char *frame_out(const fake_out *o, uint32_t id, uint32_t index, size_t *len)
{
	proto_frame pf = { .dtype = DT_FLOAT32, .rank = 1, .req_id = id, .index = index, .dims = { (uint64_t)o->n } };
	ac_strlcpy(pf.name, o->name, sizeof pf.name);
	uint8_t hdr[512];
	size_t hl = proto_encode_frame_header(&pf, hdr, sizeof hdr);
	size_t bytes = (size_t)o->n * sizeof(float);
	unsigned char *buf = hl ? malloc(hl + bytes) : NULL;
	if (!buf)
		return NULL;
	memcpy(buf, hdr, hl);
	memcpy(buf + hl, o->v, bytes);
	*len = hl + bytes;
	return buf;
}

int fake_answer_run(fake_io *f, fake_msg *m, int lane, const fake_out *outs, int n_outs)
{
	if (!m || m->kind != FM_RUN || m->answered || n_outs > CAT_MAX_IO)
		return AC_EINVAL;
	int n = m->want_outputs ? n_outs : 0;
	unsigned char *bufs[CAT_MAX_IO];
	size_t lens[CAT_MAX_IO];
	int made = 0;
	for (; made < n; made++)
		if (!(bufs[made] = frame_out(&outs[made], m->id, (uint32_t)made, &lens[made])))
			break;
	char json[256];
	snprintf(json, sizeof json,
		 "{\"type\":\"result\",\"id\":%u,\"session\":%d,\"lane\":%d,\"compute_ms\":1.25,\"queue_ms\":0.5,"
		 "\"tensors\":%d}", m->id, m->session, lane, n);
	int rc = made == n ? deliver(f, m, json, bufs, lens, n) : AC_ENOMEM;
	for (int i = 0; i < made; i++)
		free(bufs[i]);
	return rc;
}

int fake_answer_unload(fake_io *f, fake_msg *m)
{
	char json[128];
	if (!m || m->kind != FM_UNLOAD || m->answered)
		return AC_EINVAL;
	snprintf(json, sizeof json, "{\"type\":\"unloaded\",\"id\":%u,\"session\":%d}", m->id, m->session);
	return deliver(f, m, json, NULL, NULL, 0);
}

int fake_answer_error(fake_io *f, fake_msg *m, const char *code, const char *message)
{
	if (!m || m->answered)
		return AC_EINVAL;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "type", "error");
	cJSON_AddNumberToObject(j, "id", m->id);
	cJSON_AddStringToObject(j, "code", code);
	cJSON_AddStringToObject(j, "message", message);
	char *json = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = json ? deliver(f, m, json, NULL, NULL, 0) : AC_ENOMEM;
	free(json);
	return rc;
}

int fake_answer_all(fake_io *f, int lanes, const fake_out *outs, int n_outs, int max)
{
	int replies = 0;
	for (size_t i = 0; i < f->n_msgs && replies < max; i++) {
		fake_msg *m = f->msgs[i];
		if (m->answered || !browser_connected(f, m->browser))
			continue;
		int rc = m->kind == FM_LOAD ? fake_answer_load(f, m, NULL, lanes)
		       : m->kind == FM_RUN  ? fake_answer_run(f, m, 0, outs, n_outs)
					    : fake_answer_unload(f, m);
		if (rc)
			return rc;
		replies++;
		i = (size_t)-1; /* from the start: the answer may have sent more */
	}
	return replies;
}

int fake_refused(const fake_io *f)
{
	return f->refused;
}

const char *fake_last_refusal(const fake_io *f)
{
	return f->last_refusal;
}

/* ---------------------------------------------------------------- the scheduler's clock */

typedef struct {
	void *data;
	uv_timer_t *found;
} tick_find;

static void find_tick(uv_handle_t *h, void *arg)
{
	tick_find *t = arg;
	/* the scheduler's tick is the timer whose data is the scheduler (pool/sched.c, sched_new) */
	if (h->type == UV_TIMER && h->data == t->data && uv_is_active(h))
		t->found = (uv_timer_t *)h;
}

int fake_tick(fake_io *f)
{
	tick_find t = { f->s, NULL };
	uv_walk(f->loop, find_tick, &t);
	if (!t.found)
		return AC_ENOENT;
	/* due in 1 ms, then back to its own period: one run of the loop fires it exactly once */
	uint64_t period = uv_timer_get_repeat(t.found);
	uv_timer_set_repeat(t.found, 1);
	uv_timer_again(t.found);
	uv_timer_set_repeat(t.found, period);
	uv_sleep(2);
	uv_run(f->loop, UV_RUN_NOWAIT);
	return 0;
}

void fake_clock_back(fake_io *f, uint64_t ms)
{
	/* libuv's cached loop time (uv_now()); uv_run() sets it from the real clock again */
	f->loop->time = f->loop->time > ms ? f->loop->time - ms : 0;
}
