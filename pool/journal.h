/* Recordings: every pool event with its time, plus periodic checkpoints of the whole pool, in an
 * append-only file that replay reads back through the same pool code as live.
 *
 * Format (version 1; documented in man/accel-top.1, RECORDING FORMAT):
 *   header: the 8 bytes "ACCTREC1", then one record of type 'H' whose payload is a JSON object
 *           {format, version, started_us, command, host}
 *   records: u32 payload length (LE), u32 CRC-32 of type+time+payload, u8 type, i64 time (us since
 *           the epoch, LE), payload. Types: 'E' an event (compact binary encoding, see
 *           journal_codec.c), 'C' a checkpoint of the pool (pool_save()), 'H' the header.
 * A record whose length runs past the end of the file or whose CRC does not match ends the
 * readable part: a torn write never existed. The token, or anything that would let someone
 * connect to the bridge, is never written (events do not carry it). */
#ifndef AC_JOURNAL_H
#define AC_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ac.h"
#include "event.h"
#include "pool.h"

#define JOURNAL_FORMAT 1
#define JOURNAL_CHECKPOINT_US 10000000 /* a checkpoint every 10 s of recorded time */
#define JOURNAL_CHECKPOINT_EVENTS 4096 /* and after at most this many events (bursts) */
/* Record times past this (2^52 us after 1970: the year 2112) or before 1970 are not a clock's:
 * such a record ends the readable part, and a checkpoint holding such a time is refused, so that
 * the pool never subtracts times that overflow (a recording is untrusted input; found by
 * tests/fuzz/fuzz-journal.c). */
#define JOURNAL_MAX_US (INT64_C(1) << 52)

/* ---- writing ---- */
typedef struct journal_writer journal_writer;

/* Creates (truncates) path and writes the header. */
int journal_create(const char *path, const char *command, journal_writer **out, ac_err *err);
/* Buffers one event; then, when JOURNAL_CHECKPOINT_US passed since the last checkpoint (or
 * JOURNAL_CHECKPOINT_EVENTS events were written since, or the clock went back), a checkpoint of
 * p, the pool after the event was applied (NULL: no checkpoints). A checkpoint thus holds the
 * events before it, the one that crossed the boundary included. */
int journal_append(journal_writer *w, const ac_event *ev, const pool *p, ac_err *err);
/* write(2)s what is buffered: called every second from a uv timer, so kill -9 loses at most the
 * last second. */
int journal_flush(journal_writer *w, ac_err *err);
/* Flushes and closes. */
void journal_close(journal_writer *w);

/* ---- reading ---- */
typedef struct journal journal;

/* Opens and indexes a recording. A file that is not a recording, or of another format version,
 * is an error naming the problem; a truncated or torn file opens up to its last complete record
 * and journal_truncation() says where it stopped. */
int journal_open(const char *path, journal **out, ac_err *err);
void journal_free(journal *j);

const char *journal_truncation(const journal *j); /* NULL, or "stopped at byte N of M: why" */
const char *journal_command(const journal *j);    /* what was recording */
size_t journal_event_count(const journal *j);
int64_t journal_event_time(const journal *j, size_t i);
int64_t journal_start_us(const journal *j);        /* time of the first event */
int64_t journal_end_us(const journal *j);          /* time of the last event */

/* Index of the first event with time > t_us (journal_event_count() if none). Times are the
 * wall clock's: should it have gone back while recording, the answer is one such index. */
size_t journal_find(const journal *j, int64_t t_us);

/* Decodes event i; strings and data in *ev stay valid until the next call on j. */
int journal_event(journal *j, size_t i, ac_event *ev, ac_err *err);

/* Makes p the pool as it was after events [0, upto): restores the latest checkpoint taken at or
 * before that point, then applies the events after it. p must come from pool_new(). Checkpoints
 * of another build (table layout) are not used: the events are then applied from the first. */
int journal_restore(journal *j, pool *p, size_t upto, ac_err *err);

size_t journal_checkpoint_count(const journal *j);
/* CRC-32 as zlib's crc32(buf, len) computes it (IEEE polynomial), used by every record. */
uint32_t journal_crc32(const void *buf, size_t len);

/* ---- the pool's own state, for checkpoints (pool/checkpoint.c) ---- */
/* A binary image of every table of p (malloc'd). */
int pool_save(const pool *p, uint8_t **buf, size_t *len);
/* Replaces p's state with an image from pool_save() (same build layout, checked). Listeners stay. */
int pool_load(pool *p, const uint8_t *buf, size_t len, ac_err *err);
/* Empties every table of p, as pool_new() left it. Listeners stay. */
void pool_clear(pool *p);

#endif
