/* bench/roundtrip: what the bridge costs, measured through a real headless Chromium.
 *
 *  1. small request/reply: the server sends `ping`, the page answers `pong`; N round trips one
 *     after another, timed on our side (uv_hrtime) from queueing the ping to decoding the pong;
 *  2. 1 MiB binary frames both ways: the server sends `echo` + a 1 MiB tensor frame, the page
 *     sends both back; payload MB/s counts the bytes that crossed the socket in both directions.
 *     In blocks of ECHO_BLOCK echoes, alternately in the old form (a text message, then the frame)
 *     and as one message (accel.v1's one-message form, bridge_set_onemsg()): the MB/s of each form
 *     from its own echoes' round trips, and the CPU this process spent per echo in each.
 *
 * The baseline, measured in the same run on the same loop: a plain TCP echo over loopback
 * (libuv, no WebSocket, no browser), so the ratios say what WebSocket + the browser add.
 * Usage: build/bench-roundtrip [SMALL_ROUNDS] [MIB_ROUNDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../tui/app.h"

#define MIB (1024 * 1024)
#define ECHO_BLOCK 10 /* echoes per block of one form */

typedef struct {
	app a;
	int browser;
	int phase;            /* 0 waiting for chromium, 1 pings, 2 echoes, 3 done */
	int warmup, rounds, done;
	uint64_t *samples;
	uint64_t phase_start_ns;
	size_t echo_bytes;
	int small_rounds, mib_rounds;
	double ws_p50_us, ws_p99_us, ws_mbps;
	double tcp_p50_us, tcp_p99_us, tcp_mbps;
	int form;              /* of the echoes now: 1 one message, 0 text + frame */
	uint64_t form_ns[2];   /* their round trips together */
	int form_n[2];
	double form_cpu_us[2], block_cpu0;
	int failed;
} bench;

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static double pct(uint64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_u64);
	int i = (int)(p * (n - 1) + 0.5);
	return (double)v[i];
}

/* ---------------------------------------------------------------- baseline: TCP echo */

typedef struct {
	uv_tcp_t server, client, accepted;
	uv_loop_t *loop;
	char *buf;            /* client receive buffer */
	size_t want, got;     /* bytes expected back for the current round */
	size_t msg;           /* bytes per round */
	int rounds, done, warmup;
	uint64_t t0, start;
	uint64_t *samples;
	int closed;
	void (*finished)(void *);
	void *ctx;
	char *payload;
} tcp_bench;

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char scratch[256 * 1024]; /* data is echoed from it at once, so one buffer serves */
	(void)h;
	(void)hint;
	*b = uv_buf_init(scratch, sizeof scratch);
}

static void write_done(uv_write_t *w, int status)
{
	(void)status;
	free(w->data);
	free(w);
}

static void send_copy(uv_stream_t *s, const void *data, size_t len)
{
	uv_write_t *w = malloc(sizeof *w);
	char *copy = malloc(len);
	memcpy(copy, data, len);
	w->data = copy;
	uv_buf_t b = uv_buf_init(copy, (unsigned)len);
	uv_write(w, s, &b, 1, write_done);
}

static void server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	if (n > 0)
		send_copy(s, b->base, (size_t)n); /* echo whatever comes */
}

static void on_conn(uv_stream_t *server, int status)
{
	tcp_bench *t = server->data;
	if (status)
		return;
	uv_tcp_init(t->loop, &t->accepted);
	uv_accept(server, (uv_stream_t *)&t->accepted);
	uv_tcp_nodelay(&t->accepted, 1);
	uv_read_start((uv_stream_t *)&t->accepted, tcp_alloc, server_read);
}

static void tcp_closed(uv_handle_t *h)
{
	tcp_bench *t = h->data;
	if (++t->closed == 3)
		t->finished(t->ctx);
}

static void tcp_next(tcp_bench *t)
{
	if (t->done == t->warmup)
		t->start = uv_hrtime();
	if (t->done == t->rounds + t->warmup) {
		uv_read_stop((uv_stream_t *)&t->client);
		t->accepted.data = t->client.data = t->server.data = t;
		uv_close((uv_handle_t *)&t->client, tcp_closed);
		uv_close((uv_handle_t *)&t->accepted, tcp_closed);
		uv_close((uv_handle_t *)&t->server, tcp_closed);
		return;
	}
	t->got = 0;
	t->want = t->msg;
	t->t0 = uv_hrtime();
	send_copy((uv_stream_t *)&t->client, t->payload, t->msg);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	tcp_bench *t = s->data;
	(void)b;
	if (n <= 0)
		return;
	t->got += (size_t)n;
	if (t->got < t->want)
		return;
	if (t->done >= t->warmup)
		t->samples[t->done - t->warmup] = uv_hrtime() - t->t0;
	t->done++;
	tcp_next(t);
}

