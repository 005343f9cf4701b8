/* Events: the only way the pool's state changes.
 *
 * Every source (bridge, launcher, timers, keys, a recording being replayed) describes what happened
 * as an ac_event and hands it to pool_apply(). Events are small, carry their own time, and convert
 * to and from JSON (ev_to_json / ev_from_json) so the journal can write them and replay can feed
 * them back through the same code. */
#ifndef AC_EVENT_H
#define AC_EVENT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "ac.h"

#define EV_FORMAT_VERSION 1

typedef enum {
	EV_BRIDGE_LISTENING, /* num = port; text = page URL without the token */
	EV_BROWSER_LAUNCHED, /* browser; family = kind; num = pid */
	EV_BROWSER_VERSION,  /* browser; text = version printed by `EXE --version` */
	EV_BROWSER_CONNECTED,/* browser; family = kind guessed by the page (attached browsers) */
	EV_BROWSER_HELLO,    /* browser; data = the hello message as received */
	EV_BROWSER_RTT,      /* browser; num = heartbeat round trip in microseconds; num2 = the page's
	                        latest performance.measureUserAgentSpecificMemory() bytes, sent while
	                        fresh (0 = none: n/a) */
	EV_BROWSER_LOST,     /* browser; text = why (socket closed, heartbeat timeout, replaced) */
	EV_BROWSER_EXITED,   /* browser; num = exit status; num2 = signal; text = description */
	EV_BROWSER_FAILED,   /* browser; text = why it could not be launched */
	EV_ERROR,            /* browser (0 = none); text = message */
	/* models: a row is one workload of (model, precision, platform) */
	EV_WORKLOAD_STARTED, /* model = row; name, precision, platform; family = browser kind or "auto"
	                        or "#ID"; num = concurrency; x[0] = req/s; num2 = requests to run
	                        (0 = until stopped); x[1] = warm-up requests excluded from figures;
	                        text = model type */
	EV_WORKLOAD_STOPPED, /* model; text = why */
	EV_PRECISION_CHANGED,/* model; precision = the new one */
	EV_SESSION_LOADING,  /* browser, session, model; precision, platform (requested); text = file */
	EV_SESSION_READY,    /* browser, session; x[0] = load_ms; platform = EP used; data = metadata */
	EV_SESSION_FAILED,   /* browser, session; text = the browser's error */
	EV_SESSION_UNLOADED, /* browser, session */
	EV_REQUEST_QUEUED,   /* model, request */
	EV_REQUEST_SENT,     /* model, request, browser, session */
	EV_REQUEST_DONE,     /* model, request, browser, session; x[0] total ms (ours), x[1] compute
	                        ms (page), x[2] page queue ms, x[3] ms the request spent in the page
	                        (arrival to result sent; 0 = not reported) */
	EV_REQUEST_FAILED,   /* model, request, browser (0 = none), session; text = why */
	EV_REQUEST_REQUEUED, /* model, request, browser it was on; text = why (browser lost) */
	EV_VERIFIED,         /* model, browser; precision, platform; x[0] max abs err, x[1] normalised
	                        err, x[2] tolerance; num = 1 within tolerance; text = against what */
	/* faults and supervision */
	EV_REQUEST_DISCARDED,/* model, request, browser, session: a reply that came after the request had
	                        been taken from that browser (lost, timed out); never delivered; text = why */
	EV_BREAKER,          /* browser, model; name = closed, open, half-open; num = consecutive failures;
	                        x[0] = seconds until the next probe (open); text = why */
	EV_BROWSER_RESTARTING,/* browser; x[0] = delay in seconds before the restart; num = restarts in the
	                        last minute; text = why */
	EV_BROWSER_HELD,     /* browser; text = why it is not restarted any more (operator: press r) */
	EV_SCALED,           /* family = kind; num = +1 launched / -1 stopped; browser; text = the reason */
	EV_BROWSER_USAGE,    /* browser (managed); num = RSS bytes of its process tree; num2 = processes;
	                        x[0] = CPU % of one core since the previous sample (< 0 = n/a: first
	                        sample); see pool/procstat.h */
	EV_AUDIO_FRONTEND,   /* browser; name = workgroup shape "WxHx1/ITEMS" of its GPU log-mel; num = 1
	                        tuned (measured), 0 the default; x[0] = measured speed-up over the default
	                        (0 = n/a); text = why the default */
	EV__COUNT
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

const char *ev_kind_name(ev_kind k);
int ev_kind_from_name(const char *name); /* negative if unknown */

/* A new JSON object; NULL only when out of memory. */
cJSON *ev_to_json(const ac_event *ev);

/* Fills *ev from j. Strings in *ev point into j, so j must outlive *ev. */
int ev_from_json(const cJSON *j, ac_event *ev, ac_err *err);

#endif
