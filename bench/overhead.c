/* bench/overhead: what accel-top adds to a request, and how throughput grows with browsers.
 *
 *  1. one Chromium, one request at a time, a model whose compute takes a few milliseconds on
 *     wasm (bert-tiny): per request, overhead = our total (send to result, measured here) minus
 *     the compute the page measured around session.run; p50 and p99, and as a share of compute;
 *  2. the same model with 1, 2 and 4 Chromium browsers, each kept busy (2 requests in flight per
 *     browser): completions per second.
 * The baseline for (2) is the one-browser throughput of the same run: the ratios are to it.
 * Part 1 also splits each request into legs (p50 of each), from the bridge's timestamps
 * (bridge_legs) and the page's own (page_ms, inputs_ms, queue_ms, compute_ms in its result):
 *   ours:  submitted (queued) -> last frame written (lws_write in SERVER_WRITEABLE) ... result
 *          text's first byte -> decoded -> applied (EV_REQUEST_DONE);
 *   page:  run text arrives -> inputs in -> session.run starts -> ends -> result sent;
 *   wire:  last frame written -> the page has its inputs, and result sent -> its first byte here:
 *          the kernel and Chromium's network process. The sum is exact (our monotonic clock less
 *          the page's own page_ms); the split between the directions compares the page's
 *          recv_at_ms (timeOrigin + now(), wall clock) with our CLOCK_REALTIME, and timeOrigin
 *          can be off by a millisecond or more, so it is printed as "of which", indented.
 * Part 1 alternates the two forms of accel.v1 request in blocks of FORM_BLOCK requests
 * (bridge_set_onemsg()): the old one (a text message, then one frame per input) and one message
 * per request; each figure is printed for both, from the same run, with the CPU this process
 * spent per request in each. (Alternated request by request, each form's request followed the
 * other form's reply; in the one run made so, the one-message wire legs came out 6x the old's,
 * where runs of one form alone gave 1.7-8 ms for either: blocks keep that coupling out.)
 * Usage: build/bench-overhead [REQUESTS] [MODEL] [MAX_BROWSERS (4; 0 skips part 2)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../tui/app.h"

enum { LG_WRITTEN, LG_WIRE, LG_OUT, LG_P_INPUTS, LG_P_QUEUE, LG_P_COMPUTE, LG_P_AFTER, LG_BACK, LG_DECODED, LG_APPLIED, LG_N };
#define FORM_BLOCK 10

static const char *const leg_names[LG_N] = {
	"ours: submitted -> last frame written (writable, lws_write)",
	"wire, both ways: written -> result's first byte, less page_ms",
	"  of which out: written -> the page has its inputs (wall clocks)",
	"page: run text arrives -> its input frames all in",
	"page: inputs in -> session.run starts (tensors, queue)",
	"page: session.run (compute)",
	"page: run ends -> result sent (outputs encoded)",
	"  of which back: result sent -> its first byte here (wall clocks)",
	"ours: result's first byte -> decoded",
	"ours: decoded -> applied (output frames, scheduler, event)",
};

/* The samples of one form (0: text + frames, 1: one message). */
typedef struct {
	double *over, *compute, *page, *legs[LG_N];
	int n;
	double cpu_us;
} form_set;

typedef struct {
	app a;
	options o;
	int browsers_wanted;
	int row;
	int requests;
	const char *model;
	form_set f[2];
	int form;        /* of the request in flight (part 1 has one at a time) */
	double cpu0;     /* this process's CPU at the last result */
	int n;
	bool started, done;
} run;

static double cpu_us(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n ? v[(int)(p * (n - 1) + 0.5)] : 0;
}

