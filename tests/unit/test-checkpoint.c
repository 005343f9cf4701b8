/* Pool checkpoints (pool/checkpoint.c) and where recordings take them (pool/journal.c): an image
 * round trip, the spacing by time and by events, and checkpoints of another build skipped. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/journal.h"
#include "journal-harness.h"
#include "check.h"
#include "tests.h"

static void count_calls(void *ctx, const ac_event *ev)
{
	(void)ev;
	(*(int *)ctx)++;
}

int test_journal_checkpoint_roundtrip(void)
{
	char *path = jh_temp_path("ck.acc");
	jh_live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(jh_run_session(l, path));
	uint8_t *img;
	size_t len;
	CHECK_EQ_INT(pool_save(l->p, &img, &len), 0);
	DEFER_FREE(img);
	pool *q = jh_new_pool();
	CHECK(q != NULL);
	int calls = 0;
	CHECK_EQ_INT(pool_add_listener(q, count_calls, &calls), 0);
	ac_err err = { 0, "" };
	CHECK_EQ_INT(pool_load(q, img, len, &err), 0);
	CHECK_STR(jh_snapshot_text(q, l->t), jh_snapshot_text(l->p, l->t));
	CHECK_EQ_INT(pool_browser_count(q), 2);
	CHECK_EQ_INT(pool_event_count(q), l->n);
	CHECK_EQ_INT(pool_log_count(q), pool_log_count(l->p));
	for (size_t i = 0; i < pool_log_count(q); i++)
		CHECK_STR(pool_log_at(q, i)->text, pool_log_at(l->p, i)->text);
	/* saved again: the same image */
	uint8_t *img2;
	size_t len2;
	CHECK_EQ_INT(pool_save(q, &img2, &len2), 0);
	DEFER_FREE(img2);
	CHECK_EQ_INT(len2, len);
	for (size_t i = 0; i < len; i++)
		if (img[i] != img2[i]) {
			check_fail(__FILE__, __LINE__, "images differ at byte %zu of %zu", i, len);
			return 1;
		}
	CHECK_EQ_INT(pool_next_id(q), pool_next_id(l->p));
	/* the loaded pool goes on: listeners kept, tables grow */
	ac_event ev = { .kind = EV_BROWSER_CONNECTED, .t_us = l->t + 1, .browser = 77, .family = "chromium" };
	CHECK_EQ_INT(pool_apply(q, &ev, &err), 0);
	ac_event wl = { .kind = EV_WORKLOAD_STARTED, .t_us = l->t + 2, .model = 9, .name = "vit-tiny", .precision = "fp32",
			.platform = "webgpu", .text = "vision" };
	CHECK_EQ_INT(pool_apply(q, &wl, &err), 0);
	for (int64_t r = 1; r <= 40; r++) {
		ac_event qe = { .kind = EV_REQUEST_QUEUED, .t_us = l->t + 2 + r, .model = 9, .request = 1000 + r };
		CHECK_EQ_INT(pool_apply(q, &qe, &err), 0);
	}
	CHECK_EQ_INT(calls, 42);
	CHECK_EQ_INT(pool_browser_count(q), 3);
	CHECK_EQ_INT(pool_model_count(q), 2);
	CHECK_EQ_INT(pool_model_find(q, 9)->queue, 40);
	/* an empty pool round trips too */
	pool *e = jh_new_pool();
	uint8_t *ei;
	size_t el;
	CHECK_EQ_INT(pool_save(e, &ei, &el), 0);
	DEFER_FREE(ei);
	CHECK_EQ_INT(pool_load(q, ei, el, &err), 0);
	CHECK_EQ_INT(pool_browser_count(q), 0);
	CHECK_EQ_INT(pool_event_count(q), 0);
	/* another build's layout, a damaged image: refused, the pool unchanged */
	CHECK_EQ_INT(pool_load(q, img, len, &err), 0);
	img[20] ^= 0x40; /* the first layout word: sizeof(pool_browser) */
	CHECK(pool_load(q, img, len, &err) < 0);
	CHECK_CONTAINS(err.msg, "another build");
	img[20] ^= 0x40;
	CHECK(pool_load(q, img, len / 2, &err) < 0);
	CHECK(pool_load(q, img, 10, &err) < 0);
	CHECK_STR(jh_snapshot_text(q, l->t), jh_snapshot_text(l->p, l->t));
	return 0;
}

