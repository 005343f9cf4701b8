/* Events: the only way the pool's state changes.
 *
 * Every source (bridge, launcher, timers, keys, a recording being replayed) describes what happened
 * as an ac_event and hands it to pool_apply(). Events are small, carry their own time, and convert
 * to and from JSON (ev_to_json / ev_from_json) so the journal can write them and replay can feed
 * them back through the same code. */
#ifndef AC_EVENT_H
#define AC_EVENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "ac.h"

#define EV_FORMAT_VERSION 1

/* The table of event kinds: one row per kind, X(ENUM, NUMBER, NAME, APPLIER, LOG LINE).
 *
 * NUMBER is what a recording stores for the kind (pool/journal_codec.c writes it as one byte) and NAME
 * what JSON, the protocol and the man page call it: both are part of the recording format.
 *   - numbers are never reused or renumbered: old recordings must replay unchanged;
 *   - a new kind goes at the end of the table, with the next number;
 *   - a kind that is removed leaves a hole (its number is not given to another kind).
 * APPLIER (pool/apply_*.c) changes the pool's state for the event, or refuses it with a message;
 * LOG LINE writes the event log's line for it, or returns false for none. Both are declared and
 * dispatched by the pool (pool_internal.h, pool.c); the fields each kind uses are beside its row.
 * The last row has the highest number (EV__COUNT is one past it). */
