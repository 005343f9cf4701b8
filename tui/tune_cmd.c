/* accel-top tune: the audio front end (log-mel, browser-js/logmel-wgsl.js) is a set of WGSL
 * kernels whose workgroup shape and items per thread are parameters. This command times every
 * candidate shape on each connected browser's WebGPU adapter, checks every output against the C
 * reference (audio_log_mel() in pool/audio.c), picks the fastest verified candidate and stores
 * the measurements and the choice in the database, keyed by browser kind, version and adapter.
 * A later start finds that choice and reuses it, unless --force. Nothing here is assumed about
 * which shape suits which browser: the figures are what this run measured. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../pool/store.h"
#include "../pool/tune.h"
#include "app.h"
#include "commands.h"

#define MAX_SHAPES 16
#define MAX_CLIPS 4

typedef struct {
	tune_shape sh;
	double *ms;          /* samples: GPU time (timestamp-query) or wall time, as timing says */
	int n_ms;
	char timing[48];
	double compile_ms;
	bool have_out;
	double max_abs;      /* the worst error against the C reference, over its replies */
	bool failed;
	char reason[300];
} cand;

typedef struct {
	int browser;
	char kind[32], version[64], adapter[300], classification[16];
	cand c[MAX_SHAPES];
	int chosen;          /* index into c, -1 = none */
	double clip_err[MAX_CLIPS];
	bool clip_ok[MAX_CLIPS], clip_done[MAX_CLIPS];
	char clip_reason[MAX_CLIPS][200];
	bool stored;         /* the choice came from the database */
	store_tuning *rows;
	int n_rows;
	char skip[400];      /* why it was not tuned */
} btune;

typedef struct {
	app a;
	options o;
	char browsers_arg[128], shapes_arg[256], clips_arg[256];
	const char *db_path, *json_path;
	bool force;
	int rounds, repeat, frames;
	double seconds, timeout_s;
	tune_shape shapes[MAX_SHAPES];
	int n_shapes;
	audio_clip clips[MAX_CLIPS];
	char clip_names[MAX_CLIPS][64];
	float *ref[MAX_CLIPS];
	unsigned char *frame[MAX_CLIPS];
	size_t frame_len[MAX_CLIPS];
	int n_clips;
	btune *bt;
	int n_bt, cur, step;
	bool in_flight, started;
	uint32_t pending_id;
	int pending_clip, pending_cand, pending_round;
	uv_timer_t deadline, kick;
	int exit_code;
	char command[1024];
} tune;

static void usage(FILE *f)
{
	fputs("Usage: accel-top tune [OPTIONS]\n"
	      "Times the WebGPU log-mel kernels (audio front end) with each candidate workgroup shape on\n"
	      "every browser, verifies them against the C reference, and stores the fastest per browser + adapter.\n"
	      "  --browser chromium|chrome|edge|firefox|all[,...]   (default all: every installed kind)\n"
	      "  --force             measure again even where the database holds a choice\n"
	      "  --shapes LIST       candidates XxYx1[/ITEMS],... (default " TUNE_DEFAULT_CANDIDATES ");\n"
	      "                      the first is the default the gain is measured against\n"
	      "  --clip LIST         speech|silence|sweep|noise|FILE.wav[,...] (default speech,silence,sweep):\n"
	      "                      the first is timed, every one is verified\n"
	      "  --seconds S         clip length (default: the file's, 3 s for generated clips; at most 30)\n"
	      "  --frames N          log-mel frames, 10 ms each (default 3000: the audio model's 30 s input)\n"
	      "  --rounds N (default 3)  --repeat N kernel runs per request (default 3)\n"
	      "  --db PATH (default ./accel-top.db)  --json FILE  --timeout SECS per request (default 120)\n"
	      "  --visible  --port N\n", f);
}

