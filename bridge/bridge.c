/* The libwebsockets server: HTTP mounts, the accel.v1 session per connection, heartbeats, and
 * admission (token, Origin, GET /admission).
 * See ../../shared/notes/lws-libuv.md for the lws-on-libuv facts this relies on.
 * The parts with one job each live beside it: proto.c (the codec), replies.c (who gets a reply),
 * origins.c (the allowed origins as pure functions), admission.c (token and Origin checks, the
 * refusal lines, GET /admission, the origins and URLs of this listener). What stays (over ~600
 * lines) is what shares the per-connection state lws hands each callback: sending, receiving and
 * reassembly, replies, heartbeats, and the public calls that reach a connection. */
#include <uv.h> /* before libwebsockets.h, or the lws_uv_* declarations are missing */
#include <libwebsockets.h>

#include "bridge_internal.h"
#include "../pool/caps.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static const struct lws_protocol_vhost_options mime_wasm = { NULL, NULL, ".wasm", "application/wasm" };
static const struct lws_protocol_vhost_options mime_onnx = { &mime_wasm, NULL, ".onnx", "application/octet-stream" };
static const struct lws_protocol_vhost_options mime_mjs = { &mime_onnx, NULL, ".mjs", "text/javascript" };

/* Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer) and exposes
 * measureUserAgentSpecificMemory(); nosniff keeps the MIME types honest. */
static const struct lws_protocol_vhost_options hdr_nosniff = { NULL, NULL, "x-content-type-options:", "nosniff" };
static const struct lws_protocol_vhost_options hdr_cache = { &hdr_nosniff, NULL, "cache-control:", "no-store" };
static const struct lws_protocol_vhost_options hdr_corp = { &hdr_cache, NULL, "cross-origin-resource-policy:", "same-origin" };
static const struct lws_protocol_vhost_options hdr_coep = { &hdr_corp, NULL, "cross-origin-embedder-policy:", "require-corp" };
static const struct lws_protocol_vhost_options hdr_coop = { &hdr_coep, NULL, "cross-origin-opener-policy:", "same-origin" };

bridge *bridge_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

void bridge_emit(bridge *b, ev_kind kind, int browser, const char *text, const cJSON *data, const char *family)
{
	ac_event ev = { .kind = kind, .t_us = ac_now_us(), .browser = browser, .text = text, .data = data,
			.family = family };
	ac_err err;
	if (b->sink.on_event(b->sink.ctx, &ev, &err) && kind != EV_ERROR) {
		ac_event e2 = { .kind = EV_ERROR, .t_us = ev.t_us, .browser = browser, .text = err.msg };
		b->sink.on_event(b->sink.ctx, &e2, &err);
	}
}

/* ---------------------------------------------------------------- sending */

/* A connection whose queue passed the limit is dropped: a peer that asks and does not read
 * (a stopped page, a slow reader) would otherwise grow our memory without bound. Dropped through
 * lws's own timeout (the async kill), so that whoever called enqueue() may still use c. */
static void drop_over_limit(conn *c)
{
	bridge *b = c->br;
	c->tx_over = true;
	snprintf(c->close_reason, sizeof c->close_reason, "dropped: send queue over %.0f %s (it stopped reading)",
		 b->cfg.send_queue_max >= (1u << 20) ? b->cfg.send_queue_max / 1048576.0 : b->cfg.send_queue_max / 1024.0,
		 b->cfg.send_queue_max >= (1u << 20) ? "MiB" : "KiB");
	lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"send queue over its limit", 25);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	lws_cancel_service(b->ctx);
}

/* A message of len bytes to fill in place (LWS_PRE headroom before it), then queue_push(). */
static txmsg *queue_alloc(conn *c, enum lws_write_protocol kind, size_t len, int *rc)
{
	*rc = AC_EIO;
	if (c->tx_over)
		return NULL;
	/* the backlog before this message: one message larger than the limit (a big tensor) still goes */
	if (c->tx_bytes > c->br->cfg.send_queue_max) {
		drop_over_limit(c);
		return NULL;
	}
	txmsg *m = malloc(sizeof *m + LWS_PRE + len);
	*rc = m ? 0 : AC_ENOMEM;
	if (m) {
		m->next = NULL;
		m->kind = kind;
		m->len = len;
	}
	return m;
}

static void queue_push(conn *c, txmsg *m)
{
	if (c->tx_tail)
		c->tx_tail->next = m;
	else
		c->tx_head = m;
	c->tx_tail = m;
	c->tx_bytes += sizeof *m + LWS_PRE + m->len; /* what it holds, so that many small ones count too */
	lws_callback_on_writable(c->wsi);
}

static int enqueue(conn *c, enum lws_write_protocol kind, const void *data, size_t len)
{
	int rc;
	txmsg *m = queue_alloc(c, kind, len, &rc);
	if (!m)
		return rc;
	memcpy(m->buf + LWS_PRE, data, len);
	queue_push(c, m);
	return 0;
}

static int enqueue_text(conn *c, char *json_owned)
{
	if (!json_owned)
		return AC_ENOMEM;
	int rc = enqueue(c, LWS_WRITE_TEXT, json_owned, strlen(json_owned));
	free(json_owned);
	return rc;
}

