/* Browser resource use: /proc parsing and process trees (pool/procstat.c) over a fake /proc,
 * the pool's usage fields with their n/a flags, and how the screen and JSON show them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../pool/pool.h"
#include "../../pool/procstat.h"
#include "../../tui/format.h"
#include "../../tui/layout.h"
#include "../../tui/snapshot.h"
#include "../../tui/usage.h"
#include "check.h"
#include "tests.h"

/* A line as Linux 6.x writes /proc/PID/stat (52 fields). */
static void stat_line(char *out, size_t cap, int pid, const char *comm, char state, int ppid, int sid,
		      long utime, long stime, long cutime, long cstime, unsigned long long start, long rss)
{
	snprintf(out, cap,
		 "%d (%s) %c %d %d %d 0 -1 4194560 1520 0 0 0 %ld %ld %ld %ld 20 0 12 0 %llu 1234567890 %ld "
		 "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		 pid, comm, state, ppid, sid, sid, utime, stime, cutime, cstime, start, rss);
}

static void rmtree(void *path)
{
	ac_rmtree(path);
	free(path);
}

/* A fresh folder standing in for /proc; removed after the test. */
static char *fake_root(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/accel-top-unit-proc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		return NULL;
	return check_defer(rmtree, strdup(tmpl));
}

static int add_proc(const char *root, int pid, char state, int ppid, int sid, long utime, long stime, long cutime,
		    long cstime, long rss)
{
	char dir[4200], path[4300], line[512];
	snprintf(dir, sizeof dir, "%s/%d", root, pid);
	CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/stat", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	stat_line(line, sizeof line, pid, "Web Content", state, ppid, sid, utime, stime, cutime, cstime,
		  (unsigned long long)pid * 10, rss);
	fputs(line, f);
	fclose(f);
	return 0;
}

int test_procstat_parse(void)
{
	char line[512];
	procstat_entry e;
	ac_err err = { 0, "" };
	/* a command name with spaces and parentheses: the fields start after the last ')' */
	stat_line(line, sizeof line, 4242, "a) b (c", 'S', 4200, 4200, 150, 30, 7, 3, 98765, 2560);
	CHECK_EQ_INT(procstat_parse(line, &e, &err), 0);
	CHECK_EQ_INT(e.pid, 4242);
	CHECK_EQ_INT(e.state, 'S');
	CHECK_EQ_INT(e.ppid, 4200);
	CHECK_EQ_INT(e.pgrp, 4200);
	CHECK_EQ_INT(e.session, 4200);
	CHECK_EQ_INT(e.utime, 150);
	CHECK_EQ_INT(e.stime, 30);
	CHECK_EQ_INT(e.cutime, 7);
	CHECK_EQ_INT(e.cstime, 3);
	CHECK_EQ_INT(e.starttime, 98765);
	CHECK_EQ_INT(e.rss_pages, 2560);
	/* a real line of this machine (a Chromium renderer), as read */
	const char *real = "7144 (chromium) S 7067 7004 7004 0 -1 4194560 40311 0 3 0 258 47 0 0 39 19 19 0 "
			   "2470917 34359795712 33095 18446744073709551615 1 1 0 0 0 0 0 4098 1098993405 0 0 0 "
			   "17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
	CHECK_EQ_INT(procstat_parse(real, &e, &err), 0);
	CHECK_EQ_INT(e.ppid, 7067);
	CHECK_EQ_INT(e.session, 7004);
	CHECK_EQ_INT(e.utime + e.stime, 305);
	CHECK_EQ_INT(e.rss_pages, 33095);
	/* broken lines: an error naming what is wrong, never a half-filled entry taken as good */
	CHECK(procstat_parse("", &e, &err) < 0);
	CHECK_CONTAINS(err.msg, "command name");
	CHECK(procstat_parse("12 (x S 1 1 1", &e, &err) < 0);
	CHECK(procstat_parse("(x) S 1 1 1", &e, &err) < 0);
	CHECK_CONTAINS(err.msg, "pid");
	CHECK(procstat_parse("12 (x) S 1 1 1 0 -1", &e, &err) < 0); /* cut short */
	CHECK_CONTAINS(err.msg, "not a number");
	CHECK(procstat_parse("12 (x) ", &e, &err) < 0);
	CHECK_CONTAINS(err.msg, "state");
	stat_line(line, sizeof line, 12, "x", 'S', -4, 1, 1, 1, 0, 0, 1, 1);
	CHECK(procstat_parse(line, &e, &err) < 0);
	CHECK_CONTAINS(err.msg, "out of range");
	return 0;
}

