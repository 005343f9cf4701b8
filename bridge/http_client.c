/* The HTTP client behind bridge_http(): lws client connections on the bridge's vhost, bound to
 * the BRIDGE_HTTP_PROTOCOL protocol, with a uv timer per call bounding it. A call is freed when
 * its timer handle has closed; its wsi may outlive it (lws closes it) with its user pointer
 * cleared first. A host name is resolved with uv_getaddrinfo first: this libwebsockets has no
 * async DNS, and its own lookup would stop the loop (every Grid poll and keep-alive) while a
 * resolver is slow. */
#include <uv.h> /* before libwebsockets.h (bridge_internal.h) */

#include "bridge_internal.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX (4u << 20)

struct http_call {
	struct http_call *next;
	bridge *br;
	uint32_t handle;
	struct lws *wsi;
	char method[8], host[256], path[1024];
	int port;
	char *body;
	size_t body_len;
	char *resp;
	size_t resp_len, resp_cap;
	int status;
	bool done, cancelled, defer;
	bool resolving, delivered; /* the call is freed once both its answer is out and no lookup runs */
	uv_getaddrinfo_t gai;
	char addr[64];             /* the numeric address connected to */
	char error[256];
	http_done_fn cb;
	void *ctx;
	uv_timer_t timer;
};

int http_split_url(const char *url, char *host, size_t host_cap, int *port, char *path, size_t path_cap, ac_err *err)
{
	if (strncmp(url, "http://", 7))
		return ac_errf(err, AC_EINVAL, "'%s' is not an http:// URL (https is not supported for the Grid yet)", url);
	const char *h = url + 7, *slash = strchr(h, '/');
	size_t hl = slash ? (size_t)(slash - h) : strlen(h);
	const char *colon = memchr(h, ':', hl);
	size_t name_len = colon ? (size_t)(colon - h) : hl;
	if (!name_len || name_len >= host_cap)
		return ac_errf(err, AC_EINVAL, "'%s' has no host", url);
	memcpy(host, h, name_len);
	host[name_len] = '\0';
	*port = 80;
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);
		if (end != h + hl || v < 1 || v > 65535)
			return ac_errf(err, AC_EINVAL, "'%s': the port is not a number from 1 to 65535", url);
		*port = (int)v;
	}
	ac_strlcpy(path, slash ? slash : "/", path_cap);
	size_t pl = strlen(path); /* "base/" + "/session" would double the slash */
	while (pl > 1 && path[pl - 1] == '/')
		path[--pl] = '\0';
	return 0;
}

static void call_closed(uv_handle_t *h)
{
	struct http_call *c = h->data;
	bridge *b = c->br;
	for (struct http_call **pp = &b->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->body);
	free(c->resp);
	free(c);
}

static void deliver(uv_timer_t *t);

static void release(struct http_call *c)
{
	if (c->delivered && !c->resolving)
		uv_close((uv_handle_t *)&c->timer, call_closed);
}

/* Ends the call: its answer (or error) goes to the owner from the loop, then the call goes. */
static void finish(struct http_call *c, const char *error)
{
	if (c->done)
		return;
	c->done = true;
	if (error)
		snprintf(c->error, sizeof c->error, "%s", error);
	if (c->wsi) {
		lws_set_opaque_user_data(c->wsi, NULL);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		c->wsi = NULL;
	}
	if (c->resolving) /* its callback still comes (UV_ECANCELED), then the call can go */
		uv_cancel((uv_req_t *)&c->gai);
	uv_timer_stop(&c->timer);
	uv_timer_start(&c->timer, deliver, 0, 0); /* never from inside an lws callback */
}

static void deliver(uv_timer_t *t)
{
	struct http_call *c = t->data;
	if (!c->cancelled && c->cb) {
		if (c->resp)
			c->resp[c->resp_len] = '\0';
		c->cb(c->ctx, c->status, c->resp ? c->resp : "", c->resp_len, c->error[0] ? c->error : NULL);
	}
	c->delivered = true;
	release(c);
}

static void on_timeout(uv_timer_t *t)
{
	struct http_call *c = t->data;
	char why[64];
	snprintf(why, sizeof why, "no answer within %.0f s", (double)uv_timer_get_repeat(t) / 1000);
	finish(c, why);
}

static int append(struct http_call *c, const void *in, size_t len)
{
	if (c->resp_len + len + 1 > RESP_MAX)
		return -1;
	if (c->resp_len + len + 1 > c->resp_cap) {
		size_t cap = c->resp_cap ? c->resp_cap : 4096;
		while (cap < c->resp_len + len + 1)
			cap *= 2;
		char *n = realloc(c->resp, cap);
		if (!n)
			return -1;
		c->resp = n;
		c->resp_cap = cap;
	}
	memcpy(c->resp + c->resp_len, in, len);
	c->resp_len += len;
	return 0;
}

static int add_headers(struct lws *wsi, struct http_call *c, void *in, size_t len)
{
	unsigned char **p = (unsigned char **)in, *end = (*p) + len;
	static const char ctype[] = "application/json; charset=utf-8"; /* the Grid wants the charset */
	char clen[24];
	int n = snprintf(clen, sizeof clen, "%zu", c->body_len);
	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)ctype,
					 (int)strlen(ctype), p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (const unsigned char *)clen, n, p, end))
		return -1;
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

