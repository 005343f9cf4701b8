#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pool/family.h"
#include "cmd/optdesc.h"

void options_defaults(options *o)
{
	memset(o, 0, sizeof *o);
	o->delay_s = 1.0;
	o->settle_s = 30.0;
	o->listen = "127.0.0.1";
	o->port = 8765;
	o->max_message = 64u << 20;
	o->send_queue = 8u << 20;
	o->heartbeat_s = 2.0;
	o->heartbeat_timeout_s = 10.0;
	o->seed = 1;
	o->audio = "speech";
	o->tune_db = "accel-top.db";
	o->browser = "all";
	o->timeout_s = 120;
	o->db = "accel-top.db";
	o->inflight = 2;
	o->warn_ms = 100;
	o->crit_ms = 500;
	o->warn_queue = 8;
	o->crit_queue = 32;
	o->idle_timeout_s = 60;
	o->scale_wait_s = 1.0;
	o->scale_depth = 16;
	o->request_timeout_s = 120;
	o->max_restarts = 5;
	o->forget_lost_s = 600;
	o->grid_keepalive_s = 60;
	o->grid_timeout_s = 60;
}

void options_usage(FILE *f)
{
	fputs("Usage: accel-top [OPTIONS]\n"
	      "A live monitor for ML models running in browsers through WebGPU, WebNN and WebAssembly.\n"
	      "\n"
	      "  -b, --batch                 print snapshots to stdout instead of the interactive screen\n"
	      "  -n, --iterations N          stop after N snapshots (batch)\n"
	      "  -d, --delay SECS            seconds between snapshots (default 1)\n"
	      "      --json                  batch: one JSON object per line\n"
	      "      --settle SECS           batch: the first snapshot waits up to SECS for launched\n"
	      "                              browsers to say hello (default 30)\n"
	      "      --browsers LIST         browsers to launch: chromium,firefox or chromium:2,firefox:1;\n"
      "                              a range chromium:1-4 starts 1 and scales up to 4\n", f);
	char dflt[64];
	family_list(dflt, sizeof dflt, ", ", FAM_DEFAULT);
	fprintf(f, "                              (default: one of each installed %s)\n", dflt);
	fputs("      --no-launch             launch none; wait for browsers that open the page URL\n"
	      "      --visible               headed browsers when a display exists\n"
	      "      --listen ADDR           address to listen on (default 127.0.0.1)\n"
	      "      --port N                port (default 8765; 0 picks a free one)\n"
	      "      --token TOKEN           token for the page URL (default: random per start)\n"
	      "      --public-url URL        the URL browsers use (a name, a TLS proxy): printed and its\n"
	      "                              origin allowed, e.g. https://labhost.example/\n"
	      "      --allow-origin ORIGIN   also accept WebSockets from ORIGIN, e.g. http://labhost:8765\n"
	      "                              (repeatable; the machine's names and addresses always are)\n"
	      "      --metrics-listen ADDR:PORT  also serve GET /metrics there without the token\n"
	      "                              (e.g. 127.0.0.1:9464; on --port it needs the token)\n"
	      "      --tls-cert FILE, --tls-key FILE  serve https and wss with this PEM certificate and key\n"
	      "      --tls self-signed       make (or reuse) a certificate for this machine's names and\n"
	      "                              print its fingerprint and Chromium's spki flag\n"
	      "      --max-message SIZE      largest WebSocket message accepted (default 64M)\n"
	      "      --send-queue SIZE       bytes queued for a browser that stopped reading before it is\n"
	      "                              dropped (default 8M)\n"
	      "      --min-browsers N|KIND:N,...  fewest managed browsers of each kind kept running\n"
      "      --max-browsers N|KIND:N,...  most launched when queues wait (scaling)\n"
      "      --idle-timeout SECS     stop a browser above the minimum idle this long (default 60)\n"
      "      --scale-wait SECS       queue wait that counts as pressure (default 1)\n"
      "      --scale-depth N         queue depth that counts as pressure (default 16)\n"
      "      --request-timeout SECS  fail a request not ended this long after queued (default 120, 0 = never)\n"
      "      --max-restarts N        restarts of a browser per minute before it is held down (default 5)\n"
      "      --forget-lost SECS      drop the row of an attached browser lost this long (default 600,\n"
      "                              0 = never); launched and Grid browsers are never dropped\n"
      "      --browser-arg KIND=FLAG one more flag for every browser of KIND we launch (repeatable)\n"
      "      --grid URL              a Selenium Grid to ask for browsers: --browsers chromium@grid:2\n"
      "      --grid-keepalive SECS   a WebDriver command per Grid session this often (default 60)\n"
      "      --grid-timeout SECS     a Grid session not made by then fails: Grid full (default 60)\n"
      "      --heartbeat SECS        ping interval (default 2)\n"
	      "      --heartbeat-timeout SECS  silence after which a browser is lost (default 10)\n"
	      "      --readonly              screen: refuse keys that change something\n"
	      "      --no-color              screen: monochrome (also when NO_COLOR is set)\n"
	      "      --show-token            screen: show the page URL with its token\n"
	      "      --warn-ms MS, --crit-ms MS  latency shown yellow / red from MS (default 100, 500)\n"
	      "      --warn-queue N, --crit-queue N  queue depth shown yellow / red from N (default 8, 32)\n"
	      "      --models DIR            also offer the models in DIR (transformers.js layout)\n"
	      "      --allow-fallback        run on wasm, labelled fallback, where a platform fails\n"
	      "      --seed N                seed of the generated model inputs (default 1)\n"
	      "      --audio SRC             audio input: speech (espeak-ng), silence, noise, FILE.wav\n"
	      "      --text TEXT             token inputs from TEXT, through the model's tokenizer.json\n"
	      "      --image FILE            image inputs from a PNG/JPEG, decoded and normalised in the page\n"
	      "      --inflight N            requests in flight per browser session (default 2)\n"
	      "      --optimize-audio        audio models: log-mel computed on the page's GPU with the workgroup\n"
	      "                              shape accel-top tune stored (see --tune-db), else tuned on first use\n"
	      "      --tune-db PATH          the database tune wrote (default ./accel-top.db)\n"
	      "      --run MODEL[:PREC[:PLATFORM[:BROWSER[:CONCURRENCY]]]]  start a workload once the\n"
	      "                              browsers are up (e.g. bert-tiny:int8:wasm:auto:2;\n"
	      "                              BROWSER chromium,firefox runs the model's shards)\n"
	      "      --record FILE           write every event to FILE (a recording; see accel-top(1))\n"
	      "      --replay FILE           replay a recording: the same screen on its recorded clock\n"
	      "      --begin TIME, --end TIME  batch replay: the first and last snapshot (HH:MM[:SS],\n"
	      "                              'YYYY-MM-DD HH:MM[:SS]' or seconds since the epoch)\n"
	      "  -h, --help                  this help\n"
	      "  -V, --version               print the version\n"
	      "\n"
	      "See accel-top(1) and accel-top-protocol(7).\n", f);
}