static bool in_list(const char *list, const char *item)
{
	if (!strcmp(list, "all"))
		return true;
	size_t n = strlen(item);
	for (const char *p = list; (p = strstr(p, item)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static int parse(tune *t, int argc, char **argv, ac_err *err)
{
	enum { T_BROWSER = 300, T_FORCE, T_SHAPES, T_CLIP, T_SECONDS, T_FRAMES, T_ROUNDS, T_REPEAT, T_DB, T_JSON,
	       T_TIMEOUT, T_VISIBLE, T_PORT, T_HELP };
	static const struct option longs[] = {
		{ "browser", required_argument, 0, T_BROWSER }, { "force", no_argument, 0, T_FORCE },
		{ "shapes", required_argument, 0, T_SHAPES }, { "clip", required_argument, 0, T_CLIP },
		{ "seconds", required_argument, 0, T_SECONDS }, { "frames", required_argument, 0, T_FRAMES },
		{ "rounds", required_argument, 0, T_ROUNDS }, { "repeat", required_argument, 0, T_REPEAT },
		{ "db", required_argument, 0, T_DB }, { "json", required_argument, 0, T_JSON },
		{ "timeout", required_argument, 0, T_TIMEOUT }, { "visible", no_argument, 0, T_VISIBLE },
		{ "port", required_argument, 0, T_PORT }, { "help", no_argument, 0, T_HELP }, { 0, 0, 0, 0 },
	};
	ac_strlcpy(t->browsers_arg, "all", sizeof t->browsers_arg);
	ac_strlcpy(t->shapes_arg, TUNE_DEFAULT_CANDIDATES, sizeof t->shapes_arg);
	ac_strlcpy(t->clips_arg, "speech,silence,sweep", sizeof t->clips_arg);
	t->rounds = 3;
	t->repeat = 3;
	t->frames = 3000;
	t->timeout_s = 120;
	t->db_path = "accel-top.db";
	optind = 1;
	opterr = 0;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		switch (c) {
		case T_BROWSER: ac_strlcpy(t->browsers_arg, optarg, sizeof t->browsers_arg); break;
		case T_FORCE: t->force = true; break;
		case T_SHAPES: ac_strlcpy(t->shapes_arg, optarg, sizeof t->shapes_arg); break;
		case T_CLIP: ac_strlcpy(t->clips_arg, optarg, sizeof t->clips_arg); break;
		case T_SECONDS:
			t->seconds = strtod(optarg, &end);
			if (*end || !(t->seconds > 0 && t->seconds <= 30))
				return ac_errf(err, AC_EINVAL, "--seconds: '%s' is not a length from 0 to 30 seconds", optarg);
			break;
		case T_FRAMES: case T_ROUNDS: case T_REPEAT: {
			long v = strtol(optarg, &end, 10);
			long hi = c == T_FRAMES ? 3000 : 1000;
			if (*end || end == optarg || v < 1 || v > hi)
				return ac_errf(err, AC_EINVAL, "--%s: '%s' is not a count from 1 to %ld",
					       c == T_FRAMES ? "frames" : c == T_ROUNDS ? "rounds" : "repeat", optarg, hi);
			*(c == T_FRAMES ? &t->frames : c == T_ROUNDS ? &t->rounds : &t->repeat) = (int)v;
			break;
		}
		case T_DB: t->db_path = optarg; break;
		case T_JSON: t->json_path = optarg; break;
		case T_TIMEOUT:
			t->timeout_s = strtod(optarg, &end);
			if (*end || !(t->timeout_s >= 1))
				return ac_errf(err, AC_EINVAL, "--timeout: '%s' is not a number of seconds >= 1", optarg);
			break;
		case T_VISIBLE: t->o.visible = true; break;
		case T_PORT: {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 65535)
				return ac_errf(err, AC_EINVAL, "--port: '%s' is not a port from 0 to 65535", optarg);
			t->o.port = (int)v;
			break;
		}
		case T_HELP: case 'h': usage(stdout); exit(0);
		case ':': return ac_errf(err, AC_EINVAL, "option %s needs a value (see accel-top tune --help)", argv[optind - 1]);
		default: return ac_errf(err, AC_EINVAL, "unknown option '%s' (see accel-top tune --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ac_errf(err, AC_EINVAL, "unexpected argument '%s' (see accel-top tune --help)", argv[optind]);
	int rc = tune_parse_shapes(t->shapes_arg, t->shapes, MAX_SHAPES, &t->n_shapes, err);
	if (rc)
		return rc;
	char buf[256];
	ac_strlcpy(buf, t->browsers_arg, sizeof buf);
	for (char *save, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save))
		if (strcmp(s, "all") && !family_find(s))
			return ac_errf(err, AC_EINVAL, "--browser: unknown browser '%s' (chromium, chrome, edge, firefox, all)", s);
	return 0;
}

/* The clips: loaded, cut to length, their C reference log-mel and their ATNS frame. */
static int load_clips(tune *t, ac_err *err)
{
	char buf[256];
	ac_strlcpy(buf, t->clips_arg, sizeof buf);
	for (char *save, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (t->n_clips == MAX_CLIPS)
			return ac_errf(err, AC_EINVAL, "--clip: at most %d clips", MAX_CLIPS);
		audio_clip *c = &t->clips[t->n_clips];
		size_t gen = (size_t)((t->seconds > 0 ? t->seconds : 3) * AUDIO_RATE);
		if (!strcmp(s, "silence")) {
			audio_silence(c, gen);
		} else if (!strcmp(s, "sweep")) {
			audio_sweep(c, gen, 100, 7900);
		} else if (!strcmp(s, "noise")) {
			audio_noise(c, gen, 1);
		} else {
			char path[4300];
			if (!strcmp(s, "speech"))
				snprintf(path, sizeof path, "%.4000s/build/audio/speech.wav", t->a.data_dir);
			else
				ac_strlcpy(path, s, sizeof path);
			int rc = audio_load_wav(path, c, err);
			if (rc) {
				if (!strcmp(s, "speech"))
					ac_strlcatf(err->msg, sizeof err->msg, " (made by 'make' with espeak-ng)");
				return rc;
			}
			if (t->seconds > 0 && c->n > gen)
				c->n = gen;
		}
		if (c->n > (size_t)30 * AUDIO_RATE)
			c->n = (size_t)30 * AUDIO_RATE;
		ac_strlcpy(t->clip_names[t->n_clips], s, sizeof t->clip_names[0]);
		size_t cells = (size_t)80 * t->frames;
		t->ref[t->n_clips] = malloc(cells * sizeof(float));
		audio_log_mel(c, t->frames, t->ref[t->n_clips]);
		proto_frame f = { .dtype = DT_FLOAT32, .rank = 1, .dims = { c->n } };
		ac_strlcpy(f.name, "audio", sizeof f.name);
		unsigned char hdr[64];
		size_t hl = proto_encode_frame_header(&f, hdr, sizeof hdr);
		unsigned char *fr = malloc(hl + f.data_len + 1);
		memcpy(fr, hdr, hl);
		memcpy(fr + hl, c->samples, f.data_len);
		t->frame[t->n_clips] = fr;
		t->frame_len[t->n_clips] = hl + f.data_len;
		t->n_clips++;
	}
	if (!t->n_clips)
		return ac_errf(err, AC_EINVAL, "--clip: name at least one clip");
	return 0;
}

/* ---------------------------------------------------------------- the run */

static void next_step(tune *t);
static void finish_all(tune *t);
static void on_deadline(uv_timer_t *h);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double *s = malloc((size_t)n * sizeof *s);
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static void kick(uv_timer_t *h)
{
	next_step(h->data);
}

/* Steps per browser: a warm-up round and `rounds` timed rounds over every candidate on the first
 * clip (interleaved, so drift hits all candidates alike), then the chosen candidate on each other
 * clip (verification only). */
static int timing_steps(const tune *t)
{
	return (t->rounds + 1) * t->n_shapes;
}

static void choose(tune *t, btune *b)
{
	b->chosen = -1;
	for (int i = 0; i < t->n_shapes; i++) {
		cand *c = &b->c[i];
		if (c->failed || !c->n_ms)
			continue;
		if (b->chosen < 0 || median(c->ms, c->n_ms) < median(b->c[b->chosen].ms, b->c[b->chosen].n_ms))
			b->chosen = i;
	}
}

static void send_step(tune *t)
{
	btune *b = &t->bt[t->cur];
	int clip = 0, ci, round = 0;
	if (t->step < timing_steps(t)) {
		round = t->step / t->n_shapes;
		ci = t->step % t->n_shapes;
		if (b->c[ci].failed) {
			t->step++;
			uv_timer_start(&t->kick, kick, 0, 0);
			return;
		}
	} else {
		if (t->step == timing_steps(t))
			choose(t, b);
		clip = t->step - timing_steps(t) + 1;
		ci = b->chosen;
		if (clip >= t->n_clips || ci < 0) {
			t->cur++;
			t->step = 0;
			uv_timer_start(&t->kick, kick, 0, 0);
			return;
		}
	}
	const tune_shape *sh = &t->shapes[ci];
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "type", "logmel");
	cJSON_AddNumberToObject(msg, "tensors", 1);
	cJSON_AddNumberToObject(msg, "frames", t->frames);
	cJSON *wg = cJSON_AddArrayToObject(msg, "workgroup");
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(sh->wx));
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(sh->wy));
	cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
	cJSON_AddNumberToObject(msg, "items", sh->items);
	cJSON_AddNumberToObject(msg, "repeat", clip == 0 && round > 0 ? t->repeat : 1);
	bridge_blob blob = { t->frame[clip], t->frame_len[clip] };
	int rc = app_request(&t->a, b->browser, msg, &blob, 1, &t->pending_id);
	cJSON_Delete(msg);
	if (rc) {
		snprintf(b->skip, sizeof b->skip, "%s is no longer connected", b->kind);
		t->cur++;
		t->step = 0;
		uv_timer_start(&t->kick, kick, 0, 0);
		return;
	}
	t->in_flight = true;
	t->pending_clip = clip;
	t->pending_cand = ci;
	t->pending_round = round;
	fprintf(stderr, "\r\033[K%s: %s %dx%dx1/%d %s", b->kind, clip ? "verifying" : round ? "timing" : "warming up",
		sh->wx, sh->wy, sh->items, t->clip_names[clip]);
	if (!isatty(STDERR_FILENO))
		fputc('\n', stderr);
	uv_timer_start(&t->deadline, on_deadline, (uint64_t)(t->timeout_s * 1000), 0);
}