/* A checkpoint comes after the event that crossed each JOURNAL_CHECKPOINT_US boundary. */
int test_journal_checkpoint_spacing(void)
{
	char *path = jh_temp_path("spacing.acc");
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "spacing", &w, &err), 0);
	check_defer(jh_close_writer, w);
	int64_t t0 = 1795685261000000;
	for (int i = 0; i <= 100; i++) { /* 0..50 s, every 0.5 s */
		ac_event e = { .kind = EV_BROWSER_CONNECTED, .t_us = t0 + i * 500000, .browser = i + 1, .family = "chromium" };
		CHECK_EQ_INT(pool_apply(p, &e, &err), 0);
		CHECK_EQ_INT(journal_append(w, &e, p, &err), 0);
	}
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = jh_open(path);
	CHECK(j != NULL);
	CHECK_EQ_INT(journal_checkpoint_count(j), 6); /* after the events at 0, 10, 20, 30, 40, 50 s */
	CHECK_EQ_INT(journal_find(j, t0 + 10000000), 21);
	pool *q = jh_new_pool();
	CHECK_EQ_INT(journal_restore(j, q, 21, &err), 0);
	CHECK_EQ_INT(pool_browser_count(q), 21);
	CHECK_EQ_INT(journal_restore(j, q, 20, &err), 0);
	CHECK_EQ_INT(pool_browser_count(q), 20);
	return 0;
}

/* Checkpoints are bounded by events too (a burst), and a clock going back starts a new one. */
int test_journal_checkpoint_bursts(void)
{
	char *path = jh_temp_path("burst.acc");
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	journal_writer *w;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(journal_create(path, "burst", &w, &err), 0);
	check_defer(jh_close_writer, w);
	int64_t t0 = 1795685261000000;
	ac_event e = { .kind = EV_BROWSER_CONNECTED, .t_us = t0, .browser = 1, .family = "chromium" };
	CHECK_EQ_INT(pool_apply(p, &e, &err), 0);
	CHECK_EQ_INT(journal_append(w, &e, p, &err), 0);
	for (int i = 1; i <= JOURNAL_CHECKPOINT_EVENTS + 10; i++) { /* all within a second */
		ac_event r = { .kind = EV_BROWSER_RTT, .t_us = t0 + i * 100, .browser = 1, .num = i };
		CHECK_EQ_INT(pool_apply(p, &r, &err), 0);
		CHECK_EQ_INT(journal_append(w, &r, p, &err), 0);
	}
	ac_event back = { .kind = EV_BROWSER_RTT, .t_us = t0 - 5000000, .browser = 1, .num = 7 };
	CHECK_EQ_INT(pool_apply(p, &back, &err), 0);
	CHECK_EQ_INT(journal_append(w, &back, p, &err), 0);
	CHECK_EQ_INT(journal_flush(w, &err), 0);
	journal *j = jh_open(path);
	CHECK(j != NULL);
	CHECK_EQ_INT(journal_checkpoint_count(j), 3);
	pool *q = jh_new_pool();
	CHECK_EQ_INT(journal_restore(j, q, journal_event_count(j), &err), 0);
	CHECK_EQ_INT(pool_browser_find(q, 1)->rtt_us, 7);
	CHECK_EQ_INT(journal_restore(j, q, JOURNAL_CHECKPOINT_EVENTS + 5, &err), 0);
	CHECK_EQ_INT(pool_browser_find(q, 1)->rtt_us, JOURNAL_CHECKPOINT_EVENTS + 4);
	return 0;
}

/* Checkpoints of another build (their layout words differ) are skipped: the events are applied
 * from the start and give the same pool. */
