/* bench/lws_echo: the raw libwebsockets baseline for bench/seed_baseline.py.
 *
 * A bare lws WebSocket server on a libuv loop, set up as accel-top's bridge is (the same buffer
 * sizes, TCP_NODELAY), with nothing on top: no protocol decoding, no pool, no scheduler. It serves
 * bench/lws_echo_page.html and times, on its side as bench/roundtrip does, (1) SMALL ping -> pong
 * round trips, from queueing the ping to the pong's last byte, and (2) MIB 1 MiB binary frames
 * echoed by the page (payload MB/s counting both directions). Someone else starts the browser:
 * it prints "lws_echo: listening on PORT" on stderr, "pings done" and "echoes done" at the phase
 * ends (seed_baseline.py samples its CPU there), and one JSON line with the figures on stdout.
 * Usage: build/bench-lws_echo [SMALL_ROUNDS] [MIB_ROUNDS]  (ACCEL_TOP_DATA: the checkout) */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <uv.h> /* before libwebsockets.h */
#include <libwebsockets.h>

#define MIB (1024 * 1024)
#define CHUNK (256 * 1024) /* the bridge's RX_CHUNK */

typedef struct {
	struct lws_context *ctx;
	struct lws *wsi;
	uv_timer_t quit;
	int phase;            /* 0 waiting for hello, 1 pings, 2 echoes, 3 done */
	int rounds[3], warmup, done;
	uint64_t t0, start, *samples;
	double p50_us, p99_us, mbps;
	unsigned char *tx, *rx; /* tx has LWS_PRE bytes of headroom */
	size_t tx_len, rx_len;
	bool tx_binary, failed;
} echo;

static echo E;

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static double pct(uint64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_u64);
	return (double)v[(int)(p * (n - 1) + 0.5)];
}

static void on_quit(uv_timer_t *t)
{
	(void)t;
	lws_context_destroy(E.ctx); /* first call, from a uv callback: lws closes its handles */
}

static void start_phase(int phase)
{
	E.phase = phase;
	E.done = 0;
	E.warmup = phase < 3 ? E.rounds[phase] / 20 + 1 : 0;
	free(E.samples);
	E.samples = phase < 3 ? calloc((size_t)E.rounds[phase], sizeof *E.samples) : NULL;
}

/* Queue the next ping or frame, or end the phase; returns -1 to close the connection. */
static int next(void)
{
	if (E.done == E.warmup)
		E.start = uv_hrtime();
	if (E.done == E.rounds[E.phase] + E.warmup) {
		double secs = (double)(uv_hrtime() - E.start) / 1e9;
		if (E.phase == 1) {
			E.p50_us = pct(E.samples, E.rounds[1], 0.5) / 1e3;
			E.p99_us = pct(E.samples, E.rounds[1], 0.99) / 1e3;
			fprintf(stderr, "lws_echo: %d pings done\n", E.rounds[1]);
			start_phase(2);
			return next();
		}
		E.mbps = 2.0 * MIB * E.rounds[2] / secs / 1e6;
		fprintf(stderr, "lws_echo: %d echoes done\n", E.rounds[2]);
		start_phase(3);
		printf("{\"p50_us\":%.1f,\"p99_us\":%.1f,\"mbps\":%.1f}\n", E.p50_us, E.p99_us, E.mbps);
		fflush(stdout);
		uv_timer_start(&E.quit, on_quit, 0, 0);
		lws_close_reason(E.wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"done", 4);
		return -1;
	}
	if (E.phase == 1) {
		E.tx_len = (size_t)snprintf((char *)E.tx + LWS_PRE, 64, "{\"type\":\"ping\",\"id\":%d}", E.done);
		E.tx_binary = false;
	} else {
		E.tx_len = MIB; /* the pattern stays in place from the first round */
		E.tx_binary = true;
	}
	E.t0 = uv_hrtime();
	lws_callback_on_writable(E.wsi);
	return 0;
}

