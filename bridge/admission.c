/* Admission to the bridge: the token and Origin checks of a WebSocket upgrade, the refusal lines
 * (rate-limited), GET /admission that tells a page why it was refused, and the origins and URLs
 * of this listener (loopback names, the listen address, the host's names, every interface for a
 * wildcard listen, --public-url, --allow-origin). */
#include <uv.h> /* before libwebsockets.h, or the lws_uv_* declarations are missing */
#include <libwebsockets.h>

#include "bridge_internal.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The scheme pages are served with: the origins allowed and the URLs printed follow it. */
const char *bridge_scheme(const bridge *b)
{
	return b->cfg.tls_cert ? "https" : "http";
}

bool bridge_token_is(const bridge *b, const char *v)
{
	size_t n = strlen(v), m = strlen(b->cfg.token);
	unsigned diff = (unsigned)(n ^ m);
	for (size_t i = 0; i < m; i++) /* constant time in the token's length */
		diff |= (unsigned char)(i < n ? v[i] : 0) ^ (unsigned char)b->cfg.token[i];
	return diff == 0;
}

static bool token_ok(const bridge *b, struct lws *wsi)
{
	char tok[160];
	const char *v = lws_get_urlarg_by_name(wsi, "token=", tok, sizeof tok);
	return v && bridge_token_is(b, v);
}

/* One refusal line in the event log, at most one per (cause, origin) every ORIGIN_LOG_EVERY_MS: a
 * page retries with backoff, and a line per retry would bury everything else. */
void bridge_refused(bridge *b, struct lws *wsi, const char *cause, const char *origin, const char *why)
{
	char peer[64] = "?", key[ORIGIN_MAX + 16], msg[768], more[48] = "";
	unsigned suppressed = 0;
	lws_get_peer_simple(wsi, peer, sizeof peer);
	snprintf(key, sizeof key, "%s|%s", cause, origin[0] ? origin : peer);
	if (!origin_log_should(&b->refusals, key, uv_now(b->loop), &suppressed))
		return;
	if (suppressed)
		snprintf(more, sizeof more, " (%u more refused since)", suppressed);
	if (origin[0])
		snprintf(msg, sizeof msg, "refused a WebSocket from origin %s (peer %s): %s%s", origin, peer, why, more);
	else
		snprintf(msg, sizeof msg, "refused a WebSocket connection from %s: %s%s", peer, why, more);
	bridge_emit(b, EV_ERROR, 0, msg, NULL, NULL);
}

/* Returns true when admitted; else writes the refusal line. */
bool bridge_admit(bridge *b, struct lws *wsi)
{
	char origin[ORIGIN_MAX] = "";
	if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		origin[0] = '\0'; /* not a browser: the token is the authentication */
	if (!token_ok(b, wsi)) {
		bridge_refused(b, wsi, "token", origin, "missing or wrong token");
		return false;
	}
	if (origin[0] && !origins_has(&b->origins, origin)) {
		char why[512];
		origin_refusal_reason(origin, why, sizeof why);
		bridge_refused(b, wsi, "origin", origin, why);
		return false;
	}
	return true;
}

/* GET /admission?token=T: whether this page's origin may open the WebSocket, and if not why and
 * what allows it. The page asks when its WebSocket failed before opening (a refused upgrade is a
 * bare close, code 1006, that says nothing). The origin comes from the Host header and the scheme
 * served (https with TLS, else http). Returns the HTTP status; body is JSON. */
static int admission_answer(bridge *b, struct lws *wsi, char *body, size_t cap)
{
	char host[ORIGIN_MAX] = "", origin[ORIGIN_MAX] = "", why[512];
	if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
		host[0] = '\0';
	origin_from_host_header(bridge_scheme(b), host, origin, sizeof origin);
	bool tok = token_ok(b, wsi), allowed = tok && origin[0] && origins_has(&b->origins, origin);
	if (!tok)
		ac_strlcpy(why, "missing or wrong token: open the page URL accel-top printed, with its ?token=", sizeof why);
	else if (!origin[0])
		ac_strlcpy(why, "the request has no usable Host header", sizeof why);
	else if (!allowed)
		origin_refusal_reason(origin, why, sizeof why);
	else
		ac_strlcpy(why, "allowed", sizeof why);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "allowed", allowed);
	cJSON_AddStringToObject(o, "origin", origin);
	cJSON_AddStringToObject(o, "reason", why);
	if (!cJSON_PrintPreallocated(o, body, (int)cap, 0))
		ac_strlcpy(body, "{\"allowed\":false,\"origin\":\"\",\"reason\":\"answer too long\"}", cap);
	cJSON_Delete(o);
	return tok ? HTTP_STATUS_OK : HTTP_STATUS_FORBIDDEN;
}

