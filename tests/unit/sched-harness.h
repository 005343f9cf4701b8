/* The scheduler tests' harness: see sched-harness.c. Test code, not product code. */
#ifndef AC_SCHED_HARNESS_H
#define AC_SCHED_HARNESS_H

#include "fake-sched-io.h"

/* An event as the pool applied it (the strings copied). */
typedef struct {
	ev_kind kind;
	int browser, model, session;
	int64_t request, num, num2;
	double x0, x1;
	char name[16], text[200];
} rec_ev;

#define REC_MAX 4096
typedef struct {
	uv_loop_t loop;
	bool loop_ok;
	pool *p;
	catalog *cat;
	char dir[64];
	fake_io *f;
	sched *s;
	int n_ev;
	bool ev_overflow;     /* more than REC_MAX events: the counts would be wrong */
	rec_ev ev[REC_MAX];
} harness;

/* A pool, a catalog (txt: text, fp32 fp16 int8; img: vision, fp32; enc: text, fp32, 2 shards) and
 * a scheduler under cfg (NULL: the defaults, window 2), nothing connected; freed after the test. */
harness *sh_setup(const sched_config *cfg);
/* Recorded events of a kind; the latest one (NULL if none). */
int sh_count(const harness *h, ev_kind kind);
const rec_ev *sh_last(const harness *h, ev_kind kind);
/* sched_start() of model on platform and browser, fp32; concurrency 0 = on demand. */
int sh_start(harness *h, const char *model, const char *platform, const char *browser, int concurrency,
	     int64_t count, int *row);
/* Every request counted exactly once, no event refused (0, or 1 after a failed check). */
int sh_accounting(const harness *h);
/* Requests in flight on the row's (non-reference) sessions in one browser. */
int sh_inflight(const harness *h, int row, int browser);
/* A hello whose WebNN gpu context works and reports accelerated=true (hardware WebNN). */
const cJSON *sh_hello_webnn_hardware(void);

/* Outputs for results: float32 [4]; b differs from a by 0.5 in element 2. */
extern const float sh_out_a[4], sh_out_b[4];
extern const fake_out sh_outs_a[1], sh_outs_b[1];

#endif