int options_parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9') /* strtoull would skip blanks and accept a minus sign */
		return AC_EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno)
		return AC_EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v == 0 || v > (SIZE_MAX >> shift))
		return AC_EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

int options_parse_port(const char *s, int *port, ac_err *err)
{
	long v;
	if (opt_parse_long(s, 0, 65535, &v))
		return ac_errf(err, AC_EINVAL, "--port: '%s' is not a port from 0 to 65535", s);
	*port = (int)v;
	return 0;
}

int options_parse_metrics_listen(options *o, const char *s, ac_err *err)
{
	char addr[64] = "";
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) - (s[0] == '[') : 0;
	if (colon && n > 0 && n < sizeof addr)
		memcpy(addr, s + (s[0] == '['), n);
	const char *port = colon ? colon + 1 + (s[0] == '[') : "";
	unsigned char bin[16];
	long v;
	bool v6 = strchr(addr, ':') != NULL;
	if (!addr[0] || inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1 || v6 != (s[0] == '[') ||
	    opt_parse_long(port, 0, 65535, &v))
		return ac_errf(err, AC_EINVAL, "--metrics-listen: '%s' is not ADDR:PORT with a numeric address, "
			       "e.g. 127.0.0.1:9464 or [::1]:9464 (port 0 picks a free one)", s);
	ac_strlcpy(o->metrics_addr, addr, sizeof o->metrics_addr);
	o->metrics_port = (int)v;
	return 0;
}

