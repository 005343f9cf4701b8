/* Recordings (pool/journal.c, pool/journal_codec.c): events written and read back equal, replayed
 * pools equal to the live one, torn and corrupted files, wrong files, the CRC, no token, and a
 * recording of an older build. Checkpoints: test-checkpoint.c; the shared session:
 * journal-harness.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../pool/journal.h"
#include "journal-harness.h"
#include "../../tui/snapshot.h"
#include "check.h"
#include "tests.h"

int test_journal_events_roundtrip(void)
{
	cJSON *hello = load_fixture("hello-firefox-nvidia-hardware.json");
	CHECK(hello != NULL);
	char *path = jh_temp_path("events.acc");
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "events", &w, &err), 0);
	check_defer(jh_close_writer, w);
	ac_event in[EV__COUNT * 2];
	const double xs[][4] = {
		{ 0 }, { 12.345678, 3.2000000476837158, 0.1, 1.0 / 3 }, { -0.0, -7.5, 1e308, INFINITY },
		{ NAN, 2.384185791015625e-07, -1e-300, 4e15 }, { 1e20, 0.5, 123456789.123, -42 },
	};
	const int64_t t = 1795685261857979;
	for (int k = 0; k < EV__COUNT * 2; k++) {
		ac_event *e = &in[k];
		memset(e, 0, sizeof *e);
		e->kind = (ev_kind)(k % EV__COUNT);
		e->t_us = t + (k % 7 == 3 ? -5000 : k * 1234567); /* times may even go back */
		e->browser = k % 3 ? k : 0;
		e->model = k % 4 ? -k : 0;
		e->session = k % 5 ? 1000000 + k : 0;
		e->request = k % 2 ? (int64_t)1 << (k % 63) : 0;
		e->num = k == 3 ? INT64_MIN : k == 4 ? INT64_MAX : k * 1000 - 3;
		e->num2 = k % 6 ? -k : 0;
		memcpy(e->x, xs[k % 5], sizeof e->x);
		e->family = k % 2 ? "chromium" : NULL;
		e->text = k % 3 == 0 ? "" : k % 3 == 1 ? "a longer text with unicode \xc3\xa9 and \"quotes\"" : NULL;
		e->name = k % 4 == 1 ? "bert-tiny" : NULL;
		e->precision = k % 4 == 2 ? "q4f16" : NULL;
		e->platform = k % 5 == 1 ? "webgpu" : NULL;
		e->data = k % 4 == 0 ? hello : NULL;
		CHECK_EQ_INT(journal_append(w, e, NULL, &err), 0);
	}
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = jh_open(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	CHECK_STR(journal_command(j), "events");
	CHECK_EQ_INT(journal_event_count(j), EV__COUNT * 2);
	CHECK_EQ_INT(journal_checkpoint_count(j), 0);
	for (int k = 0; k < EV__COUNT * 2; k++) {
		ac_event out;
		CHECK_EQ_INT(journal_event(j, (size_t)k, &out, &err), 0);
		CHECK_EQ_INT(journal_event_time(j, (size_t)k), in[k].t_us);
		CHECK_OK(jh_same_event(&out, &in[k]));
	}
	ac_event out;
	CHECK(journal_event(j, EV__COUNT * 2, &out, &err) < 0);
	return 0;
}