static void fail_pending(tune *t, const char *why)
{
	btune *b = &t->bt[t->cur];
	if (t->pending_clip == 0) {
		cand *c = &b->c[t->pending_cand];
		c->failed = true;
		ac_strlcpy(c->reason, why, sizeof c->reason);
	} else {
		b->clip_done[t->pending_clip] = true;
		b->clip_ok[t->pending_clip] = false;
		ac_strlcpy(b->clip_reason[t->pending_clip], why, sizeof b->clip_reason[0]);
	}
}

static bool on_response(app *a, int browser, const proto_msg *m, const proto_frame *frames, int n)
{
	tune *t = a->user;
	if (!t->in_flight || t->cur >= t->n_bt || browser != t->bt[t->cur].browser || m->id != t->pending_id)
		return false;
	btune *b = &t->bt[t->cur];
	t->in_flight = false;
	uv_timer_stop(&t->deadline);
	if (m->type == PM_ERROR) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(m->root, "message");
		char why[300];
		snprintf(why, sizeof why, "the page: %s", cJSON_IsString(msg) ? msg->valuestring : "error");
		fail_pending(t, why);
	} else if (m->type != PM_LOGMEL_RESULT || n != 1 || frames[0].dtype != DT_FLOAT32 ||
		   frames[0].data_len != (size_t)80 * t->frames * 4) {
		fail_pending(t, "the page answered with something other than an 80 x frames float32 log-mel");
	} else {
		double err = tune_max_abs_diff(t->ref[t->pending_clip], frames[0].data, (size_t)80 * t->frames);
		bool ok = err <= TUNE_TOLERANCE;
		if (t->pending_clip == 0) {
			cand *c = &b->c[t->pending_cand];
			const cJSON *timing = cJSON_GetObjectItemCaseSensitive(m->root, "timing");
			const cJSON *cm = cJSON_GetObjectItemCaseSensitive(m->root, "compile_ms");
			bool ts = !strcmp(timing->valuestring, "timestamp-query");
			const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m->root, ts ? "gpu_ms" : "wall_ms");
			ac_strlcpy(c->timing, timing->valuestring, sizeof c->timing);
			if (cJSON_IsNumber(cm) && cm->valuedouble > 0)
				c->compile_ms = cm->valuedouble;
			c->max_abs = fmax(c->have_out ? c->max_abs : 0, err);
			c->have_out = true;
			if (t->pending_round > 0) {
				int k = cJSON_GetArraySize(arr);
				c->ms = realloc(c->ms, (size_t)(c->n_ms + k + 1) * sizeof *c->ms);
				for (const cJSON *e = arr->child; e; e = e->next)
					c->ms[c->n_ms++] = e->valuedouble;
			}
			if (!ok) {
				c->failed = true;
				snprintf(c->reason, sizeof c->reason, "output differs from the C reference by %.3g (> %.3g)",
					 err, TUNE_TOLERANCE);
			}
		} else {
			b->clip_done[t->pending_clip] = true;
			b->clip_err[t->pending_clip] = err;
			b->clip_ok[t->pending_clip] = ok;
		}
	}
	t->step++;
	uv_timer_start(&t->kick, kick, 0, 0);
	return true;
}