int options_parse_browsers(options *o, const char *list, ac_err *err)
{
	o->n_launch = 0;
	o->browsers_given = true;
	char buf[512];
	ac_strlcpy(buf, list, sizeof buf);
	char *save = NULL;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':');
		long count = 1, max = -1;
		if (colon) {
			*colon = '\0';
			char *dash = strchr(colon + 1, '-');
			if (dash)
				*dash = '\0';
			if (opt_parse_long(colon + 1, 0, 16, &count) || (dash && (opt_parse_long(dash + 1, 0, 16, &max) || max < count)))
				return ac_errf(err, AC_EINVAL, "--browsers: '%s%s%s' for %s is not a count (0 to 16) or a range "
					       "MIN-MAX with MIN <= MAX", colon + 1, dash ? "-" : "", dash ? dash + 1 : "", item);
		}
		const browser_family *f = family_find(item);
		if (!f)
			return ac_errf(err, AC_EINVAL, "--browsers: unknown browser '%s' (known: %s; from a Selenium "
				       "Grid: %s)", item, family_known(), family_grid_known());
		if (o->n_launch == OPT_MAX_LAUNCH)
			return ac_errf(err, AC_EINVAL, "--browsers: too many entries (at most %d)", OPT_MAX_LAUNCH);
		o->launch[o->n_launch].family = f->name; /* static storage, unlike buf */
		o->launch[o->n_launch].count = (int)count;
		o->launch[o->n_launch].min = (int)count;
		o->launch[o->n_launch].max = max < 0 ? (int)count : (int)max;
		o->n_launch++;
	}
	if (o->n_launch == 0)
		return ac_errf(err, AC_EINVAL, "--browsers: empty list (use --no-launch to start none)");
	return 0;
}

enum { O_SETTLE = 256, O_BROWSERS, O_NO_LAUNCH, O_MAX_MESSAGE, O_HEARTBEAT, O_HEARTBEAT_TIMEOUT, O_INFLIGHT,
       O_RUN, O_READONLY, O_NO_COLOR, O_SHOW_TOKEN, O_WARN_MS, O_CRIT_MS, O_WARN_QUEUE, O_CRIT_QUEUE, O_REPLAY,
       O_BEGIN, O_END, O_MIN_BROWSERS, O_MAX_BROWSERS, O_IDLE_TIMEOUT, O_SCALE_WAIT, O_SCALE_DEPTH,
       O_REQUEST_TIMEOUT, O_MAX_RESTARTS, O_TUNE_DB, O_METRICS_LISTEN, O_GRID, O_GRID_KEEPALIVE, O_GRID_TIMEOUT,
       O_SEND_QUEUE, O_FORGET_LOST };

static launch_req *launch_entry(options *o, const char *family)
{
	for (int i = 0; i < o->n_launch; i++)
		if (!strcmp(o->launch[i].family, family))
			return &o->launch[i];
	if (o->n_launch == OPT_MAX_LAUNCH)
		return NULL;
	launch_req *r = &o->launch[o->n_launch++];
	*r = (launch_req){ .family = family };
	return r;
}

/* --min-browsers / --max-browsers: "N" for every kind, or "KIND:N,...". */
static int apply_limit(options *o, const char *flag, const char *spec, bool is_max, ac_err *err)
{
	char buf[256];
	ac_strlcpy(buf, spec, sizeof buf);
	char *save = NULL;
	int n = 0;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), n++) {
		char *colon = strchr(item, ':');
		long v;
		if (colon)
			*colon = '\0';
		if (opt_parse_long(colon ? colon + 1 : item, 0, 16, &v))
			return ac_errf(err, AC_EINVAL, "%s: '%s' is not a count from 0 to 16 (N, or KIND:N,...)", flag,
				       colon ? colon + 1 : item);
		if (!colon) {
			for (int i = 0; i < o->n_launch; i++)
				*(is_max ? &o->launch[i].max : &o->launch[i].min) = (int)v;
			continue;
		}
		const browser_family *f = family_find(item);
		if (!f)
			return ac_errf(err, AC_EINVAL, "%s: unknown browser '%s' (known: %s)",
				       flag, item, family_known());
		launch_req *r = launch_entry(o, f->name);
		if (!r)
			return ac_errf(err, AC_EINVAL, "%s: too many kinds (at most %d)", flag, OPT_MAX_LAUNCH);
		*(is_max ? &r->max : &r->min) = (int)v;
	}
	if (!n)
		return ac_errf(err, AC_EINVAL, "%s: empty (N, or KIND:N,...)", flag);
	return 0;
}

