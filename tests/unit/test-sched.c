/* The scheduler (pool/sched.c) against a real pool and fake browsers (fake-sched-io.h):
 * placement, the in-flight window per session and per lane, sharded stages and verification.
 * Breakers, requeue on loss and late replies are in test-sched-faults.c. Every test ends by
 * counting every request exactly once (sh_accounting); none waits on a real timer. */
#include <stdio.h>
#include <string.h>

#include "../../pool/family.h"
#include "check.h"
#include "sched-harness.h"
#include "tests.h"

/* ---------------------------------------------------------------- placement */

/* "auto" loads on every connected browser, a kind only on that kind, "#ID" only there; a browser
 * that says hello later gets the loads of the rows it matches. */
int test_sched_place_auto_pinned_id(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-fallback.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 3, "chromium", "hello-chromium-swiftshader.json"), 0);
	int r_auto, r_ff, r_id;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "auto", 1, 0, &r_auto), 0);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 3);
	for (int b = 1; b <= 3; b++)
		CHECK_EQ_INT(fake_pending(h->f, b, FM_LOAD), 1);
	fake_msg *m = fake_next(h->f, 1, FM_LOAD);
	CHECK_STR(m->model, "txt");
	CHECK_STR(m->precision, "fp32");
	CHECK_STR(m->platform, "wasm");
	CHECK_CONTAINS(m->url, "/txt/onnx/model.onnx");
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "firefox", 1, 0, &r_ff), 0);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_LOAD), 2);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 4);
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "#3", 1, 0, &r_id), 0);
	CHECK_EQ_INT(fake_pending(h->f, 3, FM_LOAD), 2);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 5);
	CHECK_EQ_INT(sh_count(h, EV_SESSION_LOADING), 5);
	CHECK_STR(pool_model_find(h->p, r_id)->pin, "#3");
	/* a fourth browser, a firefox: auto and firefox rows load there, "#3" does not */
	CHECK_EQ_INT(fake_connect(h->f, 4, "firefox", "hello-firefox-fallback.json"), 0);
	CHECK_EQ_INT(fake_pending(h->f, 4, FM_LOAD), 2);
	for (size_t i = 0; i < pool_session_count(h->p); i++) {
		const pool_session *ps = pool_session_at(h->p, i);
		CHECK_EQ_INT(ps->state, SS_LOADING);
		CHECK(ps->model != r_id || ps->browser == 3);
		CHECK(ps->model != r_ff || ps->browser == 2 || ps->browser == 4);
	}
	/* nothing is sent before a session is ready; then each row's request goes where it may */
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_RUN), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, sh_outs_a, 1, 6), 6);
	CHECK_EQ_INT(pool_model_find(h->p, r_auto)->inflight, 1);
	CHECK_EQ_INT(sh_inflight(h, r_ff, 1) + sh_inflight(h, r_ff, 3), 0);
	CHECK_EQ_INT(sh_inflight(h, r_id, 3), 1);
	return sh_accounting(h);
}

/* A platform the browser lacks is not used: webnn only where createContext worked. */
int test_sched_place_platform_missing(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	const cJSON *nn = sh_hello_webnn_hardware();
	CHECK(nn != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0); /* NotSupportedError */
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-fallback.json"), 0);      /* no navigator.ml */
	CHECK_EQ_INT(fake_connect_hello(h->f, 3, "edge", nn), 0);
	CHECK_EQ_INT(pool_browser_find(h->p, 3)->caps.verdict[PLAT_WEBNN].status, CL_HARDWARE);
	CHECK_EQ_INT(pool_browser_find(h->p, 1)->caps.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "webnn", "auto", 2, 0, &row), 0);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 1);
	fake_msg *m = fake_next(h->f, 3, FM_LOAD);
	CHECK(m != NULL);
	CHECK_STR(m->platform, "webnn");
	/* its load fails: without --allow-fallback nothing else can serve the row, which stops */
	CHECK_EQ_INT(fake_answer_error(h->f, m, "load_failed", "no webnn today"), 0);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 0);
	CHECK_EQ_INT(pool_session_find(h->p, 3, m->session)->state, SS_FAILED);
	CHECK(!pool_model_find(h->p, row)->running);
	CHECK_CONTAINS(pool_model_find(h->p, row)->stop_reason, "no webnn today");
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_FAILED), 2); /* the two queued requests end with the reason */
	return sh_accounting(h);
}

