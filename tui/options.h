/* Command-line options. Parsing is a pure function of argv, so it is unit-tested. */
#ifndef AC_OPTIONS_H
#define AC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../pool/ac.h"

#define OPT_MAX_LAUNCH 16

typedef struct {
	const char *family; /* chromium, chrome, edge, firefox */
	int count;          /* launched at start: the minimum when a range is given */
	int min, max;       /* scaling limits; min = max = count without a range */
} launch_req;

typedef struct {
	bool batch, json, no_launch, visible, help, version;
	long iterations;          /* -n: 0 = unlimited */
	double delay_s;           /* -d */
	double settle_s;          /* batch: how long the first snapshot waits for launched browsers */
	const char *listen;
	int port;
	const char *token;        /* NULL = random */
	const char *public_url;   /* --public-url URL: printed, announced and allowed as an Origin */
	const char *grid;         /* --grid URL: the Selenium Grid that KIND@grid browsers come from */
	double grid_keepalive_s;  /* --grid-keepalive: a WebDriver command per session this often */
	double grid_timeout_s;    /* --grid-timeout: a session not made by then (a full Grid) fails */
	const char *allow_origins[8]; /* --allow-origin ORIGIN (checked), repeatable */
	int n_allow_origins;
	char metrics_addr[64];    /* --metrics-listen ADDR:PORT: /metrics without the token there; "" = none */
	int metrics_port;
	const char *tls_cert, *tls_key; /* --tls-cert FILE --tls-key FILE: https and wss on the same port */
	bool tls_self_signed;     /* --tls self-signed: a certificate made (or reused) under the state folder */
	size_t max_message;
	size_t send_queue;    /* --send-queue: the bridge's per-connection limit (bridge.h) */
	double heartbeat_s, heartbeat_timeout_s;
	launch_req launch[OPT_MAX_LAUNCH];
	int n_launch;
	bool browsers_given;      /* --browsers was used */
	/* supervision and scaling */
	const char *min_browsers, *max_browsers; /* --min-browsers / --max-browsers as typed */
	bool scaling;             /* some kind may have between min and max browsers */
	double idle_timeout_s;    /* a browser above the minimum idle this long is stopped */
	double scale_wait_s;      /* queue wait above which a model is under pressure */
	long scale_depth;         /* queue depth above which a model is under pressure */
	double request_timeout_s; /* a request not ended this long after it was queued fails; 0 = never */
	long max_restarts;        /* restarts of one browser per minute before it is held down */
	double forget_lost_s;     /* --forget-lost: an attached browser lost this long is forgotten; 0 = never */
	struct { const char *family, *arg; } browser_args[16]; /* --browser-arg KIND=FLAG */
	int n_browser_args;
	/* running models */
	const char *model_dirs[6];  /* --models, besides the built-in demo models */
	int n_model_dirs;
	bool allow_fallback;
	unsigned long long seed;  /* inputs */
	const char *audio;        /* speech, silence, noise or a WAV file */
	const char *text;         /* --text: token inputs from this text, through the model's tokenizer.json */
	const char *image;        /* --image: a PNG/JPEG file for image inputs, decoded in the page */
	long inflight;            /* requests in flight per session */
	bool optimize_audio;      /* --optimize-audio: audio models' log-mel on the page's GPU */
	const char *tune_db;      /* --tune-db: where `accel-top tune` stored its choices */
	const char *runs[8];      /* --run MODEL[:PRECISION[:PLATFORM[:BROWSER[:CONCURRENCY]]]] */
	int n_runs;
	/* interactive screen */
	bool no_color;            /* --no-color (NO_COLOR in the environment does the same) */
	bool readonly;            /* --readonly: keys that change something are refused */
	bool show_token;          /* --show-token: the header shows the page URL with its token */
	double warn_ms, crit_ms;  /* latency thresholds: yellow from warn_ms, red from crit_ms */
	long warn_queue, crit_queue; /* queue depth thresholds */
	/* recording and replay */
	const char *record;       /* --record FILE: every pool event goes to FILE */
	const char *replay;       /* --replay FILE: no browsers; the recording drives the pool */
	const char *begin, *end;  /* batch replay: first and last snapshot time (as typed) */
	bool delay_given;         /* -d was used */
	/* the subcommands' shared options (cmd/optdesc.h): what each means is in its command's help */
	const char *browser;      /* --browser KIND|all[,...]: bench, tune, doctor (default all) */
	double timeout_s;         /* --timeout SECS: bench per combination, tune per request, doctor per step */
	const char *db;           /* --db PATH: bench, tune, report (default accel-top.db) */
	const char *json_path;    /* --json FILE: bench, tune */
	int argc;                 /* the command line, for the recording's header */
	char **argv;
} options;

void options_defaults(options *o);

struct opt_desc;
/* accel-top's options, NULL-terminated (serve takes them too). */
extern const struct opt_desc *const options_main[];

/* Parses argv into *o. Returns 0, or AC_EINVAL with a one-line message naming the option and
 * what is accepted. Does not check whether browsers are installed (the launcher does). */
int options_parse(options *o, int argc, char **argv, ac_err *err);

/* The checks after the whole line was read (contradictions, scaling limits); also records argv. */
int options_check(options *o, int argc, char **argv, ac_err *err);

/* "chromium,firefox", "chromium:2,firefox:1", "chromium:1-4,firefox:0-2" (min-max: scaling) */
int options_parse_browsers(options *o, const char *list, ac_err *err);

/* --port N (0 to 65535; 0 picks a free one), for accel-top and its subcommands. */
int options_parse_port(const char *s, int *port, ac_err *err);

/* --metrics-listen "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:0": a numeric address and a port. */
int options_parse_metrics_listen(options *o, const char *s, ac_err *err);

/* "67108864", "64M", "1G", "512K" */
int options_parse_size(const char *s, size_t *out);

void options_usage(FILE *f);

#endif
