/* /metrics text (tui/metrics.c) from a fixed pool: every family has HELP and TYPE before its
 * samples, label values are escaped as the exposition format says, histogram buckets are
 * cumulative, and a figure that is not valid writes no series (not a 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/metrics.h"
#include "check.h"
#include "tests.h"

static int64_t mt_t = 1795685261000000;

static int put_ev(pool *p, ac_event e)
{
	ac_err err = { 0, "" };
	if (!e.t_us)
		e.t_us = mt_t += 1000;
	int rc = pool_apply(p, &e, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s refused: %s", ev_kind_name(e.kind), err.msg);
	return rc ? 1 : 0;
}

static void free_pool(void *p) { pool_free(p); }
static void free_buf(void *b) { metrics_buf_free(b); }

/* Browser 1: managed, said hello (swiftshader), sampled; browser 2: attached, nothing sampled. */
static int mt_browsers(pool *p)
{
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BRIDGE_LISTENING, .num = 8765, .text = "http://127.0.0.1:8765/",
				       .t_us = mt_t }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BROWSER_LAUNCHED, .browser = 1, .num = 4242, .family = "chromium" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BROWSER_VERSION, .browser = 1, .text = "Chromium 1 \"beta\" C:\\x" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = 1, .family = "chromium" }));
	const cJSON *hello = load_fixture("hello-chromium-swiftshader.json");
	CHECK(hello != NULL);
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BROWSER_HELLO, .browser = 1, .data = hello }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BROWSER_USAGE, .browser = 1, .num = 123456789, .num2 = 7,
				       .x = { 12.5, 3.25 } }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .browser = 2, .family = "firefox" }));
	return 0;
}

/* Row 1 (bert-tiny fp32 wasm) on browser 1: four requests done in 0.5 ms, 3 ms, 30 ms and 20 s,
 * one failed there, one failed before any browser took it, one still queued; two verifications
 * (one outside the tolerance); an open breaker. */
static int mt_work(pool *p)
{
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_WORKLOAD_STARTED, .model = 1, .name = "bert-tiny", .precision = "fp32",
				       .platform = "wasm", .family = "auto", .num = 1, .text = "text" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_SESSION_LOADING, .browser = 1, .session = 1, .model = 1,
				       .precision = "fp32", .platform = "wasm", .text = "model.onnx" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_SESSION_READY, .browser = 1, .session = 1, .x = { 12 },
				       .platform = "wasm" }));
	const int64_t lat_us[] = { 500, 3000, 30000, 20000000 };
	for (int i = 0; i < 4; i++) {
		int64_t q = mt_t += 1000;
		CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = i + 1, .t_us = q }));
		CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = i + 1, .browser = 1,
					       .session = 1, .t_us = q + 100 }));
		CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_DONE, .model = 1, .request = i + 1, .browser = 1,
					       .session = 1, .t_us = q + lat_us[i], .x = { 1, 1 } }));
		mt_t = q + lat_us[i];
	}
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = 5 }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_SENT, .model = 1, .request = 5, .browser = 1, .session = 1 }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_FAILED, .model = 1, .request = 5, .browser = 1, .session = 1,
				       .text = "boom" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = 6 }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_FAILED, .model = 1, .request = 6, .num = 1, .text = "timeout" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_REQUEST_QUEUED, .model = 1, .request = 7 }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_VERIFIED, .model = 1, .browser = 1, .session = 1, .num = 1,
				       .x = { 1e-6, 1e-6, 1e-4 }, .precision = "fp32", .platform = "wasm" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_VERIFIED, .model = 1, .browser = 1, .session = 1, .num = 0,
				       .x = { 1, 0.5, 1e-4 }, .precision = "fp32", .platform = "wasm" }));
	CHECK_OK(put_ev(p, (ac_event){ .kind = EV_BREAKER, .model = 1, .browser = 1, .name = "open", .num = 3,
				       .x = { 5 }, .text = "3 errors" }));
	return 0;
}

