/* GET /metrics: Prometheus text for scrapers. On the bridge's own port the page's token is
 * required (Authorization: Bearer TOKEN, or ?token=TOKEN), answered 401 with a one-line reason
 * otherwise; --metrics-listen ADDR:PORT serves it without the token on a vhost of its own, on the
 * same lws context and uv loop (for a Prometheus that should not hold the token, on an address
 * the operator chose). The body comes from the sink's render_metrics hook (tui/metrics.c through
 * tui/app.c): the bridge knows nothing of the pool. */
#include <uv.h> /* before libwebsockets.h, or the lws_uv_* declarations are missing */
#include <libwebsockets.h>

#include "bridge_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define METRICS_CHUNK 16384

typedef struct {
	char *body;
	size_t len, off;
} metrics_pss;
const size_t bridge_metrics_pss_size = sizeof(metrics_pss);

static bool metrics_token_ok(const bridge *b, struct lws *wsi)
{
	char v[256];
	if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_AUTHORIZATION) > 0) {
		const char *t = v + 6;
		if (strncasecmp(v, "Bearer", 6) != 0 || (*t != ' ' && *t != '\t'))
			return false;
		while (*t == ' ' || *t == '\t')
			t++;
		return bridge_token_is(b, t);
	}
	const char *q = lws_get_urlarg_by_name(wsi, "token=", v, sizeof v);
	return q && bridge_token_is(b, q);
}

static char *text_body(const char *line, size_t *len)
{
	char *s = strdup(line);
	*len = s ? strlen(s) : 0;
	return s;
}

/* The status and the body (owned by the session until it closes). */
static int metrics_answer(bridge *b, struct lws *wsi, metrics_pss *m)
{
	bool open = b->metrics_vh && lws_get_vhost(wsi) == b->metrics_vh;
	if (!open && !metrics_token_ok(b, wsi)) {
		m->body = text_body("missing or wrong token: send 'Authorization: Bearer TOKEN' or ?token=TOKEN "
				    "(the page URL's token), or scrape --metrics-listen\n", &m->len);
		return HTTP_STATUS_UNAUTHORIZED;
	}
	if (!b->sink.render_metrics) {
		m->body = text_body("no metrics here (this front end does not serve them)\n", &m->len);
		return HTTP_STATUS_NOT_FOUND;
	}
	if (!(m->body = b->sink.render_metrics(b->sink.ctx, &m->len))) {
		m->body = text_body("the metrics could not be rendered: out of memory\n", &m->len);
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	return HTTP_STATUS_OK;
}

static int metrics_headers(struct lws *wsi, metrics_pss *m, int status)
{
	unsigned char hb[LWS_PRE + 1536], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof hb - 1;
	const char *type = status == HTTP_STATUS_OK ? "text/plain; version=0.0.4; charset=utf-8"
						    : "text/plain; charset=utf-8";
	static const char realm[] = "Bearer realm=\"accel-top\"";
	if (lws_add_http_common_headers(wsi, (unsigned)status, type, m->len, &p, end))
		return 1;
	if (status == HTTP_STATUS_UNAUTHORIZED &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE, (const unsigned char *)realm,
					 (int)strlen(realm), &p, end))
		return 1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* The body in chunks: a scrape of many browsers can be larger than one write should be. */
static int metrics_write(struct lws *wsi, metrics_pss *m)
{
	static unsigned char buf[LWS_PRE + METRICS_CHUNK];
	size_t n = m->len - m->off;
	if (n > METRICS_CHUNK)
		n = METRICS_CHUNK;
	bool last = m->off + n == m->len;
	memcpy(buf + LWS_PRE, m->body + m->off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return 1;
	m->off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(m->body);
	m->body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int bridge_metrics_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	metrics_pss *m = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		free(m->body);
		memset(m, 0, sizeof *m);
		int status = metrics_answer(bridge_of(wsi), wsi, m);
		if (!m->body)
			return 1;
		return metrics_headers(wsi, m, status);
	}
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return m && m->body ? metrics_write(wsi, m) : 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (m) {
			free(m->body);
			m->body = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* The --metrics-listen vhost: only /metrics, no token, no page; info is the main vhost's. */
int bridge_metrics_listen(bridge *b, struct lws_context_creation_info *info, ac_err *err)
{
	static const struct lws_protocol_vhost_options nosniff = { NULL, NULL, "x-content-type-options:", "nosniff" };
	static const struct lws_protocol_vhost_options no_store = { &nosniff, NULL, "cache-control:", "no-store" };
	b->metrics_protocols[0] = (struct lws_protocols){ .name = "http", .callback = lws_callback_http_dummy };
	b->metrics_protocols[1] = (struct lws_protocols){
		.name = METRICS_PROTOCOL, .callback = bridge_metrics_cb, .per_session_data_size = bridge_metrics_pss_size,
	};
	b->metrics_mount = (struct lws_http_mount){
		.mountpoint = "/metrics", .mountpoint_len = 8, .origin = METRICS_PROTOCOL,
		.origin_protocol = LWSMPRO_CALLBACK,
	};
	info->port = b->cfg.metrics_port;
	info->iface = b->cfg.metrics_addr;
	info->protocols = b->metrics_protocols;
	info->mounts = &b->metrics_mount;
	info->headers = &no_store;
	info->vhost_name = "accel-top-metrics";
	/* plain http even when the bridge serves https: Prometheus scrapes it on loopback (or a network
	 * the operator trusts), and the URL printed below says http */
	info->ssl_cert_filepath = info->ssl_private_key_filepath = NULL;
	info->alpn = NULL;
	if (!(b->metrics_vh = lws_create_vhost(b->ctx, info)))
		return ac_errf(err, AC_EADDRINUSE, "--metrics-listen: cannot listen on %s port %d (in use, or not an "
			       "address of this machine): choose another", b->cfg.metrics_addr, b->cfg.metrics_port);
	bool v6 = strchr(b->cfg.metrics_addr, ':') != NULL;
	snprintf(b->metrics_url, sizeof b->metrics_url, "http://%s%s%s:%d/metrics", v6 ? "[" : "", b->cfg.metrics_addr,
		 v6 ? "]" : "", lws_get_vhost_listen_port(b->metrics_vh));
	return 0;
}

const char *bridge_metrics_url(const bridge *b)
{
	return b->metrics_vh ? b->metrics_url : NULL;
}
