/* The HTTP GET of probe.h: connect, send one request, count the answer, close. */
#include <uv.h> /* before libwebsockets.h, or the lws_uv_* declarations are missing */
#include <libwebsockets.h>

#include "probe.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>
#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t conn;
	uv_write_t wr;
	char req[1200];
	char head[4096];      /* the answer up to the end of its headers */
	size_t head_len;
	long header_end;      /* offset of the body in the answer, -1 until seen */
	long long content_length; /* -1 when not given */
	size_t body;
	char rx[65536];
	int status;
	int open;             /* handles not closed yet */
	int done;
	probe_http_cb cb;
	void *ctx;
	/* https: OpenSSL on memory BIOs, so that the loop still does all the socket I/O */
	SSL_CTX *sctx;
	SSL *ssl;
	BIO *rbio, *wbio;     /* what came from the socket; what goes to it */
	bool sent;            /* the request went into SSL_write */
} probe;

typedef struct {
	uv_write_t w;
	probe *p;
	char data[];
} probe_out;

static void closed(uv_handle_t *h)
{
	probe *p = h->data;
	if (--p->open == 0) {
		SSL_free(p->ssl); /* frees its BIOs */
		SSL_CTX_free(p->sctx);
		free(p);
	}
}

static void finish(probe *p, const char *error)
{
	if (p->done)
		return;
	p->done = 1;
	uv_timer_stop(&p->timer);
	if (!uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, closed);
	uv_close((uv_handle_t *)&p->timer, closed);
	p->cb(p->ctx, p->status, p->body, error);
}

static void on_timeout(uv_timer_t *t)
{
	finish(t->data, "no complete answer in time");
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	probe *p = h->data;
	(void)hint;
	*buf = uv_buf_init(p->rx, sizeof p->rx);
}