static int write_body(struct lws *wsi, struct http_call *c)
{
	unsigned char *buf = malloc(LWS_PRE + c->body_len);
	if (!buf)
		return -1;
	memcpy(buf + LWS_PRE, c->body, c->body_len);
	int n = lws_write(wsi, buf + LWS_PRE, c->body_len, LWS_WRITE_HTTP_FINAL);
	free(buf);
	lws_client_http_body_pending(wsi, 0);
	return n < (int)c->body_len ? -1 : 0;
}

int bridge_http_client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	struct http_call *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[200];
		snprintf(why, sizeof why, "cannot connect to %.80s:%d: %.60s", c->host, c->port, in ? (const char *)in : "failed");
		c->wsi = NULL;
		finish(c, why);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return c->body ? add_headers(wsi, c, in, len) : 0;
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return c->body ? write_body(wsi, c) : 0;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		c->status = (int)lws_http_client_http_response(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[4096 + LWS_PRE], *px = buf + LWS_PRE;
		int n = sizeof buf - LWS_PRE;
		return lws_http_client_read(wsi, &px, &n) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (append(c, in, len)) {
			finish(c, "the answer is too large");
			return -1;
		}
		return 0;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		finish(c, NULL);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		c->wsi = NULL;
		finish(c, c->status ? NULL : "the connection closed before an answer");
		return 0;
	default:
		return 0;
	}
}

static void http_connect(struct http_call *c)
{
	bridge *b = c->br;
	struct lws_client_connect_info i;
	memset(&i, 0, sizeof i);
	i.context = b->ctx;
	i.vhost = b->vh;
	i.address = c->addr[0] ? c->addr : c->host;
	i.port = c->port;
	i.path = c->path;
	i.host = c->host;
	/* no Origin: the Grid refuses requests that carry one it does not know ("Origin not allowed") */
	i.method = c->method;
	i.local_protocol_name = BRIDGE_HTTP_PROTOCOL;
	i.protocol = BRIDGE_HTTP_PROTOCOL;
	i.opaque_user_data = c;
	/* no pwsi: lws would write through it after this call was freed (the wsi can outlive it) */
	struct lws *wsi = lws_client_connect_via_info(&i);
	if (!c->done) { /* a connection error may already have been reported from inside the call */
		c->wsi = wsi;
		if (!wsi)
			finish(c, "libwebsockets could not start the connection");
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct http_call *c = req->data;
	c->resolving = false;
	if (!c->done && (status || !res)) {
		char why[200];
		snprintf(why, sizeof why, "cannot resolve %.80s: %s", c->host, status ? uv_strerror(status) : "no address");
		finish(c, why);
	} else if (!c->done) {
		uv_ip_name(res->ai_addr, c->addr, sizeof c->addr);
		http_connect(c);
	}
	uv_freeaddrinfo(res);
	release(c);
}

int bridge_http(bridge *b, const char *method, const char *url, const char *body, unsigned timeout_ms,
		http_done_fn done, void *ctx, uint32_t *handle, ac_err *err)
{
	if (!b || b->stopping || !b->ctx)
		return ac_errf(err, AC_EINVAL, "the bridge is not running");
	struct http_call *c = calloc(1, sizeof *c);
	if (!c)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	int rc = http_split_url(url, c->host, sizeof c->host, &c->port, c->path, sizeof c->path, err);
	if (rc) {
		free(c);
		return rc;
	}
	if (body && !(c->body = strdup(body))) {
		free(c);
		return ac_errf(err, AC_ENOMEM, "out of memory");
	}
	c->body_len = body ? strlen(body) : 0;
	ac_strlcpy(c->method, method, sizeof c->method);
	c->br = b;
	c->cb = done;
	c->ctx = ctx;
	c->handle = ++b->next_call ? b->next_call : ++b->next_call;
	uv_timer_init(b->loop, &c->timer);
	c->timer.data = c;
	c->next = b->calls;
	b->calls = c;
	uv_timer_start(&c->timer, on_timeout, timeout_ms, timeout_ms);
	unsigned char bin[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, c->host, bin) == 1 || inet_pton(AF_INET6, c->host, bin) == 1) {
		http_connect(c);
	} else {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		c->gai.data = c;
		c->resolving = true;
		rc = uv_getaddrinfo(b->loop, &c->gai, on_resolved, c->host, NULL, &hints);
		if (rc) {
			c->resolving = false;
			char why[200];
			snprintf(why, sizeof why, "cannot resolve %.80s: %s", c->host, uv_strerror(rc));
			finish(c, why);
		}
	}
	if (handle)
		*handle = c->handle;
	return 0;
}

void bridge_http_cancel(bridge *b, uint32_t handle)
{
	for (struct http_call *c = b ? b->calls : NULL; c; c = c->next)
		if (c->handle == handle) {
			c->cancelled = true;
			finish(c, "cancelled");
		}
}

int bridge_http_pending(const bridge *b)
{
	int n = 0;
	for (const struct http_call *c = b ? b->calls : NULL; c; c = c->next)
		n += !c->done;
	return n;
}

void bridge_http_cancel_all(bridge *b)
{
	for (struct http_call *c = b->calls; c; c = c->next) {
		c->cancelled = true;
		finish(c, "cancelled");
	}
}
