/* accel-top serve --stdio: the parallel API for scripts.
 *
 * Another program writes one JSON request per line on our standard input and reads one JSON line
 * per answer on our standard output, in the order the answers come (not the order asked): many
 * models, browsers and requests at once. Every request is answered exactly once, with a result
 * and where it ran, or with an error that says why (also when accel-top is stopped before it ran).
 * The format is in accel-top(1), SERVE. Diagnostics go to standard error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../app.h"
#include "commands.h"
#include "../snapshot.h"
#include "../../pool/index.h"
#include "../../pool/inputs.h"
#include "serve.h"

#define MAX_ROWS 64

typedef struct {
	int64_t request;
	cJSON *id;            /* the client's id, echoed */
	char outputs[8];      /* none, summary, all */
	int row;
	int64_t t0_us;
	/* from EV_REQUEST_DONE, before the outputs come */
	double total_ms, compute_ms;
} sreq;

typedef struct {
	char key[160];        /* model|precision|platform|browser */
	int row;
} srow;

typedef struct {
	app a;
	options o;
	uv_pipe_t in_pipe;
	uv_tty_t in_tty;
	uv_stream_t *in;
	uv_fs_t in_fs;
	char fs_buf[65536];
	int64_t fs_off;
	char *line;
	size_t len, cap;
	bool eof, ready_sent, overlong;
	bool stdio;           /* --stdio */
	sreq *reqs;
	size_t n_reqs, cap_reqs;
	ac_index req_ix;      /* request -> position in reqs, while req_ix_ok (else the scan) */
	bool req_ix_ok;
	srow rows[MAX_ROWS];
	int n_rows;
	uint64_t answered, ok, failed, asked;
} serve;

/* ---------------------------------------------------------------- output */

static void put_line(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(s);
	}
}

static void add_id(cJSON *o, const cJSON *id)
{
	cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
}

static void answer_error(serve *v, const cJSON *id, int64_t request, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	add_id(o, id);
	cJSON_AddBoolToObject(o, "ok", false);
	if (request)
		cJSON_AddNumberToObject(o, "request", (double)request);
	else
		cJSON_AddNullToObject(o, "request");
	cJSON_AddStringToObject(o, "error", why);
	put_line(o);
	v->answered++;
	v->failed++;
}

/* Requests are found by id through an index (pool/index.h): thousands can be open at once
 * (bench/load.py). Out of memory, it is given up and the table is scanned. */
static sreq *req_find(serve *v, int64_t request)
{
	if (v->req_ix_ok) {
		long i = ix_get(&v->req_ix, (uint64_t)request);
		return i < 0 ? NULL : &v->reqs[i];
	}
	for (size_t i = 0; i < v->n_reqs; i++)
		if (v->reqs[i].request == request)
			return &v->reqs[i];
	return NULL;
}

/* r->request becomes request (-1 while it is being submitted: one at a time) */
static void req_set(serve *v, sreq *r, int64_t request)
{
	if (v->req_ix_ok && r->request)
		ix_del(&v->req_ix, (uint64_t)r->request);
	r->request = request;
	if (v->req_ix_ok && ix_put(&v->req_ix, (uint64_t)request, (size_t)(r - v->reqs)))
		v->req_ix_ok = false;
}

static void req_drop(serve *v, sreq *r)
{
	size_t i = (size_t)(r - v->reqs);
	cJSON_Delete(r->id);
	if (v->req_ix_ok)
		ix_del(&v->req_ix, (uint64_t)r->request);
	*r = v->reqs[--v->n_reqs];
	if (v->req_ix_ok && i < v->n_reqs && ix_put(&v->req_ix, (uint64_t)r->request, i))
		v->req_ix_ok = false;
}

static void maybe_finish(serve *v)
{
	if (!v->eof || v->n_reqs || v->a.quitting)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", "summary");
	cJSON_AddNumberToObject(o, "asked", (double)v->asked);
	cJSON_AddNumberToObject(o, "answered", (double)v->answered);
	cJSON_AddNumberToObject(o, "ok", (double)v->ok);
	cJSON_AddNumberToObject(o, "failed", (double)v->failed);
	cJSON_AddItemToObject(o, "pool", snapshot_requests_json(v->a.pool));
	put_line(o);
	app_quit(&v->a, 0);
}