/* Reads the status line and Content-Length once the headers are complete. */
static int parse_head(probe *p)
{
	char *end = strstr(p->head, "\r\n\r\n");
	if (!end)
		return 0;
	*end = '\0';
	p->header_end = end - p->head + 4;
	if (sscanf(p->head, "HTTP/%*d.%*d %d", &p->status) != 1)
		return -1;
	for (char *line = strstr(p->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		if (!strncasecmp(line + 2, "content-length:", 15))
			p->content_length = strtoll(line + 17, NULL, 10);
	}
	return 1;
}

static void at_eof(probe *p, ssize_t n)
{
	if (p->header_end < 0)
		finish(p, n == UV_EOF ? "the connection closed before a complete HTTP answer" : uv_strerror((int)n));
	else
		finish(p, p->content_length >= 0 && (long long)p->body < p->content_length ?
			  "the connection closed before the whole body arrived" : NULL);
}

/* n bytes of the (plaintext) answer. */
static void feed(probe *p, const char *data, size_t n)
{
	size_t off = 0;
	if (p->header_end < 0) {
		size_t take = n;
		if (take > sizeof p->head - 1 - p->head_len)
			take = sizeof p->head - 1 - p->head_len;
		size_t before = p->head_len;
		memcpy(p->head + p->head_len, data, take);
		p->head_len += take;
		p->head[p->head_len] = '\0';
		int r = parse_head(p);
		if (r < 0)
			return finish(p, "the answer does not start with an HTTP status line");
		if (r == 0) {
			if (p->head_len == sizeof p->head - 1)
				finish(p, "the answer's headers are too long");
			return;
		}
		off = (size_t)p->header_end - before;
	}
	p->body += n - off;
	if (p->content_length >= 0 && (long long)p->body >= p->content_length)
		finish(p, NULL);
}

static void tls_written(uv_write_t *w, int status)
{
	probe_out *o = (probe_out *)w;
	if (status)
		finish(o->p, uv_strerror(status));
	free(o);
}

/* https: the request into OpenSSL once it will take it, what OpenSSL wrote onto the socket, and
 * the plaintext it has for us into feed(). */
static void tls_pump(probe *p)
{
	if (!p->sent) {
		int r = SSL_write(p->ssl, p->req, (int)strlen(p->req));
		if (r > 0)
			p->sent = true;
		else if (SSL_get_error(p->ssl, r) != SSL_ERROR_WANT_READ)
			return finish(p, "the TLS handshake failed");
	}
	size_t pend;
	while ((pend = BIO_ctrl_pending(p->wbio)) > 0 && !p->done) {
		probe_out *o = malloc(sizeof *o + pend);
		if (!o)
			return finish(p, "out of memory");
		o->p = p;
		int got = BIO_read(p->wbio, o->data, (int)pend);
		uv_buf_t b = uv_buf_init(o->data, got > 0 ? (unsigned)got : 0);
		if (got <= 0 || uv_write(&o->w, (uv_stream_t *)&p->tcp, &b, 1, tls_written)) {
			free(o);
			return finish(p, "cannot write to the socket");
		}
	}
	char buf[16384];
	int n;
	while (p->sent && !p->done && (n = SSL_read(p->ssl, buf, sizeof buf)) > 0)
		feed(p, buf, (size_t)n);
	ERR_clear_error();
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	probe *p = s->data;
	if (n < 0)
		return at_eof(p, n);
	if (!p->ssl)
		return feed(p, buf->base, (size_t)n);
	BIO_write(p->rbio, buf->base, (int)n);
	tls_pump(p);
}

static void on_written(uv_write_t *w, int status)
{
	probe *p = w->data;
	if (status)
		finish(p, uv_strerror(status));
}

static void on_connect(uv_connect_t *c, int status)
{
	probe *p = c->data;
	if (p->done)
		return;
	if (status)
		return finish(p, uv_strerror(status));
	int rc;
	if (p->ssl) {
		rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
		if (!rc)
			tls_pump(p); /* the ClientHello */
	} else {
		uv_buf_t b = uv_buf_init(p->req, (unsigned)strlen(p->req));
		p->wr.data = p;
		rc = uv_write(&p->wr, (uv_stream_t *)&p->tcp, &b, 1, on_written);
		if (!rc)
			rc = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
	}
	if (rc)
		finish(p, uv_strerror(rc));
}

/* The TLS client of an https probe. It does not verify the certificate: the doctor checks that
 * the bridge serves over TLS at all; trusting the certificate is each browser's business. */
static int tls_setup(probe *p)
{
	p->sctx = SSL_CTX_new(TLS_client_method());
	p->ssl = p->sctx ? SSL_new(p->sctx) : NULL;
	p->rbio = BIO_new(BIO_s_mem());
	p->wbio = BIO_new(BIO_s_mem());
	if (!p->ssl || !p->rbio || !p->wbio) {
		BIO_free(p->rbio);
		BIO_free(p->wbio);
		return AC_ENOMEM;
	}
	SSL_set_bio(p->ssl, p->rbio, p->wbio);
	SSL_set_connect_state(p->ssl);
	return 0;
}

static int get(uv_loop_t *loop, int port, bool tls, const char *path, unsigned timeout_ms, probe_http_cb cb,
	       void *ctx, ac_err *err)
{
	struct sockaddr_in addr;
	int rc = uv_ip4_addr("127.0.0.1", port, &addr);
	if (rc)
		return ac_errf(err, rc, "port %d: %s", port, uv_strerror(rc));
	probe *p = calloc(1, sizeof *p);
	if (!p)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	if ((size_t)snprintf(p->req, sizeof p->req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
			     path, port) >= sizeof p->req) {
		free(p);
		return ac_errf(err, AC_EINVAL, "path too long");
	}
	if (tls && tls_setup(p)) {
		SSL_free(p->ssl);
		SSL_CTX_free(p->sctx);
		free(p);
		return ac_errf(err, AC_ENOMEM, "OpenSSL could not set up a TLS client");
	}
	p->header_end = -1;
	p->content_length = -1;
	p->cb = cb;
	p->ctx = ctx;
	uv_tcp_init(loop, &p->tcp);
	uv_timer_init(loop, &p->timer);
	p->tcp.data = p->timer.data = p->conn.data = p;
	p->open = 2;
	uv_timer_start(&p->timer, on_timeout, timeout_ms, 0);
	rc = uv_tcp_connect(&p->conn, &p->tcp, (const struct sockaddr *)&addr, on_connect);
	if (rc) {
		p->done = 1; /* no callback: the caller gets the error here */
		uv_close((uv_handle_t *)&p->tcp, closed);
		uv_close((uv_handle_t *)&p->timer, closed);
		return ac_errf(err, rc, "cannot connect to 127.0.0.1:%d: %s", port, uv_strerror(rc));
	}
	return 0;
}

int probe_http_get(uv_loop_t *loop, int port, const char *path, unsigned timeout_ms, probe_http_cb cb, void *ctx,
		   ac_err *err)
{
	return get(loop, port, false, path, timeout_ms, cb, ctx, err);
}

int probe_https_get(uv_loop_t *loop, int port, const char *path, unsigned timeout_ms, probe_http_cb cb, void *ctx,
		    ac_err *err)
{
	return get(loop, port, true, path, timeout_ms, cb, ctx, err);
}

int probe_lws_plugin(char *out, size_t cap, ac_err *err)
{
	Dl_info info;
	char dir[4096] = "";
	const char *lws_path = "?";
	if (dladdr((void *)lws_get_library_version, &info) && info.dli_fname) {
		lws_path = info.dli_fname;
		ac_strlcpy(dir, info.dli_fname, sizeof dir);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	if (!dir[0])
		return ac_errf(err, AC_ENOENT, "cannot tell where libwebsockets was loaded from");
	/* libwebsockets scans its install folder for libwebsockets-evlib_*.so and takes the symbol
	 * named after the library (evlib_uv): do the same */
	char plugin[4200];
	snprintf(plugin, sizeof plugin, "%s/libwebsockets-evlib_uv.so", dir);
	void *h = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return ac_errf(err, AC_ENOENT, "the libuv plugin of libwebsockets cannot be loaded: %s", dlerror());
	bool has = dlsym(h, "evlib_uv") != NULL;
	dlclose(h);
	if (!has)
		return ac_errf(err, AC_ENOENT, "%s has no evlib_uv symbol: it is not the libwebsockets libuv plugin", plugin);
	char version[64];
	ac_strlcpy(version, lws_get_library_version(), sizeof version);
	size_t n = strlen(version);
	if (n && version[n - 1] == '-') /* "4.1.6-": an empty git hash */
		version[n - 1] = '\0';
	snprintf(out, cap, "libwebsockets %s (%s), its libuv plugin %s", version, lws_path, plugin);
	return 0;
}
