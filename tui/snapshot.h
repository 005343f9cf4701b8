/* Readers of the pool for batch output: one JSON object per snapshot, or a readable table.
 * Pure functions of (pool, time), so tests and replay share them with live mode. */
#ifndef AC_SNAPSHOT_H
#define AC_SNAPSHOT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "../pool/pool.h"

cJSON *snapshot_json(const pool *p, int64_t now_us);
/* The request totals (exactly-once accounting) as the "requests" object of snapshot_json(). */
cJSON *snapshot_requests_json(const pool *p);
void snapshot_text(FILE *f, const pool *p, int64_t now_us);
/* "grid: URL  slots 2  used 1  queued 0" or "grid: DOWN why", for -b and the screen's header;
 * false while no Selenium Grid was seen. */
bool snapshot_grid_line(const pool *p, char *out, size_t cap);

#endif
