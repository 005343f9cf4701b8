/* A small HTTP/1.1 client on the bridge's libwebsockets context (so on the same uv loop): one
 * request, one answer, no threads, no blocking. For the Selenium Grid's W3C WebDriver endpoints
 * (pool/grid.h asks through its grid_io; this is the I/O behind it). http:// only. */
#ifndef AC_HTTP_CLIENT_H
#define AC_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "bridge.h"

/* The answer: status (0 when none came) and body, or error (NULL when an answer came) naming
 * why there is none (connection refused, no answer within the time given, ...). */
typedef void (*http_done_fn)(void *ctx, int status, const char *body, size_t len, const char *error);

/* Sends METHOD url with body (JSON, or NULL for none) and calls done once, from the loop, never
 * from inside this call. timeout_ms bounds the whole exchange. *handle (may be NULL) names the
 * call for bridge_http_cancel(). */
int bridge_http(bridge *b, const char *method, const char *url, const char *body, unsigned timeout_ms,
		http_done_fn done, void *ctx, uint32_t *handle, ac_err *err);

/* done is not called for this call any more; its connection is closed. */
void bridge_http_cancel(bridge *b, uint32_t handle);

/* Calls still waiting for an answer. */
int bridge_http_pending(const bridge *b);

/* Splits "http://host:port/base" (port 80 by default): 0, or AC_EINVAL with why. */
int http_split_url(const char *url, char *host, size_t host_cap, int *port, char *path, size_t path_cap, ac_err *err);

#endif
