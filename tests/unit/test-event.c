/* Events to JSON and back (pool/event.c), as the journal writes and replay reads them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/event.h"
#include "check.h"
#include "tests.h"

static int same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* to_json, print, parse, from_json; the result must equal the original field by field. */
static int roundtrip(const ac_event *in)
{
	cJSON *j = DEFER_JSON(ev_to_json(in));
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ev")), ev_kind_name(in->kind));
	char *text = DEFER_FREE(cJSON_PrintUnformatted(j));
	CHECK(text != NULL);
	cJSON *back = parse_json(text);
	CHECK(back != NULL);
	ac_event out;
	ac_err err = { 0, "" };
	int rc = ev_from_json(back, &out, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s: %s", text, err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(out.kind, in->kind);
	CHECK_EQ_INT(out.t_us, in->t_us);
	CHECK_EQ_INT(out.browser, in->browser);
	CHECK_EQ_INT(out.num, in->num);
	CHECK_EQ_INT(out.num2, in->num2);
	if (!same_str(out.family, in->family) || !same_str(out.text, in->text))
		check_fail(__FILE__, __LINE__, "%s: family/text differ", text);
	CHECK(same_str(out.family, in->family));
	CHECK(same_str(out.text, in->text));
	if (in->data) {
		CHECK(out.data != NULL);
		CHECK(cJSON_Compare(out.data, in->data, 1));
	} else {
		CHECK(out.data == NULL);
	}
	return 0;
}

int test_event_roundtrip(void)
{
	cJSON *hello = load_fixture("hello-chromium-swiftshader.json");
	CHECK(hello != NULL);
	const int64_t t = 1795685261857979; /* wall-clock microseconds, below 2^53 */
	/* what the sources really send */
	const ac_event real[] = {
		{ .kind = EV_BRIDGE_LISTENING, .t_us = t, .num = 8765, .text = "http://127.0.0.1:8765/" },
		{ .kind = EV_BROWSER_LAUNCHED, .t_us = t + 1, .browser = 1, .num = 9323, .family = "chromium" },
		{ .kind = EV_BROWSER_VERSION, .t_us = t + 2, .browser = 1, .text = "Chromium 156.0.8078.108 built on Debian" },
		{ .kind = EV_BROWSER_CONNECTED, .t_us = t + 3, .browser = 1, .family = "chromium" },
		{ .kind = EV_BROWSER_HELLO, .t_us = t + 4, .browser = 1, .data = hello },
		{ .kind = EV_BROWSER_RTT, .t_us = t + 5, .browser = 1, .num = 1130 },
		{ .kind = EV_BROWSER_LOST, .t_us = t + 6, .browser = 1, .text = "heartbeat timeout (10 s)" },
		{ .kind = EV_BROWSER_EXITED, .t_us = t + 7, .browser = 1, .num2 = 15, .text = "killed by signal 15 \"SIGTERM\"" },
		{ .kind = EV_BROWSER_FAILED, .t_us = t + 8, .browser = 2, .family = "firefox", .text = "firefox-esr not found in PATH" },
		{ .kind = EV_ERROR, .t_us = t + 9, .text = "lws: bind failed\nnext line \xc3\xa9" },
	};
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++)
		CHECK_OK(roundtrip(&real[i]));
	/* every kind there is, bare and with every common field set */
	for (int k = 0; k < EV__COUNT; k++) {
		CHECK(strcmp(ev_kind_name((ev_kind)k), "?") != 0);
		const ac_event bare = { .kind = (ev_kind)k };
		CHECK_OK(roundtrip(&bare));
		const ac_event full = { .kind = (ev_kind)k, .t_us = t + k, .browser = 100 + k, .num = -(k + 1),
					.num2 = 1ll << 40, .family = "firefox", .text = "text with \"quotes\"",
					.data = hello };
		CHECK_OK(roundtrip(&full));
	}
	/* extreme values of the common fields: 2100-01-01 plus 1 us (cJSON prints integers exactly
	 * up to 2^52; beyond, its relative round-trip test may drop the last digit), INT_MAX browser */
	const ac_event extreme = { .kind = EV_BROWSER_EXITED, .t_us = 4102444800000001, .browser = 2147483647,
				   .num = -4503599627370495, .num2 = -9, .text = "" };
	CHECK_OK(roundtrip(&extreme));
	return 0;
}

