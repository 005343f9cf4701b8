/* accel-top: command line, then the interactive screen or the batch printer. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../app.h"
#include "../replay.h"
#include "../screen.h"
#include "commands.h"
#include "../snapshot.h"

/* The same printer live and in replay: the pool as it is at now. */
static void print_pool(const options *o, const pool *p, int64_t now)
{
	if (o->json) {
		cJSON *j = snapshot_json(p, now);
		char *s = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		if (s) {
			fputs(s, stdout);
			fputc('\n', stdout);
			free(s);
		}
	} else {
		snapshot_text(stdout, p, now);
	}
	fflush(stdout);
}

static void print_snapshot(app *a)
{
	print_pool(a->opt, a->pool, app_now_us(a));
	if (a->opt->iterations && ++*(long *)a->user >= a->opt->iterations)
		app_quit(a, 0);
}

static void on_tick(uv_timer_t *t)
{
	print_snapshot(t->data);
}

static void start_printing(app *a)
{
	if (a->quitting || uv_is_active((uv_handle_t *)&a->tick))
		return;
	uv_timer_stop(&a->settle);
	uint64_t ms = (uint64_t)(a->opt->delay_s * 1000);
	uv_timer_start(&a->tick, on_tick, 0, ms);
}

static void on_settle_timeout(uv_timer_t *t)
{
	start_printing(t->data);
}

/* Batch mode waits for launched browsers to say hello (or fail) before the first snapshot, so the
 * first line shows what the browsers are rather than that they are starting. */
static void on_pool_event(void *ctx, const ac_event *ev)
{
	app *a = ctx;
	/* The snapshots show state, not the event log: an error (a refused WebSocket, a failed launch)
	 * goes to stderr as it happens, so that -b and --json runs show it too. */
	if (ev && ev->kind == EV_ERROR)
		fprintf(stderr, "accel-top: error: %s\n", ev->text ? ev->text : "");
	if (!a->quitting && !uv_is_active((uv_handle_t *)&a->tick) && pool_settled(a->pool))
		start_printing(a);
}

/* accel-top --replay FILE -b: the snapshots at begin, begin + d, ... up to end, without waiting. */
static int batch_replay(const options *o)
{
	ac_err err = { 0 };
	pool *p = NULL;
	replay *r = NULL;
	if (pool_new(&p)) {
		fprintf(stderr, "accel-top: out of memory\n");
		return 1;
	}
	int rc = replay_open(o->replay, p, &r, &err);
	if (rc) {
		fprintf(stderr, "accel-top: %s\n", err.msg);
		pool_free(p);
		return 1;
	}
	const char *trunc = replay_truncation(r);
	if (trunc && replay_count(r)) {
		char last[40];
		replay_format_time(last, sizeof last, replay_end_us(r));
		fprintf(stderr, "accel-top: %s is truncated (%s): replaying its %zu complete events, up to %s\n",
			o->replay, trunc, replay_count(r), last);
	} else if (trunc) {
		fprintf(stderr, "accel-top: %s is truncated (%s): no complete event, nothing to replay\n", o->replay, trunc);
	}
	int code = 0;
	int64_t begin = replay_start_us(r), end = replay_end_us(r);
	const char *bad = NULL;
	if (o->begin && replay_parse_time(r, o->begin, &begin, &err))
		bad = "--begin";
	else if (o->end && replay_parse_time(r, o->end, &end, &err))
		bad = "--end";
	if (bad) {
		fprintf(stderr, "accel-top: %s: %s\n", bad, err.msg);
		code = 2;
	} else if (!replay_count(r)) {
		if (!trunc)
			fprintf(stderr, "accel-top: %s holds no event: nothing to print\n", o->replay);
	} else if (begin > end) {
		char b[40], e[40];
		replay_format_time(b, sizeof b, begin);
		replay_format_time(e, sizeof e, end);
		fprintf(stderr, "accel-top: %s: nothing to print from %s to %s (the recording runs from ", o->replay, b, e);
		replay_format_time(b, sizeof b, replay_start_us(r));
		replay_format_time(e, sizeof e, replay_end_us(r));
		fprintf(stderr, "%s to %s)\n", b, e);
	} else {
		int64_t step = (int64_t)(o->delay_s * 1e6 + 0.5);
		long printed = 0;
		for (int64_t t = begin; t <= end && (!o->iterations || printed < o->iterations); t += step, printed++) {
			if ((rc = replay_seek(r, t, &err))) {
				fprintf(stderr, "accel-top: %s: %s\n", o->replay, err.msg);
				code = 1;
				break;
			}
			print_pool(o, p, t);
		}
	}
	replay_free(r);
	pool_free(p);
	return code;
}

int main(int argc, char **argv)
{
	options o;
	ac_err err = { 0 };
	signal(SIGPIPE, SIG_IGN);
	const command *cmd = argc > 1 ? command_find(argv[1]) : NULL;
	if (cmd)
		return cmd->run(cmd, argc - 1, argv + 1);
	options_defaults(&o);
	if (options_parse(&o, argc, argv, &err)) {
		fprintf(stderr, "accel-top: %s\n", err.msg);
		return 2;
	}
	if (o.help) {
		options_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("accel-top %s\n", AC_VERSION);
		return 0;
	}
	if (o.replay && o.batch)
		return batch_replay(&o);
	if (!o.batch) {
		if (!isatty(STDOUT_FILENO)) {
			fprintf(stderr, "accel-top: standard output is not a terminal: use -b for batch output\n");
			return 2;
		}
		app sa = { 0 };
		return screen_run(&sa, uv_default_loop(), &o);
	}

	uv_loop_t *loop = uv_default_loop();
	app a = { 0 };
	long printed = 0;
	a.user = &printed;
	int rc = app_start(&a, loop, &o, &err);
	if (!rc) {
		pool_add_listener(a.pool, on_pool_event, &a);
		fprintf(stderr, "accel-top: serving %s (open it in a browser to attach it)\n", bridge_page_url(a.br));
		if (bridge_metrics_url(a.br))
			fprintf(stderr, "accel-top: metrics at %s (no token)\n", bridge_metrics_url(a.br));
		for (int i = 0; i < 2 && a.tls_on; i++)
			fprintf(stderr, "accel-top: %s\n", a.tls_line[i]);
		if (a.insecure[0])
			fprintf(stderr, "accel-top: warning: %s\n", a.insecure);
		rc = app_launch_browsers(&a, &err);
	}
	if (rc) {
		fprintf(stderr, "accel-top: %s\n", err.msg);
		app_quit(&a, 1);
	} else {
		uv_timer_start(&a.settle, on_settle_timeout, (uint64_t)(o.settle_s * 1000), 0);
		on_pool_event(&a, NULL);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	app_free(&a);
	uv_loop_close(loop);
	return a.exit_code;
}