int test_journal_restore_matches_live(void)
{
	char *path = jh_temp_path("live.acc");
	jh_live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(jh_run_session(l, path));
	journal *j = jh_open(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	CHECK_STR(journal_command(j), "accel-top --record test");
	CHECK_EQ_INT(journal_event_count(j), l->n);
	CHECK(journal_checkpoint_count(j) >= 4); /* ~50 s of events, one every 10 s */
	CHECK_EQ_INT(journal_start_us(j), 1795685261000000);
	CHECK_EQ_INT(journal_end_us(j), l->t);
	CHECK_EQ_INT(journal_find(j, 0), 0);
	CHECK_EQ_INT(journal_find(j, l->t), l->n);
	for (size_t m = 0; m < l->n_marks; m++) {
		CHECK_OK(jh_restored_equals(j, l->mark_at[m], l->mark_t[m], l->mark_json[m]));
		/* out of order: forwards and back through the same pool must not matter either */
	}
	/* one pool taken back and forth */
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	ac_err err = { 0, "" };
	for (size_t k = 0; k < l->n_marks; k++) {
		size_t m = (k * 5) % l->n_marks;
		CHECK_EQ_INT(journal_restore(j, p, l->mark_at[m], &err), 0);
		char *got = jh_snapshot_text(p, l->mark_t[m]);
		CHECK_STR(got, l->mark_json[m]);
	}
	/* the end equals the live pool; past the end is the end */
	CHECK_EQ_INT(journal_restore(j, p, l->n + 100, &err), 0);
	CHECK_STR(jh_snapshot_text(p, l->t), jh_snapshot_text(l->p, l->t));
	return 0;
}

/* Opens the first `cut` bytes of the recording and restores its end. */
static int check_cut(const uint8_t *full, size_t len, const jh_layout *lay, size_t cut, const char *path, jh_live *l)
{
	(void)len;
	CHECK_OK(jh_write_file(path, full, cut));
	journal *j = NULL;
	ac_err err = { 0, "" };
	int rc = journal_open(path, &j, &err);
	if (cut < 8) {
		CHECK(rc < 0);
		CHECK_CONTAINS(err.msg, "not an accel-top recording");
		return 0;
	}
	if (rc)
		check_fail(__FILE__, __LINE__, "cut at %zu: %s", cut, err.msg);
	CHECK_EQ_INT(rc, 0);
	size_t events = 0, first_torn = cut;
	bool boundary = cut == 8;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->end[r] <= cut)
			events += lay->type[r] == 'E';
		else if (first_torn == cut && lay->start[r] < cut)
			first_torn = lay->start[r];
		boundary |= lay->end[r] == cut;
	}
	int fail = 0;
	if (journal_event_count(j) != events) {
		check_fail(__FILE__, __LINE__, "cut at %zu: %zu events, want %zu", cut, journal_event_count(j), events);
		fail = 1;
	}
	char want[128];
	snprintf(want, sizeof want, "stopped at byte %zu of %zu: ", cut == 8 ? 8 : first_torn, cut);
	if (!fail && boundary && cut > 8 && journal_truncation(j)) {
		check_fail(__FILE__, __LINE__, "cut at a record's end %zu: %s", cut, journal_truncation(j));
		fail = 1;
	}
	if (!fail && !boundary && (!journal_truncation(j) || !strstr(journal_truncation(j), want))) {
		check_fail(__FILE__, __LINE__, "cut at %zu: '%s', want '%s'", cut,
			   journal_truncation(j) ? journal_truncation(j) : "(none)", want);
		fail = 1;
	}
	pool *p = NULL;
	if (!fail && pool_new(&p) == 0) {
		rc = journal_restore(j, p, journal_event_count(j), &err);
		if (rc || pool_event_count(p) != events) {
			check_fail(__FILE__, __LINE__, "cut at %zu: restore %d (%s), %llu events", cut, rc, err.msg,
				   (unsigned long long)pool_event_count(p));
			fail = 1;
		}
		/* a cut at a marked point restores exactly that snapshot */
		for (size_t m = 0; !fail && m < l->n_marks; m++)
			if (l->mark_at[m] == events && events) {
				cJSON *s = snapshot_json(p, l->mark_t[m]);
				char *got = cJSON_PrintUnformatted(s);
				if (strcmp(got, l->mark_json[m]) != 0) {
					check_fail(__FILE__, __LINE__, "cut at %zu: snapshot differs", cut);
					fail = 1;
				}
				free(got);
				cJSON_Delete(s);
			}
		pool_free(p);
	}
	journal_free(j);
	return fail;
}

