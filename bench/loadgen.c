/* bench/loadgen: the load generator (fake browser). Not a browser: a C client on libwebsockets and
 * libuv that opens many accel.v1 connections to one accel-top on loopback and, on each, says hello
 * (the real page's hello shape, tests/fixtures/hello-chromium-swiftshader.json, named "loadgen")
 * and answers what the server asks with a fixed reply of the right shape: pong to ping, loaded to
 * load, a result to run (its output frames a fixed pattern, when the run asks for outputs),
 * unloaded to unload. It computes nothing; it is here to measure what accel-top does with many
 * connections (bench/load.sh, tests/e2e/test_load.py).
 *
 * Modes (--mode):
 *   hold      N connections (default 1000) held for --seconds, answering everything;
 *   churn     N connect/hello/welcome/close cycles, --parallel at a time;
 *   slow      one connection that says hello, stops reading and sends --flood pings: a client
 *             that does not read what it asked for; accel-top must drop it (a send-queue limit);
 *   half-tcp  N TCP connections that never send an HTTP request;
 *   half-ws   N WebSocket upgrades that never say hello.
 * Each run's figures go to standard output as one JSON object; progress goes to standard error.
 * With --pid PID, accel-top's CPU time, RSS and open file descriptors (from /proc) are sampled
 * before and after. Usage: bench-loadgen --url ws://127.0.0.1:PORT/ws?token=T [options]; --help.
 * Over ~600 lines: one client with five modes sharing its connection state, answering, /proc
 * sampling and report; split, each part would need that state passed around. */
#include <uv.h>
#include <libwebsockets.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../bridge/proto.h"
#include "../pool/ac.h"

#define LG_NAME "load generator (fake browser)"

typedef struct lgq {
	struct lgq *next;
	enum lws_write_protocol kind;
	size_t len;
	unsigned char buf[]; /* LWS_PRE of headroom, then the payload */
} lgq;

typedef struct {
	struct lws *wsi;
	int idx;
	bool up, welcomed, done, reading;
	unsigned char *rx;
	size_t rx_len, rx_cap;
	bool rx_bin;
	/* the run whose input frames are still coming */
	uint32_t run_id, run_session, frames_left;
	bool run_all;
	lgq *head, *tail;
	uint64_t flood_left;
	uint64_t t_connect_ns;
	uv_tcp_t tcp; /* half-tcp */
	char close_reason[128];
	int close_code;
} lgc;

typedef enum { M_HOLD, M_CHURN, M_SLOW, M_HALF_TCP, M_HALF_WS } lg_mode;

static struct {
	uv_loop_t *loop;
	struct lws_context *ctx;
	lg_mode mode;
	const char *url;
	char host[256], path[512];
	int port;
	int n, parallel;
	double seconds;
	uint64_t flood;
	int pid;
	lgc *c;
	int next_to_open, open_now;
	char *hello;
	/* the fixed output of every run */
	char out_name[64];
	uint8_t out_dtype;
	int out_rank;
	uint64_t out_dims[PROTO_MAX_RANK];
	size_t out_bytes;
	unsigned char *out_data;
	/* counters */
	uint64_t established, welcomed, connect_errors, closed_by_server, closed_by_us;
	uint64_t pings, loads, runs, results, unloads, errors_in, reconnects, duplicates, other;
	uint64_t bytes_in, bytes_out;
	uint8_t *seen;        /* a bit per run id received: a second one is a duplicate */
	size_t seen_bits;
	uint64_t t0_ns;
	uv_timer_t pace, stop;
	uv_signal_t sigint, sigterm;
	bool stopping;
	/* half-open: when the server closed each (ms after connecting) */
	double half_min_ms, half_max_ms;
	uint64_t half_closed;
	char reasons[8][128];
	int reason_count[8], n_reasons;
	double slow_dropped_ms;
	/* churn --reconnect: each of --parallel slots says hello again with the instance it was
	 * given, as a page that reconnects does (so the pool knows it: no new browser row) */
	bool reconnect;
	int *instance;
	/* /proc of accel-top */
	double cpu0_s, rss0_mb, cpu1_s, rss1_mb, hwm_mb;
	int fds0, fds1;
} g;