static void on_deadline(uv_timer_t *h)
{
	tune *t = h->data;
	if (!t->in_flight)
		return;
	t->in_flight = false;
	char why[96];
	snprintf(why, sizeof why, "no answer within %.0f s (--timeout)", t->timeout_s);
	fail_pending(t, why);
	t->step++;
	next_step(t);
}

/* The browsers: their adapter, and a stored choice unless --force. */
static void plan(tune *t)
{
	size_t nb = pool_browser_count(t->a.pool);
	t->bt = calloc(nb + 1, sizeof *t->bt);
	store *st = NULL;
	ac_err err = { 0 };
	if (!t->force && store_open(t->db_path, &st, &err)) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		st = NULL;
	}
	for (size_t i = 0; i < nb; i++) {
		const pool_browser *pb = pool_browser_at(t->a.pool, i);
		btune *b = &t->bt[t->n_bt++];
		b->browser = pb->id;
		b->chosen = -1;
		ac_strlcpy(b->kind, pb->kind, sizeof b->kind);
		ac_strlcpy(b->version, pb->version, sizeof b->version);
		for (int k = 0; k < t->n_shapes; k++)
			b->c[k].sh = t->shapes[k];
		if (pb->state != BS_CONNECTED || !pb->caps.valid) {
			snprintf(b->skip, sizeof b->skip, "%s is %s: %s", pb->kind, browser_state_name(pb->state),
				 pb->reason[0] ? pb->reason : "it did not say hello");
			continue;
		}
		tune_adapter_key(&pb->caps, b->adapter, sizeof b->adapter);
		ac_strlcpy(b->classification, class_name(pb->caps.verdict[PLAT_WEBGPU].status), sizeof b->classification);
		if (pb->caps.verdict[PLAT_WEBGPU].status == CL_UNAVAILABLE) {
			snprintf(b->skip, sizeof b->skip, "WebGPU is unavailable in %s: %.300s", pb->kind,
				 pb->caps.verdict[PLAT_WEBGPU].evidence);
			continue;
		}
		if (st && store_find_tuning(st, b->kind, b->version, b->adapter, "logmel", &b->rows, &b->n_rows, &err) == 0 &&
		    b->n_rows)
			b->stored = true;
	}
	store_close(st);
}

