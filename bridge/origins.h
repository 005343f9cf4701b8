/* The Origins a browser's WebSocket may come from, and what the bridge says when it refuses one.
 *
 * Pure functions (no sockets, no clock of their own), so they are unit-tested. The bridge fills the
 * list at start (loopback names, the listen address, the machine's names and, for a wildcard
 * listen, every interface address, --public-url and --allow-origin) and checks each upgrade's
 * Origin header against it. An origin is what browsers send: scheme://host[:port], lower case,
 * IPv6 hosts in brackets, no default port (80 for http, 443 for https), nothing after. */
#ifndef AC_ORIGINS_H
#define AC_ORIGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/ac.h"

#define ORIGIN_MAX 200

typedef struct {
	char (*v)[ORIGIN_MAX];
	int n, cap;
} origin_list;

/* Adds one origin (already normalised), once. 0 or AC_ENOMEM. */
int origins_add(origin_list *l, const char *origin);
/* Adds scheme://host[:port] for a bare host name or address (IPv6 gets brackets). */
int origins_add_host(origin_list *l, const char *scheme, const char *host, int port);
bool origins_has(const origin_list *l, const char *origin);
void origins_free(origin_list *l);

/* Checks and normalises an --allow-origin value: http:// or https://, a host, an optional :port,
 * nothing after. 0 with out filled, or AC_EINVAL with a one-line message naming the fix. */
int origin_parse(const char *s, char *out, size_t cap, ac_err *err);
/* The origin of a URL (--public-url): http(s)://host[:port][/path...]. 0 or AC_EINVAL. */
int origin_of_url(const char *url, char *out, size_t cap, ac_err *err);
/* "scheme://host[:port]" from a scheme and an HTTP Host header; empty when host is empty. */
void origin_from_host_header(const char *scheme, const char *host, char *out, size_t cap);

/* Why an origin is refused, with the options that would allow it (the log line and the page's
 * /admission answer say the same). */
void origin_refusal_reason(const char *origin, char *out, size_t cap);

/* Rate limit of the refusal lines: at most one per distinct origin per ORIGIN_LOG_EVERY_MS, in a
 * bounded table (the origin unseen longest gives way to a new one). */
#define ORIGIN_LOG_EVERY_MS 10000
#define ORIGIN_LOG_SLOTS 16
typedef struct {
	struct { char origin[ORIGIN_MAX]; uint64_t last_ms; unsigned suppressed; bool used; } s[ORIGIN_LOG_SLOTS];
} origin_log;
/* True when a line for origin should be written at now_ms; *suppressed then says how many were
 * refused silently since this origin's previous line. False counts one more suppressed. */
bool origin_log_should(origin_log *t, const char *origin, uint64_t now_ms, unsigned *suppressed);

#endif