static int render(metrics_buf *b)
{
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	CHECK_OK(mt_browsers(p));
	CHECK_OK(mt_work(p));
	memset(b, 0, sizeof *b);
	check_defer(free_buf, b);
	metrics_self self = { .valid = true, .rss_bytes = 4096000, .cpu_seconds = 0.26 };
	CHECK_EQ_INT(metrics_render(p, pool_started_us(p) + 90 * 1000000LL, &self, b), 0);
	CHECK(b->s != NULL && b->len == strlen(b->s));
	return 0;
}

/* The name of the family a sample belongs to (histogram suffixes off when typed so). */
static void family_of(const char *line, char *out, size_t cap, const char *types)
{
	size_t n = strcspn(line, "{ ");
	snprintf(out, cap, "%.*s", (int)n, line);
	const char *suffixes[] = { "_bucket", "_sum", "_count" };
	for (int i = 0; i < 3; i++) {
		size_t sl = strlen(suffixes[i]), ol = strlen(out);
		if (ol > sl && !strcmp(out + ol - sl, suffixes[i])) {
			char base[160], want[200];
			snprintf(base, sizeof base, "%.*s", (int)(ol - sl), out);
			snprintf(want, sizeof want, "\n# TYPE %s histogram\n", base);
			if (strstr(types, want))
				snprintf(out, cap, "%s", base);
		}
	}
}

int test_metrics_help_type(void)
{
	metrics_buf b;
	CHECK_OK(render(&b));
	char *copy = DEFER_FREE(malloc(b.len + 2));
	CHECK(copy != NULL);
	copy[0] = '\n';
	memcpy(copy + 1, b.s, b.len + 1);
	CHECK(b.s[b.len - 1] == '\n');
	char current[160] = "";
	int samples = 0, families = 0;
	for (char *save, *line = strtok_r(b.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[160];
		if (!strncmp(line, "# HELP ", 7)) {
			snprintf(current, sizeof current, "%.*s", (int)strcspn(line + 7, " "), line + 7);
			families++;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) { /* right after its HELP, same name */
			CHECK(!strncmp(line + 7, current, strlen(current)) && line[7 + strlen(current)] == ' ');
			continue;
		}
		CHECK(line[0] != '#');
		family_of(line, name, sizeof name, copy);
		if (strcmp(name, current))
			check_fail(__FILE__, __LINE__, "sample '%s' outside its family (current %s)", line, current);
		CHECK_STR(name, current);
		samples++;
	}
	CHECK(families >= 20 && samples > families);
	return 0;
}

int test_metrics_escape(void)
{
	char out[64];
	metrics_escape_label("a\"b\\c\nd", out, sizeof out);
	CHECK_STR(out, "a\\\"b\\\\c\\nd");
	metrics_escape_label("\"\"\"\"\"\"", out, 8); /* never cuts an escape in half */
	CHECK_STR(out, "\\\"\\\"\\\"");
	metrics_buf b;
	CHECK_OK(render(&b));
	CHECK_CONTAINS(b.s, "accel_top_browser_info{browser=\"1\",kind=\"chromium\",version=\"Chromium 1 \\\"beta\\\" "
			    "C:\\\\x\",host=\"\",mode=\"managed\",state=\"connected\"} 1\n");
	CHECK_CONTAINS(b.s, "accel_top_browser_info{browser=\"2\",kind=\"firefox\",version=\"\",host=\"\",mode=\"attached\","
			    "state=\"connected\"} 1\n");
	return 0;
}

int test_metrics_histogram(void)
{
	metrics_buf b;
	CHECK_OK(render(&b));
	const char *L = "model=\"bert-tiny\",precision=\"fp32\",platform=\"wasm\",browser=\"1\"";
	struct { const char *le; int n; } want[] = { { "0.001", 1 }, { "0.0025", 1 }, { "0.005", 2 }, { "0.025", 2 },
						     { "0.05", 3 }, { "5", 3 }, { "10", 3 }, { "+Inf", 4 } };
	char line[400];
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(line, sizeof line, "accel_top_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", L, want[i].le,
			 want[i].n);
		CHECK_CONTAINS(b.s, line);
	}
	snprintf(line, sizeof line, "accel_top_request_duration_seconds_count{%s} 4\n", L);
	CHECK_CONTAINS(b.s, line);
	snprintf(line, sizeof line, "accel_top_request_duration_seconds_sum{%s} 20.0335\n", L);
	CHECK_CONTAINS(b.s, line);
	snprintf(line, sizeof line, "accel_top_requests_total{%s,outcome=\"ok\"} 4\n", L);
	CHECK_CONTAINS(b.s, line);
	snprintf(line, sizeof line, "accel_top_requests_total{%s,outcome=\"error\"} 1\n", L);
	CHECK_CONTAINS(b.s, line);
	CHECK_CONTAINS(b.s, "accel_top_requests_total{model=\"bert-tiny\",precision=\"fp32\",platform=\"wasm\","
			    "browser=\"none\",outcome=\"error\"} 1\n");
	CHECK(!strstr(b.s, "browser=\"none\",outcome=\"ok\""));
	CHECK(!strstr(b.s, "browser=\"none\",le="));
	return 0;
}

