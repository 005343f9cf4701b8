/* The replay driver: a recording (pool/journal.h) fed through pool_apply() on a virtual clock.
 *
 * The position is an index into the recording's events (events [0, pos) are applied to the pool)
 * and a virtual time. Playing advances the virtual time at `speed` times real time with a uv timer
 * and applies the events whose time has come; seeks and steps backwards restore the pool from the
 * recording's checkpoints (journal_restore). The same pool code as live: the screen and the batch
 * printer read the pool at replay_now() as they read it live at ac_now_us(). */
#ifndef AC_REPLAY_H
#define AC_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../pool/journal.h"
#include "../pool/pool.h"

#define REPLAY_TICK_MS 50
#define REPLAY_SPEED_MIN 0.25
#define REPLAY_SPEED_MAX 64.0

typedef struct replay {
	journal *j;
	pool *p;           /* not owned */
	size_t pos;        /* events [0, pos) are applied */
	int64_t now_us;    /* the virtual clock */
	double speed;
	bool playing;
	bool timer_on;
	uv_timer_t timer;
	uint64_t last_ms;  /* uv_now() at the last tick */
	uint64_t apply_errors;
	/* called after the clock or the position moved (tick, seek, step) */
	void (*on_move)(void *ctx);
	void *ctx;
} replay;

/* Opens the recording and sets the pool p (fresh from pool_new()) to its first event. A missing
 * file, a file that is not a recording or of another format version is an error naming the file. */
int replay_open(const char *path, pool *p, replay **out, ac_err *err);
/* Frees what replay_open() made (the timer must be closed: replay_close(), then the loop ran). */
void replay_free(replay *r);

/* Starts the virtual clock on loop (paused or playing). */
int replay_start_clock(replay *r, uv_loop_t *loop, bool playing);
void replay_close(replay *r); /* stops and closes the timer */

int64_t replay_now(const replay *r);
int64_t replay_start_us(const replay *r);
int64_t replay_end_us(const replay *r);
size_t replay_count(const replay *r);
const char *replay_truncation(const replay *r);

/* The pool as it was at time t_us (events with time <= t_us applied); the clock shows t_us. */
int replay_seek(replay *r, int64_t t_us, ac_err *err);
/* One event forward (dir > 0) or back (dir < 0); pauses. *what (may be NULL) describes the event
 * now last applied. */
int replay_step(replay *r, int dir, char *what, size_t cap, ac_err *err);
void replay_set_playing(replay *r, bool playing);
/* Doubles (dir > 0) or halves the speed within 0.25x .. 64x. */
void replay_change_speed(replay *r, int dir);

/* TIME: "HH:MM[:SS[.frac]]" (the recording's first day, local time; the next day when that falls
 * before the start and within the recording), "YYYY-MM-DD HH:MM[:SS[.frac]]" (local time, 'T'
 * also separates), or seconds since the epoch ("1764154051.123456"). */
int replay_parse_time(const replay *r, const char *text, int64_t *t_us, ac_err *err);

/* "2026-11-26 10:47:31" of t_us, local time. */
void replay_format_time(char *out, size_t cap, int64_t t_us);

#endif