int test_procstat_trees(void)
{
	char *root = fake_root();
	CHECK(root != NULL);
	/* browser A (pid 100, leads session 100): a zygote, a renderer under it, a zombie child, a
	 * double-forked helper in the session (parent 1), a descendant that left for its own
	 * session, and a crash reporter that forked off into its own session (not counted) */
	CHECK_OK(add_proc(root, 100, 'S', 50, 100, 1000, 200, 40, 10, 51200)); /* 200 MiB */
	CHECK_OK(add_proc(root, 101, 'S', 100, 100, 10, 5, 0, 0, 25600));       /* 100 MiB */
	CHECK_OK(add_proc(root, 102, 'R', 101, 100, 300, 100, 0, 0, 12800));    /* 50 MiB */
	CHECK_OK(add_proc(root, 103, 'Z', 100, 100, 7, 3, 0, 0, 0));            /* zombie */
	CHECK_OK(add_proc(root, 104, 'S', 1, 100, 2, 2, 0, 0, 256));            /* 1 MiB */
	CHECK_OK(add_proc(root, 105, 'S', 102, 105, 1, 1, 0, 0, 256));          /* 1 MiB */
	CHECK_OK(add_proc(root, 200, 'S', 1, 200, 50, 50, 0, 0, 1024));         /* crash reporter */
	/* browser B (pid 500) that does not lead a session: its children only, not its session */
	CHECK_OK(add_proc(root, 500, 'S', 50, 5, 20, 20, 0, 0, 2560));
	CHECK_OK(add_proc(root, 501, 'S', 500, 5, 5, 5, 0, 0, 2560));
	CHECK_OK(add_proc(root, 400, 'S', 1, 5, 999, 999, 0, 0, 99999));       /* the terminal's */
	/* a browser whose process is a zombie: gone */
	CHECK_OK(add_proc(root, 600, 'Z', 50, 600, 1, 1, 0, 0, 0));
	/* what else /proc holds: not processes, or unreadable */
	char path[4300];
	snprintf(path, sizeof path, "%s/self", root);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/700", root); /* a process that vanished: no stat */
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/123abc", root);
	CHECK(mkdir(path, 0700) == 0);

	procstat_tree t[4] = { { .pid = 100 }, { .pid = 500 }, { .pid = 999 }, { .pid = 600 } };
	ac_err err = { 0, "" };
	CHECK_EQ_INT(procstat_sample(root, t, 4, &err), 0);
	long page = procstat_page_size();
	CHECK_EQ_INT(t[0].rc, 0);
	CHECK_EQ_INT(t[0].pid, 100);
	CHECK_EQ_INT(t[0].nproc, 5); /* 100 101 102 104 105; not the zombie, not the reporter */
	CHECK_EQ_INT(t[0].rss_bytes, (51200 + 25600 + 12800 + 256 + 256) * (int64_t)page);
	/* ticks: everyone's own, the zombie's, and what the leader reaped */
	CHECK_EQ_INT(t[0].cpu_ticks, 1000 + 200 + 40 + 10 + 15 + 400 + 10 + 4 + 2);
	CHECK_EQ_INT(t[0].start, 1000);
	CHECK_EQ_INT(t[1].rc, 0);
	CHECK_EQ_INT(t[1].nproc, 2);
	CHECK_EQ_INT(t[1].rss_bytes, 5120 * (int64_t)page);
	CHECK_EQ_INT(t[1].cpu_ticks, 50);
	CHECK_EQ_INT(t[2].rc, AC_ENOENT);
	CHECK_EQ_INT(t[2].nproc, 0);
	CHECK_EQ_INT(t[2].rss_bytes, 0);
	CHECK_EQ_INT(t[3].rc, AC_ENOENT);

	/* a root that cannot be listed */
	snprintf(path, sizeof path, "%s/missing", root);
	CHECK(procstat_sample(path, t, 1, &err) < 0);
	CHECK_CONTAINS(err.msg, path);
	CHECK(procstat_hz() > 0);
	return 0;
}

/* The real /proc: this test process is its own tree's leader only if it leads a session, so ask
 * for our own pid and expect at least ourselves with a plausible RSS. */
int test_procstat_real_proc(void)
{
	procstat_tree t = { .pid = (int)getpid() };
	ac_err err = { 0, "" };
	CHECK_EQ_INT(procstat_sample("/proc", &t, 1, &err), 0);
	CHECK_EQ_INT(t.rc, 0);
	CHECK(t.nproc >= 1);
	CHECK(t.rss_bytes > 100 * 1024);
	return 0;
}

static void free_pool(void *p) { pool_free(p); }