typedef struct { char body[1024]; size_t len; } admission_pss;
const size_t bridge_admission_pss_size = sizeof(admission_pss);

int bridge_admission_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	admission_pss *a = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		int status = admission_answer(bridge_of(wsi), wsi, a->body, sizeof a->body);
		a->len = strlen(a->body);
		/* the vhost's headers (no-store, nosniff, COOP/COEP) come with the status line */
		unsigned char hb[LWS_PRE + 1536], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof hb - 1;
		if (lws_add_http_common_headers(wsi, (unsigned)status, "application/json", a->len, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return 1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		unsigned char buf[LWS_PRE + sizeof a->body];
		memcpy(buf + LWS_PRE, a->body, a->len);
		if (lws_write(wsi, buf + LWS_PRE, a->len, LWS_WRITE_HTTP_FINAL) != (int)a->len)
			return 1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* The machine's host name, and its canonical name when the resolver knows a different one. */
static int add_host_names(bridge *b)
{
	char name[256];
	if (gethostname(name, sizeof name) != 0)
		return 0;
	name[sizeof name - 1] = '\0';
	int rc = origins_add_host(&b->origins, bridge_scheme(b), name, b->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME }, *res = NULL;
	if (!rc && getaddrinfo(name, NULL, &hints, &res) == 0) {
		if (res && res->ai_canonname && strcmp(res->ai_canonname, name) != 0)
			rc = origins_add_host(&b->origins, bridge_scheme(b), res->ai_canonname, b->port);
		freeaddrinfo(res);
	}
	return rc;
}

/* Every interface address (a wildcard listen serves them all); IPv6 link-local addresses need a
 * zone that no Origin header carries, so they are left out. */
static int add_interfaces(bridge *b)
{
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) != 0)
		return 0;
	int rc = 0;
	for (struct ifaddrs *i = ifs; i && !rc; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN] = "";
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a, sizeof a);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *in6 = &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(in6))
				continue;
			inet_ntop(AF_INET6, in6, a, sizeof a);
		}
		if (a[0])
			rc = origins_add_host(&b->origins, bridge_scheme(b), a, b->port);
	}
	freeifaddrs(ifs);
	return rc;
}

static bool wildcard(const char *addr)
{
	return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

/* The Origins a page served by this listener can have, then --public-url and --allow-origin. */
int bridge_fill_origins(bridge *b, ac_err *err)
{
	static const char *const loopback[] = { "localhost", "127.0.0.1", "::1" };
	int rc = 0;
	for (size_t i = 0; i < sizeof loopback / sizeof loopback[0] && !rc; i++)
		rc = origins_add_host(&b->origins, bridge_scheme(b), loopback[i], b->port);
	if (!rc && !wildcard(b->cfg.listen_addr))
		rc = origins_add_host(&b->origins, bridge_scheme(b), b->cfg.listen_addr, b->port);
	if (!rc)
		rc = add_host_names(b);
	if (!rc && wildcard(b->cfg.listen_addr))
		rc = add_interfaces(b);
	if (!rc && b->cfg.public_url) {
		char o[ORIGIN_MAX];
		if ((rc = origin_of_url(b->cfg.public_url, o, sizeof o, err)))
			return rc;
		rc = origins_add(&b->origins, o);
	}
	for (int i = 0; i < b->cfg.n_allow_origins && !rc; i++) {
		char o[ORIGIN_MAX];
		if ((rc = origin_parse(b->cfg.allow_origins[i], o, sizeof o, err)))
			return rc;
		rc = origins_add(&b->origins, o);
	}
	return rc ? ac_errf(err, rc, "out of memory") : 0;
}

/* The URL printed and announced (EV_BRIDGE_LISTENING), and the page URL with the token. */
void bridge_set_urls(bridge *b)
{
	if (b->cfg.public_url) {
		const char *u = b->cfg.public_url, *after = strstr(u, "://") + 3;
		snprintf(b->public_url, sizeof b->public_url, "%s%s", u, strchr(after, '/') ? "" : "/");
	} else {
		const char *host = wildcard(b->cfg.listen_addr) ? "127.0.0.1" : b->cfg.listen_addr;
		bool v6 = strchr(host, ':') != NULL;
		snprintf(b->public_url, sizeof b->public_url, "%s://%s%s%s:%d/", bridge_scheme(b), v6 ? "[" : "", host,
			 v6 ? "]" : "", b->port);
	}
	snprintf(b->page_url, sizeof b->page_url, "%s?token=%s", b->public_url, b->cfg.token);
}

