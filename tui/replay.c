/* The replay driver: see replay.h. */
#include "replay.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Forward moves of up to this many events apply them one by one; longer ones restore from the
 * nearest checkpoint (journal_restore), which bounds the cost of a jump. */
#define REPLAY_FORWARD_MAX 4096

int replay_open(const char *path, pool *p, replay **out, ac_err *err)
{
	replay *r = calloc(1, sizeof *r);
	if (!r)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	int rc = journal_open(path, &r->j, err);
	if (rc) {
		free(r);
		return rc;
	}
	r->p = p;
	r->speed = 1.0;
	if ((rc = replay_seek(r, journal_start_us(r->j), err))) {
		replay_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void replay_free(replay *r)
{
	if (!r)
		return;
	journal_free(r->j);
	free(r);
}

int64_t replay_now(const replay *r) { return r->now_us; }
int64_t replay_start_us(const replay *r) { return journal_start_us(r->j); }
int64_t replay_end_us(const replay *r) { return journal_end_us(r->j); }
size_t replay_count(const replay *r) { return journal_event_count(r->j); }
const char *replay_truncation(const replay *r) { return journal_truncation(r->j); }

static void moved(replay *r)
{
	if (r->on_move)
		r->on_move(r->ctx);
}

static int apply_one(replay *r, size_t i, ac_event *ev, ac_err *err)
{
	int rc = journal_event(r->j, i, ev, err);
	if (rc)
		return rc;
	ac_err e;
	if (pool_apply(r->p, ev, &e))
		r->apply_errors++; /* recorded events were all applied live: this should not happen */
	return 0;
}

/* Makes the pool hold events [0, target). */
static int go_to(replay *r, size_t target, ac_err *err)
{
	size_t n = journal_event_count(r->j);
	if (target > n)
		target = n;
	if (target >= r->pos && target - r->pos <= REPLAY_FORWARD_MAX) {
		ac_event ev;
		while (r->pos < target) {
			int rc = apply_one(r, r->pos, &ev, err);
			if (rc)
				return rc;
			r->pos++;
		}
		return 0;
	}
	int rc = journal_restore(r->j, r->p, target, err);
	if (rc)
		return rc;
	r->pos = target;
	return 0;
}

int replay_seek(replay *r, int64_t t_us, ac_err *err)
{
	int rc = go_to(r, journal_find(r->j, t_us), err);
	if (rc)
		return rc;
	r->now_us = t_us;
	moved(r);
	return 0;
}

static void describe(replay *r, char *what, size_t cap)
{
	size_t n = journal_event_count(r->j);
	char when[40];
	replay_format_time(when, sizeof when, r->now_us);
	if (!r->pos) {
		snprintf(what, cap, "before the first event (%zu in all), %s", n, when);
		return;
	}
	ac_event ev;
	ac_err e;
	if (journal_event(r->j, r->pos - 1, &ev, &e)) {
		snprintf(what, cap, "event %zu of %zu at %s", r->pos, n, when);
		return;
	}
	snprintf(what, cap, "event %zu of %zu at %s.%06lld: %s", r->pos, n, when,
		 (long long)(ev.t_us % 1000000), ev_kind_name(ev.kind));
	if (ev.browser)
		ac_strlcatf(what, cap, " browser %d", ev.browser);
	if (ev.model)
		ac_strlcatf(what, cap, " model %d", ev.model);
}

int replay_step(replay *r, int dir, char *what, size_t cap, ac_err *err)
{
	size_t n = journal_event_count(r->j);
	replay_set_playing(r, false);
	int rc = 0;
	if (dir > 0) {
		if (r->pos < n) {
			ac_event ev;
			if ((rc = apply_one(r, r->pos, &ev, err)))
				return rc;
			r->pos++;
			r->now_us = ev.t_us;
		}
	} else if (r->pos > 0) {
		size_t target = r->pos - 1;
		if ((rc = journal_restore(r->j, r->p, target, err)))
			return rc;
		r->pos = target;
		r->now_us = target ? journal_event_time(r->j, target - 1) : journal_start_us(r->j);
	}
	if (what)
		describe(r, what, cap);
	moved(r);
	return 0;
}

static void on_tick(uv_timer_t *t)
{
	replay *r = t->data;
	uint64_t now = uv_now(t->loop);
	uint64_t elapsed = now - r->last_ms;
	r->last_ms = now;
	if (!r->playing)
		return;
	int64_t end = journal_end_us(r->j);
	int64_t next = r->now_us + (int64_t)((double)elapsed * 1000.0 * r->speed);
	if (next >= end) {
		next = end;
		r->playing = false; /* the end: stay there, paused */
	}
	ac_err err;
	size_t target = journal_find(r->j, next);
	if (target > r->pos)
		go_to(r, target, &err); /* a decoding error: the position stays where it could go */
	r->now_us = next;
	moved(r);
}

int replay_start_clock(replay *r, uv_loop_t *loop, bool playing)
{
	int rc = uv_timer_init(loop, &r->timer);
	if (rc)
		return rc;
	r->timer.data = r;
	r->timer_on = true;
	r->last_ms = uv_now(loop);
	r->playing = playing && r->now_us < journal_end_us(r->j);
	return uv_timer_start(&r->timer, on_tick, REPLAY_TICK_MS, REPLAY_TICK_MS);
}

void replay_close(replay *r)
{
	if (!r || !r->timer_on)
		return;
	r->timer_on = false;
	uv_timer_stop(&r->timer);
	if (!uv_is_closing((uv_handle_t *)&r->timer))
		uv_close((uv_handle_t *)&r->timer, NULL);
}

void replay_set_playing(replay *r, bool playing)
{
	if (playing && r->now_us >= journal_end_us(r->j)) {
		/* play at the end starts again from the beginning */
		ac_err err;
		replay_seek(r, journal_start_us(r->j), &err);
	}
	if (playing && !r->playing && r->timer_on)
		r->last_ms = uv_now(r->timer.loop);
	r->playing = playing;
}

void replay_change_speed(replay *r, int dir)
{
	double s = dir > 0 ? r->speed * 2 : r->speed / 2;
	if (s < REPLAY_SPEED_MIN)
		s = REPLAY_SPEED_MIN;
	if (s > REPLAY_SPEED_MAX)
		s = REPLAY_SPEED_MAX;
	r->speed = s;
}

void replay_format_time(char *out, size_t cap, int64_t t_us)
{
	time_t t = (time_t)(t_us / 1000000);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, cap, "?");
}

/* Digits, then optionally '.' and more digits: whole seconds and microseconds. */
static bool parse_seconds(const char *s, long long *whole, long long *us, const char **end)
{
	if (!isdigit((unsigned char)*s))
		return false;
	long long w = 0;
	while (isdigit((unsigned char)*s)) {
		if (w > 1000000000000LL)
			return false;
		w = w * 10 + (*s++ - '0');
	}
	long long f = 0;
	int digits = 0;
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (digits < 6) {
				f = f * 10 + (*s - '0');
				digits++;
			} else if (digits == 6) {
				if (*s >= '5') /* round to the microsecond */
					f++;
				digits++;
			}
			s++;
		}
		for (int d = digits > 6 ? 6 : digits; d < 6; d++)
			f *= 10;
	}
	*whole = w;
	*us = f;
	*end = s;
	return true;
}

