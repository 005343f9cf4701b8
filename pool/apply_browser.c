/* Browsers: their table, the appliers of the events about them (and of the pool-wide ones: the
 * bridge listening, errors, scaling decisions) and their event log lines. Like the rest of the
 * pool: no I/O, no decisions, only state. */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = { "launching", "connected", "lost", "exited" };

const char *browser_state_name(browser_state s)
{
	return (unsigned)s <= BS_EXITED ? state_names[s] : "?";
}

size_t pool_browser_count(const pool *p) { return p->n; }
const pool_browser *pool_browser_at(const pool *p, size_t i) { return i < p->n ? &p->browsers[i] : NULL; }

pool_browser *pool_find_browser(pool *p, int id)
{
	/* the index (pool_internal.h) takes the rows added since the last lookup; ids are unique */
	for (; p->browser_ixd < p->n; p->browser_ixd++)
		if (ix_put(&p->browser_ix, (uint64_t)(uint32_t)p->browsers[p->browser_ixd].id, p->browser_ixd)) {
			p->browser_ixd = 0; /* out of memory: the scan below, and a rebuild next time */
			for (size_t i = 0; i < p->n; i++)
				if (p->browsers[i].id == id)
					return &p->browsers[i];
			return NULL;
		}
	long i = ix_get(&p->browser_ix, (uint64_t)(uint32_t)id);
	return i < 0 ? NULL : &p->browsers[i];
}

const pool_browser *pool_browser_find(const pool *p, int id)
{
	return pool_find_browser((pool *)p, id);
}

const char *pool_kind_of(const pool *p, int id, const char *dflt)
{
	const pool_browser *b = id ? pool_browser_find(p, id) : NULL;
	return b ? b->kind : dflt;
}

bool pool_settled(const pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const pool_browser *b = &p->browsers[i];
		if (b->managed && b->state == BS_LAUNCHING)
			return false;
		if (b->managed && b->state == BS_CONNECTED && !b->caps.valid)
			return false;
	}
	return true;
}

static pool_browser *add(pool *p, int id, ac_err *err)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		pool_browser *nb = realloc(p->browsers, cap * sizeof *nb);
		if (!nb) {
			ac_errf(err, AC_ENOMEM, "out of memory adding browser %d", id);
			return NULL;
		}
		p->browsers = nb;
		p->cap = cap;
	}
	pool_browser *b = &p->browsers[p->n++];
	memset(b, 0, sizeof *b);
	b->id = id;
	b->rtt_us = -1;
	if (id > p->last_id) /* replayed or externally numbered ids never get reused */
		p->last_id = id;
	return b;
}

static int need_browser(pool *p, const ac_event *ev, pool_browser **out, ac_err *err)
{
	*out = pool_find_browser(p, ev->browser);
	if (!*out)
		return ac_errf(err, AC_EINVAL, "%s for unknown browser %d", ev_kind_name(ev->kind), ev->browser);
	return 0;
}

/* ---------------------------------------------------------------- appliers */

int pa_bridge_listening(pool *p, const ac_event *ev, ac_err *err)
{
	(void)err;
	ac_strlcpy(p->bridge_url, ev->text, sizeof p->bridge_url);
	p->bridge_port = (int)ev->num;
	p->started_us = ev->t_us;
	return 0;
}

int pa_browser_launched(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = pool_find_browser(p, ev->browser);
	if (b) {
		/* a restart keeps the id; only an exited browser can be launched again */
		if (b->state != BS_EXITED)
			return ac_errf(err, AC_EINVAL, "browser %d launched twice", ev->browser);
		b->restarts++;
	} else if (!(b = add(p, ev->browser, err))) {
		return AC_ENOMEM;
	}
	ac_strlcpy(b->kind, ev->family, sizeof b->kind);
	b->managed = true;
	b->state = BS_LAUNCHING;
	b->rss_valid = b->cpu_valid = b->page_mem_valid = b->cpu_seconds_valid = false;
	b->pid = (int)ev->num;
	b->launched_us = ev->t_us;
	b->restart_at_us = 0;
	b->held = false;
	b->note[0] = '\0';
	b->changed_us = ev->t_us;
	return 0;
}