#define EV_KINDS(X) \
	/* num = port; text = page URL without the token */ \
	X(EV_BRIDGE_LISTENING,    0, "bridge_listening",   pa_bridge_listening,   pl_bridge_listening) \
	/* browser; family = kind; num = pid */ \
	X(EV_BROWSER_LAUNCHED,    1, "browser_launched",   pa_browser_launched,   pl_browser_launched) \
	/* browser; text = version printed by `EXE --version` */ \
	X(EV_BROWSER_VERSION,     2, "browser_version",    pa_browser_version,    pl_none) \
	/* browser; family = kind guessed by the page (attached browsers) */ \
	X(EV_BROWSER_CONNECTED,   3, "browser_connected",  pa_browser_connected,  pl_browser_connected) \
	/* browser; data = the hello message as received */ \
	X(EV_BROWSER_HELLO,       4, "browser_hello",      pa_browser_hello,      pl_browser_hello) \
	/* browser; num = heartbeat round trip in microseconds; num2 = the page's latest \
	   performance.measureUserAgentSpecificMemory() bytes, sent while fresh (0 = none: n/a) */ \
	X(EV_BROWSER_RTT,         5, "browser_rtt",        pa_browser_rtt,        pl_none) \
	/* browser; text = why (socket closed, heartbeat timeout, replaced) */ \
	X(EV_BROWSER_LOST,        6, "browser_lost",       pa_browser_lost,       pl_browser_lost) \
	/* browser; num = exit status; num2 = signal; text = description */ \
	X(EV_BROWSER_EXITED,      7, "browser_exited",     pa_browser_ended,      pl_browser_exited) \
	/* browser; text = why it could not be launched */ \
	X(EV_BROWSER_FAILED,      8, "browser_failed",     pa_browser_ended,      pl_browser_failed) \
	/* browser (0 = none); text = message */ \
	X(EV_ERROR,               9, "error",              pa_error,              pl_error) \
	/* models: a row is one workload of (model, precision, platform) */ \
	/* model = row; name, precision, platform; family = browser kind or "auto" or "#ID"; \
	   num = concurrency; x[0] = req/s; num2 = requests to run (0 = until stopped); \
	   x[1] = warm-up requests excluded from figures; text = model type */ \
	X(EV_WORKLOAD_STARTED,   10, "workload_started",   pa_workload_started,   pl_workload_started) \
	/* model; text = why */ \
	X(EV_WORKLOAD_STOPPED,   11, "workload_stopped",   pa_workload_stopped,   pl_workload_stopped) \
	/* model; precision = the new one */ \
	X(EV_PRECISION_CHANGED,  12, "precision_changed",  pa_precision_changed,  pl_precision_changed) \
	/* browser, session, model; precision, platform (requested); text = file; num = 1 for a \
	   reference session; num2 = shard (1-based) of a sharded row */ \
	X(EV_SESSION_LOADING,    13, "session_loading",    pa_session_loading,    pl_none) \
	/* browser, session; x[0] = load_ms; platform = EP used; data = metadata */ \
	X(EV_SESSION_READY,      14, "session_ready",      pa_session_ready,      pl_session_ready) \
	/* browser, session; text = the browser's error */ \
	X(EV_SESSION_FAILED,     15, "session_failed",     pa_session_failed,     pl_session_failed) \
	/* browser, session */ \
	X(EV_SESSION_UNLOADED,   16, "session_unloaded",   pa_session_unloaded,   pl_none) \
	/* model, request */ \
	X(EV_REQUEST_QUEUED,     17, "request_queued",     pa_request_queued,     pl_none) \
	/* model, request, browser, session */ \
	X(EV_REQUEST_SENT,       18, "request_sent",       pa_request_sent,       pl_none) \
	/* model, request, browser, session; x[0] total ms (ours), x[1] compute ms (page), x[2] page \
	   queue ms, x[3] ms the request spent in the page (arrival to result sent; 0 = not reported) */ \
	X(EV_REQUEST_DONE,       19, "request_done",       pa_request_done,       pl_none) \
	/* model, request, browser (0 = none), session; text = why; num = 1: ended by --request-timeout */ \
	X(EV_REQUEST_FAILED,     20, "request_failed",     pa_request_failed,     pl_none) \
	/* model, request, browser it was on; text = why (browser lost) */ \
	X(EV_REQUEST_REQUEUED,   21, "request_requeued",   pa_request_requeued,   pl_request_requeued) \
	/* model, browser; precision, platform; x[0] max abs err, x[1] normalised err, x[2] tolerance; \
	   num = 1 within tolerance; text = against what */ \
	X(EV_VERIFIED,           22, "verified",           pa_verified,           pl_verified) \
	/* faults and supervision */ \
	/* model, request, browser, session: a reply that came after the request had been taken from \
	   that browser (lost, timed out); never delivered; text = why */ \
	X(EV_REQUEST_DISCARDED,  23, "request_discarded",  pa_request_discarded,  pl_request_discarded) \
	/* browser, model; name = closed, open, half-open; num = consecutive failures; x[0] = seconds \
	   until the next probe (open); text = why */ \
	X(EV_BREAKER,            24, "breaker",            pa_breaker,            pl_breaker) \
	/* browser; x[0] = delay in seconds before the restart; num = restarts in the last minute; \
	   text = why */ \
	X(EV_BROWSER_RESTARTING, 25, "browser_restarting", pa_browser_restarting, pl_supervision) \
	/* browser; text = why it is not restarted any more (operator: press r) */ \
	X(EV_BROWSER_HELD,       26, "browser_held",       pa_browser_held,       pl_supervision) \
	/* family = kind; num = +1 launched / -1 stopped; browser; text = the reason */ \
	X(EV_SCALED,             27, "scaled",             pa_scaled,             pl_scaled) \
	/* browser (managed); num = RSS bytes of its process tree; num2 = processes; x[0] = CPU % of \
	   one core since the previous sample (< 0 = n/a: first sample); x[1] = CPU seconds of the \
	   tree since it started (0 = n/a: recordings before it); see pool/procstat.h */ \
	X(EV_BROWSER_USAGE,      28, "browser_usage",      pa_browser_usage,      pl_none) \
	/* browser; name = workgroup shape "WxHx1/ITEMS" of its GPU log-mel; num = 1 tuned (measured), \
	   0 the default; x[0] = measured speed-up over the default (0 = n/a); text = why the default */ \
	X(EV_AUDIO_FRONTEND,     29, "audio_frontend",     pa_audio_frontend,     pl_audio_frontend) \
	/* sharded models (a row whose pin is "KIND,KIND": shard k on a browser of the k-th kind) */ \
	/* model, request, browser, session: one stage of a sharded request ended; num = shard index \
	   (1-based), num2 = shards; x[0] compute ms (page), x[1] ms in the page (0 = not reported), \
	   x[2] round trip ms (ours), x[3] bytes of the outputs it returned (the intermediate \
	   tensors). Below the last shard the request leaves that session and waits for the next \
	   stage; the last shard's is followed by EV_REQUEST_DONE. */ \
	X(EV_SHARD_DONE,         30, "shard_done",         pa_shard_done,         pl_none) \
	/* browsers from a Selenium Grid (--grid; pool/grid.h) */ \
	/* browser; family = kind (chromium@grid); text = the Grid's URL: a W3C session was asked \
	   for (POST /session); the browser row is launched as by EV_BROWSER_LAUNCHED, with no pid */ \
	X(EV_GRID_REQUESTED,     31, "grid_requested",     pa_grid_requested,     pl_grid_requested) \
	/* browser; name = WebDriver session id; text = the node's URI; x[0] = seconds the Grid took */ \
	X(EV_GRID_CREATED,       32, "grid_created",       pa_grid_created,       pl_grid_created) \
	/* browser; name = session id; text = why (the keep-alive found it gone, or it was never \
	   created: the Grid down, full, or refusing); an EV_BROWSER_EXITED or _FAILED follows */ \
	X(EV_GRID_LOST,          33, "grid_lost",          pa_grid_lost,          pl_grid_lost) \
	/* browser; name = session id; text = why we deleted it (stopped, restart, quit) */ \
	X(EV_GRID_DELETED,       34, "grid_deleted",       pa_grid_deleted,       pl_grid_deleted) \
	/* num = the Grid's slots (-1: unreachable), num2 = sessions running, x[0] = requests queued \
	   in the Grid; name = the Grid's URL; text = "" or why it cannot be used (down, full) */ \
	X(EV_GRID_CAPACITY,      35, "grid_capacity",      pa_grid_capacity,      pl_grid_capacity) \
	/* forgetting (--forget-lost) */ \
	/* browser: an attached browser (not launched by us, not from a Grid) lost for longer than \
	   --forget-lost; its row, its sessions that counted nothing and its breakers leave the \
	   tables (the row's totals and figures stay). family = its kind (the row is gone when the \
	   log line is written); x[0] = seconds it had been lost; text = why */ \
	X(EV_BROWSER_FORGOTTEN,  36, "browser_forgotten",  pa_browser_forgotten,  pl_browser_forgotten)