int test_journal_truncated(void)
{
	char *path = jh_temp_path("full.acc"), *cut_path = jh_temp_path("cut.acc");
	jh_live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(jh_run_session(l, path));
	size_t len;
	uint8_t *full = jh_read_file(path, &len);
	CHECK(full != NULL);
	jh_layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(jh_parse_layout(full, len, lay));
	CHECK(lay->n > 10);
	/* every byte of the last records (the last checkpoint among them), every byte of the header,
	 * and a spread through the middle */
	size_t last = lay->start[lay->n > 6 ? lay->n - 6 : 1];
	for (size_t r = lay->n; r-- > 1;)
		if (lay->type[r] == 'C') {
			if (lay->start[r] < last)
				last = lay->start[r];
			break;
		}
	size_t n_cuts = 0;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->end[r] <= last)
			continue;
		/* every byte of a small record; of a big one (a checkpoint) its first and last 100 bytes
		 * and every 37th between */
		size_t size = lay->end[r] - lay->start[r];
		for (size_t k = 0; k < size; k++)
			if (size < 400 || k < 100 || k >= size - 100 || k % 37 == 0) {
				CHECK_OK(check_cut(full, len, lay, lay->start[r] + k, cut_path, l));
				n_cuts++;
			}
	}
	CHECK(n_cuts > 500);
	CHECK_OK(check_cut(full, len, lay, len, cut_path, l));
	for (size_t cut = 0; cut <= lay->end[0] + 20; cut++)
		CHECK_OK(check_cut(full, len, lay, cut, cut_path, l));
	for (size_t cut = lay->end[0]; cut < last; cut += 97)
		CHECK_OK(check_cut(full, len, lay, cut, cut_path, l));
	for (size_t r = 1; r < lay->n; r++) /* every record boundary, and one byte short of it */
		if (lay->end[r] < last) {
			CHECK_OK(check_cut(full, len, lay, lay->end[r], cut_path, l));
			CHECK_OK(check_cut(full, len, lay, lay->end[r] - 1, cut_path, l));
		}
	return 0;
}

int test_journal_corrupted(void)
{
	char *path = jh_temp_path("bad.acc");
	jh_live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(jh_run_session(l, path));
	size_t len;
	uint8_t *b = jh_read_file(path, &len);
	CHECK(b != NULL);
	jh_layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(jh_parse_layout(b, len, lay));
	/* a byte of the payload, of the time, and of the length, in records through the middle */
	const size_t where[] = { 17 + 1, 9 + 3, 1 };
	for (size_t r = lay->n / 3; r < lay->n / 3 + 12; r++)
		for (int w = 0; w < 3; w++) {
			size_t at = lay->start[r] + where[w];
			if (at >= lay->end[r])
				continue;
			b[at] ^= 0x20;
			CHECK_OK(jh_write_file(path, b, len));
			b[at] ^= 0x20;
			journal *j = jh_open(path);
			CHECK(j != NULL);
			size_t events = 0;
			for (size_t k = 0; k < r; k++)
				events += lay->type[k] == 'E';
			CHECK_EQ_INT(journal_event_count(j), events);
			char want[96];
			snprintf(want, sizeof want, "stopped at byte %zu of %zu: ", lay->start[r], len);
			CHECK_CONTAINS(journal_truncation(j), want);
			if (w < 2)
				CHECK_CONTAINS(journal_truncation(j), "CRC");
			pool *p = jh_new_pool();
			ac_err err = { 0, "" };
			CHECK_EQ_INT(journal_restore(j, p, events, &err), 0);
			CHECK_EQ_INT(pool_event_count(p), events);
		}
	return 0;
}