static int apply(pool *p, ac_event e)
{
	ac_err err = { 0, "" };
	int rc = pool_apply(p, &e, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "%s refused: %s", ev_kind_name(e.kind), err.msg);
	return rc;
}

static const cJSON *browser_json(const cJSON *snap, int id)
{
	const cJSON *b;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(snap, "browsers"))
		if (cJSON_GetObjectItemCaseSensitive(b, "id")->valueint == id)
			return b;
	return NULL;
}

static bool is_null(const cJSON *b, const char *k)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, k));
}

static double num(const cJSON *b, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

int test_pool_usage(void)
{
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	int64_t t = 1795685261000000;
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_LAUNCHED, .t_us = t, .browser = 1, .num = 4321,
					  .family = "chromium" }), 0);
	const pool_browser *b = pool_browser_find(p, 1);
	CHECK(!b->rss_valid && !b->cpu_valid && !b->page_mem_valid);
	/* first sample: memory and processes, no CPU figure yet (n/a, not 0) */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_USAGE, .t_us = t + 1, .browser = 1, .num = 300 << 20,
					  .num2 = 7, .x = { -1 } }), 0);
	CHECK(b->rss_valid && !b->cpu_valid);
	CHECK_EQ_INT(b->rss_bytes, 300 << 20);
	CHECK_EQ_INT(b->nproc, 7);
	cJSON *s = DEFER_JSON(snapshot_json(p, t + 2));
	const cJSON *j = browser_json(s, 1);
	CHECK(j != NULL);
	CHECK_EQ_INT(num(j, "rss_bytes"), 300 << 20);
	CHECK_EQ_INT(num(j, "nproc"), 7);
	CHECK(is_null(j, "cpu_pct"));
	CHECK(is_null(j, "page_memory_bytes"));
	/* second sample: CPU, also a true 0 */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_USAGE, .t_us = t + 3, .browser = 1, .num = 310 << 20,
					  .num2 = 8, .x = { 0 } }), 0);
	CHECK(b->cpu_valid);
	CHECK(b->cpu_pct == 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_USAGE, .t_us = t + 4, .browser = 1, .num = 310 << 20,
					  .num2 = 8, .x = { 137.5 } }), 0);
	CHECK(b->cpu_pct == 137.5);
	/* page memory rides on the heartbeat's round trip while the page's figure is fresh; a round
	 * trip without it means n/a now */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .t_us = t + 5, .browser = 1 }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_RTT, .t_us = t + 6, .browser = 1, .num = 800 }), 0);
	CHECK(!b->page_mem_valid);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_RTT, .t_us = t + 7, .browser = 1, .num = 800,
					  .num2 = 5000000 }), 0);
	CHECK(b->page_mem_valid);
	CHECK_EQ_INT(b->page_mem_bytes, 5000000);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_RTT, .t_us = t + 8, .browser = 1, .num = 700 }), 0);
	CHECK(!b->page_mem_valid);
	s = DEFER_JSON(snapshot_json(p, t + 9));
	CHECK(is_null(browser_json(s, 1), "page_memory_bytes"));
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_RTT, .t_us = t + 8, .browser = 1, .num = 700,
					  .num2 = 5000000 }), 0);
	s = DEFER_JSON(snapshot_json(p, t + 9));
	j = browser_json(s, 1);
	CHECK(num(j, "cpu_pct") == 137.5);
	CHECK_EQ_INT(num(j, "page_memory_bytes"), 5000000);
	/* nonsense is refused, NaN CPU is n/a */
	ac_err err = { 0, "" };
	ac_event bad = { .kind = EV_BROWSER_USAGE, .t_us = t + 10, .browser = 1, .num = -1, .num2 = 3 };
	CHECK(pool_apply(p, &bad, &err) < 0);
	CHECK_CONTAINS(err.msg, "negative");
	bad.browser = 9;
	bad.num = 1;
	CHECK(pool_apply(p, &bad, &err) < 0);
	CHECK_CONTAINS(err.msg, "unknown browser 9");
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_USAGE, .t_us = t + 11, .browser = 1, .num = 1,
					  .num2 = 1, .x = { NAN } }), 0);
	CHECK(!b->cpu_valid);
	/* exited: every figure n/a; a sample that raced the exit changes nothing */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_EXITED, .t_us = t + 12, .browser = 1, .text = "exited" }), 0);
	CHECK(!b->rss_valid && !b->cpu_valid && !b->page_mem_valid);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_USAGE, .t_us = t + 13, .browser = 1, .num = 5,
					  .num2 = 1, .x = { 3 } }), 0);
	CHECK(!b->rss_valid && !b->cpu_valid);
	s = DEFER_JSON(snapshot_json(p, t + 14));
	j = browser_json(s, 1);
	CHECK(is_null(j, "rss_bytes") && is_null(j, "nproc") && is_null(j, "cpu_pct") && is_null(j, "page_memory_bytes"));

	/* an attached browser: no process of ours, but its page may measure itself */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .t_us = t + 15, .browser = 2,
					  .family = "chromium" }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_RTT, .t_us = t + 16, .browser = 2, .num = 900,
					  .num2 = 7340032 }), 0);
	const pool_browser *a = pool_browser_find(p, 2);
	CHECK(!a->rss_valid && !a->cpu_valid && a->page_mem_valid);
	fmt_lines l = { 0 };
	char (*lines)[FMT_LINE_MAX] = DEFER_FREE(calloc(64, FMT_LINE_MAX));
	CHECK(lines != NULL);
	l.line = lines;
	l.cap = 64;
	fmt_browser_detail(&l, a, NULL, 120, t + 17);
	bool found = false;
	for (int i = 0; i < l.n; i++)
		found |= strstr(l.line[i], "RSS and CPU n/a (attached: not our process), page memory 7M") != NULL;
	CHECK(found);
	/* lost: the page's figure is stale */
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_LOST, .t_us = t + 18, .browser = 2, .text = "gone" }), 0);
	CHECK(!a->page_mem_valid);
	return 0;
}

