#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = { "launching", "connected", "lost", "exited" };

const char *browser_state_name(browser_state s)
{
	return (unsigned)s <= BS_EXITED ? state_names[s] : "?";
}

int pool_new(pool **out)
{
	pool *p = calloc(1, sizeof *p);
	if (!p)
		return AC_ENOMEM;
	*out = p;
	return 0;
}

void pool_free_tables(pool *p)
{
	free(p->browsers);
	free(p->models);
	free(p->stats);
	free(p->sessions);
	free(p->requests);
	free(p->breakers);
}

void pool_free(pool *p)
{
	if (!p)
		return;
	pool_free_tables(p);
	free(p);
}

int pool_add_listener(pool *p, pool_listener fn, void *ctx)
{
	if (p->n_listeners == POOL_MAX_LISTENERS)
		return AC_ENOMEM;
	p->listeners[p->n_listeners] = fn;
	p->listener_ctx[p->n_listeners] = ctx;
	p->n_listeners++;
	return 0;
}

int pool_next_id(pool *p)
{
	return ++p->last_id;
}

size_t pool_browser_count(const pool *p) { return p->n; }
const pool_browser *pool_browser_at(const pool *p, size_t i) { return i < p->n ? &p->browsers[i] : NULL; }
const char *pool_bridge_url(const pool *p) { return p->bridge_url; }
int pool_bridge_port(const pool *p) { return p->bridge_port; }
int64_t pool_started_us(const pool *p) { return p->started_us; }
uint64_t pool_event_count(const pool *p) { return p->events; }

pool_browser *pool_find_browser(pool *p, int id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->browsers[i].id == id)
			return &p->browsers[i];
	return NULL;
}