/* Scaling limits: the --browsers list (or the default kinds), its ranges, then the limit flags. */
static int resolve_limits(options *o, ac_err *err)
{
	if (!o->min_browsers && !o->max_browsers) {
		for (int i = 0; i < o->n_launch; i++)
			o->scaling |= o->launch[i].max != o->launch[i].min;
		return 0;
	}
	if (o->no_launch)
		return ac_errf(err, AC_EINVAL, "--min-browsers/--max-browsers and --no-launch contradict each other");
	if (!o->browsers_given) { /* the default kinds, one each */
		o->n_launch = 0;
		for (int i = 0; family_by_launch(i) && family_by_launch(i)->by_default; i++)
			o->launch[o->n_launch++] = (launch_req){ .family = family_by_launch(i)->name, .count = 1, .min = 1, .max = 1 };
	}
	if (o->min_browsers && apply_limit(o, "--min-browsers", o->min_browsers, false, err))
		return AC_EINVAL;
	if (o->max_browsers && apply_limit(o, "--max-browsers", o->max_browsers, true, err))
		return AC_EINVAL;
	for (int i = 0; i < o->n_launch; i++) {
		launch_req *r = &o->launch[i];
		if (o->max_browsers && !o->min_browsers && r->min > r->max)
			r->min = r->max;
		if (o->min_browsers && !o->max_browsers && r->max < r->min)
			r->max = r->min;
		if (r->min > r->max)
			return ac_errf(err, AC_EINVAL, "%s: minimum %d is above maximum %d", r->family, r->min, r->max);
		r->count = r->min;
		o->scaling |= r->max != r->min;
	}
	o->browsers_given = true; /* the list is explicit now */
	return 0;
}

/* --grid URL, --grid-keepalive SECS, --grid-timeout SECS (pool/grid.h). */
static int grid_opt(options *o, const opt_desc *d, const char *arg, ac_err *err)
{
	switch (d->id) {
	case O_GRID:
		if (strncmp(arg, "http://", 7) || !arg[7])
			return ac_errf(err, AC_EINVAL, "--grid: '%s' is not an http:// URL of a Selenium Grid "
				       "(e.g. http://127.0.0.1:4444)", arg);
		o->grid = arg;
		break;
	case O_GRID_KEEPALIVE:
		if (opt_parse_double(arg, 1, 3600, &o->grid_keepalive_s))
			return ac_errf(err, AC_EINVAL, "--grid-keepalive: '%s' is not a number of seconds from 1 to 3600", arg);
		break;
	case O_GRID_TIMEOUT:
		if (opt_parse_double(arg, 1, 3600, &o->grid_timeout_s))
			return ac_errf(err, AC_EINVAL, "--grid-timeout: '%s' is not a number of seconds from 1 to 3600", arg);
		break;
	}
	return 0;
}