int pa_browser_version(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	ac_strlcpy(b->version, ev->text, sizeof b->version);
	return 0;
}

int pa_browser_connected(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = pool_find_browser(p, ev->browser);
	if (!b) { /* an attached browser: someone opened our URL */
		if (!(b = add(p, ev->browser, err)))
			return AC_ENOMEM;
		ac_strlcpy(b->kind, ev->family ? ev->family : "unknown", sizeof b->kind);
	}
	if (b->state == BS_EXITED)
		return ac_errf(err, AC_EINVAL, "browser %d connected after its process exited", b->id);
	pool_browser_gone(p, b->id); /* a new connection: the page starts without sessions */
	b->state = BS_CONNECTED;
	b->page_mem_valid = false; /* a new page: its own measurement comes with its pongs */
	b->connected_us = ev->t_us;
	ac_strlcpy(b->peer, ev->text ? ev->text : "", sizeof b->peer);
	b->connects++;
	b->reason[0] = '\0';
	b->restart_at_us = 0;
	b->note[0] = '\0';
	b->changed_us = ev->t_us;
	return 0;
}

int pa_browser_hello(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	ac_caps caps;
	int rc = need_browser(p, ev, &b, err);
	if (rc || (rc = caps_from_hello(ev->data, &caps, err)))
		return rc;
	b->caps = caps;
	if (!b->managed && caps.name[0])
		ac_strlcpy(b->kind, caps.name, sizeof b->kind);
	if (!b->version[0])
		ac_strlcpy(b->version, caps.version, sizeof b->version);
	b->changed_us = ev->t_us;
	return 0;
}

int pa_browser_rtt(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	b->rtt_us = ev->num;
	/* the page sends its figure with every pong while it is fresh: none means n/a now */
	b->page_mem_valid = ev->num2 > 0;
	b->page_mem_bytes = ev->num2 > 0 ? ev->num2 : 0;
	return 0;
}

int pa_browser_usage(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	if (ev->num < 0 || ev->num2 < 0)
		return ac_errf(err, AC_EINVAL, "browser_usage of browser %d: negative RSS or process count", b->id);
	if (b->state == BS_EXITED)
		return 0; /* sampled just before the exit was seen: the process is gone */
	b->rss_bytes = ev->num;
	b->nproc = (int)ev->num2;
	b->rss_valid = true;
	b->cpu_valid = ev->x[0] >= 0 && ev->x[0] < 1e6; /* NaN and nonsense: n/a */
	b->cpu_pct = b->cpu_valid ? ev->x[0] : 0;
	/* 0 = not carried (recordings before it): a live tree has used some CPU by its first sample */
	b->cpu_seconds_valid = ev->x[1] > 0 && ev->x[1] < 1e12;
	b->cpu_seconds = b->cpu_seconds_valid ? ev->x[1] : 0;
	return 0;
}

int pa_browser_lost(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	if (b->state == BS_EXITED)
		return 0; /* the socket closing after the process died adds nothing */
	b->state = BS_LOST;
	b->page_mem_valid = false;
	ac_strlcpy(b->reason, ev->text, sizeof b->reason);
	pool_browser_gone(p, b->id);
	b->changed_us = ev->t_us;
	return 0;
}

/* EV_BROWSER_EXITED and EV_BROWSER_FAILED: the process is gone (or never started). */
int pa_browser_ended(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	b->state = BS_EXITED;
	b->rss_valid = b->cpu_valid = b->page_mem_valid = b->cpu_seconds_valid = false;
	b->exit_status = (int)ev->num;
	b->exit_signal = (int)ev->num2;
	ac_strlcpy(b->reason, ev->text, sizeof b->reason);
	pool_browser_gone(p, b->id);
	b->changed_us = ev->t_us;
	return 0;
}

