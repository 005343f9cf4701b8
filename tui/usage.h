/* The usage sampler: every interval, the process tree of each managed browser is read from /proc
 * (pool/procstat.h) and one EV_BROWSER_USAGE per browser goes to the pool. Live only: a replay
 * gets the recorded events instead. */
#ifndef AC_USAGE_H
#define AC_USAGE_H

#include <uv.h>

#include "../pool/pool.h"

#define USAGE_INTERVAL_MS 2000

typedef struct usage_sampler usage_sampler;
typedef int (*usage_emit)(void *ctx, const ac_event *ev, ac_err *err);

/* Starts sampling p's managed browsers under proc_root ("/proc") every interval_ms. */
int usage_start(uv_loop_t *loop, const pool *p, const char *proc_root, unsigned interval_ms, usage_emit emit,
		void *ctx, usage_sampler **out, ac_err *err);

/* One sample now (what the timer does). */
void usage_sample(usage_sampler *u);

/* accel-top's own process from PROC_ROOT/self/stat, now: resident bytes and CPU seconds (user +
 * system). Returns 0, or a negative code with *err set (for /metrics, which then leaves them out). */
int usage_self(const char *proc_root, int64_t *rss_bytes, double *cpu_seconds, ac_err *err);

/* Stops sampling; the sampler is freed once its timer is closed (NULL is ignored). */
void usage_close(usage_sampler *u);

#endif