static void on_event(void *ctx, const ac_event *ev)
{
	run *r = ((app *)ctx)->user;
	ac_err err;
	if (!r->started) {
		int ready = 0;
		for (size_t i = 0; i < pool_browser_count(r->a.pool); i++)
			ready += pool_browser_at(r->a.pool, i)->caps.valid;
		if (ready < r->browsers_wanted)
			return;
		r->started = true;
		bridge_set_onemsg(r->a.br, r->form == 1);
		launch_form f = { .concurrency = 2 * r->browsers_wanted, .count = r->requests + 20, .warmup = 20 };
		ac_strlcpy(f.model, r->model, sizeof f.model);
		ac_strlcpy(f.precision, "fp32", sizeof f.precision);
		ac_strlcpy(f.platform, "wasm", sizeof f.platform);
		ac_strlcpy(f.browser, "auto", sizeof f.browser);
		if (r->browsers_wanted == 1)
			f.concurrency = 1; /* part 1: one at a time, nothing waits in a queue */
		if (app_launch_model(&r->a, &f, &r->row, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			app_quit(&r->a, 1);
		}
		return;
	}
	if (ev->kind == EV_REQUEST_DONE && ev->model == r->row) {
		const pool_model *m = pool_model_find(r->a.pool, r->row);
		double cpu = cpu_us();
		form_set *fs = &r->f[r->form];
		if (r->browsers_wanted == 1 && m && m->completed % FORM_BLOCK == 0) { /* the next block: the other form */
			r->form ^= 1;
			bridge_set_onemsg(r->a.br, r->form == 1);
		}
		if (m && m->completed > 20 && r->n < r->requests) {
			fs->cpu_us += cpu - r->cpu0;
			uint64_t now = uv_hrtime();
			bridge_legs_t L;
			bridge_legs(r->a.br, &L);
			double sent = (double)now - ev->x[0] * 1e6, ms = 1e-6;
			/* the page's recv_at_ms is wall-clock: our monotonic stamps are moved onto it */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			double wall_now = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
			double written_wall = wall_now - (double)(now - L.written_ns) * ms;
			double rx_wall = wall_now - (double)(now - L.text_rx_ns) * ms;
			double v[LG_N] = {
				[LG_WRITTEN] = ((double)L.written_ns - sent) * ms,
				[LG_WIRE] = (double)(L.text_rx_ns - L.written_ns) * ms - ev->x[3],
				[LG_OUT] = L.page_recv_at_ms + L.page_inputs_ms - written_wall,
				[LG_P_INPUTS] = L.page_inputs_ms,
				[LG_P_QUEUE] = ev->x[2],
				[LG_P_COMPUTE] = ev->x[1],
				[LG_P_AFTER] = ev->x[3] - L.page_inputs_ms - ev->x[2] - ev->x[1],
				[LG_BACK] = rx_wall - (L.page_recv_at_ms + ev->x[3]),
				[LG_DECODED] = (double)(L.text_decoded_ns - L.text_rx_ns) * ms,
				[LG_APPLIED] = (double)(now - L.text_decoded_ns) * ms,
			};
			for (int i = 0; i < LG_N; i++)
				fs->legs[i][fs->n] = v[i];
			fs->over[fs->n] = ev->x[0] - ev->x[1] - ev->x[2];
			fs->page[fs->n] = ev->x[3] - ev->x[1] - ev->x[2];
			fs->compute[fs->n++] = ev->x[1];
			r->n++;
		}
		r->cpu0 = cpu;
	}
	if (ev->kind == EV_WORKLOAD_STOPPED && ev->model == r->row && !r->done) {
		r->done = true;
		app_quit(&r->a, 0);
	}
}

/* Part 1's figures of one form. */
typedef struct {
	double p50, p99, c50, pg50, cpu_us;
	int n;
} summary;

static const char *const form_names[2] = { "text + frames (old)", "one message (new)" };

/* The legs of both forms side by side, and each form's summary. */
static void legs_report(run *r, summary *out)
{
	printf("\n  per leg, p50 / p99 ms (%d and %d requests, alternating): %27s %17s\n", r->f[0].n, r->f[1].n,
	       "old p50    p99", "new p50    p99");
	for (int i = 0; i < LG_N; i++) {
		printf("    %-60s", leg_names[i]);
		for (int f = 0; f < 2; f++)
			printf(" %8.3f %8.3f", pct(r->f[f].legs[i], r->f[f].n, 0.5), pct(r->f[f].legs[i], r->f[f].n, 0.99));
		printf("\n");
	}
	for (int f = 0; f < 2; f++) {
		form_set *fs = &r->f[f];
		out[f] = (summary){ .p50 = pct(fs->over, fs->n, 0.5), .p99 = pct(fs->over, fs->n, 0.99),
				    .c50 = pct(fs->compute, fs->n, 0.5), .pg50 = pct(fs->page, fs->n, 0.5),
				    .cpu_us = fs->n ? fs->cpu_us / fs->n : 0, .n = fs->n };
	}
}

static void sets_alloc(run *r, int requests)
{
	for (int f = 0; f < 2; f++) {
		form_set *fs = &r->f[f];
		fs->over = calloc((size_t)requests, sizeof *fs->over);
		fs->compute = calloc((size_t)requests, sizeof *fs->compute);
		fs->page = calloc((size_t)requests, sizeof *fs->page);
		for (int i = 0; i < LG_N; i++)
			fs->legs[i] = calloc((size_t)requests, sizeof *fs->legs[i]);
	}
}

static void sets_free(run *r)
{
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i < LG_N; i++)
			free(r->f[f].legs[i]);
		free(r->f[f].over);
		free(r->f[f].compute);
		free(r->f[f].page);
	}
}