int test_format_usage(void)
{
	char b[32];
	const struct { int64_t bytes; const char *text; } mem[] = {
		{ 0, "0K" }, { 1023, "1K" }, { 512 * 1024, "512K" }, { 999 * 1024, "999K" }, { 1000 * 1024, "1M" },
		{ 123 * 1048576LL, "123M" }, { 999 * 1048576LL, "999M" }, { 1000 * 1048576LL, "1.0G" },
		{ 1288490188LL, "1.2G" }, { 12 * 1073741824LL, "12G" }, { 999 * 1073741824LL, "999G" },
		{ 1024 * 1073741824LL, "1.0T" },
	};
	for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++) {
		fmt_bytes(b, sizeof b, mem[i].bytes, true);
		CHECK_STR(b, mem[i].text);
		CHECK(strlen(b) <= 4);
	}
	fmt_bytes(b, sizeof b, 5 << 20, false);
	CHECK_STR(b, "n/a");
	fmt_bytes(b, sizeof b, -1, true);
	CHECK_STR(b, "n/a");
	fmt_pct(b, sizeof b, 0, true);
	CHECK_STR(b, "0.0");
	fmt_pct(b, sizeof b, 3.44, true);
	CHECK_STR(b, "3.4");
	fmt_pct(b, sizeof b, 99.94, true);
	CHECK_STR(b, "99.9");
	fmt_pct(b, sizeof b, 99.96, true);
	CHECK_STR(b, "100");
	fmt_pct(b, sizeof b, 1600, true);
	CHECK_STR(b, "1600");
	fmt_pct(b, sizeof b, 12, false);
	CHECK_STR(b, "n/a");
	fmt_pct(b, sizeof b, NAN, true);
	CHECK_STR(b, "n/a");

	/* the columns: hidden at 80 columns (shown from 88 on), n/a before the first samples */
	int n, w[32];
	const col_spec *bc = layout_browser_cols(&n);
	pool_browser pb;
	memset(&pb, 0, sizeof pb);
	pb.id = 1;
	snprintf(pb.kind, sizeof pb.kind, "chromium");
	pb.managed = true;
	pb.rtt_us = -1;
	layout_columns(bc, n, 80, w);
	CHECK(w[BC_RSS] == 0 && w[BC_CPU] == 0);
	layout_columns(bc, n, 88, w);
	CHECK(w[BC_RSS] == 4 && w[BC_CPU] == 4);
	layout_columns(bc, n, 200, w);
	CHECK(w[BC_RSS] == 5 && w[BC_CPU] == 5);
	char row[1024];
	fmt_browser_row(row, sizeof row, &pb, NULL, w);
	CHECK_CONTAINS(row, "n/a   n/a");
	pb.rss_valid = pb.cpu_valid = true;
	pb.rss_bytes = 1288490188LL;
	pb.cpu_pct = 42.3;
	fmt_browser_row(row, sizeof row, &pb, NULL, w);
	CHECK_CONTAINS(row, " 1.2G  42.3");
	return 0;
}

/* ---- the sampler (tui/usage.c) over a fake /proc ---- */

typedef struct {
	ac_event ev[8];
	int n;
} caught;

