/* Whether a figure is valid, decided here once: the screen's columns, the detail pane, the batch
 * text and the JSON snapshot all ask these, and say n/a / null when the answer is no. A printer
 * never tests a figure's validity itself (a -1, a state) where a function here says it. */
#ifndef AC_FIELDS_H
#define AC_FIELDS_H

#include <stdbool.h>

#include "../pool/pool.h"

/* The last heartbeat round trip: measured, and the browser still connected (the round trip of
 * a browser that is lost, exited or reconnecting says nothing about now). */
static inline bool browser_rtt_valid(const pool_browser *b)
{
	return b->rtt_us >= 0 && b->state == BS_CONNECTED;
}

/* The process count comes with the RSS sample of the process tree. */
static inline bool browser_nproc_valid(const pool_browser *b)
{
	return b->rss_valid;
}

static inline bool browser_pid_valid(const pool_browser *b)
{
	return b->pid > 0;
}

/* A session's load time and its moving average of run times: -1 until measured. */
static inline bool session_load_valid(const pool_session *s)
{
	return s->load_ms >= 0;
}

static inline bool session_ewma_valid(const pool_session *s)
{
	return s->ewma_ms >= 0;
}

/* What the hello reported: a WebGPU limit (-1 = not reported), the core count and the device
 * memory (both only from a hello, -1 = not reported). */
static inline bool caps_limit_valid(int64_t v)
{
	return v >= 0;
}

static inline bool caps_cores_valid(const ac_caps *c)
{
	return c->valid && c->hardware_concurrency >= 0;
}

static inline bool caps_memory_valid(const ac_caps *c)
{
	return c->valid && c->device_memory_gb >= 0;
}

/* A shard's means: once one of its stages ended. */
static inline bool model_shard_valid(const pool_model *m, int k)
{
	return m->shard[k].n > 0;
}

#endif