int test_journal_foreign_checkpoints(void)
{
	char *path = jh_temp_path("foreign.acc");
	jh_live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(jh_run_session(l, path));
	size_t len;
	uint8_t *b = jh_read_file(path, &len);
	CHECK(b != NULL);
	jh_layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(jh_parse_layout(b, len, lay));
	int changed = 0;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->type[r] != 'C')
			continue;
		uint8_t *rec = b + lay->start[r];
		CHECK(memcmp(rec + 17, "ACCTPOOL", 8) == 0);
		rec[17 + 16] ^= 1; /* sizeof(pool_browser) */
		uint32_t crc = journal_crc32(rec + 8, lay->end[r] - lay->start[r] - 8);
		for (int k = 0; k < 4; k++)
			rec[4 + k] = (uint8_t)(crc >> (8 * k));
		changed++;
	}
	CHECK(changed >= 4);
	CHECK_OK(jh_write_file(path, b, len));
	journal *j = jh_open(path);
	CHECK(j != NULL);
	CHECK(journal_truncation(j) == NULL);
	for (size_t m = 0; m < l->n_marks; m++)
		CHECK_OK(jh_restored_equals(j, l->mark_at[m], l->mark_t[m], l->mark_json[m]));
	return 0;
}

/* img's body, unsqueezed (varint literal count, literals, varint zero count, ...) into a buffer
 * of the body's length; *hdr = the header's length (magic, format, layout words, body length). */
static uint8_t *body_of(const uint8_t *img, size_t len, size_t *hdr, size_t *blen)
{
	uint32_t nl;
	uint64_t bl;
	memcpy(&nl, img + 12, 4);
	*hdr = 16 + 4 * (size_t)nl + 8;
	memcpy(&bl, img + *hdr - 8, 8);
	uint8_t *o = calloc(1, (size_t)bl + 1);
	const uint8_t *p = img + *hdr, *end = img + len;
	size_t at = 0;
	for (int lit = 1; o && p < end; lit = !lit) {
		uint64_t v = 0;
		for (int s = 0; p < end; s += 7) {
			v |= (uint64_t)(*p & 0x7F) << s;
			if (!(*p++ & 0x80))
				break;
		}
		if (lit) {
			memcpy(o + at, p, (size_t)v);
			p += v;
		}
		at += (size_t)v;
	}
	*blen = (size_t)bl;
	return o;
}