/* With --allow-fallback, a browser without the platform loads the wasm variant instead, and a
 * load that fails on its platform is tried again on wasm. */
int test_sched_place_fallback_wasm(void)
{
	sched_config cfg = { .seed = 7, .window = 2, .allow_fallback = true };
	harness *h = sh_setup(&cfg);
	CHECK(h != NULL);
	const cJSON *nn = sh_hello_webnn_hardware();
	CHECK(nn != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect_hello(h->f, 2, "edge", nn), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "webnn", "auto", 1, 0, &row), 0);
	CHECK_STR(fake_next(h->f, 1, FM_LOAD)->platform, "wasm");
	fake_msg *m = fake_next(h->f, 2, FM_LOAD);
	CHECK_STR(m->platform, "webnn");
	CHECK_EQ_INT(fake_answer_error(h->f, m, "load_failed", "no webnn today"), 0);
	CHECK_STR(fake_next(h->f, 2, FM_LOAD)->platform, "wasm");
	CHECK(pool_model_find(h->p, row)->running);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 2);
	return sh_accounting(h);
}

/* Before anything is measured: the kind suited to the model first, a hardware adapter before a
 * software one; an unmeasured session before a measured one. */
int test_sched_place_preference(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(family_preference("firefox", "audio", NULL), 0);
	CHECK(family_preference("chromium", "audio", NULL) > 0);
	CHECK(family_preference("chromium", "vision", NULL) < family_preference("firefox", "vision", NULL));
	CHECK(family_preference("chromium", "text", NULL) < family_preference("firefox", "text", NULL));
	/* browser 1 firefox; 2 chromium with software WebGPU, 3 with hardware: the earlier ones are
	 * first in every table, so only the preference can put a request on a later one */
	CHECK_EQ_INT(fake_connect(h->f, 1, "firefox", "hello-firefox-fallback.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 3, "chromium", "hello-chromium-nvidia-h200.json"), 0);
	int gpu, vis;
	CHECK_EQ_INT(sh_start(h, "txt", "webgpu", "chromium", 0, 0, &gpu), 0); /* on demand */
	CHECK_EQ_INT(sh_start(h, "img", "wasm", "auto", 0, 0, &vis), 0);
	while (fake_pending(h->f, 0, FM_LOAD))
		CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 0, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_RUN), 0);
	ac_err err;
	int64_t req;
	CHECK_EQ_INT(sched_submit(h->s, gpu, NULL, 0, false, &req, &err), 0);
	CHECK_EQ_INT(pool_request_find(h->p, req)->browser, 3); /* hardware first */
	CHECK_EQ_INT(sched_submit(h->s, gpu, NULL, 0, false, &req, &err), 0);
	CHECK_EQ_INT(pool_request_find(h->p, req)->browser, 2); /* then the least loaded */
	CHECK_EQ_INT(fake_answer_run(h->f, fake_next(h->f, 3, FM_RUN), 0, sh_outs_a, 1), 0);
	CHECK(pool_session_find(h->p, 3, sh_last(h, EV_REQUEST_DONE)->session)->ewma_ms >= 0);
	/* browser 3 is measured and idle; browser 2 is busy, but not measured yet: it goes first */
	CHECK_EQ_INT(sched_submit(h->s, gpu, NULL, 0, false, &req, &err), 0);
	CHECK_EQ_INT(pool_request_find(h->p, req)->browser, 2);
	CHECK_EQ_INT(sh_inflight(h, gpu, 2), 2);
	/* vision: chromium before firefox, whichever came first */
	CHECK_EQ_INT(sched_submit(h->s, vis, NULL, 0, false, &req, &err), 0);
	const pool_browser *b = pool_browser_find(h->p, pool_request_find(h->p, req)->browser);
	CHECK_STR(b->kind, "chromium");
	return sh_accounting(h);
}