static void send_error(conn *c, bool has_id, uint32_t id, int code, const char *msg)
{
	enqueue_text(c, proto_error_json(has_id, id, (proto_errc)code, msg));
}

static int write_one(conn *c)
{
	txmsg *m = c->tx_head;
	if (!m)
		return 0;
	int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, m->kind);
	if (n < (int)m->len)
		return -1;
	c->br->legs.written_ns = uv_hrtime();
	c->tx_bytes -= sizeof *m + LWS_PRE + m->len;
	c->tx_head = m->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	free(m);
	if (c->tx_head)
		lws_callback_on_writable(c->wsi);
	return 0;
}

void bridge_legs(const bridge *b, bridge_legs_t *out)
{
	*out = b->legs;
}

static conn *find_conn(const bridge *b, int browser)
{
	conn *c = browser > 0 && (size_t)browser < b->n_by_browser ? b->by_browser[browser] : NULL;
	return c && c->browser == browser && c->hello_done && !c->lost ? c : NULL;
}

/* by_browser[id] = c (NULL clears it, only where it still points at c) */
static void index_conn(bridge *b, int id, conn *c, conn *was)
{
	if (id <= 0)
		return;
	if ((size_t)id >= b->n_by_browser) {
		if (!c)
			return;
		size_t n = b->n_by_browser ? b->n_by_browser : 64;
		while (n <= (size_t)id)
			n *= 2;
		conn **nb = realloc(b->by_browser, n * sizeof *nb);
		if (!nb)
			return; /* find_conn() then misses it: sends fail with AC_ENOENT, nothing worse */
		memset(nb + b->n_by_browser, 0, (n - b->n_by_browser) * sizeof *nb);
		b->by_browser = nb;
		b->n_by_browser = n;
	}
	if (c || b->by_browser[id] == was)
		b->by_browser[id] = c;
}

static uint32_t remember(conn *c, pend_kind kind)
{
	uint32_t id = ++c->br->next_id;
	int slot = (int)(id % PENDING_MAX); /* the oldest outstanding request in a slot is forgotten */
	c->pend[slot].kind = kind;
	c->pend[slot].id = id;
	c->pend[slot].sent_ns = uv_hrtime();
	return id;
}

static bool take_pending(conn *c, uint32_t id, pend_kind *kind, uint64_t *rtt_ns)
{
	int slot = (int)(id % PENDING_MAX);
	if (c->pend[slot].kind == PEND_FREE || c->pend[slot].id != id)
		return false;
	*kind = c->pend[slot].kind;
	*rtt_ns = uv_hrtime() - c->pend[slot].sent_ns;
	c->pend[slot].kind = PEND_FREE;
	return true;
}

static int send_ping(conn *c, pend_kind kind, uint32_t *id_out)
{
	uint32_t id = remember(c, kind);
	if (id_out)
		*id_out = id;
	return enqueue_text(c, proto_simple_json(PM_PING, true, id));
}

/* ---------------------------------------------------------------- closing */

/* Close from a uv callback (not from inside an lws callback of this wsi). The CLOSED callback runs
 * inside lws_set_timeout(), so c is gone afterwards. */
static void close_now(conn *c, enum lws_close_status status, const char *reason)
{
	ac_strlcpy(c->close_reason, reason, sizeof c->close_reason);
	lws_close_reason(c->wsi, status, (unsigned char *)reason, strlen(reason));
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static void conn_release(conn *c)
{
	bridge *b = c->br;
	index_conn(b, c->browser, NULL, c);
	for (conn **pp = &b->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	while (c->tx_head) {
		txmsg *m = c->tx_head;
		c->tx_head = m->next;
		free(m);
	}
	free(c->rx);
	proto_msg_free(&c->pending_msg);
	for (int i = 0; i < PROTO_MAX_TENSORS; i++)
		free(c->fbuf[i]);
	if (c->browser) {
		char why[224];
		if (c->close_reason[0])
			snprintf(why, sizeof why, "%s", c->close_reason);
		else if (c->peer_close_code)
			snprintf(why, sizeof why, "the browser closed the socket (code %u)", c->peer_close_code);
		else
			snprintf(why, sizeof why, "the socket closed without a close frame");
		if (!b->stopping && !c->lost) /* a lost one was reported when it fell silent */
			bridge_emit(b, EV_BROWSER_LOST, c->browser, why, NULL, NULL);
	}
}

/* ---------------------------------------------------------------- receiving */

/* Whether the hello's optional "protocol_features" (an array of strings) lists name. */
static bool lists_feature(const cJSON *hello, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(hello, "protocol_features");
	if (!cJSON_IsArray(f))
		return false;
	const cJSON *it;
	cJSON_ArrayForEach(it, f)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, name))
			return true;
	return false;
}

/* Closes c as no longer its browser's: the id leaves the index first, so that its close reports
 * no "lost" (the browser has a newer socket, or was forgotten). */