/* ---------------------------------------------------------------- /proc of accel-top */

static void proc_sample(double *cpu_s, double *rss_mb, int *fds)
{
	char p[64], buf[2048];
	*cpu_s = *rss_mb = 0;
	*fds = 0;
	if (!g.pid)
		return;
	snprintf(p, sizeof p, "/proc/%d/stat", g.pid);
	FILE *f = fopen(p, "r");
	if (f) {
		if (fgets(buf, sizeof buf, f)) {
			char *s = strrchr(buf, ')');
			unsigned long ut = 0, st = 0;
			/* after ") ": state is field 3; utime and stime are fields 14 and 15 */
			if (s && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
				*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		}
		fclose(f);
	}
	snprintf(p, sizeof p, "/proc/%d/status", g.pid);
	f = fopen(p, "r");
	if (f) {
		while (fgets(buf, sizeof buf, f)) {
			long kb;
			if (sscanf(buf, "VmRSS: %ld", &kb) == 1)
				*rss_mb = kb / 1024.0;
			if (sscanf(buf, "VmHWM: %ld", &kb) == 1)
				g.hwm_mb = kb / 1024.0;
		}
		fclose(f);
	}
	snprintf(p, sizeof p, "/proc/%d/fd", g.pid);
	DIR *d = opendir(p);
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			*fds += e->d_name[0] != '.';
		closedir(d);
	}
}

/* ---------------------------------------------------------------- sending */

static void enqueue(lgc *c, enum lws_write_protocol kind, const void *data, size_t len)
{
	lgq *m = malloc(sizeof *m + LWS_PRE + len);
	if (!m) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	m->next = NULL;
	m->kind = kind;
	m->len = len;
	memcpy(m->buf + LWS_PRE, data, len);
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	lws_callback_on_writable(c->wsi);
}

static void send_text(lgc *c, const char *s) { enqueue(c, LWS_WRITE_TEXT, s, strlen(s)); }

static void free_queue(lgc *c)
{
	while (c->head) {
		lgq *m = c->head;
		c->head = m->next;
		free(m);
	}
	c->tail = NULL;
}

static int write_one(lgc *c)
{
	lgq *m = c->head;
	if (!m && c->flood_left) { /* slow mode: one more ping that we will not read the pong of */
		char s[64];
		snprintf(s, sizeof s, "{\"type\":\"ping\",\"id\":%llu}", (unsigned long long)(g.flood - c->flood_left + 10));
		c->flood_left--;
		send_text(c, s);
		m = c->head;
	}
	if (!m)
		return 0;
	int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, m->kind);
	if (n < (int)m->len)
		return -1;
	g.bytes_out += m->len;
	c->head = m->next;
	if (!c->head)
		c->tail = NULL;
	free(m);
	if (c->head || c->flood_left)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* ---------------------------------------------------------------- answering */

static bool first_sight(uint32_t id)
{
	if (id >= g.seen_bits) {
		size_t bits = g.seen_bits ? g.seen_bits : 1 << 20;
		while (bits <= id)
			bits *= 2;
		g.seen = realloc(g.seen, bits / 8);
		memset(g.seen + g.seen_bits / 8, 0, (bits - g.seen_bits) / 8);
		g.seen_bits = bits;
	}
	bool seen = g.seen[id / 8] >> (id % 8) & 1;
	g.seen[id / 8] |= (uint8_t)(1 << (id % 8));
	return !seen;
}