static void next_step(tune *t)
{
	if (t->a.quitting)
		return;
	while (t->cur < t->n_bt && (t->bt[t->cur].skip[0] || t->bt[t->cur].stored)) {
		t->cur++;
		t->step = 0;
	}
	if (t->cur >= t->n_bt) {
		finish_all(t);
		return;
	}
	send_step(t);
}

/* ---------------------------------------------------------------- output */

static void fill_row(const tune *t, const btune *b, int i, store_tuning *r, double now)
{
	const cand *c = &b->c[i];
	memset(r, 0, sizeof *r);
	r->measured_at = now;
	ac_strlcpy(r->browser_kind, b->kind, sizeof r->browser_kind);
	ac_strlcpy(r->browser_version, b->version, sizeof r->browser_version);
	ac_strlcpy(r->adapter, b->adapter, sizeof r->adapter);
	ac_strlcpy(r->classification, b->classification, sizeof r->classification);
	ac_strlcpy(r->kernel, "logmel", sizeof r->kernel);
	snprintf(r->workload, sizeof r->workload, "%s, %.2f s, %d frames, %d x %d runs", t->clip_names[0],
		 (double)t->clips[0].n / AUDIO_RATE, t->frames, t->rounds, t->repeat);
	r->wx = c->sh.wx;
	r->wy = c->sh.wy;
	r->items = c->sh.items;
	r->is_default = i == 0;
	r->chosen = i == b->chosen;
	ac_strlcpy(r->status, c->failed || !c->n_ms ? "failed" : "ok", sizeof r->status);
	ac_strlcpy(r->reason, c->failed ? c->reason : !c->n_ms ? "no timed run completed" : "", sizeof r->reason);
	ac_strlcpy(r->timing, c->timing, sizeof r->timing);
	r->samples = c->n_ms;
	if (c->n_ms) {
		r->have_figures = true;
		r->median_ms = median(c->ms, c->n_ms);
		r->min_ms = r->mean_ms = 0;
		double mn = c->ms[0], sum = 0;
		for (int k = 0; k < c->n_ms; k++) {
			mn = fmin(mn, c->ms[k]);
			sum += c->ms[k];
		}
		r->min_ms = mn;
		r->mean_ms = sum / c->n_ms;
		r->compile_ms = c->compile_ms;
	}
	if (c->have_out) {
		r->have_verify = true;
		r->verify_max_abs = c->max_abs;
		if (i == b->chosen)
			for (int k = 1; k < t->n_clips; k++)
				if (b->clip_done[k] && b->clip_ok[k])
					r->verify_max_abs = fmax(r->verify_max_abs, b->clip_err[k]);
		r->verify_tolerance = TUNE_TOLERANCE;
		r->verify_ok = c->max_abs <= TUNE_TOLERANCE;
	}
}

static void print_rows(const store_tuning *rows, int n)
{
	const store_tuning *def = NULL;
	for (int i = 0; i < n; i++)
		if (rows[i].is_default)
			def = &rows[i];
	printf("  %-10s %5s %10s %10s %8s %11s %11s %10s  %s\n", "workgroup", "items", "median ms", "min ms", "samples",
	       "vs default", "max |err|", "compile ms", "");
	for (int i = 0; i < n; i++) {
		const store_tuning *r = &rows[i];
		char shape[24], vs[24] = "n/a", med[16] = "n/a", mn[16] = "n/a", err[16] = "n/a", cm[16] = "n/a";
		snprintf(shape, sizeof shape, "%dx%dx1", r->wx, r->wy);
		if (r->have_figures) {
			snprintf(med, sizeof med, "%.3f", r->median_ms);
			snprintf(mn, sizeof mn, "%.3f", r->min_ms);
			snprintf(cm, sizeof cm, "%.0f", r->compile_ms);
			if (def && def->have_figures && r->median_ms > 0)
				snprintf(vs, sizeof vs, "%.2fx", def->median_ms / r->median_ms);
		}
		if (r->have_verify)
			snprintf(err, sizeof err, "%.2e", r->verify_max_abs);
		printf("  %-10s %5d %10s %10s %8d %11s %11s %10s  %s%s%s%s\n", shape, r->items, med, mn, r->samples, vs, err,
		       cm, r->is_default ? "default " : "", r->chosen ? "CHOSEN " : "", strcmp(r->status, "ok") ? "failed: " : "",
		       r->reason);
	}
}