static int catch_event(void *ctx, const ac_event *ev, ac_err *err)
{
	caught *c = ctx;
	(void)err;
	if (c->n < 8)
		c->ev[c->n++] = *ev;
	return 0;
}

static void close_loop(void *p)
{
	uv_loop_t *loop = p;
	uv_run(loop, UV_RUN_DEFAULT); /* the sampler's timer closes */
	uv_loop_close(loop);
	free(loop);
}

static void close_sampler(void *u) { usage_close(u); }

/* CPU % is the ticks' growth over the time between two samples: bounded by the times measured
 * around the two calls, so the check holds however slow the machine is. */
int test_usage_sampler(void)
{
	char *root = fake_root();
	CHECK(root != NULL);
	CHECK(strlen(root) < 200);
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_LAUNCHED, .t_us = 1, .browser = 3, .num = 100,
					  .family = "firefox" }), 0);
	CHECK_EQ_INT(apply(p, (ac_event){ .kind = EV_BROWSER_CONNECTED, .t_us = 2, .browser = 4 }), 0); /* attached */
	uv_loop_t *loop = malloc(sizeof *loop);
	CHECK(loop != NULL);
	CHECK_EQ_INT(uv_loop_init(loop), 0);
	check_defer(close_loop, loop);
	caught c = { .n = 0 };
	usage_sampler *u = NULL;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(usage_start(loop, p, root, 60000, catch_event, &c, &u, &err), 0);
	check_defer(close_sampler, u);

	CHECK_OK(add_proc(root, 100, 'S', 50, 100, 100, 50, 0, 0, 25600));
	CHECK_OK(add_proc(root, 101, 'S', 100, 100, 30, 20, 0, 0, 2560));
	uint64_t a = uv_hrtime();
	usage_sample(u);
	uint64_t b = uv_hrtime();
	CHECK_EQ_INT(c.n, 1); /* the attached browser has no process of ours */
	CHECK_EQ_INT(c.ev[0].kind, EV_BROWSER_USAGE);
	CHECK_EQ_INT(c.ev[0].browser, 3);
	CHECK_EQ_INT(c.ev[0].num, 28160 * (int64_t)procstat_page_size());
	CHECK_EQ_INT(c.ev[0].num2, 2);
	CHECK(c.ev[0].x[0] < 0); /* first sample: no CPU figure */

	uv_sleep(30);
	CHECK_OK(add_proc(root, 101, 'S', 100, 100, 30 + 4, 20 + 1, 0, 0, 2560)); /* 5 ticks more */
	uint64_t cc = uv_hrtime();
	usage_sample(u);
	uint64_t d = uv_hrtime();
	CHECK_EQ_INT(c.n, 2);
	double cpu_s = 5.0 / (double)procstat_hz();
	double lo = cpu_s / ((double)(d - a) / 1e9) * 100, hi = cpu_s / ((double)(cc - b) / 1e9) * 100;
	if (!(c.ev[1].x[0] >= lo && c.ev[1].x[0] <= hi))
		check_fail(__FILE__, __LINE__, "CPU %.3f%% outside [%.3f, %.3f]", c.ev[1].x[0], lo, hi);
	CHECK(c.ev[1].x[0] >= lo && c.ev[1].x[0] <= hi);

	/* ticks that went back (a member exited and was reaped outside the tree): n/a, not a
	 * negative or a made-up figure; the next interval counts again */
	CHECK_OK(add_proc(root, 101, 'S', 100, 100, 1, 1, 0, 0, 2560));
	usage_sample(u);
	CHECK_EQ_INT(c.n, 3);
	CHECK(c.ev[2].x[0] < 0);
	usage_sample(u);
	CHECK_EQ_INT(c.n, 4);
	CHECK(c.ev[3].x[0] >= 0 && c.ev[3].x[0] < 1); /* nothing ran in between */

	/* another process under the same pid (started later, more ticks): starts over */
	char path[4300], line[512];
	snprintf(path, sizeof path, "%s/100/stat", root);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	stat_line(line, sizeof line, 100, "firefox-esr", 'S', 50, 100, 900, 900, 0, 0, 5555, 25600);
	fputs(line, f);
	fclose(f);
	usage_sample(u);
	CHECK_EQ_INT(c.n, 5);
	CHECK(c.ev[4].x[0] < 0);
	/* the leader gone (its exit event is on its way): no sample */
	snprintf(path, sizeof path, "%s/100", root);
	CHECK_EQ_INT(ac_rmtree(path), 0);
	usage_sample(u);
	CHECK_EQ_INT(c.n, 5);
	return 0;
}