int test_journal_wrong_files(void)
{
	ac_err err = { 0, "" };
	journal *j = NULL;
	char *path = jh_temp_path("wrong");
	char msg[1200];
	/* missing */
	CHECK(journal_open(path, &j, &err) < 0);
	snprintf(msg, sizeof msg, "%s: No such file or directory", path);
	CHECK_STR(err.msg, msg);
	CHECK_EQ_INT(err.code, AC_ENOENT);
	/* not a recording: text, empty, a directory */
	snprintf(msg, sizeof msg, "%s is not an accel-top recording (no ACCTREC1 header)", path);
	const char *texts[] = { "hello, world\n", "", "ACCT", "SQLite format 3\0\0\0\0\0\0\0\0" };
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		CHECK_OK(jh_write_file(path, texts[i], strlen(texts[i])));
		CHECK(journal_open(path, &j, &err) < 0);
		CHECK_STR(err.msg, msg);
	}
	const char *tmp = getenv("TMPDIR");
	CHECK(journal_open(tmp ? tmp : "/tmp", &j, &err) < 0);
	CHECK_CONTAINS(err.msg, "not an accel-top recording");
	/* another format version */
	CHECK_OK(jh_write_file(path, "ACCTREC2\x05\0\0\0", 12));
	CHECK(journal_open(path, &j, &err) < 0);
	snprintf(msg, sizeof msg, "%s is a recording of format 2; this accel-top reads format 1", path);
	CHECK_STR(err.msg, msg);
	/* only the magic: a recording torn before its header record */
	CHECK_OK(jh_write_file(path, "ACCTREC1", 8));
	CHECK_EQ_INT(journal_open(path, &j, &err), 0);
	check_defer(jh_free_journal, j);
	CHECK_EQ_INT(journal_event_count(j), 0);
	CHECK_CONTAINS(journal_truncation(j), "stopped at byte 8 of 8");
	pool *p = jh_new_pool();
	CHECK_EQ_INT(journal_restore(j, p, 5, &err), 0);
	CHECK_EQ_INT(pool_event_count(p), 0);
	/* unwritable */
	journal_writer *w;
	CHECK(journal_create("/nonexistent-dir/x.acc", "x", &w, &err) < 0);
	CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.acc");
	return 0;
}

/* The records' CRC is zlib's crc32: the standard check value, and a plain bitwise CRC over
 * every length and alignment. */
int test_journal_crc32(void)
{
	CHECK_EQ_INT(journal_crc32("123456789", 9), 0xCBF43926u);
	CHECK_EQ_INT(journal_crc32("", 0), 0);
	uint8_t buf[80];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; off + n <= sizeof buf; n++) {
			uint32_t c = 0xFFFFFFFFu;
			for (size_t i = 0; i < n; i++) {
				c ^= buf[off + i];
				for (int k = 0; k < 8; k++)
					c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			}
			CHECK_EQ_INT(journal_crc32(buf + off, n), c ^ 0xFFFFFFFFu);
		}
	return 0;
}

/* A token never reaches the file, wherever it appears. */
int test_journal_no_token(void)
{
	char *path = jh_temp_path("token.acc");
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "accel-top --record x", &w, &err), 0);
	check_defer(jh_close_writer, w);
	cJSON *data = parse_json("{\"url\":\"ws://127.0.0.1:8765/ws?token=s3cr3tT0ken&x=1\"}");
	CHECK(data != NULL);
	ac_event in[] = {
		{ .kind = EV_BRIDGE_LISTENING, .t_us = 1, .num = 8765, .text = "http://127.0.0.1:8765/" },
		{ .kind = EV_ERROR, .t_us = 2, .text = "http://127.0.0.1:8765/?token=s3cr3tT0ken#x and token=s3cr3tT0ken" },
		{ .kind = EV_BROWSER_HELLO, .t_us = 3, .browser = 1, .data = data },
	};
	for (size_t i = 0; i < 3; i++)
		CHECK_EQ_INT(journal_append(w, &in[i], NULL, &err), 0);
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	size_t len;
	uint8_t *b = jh_read_file(path, &len);
	CHECK(b != NULL);
	CHECK(memmem(b, len, "s3cr3t", 6) == NULL);
	journal *j = jh_open(path);
	CHECK(j != NULL);
	ac_event out;
	CHECK_EQ_INT(journal_event(j, 0, &out, &err), 0);
	CHECK_STR(out.text, "http://127.0.0.1:8765/");
	CHECK_EQ_INT(journal_event(j, 1, &out, &err), 0);
	CHECK_STR(out.text, "http://127.0.0.1:8765/?token=REDACTED#x and token=REDACTED");
	CHECK_EQ_INT(journal_event(j, 2, &out, &err), 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out.data, "url")),
		  "ws://127.0.0.1:8765/ws?token=REDACTED&x=1");
	return 0;
}

