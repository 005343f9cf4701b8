/* The allowed Origins and the refusal lines (bridge/origins.c). */
#include <stdio.h>
#include <string.h>

#include "../../bridge/origins.h"
#include "check.h"
#include "tests.h"

int test_origins_list(void)
{
	origin_list l = { 0 };
	CHECK_EQ_INT(origins_add_host(&l, "http", "localhost", 8765), 0);
	CHECK_EQ_INT(origins_add_host(&l, "http", "::1", 8765), 0);
	CHECK_EQ_INT(origins_add_host(&l, "http", "LabHost", 80), 0);
	CHECK_EQ_INT(origins_add_host(&l, "https", "labhost", 443), 0);
	CHECK_EQ_INT(origins_add_host(&l, "http", "localhost", 8765), 0); /* once */
	for (int i = 0; i < 40; i++) /* grows past its first allocation */
		CHECK_EQ_INT(origins_add_host(&l, "http", "10.0.0.1", 1000 + i), 0);
	int n = l.n;
	bool a = origins_has(&l, "http://localhost:8765"), b = origins_has(&l, "http://[::1]:8765"),
	     c = origins_has(&l, "http://labhost"), d = origins_has(&l, "https://labhost"),
	     e = origins_has(&l, "http://10.0.0.1:1039"), f = origins_has(&l, "http://labhost:8765");
	origins_free(&l);
	CHECK_EQ_INT(n, 44);
	CHECK(a && b && c && d && e && !f);
	return 0;
}

int test_origins_parse(void)
{
	char o[ORIGIN_MAX];
	ac_err err = { 0 };
	CHECK_EQ_INT(origin_parse("http://labhost:18990", o, sizeof o, &err), 0);
	CHECK_STR(o, "http://labhost:18990");
	CHECK_EQ_INT(origin_parse("HTTPS://x", o, sizeof o, &err), AC_EINVAL); /* browsers send lower case */
	CHECK_EQ_INT(origin_parse("https://Lab.Example:443", o, sizeof o, &err), 0);
	CHECK_STR(o, "https://lab.example");
	CHECK_EQ_INT(origin_parse("http://[2001:db8::1]:8765", o, sizeof o, &err), 0);
	CHECK_STR(o, "http://[2001:db8::1]:8765");
	const char *bad[] = { "labhost:8765", "ftp://x", "http://", "http://x:0", "http://x:99999", "http://x/",
			      "http://x:80/path", "http://[zz]:1", "http://x:" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = '\0';
		CHECK_EQ_INT(origin_parse(bad[i], o, sizeof o, &err), AC_EINVAL);
		CHECK_CONTAINS(err.msg, "--allow-origin '");
		CHECK_CONTAINS(err.msg, "e.g. --allow-origin http://");
		CHECK(!strchr(err.msg, '\n'));
	}
	CHECK_EQ_INT(origin_of_url("http://labhost:18990/", o, sizeof o, &err), 0);
	CHECK_STR(o, "http://labhost:18990");
	CHECK_EQ_INT(origin_of_url("https://lab.example/accel/", o, sizeof o, &err), 0);
	CHECK_STR(o, "https://lab.example");
	CHECK_EQ_INT(origin_of_url("https://lab.example", o, sizeof o, &err), 0);
	CHECK_EQ_INT(origin_of_url("lab.example/", o, sizeof o, &err), AC_EINVAL);
	CHECK_CONTAINS(err.msg, "--public-url");
	CHECK_EQ_INT(origin_of_url("http://x/?token=1", o, sizeof o, &err), AC_EINVAL);
	return 0;
}

int test_origins_host_header(void)
{
	char o[ORIGIN_MAX];
	origin_from_host_header("http", "labhost:18990", o, sizeof o);
	CHECK_STR(o, "http://labhost:18990");
	origin_from_host_header("http", "[::1]:80", o, sizeof o);
	CHECK_STR(o, "http://[::1]");
	origin_from_host_header("http", "bad host", o, sizeof o);
	CHECK_STR(o, "");
	origin_from_host_header("http", "", o, sizeof o);
	CHECK_STR(o, "");
	char why[400];
	origin_refusal_reason("http://labhost:18990", why, sizeof why);
	CHECK_CONTAINS(why, "--allow-origin http://labhost:18990 or --public-url http://labhost:18990/");
	return 0;
}

int test_origins_log_rate(void)
{
	origin_log t = { 0 };
	unsigned sup = 99;
	CHECK(origin_log_should(&t, "http://a", 1000, &sup));
	CHECK_EQ_INT(sup, 0);
	CHECK(!origin_log_should(&t, "http://a", 2000, &sup));
	CHECK(!origin_log_should(&t, "http://a", 10999, &sup));
	CHECK(origin_log_should(&t, "http://b", 3000, &sup)); /* another origin has its own line */
	CHECK(origin_log_should(&t, "http://a", 11000, &sup));
	CHECK_EQ_INT(sup, 2);
	/* a bounded table: many origins evict the one unseen longest, never grow */
	char o[32];
	for (int i = 0; i < 3 * ORIGIN_LOG_SLOTS; i++) {
		snprintf(o, sizeof o, "http://h%d", i);
		CHECK(origin_log_should(&t, o, 20000 + (uint64_t)i, &sup));
	}
	snprintf(o, sizeof o, "http://h%d", 3 * ORIGIN_LOG_SLOTS - 1);
	CHECK(!origin_log_should(&t, o, 21000, &sup));
	return 0;
}