/* The line that says what was chosen and what it gains, from the rows (measured or stored). */
static void summary(const store_tuning *rows, int n, char *out, size_t cap)
{
	const store_tuning *def = NULL, *ch = NULL;
	for (int i = 0; i < n; i++) {
		if (rows[i].is_default)
			def = &rows[i];
		if (rows[i].chosen)
			ch = &rows[i];
	}
	if (!ch) {
		snprintf(out, cap, "no candidate ran and verified: nothing chosen");
		return;
	}
	snprintf(out, cap, "chosen %dx%dx1, %d per thread: %.3f ms median (%s)", ch->wx, ch->wy, ch->items, ch->median_ms,
		 ch->timing);
	if (def && def->have_figures && ch != def)
		ac_strlcatf(out, cap, "; the default %dx%dx1/%d took %.3f ms: %.2fx (%+.1f%% time)", def->wx, def->wy,
			    def->items, def->median_ms, def->median_ms / ch->median_ms,
			    (ch->median_ms / def->median_ms - 1) * 100);
	else if (ch == def)
		ac_strlcatf(out, cap, "; it is the default: no gain over it");
}

static cJSON *rows_json(const store_tuning *rows, int n)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		const store_tuning *r = &rows[i];
		cJSON *o = cJSON_CreateObject();
		cJSON *wg = cJSON_AddArrayToObject(o, "workgroup");
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(r->wx));
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(r->wy));
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
		cJSON_AddNumberToObject(o, "items", r->items);
		cJSON_AddBoolToObject(o, "default", r->is_default);
		cJSON_AddBoolToObject(o, "chosen", r->chosen);
		cJSON_AddStringToObject(o, "status", r->status);
		cJSON_AddStringToObject(o, "reason", r->reason);
		cJSON_AddStringToObject(o, "timing", r->timing);
		cJSON_AddNumberToObject(o, "samples", r->samples);
#define FIG(name, v, ok) do { if (ok) cJSON_AddNumberToObject(o, name, v); else cJSON_AddNullToObject(o, name); } while (0)
		FIG("median_ms", r->median_ms, r->have_figures);
		FIG("min_ms", r->min_ms, r->have_figures);
		FIG("mean_ms", r->mean_ms, r->have_figures);
		FIG("compile_ms", r->compile_ms, r->have_figures);
		FIG("verify_max_abs", r->verify_max_abs, r->have_verify);