int pa_error(pool *p, const ac_event *ev, ac_err *err)
{
	(void)p, (void)ev, (void)err;
	return 0; /* counted and logged by the dispatch */
}

int pa_browser_restarting(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	b->restart_at_us = ev->t_us + (int64_t)(ev->x[0] * 1e6);
	b->restarts_recent = (int)ev->num;
	ac_strlcpy(b->note, ev->text ? ev->text : "", sizeof b->note);
	b->changed_us = ev->t_us;
	return 0;
}

int pa_browser_held(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	b->held = true;
	b->restart_at_us = 0;
	ac_strlcpy(b->note, ev->text ? ev->text : "", sizeof b->note);
	b->changed_us = ev->t_us;
	return 0;
}

int pa_audio_frontend(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	if (ev->num == 1 && ev->x[0] > 0)
		snprintf(b->audio_frontend, sizeof b->audio_frontend, "GPU log-mel %s, tuned: %.2fx the default",
			 ev->name ? ev->name : "?", ev->x[0]);
	else
		snprintf(b->audio_frontend, sizeof b->audio_frontend, "GPU log-mel %s (%s)%s%.100s",
			 ev->name ? ev->name : "?", ev->num == 1 ? "tuned" : "default", ev->text && ev->text[0] ? ": " : "",
			 ev->text ? ev->text : "");
	return 0;
}

int pa_scaled(pool *p, const ac_event *ev, ac_err *err)
{
	(void)p;
	if (!ev->family || (ev->num != 1 && ev->num != -1))
		return ac_errf(err, AC_EINVAL, "scaled event needs a family and num +1 or -1");
	return 0;
}

/* ---------------------------------------------------------------- forgetting */

const char *pool_unforgettable(const pool *p, const pool_browser *b)
{
	if (b->grid)
		return "it is from a Selenium Grid (its supervisor owns it)";
	if (b->managed)
		return "it is managed (its supervisor owns it)";
	if (b->state != BS_LOST)
		return "it is not lost";
	for (size_t i = 0; i < p->n_requests; i++)
		if (p->requests[i].inflight && p->requests[i].browser == b->id)
			return "a request is still in flight there";
	return NULL;
}

/* Its sessions that counted nothing (no result, failure or verification: nothing /metrics reports)
 * and its breakers; the rest of its sessions stay, so that the row's counters per browser never go
 * back. The sessions were retired when it was lost. */
static void drop_what_hangs_off(pool *p, int id)
{
	size_t k = 0;
	for (size_t i = 0; i < p->n_sessions; i++) {
		const pool_session *s = &p->sessions[i];
		bool counted = s->completed || s->failed || s->verifications || s->verify_failures;
		if (s->browser != id || counted)
			p->sessions[k++] = *s;
	}
	p->n_sessions = k;
	k = 0;
	for (size_t i = 0; i < p->n_breakers; i++)
		if (p->breakers[i].browser != id)
			p->breakers[k++] = p->breakers[i];
	p->n_breakers = k;
	for (size_t m = 0; m < p->n_models; m++) {
		p->models[m].breakers_open = 0;
		for (size_t i = 0; i < p->n_breakers; i++)
			p->models[m].breakers_open += p->breakers[i].model == p->models[m].id &&
						      p->breakers[i].state != BRK_CLOSED;
	}
	/* rows moved: the session index is rebuilt on its next use */
	ix_clear(&p->session_ix);
	p->session_ixd = 0;
}

