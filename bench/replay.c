/* bench/replay: the recording's size per hour and the cost of opening and seeking in it.
 *
 * Generates one hour at 2 browsers and 50 requests/s on a virtual clock with the pool's own event
 * code: the events the bridge, launcher and scheduler emit for a running workload (browsers
 * launched with the fixtures' hellos, a workload, a session per browser, every request queued,
 * sent and done with realistic measurements, heartbeats every 2 s per browser), each applied to a
 * pool and recorded through journal_append() with its virtual time, flushed every virtual second.
 * Then prints the file size, the time to journal_open() it, and to restore its start, middle and
 * end into a fresh pool.
 * Usage: build/bench-replay [SECONDS [FILE]]   (default 3600 s, a file in $TMPDIR) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../pool/journal.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static cJSON *fixture(const char *name)
{
	const char *dir = getenv("ACCEL_TOP_DATA");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/fixtures/%s", dir ? dir : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bench-replay: %s: cannot open (set ACCEL_TOP_DATA to the repository)\n", path);
		exit(1);
	}
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	if (!j) {
		fprintf(stderr, "bench-replay: %s: not JSON\n", path);
		exit(1);
	}
	return j;
}

typedef struct {
	pool *p;
	journal_writer *w;
	size_t n;
	double t_append;
	int64_t next_flush;
} gen;

static void emit(gen *g, ac_event *ev)
{
	ac_err err;
	if (pool_apply(g->p, ev, &err)) {
		fprintf(stderr, "bench-replay: %s refused: %s\n", ev_kind_name(ev->kind), err.msg);
		exit(1);
	}
	double t = now_s();
	if (journal_append(g->w, ev, g->p, &err)) {
		fprintf(stderr, "bench-replay: %s\n", err.msg);
		exit(1);
	}
	g->t_append += now_s() - t;
	g->n++;
	if (ev->t_us >= g->next_flush) {
		if (journal_flush(g->w, &err)) {
			fprintf(stderr, "bench-replay: %s\n", err.msg);
			exit(1);
		}
		g->next_flush = ev->t_us + 1000000;
	}
}

/* A duration the page measures: the difference of two performance.now() readings, which are
 * coarsened to 0.1 ms without cross-origin isolation. */
static double js_ms(double start_ms, double len_ms)
{
	double a = (double)(int64_t)(start_ms * 10) * 0.1, b = (double)(int64_t)((start_ms + len_ms) * 10) * 0.1;
	return b - a;
}

static double restore_ms(journal *j, size_t upto, pool **out)
{
	pool *p;
	ac_err err;
	if (pool_new(&p)) {
		fprintf(stderr, "bench-replay: out of memory\n");
		exit(1);
	}
	double t = now_s();
	if (journal_restore(j, p, upto, &err)) {
		fprintf(stderr, "bench-replay: restore: %s\n", err.msg);
		exit(1);
	}
	double ms = (now_s() - t) * 1e3;
	*out = p;
	return ms;
}

#define EV(...) (ev = (ac_event){ __VA_ARGS__ }, emit(g, &ev))

/* The bridge, two browsers with the fixtures' hellos, a workload and a verified session on each;
 * returns the time after the last of them. */