#undef FIG
		if (r->have_verify)
			cJSON_AddBoolToObject(o, "verify_ok", r->verify_ok);
		else
			cJSON_AddNullToObject(o, "verify_ok");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static void finish_all(tune *t)
{
	ac_err err = { 0 };
	store *st = NULL;
	int64_t run_id = 0;
	double now = (double)ac_now_us() / 1e6;
	fprintf(stderr, "\r\033[K");
	bool any_measured = false;
	for (int i = 0; i < t->n_bt; i++)
		any_measured |= !t->bt[i].skip[0] && !t->bt[i].stored;
	/* the measured rows: kept, stored, printed alike */
	for (int i = 0; i < t->n_bt; i++) {
		btune *b = &t->bt[i];
		if (b->skip[0] || b->stored)
			continue;
		if (b->chosen < 0)
			choose(t, b);
		b->rows = calloc((size_t)t->n_shapes, sizeof *b->rows);
		b->n_rows = t->n_shapes;
		for (int k = 0; k < t->n_shapes; k++)
			fill_row(t, b, k, &b->rows[k], now);
		for (int k = 1; k < t->n_clips; k++) /* a clip that failed verification rules out the choice */
			if (b->chosen >= 0 && (!b->clip_done[k] || !b->clip_ok[k]))
				t->exit_code = 1;
	}
	if (any_measured) {
		if (store_open(t->db_path, &st, &err) == 0 && store_begin_run(st, t->command, &run_id, &err) == 0) {
			for (size_t i = 0; i < pool_browser_count(t->a.pool); i++)
				store_add_browser(st, run_id, pool_browser_at(t->a.pool, i), &err);
			for (int i = 0; i < t->n_bt && !err.code; i++)
				for (int k = 0; !t->bt[i].stored && k < t->bt[i].n_rows && !err.code; k++)
					store_add_tuning(st, run_id, &t->bt[i].rows[k], &err);
			store_end_run(st, run_id, &err);
		}
		store_close(st);
		if (err.code) {
			fprintf(stderr, "accel-top tune: %s\n", err.msg);
			t->exit_code = 1;
		}
	}
	cJSON *root = cJSON_CreateObject();
	if (run_id)
		cJSON_AddNumberToObject(root, "run", (double)run_id);
	else
		cJSON_AddNullToObject(root, "run");
	cJSON_AddStringToObject(root, "command", t->command);
	cJSON_AddNumberToObject(root, "tolerance", TUNE_TOLERANCE);
	cJSON *jb = cJSON_AddArrayToObject(root, "browsers");
	int chosen = 0, tried = 0;
	for (int i = 0; i < t->n_bt; i++) {
		btune *b = &t->bt[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(jb, o);
		cJSON_AddNumberToObject(o, "browser_id", b->browser);
		cJSON_AddStringToObject(o, "browser", b->kind);
		cJSON_AddStringToObject(o, "version", b->version);
		cJSON_AddStringToObject(o, "adapter", b->adapter);
		cJSON_AddStringToObject(o, "classification", b->classification);
		printf("%s %s, WebGPU adapter: %s (%s)\n", b->kind, b->version, b->adapter[0] ? b->adapter : "n/a",
		       b->classification[0] ? b->classification : "n/a");
		if (b->skip[0]) {
			cJSON_AddStringToObject(o, "source", "skipped");
			cJSON_AddStringToObject(o, "reason", b->skip);
			printf("  skipped: %s\n\n", b->skip);
			continue;
		}
		tried++;
		char line[400];
		summary(b->rows, b->n_rows, line, sizeof line);
		cJSON_AddStringToObject(o, "source", b->stored ? "stored" : "measured");
		if (b->stored) {
			char when[32];
			time_t tt = (time_t)b->rows[0].measured_at;
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&tt));
			cJSON_AddNumberToObject(o, "stored_run", (double)b->rows[0].run_id);
			printf("  stored by run %lld at %s UTC, timed on %s (accel-top tune --force measures again)\n",
			       (long long)b->rows[0].run_id, when, b->rows[0].workload);
		} else {
			printf("  timed on %s\n", b->rows[0].workload);
		}
		print_rows(b->rows, b->n_rows);
		printf("  %s\n", line);
		cJSON_AddStringToObject(o, "summary", line);
		cJSON_AddItemToObject(o, "candidates", rows_json(b->rows, b->n_rows));
		const store_tuning *ch = NULL, *def = NULL;
		for (int k = 0; k < b->n_rows; k++) {
			if (b->rows[k].chosen)
				ch = &b->rows[k];
			if (b->rows[k].is_default)
				def = &b->rows[k];
		}
		if (ch) {
			chosen++;
			cJSON *c = cJSON_AddObjectToObject(o, "chosen");
			cJSON *wg = cJSON_AddArrayToObject(c, "workgroup");
			cJSON_AddItemToArray(wg, cJSON_CreateNumber(ch->wx));
			cJSON_AddItemToArray(wg, cJSON_CreateNumber(ch->wy));
			cJSON_AddItemToArray(wg, cJSON_CreateNumber(1));
			cJSON_AddNumberToObject(c, "items", ch->items);
			cJSON_AddNumberToObject(c, "median_ms", ch->median_ms);
			cJSON_AddStringToObject(c, "timing", ch->timing);
			if (def && def->have_figures)
				cJSON_AddNumberToObject(o, "speedup_vs_default", def->median_ms / ch->median_ms);
			else
				cJSON_AddNullToObject(o, "speedup_vs_default");
		} else {
			cJSON_AddNullToObject(o, "chosen");
			t->exit_code = 1;
		}
		if (!b->stored) {
			cJSON *clips = cJSON_AddArrayToObject(o, "clips");
			printf("  verified against the C reference (pool/audio.c), tolerance %.3g:", TUNE_TOLERANCE);
			for (int k = 0; k < t->n_clips; k++) {
				cJSON *c = cJSON_CreateObject();
				cJSON_AddItemToArray(clips, c);
				cJSON_AddStringToObject(c, "clip", t->clip_names[k]);
				bool done = k == 0 ? ch && ch->have_verify : b->clip_done[k];
				double e = k == 0 ? (ch ? b->c[b->chosen].max_abs : 0) : b->clip_err[k];
				bool ok = k == 0 ? done && e <= TUNE_TOLERANCE : b->clip_ok[k];
				if (done && (k == 0 || !b->clip_reason[k][0]))
					cJSON_AddNumberToObject(c, "max_abs", e);
				else
					cJSON_AddNullToObject(c, "max_abs");
				cJSON_AddBoolToObject(c, "ok", ok);
				if (k && b->clip_reason[k][0])
					cJSON_AddStringToObject(c, "reason", b->clip_reason[k]);
				if (done && !b->clip_reason[k][0])
					printf(" %s %.2e%s", t->clip_names[k], e, ok ? "" : " (FAILED)");
				else
					printf(" %s n/a (%s)", t->clip_names[k], k && b->clip_reason[k][0] ? b->clip_reason[k] : "not run");
			}
			printf("\n");
		}
		printf("\n");
	}
	if (t->json_path) {
		char *s = cJSON_Print(root);
		FILE *f = fopen(t->json_path, "w");
		if (f) {
			fputs(s, f);
			fputc('\n', f);
			fclose(f);
		} else {
			fprintf(stderr, "accel-top tune: cannot write %s\n", t->json_path);
			t->exit_code = 1;
		}
		free(s);
	}
	cJSON_Delete(root);
	fprintf(stderr, "accel-top tune: %d of %d browsers with WebGPU have a choice%s%s\n", chosen, tried,
		run_id ? "; stored in " : "", run_id ? t->db_path : "");
	if (!tried && !t->exit_code)
		t->exit_code = 3;
	fflush(stdout);
	app_quit(&t->a, t->exit_code);
}