/* One run with n Chromium browsers; returns measured completions per second. With out (part 1),
 * the requests alternate between the forms and out[0], out[1] get their figures. */
static double measure(int n, int requests, const char *model, summary *out)
{
	static run r;
	ac_err err;
	memset(&r, 0, sizeof r);
	options_defaults(&r.o);
	r.o.batch = true;
	r.o.port = 0;
	char list[32];
	snprintf(list, sizeof list, "chromium:%d", n);
	options_parse_browsers(&r.o, list, &err);
	r.browsers_wanted = n;
	r.requests = requests;
	r.model = model;
	r.form = 1; /* the default */
	sets_alloc(&r, requests);
	r.o.heartbeat_s = 30; /* keep heartbeats out of the legs */
	r.o.heartbeat_timeout_s = 120;
	r.a.user = &r;
	uv_loop_t *loop = uv_default_loop();
	int rc = app_start(&r.a, loop, &r.o, &err);
	if (!rc) {
		pool_add_listener(r.a.pool, on_event, &r.a);
		rc = app_launch_browsers(&r.a, &err);
	}
	if (rc) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	const pool_model *m = pool_model_find(r.a.pool, r.row);
	double rps = m ? m->measured_rps : 0;
	if (out)
		legs_report(&r, out);
	sets_free(&r);
	app_free(&r.a);
	return rps;
}

int main(int argc, char **argv)
{
	int requests = argc > 1 ? atoi(argv[1]) : 300;
	const char *model = argc > 2 ? argv[2] : "bert-tiny";
	int max_browsers = argc > 3 ? atoi(argv[3]) : 4;
	if (requests < 20) {
		fprintf(stderr, "usage: bench-overhead [REQUESTS>=20] [MODEL]\n");
		return 2;
	}
	summary sm[2];
	measure(1, requests, model, sm);
	printf("\nbench/overhead: %s fp32 on wasm in headless Chromium, %d requests after 20 warm-up, the two forms "
	       "alternating\n", model, requests);
	for (int f = 0; f < 2; f++) {
		const summary *x = &sm[f];
		printf("  %s, %d requests, one at a time: compute p50 %.3f ms (measured in the page)\n", form_names[f], x->n,
		       x->c50);
		printf("    accel-top + wire overhead (total - compute - page queue): p50 %.3f ms, p99 %.3f ms; "
		       "p50 = %.1f%% of compute\n", x->p50, x->p99, 100 * x->p50 / x->c50);
		printf("    of which the page's own handling around session.run (inputs, tensors, encode): p50 %.3f ms;\n"
		       "    the rest (%.3f ms) is the wire both ways and our side (legs above)\n", x->pg50, x->p50 - x->pg50);
		printf("    CPU of this process per request: %.1f us\n", x->cpu_us);
	}
	printf("  new / old: overhead p50 %.2f, p99 %.2f, CPU per request %.2f\n", sm[1].p50 / sm[0].p50,
	       sm[1].p99 / sm[0].p99, sm[1].cpu_us / sm[0].cpu_us);
	printf("  (goal: p50 under 0.3 ms and under 5%% of compute)\n");
	double base = 0;
	if (max_browsers < 1)
		return 0;
	printf("  %-12s %12s %10s\n", "browsers", "req/s", "vs 1");
	for (int n = 1; n <= max_browsers; n *= 2) {
		double rps = measure(n, requests, model, NULL);
		if (n == 1)
			base = rps;
		printf("  %-12d %12.1f %10.2f\n", n, rps, base > 0 ? rps / base : 0);
		fflush(stdout);
	}
	return 0;
}