int test_metrics_figures(void)
{
	metrics_buf b;
	CHECK_OK(render(&b));
	CHECK_CONTAINS(b.s, "accel_top_browser_resident_memory_bytes{browser=\"1\"} 123456789\n");
	CHECK_CONTAINS(b.s, "accel_top_browser_cpu_seconds_total{browser=\"1\"} 3.25\n");
	CHECK_CONTAINS(b.s, "accel_top_browser_processes{browser=\"1\"} 7\n");
	/* browser 2 was never sampled: no series at all, not a 0 */
	CHECK(!strstr(b.s, "accel_top_browser_resident_memory_bytes{browser=\"2\"}"));
	CHECK(!strstr(b.s, "accel_top_browser_cpu_seconds_total{browser=\"2\"}"));
	CHECK(!strstr(b.s, "accel_top_browser_heartbeat_rtt_seconds{"));
	CHECK(!strstr(b.s, "accel_top_browser_platform_class{browser=\"2\""));
	CHECK_CONTAINS(b.s, "accel_top_browser_platform_class{browser=\"1\",platform=\"webgpu\",class=\"software\"} 1\n");
	CHECK_CONTAINS(b.s, "accel_top_browser_platform_class{browser=\"1\",platform=\"wasm\",class=");
	CHECK_CONTAINS(b.s, "accel_top_browser_restarts_total{browser=\"1\"} 0\n");
	CHECK_CONTAINS(b.s, "accel_top_queue_depth{model=\"bert-tiny\",precision=\"fp32\",platform=\"wasm\"} 1\n");
	CHECK_CONTAINS(b.s, "accel_top_verifications_total{model=\"bert-tiny\",precision=\"fp32\",platform=\"wasm\","
			    "browser=\"1\",result=\"mismatch\"} 1\n");
	CHECK_CONTAINS(b.s, "accel_top_verifications_total{model=\"bert-tiny\",precision=\"fp32\",platform=\"wasm\","
			    "browser=\"1\",result=\"ok\"} 1\n");
	CHECK_CONTAINS(b.s, "accel_top_breaker_state{browser=\"1\",model=\"bert-tiny\",precision=\"fp32\","
			    "platform=\"wasm\",state=\"open\"} 1\n");
	CHECK_CONTAINS(b.s, "accel_top_breaker_state{browser=\"1\",model=\"bert-tiny\",precision=\"fp32\","
			    "platform=\"wasm\",state=\"closed\"} 0\n");
	CHECK_CONTAINS(b.s, "accel_top_uptime_seconds 90\n");
	CHECK_CONTAINS(b.s, "accel_top_process_resident_memory_bytes 4096000\n");
	CHECK_CONTAINS(b.s, "accel_top_process_cpu_seconds_total 0.26\n"); /* shortest exact form */
	CHECK_CONTAINS(b.s, "accel_top_build_info{version=\"" AC_VERSION "\"} 1\n");
	return 0;
}
