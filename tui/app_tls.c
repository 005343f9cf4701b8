/* The application's TLS (app.h): the certificate checked or made before anything starts, the
 * lines the front ends print about it (or the warning when browsers elsewhere get no secure
 * context), and the trust that managed browsers are given. The certificates themselves are
 * bridge/tls.c's. */
#include "app.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool wildcard_addr(const char *a)
{
	return !strcmp(a, "0.0.0.0") || !strcmp(a, "::");
}

/* --tls self-signed: the names browsers may use for this machine (its host name, loopback, the
 * --listen address, the --public-url host). */
static int self_signed(app *a, const options *o, ac_err *err)
{
	char dir[4096], host[256] = "", pub[256] = "";
	int rc = tls_state_dir(dir, sizeof dir - 8, err);
	if (rc)
		return rc;
	ac_strlcatf(dir, sizeof dir, "/tls");
	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	if (o->public_url)
		tls_url_host(o->public_url, pub, sizeof pub);
	const char *names[] = { host, "localhost", "127.0.0.1", "::1", wildcard_addr(o->listen) ? "" : o->listen, pub };
	return tls_self_signed(dir, names, (int)(sizeof names / sizeof names[0]), &a->tls, err);
}

/* Before anything starts: the certificate checked (or made), and the lines the front ends print. */
int app_prepare_tls(app *a, const options *o, ac_err *err)
{
	int rc = 0;
	if (o->tls_cert)
		rc = tls_load(o->tls_cert, o->tls_key, &a->tls, err);
	else if (o->tls_self_signed)
		rc = self_signed(a, o, err);
	else if (!tls_insecure_remote(o->listen, o->public_url, false, a->insecure, sizeof a->insecure))
		a->insecure[0] = '\0';
	if (a->insecure[0]) { /* the screen's status line has one terminal line for it */
		char host[256];
		if (o->public_url)
			tls_url_host(o->public_url, host, sizeof host);
		else
			ac_strlcpy(host, o->listen, sizeof host);
		snprintf(a->insecure_short, sizeof a->insecure_short, "warning: http on %.200s: remote browsers get no secure "
			 "context (no WebGPU, no wasm threads, no crossOriginIsolated): use --tls self-signed", host);
	}
	if (rc || !(o->tls_cert || o->tls_self_signed))
		return rc;
	a->tls_on = true;
	char until[16];
	time_t t = (time_t)a->tls.not_after;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(until, sizeof until, "%Y-%m-%d", &tm);
	snprintf(a->tls_line[0], sizeof a->tls_line[0], "TLS: %.500s (%s%s; %.600s; valid until %s), SHA-256 fingerprint %s",
		 a->tls.cert, a->tls.self_signed ? "self-signed, " : "", a->tls.self_signed ? (a->tls.reused ? "reused" : "made now") :
		 "given", a->tls.names[0] ? a->tls.names : "no subjectAltName", until, a->tls.sha256);
	snprintf(a->spki_flag, sizeof a->spki_flag, "--ignore-certificate-errors-spki-list=%s", a->tls.spki);
	snprintf(a->tls_line[1], sizeof a->tls_line[1], "TLS: a Chromium on another machine accepts it with %s "
		 "(the browsers accel-top launches get it already)", a->spki_flag);
	return 0;
}

/* Managed browsers trust the certificate served: Chromium by its SPKI hash on the command line,
 * Firefox by an override for the page's host and port in its profile (it has no such flag). */
void app_trust_for_managed(app *a)
{
	if (!a->tls_on)
		return;
	static const char *const chromiums[] = { "chromium", "chrome", "edge" };
	for (size_t i = 0; i < sizeof chromiums / sizeof chromiums[0]; i++)
		launcher_add_arg(a->ln, chromiums[i], a->spki_flag);
	char host[256];
	const char *url = bridge_public_url(a->br);
	tls_url_host(url, host, sizeof host);
	int port = tls_url_port(url);
	int n = snprintf(a->ff_override, sizeof a->ff_override, "# PSM Certificate Override Settings file\n"
			 "# written by accel-top for %s\n", url);
	if (n > 0 && (size_t)n < sizeof a->ff_override)
		tls_firefox_override(&a->tls, host, port, a->ff_override + n, sizeof a->ff_override - (size_t)n);
	launcher_add_profile_file(a->ln, "firefox", "cert_override.txt", a->ff_override);
}
