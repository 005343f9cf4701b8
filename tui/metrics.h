/* GET /metrics: the pool as Prometheus text (exposition format 0.0.4).
 *
 * A reader like the batch printer and the JSON (tui/snapshot.c): a pure function of (pool, time,
 * the process's own figures) that writes into a buffer; validity comes from the pool's flags and
 * tui/fields.h, and a series whose figure is not valid is left out rather than written as 0. It
 * lives in tui/ and not in pool/ because it formats text for a reader (pool/ never prints), and
 * the bridge only calls it through the render_metrics hook that tui/app.c installs
 * (bridge_sink.render_metrics), so the bridge knows nothing of the pool. Every metric is listed,
 * with its type, labels and meaning, in man/accel-top.1 (METRICS) and the README. */
#ifndef AC_METRICS_H
#define AC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/pool.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A growing text buffer; oom is set (and the text stays as far as it got) when memory ran out. */
typedef struct {
	char *s;
	size_t len, cap;
	bool oom;
} metrics_buf;

/* accel-top's own process, measured by the caller when it renders (from /proc/self/stat). */
typedef struct {
	bool valid;
	int64_t rss_bytes;
	double cpu_seconds;
} metrics_self;

/* Appends the whole exposition to out. Returns 0, or AC_ENOMEM. */
int metrics_render(const pool *p, int64_t now_us, const metrics_self *self, metrics_buf *out);

/* A label value escaped as the format wants it (\\, \", \n) into out (cap bytes, truncated). */
void metrics_escape_label(const char *v, char *out, size_t cap);

void metrics_buf_free(metrics_buf *b);

#endif
