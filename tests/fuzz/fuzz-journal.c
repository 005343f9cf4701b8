/* libFuzzer target for the recording reader (pool/journal.c, pool/journal_codec.c,
 * pool/checkpoint.c): a recording is untrusted input too (one sent by someone else, a torn or
 * edited file), and `accel-top --replay` reads it through the same pool code as live.
 *
 * The first input byte is a mode; the rest is the file. Even mode: every record's CRC is first
 * recomputed (walking the records by their lengths), so that mutations reach the event decoder,
 * the checkpoint loader and the pool appliers instead of stopping at the CRC check; odd mode:
 * the bytes as they are (the CRC and truncation paths). Each input is opened with journal_open()
 * (through a memfd, as the reader maps a file), every event decoded with journal_event(), and the
 * pool rebuilt with journal_restore() at the end (the last checkpoint, then the events applied
 * through pool_apply()). A crash, a sanitizer report, a leak or an event the reader says exists
 * but cannot decode consistently aborts. Build: make build-fuzz/fuzz-journal; run: scripts/fuzz.sh.
 * Seeds: tests/fuzz/corpus-journal (the fixture recording, with a mode byte in front). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../pool/journal.h"
#include "../../pool/journal_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

static void fix_crcs(uint8_t *b, size_t n)
{
	size_t pos = 8; /* after the magic */
	while (pos + 17 <= n) {
		uint64_t len = jc_get_le(b + pos, 4);
		if (len > n - pos - 17)
			break;
		jc_put_le(b + pos + 4, journal_crc32(b + pos + 8, 9 + (size_t)len), 4);
		pos += 17 + (size_t)len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (fd < 0) {
		fd = memfd_create("fuzz-journal", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	size_t n = size - 1;
	uint8_t *b = malloc(n ? n : 1);
	memcpy(b, data + 1, n);
	if (!(data[0] & 1))
		fix_crcs(b, n);
	if (ftruncate(fd, 0) || (n && pwrite(fd, b, n, 0) != (ssize_t)n))
		abort();
	free(b);

	journal *j = NULL;
	ac_err err;
	err.msg[0] = '\0';
	if (journal_open(path, &j, &err)) {
		if (j || !err.msg[0])
			abort(); /* a refusal must say why and leave nothing open */
		return 0;
	}
	if (!journal_command(j))
		abort();
	size_t ne = journal_event_count(j);
	for (size_t i = 0; i < ne; i++) {
		ac_event ev;
		if (journal_event(j, i, &ev, &err) == 0 && ev.t_us != journal_event_time(j, i))
			abort(); /* the index and the decoded event disagree on its time */
	}
	(void)journal_find(j, journal_end_us(j));
	pool *p = NULL;
	if (pool_new(&p))
		abort();
	(void)journal_restore(j, p, ne, &err);
	pool_free(p);
	journal_free(j);
	return 0;
}
