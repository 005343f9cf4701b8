/* FAKE browsers for the scheduler's unit tests (tests/unit/test-sched.c). Test code, not product code.
 *
 * The fake stands where the bridge and the pages stand. The scheduler's sched_io ends here: emit
 * applies events to a real pool, and every command the scheduler sends a browser (load, run,
 * unload) is recorded as a fake_msg. A test answers a recorded command with fake_answer_*(), which
 * writes the reply browser-js/handlers.js would send (accel.v1, man/accel-top-protocol.7), decodes it
 * with the real codec (bridge/proto.c) and gives it to sched_on_response() as the bridge does.
 *
 * Everything that knows the shape of sched_io (and the scheduler's tick timer) is inside
 * fake-sched-io.c, so that a change of that interface changes that one file, not the tests. */
#ifndef AC_FAKE_SCHED_IO_H
#define AC_FAKE_SCHED_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../../pool/catalog.h"
#include "../../pool/pool.h"
#include "../../pool/sched.h"

typedef enum { FM_LOAD, FM_RUN, FM_UNLOAD } fake_kind;

/* One command as a browser received it. Pointers to it stay valid until fake_free(). */
typedef struct {
	int browser;
	uint32_t id;
	fake_kind kind;
	bool answered;
	int session;
	char model[64], precision[8], platform[8], url[256];
	bool want_outputs;        /* run: "outputs": "all" */
	int n_frames;             /* run: input frames that came with it */
	char frame_names[CAT_MAX_IO][64];
	unsigned char *frames[CAT_MAX_IO]; /* run: each frame as sent (header + data) */
	size_t lens[CAT_MAX_IO];
} fake_msg;

typedef struct fake_io fake_io;

/* A scheduler over p and cat with cfg, its output going to the fake; its pool listener added. */
int fake_new(uv_loop_t *loop, pool *p, const catalog *cat, const sched_config *cfg, fake_io **out);
sched *fake_sched(fake_io *f);
/* Closes the scheduler, runs the loop until its handles are closed, frees both. */
void fake_free(fake_io *f);

/* A browser connects and says hello: EV_BROWSER_CONNECTED then EV_BROWSER_HELLO with hello (a
 * copy of tests/fixtures/hello-*.json, for example), its browser.name set to kind. */
int fake_connect_hello(fake_io *f, int browser, const char *kind, const cJSON *hello);
/* The same with the fixture file NAME. */
int fake_connect(fake_io *f, int browser, const char *kind, const char *fixture);
/* Applies a bare browser event (EV_BROWSER_LOST, EV_BROWSER_EXITED, EV_BROWSER_CONNECTED). */
int fake_browser_event(fake_io *f, ev_kind kind, int browser, const char *why);

/* Commands not answered yet; browser 0 = any. */
int fake_pending(const fake_io *f, int browser, fake_kind kind);
/* The oldest of them (NULL if none). */
fake_msg *fake_next(const fake_io *f, int browser, fake_kind kind);
/* Every command sent so far, in order. */
size_t fake_count(const fake_io *f);
fake_msg *fake_at(const fake_io *f, size_t i);

/* "loaded": ep NULL = the platform asked for; lanes 0 = not said (the page of a wasm session). */
int fake_answer_load(fake_io *f, fake_msg *m, const char *ep, int lanes);
/* An output tensor for a result: float32 [n]. */
typedef struct {
	const char *name;
	const float *v;
	int n;
} fake_out;
/* "result" run on lane; outs go with it only when the run asked for "all" (as the page does). */
int fake_answer_run(fake_io *f, fake_msg *m, int lane, const fake_out *outs, int n_outs);
int fake_answer_unload(fake_io *f, fake_msg *m);
/* "error" with code (load_failed, run_failed, no_session) and message. */
int fake_answer_error(fake_io *f, fake_msg *m, const char *code, const char *message);

/* Answers every unanswered command, again and again until none is left (at most max replies):
 * loads with lanes, runs with outs, unloads. Returns the replies sent. */
int fake_answer_all(fake_io *f, int lanes, const fake_out *outs, int n_outs, int max);

/* Events the pool refused, and commands that could not be sent or carried a frame the page would
 * refuse: each is a scheduler bug. */
int fake_refused(const fake_io *f);
const char *fake_last_refusal(const fake_io *f);

/* Runs the scheduler's tick (breaker probes, request timeouts) once, now. */
int fake_tick(fake_io *f);
/* Moves the loop's clock back by ms, so that a breaker cool-down of up to ms that opens before
 * the next fake_tick() is over by then. (The scheduler reads the cool-down's start from uv_now();
 * there is no public way to move a libuv clock forward, so this writes the loop's cached time.) */
void fake_clock_back(fake_io *f, uint64_t ms);

#endif