int replay_parse_time(const replay *r, const char *text, int64_t *t_us, ac_err *err)
{
	const char *s = text;
	while (*s == ' ')
		s++;
	int Y, M, D, h, m, n = 0;
	long long sec = 0, frac = 0;
	const char *rest;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	bool dated = false;
	if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &n) == 3 && n == 10 && (s[10] == ' ' || s[10] == 'T')) {
		dated = true;
		s += 11;
		while (*s == ' ')
			s++;
	} else if (!strchr(s, ':')) {
		/* seconds since the epoch, as live -b --json prints "time" */
		if (!parse_seconds(s, &sec, &frac, &rest) || (*rest && strspn(rest, " ") != strlen(rest)))
			goto bad;
		*t_us = sec * 1000000 + frac;
		return 0;
	}
	n = 0;
	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
		goto bad;
	s += n;
	if (*s == ':') {
		if (!parse_seconds(s + 1, &sec, &frac, &rest) || sec > 60)
			goto bad;
		s = rest;
	}
	while (*s == ' ')
		s++;
	if (*s)
		goto bad;
	int64_t first = journal_start_us(r->j);
	if (dated) {
		if (M < 1 || M > 12 || D < 1 || D > 31)
			goto bad;
		tm.tm_year = Y - 1900;
		tm.tm_mon = M - 1;
		tm.tm_mday = D;
	} else {
		time_t f = (time_t)(first / 1000000);
		if (!localtime_r(&f, &tm))
			goto bad;
	}
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = (int)sec;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		goto bad;
	int64_t v = (int64_t)t * 1000000 + frac;
	if (!dated && v < first - 1000000 && v + 86400000000LL <= journal_end_us(r->j))
		v += 86400000000LL; /* a recording across midnight: the time of the next day */
	*t_us = v;
	return 0;
bad:
	return ac_errf(err, AC_EINVAL, "'%s' is not a time: use HH:MM[:SS], 'YYYY-MM-DD HH:MM[:SS]' or "
		       "seconds since the epoch", text);
}