/* The header of img, then body as one literal run. */
static uint8_t *rewrap(const uint8_t *img, size_t hdr, const uint8_t *body, size_t blen, size_t *len)
{
	uint8_t *o = malloc(hdr + 10 + blen + 1);
	memcpy(o, img, hdr);
	size_t n = hdr;
	uint64_t v = blen;
	do {
		o[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v);
	memcpy(o + n, body, blen);
	n += blen;
	o[n++] = 0;
	*len = n;
	return o;
}

/* A checkpoint is untrusted input: a bool that is not 0 or 1, an enum out of range, a string
 * without its NUL, a count past its array or a time that is not a clock's is refused with the
 * field named, and the pool stays as it was (bugs found by tests/fuzz/fuzz-checkpoint.c). */
int test_journal_checkpoint_corrupt(void)
{
	pool *p = jh_new_pool();
	CHECK(p != NULL);
	ac_err err = { 0, "" };
	int64_t t0 = 1795685261000000;
	ac_event c = { .kind = EV_BROWSER_CONNECTED, .t_us = t0, .browser = 1, .family = "chromium" };
	CHECK_EQ_INT(pool_apply(p, &c, &err), 0);
	uint8_t *img;
	size_t len, hdr, blen;
	CHECK_EQ_INT(pool_save(p, &img, &len), 0);
	DEFER_FREE(img);
	uint8_t *body = DEFER_FREE(body_of(img, len, &hdr, &blen));
	CHECK(body != NULL);
	/* the scalars (i32, i32, i64, u64, u64, the URL), the browsers' count, then browser 1 */
	size_t b0 = 4 + 4 + 8 + 8 + 8 + 256 + 8;
	CHECK(blen > b0 + sizeof(pool_browser));
	static const struct {
		size_t off;
		uint8_t byte;
		const char *says;
	} bad[] = {
		{ offsetof(pool_browser, managed), 2, "browsers[0].managed is not a bool" },
		{ offsetof(pool_browser, state), 7, "browsers[0].state is out of its range" },
		{ offsetof(pool_browser, caps) + offsetof(ac_caps, webnn) + offsetof(caps_webnn, api), 0x62,
		  "browsers[0].webnn.api is not a bool" },
		{ offsetof(pool_browser, changed_us) + 7, 0x80, "browsers[0].changed_us is out of range" },
		{ offsetof(pool_browser, connects) + 3, 0x80, "browsers[0].connects is out of range" },
	};
	pool *q = jh_new_pool();
	CHECK(q != NULL);
	size_t ok_len;
	uint8_t *ok = DEFER_FREE(rewrap(img, hdr, body, blen, &ok_len));
	CHECK_EQ_INT(pool_load(q, ok, ok_len, &err), 0); /* unchanged: loads */
	char *want = jh_snapshot_text(q, t0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint8_t keep = body[b0 + bad[i].off];
		body[b0 + bad[i].off] = bad[i].byte;
		uint8_t *im = DEFER_FREE(rewrap(img, hdr, body, blen, &len));
		body[b0 + bad[i].off] = keep;
		err.msg[0] = '\0';
		CHECK_EQ_INT(pool_load(q, im, len, &err), AC_EINVAL);
		CHECK_CONTAINS(err.msg, bad[i].says);
		CHECK_CONTAINS(err.msg, "corrupt");
		CHECK_STR(jh_snapshot_text(q, t0), want);
	}
	memset(body + b0 + offsetof(pool_browser, kind), 'x', sizeof ((pool_browser *)0)->kind);
	uint8_t *im = DEFER_FREE(rewrap(img, hdr, body, blen, &len));
	CHECK_EQ_INT(pool_load(q, im, len, &err), AC_EINVAL);
	CHECK_CONTAINS(err.msg, "browsers[0].kind is not terminated");
	CHECK_STR(jh_snapshot_text(q, t0), want);
	return 0;
}

/* Every checkpoint a realistic session records passes the loader's checks (a browser lost and
 * back; then two requests in flight): a refusal would not show in a restored pool, which replay
 * then rebuilds from the first event. */
int test_journal_checkpoints_all_load(void)
{
	char *path = jh_temp_path("all.acc");
	jh_live *l = DEFER_FREE(calloc(1, sizeof *l));
	CHECK(l != NULL);
	CHECK_OK(jh_run_session(l, path));
	size_t len;
	uint8_t *b = jh_read_file(path, &len);
	CHECK(b != NULL);
	jh_layout *lay = DEFER_FREE(calloc(1, sizeof *lay));
	CHECK(lay != NULL);
	CHECK_OK(jh_parse_layout(b, len, lay));
	pool *q = jh_new_pool();
	CHECK(q != NULL);
	int loaded = 0, with_inflight = 0;
	for (size_t r = 0; r < lay->n; r++) {
		if (lay->type[r] != 'C')
			continue;
		ac_err err = { 0, "" };
		if (pool_load(q, b + lay->start[r] + 17, lay->end[r] - lay->start[r] - 17, &err)) {
			check_fail(__FILE__, __LINE__, "checkpoint %d refused: %s", loaded, err.msg);
			return 1;
		}
		loaded++;
	}
	CHECK(loaded >= 4);
	/* the session's checkpoints fall between requests: one with two requests in flight on a
	 * session too, their count checked against the session's */
	const pool_session *s = NULL;
	for (size_t i = 0; i < pool_session_count(l->p) && !s; i++)
		if (pool_session_at(l->p, i)->state == SS_READY)
			s = pool_session_at(l->p, i);
	CHECK(s != NULL);
	ac_err err = { 0, "" };
	for (int64_t r = 1; r <= 2; r++) {
		ac_event qe = { .kind = EV_REQUEST_QUEUED, .t_us = l->t + r, .model = s->model, .request = 900000 + r };
		ac_event se = { .kind = EV_REQUEST_SENT, .t_us = l->t + r, .model = s->model, .request = 900000 + r,
				.browser = s->browser, .session = s->session };
		CHECK_EQ_INT(pool_apply(l->p, &qe, &err), 0);
		CHECK_EQ_INT(pool_apply(l->p, &se, &err), 0);
	}
	CHECK_EQ_INT(s->inflight, 2);
	uint8_t *img;
	CHECK_EQ_INT(pool_save(l->p, &img, &len), 0);
	DEFER_FREE(img);
	CHECK_EQ_INT(pool_load(q, img, len, &err), 0);
	for (size_t i = 0; i < pool_request_count(q); i++)
		with_inflight += pool_request_at(q, i)->inflight;
	CHECK_EQ_INT(with_inflight, 2);
	return 0;
}