typedef enum {
#define EV_ENUM_(e, n, name, ap, pl) e = n,
	EV_KINDS(EV_ENUM_)
#undef EV_ENUM_
	EV__COUNT /* one past the highest number (the last row's) */
} ev_kind;

typedef struct {
	ev_kind kind;
	int64_t t_us;       /* wall clock, microseconds since the epoch */
	int browser;        /* browser id, 0 = none */
	int model;          /* model row id, 0 = none */
	int session;        /* session key within its browser, 0 = none */
	int64_t request;    /* request id, 0 = none */
	int64_t num;
	int64_t num2;
	double x[4];        /* measurements, kind-specific */
	/* strings and data are borrowed; the pool copies what it keeps */
	const char *family;
	const char *text;
	const char *name, *precision, *platform;
	const cJSON *data;
} ac_event;

/* The kind's name; "?" for a number that is not (or no longer) a kind. */
const char *ev_kind_name(ev_kind k);
/* Whether n is the number of a kind in the table (a hole or out of range is not). */
bool ev_kind_valid(int n);
int ev_kind_from_name(const char *name); /* negative if unknown */

/* A new JSON object; NULL only when out of memory. */
cJSON *ev_to_json(const ac_event *ev);

/* Fills *ev from j. Strings in *ev point into j, so j must outlive *ev. */
int ev_from_json(const cJSON *j, ac_event *ev, ac_err *err);

#endif