static void drop_unowned(bridge *b, conn *c, const char *reason, enum lws_close_status status, const char *frame)
{
	index_conn(b, c->browser, NULL, c);
	c->browser = 0;
	ac_strlcpy(c->close_reason, reason, sizeof c->close_reason);
	lws_close_reason(c->wsi, status, (unsigned char *)frame, strlen(frame));
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_hello(conn *c, proto_msg *m)
{
	bridge *b = c->br;
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(m->root, "instance");
	bool has_req = cJSON_IsNumber(inst);
	int id = b->sink.resolve_id(b->sink.ctx, has_req, has_req ? (uint32_t)inst->valuedouble : 0);
	for (conn *old = b->conns; old; old = old->next) {
		if (old == c || !id || old->browser != id || !old->hello_done)
			continue;
		/* the browser reconnected before we noticed the old socket die, or after it was
		 * declared lost: the old socket goes, without a second "lost" */
		drop_unowned(b, old, "replaced by a newer connection", LWS_CLOSE_STATUS_NORMAL, "replaced");
	}
	const cJSON *browser = cJSON_GetObjectItemCaseSensitive(m->root, "browser");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(browser, "name");
	c->browser = id;
	char peer[64] = ""; /* where it connected from: /metrics' host label for a browser elsewhere */
	lws_get_peer_simple(c->wsi, peer, sizeof peer);
	if (!strncmp(peer, "::ffff:", 7) && strchr(peer, '.')) /* an IPv4 peer on a dual-stack socket */
		memmove(peer, peer + 7, strlen(peer + 7) + 1);
	bridge_emit(b, EV_BROWSER_CONNECTED, id, peer[0] ? peer : NULL, NULL,
		    cJSON_IsString(name) ? name->valuestring : NULL);
	/* Check the capabilities before welcoming, so that whoever reacts to the hello event can
	 * already send to this browser, and the welcome goes out before anything else. */
	ac_caps caps;
	ac_err err;
	if (caps_from_hello(m->root, &caps, &err)) {
		send_error(c, true, m->id, PE_BAD_MESSAGE, err.msg);
		bridge_emit(b, EV_ERROR, id, err.msg, NULL, NULL);
		return;
	}
	c->hello_done = true;
	index_conn(b, id, c, NULL);
	cJSON *w = cJSON_CreateObject();
	cJSON_AddStringToObject(w, "type", "welcome");
	cJSON_AddNumberToObject(w, "id", m->id);
	cJSON_AddNumberToObject(w, "instance", id);
	cJSON_AddNumberToObject(w, "heartbeat_ms", b->cfg.heartbeat_ms);
	cJSON_AddNumberToObject(w, "timeout_ms", b->cfg.timeout_ms);
	c->onemsg = lists_feature(m->root, PROTO_FEATURE_ONEMSG);
	if (c->onemsg) { /* we accept its replies as one message too, up to the size limit */
		cJSON_AddItemToObject(w, "protocol_features", cJSON_CreateStringArray((const char *[]){ PROTO_FEATURE_ONEMSG }, 1));
		cJSON_AddNumberToObject(w, "max_message", (double)b->cfg.max_message);
	}
	char *s = cJSON_PrintUnformatted(w);
	cJSON_Delete(w);
	enqueue_text(c, s);
	bridge_emit(b, EV_BROWSER_HELLO, id, NULL, m->root, NULL);
}

/* ---------------------------------------------------------------- replies to requests */

/* A reply to one of our requests (or claiming to be): to its owner. */
static void route_reply(conn *c, const proto_msg *m, const proto_frame *frames, int n)
{
	bridge *b = c->br;
	reply_slot r;
	if (b->stopping) /* the owners are closing (the scheduler, the tuner) */
		return;
	if (m->has_id && replies_take(&b->replies, m->id, c->browser, &r)) {
		r.cb(r.ctx, c->browser, m, frames, n);
		return;
	}
	if (m->type != PM_ERROR)
		return;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(m->root, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(m->root, "message");
	char text[400];
	snprintf(text, sizeof text, "browser %d: %s: %s", c->browser, cJSON_IsString(code) ? code->valuestring : "error",
		 cJSON_IsString(msg) ? msg->valuestring : "");
	bridge_emit(b, EV_ERROR, c->browser, text, NULL, NULL);
}

/* A reply of ours completed: a pong, or an echo with all its frames. page_mem: the bytes a pong
 * reported from measureUserAgentSpecificMemory(), 0 = none. */
static void on_reply(conn *c, pm_type type, uint32_t id, size_t bytes, int64_t page_mem)
{
	bridge *b = c->br;
	pend_kind kind;
	uint64_t rtt;
	if (!take_pending(c, id, &kind, &rtt) || (type == PM_ECHO) != (kind == PEND_ECHO)) {
		char msg[96];
		snprintf(msg, sizeof msg, "'%s' with id %u answers no request of ours", pm_type_name(type), id);
		send_error(c, true, id, PE_OUT_OF_ORDER, msg);
		return;
	}
	if (kind == PEND_HEARTBEAT) {
		ac_event ev = { .kind = EV_BROWSER_RTT, .t_us = ac_now_us(), .browser = c->browser,
				.num = (int64_t)(rtt / 1000), .num2 = page_mem };
		ac_err err;
		b->sink.on_event(b->sink.ctx, &ev, &err);
	}
	if (b->sink.on_reply)
		b->sink.on_reply(b->sink.ctx, c->browser, type, id, rtt, bytes);
}

/* The optional "ua_memory" of a pong: bytes, a positive integer below 2^53. Anything else is
 * answered with an error and not used. */
static int64_t pong_page_memory(conn *c, const proto_msg *m)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->root, "ua_memory");
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 9007199254740992.0) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble) {
		send_error(c, true, m->id, PE_BAD_MESSAGE, "pong: field 'ua_memory' must be a positive integer (bytes)");
		return 0;
	}
	return (int64_t)v->valuedouble;
}