/* ---------------------------------------------------------------- main */

static void on_event(void *ctx, const ac_event *ev)
{
	(void)ev;
	tune *t = ((app *)ctx)->user;
	if (!t->started && !t->a.quitting && pool_settled(t->a.pool) && t->a.ln) {
		t->started = true;
		uv_timer_stop(&t->a.settle);
		plan(t);
		uv_timer_start(&t->kick, kick, 0, 0);
	}
}

static void start_when_settled(uv_timer_t *h)
{
	tune *t = h->data;
	if (!t->started) { /* --settle passed: go with whoever said hello */
		t->started = true;
		plan(t);
		next_step(t);
	}
}

int cmd_tune(int argc, char **argv)
{
	static tune t;
	ac_err err = { 0 };
	options_defaults(&t.o);
	t.o.batch = true;
	t.o.port = 0;
	if (parse(&t, argc, argv, &err)) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		return 2;
	}
	for (int i = 0; i < argc; i++)
		ac_strlcatf(t.command, sizeof t.command, "%s%s", i ? " " : "accel-top ", argv[i]);
	t.o.n_launch = 0;
	for (int i = 0; family_all[i]; i++) {
		char path[4096];
		ac_err miss;
		if (!in_list(t.browsers_arg, family_all[i]->name))
			continue;
		if (family_locate(family_all[i], path, sizeof path, &miss)) {
			if (strcmp(t.browsers_arg, "all")) {
				fprintf(stderr, "accel-top tune: %s\n", miss.msg);
				return 1;
			}
			continue;
		}
		t.o.launch[t.o.n_launch].family = family_all[i]->name;
		t.o.launch[t.o.n_launch++].count = 1;
	}
	if (!t.o.n_launch) {
		fprintf(stderr, "accel-top tune: no supported browser is installed: apt-get install chromium firefox-esr\n");
		return 1;
	}
	t.o.browsers_given = true;
	uv_loop_t *loop = uv_default_loop();
	t.a.user = &t;
	t.a.on_response = on_response;
	int rc = app_start(&t.a, loop, &t.o, &err);
	bool bad_arg = false;
	if (!rc)
		bad_arg = (rc = load_clips(&t, &err)) != 0;
	if (!rc) {
		/* the database first: a file it cannot use is refused before any browser starts */
		store *st = NULL;
		rc = store_open(t.db_path, &st, &err);
		store_close(st);
	}
	if (!rc) {
		pool_add_listener(t.a.pool, on_event, &t.a);
		uv_timer_init(loop, &t.deadline);
		uv_timer_init(loop, &t.kick);
		t.deadline.data = t.kick.data = &t;
		rc = app_launch_browsers(&t.a, &err);
	}
	if (rc) {
		fprintf(stderr, "accel-top tune: %s\n", err.msg);
		t.exit_code = bad_arg ? 2 : 1;
		app_quit(&t.a, t.exit_code);
	} else {
		uv_timer_start(&t.a.settle, start_when_settled, (uint64_t)(t.o.settle_s * 1000), 0);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (t.deadline.loop) {
		uv_close((uv_handle_t *)&t.deadline, NULL);
		uv_close((uv_handle_t *)&t.kick, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	app_free(&t.a);
	for (int i = 0; i < t.n_bt; i++) {
		for (int k = 0; k < MAX_SHAPES; k++)
			free(t.bt[i].c[k].ms);
		free(t.bt[i].rows);
	}
	free(t.bt);
	for (int i = 0; i < t.n_clips; i++) {
		audio_free(&t.clips[i]);
		free(t.ref[i]);
		free(t.frame[i]);
	}
	uv_loop_close(loop);
	return t.a.exit_code;
}