int test_event_unknown_kind(void)
{
	static const struct { const char *json, *names; } cases[] = {
		{ "{\"ev\":\"browser_exploded\",\"t_us\":1}", "browser_exploded" },
		{ "{\"ev\":\"\",\"t_us\":1}", "''" },
		{ "{\"ev\":\"Browser_Launched\"}", "Browser_Launched" },
		{ "{\"t_us\":1,\"browser\":1}", "(none)" },
		{ "{\"ev\":3}", "(none)" },
		{ "{\"ev\":null}", "(none)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *j = parse_json(cases[i].json);
		CHECK(j != NULL);
		ac_event e;
		ac_err err = { 0, "" };
		int rc = ev_from_json(j, &e, &err);
		CHECK(rc < 0);
		CHECK_EQ_INT(err.code, rc);
		CHECK_CONTAINS(err.msg, "unknown event kind");
		CHECK_CONTAINS(err.msg, cases[i].names);
	}
	/* not an object at all */
	static const char *const not_obj[] = { "[]", "\"browser_launched\"", "1", "null" };
	for (size_t i = 0; i < sizeof not_obj / sizeof not_obj[0]; i++) {
		cJSON *j = parse_json(not_obj[i]);
		CHECK(j != NULL);
		ac_event e;
		ac_err err = { 0, "" };
		CHECK(ev_from_json(j, &e, &err) < 0);
		CHECK_CONTAINS(err.msg, "not a JSON object");
	}
	ac_event e;
	ac_err err = { 0, "" };
	CHECK(ev_from_json(NULL, &e, &err) < 0);
	return 0;
}

int test_event_kind_names(void)
{
	for (int k = 0; k < EV__COUNT; k++) {
		const char *n = ev_kind_name((ev_kind)k);
		CHECK(n != NULL);
		CHECK(strcmp(n, "?") != 0);
		CHECK_EQ_INT(ev_kind_from_name(n), k);
		for (int o = 0; o < k; o++)
			CHECK(strcmp(ev_kind_name((ev_kind)o), n) != 0);
	}
	CHECK_STR(ev_kind_name(EV__COUNT), "?");
	CHECK(ev_kind_from_name("?") < 0);
	CHECK(ev_kind_from_name(NULL) < 0);
	CHECK(ev_kind_from_name("browser_launched ") < 0);
	return 0;
}

/* Fields of the wrong type read as absent; strings point into the JSON they came from. */
int test_event_loose_fields(void)
{
	cJSON *j = parse_json("{\"ev\":\"browser_lost\",\"t_us\":\"soon\",\"browser\":\"7\",\"num\":[1],"
			      "\"family\":3,\"text\":\"gone\",\"extra\":true}");
	CHECK(j != NULL);
	ac_event e;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(ev_from_json(j, &e, &err), 0);
	CHECK_EQ_INT(e.kind, EV_BROWSER_LOST);
	CHECK_EQ_INT(e.t_us, 0);
	CHECK_EQ_INT(e.browser, 0);
	CHECK_EQ_INT(e.num, 0);
	CHECK(e.family == NULL);
	CHECK_STR(e.text, "gone");
	CHECK(e.text == cJSON_GetObjectItemCaseSensitive(j, "text")->valuestring);
	CHECK(e.data == NULL);
	return 0;
}

/* The numbers recordings store (pool/journal.c writes the kind as one byte) and the names JSON
 * carries, as every recording made so far has them: a change here breaks old recordings. */
int test_event_kind_numbers(void)
{
	static const char *const recorded[] = {
		"bridge_listening", "browser_launched", "browser_version", "browser_connected", "browser_hello",
		"browser_rtt", "browser_lost", "browser_exited", "browser_failed", "error", "workload_started",
		"workload_stopped", "precision_changed", "session_loading", "session_ready", "session_failed",
		"session_unloaded", "request_queued", "request_sent", "request_done", "request_failed",
		"request_requeued", "verified", "request_discarded", "breaker", "browser_restarting", "browser_held",
		"scaled", "browser_usage", "audio_frontend", "shard_done", "grid_requested", "grid_created", "grid_lost",
		"grid_deleted", "grid_capacity", "browser_forgotten",
	};
	int n = (int)(sizeof recorded / sizeof recorded[0]);
	CHECK(EV__COUNT >= n);
	for (int k = 0; k < n; k++) {
		CHECK(ev_kind_valid(k));
		CHECK_STR(ev_kind_name((ev_kind)k), recorded[k]);
	}
	CHECK_EQ_INT(EV_BRIDGE_LISTENING, 0);
	CHECK_EQ_INT(EV_ERROR, 9);
	CHECK_EQ_INT(EV_WORKLOAD_STARTED, 10);
	CHECK_EQ_INT(EV_REQUEST_DONE, 19);
	CHECK_EQ_INT(EV_BREAKER, 24);
	CHECK_EQ_INT(EV_SHARD_DONE, 30);
	CHECK_EQ_INT(EV_BROWSER_FORGOTTEN, 36);
	CHECK(!ev_kind_valid(-1));
	CHECK(!ev_kind_valid(EV__COUNT));
	CHECK_STR(ev_kind_name((ev_kind)-1), "?");
	return 0;
}