static void on_connected(uv_connect_t *c, int status)
{
	tcp_bench *t = c->data;
	free(c);
	if (status) {
		fprintf(stderr, "bench: loopback connect failed: %s\n", uv_strerror(status));
		exit(1);
	}
	uv_tcp_nodelay(&t->client, 1);
	uv_read_start((uv_stream_t *)&t->client, tcp_alloc, client_read);
	tcp_next(t);
}

static void tcp_run(uv_loop_t *loop, tcp_bench *t, size_t msg, int rounds, void (*finished)(void *), void *ctx)
{
	memset(t, 0, sizeof *t);
	t->loop = loop;
	t->msg = msg;
	t->rounds = rounds;
	t->warmup = rounds / 20 + 1;
	t->samples = calloc((size_t)rounds, sizeof *t->samples);
	t->payload = calloc(1, msg);
	t->finished = finished;
	t->ctx = ctx;
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	uv_tcp_init(loop, &t->server);
	t->server.data = t;
	uv_tcp_bind(&t->server, (const struct sockaddr *)&addr, 0);
	uv_listen((uv_stream_t *)&t->server, 4, on_conn);
	int len = sizeof addr;
	uv_tcp_getsockname(&t->server, (struct sockaddr *)&addr, &len);
	uv_tcp_init(loop, &t->client);
	t->client.data = t;
	uv_connect_t *c = malloc(sizeof *c);
	c->data = t;
	uv_tcp_connect(c, &t->client, (const struct sockaddr *)&addr, on_connected);
}

/* ---------------------------------------------------------------- WebSocket through Chromium */