/* The screen's thresholds and the supervisor's scaling limits. */
static int main_limit_opt(options *o, const opt_desc *d, const char *arg, ac_err *err)
{
	int c = d->id;
	switch (c) {
	case O_WARN_MS:
	case O_CRIT_MS:
		if (opt_parse_double(arg, 0, 3.6e6, c == O_WARN_MS ? &o->warn_ms : &o->crit_ms))
			return ac_errf(err, AC_EINVAL, "%s: '%s' is not a number of milliseconds from 0 to 3600000",
				       c == O_WARN_MS ? "--warn-ms" : "--crit-ms", arg);
		break;
	case O_WARN_QUEUE:
	case O_CRIT_QUEUE:
		if (opt_parse_long(arg, 0, 1000000000L, c == O_WARN_QUEUE ? &o->warn_queue : &o->crit_queue))
			return ac_errf(err, AC_EINVAL, "%s: '%s' is not a count from 0 to 1000000000",
				       c == O_WARN_QUEUE ? "--warn-queue" : "--crit-queue", arg);
		break;
	case O_IDLE_TIMEOUT:
		if (opt_parse_double(arg, 1, 86400, &o->idle_timeout_s))
			return ac_errf(err, AC_EINVAL, "--idle-timeout: '%s' is not a number of seconds from 1 to 86400", arg);
		break;
	case O_SCALE_WAIT:
		if (opt_parse_double(arg, 0.01, 3600, &o->scale_wait_s))
			return ac_errf(err, AC_EINVAL, "--scale-wait: '%s' is not a number of seconds from 0.01 to 3600", arg);
		break;
	case O_SCALE_DEPTH:
		if (opt_parse_long(arg, 1, 1000000, &o->scale_depth))
			return ac_errf(err, AC_EINVAL, "--scale-depth: '%s' is not a count from 1 to 1000000", arg);
		break;
	case O_REQUEST_TIMEOUT:
		if (opt_parse_double(arg, 0, 86400, &o->request_timeout_s))
			return ac_errf(err, AC_EINVAL, "--request-timeout: '%s' is not a number of seconds from 0 "
				       "(never) to 86400", arg);
		break;
	case O_MAX_RESTARTS:
		if (opt_parse_long(arg, 0, 1000, &o->max_restarts))
			return ac_errf(err, AC_EINVAL, "--max-restarts: '%s' is not a count from 0 to 1000", arg);
		break;
	case O_FORGET_LOST:
		if (opt_parse_double(arg, 0, 604800, &o->forget_lost_s))
			return ac_errf(err, AC_EINVAL, "--forget-lost: '%s' is not a number of seconds from 0 (never) "
				       "to 604800", arg);
		break;
	default: return grid_opt(o, d, arg, err);
	}
	return 0;
}

/* accel-top's own options (the shared ones are in cmd/optdesc.c): one occurrence of d. */
static int main_opt(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	options *o = c->o;
	long l;
	switch (d->id) {
	case 'n':
		if (opt_parse_long(arg, 1, 1000000000L, &l))
			return ac_errf(err, AC_EINVAL, "-n: '%s' is not a count of 1 or more", arg);
		o->iterations = l;
		break;
	case 'd':
		if (opt_parse_double(arg, 0.05, 86400, &o->delay_s))
			return ac_errf(err, AC_EINVAL, "-d: '%s' is not a number of seconds from 0.05 to 86400", arg);
		o->delay_given = true;
		break;
	case O_SETTLE:
		if (opt_parse_double(arg, 0, 3600, &o->settle_s))
			return ac_errf(err, AC_EINVAL, "--settle: '%s' is not a number of seconds from 0 to 3600", arg);
		break;
	case O_BROWSERS: return options_parse_browsers(o, arg, err);
	case O_MAX_MESSAGE:
		if (options_parse_size(arg, &o->max_message) || o->max_message < 4096)
			return ac_errf(err, AC_EINVAL, "--max-message: '%s' is not a size of at least 4096 bytes "
				       "(suffixes K, M, G)", arg);
		break;
	case O_SEND_QUEUE:
		if (options_parse_size(arg, &o->send_queue) || o->send_queue < 4096)
			return ac_errf(err, AC_EINVAL, "--send-queue: '%s' is not a size of at least 4096 bytes "
				       "(suffixes K, M, G)", arg);
		break;
	case O_HEARTBEAT:
		if (opt_parse_double(arg, 0.05, 3600, &o->heartbeat_s))
			return ac_errf(err, AC_EINVAL, "--heartbeat: '%s' is not a number of seconds from 0.05 to 3600", arg);
		break;
	case O_HEARTBEAT_TIMEOUT:
		if (opt_parse_double(arg, 0.1, 86400, &o->heartbeat_timeout_s))
			return ac_errf(err, AC_EINVAL, "--heartbeat-timeout: '%s' is not a number of seconds", arg);
		break;
	case O_INFLIGHT:
		if (opt_parse_long(arg, 1, 64, &o->inflight))
			return ac_errf(err, AC_EINVAL, "--inflight: '%s' is not a count from 1 to 64", arg);
		break;
	case O_RUN:
		if (o->n_runs == 8)
			return ac_errf(err, AC_EINVAL, "--run: at most 8 workloads");
		if (!arg[0] || arg[0] == ':')
			return ac_errf(err, AC_EINVAL, "--run '%s': name a model first "
				       "(MODEL[:PRECISION[:PLATFORM[:BROWSER[:N]]]])", arg);
		o->runs[o->n_runs++] = arg;
		break;
	case O_METRICS_LISTEN: return options_parse_metrics_listen(o, arg, err);
	case O_REPLAY:
		if (!arg[0])
			return ac_errf(err, AC_EINVAL, "--replay: name the recording to read");
		o->replay = arg;
		break;
	default: return main_limit_opt(o, d, arg, err);
	}
	return 0;
}