static void send_result(lgc *c)
{
	char s[256];
	int m = c->run_all ? 1 : 0;
	snprintf(s, sizeof s, "{\"type\":\"result\",\"id\":%u,\"session\":%u,\"compute_ms\":0.01,\"queue_ms\":0,"
		 "\"page_ms\":0.01,\"lane\":0,\"tensors\":%d}", c->run_id, c->run_session, m);
	send_text(c, s);
	if (m) {
		proto_frame f = { .dtype = g.out_dtype, .rank = (uint8_t)g.out_rank, .req_id = c->run_id, .index = 0 };
		memcpy(f.dims, g.out_dims, sizeof f.dims);
		ac_strlcpy(f.name, g.out_name, sizeof f.name);
		uint8_t hdr[512];
		size_t hl = proto_encode_frame_header(&f, hdr, sizeof hdr);
		unsigned char *b = malloc(hl + g.out_bytes);
		memcpy(b, hdr, hl);
		memcpy(b + hl, g.out_data, g.out_bytes);
		enqueue(c, LWS_WRITE_BINARY, b, hl + g.out_bytes);
		free(b);
	}
	g.results++;
}

static void on_loaded(lgc *c, uint32_t id, uint32_t session, const char *platform)
{
	char s[1024], dims[256] = "";
	size_t o = 0;
	for (int i = 0; i < g.out_rank; i++)
		o += (size_t)snprintf(dims + o, sizeof dims - o, "%s%llu", i ? "," : "", (unsigned long long)g.out_dims[i]);
	snprintf(s, sizeof s, "{\"type\":\"loaded\",\"id\":%u,\"session\":%u,\"load_ms\":1,\"fetch_ms\":0,\"bytes\":0,"
		 "\"ep\":\"%s\",\"inputs\":[],\"outputs\":[{\"name\":\"%s\",\"type\":\"%s\",\"dims\":[%s]}],"
		 "\"ort_version\":\"loadgen\",\"threads\":1}", id, session, platform, g.out_name,
		 g.out_dtype == DT_FLOAT32 ? "float32" : proto_dtype_name(g.out_dtype), dims);
	send_text(c, s);
}

static void on_text(lgc *c)
{
	cJSON *m = cJSON_ParseWithLength((const char *)c->rx, c->rx_len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "type");
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(m, "id");
	const cJSON *ses = cJSON_GetObjectItemCaseSensitive(m, "session");
	uint32_t id = cJSON_IsNumber(jid) ? (uint32_t)jid->valuedouble : 0;
	uint32_t session = cJSON_IsNumber(ses) ? (uint32_t)ses->valuedouble : 0;
	const char *type = cJSON_IsString(t) ? t->valuestring : "";
	char s[160];
	if (!strcmp(type, "welcome")) {
		const cJSON *inst = cJSON_GetObjectItemCaseSensitive(m, "instance");
		if (g.reconnect && cJSON_IsNumber(inst))
			g.instance[c->idx % g.parallel] = (int)inst->valuedouble;
		c->welcomed = true;
		g.welcomed++;
		if (g.mode == M_CHURN) /* a cycle: connected, welcomed, closed by us */
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		if (g.mode == M_SLOW) {
			lws_rx_flow_control(c->wsi, 0); /* from now on it does not read */
			c->reading = false;
			c->flood_left = g.flood;
			lws_callback_on_writable(c->wsi);
			fprintf(stderr, "loadgen: welcomed; stopped reading, sending %llu pings\n", (unsigned long long)g.flood);
		}
	} else if (!strcmp(type, "ping")) {
		g.pings++;
		snprintf(s, sizeof s, "{\"type\":\"pong\",\"id\":%u}", id);
		send_text(c, s);
	} else if (!strcmp(type, "load")) {
		g.loads++;
		const cJSON *pl = cJSON_GetObjectItemCaseSensitive(m, "platform");
		on_loaded(c, id, session, cJSON_IsString(pl) ? pl->valuestring : "wasm");
	} else if (!strcmp(type, "run")) {
		g.runs++;
		if (!first_sight(id))
			g.duplicates++;
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(m, "tensors");
		const cJSON *outs = cJSON_GetObjectItemCaseSensitive(m, "outputs");
		c->run_id = id;
		c->run_session = session;
		c->run_all = cJSON_IsString(outs) && !strcmp(outs->valuestring, "all");
		c->frames_left = cJSON_IsNumber(k) ? (uint32_t)k->valuedouble : 0;
		if (!c->frames_left)
			send_result(c);
	} else if (!strcmp(type, "unload")) {
		g.unloads++;
		snprintf(s, sizeof s, "{\"type\":\"unloaded\",\"id\":%u,\"session\":%u}", id, session);
		send_text(c, s);
	} else if (!strcmp(type, "reconnect")) {
		g.reconnects++;
	} else if (!strcmp(type, "error")) {
		if (g.errors_in++ < 5)
			fprintf(stderr, "loadgen: connection %d got an error: %.*s\n", c->idx, (int)c->rx_len, c->rx);
	} else {
		g.other++;
	}
	cJSON_Delete(m);
}

