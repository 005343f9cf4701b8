#include "usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pool/procstat.h"

/* The previous sample of one browser: CPU % is the growth of its ticks since then. */
typedef struct {
	int browser, pid;
	uint64_t start;     /* the leader's starttime: a restart or a reused pid starts over */
	uint64_t ticks;
	uint64_t at_ns;     /* uv_hrtime() */
	bool seen;
} prev_sample;

struct usage_sampler {
	uv_timer_t timer;
	const pool *p;
	char root[256];
	usage_emit emit;
	void *ctx;
	procstat_tree *trees;
	int *ids;
	size_t cap_trees, cap_ids;
	prev_sample *prev;
	size_t n_prev, cap_prev;
	bool said_error;    /* /proc unreadable was reported once */
};

static prev_sample *prev_of(usage_sampler *u, int browser)
{
	for (size_t i = 0; i < u->n_prev; i++)
		if (u->prev[i].browser == browser)
			return &u->prev[i];
	if (ac_reserve((void **)&u->prev, &u->cap_prev, u->n_prev + 1, sizeof *u->prev))
		return NULL;
	prev_sample *s = &u->prev[u->n_prev++];
	memset(s, 0, sizeof *s);
	s->browser = browser;
	return s;
}

/* CPU % of one core over the interval since the previous sample; < 0 when there is none to
 * compare with (first sample, another process under this id, or ticks that went back because a
 * member exited and was reaped outside the tree). */
static double cpu_pct(usage_sampler *u, int browser, const procstat_tree *t, uint64_t now_ns)
{
	prev_sample *s = prev_of(u, browser);
	if (!s)
		return -1;
	double pct = -1;
	if (s->pid == t->pid && s->start == t->start && now_ns > s->at_ns && t->cpu_ticks >= s->ticks)
		pct = (double)(t->cpu_ticks - s->ticks) / (double)procstat_hz() * 1e11 / (double)(now_ns - s->at_ns);
	s->pid = t->pid;
	s->start = t->start;
	s->ticks = t->cpu_ticks;
	s->at_ns = now_ns;
	s->seen = true;
	return pct;
}

void usage_sample(usage_sampler *u)
{
	size_t n = 0;
	for (size_t i = 0; i < pool_browser_count(u->p); i++) {
		const pool_browser *b = pool_browser_at(u->p, i);
		if (!b->managed || b->pid <= 0 || b->state == BS_EXITED)
			continue;
		if (ac_reserve((void **)&u->trees, &u->cap_trees, n + 1, sizeof *u->trees) ||
		    ac_reserve((void **)&u->ids, &u->cap_ids, n + 1, sizeof *u->ids))
			break;
		memset(&u->trees[n], 0, sizeof u->trees[n]);
		u->trees[n].pid = b->pid;
		u->ids[n++] = b->id;
	}
	if (!n)
		return;
	ac_err err = { 0 };
	if (procstat_sample(u->root, u->trees, n, &err)) {
		if (!u->said_error) {
			u->said_error = true;
			char msg[600];
			snprintf(msg, sizeof msg, "browser memory and CPU are n/a: %.500s", err.msg);
			ac_event ev = { .kind = EV_ERROR, .t_us = ac_now_us(), .text = msg };
			u->emit(u->ctx, &ev, &err);
		}
		return;
	}
	uint64_t now_ns = uv_hrtime();
	for (size_t i = 0; i < u->n_prev; i++)
		u->prev[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		const procstat_tree *t = &u->trees[i];
		if (t->rc)
			continue; /* gone: its exit event is on its way */
		ac_event ev = { .kind = EV_BROWSER_USAGE, .t_us = ac_now_us(), .browser = u->ids[i],
				.num = t->rss_bytes, .num2 = t->nproc };
		ev.x[0] = cpu_pct(u, u->ids[i], t, now_ns);
		ev.x[1] = (double)t->cpu_ticks / (double)procstat_hz();
		u->emit(u->ctx, &ev, &err);
	}
	/* browsers not sampled this time start over when they come back */
	size_t k = 0;
	for (size_t i = 0; i < u->n_prev; i++)
		if (u->prev[i].seen)
			u->prev[k++] = u->prev[i];
	u->n_prev = k;
}

int usage_self(const char *proc_root, int64_t *rss_bytes, double *cpu_seconds, ac_err *err)
{
	char path[300], text[1024];
	snprintf(path, sizeof path, "%s/self/stat", proc_root);
	FILE *f = fopen(path, "r");
	if (!f)
		return ac_errf(err, AC_ENOENT, "cannot read %s", path);
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	procstat_entry e;
	int rc = procstat_parse(text, &e, err);
	if (rc)
		return rc;
	*rss_bytes = e.rss_pages * procstat_page_size();
	*cpu_seconds = (double)(e.utime + e.stime) / (double)procstat_hz();
	return 0;
}

static void on_timer(uv_timer_t *t)
{
	usage_sample(t->data);
}

int usage_start(uv_loop_t *loop, const pool *p, const char *proc_root, unsigned interval_ms, usage_emit emit,
		void *ctx, usage_sampler **out, ac_err *err)
{
	usage_sampler *u = calloc(1, sizeof *u);
	if (!u)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	u->p = p;
	ac_strlcpy(u->root, proc_root, sizeof u->root);
	u->emit = emit;
	u->ctx = ctx;
	uv_timer_init(loop, &u->timer);
	u->timer.data = u;
	uv_timer_start(&u->timer, on_timer, interval_ms, interval_ms);
	*out = u;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	usage_sampler *u = h->data;
	free(u->trees);
	free(u->ids);
	free(u->prev);
	free(u);
}

void usage_close(usage_sampler *u)
{
	if (!u)
		return;
	uv_timer_stop(&u->timer);
	uv_close((uv_handle_t *)&u->timer, on_closed);
}