/* An error from the page: the answer to one of our requests, or a notice. */
static void on_error_msg(conn *c, const proto_msg *m)
{
	if (m->has_id) {
		route_reply(c, m, NULL, 0);
		return;
	}
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(m->root, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(m->root, "message");
	char text[400];
	snprintf(text, sizeof text, "browser reported %s: %s", code->valuestring, msg->valuestring);
	bridge_emit(c->br, EV_ERROR, c->browser, text, NULL, NULL);
}

/* A message and all its n frames are in (bytes: theirs together). */
static void complete(conn *c, proto_msg *m, const proto_frame *frames, int n, size_t bytes)
{
	if (m->type == PM_ECHO)
		on_reply(c, PM_ECHO, m->id, bytes, 0);
	else
		route_reply(c, m, frames, n);
}

/* The frames of the old form, kept as they came (c->fbuf), decoded again and completed. */
static void complete_kept(conn *c, proto_msg *m)
{
	proto_frame frames[PROTO_MAX_TENSORS];
	char err[160];
	uint32_t n = 0;
	if (m->type != PM_ECHO)
		for (; n < m->tensors; n++)
			if (proto_decode_frame(c->fbuf[n], c->flen[n], &frames[n], err, sizeof err))
				break; /* checked on arrival already */
	complete(c, m, frames, (int)n, c->frames_bytes);
	for (uint32_t i = 0; i < m->tensors && i < PROTO_MAX_TENSORS; i++) {
		free(c->fbuf[i]);
		c->fbuf[i] = NULL;
	}
}

/* The page's own legs in a result (bench/overhead). */
static void result_legs(bridge *b, const proto_msg *m)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(m->root, "inputs_ms");
	b->legs.page_inputs_ms = cJSON_IsNumber(n) ? n->valuedouble : -1;
	n = cJSON_GetObjectItemCaseSensitive(m->root, "recv_at_ms");
	b->legs.page_recv_at_ms = cJSON_IsNumber(n) ? n->valuedouble : -1;
}

/* A decoded message: a text one (frames NULL: its frames, if any, follow as binary frames), or
 * one message with its n frames in place (the receive buffer). */
static void on_message(conn *c, proto_msg *m, const proto_frame *frames, int n)
{
	bridge *b = c->br;
	char err[256];
	b->legs.text_decoded_ns = uv_hrtime();
	if (m->type == PM_RESULT)
		result_legs(b, m);
	if (c->frames_left) {
		send_error(c, m->has_id, m->id, PE_OUT_OF_ORDER, "a message arrived while binary frames were still due");
		proto_msg_free(&c->pending_msg);
		c->frames_left = 0;
	}
	if (c->lost && !c->told_to_reconnect) {
		/* it was silent past the timeout and speaks again (a frozen process resumed): its work
		 * has gone elsewhere, so whatever it sends now is late; a fresh connection resumes it */
		c->told_to_reconnect = true;
		enqueue_text(c, proto_simple_json(PM_RECONNECT, false, 0));
	}
	if (!c->hello_done && m->type != PM_HELLO && m->type != PM_ERROR) {
		snprintf(err, sizeof err, "expected 'hello' first, got '%s'", pm_type_name(m->type));
		send_error(c, m->has_id, m->id, PE_OUT_OF_ORDER, err);
		return;
	}
	switch (m->type) {
	case PM_HELLO:
		if (c->hello_done)
			send_error(c, true, m->id, PE_OUT_OF_ORDER, "'hello' was already received on this connection");
		else
			on_hello(c, m);
		break;
	case PM_PING:
		enqueue_text(c, proto_simple_json(PM_PONG, true, m->id));
		break;
	case PM_PONG:
		on_reply(c, PM_PONG, m->id, 0, pong_page_memory(c, m));
		break;
	case PM_ECHO:
	case PM_RESULT:
	case PM_LOGMEL_RESULT:
		if (frames || m->tensors == 0) {
			size_t bytes = 0;
			for (int i = 0; i < n; i++)
				bytes += frames[i].hdr_len + frames[i].data_len;
			complete(c, m, frames, n, bytes);
			break;
		}
		c->pending_msg = *m; /* complete once its frames are in */
		m->root = NULL;
		c->frames_left = m->tensors;
		c->frames_next = 0;
		c->frames_bytes = 0;
		break;
	case PM_LOADED:
	case PM_UNLOADED:
		route_reply(c, m, NULL, 0);
		break;
	case PM_ERROR:
		on_error_msg(c, m);
		break;
	default:
		snprintf(err, sizeof err, "'%s' is sent by the server, not by a browser", pm_type_name(m->type));
		send_error(c, m->has_id, m->id, PE_OUT_OF_ORDER, err);
	}
}

