/* The bridge: a libwebsockets server on the application's libuv loop.
 *
 * It serves the page (browser-js/) and onnxruntime-web over HTTP, speaks accel.v1 with each
 * browser, and turns what arrives into events for the pool (through bridge_sink). It knows
 * browsers only by id, and nothing of the screen. */
#ifndef AC_BRIDGE_H
#define AC_BRIDGE_H

#include <uv.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/ac.h"
#include "../pool/event.h"
#include "proto.h"

typedef struct bridge bridge;

#define BRIDGE_SEND_QUEUE_DEFAULT (8u << 20)

typedef struct {
	const char *listen_addr;  /* default 127.0.0.1 */
	int port;                 /* 0 = pick a free one */
	const char *token;        /* required in the page and WebSocket URLs */
	size_t max_message;       /* bytes; larger messages close the connection with 1009 */
	size_t send_queue_max;    /* bytes queued for one connection that stopped reading, before
				   * it is dropped (0: BRIDGE_SEND_QUEUE_DEFAULT) */
	const char *www_dir;      /* served at / */
	const char *ort_dir;      /* served at /ort/ */
	const char *tokenizers_dir; /* served at /tokenizers/ (@huggingface/tokenizers' dist); NULL: not */
	const char *const *model_dirs; /* served at /models/0/, /models/1/, ... */
	int n_model_dirs;
	unsigned heartbeat_ms;    /* ping interval, both ways */
	unsigned timeout_ms;      /* silence after which a browser is lost */
	/* Origins allowed besides the machine's own names and addresses (bridge/origins.h) */
	const char *public_url;   /* --public-url: printed, announced and allowed; NULL = http://LISTEN:PORT/ */
	const char *const *allow_origins; /* --allow-origin, each already checked with origin_parse() */
	int n_allow_origins;
	/* --metrics-listen: GET /metrics also on this address and port (0 = a free one), without the
	 * token, on a vhost of its own; NULL = only on the main port, with the token */
	const char *metrics_addr;
	int metrics_port;
	/* TLS (bridge/tls.h): both PEM files, already checked with tls_load(); NULL = plain http */
	const char *tls_cert, *tls_key;
} bridge_config;

typedef struct {
	/* Every state change. Returns 0, or negative with *err set when the pool refused it. */
	int (*on_event)(void *ctx, const ac_event *ev, ac_err *err);
	/* The id for a browser saying hello: `requested` when the pool knows it, else a new one. */
	int (*resolve_id)(void *ctx, bool has_requested, uint32_t requested);
	/* Optional: a reply to bridge_ping()/bridge_echo() arrived (benchmarks, tests). */
	void (*on_reply)(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes);
	/* Optional: the body of GET /metrics (Prometheus text 0.0.4), malloc'ed, its length in *len;
	 * NULL when it could not be made (answered 503). Without it /metrics answers 404. */
	char *(*render_metrics)(void *ctx, size_t *len);
	void *ctx;
} bridge_sink;

/* The reply to one bridge_request(), given to the callback passed with it: loaded, result or
 * logmel_result (with its frames), unloaded, or an error naming the request's id. Frames point
 * into buffers freed after the call. A reply whose id answers no request (nor one sent to another
 * browser) reaches no one: an error among them becomes an EV_ERROR event, the rest are dropped. */
typedef void (*bridge_reply_fn)(void *ctx, int browser, const proto_msg *m, const proto_frame *frames, int n);

typedef struct {
	const void *data;   /* one complete binary frame: header + data */
	size_t len;
} bridge_blob;

int bridge_start(uv_loop_t *loop, const bridge_config *cfg, const bridge_sink *sink, bridge **out, ac_err *err);

int bridge_port(const bridge *b);
/* Page URL with the token ("http://127.0.0.1:8765/?token=...", https:// with TLS, or --public-url with the token):
 * for launching and attaching. */
const char *bridge_page_url(const bridge *b);
/* The same without the token: safe to print, record or show. */
const char *bridge_public_url(const bridge *b);
/* "http://ADDR:PORT/metrics" of --metrics-listen (served without the token); NULL without it. */
const char *bridge_metrics_url(const bridge *b);

/* Sends to a connected browser; AC_ENOENT when it has no open connection. */
int bridge_send_text(bridge *b, int browser, const char *json);
int bridge_ping(bridge *b, int browser, uint32_t *id);
/* Sends msg (a JSON object; the bridge sets its "id", last) followed by n binary frames; the reply
 * with that id goes to cb(cb_ctx, ...), once, even when it comes late or on the browser's next
 * connection (the owner decides what a late reply means). */
int bridge_request(bridge *b, int browser, cJSON *msg, const bridge_blob *frames, int n, bridge_reply_fn cb,
		   void *cb_ctx, uint32_t *id);
int bridge_echo(bridge *b, int browser, size_t bytes, uint32_t *id);
/* Requests with frames go as one binary message to pages that asked for it in their hello (on, the
 * default: on a quiet machine a model's request overhead was 0.78x the old form's, bench/README.md)
 * or as a text message and one frame per tensor to every page (off: the benches switch it for
 * their before/after in one run). Replies are taken in either form at any time. */
void bridge_set_onemsg(bridge *b, bool on);
/* bench/overhead's per-leg timestamps, for one request at a time (uv_hrtime() ns): the last
 * message written (lws_write in SERVER_WRITEABLE) on any connection, the first fragment of the
 * last text message received and its decoding done, and the inputs_ms and recv_at_ms of the last
 * result (-1 when the page sent none). Cheap enough to keep always (a few stores per message). */
typedef struct {
	uint64_t written_ns, text_rx_ns, text_decoded_ns;
	double page_inputs_ms, page_recv_at_ms;
} bridge_legs_t;
void bridge_legs(const bridge *b, bridge_legs_t *out);
int bridge_reconnect(bridge *b, int browser);
bool bridge_is_connected(const bridge *b, int browser);
/* The pool forgot browser (EV_BROWSER_FORGOTTEN): a socket still kept for it (lost, waiting for
 * its page to resume) is closed, and nothing more is reported under that id. */
void bridge_forget(bridge *b, int browser);

/* Shutdown in two steps (lws needs the loop to close its handles): bridge_stop() from a uv
 * callback, then bridge_free() after uv_run() has returned. */
void bridge_stop(bridge *b);
void bridge_free(bridge *b);

#endif