#define OWN(sym, name, id, arg) static const opt_desc sym = { name, id, arg, main_opt, 0 };
static const opt_desc o_batch = OPT_FLAG("batch", 'b', batch);
OWN(o_iterations, "iterations", 'n', "N")
OWN(o_delay, "delay", 'd', "SECS")
static const opt_desc o_version = OPT_FLAG("version", 'V', version);
OWN(o_settle, "settle", O_SETTLE, "SECS")
OWN(o_browsers, "browsers", O_BROWSERS, "LIST")
static const opt_desc o_no_launch = OPT_FLAG("no-launch", O_NO_LAUNCH, no_launch);
OWN(o_max_message, "max-message", O_MAX_MESSAGE, "SIZE")
OWN(o_send_queue, "send-queue", O_SEND_QUEUE, "SIZE")
OWN(o_heartbeat, "heartbeat", O_HEARTBEAT, "SECS")
OWN(o_heartbeat_timeout, "heartbeat-timeout", O_HEARTBEAT_TIMEOUT, "SECS")
static const opt_desc o_readonly = OPT_FLAG("readonly", O_READONLY, readonly);
static const opt_desc o_no_color = OPT_FLAG("no-color", O_NO_COLOR, no_color);
static const opt_desc o_show_token = OPT_FLAG("show-token", O_SHOW_TOKEN, show_token);
static const opt_desc o_tune_db = OPT_STRING("tune-db", O_TUNE_DB, "PATH", tune_db);
OWN(o_inflight, "inflight", O_INFLIGHT, "N")
OWN(o_run, "run", O_RUN, "MODEL[:PREC[:PLATFORM[:BROWSER[:CONCURRENCY]]]]")
OWN(o_replay, "replay", O_REPLAY, "FILE")
static const opt_desc o_begin = OPT_STRING("begin", O_BEGIN, "TIME", begin);
static const opt_desc o_end = OPT_STRING("end", O_END, "TIME", end);
OWN(o_warn_ms, "warn-ms", O_WARN_MS, "MS")
OWN(o_crit_ms, "crit-ms", O_CRIT_MS, "MS")
OWN(o_warn_queue, "warn-queue", O_WARN_QUEUE, "N")
OWN(o_crit_queue, "crit-queue", O_CRIT_QUEUE, "N")
static const opt_desc o_min_browsers = OPT_STRING("min-browsers", O_MIN_BROWSERS, "N|KIND:N,...", min_browsers);
static const opt_desc o_max_browsers = OPT_STRING("max-browsers", O_MAX_BROWSERS, "N|KIND:N,...", max_browsers);
OWN(o_idle_timeout, "idle-timeout", O_IDLE_TIMEOUT, "SECS")
OWN(o_scale_wait, "scale-wait", O_SCALE_WAIT, "SECS")
OWN(o_scale_depth, "scale-depth", O_SCALE_DEPTH, "N")
OWN(o_request_timeout, "request-timeout", O_REQUEST_TIMEOUT, "SECS")
OWN(o_max_restarts, "max-restarts", O_MAX_RESTARTS, "N")
OWN(o_forget_lost, "forget-lost", O_FORGET_LOST, "SECS")
OWN(o_metrics_listen, "metrics-listen", O_METRICS_LISTEN, "ADDR:PORT")
OWN(o_grid, "grid", O_GRID, "URL")
OWN(o_grid_keepalive, "grid-keepalive", O_GRID_KEEPALIVE, "SECS")
OWN(o_grid_timeout, "grid-timeout", O_GRID_TIMEOUT, "SECS")
#undef OWN