/* sched's on_done: the result of one of ours, after EV_REQUEST_DONE. */
static void on_done(void *ctx, int row, int64_t request, int browser, int session, const proto_frame *frames, int n)
{
	serve *v = ctx;
	(void)row;
	sreq *r = req_find(v, request);
	if (!r)
		return;
	cJSON *o = cJSON_CreateObject();
	add_id(o, r->id);
	cJSON_AddBoolToObject(o, "ok", true);
	cJSON_AddNumberToObject(o, "request", (double)request);
	const pool_model *m = pool_model_find(v->a.pool, r->row);
	cJSON_AddStringToObject(o, "model", m ? m->name : "?");
	cJSON_AddItemToObject(o, "ran", serve_provenance(v->a.pool, browser, session));
	/* a sharded row: "ran" is the last shard's browser; the earlier shards ran on these kinds */
	if (m && strchr(m->pin, ','))
		cJSON_AddStringToObject(o, "sharded_on", m->pin);
	cJSON_AddNumberToObject(o, "latency_ms", (double)(ac_now_us() - r->t0_us) / 1000.0);
	cJSON_AddNumberToObject(o, "roundtrip_ms", r->total_ms);
	cJSON_AddNumberToObject(o, "compute_ms", r->compute_ms);
	if (strcmp(r->outputs, "none")) {
		cJSON *outs = cJSON_AddObjectToObject(o, "outputs");
		for (int i = 0; i < n; i++)
			cJSON_AddItemToObject(outs, frames[i].name[0] ? frames[i].name : "output", serve_tensor_json(&frames[i], r->outputs));
	}
	put_line(o);
	v->answered++;
	v->ok++;
	req_drop(v, r);
	maybe_finish(v);
}

static void on_pool_event(void *ctx, const ac_event *ev)
{
	serve *v = ctx;
	if (!v->ready_sent && pool_settled(v->a.pool)) {
		v->ready_sent = true;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "ready");
		cJSON_AddStringToObject(o, "url", pool_bridge_url(v->a.pool));
		cJSON *bs = cJSON_AddArrayToObject(o, "browsers");
		for (size_t i = 0; i < pool_browser_count(v->a.pool); i++) {
			const pool_browser *b = pool_browser_at(v->a.pool, i);
			cJSON *x = cJSON_CreateObject();
			cJSON_AddNumberToObject(x, "id", b->id);
			cJSON_AddStringToObject(x, "kind", b->kind);
			cJSON_AddStringToObject(x, "state", browser_state_name(b->state));
			if (b->pid)
				cJSON_AddNumberToObject(x, "pid", b->pid);
			for (int k = 0; k < PLAT__COUNT; k++)
				cJSON_AddStringToObject(x, plat_name((ac_platform)k),
							b->caps.valid ? class_name(b->caps.verdict[k].status) : "n/a");
			cJSON_AddItemToArray(bs, x);
		}
		put_line(o);
	}
	if (ev && ev->kind == EV_REQUEST_DONE) {
		sreq *r = req_find(v, ev->request);
		if (r) {
			r->total_ms = ev->x[0];
			r->compute_ms = ev->x[1];
		}
	} else if (ev && ev->kind == EV_REQUEST_FAILED) {
		sreq *r = req_find(v, ev->request);
		if (r) {
			answer_error(v, r->id, r->request, ev->text ? ev->text : "failed");
			req_drop(v, r);
			maybe_finish(v);
		}
	}
}

/* ---------------------------------------------------------------- requests */

static int row_for(serve *v, const launch_form *f, int *row, ac_err *err)
{
	char key[160];
	snprintf(key, sizeof key, "%s|%s|%s|%s", f->model, f->precision, f->platform, f->browser);
	for (int i = 0; i < v->n_rows; i++) {
		if (strcmp(v->rows[i].key, key))
			continue;
		const pool_model *m = pool_model_find(v->a.pool, v->rows[i].row);
		if (m && m->running) {
			*row = v->rows[i].row;
			return 0;
		}
		v->rows[i] = v->rows[--v->n_rows]; /* stopped (no browser could run it): try afresh */
		break;
	}
	if (v->n_rows == MAX_ROWS)
		return ac_errf(err, AC_EINVAL, "at most %d model variants at once", MAX_ROWS);
	launch_form g = *f;
	g.on_demand = true;
	g.concurrency = 0;
	int rc = app_launch_model(&v->a, &g, row, err);
	if (rc)
		return rc;
	ac_strlcpy(v->rows[v->n_rows].key, key, sizeof v->rows[v->n_rows].key);
	v->rows[v->n_rows++].row = *row;
	return 0;
}

