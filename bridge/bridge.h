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

typedef struct {
	const char *listen_addr;  /* default 127.0.0.1 */
	int port;                 /* 0 = pick a free one */
	const char *token;        /* required in the page and WebSocket URLs */
	size_t max_message;       /* bytes; larger messages close the connection with 1009 */
	const char *www_dir;      /* served at / */
	const char *ort_dir;      /* served at /ort/ */
	const char *const *model_dirs; /* served at /models/0/, /models/1/, ... */
	int n_model_dirs;
	unsigned heartbeat_ms;    /* ping interval, both ways */
	unsigned timeout_ms;      /* silence after which a browser is lost */
} bridge_config;

typedef struct {
	/* Every state change. Returns 0, or negative with *err set when the pool refused it. */
	int (*on_event)(void *ctx, const ac_event *ev, ac_err *err);
	/* The id for a browser saying hello: `requested` when the pool knows it, else a new one. */
	int (*resolve_id)(void *ctx, bool has_requested, uint32_t requested);
	/* Optional: a reply to bridge_ping()/bridge_echo() arrived (benchmarks, tests). */
	void (*on_reply)(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes);
	/* A reply to bridge_request(): loaded, result (with its frames), unloaded, or an error that
	 * names a request id. Frames point into buffers freed after the call. */
	void (*on_response)(void *ctx, int browser, const proto_msg *m, const proto_frame *frames, int n);
	void *ctx;
} bridge_sink;

typedef struct {
	const void *data;   /* one complete binary frame: header + data */
	size_t len;
} bridge_blob;

int bridge_start(uv_loop_t *loop, const bridge_config *cfg, const bridge_sink *sink, bridge **out, ac_err *err);

int bridge_port(const bridge *b);
/* Page URL with the token ("http://127.0.0.1:8765/?token=..."): for launching and attaching. */
const char *bridge_page_url(const bridge *b);
/* The same without the token: safe to print, record or show. */
const char *bridge_public_url(const bridge *b);

/* Sends to a connected browser; AC_ENOENT when it has no open connection. */
int bridge_send_text(bridge *b, int browser, const char *json);
int bridge_ping(bridge *b, int browser, uint32_t *id);
/* Sends msg (a JSON object; the bridge sets its "id") followed by n binary frames. */
int bridge_request(bridge *b, int browser, cJSON *msg, const bridge_blob *frames, int n, uint32_t *id);
int bridge_echo(bridge *b, int browser, size_t bytes, uint32_t *id);
int bridge_reconnect(bridge *b, int browser);
bool bridge_is_connected(const bridge *b, int browser);

/* Shutdown in two steps (lws needs the loop to close its handles): bridge_stop() from a uv
 * callback, then bridge_free() after uv_run() has returned. */
void bridge_stop(bridge *b);
void bridge_free(bridge *b);

#endif