const opt_desc *const options_main[] = {
	&opt_help, &o_batch, &o_iterations, &o_delay, &o_version, &opt_json, &o_settle, &o_browsers, &o_no_launch, &opt_visible,
	&opt_listen, &opt_port, &opt_token, &opt_public_url, &opt_allow_origin, &o_max_message, &o_send_queue, &o_heartbeat, &o_heartbeat_timeout,
	&opt_tls_cert, &opt_tls_key, &opt_tls,
	&o_readonly, &o_no_color, &o_show_token, &o_warn_ms, &o_crit_ms, &o_warn_queue,
	&o_crit_queue, &opt_models, &opt_allow_fallback, &opt_seed, &opt_audio, &opt_text, &opt_image, &o_inflight, &o_run,
	&opt_record, &o_replay, &o_begin, &o_end, &o_min_browsers, &o_max_browsers,
	&o_idle_timeout, &o_scale_wait, &o_scale_depth, &o_request_timeout, &o_max_restarts, &o_forget_lost,
	&opt_browser_arg, &opt_optimize_audio, &o_tune_db,
	&o_metrics_listen,
	&o_grid, &o_grid_keepalive, &o_grid_timeout,
	NULL,
};

/* What no single option decides: contradictions and the scaling limits, after the whole line. */
int options_check(options *o, int argc, char **argv, ac_err *err)
{
	if (o->heartbeat_timeout_s <= o->heartbeat_s)
		return ac_errf(err, AC_EINVAL, "--heartbeat-timeout (%g s) must be longer than --heartbeat (%g s)",
			       o->heartbeat_timeout_s, o->heartbeat_s);
	if (o->no_launch && o->browsers_given)
		return ac_errf(err, AC_EINVAL, "--no-launch and --browsers contradict each other: use one");
	for (int i = 0; i < o->n_launch && !o->grid; i++)
		if (family_find(o->launch[i].family)->webdriver_name)
			return ac_errf(err, AC_EINVAL, "--browsers %s: give the Selenium Grid's URL with --grid URL",
				       o->launch[i].family);
	if (resolve_limits(o, err))
		return AC_EINVAL;
	if (o->warn_ms > o->crit_ms)
		return ac_errf(err, AC_EINVAL, "--warn-ms (%g) must not be above --crit-ms (%g)", o->warn_ms, o->crit_ms);
	if (o->warn_queue > o->crit_queue)
		return ac_errf(err, AC_EINVAL, "--warn-queue (%ld) must not be above --crit-queue (%ld)",
			       o->warn_queue, o->crit_queue);
	if (opt_check_tls(o, err))
		return AC_EINVAL;
	if (o->json && !o->batch)
		return ac_errf(err, AC_EINVAL, "--json needs -b (batch mode)");
	if (o->replay && o->record)
		return ac_errf(err, AC_EINVAL, "--record and --replay contradict each other: use one");
	if ((o->begin || o->end) && !(o->replay && o->batch))
		return ac_errf(err, AC_EINVAL, "%s needs --replay FILE and -b", o->begin ? "--begin" : "--end");
	o->argc = argc;
	o->argv = argv;
	return 0;
}

int options_parse(options *o, int argc, char **argv, ac_err *err)
{
	const opt_desc *const *lists[] = { options_main, NULL };
	opt_ctx c = { .prog = "accel-top", .o = o };
	int rc = opt_parse(lists, &c, argc, argv, err);
	return rc ? rc : options_check(o, argc, argv, err);
}