static const char *str_field(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* {"cmd": "snapshot"}: the pool as -b --json prints it; {"cmd": "reconnect", "browser": N}: what
 * the r key does. Answered with {"event": CMD, ...}. */
static void handle_cmd(serve *v, const char *cmd, const cJSON *j, const cJSON *id)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", cmd);
	add_id(o, id);
	if (!strcmp(cmd, "snapshot")) {
		cJSON_AddItemToObject(o, "pool", snapshot_json(v->a.pool, ac_now_us()));
	} else if (!strcmp(cmd, "reconnect")) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "browser");
		ac_err err = { 0 };
		int rc = cJSON_IsNumber(b) ? app_reconnect_browser(&v->a, (int)b->valuedouble, &err)
					   : ac_errf(&err, AC_EINVAL, "reconnect: name the browser (\"browser\": ID)");
		cJSON_AddBoolToObject(o, "ok", rc == 0);
		if (rc)
			cJSON_AddStringToObject(o, "error", err.msg);
	} else {
		cJSON_AddBoolToObject(o, "ok", false);
		cJSON_AddStringToObject(o, "error", "unknown cmd (known: snapshot, reconnect)");
	}
	put_line(o);
}

/* "inputs" of a request, when given: every input of the row's model, into tin[0..*n). */
static int read_inputs(serve *v, const cJSON *ins, int row, ac_tensor *tin, int *n, ac_err *err)
{
	if (!ins)
		return 0;
	const cat_model *cm = sched_row_model(v->a.sch, row);
	if (!cJSON_IsObject(ins) || !cm)
		return ac_errf(err, AC_EINVAL, "\"inputs\" must be an object: {\"NAME\": [numbers] or {\"dims\": [...], "
			       "\"data\": [...]}}");
	for (int i = 0; i < cm->n_inputs; i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(ins, cm->inputs[i].name);
		if (!x)
			return ac_errf(err, AC_EINVAL, "inputs: %s is missing (the model takes %d inputs)", cm->inputs[i].name,
				       cm->n_inputs);
		int rc = serve_input_from_json(&cm->inputs[i], x, &tin[i], err);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

/* A request's model, precision, platform and browser to its row; 0, or an answer was given. */
static int request_row(serve *v, const cJSON *j, const cJSON *id, const char *outputs, int *row)
{
	ac_err err = { 0 };
	launch_form f;
	memset(&f, 0, sizeof f);
	const char *model = str_field(j, "model", NULL);
	if (!model) {
		answer_error(v, id, 0, "the request names no model (\"model\": NAME)");
		return -1;
	}
	if (strcmp(outputs, "none") && strcmp(outputs, "summary") && strcmp(outputs, "all")) {
		answer_error(v, id, 0, "\"outputs\" must be none, summary or all");
		return -1;
	}
	ac_strlcpy(f.model, model, sizeof f.model);
	ac_strlcpy(f.precision, str_field(j, "precision", "fp32"), sizeof f.precision);
	ac_strlcpy(f.platform, str_field(j, "platform", "wasm"), sizeof f.platform);
	ac_strlcpy(f.browser, str_field(j, "browser", "auto"), sizeof f.browser); /* KIND,KIND: shards */
	if (row_for(v, &f, row, &err)) {
		answer_error(v, id, 0, err.msg);
		return -1;
	}
	return 0;
}

/* Its own inputs ("inputs" as numbers, or an "audio" WAV, a "text", an "image" file), then the
 * scheduler; the answer comes later, or now as an error. */
static void submit_request(serve *v, const cJSON *j, const cJSON *id, const char *outputs, int row)
{
	ac_err err = { 0 };
	ac_tensor tin[CAT_MAX_IO];
	int n = 0;
	memset(tin, 0, sizeof tin);
	const char *rtext = str_field(j, "text", NULL), *rimage = str_field(j, "image", NULL);
	const char *raudio = str_field(j, "audio", NULL);
	unsigned char *img = NULL;
	size_t img_len = 0;
	const cJSON *ins = cJSON_GetObjectItemCaseSensitive(j, "inputs");
	if ((ins && (rtext || rimage || raudio)) || (raudio && (rtext || rimage)))
		ac_errf(&err, AC_EINVAL, "a request brings \"inputs\", or an \"audio\" file, or \"text\" and/or an \"image\"");
	if (err.code || read_inputs(v, ins, row, tin, &n, &err) ||
	    serve_own_inputs(sched_row_model(v->a.sch, row), v->o.seed, raudio, rimage, tin, &n, &img, &img_len, &err) ||
	    ac_reserve((void **)&v->reqs, &v->cap_reqs, v->n_reqs + 1, sizeof *v->reqs)) {
		inputs_free(tin, CAT_MAX_IO);
		free(img);
		answer_error(v, id, 0, err.code ? err.msg : "out of memory");
		return;
	}
	/* entered before submitting: the answer can come from inside sched_submit */
	sreq *r = &v->reqs[v->n_reqs++];
	memset(r, 0, sizeof *r);
	r->id = id ? cJSON_Duplicate(id, 1) : NULL;
	ac_strlcpy(r->outputs, outputs, sizeof r->outputs);
	r->row = row;
	r->t0_us = ac_now_us();
	req_set(v, r, -1);
	int64_t req = 0;
	bool want = strcmp(outputs, "none") != 0;
	int rc = rtext || img ? sched_submit_prepared(v->a.sch, row, rtext, img, img_len, want, &req, &err)
			      : sched_submit(v->a.sch, row, n ? tin : NULL, n, want, &req, &err);
	inputs_free(tin, CAT_MAX_IO);
	free(img);
	r = req_find(v, -1);
	if (rc) {
		if (r)
			req_drop(v, r);
		answer_error(v, id, 0, err.msg);
	} else if (r) {
		req_set(v, r, req);
	}
}

static void handle_line(serve *v, const char *text)
{
	cJSON *j = cJSON_Parse(text);
	v->asked++;
	if (!cJSON_IsObject(j)) {
		answer_error(v, NULL, 0, "not a JSON object: each line is one request, e.g. {\"id\": 1, \"model\": \"bert-tiny\"}");
		cJSON_Delete(j);
		return;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	const char *cmd = str_field(j, "cmd", NULL);
	const char *outputs = str_field(j, "outputs", "summary");
	int row;
	if (cmd) { /* not a request: a question or an operator action */
		v->asked--;
		handle_cmd(v, cmd, j, id);
	} else if (request_row(v, j, id, outputs, &row) == 0) {
		submit_request(v, j, id, outputs, row);
	}
	cJSON_Delete(j);
}

/* ---------------------------------------------------------------- standard input */

static void take_bytes(serve *v, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (v->overlong)
				continue;
			if (ac_reserve((void **)&v->line, &v->cap, v->len + 2, 1) || v->len >= v->o.max_message) {
				v->overlong = true;
				continue;
			}
			v->line[v->len++] = buf[i];
			continue;
		}
		if (v->overlong) {
			v->asked++;
			char why[160];
			snprintf(why, sizeof why, "request line longer than --max-message (%zu bytes)", v->o.max_message);
			answer_error(v, NULL, 0, why);
		} else if (v->len) {
			v->line[v->len] = '\0';
			handle_line(v, v->line);
		}
		v->len = 0;
		v->overlong = false;
	}
}

static void on_eof(serve *v)
{
	if (v->len) { /* a last line without its newline */
		take_bytes(v, "\n", 1);
	}
	v->eof = true;
	maybe_finish(v);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	serve *v = h->data;
	(void)suggested;
	buf->base = v->fs_buf;
	buf->len = sizeof v->fs_buf;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	serve *v = s->data;
	if (n > 0)
		take_bytes(v, buf->base, (size_t)n);
	else if (n < 0) {
		uv_read_stop(s);
		uv_close((uv_handle_t *)s, NULL);
		v->in = NULL;
		on_eof(v);
	}
}

static void fs_read_cb(uv_fs_t *req)
{
	serve *v = req->data;
	ssize_t n = req->result;
	uv_fs_req_cleanup(req);
	if (n <= 0 || v->a.quitting) {
		on_eof(v);
		return;
	}
	take_bytes(v, v->fs_buf, (size_t)n);
	v->fs_off += n;
	uv_buf_t b = uv_buf_init(v->fs_buf, sizeof v->fs_buf);
	uv_fs_read(v->a.loop, &v->in_fs, 0, &b, 1, v->fs_off, fs_read_cb);
}

static int open_stdin(serve *v, ac_err *err)
{
	uv_handle_type t = uv_guess_handle(0);
	int rc = 0;
	if (t == UV_NAMED_PIPE || t == UV_TCP) {
		if (!(rc = uv_pipe_init(v->a.loop, &v->in_pipe, 0)) && !(rc = uv_pipe_open(&v->in_pipe, 0)))
			v->in = (uv_stream_t *)&v->in_pipe;
	} else if (t == UV_TTY) {
		if (!(rc = uv_tty_init(v->a.loop, &v->in_tty, 0, 1)))
			v->in = (uv_stream_t *)&v->in_tty;
	} else if (t == UV_FILE) {
		v->in_fs.data = v;
		uv_buf_t b = uv_buf_init(v->fs_buf, sizeof v->fs_buf);
		rc = uv_fs_read(v->a.loop, &v->in_fs, 0, &b, 1, 0, fs_read_cb);
		return rc ? ac_errf(err, AC_EIO, "cannot read standard input: %s", uv_strerror(rc)) : 0;
	} else {
		return ac_errf(err, AC_EINVAL, "standard input is not a pipe, a terminal or a file");
	}
	if (rc)
		return ac_errf(err, AC_EIO, "cannot read standard input: %s", uv_strerror(rc));
	v->in->data = v;
	if ((rc = uv_read_start(v->in, alloc_cb, read_cb)))
		return ac_errf(err, AC_EIO, "cannot read standard input: %s", uv_strerror(rc));
	return 0;
}

/* Before the loop ends: whatever is still open is answered, once. */
static void on_stopped(app *a)
{
	serve *v = a->user;
	while (v->n_reqs) {
		sreq *r = &v->reqs[0];
		answer_error(v, r->id, r->request > 0 ? r->request : 0, "accel-top stopped before the request ended");
		req_drop(v, r);
	}
	if (v->in && !uv_is_closing((uv_handle_t *)v->in)) {
		uv_read_stop(v->in);
		uv_close((uv_handle_t *)v->in, NULL);
		v->in = NULL;
	}
}

static int own_opt(opt_ctx *ctx, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d, (void)arg, (void)err;
	((serve *)ctx->cmd)->stdio = true;
	return 0;
}

static const opt_desc s_stdio = { "stdio", 300, NULL, own_opt, 0 };

/* serve's own; it takes accel-top's options too (options_main), and says so in its help */
const opt_desc *const serve_options[] = { &s_stdio, NULL };

void serve_usage(FILE *f)
{
	fputs("usage: accel-top serve --stdio [accel-top options]\n"
	      "One JSON request per line on standard input, one JSON answer per line on standard output.\n"
	      "See accel-top(1), SERVE.\n", f);
}

/* accel-top's options plus --stdio; the messages point at accel-top --help, which lists them. */
static int parse(const command *self, serve *v, int argc, char **argv, ac_err *err)
{
	const opt_desc *const *lists[] = { options_main, self->options, NULL };
	opt_ctx c = { .prog = "accel-top", .o = &v->o, .cmd = v };
	int rc = opt_parse(lists, &c, argc, argv, err);
	if (!rc && !(rc = options_check(&v->o, argc, argv, err))) {
		v->o.argc = argc + 1; /* the recording's header: "accel-top serve ..." (argv[-1] is the program) */
		v->o.argv = argv - 1;
	}
	return rc;
}

int serve_run(const command *self, int argc, char **argv)
{
	static serve v; /* the loop's handles point into it */
	ac_err err = { 0 };
	options_defaults(&v.o);
	if (parse(self, &v, argc, argv, &err)) {
		fprintf(stderr, "accel-top serve: %s\n", err.msg);
		return 2;
	}
	if (v.o.help) {
		serve_usage(stdout);
		return 0;
	}
	bool stdio = v.stdio;
	if (!stdio) {
		fprintf(stderr, "accel-top serve: say how to serve: --stdio (JSON lines on standard input and output)\n");
		return 2;
	}
	if (v.o.batch || v.o.json || v.o.replay || v.o.n_runs) {
		fprintf(stderr, "accel-top serve: -b, --json, --replay and --run do not apply to serve\n");
		return 2;
	}
	uv_loop_t *loop = uv_default_loop();
	v.a.user = &v;
	v.req_ix_ok = true;
	v.a.on_done = on_done;
	v.a.on_stopped = on_stopped;
	int rc = app_start(&v.a, loop, &v.o, &err);
	if (!rc) {
		pool_add_listener(v.a.pool, on_pool_event, &v);
		fprintf(stderr, "accel-top: serving %s (open it in a browser to attach it)\n", bridge_page_url(v.a.br));
		if (bridge_metrics_url(v.a.br))
			fprintf(stderr, "accel-top: metrics at %s (no token)\n", bridge_metrics_url(v.a.br));
		rc = app_launch_browsers(&v.a, &err);
	}
	if (!rc)
		rc = open_stdin(&v, &err);
	if (rc) {
		fprintf(stderr, "accel-top serve: %s\n", err.msg);
		app_quit(&v.a, 1);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	app_free(&v.a);
	uv_loop_close(loop);
	free(v.line);
	free(v.reqs);
	ix_free(&v.req_ix);
	return v.a.exit_code;
}