static int64_t gen_start(gen *g, int64_t t, cJSON *const hello[2], cJSON *meta)
{
	const char *kinds[2] = { "chromium", "firefox" };
	ac_event ev;
	EV(.kind = EV_BRIDGE_LISTENING, .t_us = t, .num = 8765, .text = "http://127.0.0.1:8765/");
	for (int b = 0; b < 2; b++) {
		EV(.kind = EV_BROWSER_LAUNCHED, .t_us = t += 1000, .browser = b + 1, .num = 4000 + b, .family = kinds[b]);
		EV(.kind = EV_BROWSER_VERSION, .t_us = t += 20000, .browser = b + 1,
		   .text = b ? "Mozilla Firefox 153.0esr" : "Chromium 156.0.8078.108 built on Debian");
	}
	for (int b = 0; b < 2; b++) {
		EV(.kind = EV_BROWSER_CONNECTED, .t_us = t += 400000, .browser = b + 1, .family = kinds[b]);
		EV(.kind = EV_BROWSER_HELLO, .t_us = t += 30000, .browser = b + 1, .data = hello[b]);
	}
	EV(.kind = EV_WORKLOAD_STARTED, .t_us = t += 100000, .model = 1, .name = "bert-tiny", .precision = "fp32",
	   .platform = "wasm", .family = "auto", .x = { 50, 20 }, .text = "text");
	for (int b = 0; b < 2; b++) {
		EV(.kind = EV_SESSION_LOADING, .t_us = t += 1000, .browser = b + 1, .session = 1, .model = 1,
		   .precision = "fp32", .platform = "wasm", .text = "bert-tiny.fp32.onnx");
		EV(.kind = EV_SESSION_READY, .t_us = t += 180000, .browser = b + 1, .session = 1, .x = { 173.4 },
		   .platform = "wasm", .data = meta);
		EV(.kind = EV_VERIFIED, .t_us = t += 9000, .browser = b + 1, .session = 1, .model = 1, .precision = "fp32",
		   .platform = "wasm", .x = { 2.384185791015625e-07, 1.1e-7, 1e-4 }, .num = 1,
		   .text = "fp32 on wasm (reference)");
	}
	return t;
}

/* A request every 20 ms from start to end, alternating between the browsers, with heartbeats
 * every 2 s per browser; returns how many requests. */
static int64_t gen_requests(gen *g, int64_t start, int64_t end)
{
	ac_event ev;
	int64_t next_hb[2] = { start + 2000000, start + 3000000 };
	int64_t req = 0;
	double page_clock[2] = { 5000, 7000 };
	for (int64_t tq = start + 20000; tq < end; tq += 20000) {
		for (int b = 0; b < 2; b++)
			while (next_hb[b] <= tq) {
				EV(.kind = EV_BROWSER_RTT, .t_us = next_hb[b], .browser = b + 1, .num = 300 + rand() % 900);
				next_hb[b] += 2000000;
			}
		int b = (int)(req % 2);
		req++;
		int64_t sent = tq + 80 + rand() % 200;
		double compute = 4 + (rand() % 9000) / 1000.0, pq = (rand() % 3) * 0.1;
		double in_page = compute + pq + 0.4 + (rand() % 600) / 1000.0;
		int64_t total_ns = (int64_t)(in_page * 1e6) + 300000 + rand() % 900000;
		double total = (double)total_ns / 1e6;
		int64_t done = sent + total_ns / 1000 + 50;
		EV(.kind = EV_REQUEST_QUEUED, .t_us = tq, .model = 1, .request = req);
		EV(.kind = EV_REQUEST_SENT, .t_us = sent, .model = 1, .request = req, .browser = b + 1, .session = 1);
		double pc = page_clock[b] += (double)(sent - tq) / 1000.0 + 20;
		EV(.kind = EV_REQUEST_DONE, .t_us = done, .model = 1, .request = req, .browser = b + 1, .session = 1,
		   .x = { total, js_ms(pc + 0.3, compute), js_ms(pc, pq), js_ms(pc, in_page) });
	}
	return req;
}
#undef EV

/* Restores the start, the middle (and the worst place after it) and the end of the recording;
 * 1 when the end does not hold all n_events events. */
