/* The bridge's private layout, shared by bridge.c (the lws callbacks, sessions, heartbeats) and
 * admission.c (token and Origin checks, GET /admission, the listener's origins and URLs). */
#ifndef AC_BRIDGE_INTERNAL_H
#define AC_BRIDGE_INTERNAL_H

#include <libwebsockets.h>

#include "bridge.h"
#include "origins.h"
#include "replies.h"

#define RX_CHUNK (256 * 1024)
#define PENDING_MAX 64
#define LOST_KEEP_FACTOR 10 /* a lost connection is closed after this many heartbeat timeouts */
#define MAX_MOUNTS 16

typedef struct txmsg {
	struct txmsg *next;
	enum lws_write_protocol kind;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the payload */
} txmsg;

typedef enum { PEND_FREE, PEND_HEARTBEAT, PEND_PING, PEND_ECHO } pend_kind;

/* One WebSocket connection (lws's per-session data; zeroed by lws). */
typedef struct conn {
	struct conn *next;
	bridge *br;
	struct lws *wsi;
	int browser;          /* 0 until hello, and again once replaced */
	bool hello_done;
	bool onemsg;          /* its hello listed "onemsg": requests go as one binary message */
	char close_reason[160];
	uint64_t last_rx_ms;  /* uv_now() of the last message */
	/* reassembly of one message */
	unsigned char *rx;
	size_t rx_len, rx_cap;
	bool rx_binary;
	/* a text message that announced tensors, waiting for them */
	proto_msg pending_msg;
	uint32_t frames_left, frames_next;
	size_t frames_bytes;
	unsigned char *fbuf[PROTO_MAX_TENSORS]; /* kept frames of a result */
	size_t flen[PROTO_MAX_TENSORS];
	/* outgoing */
	txmsg *tx_head, *tx_tail;
	size_t tx_bytes;      /* queued here, not yet handed to lws: bounded by send_queue_max */
	bool tx_over;         /* over it: nothing more is queued, the connection is being dropped */
	/* our requests waiting for a reply */
	struct { pend_kind kind; uint32_t id; uint64_t sent_ns; } pend[PENDING_MAX];
	uint16_t peer_close_code;
	/* declared lost after a silence but left open: if it speaks again, what it sends is late
	 * (the pool discards and counts it) and it is told to reconnect */
	bool lost, told_to_reconnect;
	uint64_t lost_ms;
} conn;

struct bridge {
	uv_loop_t *loop;
	bridge_config cfg;
	bridge_sink sink;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	int port;
	char page_url[1024], public_url[768];
	origin_list origins;       /* who may open a WebSocket (origins.h) */
	origin_log refusals;       /* the rate limit of the refusal lines */
	conn *conns;
	conn **by_browser;         /* browser id -> its welcomed connection (find_conn without a scan) */
	size_t n_by_browser;
	uv_timer_t heartbeat;
	struct lws_protocols protocols[6]; /* http, ws, admission, metrics, http client, end */
	/* --metrics-listen: its own vhost with only GET /metrics (metrics_http.c) */
	struct lws_vhost *metrics_vh;
	struct lws_protocols metrics_protocols[3];
	struct lws_http_mount metrics_mount;
	char metrics_url[128];
	struct lws_http_mount mounts[MAX_MOUNTS];
	char mount_points[MAX_MOUNTS][24];
	bool stopping;
	bool onemsg_on;            /* one message to pages that ask (on unless bridge_set_onemsg(false)) */
	/* request ids are unique over all connections, so that a late reply on a browser's new
	 * connection cannot be taken for the answer to a newer request */
	uint32_t next_id;
	reply_table replies;       /* who gets the reply to each bridge_request() */
	struct http_call *calls;   /* bridge_http(): calls not yet freed (http_client.c) */
	uint32_t next_call;
	/* bench/overhead's per-leg timestamps (uv_hrtime): the last message written on any
	 * connection, the last text message received, the last result's inputs_ms (bridge_legs()) */
	bridge_legs_t legs;
};

bridge *bridge_of(struct lws *wsi);
/* An event for the pool; one the pool refuses becomes an EV_ERROR with the reason. */
void bridge_emit(bridge *b, ev_kind kind, int browser, const char *text, const cJSON *data, const char *family);

/* admission.c */
bool bridge_admit(bridge *b, struct lws *wsi);
void bridge_refused(bridge *b, struct lws *wsi, const char *cause, const char *origin, const char *why);
int bridge_admission_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
extern const size_t bridge_admission_pss_size;
int bridge_fill_origins(bridge *b, ac_err *err);
void bridge_set_urls(bridge *b);
/* v is the token (compared in constant time in the token's length) */
bool bridge_token_is(const bridge *b, const char *v);

/* metrics_http.c: GET /metrics on the main vhost (token required) and on --metrics-listen's */
int bridge_metrics_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
extern const size_t bridge_metrics_pss_size;
#define METRICS_PROTOCOL "accel-metrics"
int bridge_metrics_listen(bridge *b, struct lws_context_creation_info *info, ac_err *err);

/* http_client.c: lws's callback for the client protocol, listed on the vhost */
#define BRIDGE_HTTP_PROTOCOL "accel-http-client"
void bridge_http_cancel_all(bridge *b);
int bridge_http_client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
const char *bridge_scheme(const bridge *b); /* "https" with TLS, else "http" */

#endif