/* A recording made by main at 56eb8d2 (tests/fixtures/README.md), applied event by event to a
 * fresh pool through journal.c: the counters and every event log line equal what that build's
 * pool had at the end (the .log file, written by it), and the figures its replay printed. */
int test_journal_replays_main_56eb8d2(void)
{
	const char *root = getenv("ACCEL_TOP_DATA");
	char path[4096], want_path[4096];
	snprintf(path, sizeof path, "%s/tests/fixtures/recording-v1-main-56eb8d2.acrec", root && *root ? root : ".");
	snprintf(want_path, sizeof want_path, "%s/tests/fixtures/recording-v1-main-56eb8d2.log", root && *root ? root : ".");
	ac_err err = { 0, "" };
	journal *j = NULL;
	if (journal_open(path, &j, &err)) {
		check_fail(__FILE__, __LINE__, "%s: %s (set ACCEL_TOP_DATA to the repository root)", path, err.msg);
		return 1;
	}
	check_defer(jh_free_journal, j);
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	size_t n = journal_event_count(j), refused = 0;
	for (size_t i = 0; i < n; i++) {
		ac_event ev;
		CHECK_OK(journal_event(j, i, &ev, &err));
		refused += pool_apply(p, &ev, &err) != 0;
	}
	char got[8192];
	snprintf(got, sizeof got, "events %zu applied %llu refused %zu errors %llu log %zu\n", n,
		 (unsigned long long)pool_event_count(p), refused, (unsigned long long)pool_error_count(p), pool_log_count(p));
	for (size_t i = 0; i < pool_log_count(p); i++) {
		const pool_log_entry *l = pool_log_at(p, i);
		ac_strlcatf(got, sizeof got, "%lld %s %d %s\n", (long long)l->t_us, ev_kind_name(l->kind), l->browser, l->text);
	}
	FILE *f = fopen(want_path, "r");
	CHECK(f != NULL);
	char want[8192];
	size_t len = fread(want, 1, sizeof want - 1, f);
	fclose(f);
	want[len] = '\0';
	CHECK_STR(got, want);
	/* figures from that build's `--replay FILE -b --json --begin END` (the .end.json file) */
	pool_request_totals t;
	pool_request_totals_get(p, &t);
	CHECK_EQ_INT(t.submitted, 326);
	CHECK_EQ_INT(t.done, 325);
	CHECK_EQ_INT(t.requeued, 1);
	CHECK_EQ_INT(t.pending, 1);
	const pool_model *m = pool_model_find(p, 1);
	CHECK(m != NULL);
	CHECK_EQ_INT(m->completed, 325);
	CHECK(m->lat_valid && fabs(m->p50_ms - 7.591000080108643) < 1e-9 && fabs(m->p95_ms - 23.743999481201172) < 1e-9);
	const pool_browser *b = pool_browser_find(p, 1);
	CHECK(b != NULL);
	CHECK_EQ_INT(b->state, BS_EXITED);
	CHECK_STR(b->version, "156.0.8078.114");
	CHECK_EQ_INT(b->pid, 24668);
	CHECK_EQ_INT(b->rtt_us, 16114); /* the JSON of today prints it as null: the browser exited (tui/fields.h) */
	return 0;
}