static double cpu_us(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/* At each block's start (and at the end): the CPU of the block that ended goes to its form. */
static void echo_block(bench *b, bool last)
{
	int k = b->done - b->warmup;
	if (k < 0 || (k % ECHO_BLOCK && !last))
		return;
	double now = cpu_us();
	if (k > 0)
		b->form_cpu_us[b->form] += now - b->block_cpu0;
	b->block_cpu0 = now;
	b->form = (k / ECHO_BLOCK) % 2; /* old, new, old, ... */
	bridge_set_onemsg(b->a.br, b->form == 1);
}

static void next_request(bench *b);

static void report_and_quit(bench *b)
{
	printf("\nbench/roundtrip: the bridge with a real headless Chromium, against a plain loopback TCP "
	       "echo (same loop, same run)\n");
	printf("  %-44s %12s %12s %8s\n", "", "bridge", "tcp-echo", "ratio");
	printf("  %-44s %12.1f %12.1f %8.2f\n", "small round trip, median (us)", b->ws_p50_us, b->tcp_p50_us,
	       b->ws_p50_us / b->tcp_p50_us);
	printf("  %-44s %12.1f %12.1f %8.2f\n", "small round trip, p99 (us)", b->ws_p99_us, b->tcp_p99_us,
	       b->ws_p99_us / b->tcp_p99_us);
	double mb[2];
	for (int f = 0; f < 2; f++)
		mb[f] = b->form_ns[f] ? 2.0 * MIB * b->form_n[f] / (b->form_ns[f] / 1e9) / 1e6 : 0;
	printf("  %-44s %12.0f %12.0f %8.2f\n", "1 MiB frames both ways, payload MB/s", mb[1], b->tcp_mbps,
	       mb[1] / b->tcp_mbps);
	printf("  %-44s %12.0f %12s %8.2f\n", "1 MiB, old form (text + frame), MB/s", mb[0], "(one/old)",
	       mb[1] / mb[0]);
	printf("  %-44s %12.1f %12.1f %8.2f\n", "1 MiB echo, CPU here per echo us (one, old)",
	       b->form_cpu_us[1] / b->form_n[1], b->form_cpu_us[0] / b->form_n[0],
	       (b->form_cpu_us[1] / b->form_n[1]) / (b->form_cpu_us[0] / b->form_n[0]));
	printf("  (1 MiB echoes alternate in blocks of %d: one message / text + frame, %d and %d of them; "
	       "each form's MB/s from its own round trips; all echoes together %.0f MB/s)\n", ECHO_BLOCK, b->form_n[1],
	       b->form_n[0], b->ws_mbps);
	printf("  (%d small round trips, %d x 1 MiB echoes; MB = 10^6 bytes, counting each direction)\n",
	       b->small_rounds, b->mib_rounds);
	fflush(stdout);
	app_quit(&b->a, b->failed);
}

static tcp_bench tcp;

static void tcp_mib_finished(void *ctx)
{
	bench *b = ctx;
	double secs = (double)(uv_hrtime() - tcp.start) / 1e9;
	b->tcp_mbps = 2.0 * MIB * tcp.rounds / secs / 1e6;
	free(tcp.samples);
	free(tcp.payload);
	report_and_quit(b);
}

static void tcp_small_finished(void *ctx)
{
	bench *b = ctx;
	b->tcp_p50_us = pct(tcp.samples, tcp.rounds, 0.5) / 1e3;
	b->tcp_p99_us = pct(tcp.samples, tcp.rounds, 0.99) / 1e3;
	free(tcp.samples);
	free(tcp.payload);
	tcp_run(b->a.loop, &tcp, MIB, b->mib_rounds, tcp_mib_finished, b);
}

static void start_phase(bench *b, int phase, int rounds)
{
	b->phase = phase;
	b->rounds = rounds;
	b->warmup = rounds / 20 + 1;
	b->done = 0;
	free(b->samples);
	b->samples = calloc((size_t)rounds, sizeof *b->samples);
	next_request(b);
}

static void next_request(bench *b)
{
	if (b->done == b->warmup)
		b->phase_start_ns = uv_hrtime();
	if (b->phase == 2)
		echo_block(b, b->done == b->rounds + b->warmup);
	if (b->done < b->rounds + b->warmup) {
		int rc = b->phase == 1 ? bridge_ping(b->a.br, b->browser, NULL)
				       : bridge_echo(b->a.br, b->browser, MIB, NULL);
		if (rc) {
			fprintf(stderr, "bench: sending to the browser failed: %s\n", uv_strerror(rc));
			b->failed = 1;
			app_quit(&b->a, 1);
		}
		return;
	}
	double secs = (double)(uv_hrtime() - b->phase_start_ns) / 1e9;
	if (b->phase == 1) {
		b->ws_p50_us = pct(b->samples, b->rounds, 0.5) / 1e3;
		b->ws_p99_us = pct(b->samples, b->rounds, 0.99) / 1e3;
		fprintf(stderr, "bench: %d pings done\n", b->rounds);
		start_phase(b, 2, b->mib_rounds);
		return;
	}
	b->ws_mbps = (double)b->echo_bytes * 2.0 / secs / 1e6;
	b->phase = 3;
	fprintf(stderr, "bench: %d echoes done; measuring the loopback TCP baseline\n", b->rounds);
	tcp_run(b->a.loop, &tcp, 64, b->small_rounds, tcp_small_finished, b);
}

static void on_reply(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes)
{
	bench *b = ((app *)ctx)->user;
	(void)id;
	if (browser != b->browser || (b->phase != 1 && b->phase != 2))
		return;
	if ((b->phase == 1) != (type == PM_PONG))
		return;
	if (b->done >= b->warmup) {
		b->samples[b->done - b->warmup] = rtt_ns;
		if (b->phase == 2 && bytes >= MIB) {
			b->echo_bytes += MIB; /* payload only, not the frame header */
			b->form_ns[b->form] += rtt_ns;
			b->form_n[b->form]++;
		}
	}
	b->done++;
	next_request(b);
}

static void on_event(void *ctx, const ac_event *ev)
{
	bench *b = ((app *)ctx)->user;
	if (ev->kind == EV_BROWSER_EXITED && ev->browser == b->browser && b->phase < 3) {
		fprintf(stderr, "bench: chromium exited: %s\n", ev->text);
		b->failed = 1;
		app_quit(&b->a, 1);
	}
	if (ev->kind != EV_BROWSER_HELLO || b->phase != 0)
		return;
	const pool_browser *pb = pool_browser_find(b->a.pool, ev->browser);
	if (!pb || !pb->caps.valid)
		return;
	b->browser = ev->browser;
	fprintf(stderr, "bench: %s %s connected (browser %d); timing\n", pb->kind, pb->version, pb->id);
	start_phase(b, 1, b->small_rounds);
}

int main(int argc, char **argv)
{
	static bench b;
	options o;
	ac_err err;
	options_defaults(&o);
	o.batch = true;
	o.port = 0;
	o.heartbeat_s = 30; /* keep heartbeats out of the timings */
	o.heartbeat_timeout_s = 120;
	options_parse_browsers(&o, "chromium", &err);
	b.small_rounds = argc > 1 ? atoi(argv[1]) : 2000;
	b.mib_rounds = argc > 2 ? atoi(argv[2]) : 200;
	if (b.small_rounds < 20 || b.mib_rounds < 20) {
		fprintf(stderr, "usage: bench-roundtrip [SMALL_ROUNDS>=20] [MIB_ROUNDS>=20]\n");
		return 2;
	}
	b.a.on_reply = on_reply;
	b.a.user = &b;
	uv_loop_t *loop = uv_default_loop();
	int rc = app_start(&b.a, loop, &o, &err);
	if (!rc) {
		pool_add_listener(b.a.pool, on_event, &b.a);
		rc = app_launch_browsers(&b.a, &err);
	}
	if (rc) {
		fprintf(stderr, "bench: %s\n", err.msg);
		app_quit(&b.a, 1);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	app_free(&b.a);
	free(b.samples);
	return b.a.exit_code;
}