/* Edge with hardware WebNN is the text model's first choice, before chromium. */
int test_sched_place_edge_webnn(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	const cJSON *nn = sh_hello_webnn_hardware();
	CHECK(nn != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect_hello(h->f, 2, "edge", nn), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "auto", 0, 0, &row), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, NULL, 0, 10), 2);
	ac_err err;
	int64_t req;
	CHECK_EQ_INT(sched_submit(h->s, row, NULL, 0, false, &req, &err), 0);
	CHECK_EQ_INT(pool_request_find(h->p, req)->browser, 2);
	return sh_accounting(h);
}

/* ---------------------------------------------------------------- the in-flight window */

/* --inflight requests per session, the rest queued; a result lets the next one go there. */
int test_sched_window_session(void)
{
	harness *h = sh_setup(NULL); /* window 2 */
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-fallback.json"), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "auto", 10, 0, &row), 0);
	CHECK_EQ_INT(pool_model_find(h->p, row)->queue, 10);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 1, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 2);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 2, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 2);
	const pool_model *m = pool_model_find(h->p, row);
	CHECK_EQ_INT(m->inflight, 4);
	CHECK_EQ_INT(m->queue, 6);
	CHECK_EQ_INT(sh_inflight(h, row, 1), 2);
	/* a result: the next request goes to the session it came from */
	fake_msg *r = fake_next(h->f, 1, FM_RUN);
	CHECK(r->want_outputs);
	CHECK_EQ_INT(r->n_frames, 2);
	CHECK_STR(r->frame_names[0], "ids");
	CHECK_STR(r->frame_names[1], "mask");
	CHECK_EQ_INT(fake_answer_run(h->f, r, 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 2);
	CHECK_EQ_INT(sh_inflight(h, row, 1), 2);
	CHECK_EQ_INT(m->queue, 6); /* concurrency 10: the ended one was replaced */
	CHECK_EQ_INT(m->completed, 1);
	return sh_accounting(h);
}

/* A session the page runs in several lanes gets one request per lane when that is more than
 * --inflight; --inflight still counts where it is more. */
int test_sched_window_lanes(void)
{
	sched_config cfg = { .seed = 7, .window = 3 };
	harness *h = sh_setup(&cfg);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-nvidia-h200.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-nvidia-h100.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 3, "firefox", "hello-firefox-nvidia-h100.json"), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "webgpu", "auto", 20, 0, &row), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 1, FM_LOAD), NULL, 0), 0); /* lanes not said: 1 */
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 2, FM_LOAD), NULL, 8), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 3, FM_LOAD), NULL, 2), 0);
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_RUN), 3);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 8);
	CHECK_EQ_INT(fake_pending(h->f, 3, FM_RUN), 3);
	CHECK_EQ_INT(pool_session_find(h->p, 2, fake_next(h->f, 2, FM_RUN)->session)->lanes, 8);
	CHECK_EQ_INT(pool_session_find(h->p, 1, fake_next(h->f, 1, FM_RUN)->session)->lanes, 1);
	CHECK_EQ_INT(pool_model_find(h->p, row)->inflight, 14);
	CHECK_EQ_INT(pool_model_find(h->p, row)->queue, 6);
	return sh_accounting(h);
}

/* ---------------------------------------------------------------- sharded stages */

/* The data of a frame as sent (after its header). */
static int frame_data(const fake_msg *m, int i, const uint8_t **data, size_t *len)
{
	proto_frame pf;
	char err[160];
	CHECK_EQ_INT(proto_decode_frame(m->frames[i], m->lens[i], &pf, err, sizeof err), 0);
	*data = pf.data;
	*len = pf.data_len;
	return 0;
}