static int on_receive(lgc *c, const void *in, size_t len)
{
	if (lws_is_first_fragment(c->wsi)) {
		c->rx_len = 0;
		c->rx_bin = lws_frame_is_binary(c->wsi);
	}
	if (c->rx_len + len + 1 > c->rx_cap) {
		c->rx_cap = (c->rx_len + len + 1) * 2;
		c->rx = realloc(c->rx, c->rx_cap);
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	g.bytes_in += len;
	if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
		return 0;
	if (!c->rx_bin)
		on_text(c);
	else if (c->frames_left && --c->frames_left == 0)
		send_result(c);
	return 0;
}

/* ---------------------------------------------------------------- connecting */

static void open_next(void);
static void on_stop(uv_timer_t *t);

static void note_reason(const char *why)
{
	for (int i = 0; i < g.n_reasons; i++)
		if (!strcmp(g.reasons[i], why)) {
			g.reason_count[i]++;
			return;
		}
	if (g.n_reasons < 8) {
		ac_strlcpy(g.reasons[g.n_reasons], why, sizeof g.reasons[0]);
		g.reason_count[g.n_reasons++] = 1;
	}
}

static void conn_done(lgc *c, bool by_server)
{
	if (c->done)
		return;
	c->done = true;
	c->wsi = NULL;
	g.open_now--;
	double ms = (double)(uv_hrtime() - c->t_connect_ns) / 1e6;
	if (by_server) {
		g.closed_by_server++;
		note_reason(c->close_reason[0] ? c->close_reason : "closed without a close frame");
		if (g.mode == M_HALF_WS || g.mode == M_HALF_TCP) {
			g.half_closed++;
			if (!g.half_min_ms || ms < g.half_min_ms)
				g.half_min_ms = ms;
			if (ms > g.half_max_ms)
				g.half_max_ms = ms;
		}
		if (g.mode == M_SLOW)
			g.slow_dropped_ms = ms;
	} else {
		g.closed_by_us++;
	}
	free_queue(c);
	free(c->rx);
	c->rx = NULL;
	if (g.mode == M_CHURN || g.mode == M_HALF_TCP || g.mode == M_HALF_WS || g.mode == M_SLOW) {
		if (g.next_to_open < g.n)
			open_next();
		else if (g.open_now == 0 && !g.stopping)
			uv_timer_start(&g.stop, on_stop, 0, 0); /* every cycle is over */
	}
}

static void send_hello(lgc *c)
{
	int inst = g.reconnect ? g.instance[c->idx % g.parallel] : 0;
	const char *at = inst ? strstr(g.hello, "\"instance\":null") : NULL;
	if (!at) {
		send_text(c, g.hello);
		return;
	}
	size_t n = strlen(g.hello) + 32;
	char *h = malloc(n);
	snprintf(h, n, "%.*s\"instance\":%d%s", (int)(at - g.hello), g.hello, inst, at + strlen("\"instance\":null"));
	send_text(c, h);
	free(h);
}

static int lg_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	lgc *c = user;
	(void)wsi;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->up = true;
		g.established++;
		if (g.mode != M_HALF_WS)
			send_hello(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return g.stopping && g.mode != M_SLOW ? -1 : write_one(c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			c->close_code = ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1];
			snprintf(c->close_reason, sizeof c->close_reason, "%d %.*s", c->close_code, (int)(len - 2),
				 (char *)in + 2);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c && !c->done) {
			if (g.connect_errors++ < 5)
				fprintf(stderr, "loadgen: connection %d failed: %s\n", c->idx, in ? (char *)in : "?");
			c->done = true;
			g.open_now--;
			if (g.mode != M_HOLD && g.next_to_open < g.n)
				open_next();
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c)
			conn_done(c, !(c->welcomed && g.mode == M_CHURN) && !g.stopping);
		return 0;
	default:
		return 0;
	}
}

