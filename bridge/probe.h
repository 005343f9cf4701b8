/* A minimal HTTP(S) GET on the loop, for `accel-top doctor` to check that the bridge serves its
 * page before any browser is involved (tui/ never touches a socket). HTTP/1.1 with
 * Connection: close; the answer ends at Content-Length or when the server closes. */
#ifndef AC_PROBE_H
#define AC_PROBE_H

#include <stddef.h>
#include <uv.h>

#include "../pool/ac.h"

/* status: the HTTP status code (0 when none came); bytes: body bytes received; error: NULL, or
 * what went wrong (connect, timeout, malformed answer). Called exactly once, from the loop. */
typedef void (*probe_http_cb)(void *ctx, int status, size_t bytes, const char *error);

/* GET path (e.g. "/?token=...") from 127.0.0.1:port; gives up after timeout_ms. */
int probe_http_get(uv_loop_t *loop, int port, const char *path, unsigned timeout_ms, probe_http_cb cb, void *ctx,
		   ac_err *err);
/* The same over TLS (the bridge with --tls-cert or --tls self-signed); the certificate is not
 * verified. */
int probe_https_get(uv_loop_t *loop, int port, const char *path, unsigned timeout_ms, probe_http_cb cb, void *ctx,
		    ac_err *err);

/* The libwebsockets the bridge runs on and its libuv event-library plugin, which libwebsockets
 * dlopen()s at run time from its own library folder (Debian: package libwebsockets-evlib-uv).
 * 0 with "libwebsockets VERSION (PATH), evlib-uv plugin PATH" in out, or AC_ENOENT with why in
 * *err (the fix is to install that package). */
int probe_lws_plugin(char *out, size_t cap, ac_err *err);

#endif