/* "KIND,KIND": shard 1 loads on the first kind, shard 2 on the second; stage 1 runs on the
 * request's inputs, its output goes framed to stage 2 with the request's other input; the request
 * ends once, with EV_REQUEST_DONE after one EV_SHARD_DONE per stage; the last shard's browser
 * verifies against the whole model (fp32 on wasm). */
int test_sched_shard_stages(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "firefox", "hello-firefox-fallback.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "chromium", "hello-chromium-swiftshader.json"), 0);
	workload_spec w = { .concurrency = 1, .count = 1 };
	ac_strlcpy(w.model, "enc", sizeof w.model);
	ac_strlcpy(w.precision, "fp32", sizeof w.precision);
	ac_strlcpy(w.platform, "wasm", sizeof w.platform);
	ac_strlcpy(w.shard, "chromium,firefox", sizeof w.shard);
	ac_err err;
	int row;
	CHECK_EQ_INT(sched_start(h->s, &w, &row, &err), 0);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_LOAD), 2);
	fake_msg *l1 = fake_next(h->f, 2, FM_LOAD), *l2 = fake_next(h->f, 1, FM_LOAD);
	CHECK_CONTAINS(l1->url, "/enc/shards/1/onnx/model.onnx");
	CHECK_CONTAINS(l2->url, "/enc/shards/2/onnx/model.onnx");
	CHECK_EQ_INT(pool_session_find(h->p, 2, l1->session)->shard, 1);
	CHECK_EQ_INT(pool_session_find(h->p, 1, l2->session)->shard, 2);
	CHECK_EQ_INT(fake_answer_load(h->f, l2, NULL, 0), 0);
	CHECK_EQ_INT(fake_pending(h->f, 0, FM_RUN), 0); /* stage 1 is not loaded yet */
	CHECK_EQ_INT(fake_answer_load(h->f, l1, NULL, 0), 0);
	/* stage 1 on chromium */
	fake_msg *s1 = fake_next(h->f, 2, FM_RUN);
	CHECK(s1 && s1->want_outputs && s1->n_frames == 2);
	CHECK_STR(s1->frame_names[0], "ids");
	CHECK_STR(s1->frame_names[1], "mask");
	static const float hidden[4] = { 1, 2, 3, 4 }, extra[2] = { 9, 9 };
	const fake_out h_out[] = { { "extra", extra, 2 }, { "hidden", hidden, 4 } }; /* not in order */
	CHECK_EQ_INT(fake_answer_run(h->f, s1, 0, h_out, 2), 0);
	CHECK_EQ_INT(sh_count(h, EV_SHARD_DONE), 1);
	CHECK_EQ_INT(sh_last(h, EV_SHARD_DONE)->num, 1);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DONE), 0);
	/* stage 2 on firefox: stage 1's output, then the request's mask */
	fake_msg *s2 = fake_next(h->f, 1, FM_RUN);
	CHECK(s2 && s2->n_frames == 2);
	CHECK_STR(s2->frame_names[0], "hidden");
	CHECK_STR(s2->frame_names[1], "mask");
	const uint8_t *d;
	size_t n;
	CHECK_OK(frame_data(s2, 0, &d, &n));
	CHECK(n == sizeof hidden && memcmp(d, hidden, n) == 0);
	const uint8_t *m1, *m2;
	size_t n1, n2;
	CHECK_OK(frame_data(s1, 1, &m1, &n1));
	CHECK_OK(frame_data(s2, 1, &m2, &n2));
	CHECK(n1 == n2 && n1 == 4 * sizeof(int64_t) && memcmp(m1, m2, n1) == 0);
	CHECK(s2->want_outputs); /* the last stage's first run is verified */
	static const float pooled[2] = { 7, 8 };
	const fake_out final[] = { { "out", sh_out_a, 4 }, { "pooled", pooled, 2 } };
	CHECK_EQ_INT(fake_answer_run(h->f, s2, 0, final, 2), 0);
	CHECK_EQ_INT(sh_count(h, EV_SHARD_DONE), 2);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DONE), 1);
	CHECK_EQ_INT(sh_last(h, EV_REQUEST_DONE)->browser, 1);
	CHECK(sh_last(h, EV_REQUEST_DONE)->x1 == 2 * 1.25); /* compute_ms summed over the stages */
	const pool_model *m = pool_model_find(h->p, row);
	CHECK(m->n_shards == 2 && m->shard[0].browser == 2 && m->shard[1].browser == 1);
	CHECK(!m->running);
	/* the reference: the whole model on the last shard's browser, run on the request's inputs */
	fake_msg *ref = fake_next(h->f, 1, FM_LOAD);
	CHECK(ref != NULL);
	CHECK_CONTAINS(ref->url, "/enc/onnx/model.onnx");
	CHECK_STR(ref->platform, "wasm");
	CHECK(pool_session_find(h->p, 1, ref->session)->reference);
	CHECK_EQ_INT(fake_answer_load(h->f, ref, NULL, 0), 0);
	fake_msg *rr = fake_next(h->f, 1, FM_RUN);
	CHECK(rr && rr->want_outputs && rr->n_frames == 2);
	CHECK_STR(rr->frame_names[0], "ids");
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 0);
	CHECK_EQ_INT(fake_answer_run(h->f, rr, 0, final, 2), 0);
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 1);
	CHECK_EQ_INT(sh_last(h, EV_VERIFIED)->num, 1);
	CHECK_EQ_INT(sh_last(h, EV_VERIFIED)->session, s2->session);
	CHECK_CONTAINS(sh_last(h, EV_VERIFIED)->text, "sharded");
	CHECK(pool_model_find(h->p, row)->verify_ok);
	return sh_accounting(h);
}