static void tcp_closed(uv_handle_t *h) { (void)h; }

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char scratch[4096];
	(void)h;
	(void)hint;
	*b = uv_buf_init(scratch, sizeof scratch);
}

static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	lgc *c = s->data;
	(void)b;
	if (n >= 0)
		return;
	uv_close((uv_handle_t *)&c->tcp, tcp_closed);
	conn_done(c, true); /* the server closed it: that is what we wait for */
}

static void tcp_connected(uv_connect_t *r, int status)
{
	lgc *c = r->data;
	free(r);
	if (status) {
		g.connect_errors++;
		c->done = true;
		g.open_now--;
		return;
	}
	g.established++;
	ac_strlcpy(c->close_reason, "TCP closed by the server (no HTTP request sent)", sizeof c->close_reason);
	uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read);
}

static void open_next(void)
{
	lgc *c = &g.c[g.next_to_open];
	c->idx = g.next_to_open++;
	c->t_connect_ns = uv_hrtime();
	c->reading = true;
	g.open_now++;
	if (g.mode == M_HALF_TCP) {
		struct sockaddr_in a;
		uv_ip4_addr(g.host, g.port, &a);
		uv_tcp_init(g.loop, &c->tcp);
		c->tcp.data = c;
		uv_connect_t *r = malloc(sizeof *r);
		r->data = c;
		uv_tcp_connect(r, &c->tcp, (const struct sockaddr *)&a, tcp_connected);
		return;
	}
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof ci);
	ci.context = g.ctx;
	ci.address = g.host;
	ci.port = g.port;
	ci.path = g.path;
	ci.host = g.host;
	ci.protocol = PROTO_NAME;
	ci.userdata = c;
	ci.pwsi = &c->wsi;
	if (!lws_client_connect_via_info(&ci)) {
		g.connect_errors++;
		c->done = true;
		g.open_now--;
	}
}

/* Opens connections a batch at a time, so that the listener's backlog is not the test. */
static void on_pace(uv_timer_t *t)
{
	int batch = 50;
	while (batch-- > 0 && g.next_to_open < g.n && g.open_now < g.parallel)
		open_next();
	if (g.next_to_open >= g.n || g.mode != M_HOLD)
		uv_timer_stop(t);
}

static void finish(void)
{
	if (g.stopping)
		return;
	g.stopping = true;
	uv_stop(g.loop);
}

static void on_stop(uv_timer_t *t) { (void)t; finish(); }
static void on_signal(uv_signal_t *s, int sig) { (void)s; (void)sig; finish(); }

/* ---------------------------------------------------------------- setup and report */

