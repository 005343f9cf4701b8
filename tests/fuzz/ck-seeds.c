/* Writes seeds for tests/fuzz/fuzz-checkpoint.c: real checkpoints of this build, made from a real
 * recording (the fixture, tests/fixtures/recording-v1-main-56eb8d2.acrec), each with both mode
 * bytes (0: the image as pool_save() wrote it; 1: its body unsqueezed, which the fuzz target
 * wraps in this build's header). A checkpoint's table layout is this build's (pool_load refuses
 * another's), so scripts/fuzz.sh writes them into the working corpus on every run; a few are
 * committed in tests/fuzz/corpus-checkpoint/ too.
 *
 *   build-fuzz/ck-seeds RECORDING OUTDIR
 *
 * The pool is restored at a few points of the recording (an eighth, a half, the end) and, to
 * reach more of the tables, the last one gets a breaker, a Selenium Grid's capacity and a Grid
 * browser on top. Test code, not product code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/journal.h"

static int write_seed(const char *dir, const char *name, int mode, const uint8_t *b, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s-mode%d", dir, name, mode);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint8_t m = (uint8_t)mode;
	int bad = fwrite(&m, 1, 1, f) != 1 || (n && fwrite(b, 1, n, f) != n);
	return fclose(f) || bad ? -1 : 0;
}

/* The body of image img, unsqueezed: varint literal count, literals, varint zero count, ... */
static uint8_t *unsqueeze_body(const uint8_t *img, size_t len, size_t hdr, size_t *out_len)
{
	uint64_t blen;
	memcpy(&blen, img + hdr - 8, 8);
	uint8_t *o = calloc(1, blen ? (size_t)blen : 1);
	const uint8_t *p = img + hdr, *end = img + len;
	size_t at = 0;
	for (int which = 0; o && p < end; which ^= 1) {
		uint64_t v = 0;
		for (int s = 0; p < end; s += 7) {
			v |= (uint64_t)(*p & 0x7F) << s;
			if (!(*p++ & 0x80))
				break;
		}
		if (!which) {
			memcpy(o + at, p, (size_t)v);
			p += v;
		}
		at += (size_t)v;
	}
	*out_len = (size_t)blen;
	return o;
}

static int save(pool *p, const char *dir, const char *name)
{
	uint8_t *img;
	size_t len, blen;
	if (pool_save(p, &img, &len))
		return -1;
	pool *q; /* a real checkpoint must load: the loader's checks refuse none */
	ac_err err;
	if (pool_new(&q) || pool_load(q, img, len, &err)) {
		fprintf(stderr, "ck-seeds: %s: this build's own checkpoint is refused: %s\n", name, err.msg);
		return -1;
	}
	pool_free(q);
	uint32_t nl;
	memcpy(&nl, img + 12, 4);
	uint8_t *body = unsqueeze_body(img, len, 16 + 4 * (size_t)nl + 8, &blen);
	int rc = body ? write_seed(dir, name, 0, img, len) | write_seed(dir, name, 1, body, blen) : -1;
	printf("%s: image %zu bytes, body %zu bytes\n", name, len, blen);
	free(body);
	free(img);
	return rc;
}

static void extras(pool *p, int64_t t)
{
	ac_err err;
	int b = pool_browser_count(p) ? pool_browser_at(p, 0)->id : 1;
	int m = pool_model_count(p) ? pool_model_at(p, 0)->id : 1;
	ac_event ev[] = {
		{ .kind = EV_BREAKER, .t_us = t + 1, .browser = b, .model = m, .name = "open", .num = 3, .x = { 5 },
		  .text = "3 errors in a row" },
		{ .kind = EV_GRID_CAPACITY, .t_us = t + 2, .num = 4, .num2 = 1, .name = "http://grid:4444", .text = "" },
		{ .kind = EV_GRID_REQUESTED, .t_us = t + 3, .browser = pool_next_id(p), .family = "chromium@grid",
		  .text = "http://grid:4444" },
	};
	for (size_t i = 0; i < sizeof ev / sizeof *ev; i++)
		if (pool_apply(p, &ev[i], &err))
			fprintf(stderr, "ck-seeds: extra event %zu refused: %s\n", i, err.msg);
	ac_event gc = { .kind = EV_GRID_CREATED, .t_us = t + 4, .browser = ev[2].browser, .name = "5e55", .text = "http://node:5555",
			.x = { 1.5 } };
	if (pool_apply(p, &gc, &err))
		fprintf(stderr, "ck-seeds: grid_created refused: %s\n", err.msg);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s RECORDING OUTDIR\n", argv[0]);
		return 2;
	}
	journal *j;
	ac_err err;
	if (journal_open(argv[1], &j, &err)) {
		fprintf(stderr, "%s: %s\n", argv[1], err.msg);
		return 1;
	}
	pool *p;
	if (pool_new(&p))
		return 1;
	int rc = save(p, argv[2], "empty");
	size_t n = journal_event_count(j);
	const size_t at[] = { n / 8, n / 2, n };
	const char *names[] = { "fixture-eighth", "fixture-half", "fixture-end" };
	for (int i = 0; i < 3; i++) {
		if (journal_restore(j, p, at[i], &err)) {
			fprintf(stderr, "%s: %s\n", argv[1], err.msg);
			return 1;
		}
		rc |= save(p, argv[2], names[i]);
	}
	extras(p, journal_end_us(j));
	rc |= save(p, argv[2], "fixture-end-grid-breaker");
	pool_free(p);
	journal_free(j);
	return rc ? 1 : 0;
}