/* A sharded request whose second stage's browser is lost starts again from stage 1, once. */
int test_sched_shard_requeue(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-fallback.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 3, "firefox", "hello-firefox-fallback.json"), 0);
	workload_spec w = { .concurrency = 1, .count = 1 };
	ac_strlcpy(w.model, "enc", sizeof w.model);
	ac_strlcpy(w.precision, "fp32", sizeof w.precision);
	ac_strlcpy(w.platform, "wasm", sizeof w.platform);
	ac_strlcpy(w.shard, "chromium,#2", sizeof w.shard);
	ac_err err;
	int row;
	CHECK_EQ_INT(sched_start(h->s, &w, &row, &err), 0);
	CHECK_EQ_INT(fake_pending(h->f, 3, FM_LOAD), 0); /* "#2": not on browser 3 */
	CHECK_EQ_INT(fake_answer_all(h->f, 0, NULL, 0, 2), 2);
	static const float hidden[4] = { 1, 2, 3, 4 }, extra[2] = { 9, 9 };
	const fake_out h_out[] = { { "extra", extra, 2 }, { "hidden", hidden, 4 } }; /* not in order */
	CHECK_EQ_INT(fake_answer_run(h->f, fake_next(h->f, 1, FM_RUN), 0, h_out, 2), 0);
	CHECK_EQ_INT(fake_pending(h->f, 2, FM_RUN), 1);
	int lost_session = fake_next(h->f, 2, FM_RUN)->session;
	CHECK_EQ_INT(fake_browser_event(h->f, EV_BROWSER_LOST, 2, "socket closed"), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 1);
	const pool_request *r = pool_request_find(h->p, sh_last(h, EV_REQUEST_REQUEUED)->request);
	/* back at stage 0, and sent at once to the free shard 1 session */
	CHECK(r && r->stage == 0 && r->inflight && r->browser == 1);
	fake_msg *again = fake_next(h->f, 1, FM_RUN);
	CHECK(again && again->n_frames == 2);
	CHECK_STR(again->frame_names[0], "ids");
	/* browser 3 (not "#2") takes nothing; the lost one's shard 2 cannot be served any more */
	CHECK_EQ_INT(fake_pending(h->f, 3, FM_RUN) + fake_pending(h->f, 3, FM_LOAD), 0);
	CHECK(pool_model_find(h->p, row)->running);
	/* stage 1 again; it waits for browser 2, which comes back with a new page */
	CHECK_EQ_INT(fake_answer_run(h->f, again, 0, h_out, 2), 0);
	CHECK_EQ_INT(pool_request_find(h->p, sh_last(h, EV_REQUEST_REQUEUED)->request)->stage, 1);
	CHECK_EQ_INT(fake_connect(h->f, 2, "firefox", "hello-firefox-fallback.json"), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 2, FM_LOAD), NULL, 0), 0);
	static const float pooled[2] = { 7, 8 };
	const fake_out final[] = { { "out", sh_out_a, 4 }, { "pooled", pooled, 2 } };
	/* the old page's stage 2 answers after all: late, discarded */
	fake_msg *s2 = fake_next(h->f, 2, FM_RUN);
	CHECK(s2 && s2->session == lost_session);
	CHECK_EQ_INT(fake_answer_run(h->f, s2, 0, final, 2), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DISCARDED), 1);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DONE), 0);
	s2 = fake_next(h->f, 2, FM_RUN);
	CHECK(s2 && s2->session != lost_session && s2->n_frames == 2);
	CHECK_STR(s2->frame_names[0], "hidden");
	CHECK_EQ_INT(fake_answer_run(h->f, s2, 0, final, 2), 0);
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_DONE), 1);
	CHECK_EQ_INT(sh_count(h, EV_SHARD_DONE), 3); /* stage 1 twice, stage 2 once */
	CHECK(sh_last(h, EV_REQUEST_DONE)->x1 == 2 * 1.25); /* the lost attempt's stage is not in it */
	CHECK_EQ_INT(sh_count(h, EV_REQUEST_REQUEUED), 1);
	CHECK(!pool_model_find(h->p, row)->running);
	return sh_accounting(h);
}