static int parse_output(const char *spec)
{
	/* NAME:DTYPE:D1xD2x... (float32 only: the demo models' outputs) */
	char buf[256], *dt, *dims;
	ac_strlcpy(buf, spec, sizeof buf);
	if (!(dt = strchr(buf, ':')) || !(dims = strchr(dt + 1, ':')))
		return -1;
	*dt++ = 0;
	*dims++ = 0;
	if (strcmp(dt, "float32"))
		return -1;
	ac_strlcpy(g.out_name, buf, sizeof g.out_name);
	g.out_dtype = DT_FLOAT32;
	g.out_rank = 0;
	size_t count = 1;
	for (char *s = strtok(dims, "x"); s && g.out_rank < PROTO_MAX_RANK; s = strtok(NULL, "x")) {
		g.out_dims[g.out_rank++] = strtoull(s, NULL, 10);
		count *= g.out_dims[g.out_rank - 1];
	}
	g.out_bytes = count * 4;
	g.out_data = malloc(g.out_bytes);
	float *f = (float *)g.out_data;
	for (size_t i = 0; i < count; i++)
		f[i] = (float)(i % 97) * 0.01f; /* fixed, so every reference and result agree */
	return 0;
}

static char *load_hello(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "loadgen: cannot read the hello fixture %s: %s\n", file, strerror(errno));
		exit(2);
	}
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	cJSON *h = cJSON_Parse(buf);
	if (!h) {
		fprintf(stderr, "loadgen: %s is not JSON\n", file);
		exit(2);
	}
	/* a new browser each time, named for what it is */
	cJSON_ReplaceItemInObjectCaseSensitive(h, "instance", cJSON_CreateNull());
	cJSON *b = cJSON_GetObjectItemCaseSensitive(h, "browser");
	cJSON_ReplaceItemInObjectCaseSensitive(b, "name", cJSON_CreateString("loadgen"));
	cJSON_ReplaceItemInObjectCaseSensitive(b, "user_agent", cJSON_CreateString("accel-top " LG_NAME));
	char *s = cJSON_PrintUnformatted(h);
	cJSON_Delete(h);
	return s;
}

static void usage(FILE *o)
{
	fprintf(o, "usage: bench-loadgen --url ws://127.0.0.1:PORT/ws?token=TOKEN [options]\n"
		"The " LG_NAME ": opens many accel.v1 connections and answers with fixed replies.\n"
		"  --mode hold|churn|slow|half-tcp|half-ws   (default hold)\n"
		"  -n N            connections (hold, half-*) or cycles (churn); default 1000\n"
		"  --parallel N    at most N open at once (churn, half-*; default 50)\n"
		"  --seconds S     hold: how long (default 60); other modes: the most to wait\n"
		"  --flood N       slow: pings sent without reading (default 2000000)\n"
		"  --reconnect     churn: each slot says hello again as the browser it was (its instance)\n"
		"  --hello FILE    the hello to copy (default $ACCEL_TOP_DATA/tests/fixtures/hello-chromium-swiftshader.json)\n"
		"  --output NAME:float32:DIMS  the fixed output (default last_hidden_state:float32:1x32x128)\n"
		"  --pid PID       accel-top's process: CPU, RSS and fds before and after\n");
}