int pa_browser_forgotten(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc = need_browser(p, ev, &b, err);
	if (rc)
		return rc;
	const char *why = pool_unforgettable(p, b);
	if (why)
		return ac_errf(err, AC_EINVAL, "browser %d cannot be forgotten: %s", b->id, why);
	size_t i = (size_t)(b - p->browsers);
	memmove(b, b + 1, (p->n - i - 1) * sizeof *b);
	p->n--;
	ix_clear(&p->browser_ix); /* rows moved: rebuilt on its next use */
	p->browser_ixd = 0;
	drop_what_hangs_off(p, ev->browser);
	/* give back what a churn of many browsers grew (last_id stays: ids are never reused) */
	size_t cap = p->cap;
	while (cap > 8 && p->n < cap / 4)
		cap /= 2;
	pool_browser *nb = cap < p->cap ? realloc(p->browsers, cap * sizeof *nb) : NULL;
	if (nb) {
		p->browsers = nb;
		p->cap = cap;
	}
	return 0;
}

/* ---------------------------------------------------------------- log lines */

/* Heartbeat round trips, versions and usage samples are too frequent or too small to be worth a
 * line: their kinds name this one. */
bool pl_none(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p, (void)ev, (void)text, (void)cap;
	return false;
}

#define OR(s, dflt) ((s) ? (s) : (dflt))

bool pl_bridge_listening(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "listening on %s", OR(ev->text, "?"));
	return true;
}

bool pl_browser_launched(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s launched (pid %lld)", pool_kind_of(p, ev->browser, "?"), (long long)ev->num);
	return true;
}

bool pl_browser_connected(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	const pool_browser *b = ev->browser ? pool_browser_find(p, ev->browser) : NULL;
	snprintf(text, cap, "%s %s", b ? b->kind : "browser", b && b->connects > 1 ? "reconnected" : "connected");
	return true;
}

bool pl_browser_hello(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	const pool_browser *b = ev->browser ? pool_browser_find(p, ev->browser) : NULL;
	if (!b)
		return false;
	snprintf(text, cap, "%s hello: webgpu %s, webnn %s, wasm %s", b->kind,
		 class_name(b->caps.verdict[PLAT_WEBGPU].status), class_name(b->caps.verdict[PLAT_WEBNN].status),
		 class_name(b->caps.verdict[PLAT_WASM].status));
	return true;
}

bool pl_browser_lost(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s lost: %s", pool_kind_of(p, ev->browser, "browser"), OR(ev->text, ""));
	return true;
}

bool pl_browser_exited(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s %s", pool_kind_of(p, ev->browser, "browser"), OR(ev->text, "exited"));
	return true;
}

bool pl_browser_failed(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s failed: %s", pool_kind_of(p, ev->browser, "browser"), OR(ev->text, ""));
	return true;
}

bool pl_error(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "error: %s", OR(ev->text, ""));
	return true;
}

/* EV_BROWSER_RESTARTING and EV_BROWSER_HELD: the supervisor's word on a browser. */
bool pl_supervision(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	snprintf(text, cap, "%s %d: %s", pool_kind_of(p, ev->browser, "browser"), ev->browser, OR(ev->text, ""));
	return true;
}

bool pl_audio_frontend(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	const pool_browser *b = ev->browser ? pool_browser_find(p, ev->browser) : NULL;
	snprintf(text, cap, "%s: %s", b ? b->kind : "browser", b ? b->audio_frontend : "");
	return true;
}

bool pl_scaled(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	snprintf(text, cap, "scale %s: %s %d: %s", ev->num > 0 ? "up" : "down", OR(ev->family, "?"), ev->browser,
		 OR(ev->text, ""));
	return true;
}

bool pl_browser_forgotten(const pool *p, const ac_event *ev, char *text, size_t cap)
{
	(void)p;
	double s = ev->x[0];
	char dur[32];
	if (s < 120)
		snprintf(dur, sizeof dur, "%.0f s", s);
	else if (s < 7200)
		snprintf(dur, sizeof dur, "%.0f min", s / 60);
	else
		snprintf(dur, sizeof dur, "%.1f h", s / 3600);
	snprintf(text, cap, "forgot browser %d (%s, lost for %s)", ev->browser, OR(ev->family, "browser"), dur);
	return true;
}