static void on_text(conn *c)
{
	char err[256];
	proto_msg m;
	int rc = proto_decode_text((const char *)c->rx, c->rx_len, &m, err, sizeof err);
	if (rc) {
		send_error(c, m.has_id, m.id, rc, err);
		return;
	}
	on_message(c, &m, NULL, 0);
	proto_msg_free(&m);
}

/* One message per request: the JSON and its frames, decoded in place from the receive buffer. */
static void on_onemsg(conn *c)
{
	char err[256];
	proto_msg m;
	proto_frame frames[PROTO_MAX_TENSORS];
	int n;
	int rc = proto_decode_onemsg(c->rx, c->rx_len, &m, frames, &n, err, sizeof err);
	if (rc) {
		send_error(c, m.has_id, m.id, rc, err);
		return;
	}
	on_message(c, &m, frames, n);
	proto_msg_free(&m);
}

static void on_binary(conn *c)
{
	char err[256];
	proto_frame f;
	if (proto_is_onemsg(c->rx, c->rx_len)) {
		on_onemsg(c);
		return;
	}
	int rc = proto_decode_frame(c->rx, c->rx_len, &f, err, sizeof err);
	if (rc) {
		send_error(c, false, 0, rc, err);
		return;
	}
	if (!c->frames_left || f.req_id != c->pending_msg.id || f.index != c->frames_next) {
		snprintf(err, sizeof err, "binary frame for request %u index %u was not announced", f.req_id, f.index);
		send_error(c, true, f.req_id, PE_OUT_OF_ORDER, err);
		return;
	}
	if (c->pending_msg.type != PM_ECHO) { /* keep the frame: take the receive buffer */
		c->fbuf[f.index] = c->rx;
		c->flen[f.index] = c->rx_len;
		c->rx = NULL;
		c->rx_cap = 0;
	}
	c->frames_next++;
	c->frames_bytes += c->rx_len;
	if (--c->frames_left == 0) {
		complete_kept(c, &c->pending_msg);
		proto_msg_free(&c->pending_msg);
	}
}