static void report(void)
{
	double secs = (double)(uv_hrtime() - g.t0_ns) / 1e9;
	static const char *names[] = { "hold", "churn", "slow", "half-tcp", "half-ws" };
	int held = 0;
	for (int i = 0; i < g.n; i++)
		held += g.c[i].up && !g.c[i].done;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "tool", LG_NAME);
	cJSON_AddStringToObject(o, "mode", names[g.mode]);
	cJSON_AddNumberToObject(o, "wanted", g.n);
	cJSON_AddNumberToObject(o, "seconds", secs);
	cJSON_AddNumberToObject(o, "established", (double)g.established);
	cJSON_AddNumberToObject(o, "welcomed", (double)g.welcomed);
	cJSON_AddNumberToObject(o, "held_at_end", held);
	cJSON_AddNumberToObject(o, "connect_errors", (double)g.connect_errors);
	cJSON_AddNumberToObject(o, "closed_by_server", (double)g.closed_by_server);
	cJSON_AddNumberToObject(o, "closed_by_us", (double)g.closed_by_us);
	cJSON_AddNumberToObject(o, "pings", (double)g.pings);
	cJSON_AddNumberToObject(o, "loads", (double)g.loads);
	cJSON_AddNumberToObject(o, "runs", (double)g.runs);
	cJSON_AddNumberToObject(o, "results", (double)g.results);
	cJSON_AddNumberToObject(o, "duplicate_run_ids", (double)g.duplicates);
	cJSON_AddNumberToObject(o, "unloads", (double)g.unloads);
	cJSON_AddNumberToObject(o, "errors_received", (double)g.errors_in);
	cJSON_AddNumberToObject(o, "reconnects", (double)g.reconnects);
	cJSON_AddNumberToObject(o, "bytes_in", (double)g.bytes_in);
	cJSON_AddNumberToObject(o, "bytes_out", (double)g.bytes_out);
	cJSON *r = cJSON_AddObjectToObject(o, "close_reasons");
	for (int i = 0; i < g.n_reasons; i++)
		cJSON_AddNumberToObject(r, g.reasons[i], g.reason_count[i]);
	if (g.mode == M_HALF_TCP || g.mode == M_HALF_WS) {
		cJSON_AddNumberToObject(o, "half_closed", (double)g.half_closed);
		cJSON_AddNumberToObject(o, "half_close_min_ms", g.half_min_ms);
		cJSON_AddNumberToObject(o, "half_close_max_ms", g.half_max_ms);
	}
	if (g.mode == M_SLOW)
		cJSON_AddNumberToObject(o, "slow_dropped_after_ms", g.slow_dropped_ms);
	if (g.pid) {
		proc_sample(&g.cpu1_s, &g.rss1_mb, &g.fds1);
		cJSON *p = cJSON_AddObjectToObject(o, "accel_top");
		cJSON_AddNumberToObject(p, "cpu_s", g.cpu1_s - g.cpu0_s);
		cJSON_AddNumberToObject(p, "cpu_pct", 100 * (g.cpu1_s - g.cpu0_s) / secs);
		cJSON_AddNumberToObject(p, "rss_mb_before", g.rss0_mb);
		cJSON_AddNumberToObject(p, "rss_mb_after", g.rss1_mb);
		cJSON_AddNumberToObject(p, "rss_mb_peak", g.hwm_mb);
		cJSON_AddNumberToObject(p, "fds_before", g.fds0);
		cJSON_AddNumberToObject(p, "fds_after", g.fds1);
	}
	char *s = cJSON_PrintUnformatted(o);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	cJSON_Delete(o);
}

