/* Certificates for the bridge's TLS and the secure-context rule (bridge/tls.c). The certificates
 * are made by the code under test in a fresh folder; nothing is read from the network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../bridge/tls.h"
#include "check.h"
#include "tests.h"

static const char *const names[] = { "labhost", "localhost", "127.0.0.1", "::1" };

/* Made once with the names asked for; the second call reuses it; a new name makes a new one. */
int test_tls_self_signed(void)
{
	char dir[] = "/tmp/accel-top-tls-XXXXXX", sub[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof sub, "%s/state/tls", dir);
	tls_info t, u, v;
	ac_err err;
	CHECK_OK(tls_self_signed(sub, names, 4, &t, &err));
	CHECK(t.self_signed && !t.reused);
	CHECK_CONTAINS(t.names, "DNS:labhost");
	CHECK_CONTAINS(t.names, "IP:127.0.0.1");
	CHECK_CONTAINS(t.names, "IP:::1");
	CHECK_EQ_INT((int)strlen(t.sha256), 95); /* 32 bytes as AB: pairs */
	CHECK_EQ_INT((int)strlen(t.spki), 44);   /* 32 bytes in base64 */
	CHECK(t.not_after > (int64_t)time(NULL) + 300 * 86400);
	CHECK_OK(tls_self_signed(sub, names, 4, &u, &err));
	CHECK(u.reused);
	CHECK_STR(u.sha256, t.sha256);
	const char *more[] = { "labhost", "otherhost" };
	CHECK_OK(tls_self_signed(sub, more, 2, &v, &err));
	CHECK(!v.reused && strcmp(v.sha256, t.sha256) != 0);
	CHECK_CONTAINS(v.names, "DNS:otherhost");
	/* what it made loads as --tls-cert/--tls-key */
	CHECK_OK(tls_load(v.cert, v.key, &u, &err));
	CHECK_STR(u.spki, v.spki);
	char line[512];
	tls_firefox_override(&v, "labhost", 8443, line, sizeof line);
	CHECK(strncmp(line, "labhost:8443:\tOID.2.16.840.1.101.3.4.2.1\t", 41) == 0);
	CHECK_CONTAINS(line, v.sha256);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return 0;
}

/* A missing file, a file that is not PEM, a key of another certificate: one line naming the file. */
int test_tls_load_errors(void)
{
	char dir[] = "/tmp/accel-top-tls-XXXXXX", a[64], b[64], junk[80];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	tls_info ta, tb, t;
	ac_err err;
	const char *one[] = { "labhost" };
	CHECK_OK(tls_self_signed(a, one, 1, &ta, &err));
	CHECK_OK(tls_self_signed(b, one, 1, &tb, &err));
	CHECK(tls_load("/nonexistent/cert.pem", ta.key, &t, &err) != 0);
	CHECK_CONTAINS(err.msg, "--tls-cert /nonexistent/cert.pem: cannot read it");
	CHECK(!strchr(err.msg, '\n'));
	CHECK(tls_load(ta.cert, "/nonexistent/key.pem", &t, &err) != 0);
	CHECK_CONTAINS(err.msg, "--tls-key /nonexistent/key.pem: cannot read it");
	snprintf(junk, sizeof junk, "%s/junk.pem", dir);
	FILE *f = fopen(junk, "w");
	CHECK(f != NULL);
	fputs("not a certificate\n", f);
	fclose(f);
	CHECK(tls_load(junk, ta.key, &t, &err) != 0);
	CHECK_CONTAINS(err.msg, "no PEM certificate in it");
	CHECK(tls_load(ta.cert, junk, &t, &err) != 0);
	CHECK_CONTAINS(err.msg, "no unencrypted PEM private key");
	CHECK(tls_load(ta.cert, tb.key, &t, &err) != 0);
	CHECK_CONTAINS(err.msg, "is not the key of the certificate");
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return 0;
}

int test_tls_insecure_remote(void)
{
	char why[400];
	CHECK(!tls_insecure_remote("127.0.0.1", NULL, false, why, sizeof why));
	CHECK(!tls_insecure_remote("::1", NULL, false, why, sizeof why));
	CHECK(!tls_insecure_remote("localhost", NULL, false, why, sizeof why));
	CHECK(!tls_insecure_remote("0.0.0.0", NULL, true, why, sizeof why));
	CHECK(!tls_insecure_remote("0.0.0.0", "https://lab.example/", false, why, sizeof why)); /* a TLS proxy */
	CHECK(tls_insecure_remote("0.0.0.0", NULL, false, why, sizeof why));
	CHECK_CONTAINS(why, "http on 0.0.0.0 (not a loopback address)");
	CHECK_CONTAINS(why, "no WebGPU, no threaded wasm, no crossOriginIsolated");
	CHECK_CONTAINS(why, "--tls self-signed");
	CHECK(tls_insecure_remote("127.0.0.1", "http://labhost:8765/", false, why, sizeof why));
	CHECK_CONTAINS(why, "http on labhost");
	CHECK(!tls_insecure_remote("127.0.0.1", "http://[::1]:8765/", false, why, sizeof why));
	CHECK(tls_loopback_host("127.1.2.3") && tls_loopback_host("a.localhost") && !tls_loopback_host("10.0.0.1"));
	char host[64];
	tls_url_host("https://[2001:db8::1]:8443/x", host, sizeof host);
	CHECK_STR(host, "2001:db8::1");
	CHECK_EQ_INT(tls_url_port("https://[2001:db8::1]:8443/x"), 8443);
	CHECK_EQ_INT(tls_url_port("https://labhost/"), 443);
	CHECK_EQ_INT(tls_url_port("http://labhost/"), 80);
	return 0;
}