static int on_receive(conn *c, const void *in, size_t len)
{
	bridge *b = c->br;
	if (lws_is_first_fragment(c->wsi)) {
		c->rx_len = 0;
		c->rx_binary = lws_frame_is_binary(c->wsi);
		if (!c->rx_binary || proto_is_onemsg(in, len))
			b->legs.text_rx_ns = uv_hrtime();
	}
	if (c->rx_len + len > b->cfg.max_message) {
		char why[96];
		snprintf(why, sizeof why, "message larger than %zu bytes (--max-message)", b->cfg.max_message);
		ac_strlcpy(c->close_reason, why, sizeof c->close_reason);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, strlen(why));
		return -1;
	}
	if (c->rx_len + len + 1 > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : RX_CHUNK;
		while (cap < c->rx_len + len + 1)
			cap *= 2;
		unsigned char *nb = realloc(c->rx, cap);
		if (!nb)
			return -1;
		c->rx = nb;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
		return 0;
	c->last_rx_ms = uv_now(b->loop);
	if (c->rx_binary)
		on_binary(c);
	else
		on_text(c);
	/* a one-off huge message should not pin its buffer for the life of the connection */
	if (c->rx_cap > 4 * RX_CHUNK) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- lws callbacks */

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION) {
		/* An upgrade that asked for no subprotocol lands here, on the http protocol. */
		bridge_refused(bridge_of(wsi), wsi, "subprotocol", "", "no '" PROTO_NAME "' subprotocol");
		return -1;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	bridge *b = bridge_of(wsi);
	conn *c = user;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		return bridge_admit(b, wsi) ? 0 : -1;
	}
	case LWS_CALLBACK_ESTABLISHED: {
		/* A request is a text message and then its frames: without TCP_NODELAY the frames wait
		 * for the peer's delayed ACK of the text (about 40 ms each time). */
		int one = 1;
		setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->br = b;
		c->wsi = wsi;
		c->last_rx_ms = uv_now(b->loop);
		c->next = b->conns;
		b->conns = c;
		return 0;
	}
	case LWS_CALLBACK_RECEIVE:
		return on_receive(c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return write_one(c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2)
			c->peer_close_code = (uint16_t)(((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1]);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (c->br)
			conn_release(c);
		return 0;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- heartbeat */

static void on_heartbeat(uv_timer_t *t)
{
	bridge *b = t->data;
	uint64_t now = uv_now(b->loop);
	conn *c = b->conns;
	while (c) {
		conn *next = c->next; /* close_now() frees c */
		uint64_t silent = now - c->last_rx_ms;
		if (c->lost) {
			/* kept open so that a resumed page can be told to reconnect; not for ever */
			if (silent > (uint64_t)b->cfg.timeout_ms * LOST_KEEP_FACTOR)
				close_now(c, LWS_CLOSE_STATUS_GOINGAWAY, "lost, and silent since");
		} else if (silent > b->cfg.timeout_ms && c->hello_done && c->browser) {
			char why[128];
			snprintf(why, sizeof why, "silent for %u ms (heartbeat timeout)", b->cfg.timeout_ms);
			c->lost = true;
			c->lost_ms = now;
			bridge_emit(b, EV_BROWSER_LOST, c->browser, why, NULL, NULL);
		} else if (silent > b->cfg.timeout_ms) {
			close_now(c, LWS_CLOSE_STATUS_GOINGAWAY, "no hello within the heartbeat timeout");
		} else if (c->hello_done) {
			send_ping(c, PEND_HEARTBEAT, NULL);
		}
		c = next;
	}
	lws_cancel_service(b->ctx);
}

/* ---------------------------------------------------------------- public */

static void lws_log(int level, const char *line)
{
	/* lws would otherwise write over the screen; its errors are for debugging only. */
	if (getenv("ACCEL_TOP_LWS_LOG"))
		fprintf(stderr, "lws[%d]: %s", level, line);
}

/* The vhost's protocols: plain http, the accel.v1 WebSocket, /admission, /metrics, the HTTP client. */
static void fill_protocols(bridge *b)
{
	b->protocols[0] = (struct lws_protocols){ .name = "http", .callback = http_cb };
	b->protocols[1] = (struct lws_protocols){
		.name = PROTO_NAME, .callback = ws_cb, .per_session_data_size = sizeof(conn),
		.rx_buffer_size = RX_CHUNK, .tx_packet_size = RX_CHUNK,
	};
	b->protocols[2] = (struct lws_protocols){
		.name = "accel-admission", .callback = bridge_admission_cb, .per_session_data_size = bridge_admission_pss_size,
	};
	b->protocols[3] = (struct lws_protocols){
		.name = METRICS_PROTOCOL, .callback = bridge_metrics_cb, .per_session_data_size = bridge_metrics_pss_size,
	};
	b->protocols[4] = (struct lws_protocols){ .name = BRIDGE_HTTP_PROTOCOL, .callback = bridge_http_client_cb };
}

static void fill_mounts(bridge *b, const bridge_config *cfg)
{
	/* / is the page, /ort the onnxruntime-web files, /tokenizers @huggingface/tokenizers, /models/N
	 * each models directory, /admission the page's question why its WebSocket was refused, /metrics
	 * for Prometheus */
	int nm = 0;
	b->mounts[nm++] = (struct lws_http_mount){
		.mountpoint = "/admission", .mountpoint_len = 10, .origin = "accel-admission",
		.origin_protocol = LWSMPRO_CALLBACK,
	};
	b->mounts[nm++] = (struct lws_http_mount){ /* Prometheus, with the token (metrics_http.c) */
		.mountpoint = "/metrics", .mountpoint_len = 8, .origin = METRICS_PROTOCOL,
		.origin_protocol = LWSMPRO_CALLBACK,
	};
	b->mounts[nm++] = (struct lws_http_mount){
		.mountpoint = "/", .mountpoint_len = 1, .origin = cfg->www_dir,
		.def = "index.html", .origin_protocol = LWSMPRO_FILE, .extra_mimetypes = &mime_mjs,
	};
	if (cfg->tokenizers_dir) /* --text: the page tokenizes with the model's own tokenizer.json */
		b->mounts[nm++] = (struct lws_http_mount){
			.mountpoint = "/tokenizers", .mountpoint_len = 11, .origin = cfg->tokenizers_dir,
			.origin_protocol = LWSMPRO_FILE, .extra_mimetypes = &mime_mjs,
		};
	b->mounts[nm++] = (struct lws_http_mount){
		.mountpoint = "/ort", .mountpoint_len = 4, .origin = cfg->ort_dir,
		.origin_protocol = LWSMPRO_FILE, .extra_mimetypes = &mime_mjs,
	};
	for (int i = 0; i < cfg->n_model_dirs && nm < MAX_MOUNTS; i++) {
		snprintf(b->mount_points[nm], sizeof b->mount_points[nm], "/models/%d", i);
		b->mounts[nm] = (struct lws_http_mount){
			.mountpoint = b->mount_points[nm], .mountpoint_len = (unsigned char)strlen(b->mount_points[nm]),
			.origin = cfg->model_dirs[i], .origin_protocol = LWSMPRO_FILE, .extra_mimetypes = &mime_mjs,
		};
		nm++;
	}
	for (int i = 0; i + 1 < nm; i++)
		b->mounts[i].mount_next = &b->mounts[i + 1];
}

int bridge_start(uv_loop_t *loop, const bridge_config *cfg, const bridge_sink *sink, bridge **out, ac_err *err)
{
	bridge *b = calloc(1, sizeof *b);
	if (!b)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	b->loop = loop;
	b->cfg = *cfg;
	b->cfg.send_queue_max = cfg->send_queue_max ? cfg->send_queue_max : BRIDGE_SEND_QUEUE_DEFAULT;
	b->sink = *sink;
	b->onemsg_on = true; /* one message per request to pages that ask (bench/README.md) */
	b->cfg.listen_addr = cfg->listen_addr ? cfg->listen_addr : "127.0.0.1";

	fill_protocols(b);
	fill_mounts(b, cfg);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	void *loops[] = { loop };
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (cfg->tls_cert)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = loops;
	info.user = b;
	info.pt_serv_buf_size = RX_CHUNK;
	b->ctx = lws_create_context(&info);
	if (!b->ctx) {
		free(b);
		return ac_errf(err, AC_EIO, "libwebsockets could not start on libuv: is the package "
			       "libwebsockets-evlib-uv installed? (apt-get install libwebsockets-evlib-uv)");
	}
	info.port = cfg->port;
	info.iface = b->cfg.listen_addr;
	info.protocols = b->protocols;
	info.mounts = &b->mounts[0];
	info.headers = &hdr_coop;
	info.vhost_name = "accel-top";
	if (cfg->tls_cert) { /* the same port, https and wss; the files were checked before (tls.h) */
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
		info.alpn = "http/1.1"; /* the WebSocket code here speaks HTTP/1.1 upgrades, not h2 streams */
	}
	uv_timer_init(loop, &b->heartbeat);
	b->heartbeat.data = b;
	*out = b; /* from here on the caller stops and frees it, also on failure */
	b->vh = lws_create_vhost(b->ctx, &info);
	if (!b->vh) {
		if (cfg->tls_cert) /* lws says no more than NULL; the files were checked, so say both causes */
			return ac_errf(err, AC_EADDRINUSE, "cannot listen with TLS on %s port %d (the port is in use, "
				       "or libwebsockets refused --tls-cert %s / --tls-key %s; ACCEL_TOP_LWS_LOG=1 shows "
				       "which): choose another --port, or check the files", b->cfg.listen_addr, cfg->port,
				       cfg->tls_cert, cfg->tls_key);
		return ac_errf(err, AC_EADDRINUSE, "cannot listen on %s port %d (in use, or not an address "
			       "of this machine): choose another with --port or --listen", b->cfg.listen_addr, cfg->port);
	}
	b->port = lws_get_vhost_listen_port(b->vh);
	if (cfg->metrics_addr && bridge_metrics_listen(b, &info, err))
		return err->code;
	int rc = bridge_fill_origins(b, err);
	if (rc)
		return rc;
	bridge_set_urls(b);

	uv_timer_start(&b->heartbeat, on_heartbeat, cfg->heartbeat_ms, cfg->heartbeat_ms);
	ac_event ev = { .kind = EV_BRIDGE_LISTENING, .t_us = ac_now_us(), .num = b->port, .text = b->public_url };
	return b->sink.on_event(b->sink.ctx, &ev, err);
}

int bridge_port(const bridge *b) { return b->port; }
const char *bridge_page_url(const bridge *b) { return b->page_url; }
const char *bridge_public_url(const bridge *b) { return b->public_url; }
bool bridge_is_connected(const bridge *b, int browser) { return find_conn(b, browser) != NULL; }

int bridge_send_text(bridge *b, int browser, const char *json)
{
	conn *c = find_conn(b, browser);
	return c ? enqueue(c, LWS_WRITE_TEXT, json, strlen(json)) : AC_ENOENT;
}

int bridge_ping(bridge *b, int browser, uint32_t *id)
{
	conn *c = find_conn(b, browser);
	return c ? send_ping(c, PEND_PING, id) : AC_ENOENT;
}

void bridge_set_onemsg(bridge *b, bool on) { b->onemsg_on = on; }

/* Whether requests to c go as one message: its hello asked for it and bridge_set_onemsg() left it
 * on (the default: on a quiet machine a model's request overhead was 0.78x and CPU 0.78-0.84x the
 * old form's, bench/README.md; the benches turn it off and on to compare). */
static bool use_onemsg(const conn *c) { return c->onemsg && c->br->onemsg_on; }

/* Stamps a frame (at least 16 bytes, checked by the caller) with its request id and index. */
static void stamp(unsigned char *h, uint32_t id, unsigned index)
{
	for (int k = 0; k < 4; k++) {
		h[8 + k] = (unsigned char)(id >> (8 * k));
		h[12 + k] = (unsigned char)(index >> (8 * k));
	}
}

/* One message: the JSON and the frames, built where lws will write it from (one allocation, one
 * copy of each frame's bytes). fill(ctx, i, dst): frame i's bytes into dst; NULL: copy frames[i]. */
static int enqueue_onemsg(conn *c, const char *json, uint32_t id, const bridge_blob *frames, int n,
			  void (*fill)(void *, int, unsigned char *), void *ctx)
{
	size_t lens[PROTO_MAX_TENSORS] = { 0 };
	if (n > PROTO_MAX_TENSORS || n < 0)
		return AC_EINVAL;
	for (int i = 0; i < n; i++)
		lens[i] = frames[i].len;
	size_t jl = strlen(json), total = proto_onemsg_size(jl, lens, n);
	int rc;
	txmsg *m = queue_alloc(c, LWS_WRITE_BINARY, total, &rc);
	if (!m)
		return rc;
	unsigned char *out = m->buf + LWS_PRE;
	size_t off = proto_onemsg_head(out, json, jl, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		unsigned char *dst = proto_onemsg_slot(out, &off, lens[i]);
		if (fill)
			fill(ctx, i, dst);
		else
			memcpy(dst, frames[i].data, lens[i]);
		stamp(dst, id, (unsigned)i);
	}
	queue_push(c, m);
	return 0;
}

/* The echo's frame: a header and a pattern, so corruption would show. */
static void echo_fill(void *ctx, int i, unsigned char *dst)
{
	size_t bytes = *(const size_t *)ctx;
	proto_frame f = { .dtype = DT_UINT8, .rank = 1, .dims = { bytes } };
	size_t hl = proto_encode_frame_header(&f, dst, 64);
	(void)i;
	for (size_t k = 0; k < bytes; k++)
		dst[hl + k] = (unsigned char)(k * 131u >> 3);
}

int bridge_echo(bridge *b, int browser, size_t bytes, uint32_t *id_out)
{
	conn *c = find_conn(b, browser);
	if (!c)
		return AC_ENOENT;
	uint32_t id = remember(c, PEND_ECHO);
	char head[64];
	snprintf(head, sizeof head, "{\"type\":\"echo\",\"id\":%u,\"tensors\":1}", id);
	proto_frame f = { .dtype = DT_UINT8, .rank = 1, .dims = { bytes } };
	uint8_t hdr[64];
	bridge_blob blob = { NULL, proto_encode_frame_header(&f, hdr, sizeof hdr) + bytes };
	if (id_out)
		*id_out = id;
	if (use_onemsg(c))
		return enqueue_onemsg(c, head, id, &blob, 1, echo_fill, &bytes);
	int rc = enqueue(c, LWS_WRITE_TEXT, head, strlen(head));
	txmsg *m = rc ? NULL : queue_alloc(c, LWS_WRITE_BINARY, blob.len, &rc);
	if (!m)
		return rc;
	echo_fill(&bytes, 0, m->buf + LWS_PRE);
	stamp(m->buf + LWS_PRE, id, 0);
	queue_push(c, m);
	return 0;
}

int bridge_request(bridge *b, int browser, cJSON *msg, const bridge_blob *frames, int n, bridge_reply_fn cb,
		   void *cb_ctx, uint32_t *id_out)
{
	conn *c = find_conn(b, browser);
	if (!c)
		return AC_ENOENT;
	for (int i = 0; i < n; i++)
		if (frames[i].len < 16)
			return AC_EINVAL;
	uint32_t id = b->next_id + 1;
	if (cb && replies_add(&b->replies, id, browser, cb, cb_ctx))
		return AC_ENOMEM;
	b->next_id = id;
	cJSON_DeleteItemFromObjectCaseSensitive(msg, "id");
	cJSON_AddNumberToObject(msg, "id", id);
	char *s = cJSON_PrintUnformatted(msg);
	if (id_out)
		*id_out = id;
	if (s && use_onemsg(c) && n > 0) {
		int rc = enqueue_onemsg(c, s, id, frames, n, NULL, NULL);
		free(s);
		return rc;
	}
	int rc = enqueue_text(c, s);
	for (int i = 0; !rc && i < n; i++) {
		rc = enqueue(c, LWS_WRITE_BINARY, frames[i].data, frames[i].len);
		if (!rc) /* the frames belong to this request: stamp its id and their order */
			stamp(c->tx_tail->buf + LWS_PRE, id, (unsigned)i);
	}
	return rc;
}

int bridge_reconnect(bridge *b, int browser)
{
	conn *c = find_conn(b, browser);
	return c ? enqueue_text(c, proto_simple_json(PM_RECONNECT, false, 0)) : AC_ENOENT;
}

void bridge_forget(bridge *b, int browser)
{
	for (conn *c = b->conns; c && browser > 0; c = c->next) {
		if (c->browser != browser)
			continue;
		/* a lost socket kept for a page that might resume: the id is gone, and so is it, without
		 * another "lost" (as a replaced one); a page that resumes connects anew */
		drop_unowned(b, c, "forgotten: lost too long", LWS_CLOSE_STATUS_GOINGAWAY, "forgotten");
	}
}

void bridge_stop(bridge *b)
{
	if (!b || b->stopping)
		return;
	b->stopping = true;
	bridge_http_cancel_all(b); /* their owners have gone first */
	uv_timer_stop(&b->heartbeat);
	uv_close((uv_handle_t *)&b->heartbeat, NULL);
	if (b->ctx)
		lws_context_destroy(b->ctx); /* first call: lws starts closing its handles */
}

void bridge_free(bridge *b)
{
	if (!b)
		return;
	if (b->ctx)
		lws_context_destroy(b->ctx); /* second call, after uv_run() returned: frees it */
	replies_free(&b->replies);
	origins_free(&b->origins);
	free(b->by_browser);
	free(b);
}