static void raise_nofile(int want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((int)rl.rlim_cur < want + 64)
		fprintf(stderr, "loadgen: only %llu file descriptors (hard limit): %d connections may not all open "
			"(raise it with ulimit -Hn)\n", (unsigned long long)rl.rlim_cur, want);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "url", 1, 0, 'u' }, { "mode", 1, 0, 'm' }, { "parallel", 1, 0, 'P' }, { "seconds", 1, 0, 's' },
		{ "flood", 1, 0, 'f' }, { "hello", 1, 0, 'H' }, { "output", 1, 0, 'o' }, { "pid", 1, 0, 'p' },
		{ "reconnect", 0, 0, 'R' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *hello = NULL, *output = "last_hidden_state:float32:1x32x128";
	g.n = 1000;
	g.parallel = 50;
	g.seconds = 60;
	g.flood = 2000000;
	for (int ch; (ch = getopt_long(argc, argv, "n:h", lo, NULL)) != -1;) {
		switch (ch) {
		case 'u': g.url = optarg; break;
		case 'n': g.n = atoi(optarg); break;
		case 'P': g.parallel = atoi(optarg); break;
		case 's': g.seconds = atof(optarg); break;
		case 'f': g.flood = strtoull(optarg, NULL, 10); break;
		case 'H': hello = optarg; break;
		case 'o': output = optarg; break;
		case 'p': g.pid = atoi(optarg); break;
		case 'R': g.reconnect = true; break;
		case 'm':
			g.mode = !strcmp(optarg, "hold") ? M_HOLD : !strcmp(optarg, "churn") ? M_CHURN
				: !strcmp(optarg, "slow") ? M_SLOW : !strcmp(optarg, "half-tcp") ? M_HALF_TCP
				: !strcmp(optarg, "half-ws") ? M_HALF_WS : (lg_mode)-1;
			if ((int)g.mode < 0) {
				usage(stderr);
				exit(2);
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (!g.url || g.n < 1 || parse_output(output)) {
		usage(stderr);
		exit(2);
	}
	if (g.mode == M_SLOW)
		g.n = 1;
	if (g.parallel < 1)
		g.parallel = 1;
	g.instance = calloc((size_t)(g.parallel > g.n ? g.parallel : g.n), sizeof *g.instance);
	if (g.mode == M_HOLD)
		g.parallel = g.n;
	char ubuf[1024], pbuf[1024];
	const char *prot, *addr, *path;
	ac_strlcpy(ubuf, g.url, sizeof ubuf);
	if (lws_parse_uri(ubuf, &prot, &addr, &g.port, &path) || strcmp(prot, "ws")) {
		fprintf(stderr, "loadgen: --url must be ws://HOST:PORT/PATH?token=...\n");
		exit(2);
	}
	ac_strlcpy(g.host, addr, sizeof g.host);
	snprintf(pbuf, sizeof pbuf, "/%s", path);
	ac_strlcpy(g.path, pbuf, sizeof g.path);
	char def[1024];
	const char *data = getenv("ACCEL_TOP_DATA");
	snprintf(def, sizeof def, "%s/tests/fixtures/hello-chromium-swiftshader.json", data ? data : ".");
	g.hello = load_hello(hello ? hello : def);
}

static void lws_quiet(int level, const char *line)
{
	if (getenv("LOADGEN_LWS_LOG"))
		fprintf(stderr, "lws[%d]: %s", level, line);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_nofile(g.n);
	signal(SIGPIPE, SIG_IGN);
	g.loop = uv_default_loop();
	g.c = calloc((size_t)g.n, sizeof *g.c);
	static struct lws_protocols protocols[] = {
		{ .name = PROTO_NAME, .callback = lg_cb, .rx_buffer_size = 256 * 1024 },
		{ 0 },
	};
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_quiet);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	void *loops[] = { g.loop };
	info.options = LWS_SERVER_OPTION_LIBUV;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.timeout_secs = 30;
	g.ctx = lws_create_context(&info);
	if (!g.ctx) {
		fprintf(stderr, "loadgen: libwebsockets could not start on libuv (libwebsockets-evlib-uv?)\n");
		return 1;
	}
	proc_sample(&g.cpu0_s, &g.rss0_mb, &g.fds0);
	g.t0_ns = uv_hrtime();
	uv_timer_init(g.loop, &g.pace);
	uv_timer_init(g.loop, &g.stop);
	uv_timer_start(&g.pace, on_pace, 0, 1);
	uv_timer_start(&g.stop, on_stop, (uint64_t)(g.seconds * 1000), 0);
	uv_signal_init(g.loop, &g.sigint);
	uv_signal_init(g.loop, &g.sigterm);
	uv_signal_start(&g.sigint, on_signal, SIGINT);
	uv_signal_start(&g.sigterm, on_signal, SIGTERM);
	fprintf(stderr, "loadgen: %s, %d connection(s) to %s:%d\n", LG_NAME, g.n, g.host, g.port);
	uv_run(g.loop, UV_RUN_DEFAULT);
	g.stopping = true;
	report();
	/* leave: the kernel closes the sockets; accel-top sees them go */
	return 0;
}