/* ---------------------------------------------------------------- verification */

/* The first output of a session is compared with fp32 on wasm in the same browser (loaded for
 * it, run once on the same inputs, then unloaded); then the first output of each other lane of
 * the page: runs ask for outputs until every lane has been compared, and only then. */
int test_sched_verify_each_lane(void)
{
	sched_config cfg = { .seed = 7, .window = 1 };
	harness *h = sh_setup(&cfg);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-nvidia-h200.json"), 0);
	int row;
	CHECK_EQ_INT(sh_start(h, "txt", "webgpu", "auto", 1, 0, &row), 0);
	fake_msg *l = fake_next(h->f, 1, FM_LOAD);
	int sess = l->session;
	CHECK_EQ_INT(fake_answer_load(h->f, l, NULL, 3), 0);
	CHECK_EQ_INT(pool_session_find(h->p, 1, sess)->lanes, 3);
	fake_msg *r = fake_next(h->f, 1, FM_RUN);
	CHECK(r->want_outputs);
	CHECK_EQ_INT(fake_answer_run(h->f, r, 0, sh_outs_a, 1), 0);
	/* no reference yet: it loads, fp32 on wasm */
	fake_msg *ref = fake_next(h->f, 1, FM_LOAD);
	CHECK(ref != NULL);
	CHECK_STR(ref->platform, "wasm");
	CHECK_STR(ref->precision, "fp32");
	CHECK(pool_session_find(h->p, 1, ref->session)->reference);
	r = fake_next(h->f, 1, FM_RUN);
	CHECK(r && r->session == sess && !r->want_outputs); /* lanes wait for the reference */
	CHECK_EQ_INT(fake_answer_load(h->f, ref, NULL, 0), 0);
	fake_msg *rr = fake_next(h->f, 1, FM_RUN);
	CHECK(rr == r); /* the reference run is after it */
	rr = fake_at(h->f, fake_count(h->f) - 1);
	CHECK(rr->session == ref->session && rr->want_outputs && rr->n_frames == 2);
	CHECK_EQ_INT(fake_answer_run(h->f, rr, 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 1);
	CHECK_EQ_INT(sh_last(h, EV_VERIFIED)->num, 1);
	CHECK_CONTAINS(sh_last(h, EV_VERIFIED)->text, "same browser");
	fake_msg *u = fake_next(h->f, 1, FM_UNLOAD);
	CHECK(u && u->session == ref->session);
	CHECK_EQ_INT(fake_answer_unload(h->f, u), 0);
	/* the run sent before the reference was known; the next asks for outputs (lanes 1, 2 left) */
	CHECK_EQ_INT(fake_answer_run(h->f, r, 0, sh_outs_a, 1), 0);
	r = fake_next(h->f, 1, FM_RUN);
	CHECK(r->want_outputs);
	CHECK_EQ_INT(fake_answer_run(h->f, r, 1, sh_outs_a, 1), 0);
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 2);
	CHECK_CONTAINS(sh_last(h, EV_VERIFIED)->text, "lane 1");
	r = fake_next(h->f, 1, FM_RUN);
	CHECK(r->want_outputs);
	CHECK_EQ_INT(fake_answer_run(h->f, r, 1, sh_outs_b, 1), 0); /* lane 1 again: not compared twice */
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 2);
	r = fake_next(h->f, 1, FM_RUN);
	CHECK(r->want_outputs);
	CHECK_EQ_INT(fake_answer_run(h->f, r, 2, sh_outs_b, 1), 0); /* lane 2 differs */
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 3);
	CHECK_EQ_INT(sh_last(h, EV_VERIFIED)->num, 0);
	CHECK_CONTAINS(sh_last(h, EV_VERIFIED)->text, "lane 2");
	CHECK(!fake_next(h->f, 1, FM_RUN)->want_outputs); /* every lane compared */
	const pool_session *ps = pool_session_find(h->p, 1, sess);
	CHECK_EQ_INT(ps->verifications, 3);
	CHECK(ps->verified && !ps->verify_ok);
	CHECK(pool_model_find(h->p, row)->err_valid && !pool_model_find(h->p, row)->verify_ok);
	return sh_accounting(h);
}

