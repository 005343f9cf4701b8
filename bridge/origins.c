/* The allowed Origins and the refusal lines (origins.h). */
#include "origins.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int origins_add(origin_list *l, const char *origin)
{
	if (!origin[0] || origins_has(l, origin))
		return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, (size_t)cap * sizeof *l->v);
		if (!v)
			return AC_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	ac_strlcpy(l->v[l->n++], origin, ORIGIN_MAX);
	return 0;
}

static int default_port(const char *scheme)
{
	return strcmp(scheme, "https") == 0 ? 443 : 80;
}

int origins_add_host(origin_list *l, const char *scheme, const char *host, int port)
{
	char o[ORIGIN_MAX], h[ORIGIN_MAX - 16];
	size_t i = 0;
	for (; host[i] && i + 1 < sizeof h; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	h[i] = '\0';
	bool v6 = strchr(h, ':') != NULL && h[0] != '[';
	char pt[8] = "";
	if (port > 0 && port != default_port(scheme))
		snprintf(pt, sizeof pt, ":%d", port);
	snprintf(o, sizeof o, "%s://%s%s%s%s", scheme, v6 ? "[" : "", h, v6 ? "]" : "", pt);
	return origins_add(l, o);
}

bool origins_has(const origin_list *l, const char *origin)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->v[i], origin) == 0)
			return true;
	return false;
}

void origins_free(origin_list *l)
{
	free(l->v);
	*l = (origin_list){ 0 };
}

/* Reads scheme://host[:port] from s; *rest points after it. 0, or a negative code with a reason in
 * why (no option name: the callers add theirs). */
static int read_origin(const char *s, char *out, size_t cap, const char **rest, const char **why)
{
	const char *scheme = strncmp(s, "http://", 7) == 0 ? "http" : strncmp(s, "https://", 8) == 0 ? "https" : NULL;
	if (!scheme) {
		*why = "start with http:// or https://";
		return AC_EINVAL;
	}
	const char *p = s + strlen(scheme) + 3, *h0 = p;
	if (*p == '[') {
		p += strspn(p + 1, "0123456789abcdefABCDEF:.") + 1;
		if (*p != ']' || p == h0 + 1) {
			*why = "an IPv6 host is written in brackets, e.g. http://[2001:db8::1]:8765";
			return AC_EINVAL;
		}
		p++;
	} else {
		p += strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (p == h0) {
			*why = "name a host after the scheme, e.g. http://labhost:8765";
			return AC_EINVAL;
		}
	}
	size_t hlen = (size_t)(p - h0);
	long port = 0;
	if (*p == ':') {
		char *end;
		port = isdigit((unsigned char)p[1]) ? strtol(p + 1, &end, 10) : -1;
		if (port < 1 || port > 65535) {
			*why = "the port must be a number from 1 to 65535";
			return AC_EINVAL;
		}
		p = end;
	}
	char host[ORIGIN_MAX];
	if (hlen + 1 > sizeof host || hlen + 16 > cap) {
		*why = "the host name is too long";
		return AC_EINVAL;
	}
	memcpy(host, h0, hlen);
	host[hlen] = '\0';
	origin_list one = { 0 };
	if (origins_add_host(&one, scheme, host, (int)port)) {
		*why = "out of memory";
		return AC_ENOMEM;
	}
	ac_strlcpy(out, one.v[0], cap);
	origins_free(&one);
	*rest = p;
	return 0;
}

int origin_parse(const char *s, char *out, size_t cap, ac_err *err)
{
	const char *rest, *why = NULL;
	int rc = read_origin(s, out, cap, &rest, &why);
	if (!rc && *rest)
		rc = AC_EINVAL, why = "an origin is scheme://host[:port] with nothing after (no path, no '/')";
	if (rc)
		return ac_errf(err, rc, "--allow-origin '%s': %s, e.g. --allow-origin http://labhost:8765", s, why);
	return 0;
}

int origin_of_url(const char *url, char *out, size_t cap, ac_err *err)
{
	const char *rest, *why = NULL;
	int rc = read_origin(url, out, cap, &rest, &why);
	if (!rc && *rest && *rest != '/')
		rc = AC_EINVAL, why = "after the host and port comes a path starting with '/'";
	if (!rc && strpbrk(rest, " \t\"'<>\\?#"))
		rc = AC_EINVAL, why = "the URL's path may not hold blanks, quotes, '?' or '#' (the token is added to it)";
	if (rc)
		return ac_errf(err, rc, "--public-url '%s': %s, e.g. --public-url https://labhost.example/", url, why);
	return 0;
}

void origin_from_host_header(const char *scheme, const char *host, char *out, size_t cap)
{
	out[0] = '\0';
	if (!host[0] || strlen(host) + 16 > ORIGIN_MAX)
		return;
	char o[ORIGIN_MAX];
	snprintf(o, sizeof o, "%s://%s", scheme, host);
	const char *rest, *why;
	/* a Host header that is not host[:port] gives no origin; the caller says so */
	if (read_origin(o, out, cap, &rest, &why) || *rest)
		out[0] = '\0';
}

void origin_refusal_reason(const char *origin, char *out, size_t cap)
{
	snprintf(out, cap, "not an allowed origin; start accel-top with --allow-origin %s or --public-url %s/",
		 origin, origin);
}

bool origin_log_should(origin_log *t, const char *origin, uint64_t now_ms, unsigned *suppressed)
{
	int slot = -1, oldest = 0;
	for (int i = 0; i < ORIGIN_LOG_SLOTS; i++) {
		if (t->s[i].used && strcmp(t->s[i].origin, origin) == 0) {
			slot = i;
			break;
		}
		if (!t->s[i].used || (t->s[oldest].used && t->s[i].last_ms < t->s[oldest].last_ms))
			oldest = i;
	}
	if (slot >= 0 && now_ms - t->s[slot].last_ms < ORIGIN_LOG_EVERY_MS) {
		t->s[slot].suppressed++;
		return false;
	}
	if (slot < 0) { /* a new origin: the one unseen longest gives way (its count is forgotten) */
		slot = oldest;
		ac_strlcpy(t->s[slot].origin, origin, sizeof t->s[slot].origin);
		t->s[slot].used = true;
		t->s[slot].suppressed = 0;
	}
	*suppressed = t->s[slot].suppressed;
	t->s[slot].suppressed = 0;
	t->s[slot].last_ms = now_ms;
	return true;
}