static int bench_restores(journal *j, size_t n_events)
{
	size_t n = journal_event_count(j);
	size_t at[3] = { 0, n / 2, n };
	const char *what[3] = { "start", "middle", "end" };
	int rc = 0;
	for (int i = 0; i < 3; i++) {
		pool *p;
		double worst = 0, ms = restore_ms(j, at[i], &p);
		/* the worst place to seek: just before a checkpoint, the most events to apply */
		if (i == 1) {
			pool_free(p);
			size_t mid = journal_find(j, journal_event_time(j, n / 2) + JOURNAL_CHECKPOINT_US);
			for (size_t k = n / 2; k < mid; k += 97) {
				double m = restore_ms(j, k, &p);
				pool_free(p);
				if (m > worst)
					worst = m;
			}
			ms = restore_ms(j, at[i], &p);
		}
		printf("restore %-6s    %.1f ms (event %zu, %zu requests known, %llu events applied in all)", what[i], ms,
		       at[i], pool_request_count(p), (unsigned long long)pool_event_count(p));
		if (i == 1)
			printf("; worst over the next %d s: %.1f ms", JOURNAL_CHECKPOINT_US / 1000000, worst);
		printf("\n");
		if (i == 2 && pool_event_count(p) != n_events) {
			fprintf(stderr, "bench-replay: restored %llu events of %zu\n", (unsigned long long)pool_event_count(p),
				n_events);
			rc = 1;
		}
		pool_free(p);
	}
	return rc;
}

/* Flushes and closes the recording and prints what writing it cost. */
static int finish_write(gen *g, const char *path, int64_t t0, int64_t end, int64_t req)
{
	ac_err err;
	double t_write = now_s();
	if (journal_flush(g->w, &err)) {
		fprintf(stderr, "bench-replay: %s\n", err.msg);
		return 1;
	}
	journal_close(g->w);
	t_write = now_s() - t_write;
	FILE *f = fopen(path, "rb");
	long size = 0;
	if (f) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
	}
	double hours = (double)(end - t0) / 3.6e9;
	printf("recorded %.0f s: %zu events (%lld requests, 2 browsers), %s\n", (double)(end - t0) / 1e6, g->n,
	       (long long)req, path);
	printf("file size:        %.2f MB (%.2f MB per hour)\n", size / 1e6, size / 1e6 / hours);
	printf("write cost:       %.2f us per event (journal_append, checkpoints included)\n", g->t_append / g->n * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 3600;
	char path[1024];
	if (argc > 2) {
		snprintf(path, sizeof path, "%s", argv[2]);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof path, "%s/bench-replay-%d.acc", tmp ? tmp : "/tmp", (int)getpid());
	}
	if (seconds <= 0)
		seconds = 3600;
	cJSON *hello[2] = { fixture("hello-chromium-swiftshader.json"), fixture("hello-firefox-fallback.json") };
	gen g = { 0 };
	ac_err err;
	if (pool_new(&g.p) || journal_create(path, "bench-replay", &g.w, &err)) {
		fprintf(stderr, "bench-replay: %s\n", err.msg);
		return 1;
	}
	srand(42);
	int64_t t0 = 1795685261000000;
	cJSON *meta = cJSON_Parse("{\"inputs\":[{\"name\":\"input_ids\",\"type\":\"int64\",\"dims\":[1,32]},"
				  "{\"name\":\"attention_mask\",\"type\":\"int64\",\"dims\":[1,32]}],"
				  "\"outputs\":[{\"name\":\"last_hidden_state\",\"type\":\"float32\",\"dims\":[1,32,128]}]}");
	const int64_t start = gen_start(&g, t0, hello, meta), end = t0 + (int64_t)seconds * 1000000;
	int64_t req = gen_requests(&g, start, end);
	if (finish_write(&g, path, t0, end, req))
		return 1;

	journal *j;
	double t_open = now_s();
	if (journal_open(path, &j, &err)) {
		fprintf(stderr, "bench-replay: %s\n", err.msg);
		return 1;
	}
	t_open = (now_s() - t_open) * 1e3;
	printf("journal_open:     %.1f ms (%zu events, %zu checkpoints indexed)%s%s\n", t_open, journal_event_count(j),
	       journal_checkpoint_count(j), journal_truncation(j) ? "; " : "",
	       journal_truncation(j) ? journal_truncation(j) : "");
	int rc = bench_restores(j, g.n);
	journal_free(j);
	pool_free(g.p);
	cJSON_Delete(hello[0]);
	cJSON_Delete(hello[1]);
	cJSON_Delete(meta);
	if (argc <= 2)
		unlink(path);
	return rc;
}
