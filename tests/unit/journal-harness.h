/* The recording tests' harness (test-journal.c, test-checkpoint.c): see journal-harness.c. Test
 * code, not product code. */
#ifndef AC_JOURNAL_HARNESS_H
#define AC_JOURNAL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "../../pool/journal.h"

void jh_free_journal(void *j);
void jh_close_writer(void *w);
/* A fresh pool, freed after the test. */
pool *jh_new_pool(void);
/* A fresh path in $TMPDIR, removed after the test. */
char *jh_temp_path(const char *what);
int jh_write_file(const char *path, const void *buf, size_t len);
/* The whole file (freed after the test), or NULL. */
uint8_t *jh_read_file(const char *path, size_t *len);
/* 0 when a and b are the same event, field by field (x bit for bit). */
int jh_same_event(const ac_event *a, const ac_event *b);
/* The pool's snapshot JSON as text, freed after the test. */
char *jh_snapshot_text(const pool *p, int64_t now_us);

#define JH_MAX_EVENTS 1200
#define JH_MAX_MARKS 16

/* A realistic session, applied to a live pool and recorded as it goes. */
typedef struct {
	pool *p;
	journal_writer *w;
	int64_t t;
	size_t n;             /* events applied */
	int append_rc;
	ac_err append_err;
	/* snapshots of the live pool after events [0, at) */
	size_t mark_at[JH_MAX_MARKS];
	int64_t mark_t[JH_MAX_MARKS];
	char *mark_json[JH_MAX_MARKS];
	size_t n_marks;
} jh_live;

/* Two browsers with real hellos, a workload at 5 req/s for about 45 s of event time (so several
 * checkpoints), a precision change, a browser lost and back, a failed request, heartbeats;
 * recorded into path. */
int jh_run_session(jh_live *l, const char *path);
/* The recording at path opened (freed after the test), or NULL after a failed check. */
journal *jh_open(const char *path);
/* The pool restored to `upto` prints as `want` at time t. */
int jh_restored_equals(journal *j, size_t upto, int64_t t, const char *want);

/* The records of a recording as the file lays them out: start offsets and types. */
typedef struct {
	size_t start[JH_MAX_EVENTS * 2], end[JH_MAX_EVENTS * 2];
	char type[JH_MAX_EVENTS * 2];
	size_t n;
} jh_layout;

/* Parses b's records (checking each one's CRC) into lay. */
int jh_parse_layout(const uint8_t *b, size_t len, jh_layout *lay);

#endif