/* fp32 on wasm is its own reference; an output of the wrong size fails verification. */
int test_sched_verify_reference_itself(void)
{
	harness *h = sh_setup(NULL);
	CHECK(h != NULL);
	CHECK_EQ_INT(fake_connect(h->f, 1, "chromium", "hello-chromium-swiftshader.json"), 0);
	CHECK_EQ_INT(fake_connect(h->f, 2, "chromium", "hello-chromium-nvidia-h200.json"), 0);
	int rw, rg;
	CHECK_EQ_INT(sh_start(h, "txt", "wasm", "#1", 1, 0, &rw), 0);
	CHECK_EQ_INT(fake_answer_all(h->f, 0, sh_outs_a, 1, 2), 2); /* load, first run */
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 1);
	CHECK_CONTAINS(sh_last(h, EV_VERIFIED)->text, "reference itself");
	CHECK_EQ_INT(fake_pending(h->f, 1, FM_LOAD), 0);
	/* webgpu on browser 2, whose reference answers with 2 elements instead of 4 */
	CHECK_EQ_INT(sh_start(h, "txt", "webgpu", "#2", 1, 0, &rg), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 2, FM_LOAD), NULL, 0), 0);
	CHECK_EQ_INT(fake_answer_run(h->f, fake_next(h->f, 2, FM_RUN), 0, sh_outs_a, 1), 0);
	CHECK_EQ_INT(fake_answer_load(h->f, fake_next(h->f, 2, FM_LOAD), NULL, 0), 0);
	fake_msg *rr = fake_at(h->f, fake_count(h->f) - 1);
	CHECK(rr->kind == FM_RUN && pool_session_find(h->p, 2, rr->session)->reference);
	const fake_out short_out[] = { { "out", sh_out_a, 2 } };
	CHECK_EQ_INT(fake_answer_run(h->f, rr, 0, short_out, 1), 0);
	CHECK_EQ_INT(sh_count(h, EV_VERIFIED), 2);
	CHECK_EQ_INT(sh_last(h, EV_VERIFIED)->num, 0);
	CHECK_CONTAINS(sh_last(h, EV_VERIFIED)->text, "4 elements, the reference 2");
	return sh_accounting(h);
}