const pool_browser *pool_browser_find(const pool *p, int id)
{
	return pool_find_browser((pool *)p, id);
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

static int need_browser(pool *p, const ac_event *ev, pool_browser **out, ac_err *err)
{
	*out = pool_find_browser(p, ev->browser);
	if (!*out)
		return ac_errf(err, AC_EINVAL, "%s for unknown browser %d", ev_kind_name(ev->kind), ev->browser);
	return 0;
}

const char *breaker_state_name(breaker_state s)
{
	switch (s) {
	case BRK_CLOSED: return "closed";
	case BRK_OPEN: return "open";
	case BRK_HALF_OPEN: return "half-open";
	}
	return "?";
}

int breaker_state_from_name(const char *name)
{
	for (int i = BRK_CLOSED; name && i <= BRK_HALF_OPEN; i++)
		if (!strcmp(name, breaker_state_name((breaker_state)i)))
			return i;
	return AC_EINVAL;
}

size_t pool_breaker_count(const pool *p) { return p->n_breakers; }
const pool_breaker *pool_breaker_at(const pool *p, size_t i) { return i < p->n_breakers ? &p->breakers[i] : NULL; }

const pool_breaker *pool_breaker_find(const pool *p, int browser, int model)
{
	for (size_t i = 0; i < p->n_breakers; i++)
		if (p->breakers[i].browser == browser && p->breakers[i].model == model)
			return &p->breakers[i];
	return NULL;
}

void pool_request_totals_get(const pool *p, pool_request_totals *out)
{
	*out = p->totals;
	out->pending = p->n_requests;
}

static int apply_breaker(pool *p, const ac_event *ev, ac_err *err)
{
	int st = breaker_state_from_name(ev->name);
	if (st < 0 || !ev->browser || !ev->model)
		return ac_errf(err, AC_EINVAL, "breaker event needs a browser, a model and a state (closed, open, half-open)");
	pool_breaker *k = (pool_breaker *)pool_breaker_find(p, ev->browser, ev->model);
	if (!k) {
		if (ac_reserve((void **)&p->breakers, &p->cap_breakers, p->n_breakers + 1, sizeof *p->breakers))
			return ac_errf(err, AC_ENOMEM, "out of memory");
		k = &p->breakers[p->n_breakers++];
		memset(k, 0, sizeof *k);
		k->browser = ev->browser;
		k->model = ev->model;
	}
	k->state = (breaker_state)st;
	k->failures = (int)ev->num;
	k->probe_at_us = st == BRK_OPEN ? ev->t_us + (int64_t)(ev->x[0] * 1e6) : 0;
	k->changed_us = ev->t_us;
	ac_strlcpy(k->reason, ev->text ? ev->text : "", sizeof k->reason);
	for (size_t i = 0; i < p->n_models; i++) {
		pool_model *m = &p->models[i];
		if (m->id != ev->model)
			continue;
		m->breakers_open = 0;
		for (size_t j = 0; j < p->n_breakers; j++)
			m->breakers_open += p->breakers[j].model == m->id && p->breakers[j].state != BRK_CLOSED;
		snprintf(m->breaker_note, sizeof m->breaker_note, "browser %d %s (%d consecutive errors)%s%.120s", k->browser,
			 breaker_state_name(k->state), k->failures, k->reason[0] ? ": " : "", k->reason);
	}
	return 0;
}

static int apply(pool *p, const ac_event *ev, ac_err *err)
{
	pool_browser *b = NULL;
	int rc;
	switch (ev->kind) {
	case EV_BRIDGE_LISTENING:
		ac_strlcpy(p->bridge_url, ev->text, sizeof p->bridge_url);
		p->bridge_port = (int)ev->num;
		p->started_us = ev->t_us;
		return 0;
	case EV_BROWSER_LAUNCHED:
		if ((b = pool_find_browser(p, ev->browser))) {
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
		b->rss_valid = b->cpu_valid = b->page_mem_valid = false;
		b->pid = (int)ev->num;
		b->launched_us = ev->t_us;
		b->restart_at_us = 0;
		b->held = false;
		b->note[0] = '\0';
		break;
	case EV_BROWSER_VERSION:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		ac_strlcpy(b->version, ev->text, sizeof b->version);
		return 0;
	case EV_BROWSER_CONNECTED:
		b = pool_find_browser(p, ev->browser);
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
		b->connects++;
		b->reason[0] = '\0';
		b->restart_at_us = 0;
		b->note[0] = '\0';
		break;
	case EV_BROWSER_HELLO: {
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		ac_caps caps;
		if ((rc = caps_from_hello(ev->data, &caps, err)))
			return rc;
		b->caps = caps;
		if (!b->managed && caps.name[0])
			ac_strlcpy(b->kind, caps.name, sizeof b->kind);
		if (!b->version[0])
			ac_strlcpy(b->version, caps.version, sizeof b->version);
		break;
	}
	case EV_BROWSER_RTT:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		b->rtt_us = ev->num;
		/* the page sends its figure with every pong while it is fresh: none means n/a now */
		b->page_mem_valid = ev->num2 > 0;
		b->page_mem_bytes = ev->num2 > 0 ? ev->num2 : 0;
		return 0;
	case EV_BROWSER_USAGE:
		if ((rc = need_browser(p, ev, &b, err)))
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
		return 0;
	case EV_BROWSER_LOST:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		if (b->state == BS_EXITED)
			return 0; /* the socket closing after the process died adds nothing */
		b->state = BS_LOST;
		b->page_mem_valid = false;
		ac_strlcpy(b->reason, ev->text, sizeof b->reason);
		pool_browser_gone(p, b->id);
		break;
	case EV_BROWSER_EXITED:
	case EV_BROWSER_FAILED:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		b->state = BS_EXITED;
		b->rss_valid = b->cpu_valid = b->page_mem_valid = false;
		b->exit_status = (int)ev->num;
		b->exit_signal = (int)ev->num2;
		ac_strlcpy(b->reason, ev->text, sizeof b->reason);
		pool_browser_gone(p, b->id);
		break;
	case EV_ERROR:
		return 0;
	case EV_BROWSER_RESTARTING:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		b->restart_at_us = ev->t_us + (int64_t)(ev->x[0] * 1e6);
		b->restarts_recent = (int)ev->num;
		ac_strlcpy(b->note, ev->text ? ev->text : "", sizeof b->note);
		break;
	case EV_BROWSER_HELD:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		b->held = true;
		b->restart_at_us = 0;
		ac_strlcpy(b->note, ev->text ? ev->text : "", sizeof b->note);
		break;
	case EV_AUDIO_FRONTEND:
		if ((rc = need_browser(p, ev, &b, err)))
			return rc;
		if (ev->num == 1 && ev->x[0] > 0)
			snprintf(b->audio_frontend, sizeof b->audio_frontend, "GPU log-mel %s, tuned: %.2fx the default",
				 ev->name ? ev->name : "?", ev->x[0]);
		else
			snprintf(b->audio_frontend, sizeof b->audio_frontend, "GPU log-mel %s (%s)%s%.100s",
				 ev->name ? ev->name : "?", ev->num == 1 ? "tuned" : "default", ev->text && ev->text[0] ? ": " : "",
				 ev->text ? ev->text : "");
		return 0;
	case EV_SCALED:
		if (!ev->family || (ev->num != 1 && ev->num != -1))
			return ac_errf(err, AC_EINVAL, "scaled event needs a family and num +1 or -1");
		return 0;
	case EV_BREAKER:
		return apply_breaker(p, ev, err);
	case EV_REQUEST_SENT: case EV_REQUEST_DONE: case EV_REQUEST_FAILED:
		if ((rc = pool_apply_work(p, ev, err)))
			return rc;
		if (ev->browser && (b = pool_find_browser(p, ev->browser)))
			b->last_work_us = ev->t_us;
		return 0;
	case EV_WORKLOAD_STARTED: case EV_WORKLOAD_STOPPED: case EV_PRECISION_CHANGED:
	case EV_SESSION_LOADING: case EV_SESSION_READY: case EV_SESSION_FAILED: case EV_SESSION_UNLOADED:
	case EV_REQUEST_QUEUED: case EV_REQUEST_REQUEUED: case EV_REQUEST_DISCARDED: case EV_VERIFIED:
	case EV_SHARD_DONE:
		return pool_apply_work(p, ev, err);
	default:
		return ac_errf(err, AC_EINVAL, "unknown event kind %d", (int)ev->kind);
	}
	if (b)
		b->changed_us = ev->t_us;
	return 0;
}

size_t pool_log_count(const pool *p) { return p->log_len; }
uint64_t pool_error_count(const pool *p) { return p->errors; }

const pool_log_entry *pool_log_at(const pool *p, size_t i)
{
	if (i >= p->log_len)
		return NULL;
	return &p->log[(p->log_head + POOL_LOG_MAX - p->log_len + i) % POOL_LOG_MAX];
}

/* What the event log shows. Heartbeat round trips and versions are too frequent or too small
 * to be worth a line. */
static void log_event(pool *p, const ac_event *ev)
{
	const pool_browser *b = ev->browser ? pool_find_browser(p, ev->browser) : NULL;
	char text[200];
	switch (ev->kind) {
	case EV_BRIDGE_LISTENING:
		snprintf(text, sizeof text, "listening on %s", ev->text ? ev->text : "?");
		break;
	case EV_BROWSER_LAUNCHED:
		snprintf(text, sizeof text, "%s launched (pid %lld)", b ? b->kind : "?", (long long)ev->num);
		break;
	case EV_BROWSER_CONNECTED:
		snprintf(text, sizeof text, "%s %s", b ? b->kind : "browser",
			 b && b->connects > 1 ? "reconnected" : "connected");
		break;
	case EV_BROWSER_HELLO:
		if (!b)
			return;
		snprintf(text, sizeof text, "%s hello: webgpu %s, webnn %s, wasm %s", b->kind,
			 class_name(b->caps.verdict[PLAT_WEBGPU].status), class_name(b->caps.verdict[PLAT_WEBNN].status),
			 class_name(b->caps.verdict[PLAT_WASM].status));
		break;
	case EV_BROWSER_LOST:
		snprintf(text, sizeof text, "%s lost: %s", b ? b->kind : "browser", ev->text ? ev->text : "");
		break;
	case EV_BROWSER_EXITED:
		snprintf(text, sizeof text, "%s %s", b ? b->kind : "browser", ev->text ? ev->text : "exited");
		break;
	case EV_BROWSER_FAILED:
		snprintf(text, sizeof text, "%s failed: %s", b ? b->kind : "browser", ev->text ? ev->text : "");
		break;
	case EV_ERROR:
		snprintf(text, sizeof text, "error: %s", ev->text ? ev->text : "");
		break;
	case EV_WORKLOAD_STARTED:
		snprintf(text, sizeof text, "model %d: %s %s on %s started", ev->model, ev->name, ev->precision, ev->platform);
		break;
	case EV_WORKLOAD_STOPPED:
		snprintf(text, sizeof text, "model %d stopped: %s", ev->model, ev->text ? ev->text : "");
		break;
	case EV_PRECISION_CHANGED:
		snprintf(text, sizeof text, "model %d: precision changed to %s", ev->model, ev->precision);
		break;
	case EV_SESSION_READY: {
		const pool_session *s = pool_session_find(p, ev->browser, ev->session);
		snprintf(text, sizeof text, "%s: %s %s loaded on %s in %.0f ms", b ? b->kind : "browser",
			 s ? s->file : "?", s && s->reference ? "(reference)" : "", ev->platform ? ev->platform : "?", ev->x[0]);
		break;
	}
	case EV_SESSION_FAILED:
		snprintf(text, sizeof text, "%s: load failed: %s", b ? b->kind : "browser", ev->text ? ev->text : "");
		break;
	case EV_REQUEST_REQUEUED:
		snprintf(text, sizeof text, "model %d: request %lld put back: %s", ev->model, (long long)ev->request,
			 ev->text ? ev->text : "");
		break;
	case EV_REQUEST_DISCARDED:
		snprintf(text, sizeof text, "%s: late reply for request %lld discarded: %s", b ? b->kind : "browser",
			 (long long)ev->request, ev->text ? ev->text : "");
		break;
	case EV_BREAKER:
		if (ev->name && !strcmp(ev->name, "open"))
			snprintf(text, sizeof text, "%s: model %d breaker open after %lld errors, probe in %.0f s: %s",
				 b ? b->kind : "browser", ev->model, (long long)ev->num, ev->x[0], ev->text ? ev->text : "");
		else
			snprintf(text, sizeof text, "%s: model %d breaker %s%s%s", b ? b->kind : "browser", ev->model,
				 ev->name ? ev->name : "?", ev->text && ev->text[0] ? ": " : "", ev->text ? ev->text : "");
		break;
	case EV_BROWSER_RESTARTING:
	case EV_BROWSER_HELD:
		snprintf(text, sizeof text, "%s %d: %s", b ? b->kind : "browser", ev->browser, ev->text ? ev->text : "");
		break;
	case EV_AUDIO_FRONTEND:
		snprintf(text, sizeof text, "%s: %s", b ? b->kind : "browser", b ? b->audio_frontend : "");
		break;
	case EV_SCALED:
		snprintf(text, sizeof text, "scale %s: %s %d: %s", ev->num > 0 ? "up" : "down", ev->family ? ev->family : "?",
			 ev->browser, ev->text ? ev->text : "");
		break;
	case EV_VERIFIED:
		snprintf(text, sizeof text, "%s: model %d %s/%s %s (error %.2g, tolerance %.2g)", b ? b->kind : "browser",
			 ev->model, ev->precision ? ev->precision : "?", ev->platform ? ev->platform : "?",
			 ev->num == 1 ? "verified" : "OUTSIDE TOLERANCE", ev->x[1], ev->x[2]);
		break;
	default:
		return;
	}
	pool_log_entry *e = &p->log[p->log_head];
	e->t_us = ev->t_us;
	e->kind = ev->kind;
	e->browser = ev->browser;
	ac_strlcpy(e->text, text, sizeof e->text);
	p->log_head = (p->log_head + 1) % POOL_LOG_MAX;
	if (p->log_len < POOL_LOG_MAX)
		p->log_len++;
}

int pool_apply(pool *p, const ac_event *ev, ac_err *err)
{
	int rc = apply(p, ev, err);
	if (rc)
		return rc;
	p->events++;
	if (ev->kind == EV_ERROR)
		p->errors++;
	log_event(p, ev);
	for (int i = 0; i < p->n_listeners; i++)
		p->listeners[i](p->listener_ctx[i], ev);
	return 0;
}