/* One whole message from the page. */
static int on_message(bool binary)
{
	if (E.phase == 0) {
		fprintf(stderr, "lws_echo: the page said hello; timing\n");
		start_phase(1);
		return next();
	}
	bool ok = E.phase == 1 ? !binary && strstr((char *)E.rx, "\"pong\"") != NULL
			       : binary && E.rx_len == MIB && !memcmp(E.rx, E.tx + LWS_PRE, MIB);
	if (!ok) {
		fprintf(stderr, "lws_echo: unexpected reply in phase %d (%zu bytes)\n", E.phase, E.rx_len);
		E.failed = true;
		uv_timer_start(&E.quit, on_quit, 0, 0);
		return -1;
	}
	if (E.done >= E.warmup)
		E.samples[E.done - E.warmup] = uv_hrtime() - E.t0;
	E.done++;
	return next();
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		int one = 1;
		setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		E.wsi = wsi;
		return 0;
	}
	case LWS_CALLBACK_RECEIVE:
		if (lws_is_first_fragment(wsi))
			E.rx_len = 0;
		if (E.rx_len + len > MIB + 64)
			return -1;
		memcpy(E.rx + E.rx_len, in, len);
		E.rx_len += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			return 0;
		E.rx[E.rx_len] = 0;
		return on_message(lws_frame_is_binary(wsi));
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!E.tx_len)
			return 0;
		if (lws_write(wsi, E.tx + LWS_PRE, E.tx_len, E.tx_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
			return -1;
		E.tx_len = 0;
		return 0;
	case LWS_CALLBACK_CLOSED:
		E.wsi = NULL;
		if (E.phase != 3 && !E.failed) {
			fprintf(stderr, "lws_echo: the page closed in phase %d\n", E.phase);
			E.failed = true;
			uv_timer_start(&E.quit, on_quit, 0, 0);
		}
		return 0;
	default:
		return 0;
	}
}

int main(int argc, char **argv)
{
	E.rounds[1] = argc > 1 ? atoi(argv[1]) : 2000;
	E.rounds[2] = argc > 2 ? atoi(argv[2]) : 200;
	if (E.rounds[1] < 20 || E.rounds[2] < 20) {
		fprintf(stderr, "usage: bench-lws_echo [SMALL_ROUNDS>=20] [MIB_ROUNDS>=20]\n");
		return 2;
	}
	E.tx = malloc(LWS_PRE + MIB);
	E.rx = malloc(MIB + 65);
	for (size_t i = 0; i < MIB; i++)
		E.tx[LWS_PRE + i] = (unsigned char)((i * 131) >> 3);
	static char origin[4096];
	const char *data = getenv("ACCEL_TOP_DATA");
	snprintf(origin, sizeof origin, "%s/bench", data ? data : ".");
	static const struct lws_protocols protocols[] = {
		{ .name = "http", .callback = lws_callback_http_dummy },
		{ .name = "echo", .callback = ws_cb, .rx_buffer_size = CHUNK, .tx_packet_size = CHUNK },
		{ 0 },
	};
	static struct lws_http_mount mount = {
		.mountpoint = "/", .mountpoint_len = 1, .def = "lws_echo_page.html", .origin_protocol = LWSMPRO_FILE,
	};
	mount.origin = origin;
	uv_loop_t *loop = uv_default_loop();
	uv_timer_init(loop, &E.quit);
	void *loops[] = { loop };
	lws_set_log_level(LLL_ERR, NULL);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = loops;
	info.pt_serv_buf_size = CHUNK;
	E.ctx = lws_create_context(&info);
	if (!E.ctx) {
		fprintf(stderr, "lws_echo: lws_create_context failed (is libwebsockets-evlib-uv installed?)\n");
		return 1;
	}
	info.port = 0;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.mounts = &mount;
	info.vhost_name = "lws_echo";
	struct lws_vhost *vh = lws_create_vhost(E.ctx, &info);
	if (!vh) {
		fprintf(stderr, "lws_echo: cannot listen on 127.0.0.1\n");
		return 1;
	}
	fprintf(stderr, "lws_echo: listening on %d\n", lws_get_vhost_listen_port(vh));
	uv_run(loop, UV_RUN_DEFAULT);
	lws_context_destroy(E.ctx); /* second call, after uv_run() returned: frees it */
	uv_close((uv_handle_t *)&E.quit, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	free(E.tx);
	free(E.rx);
	free(E.samples);
	return E.failed || E.phase != 3;
}
