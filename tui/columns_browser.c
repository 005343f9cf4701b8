/* The browsers panel's columns: one entry per column in browser_columns[] at the end of this
 * file, its functions just above it. See tui/columns.h for what each field means. */
#include <stdio.h>
#include <string.h>

#include "columns.h"
#include "fields.h"
#include "format.h"

/* ---- ID ---- */
static void id_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%d", r->b->id); }
static int id_cmp(const col_row *a, const col_row *b) { return col_cmp_num(a->b->id, b->b->id); }
static void id_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddNumberToObject(o, k, r->b->id); }

/* ---- KIND ---- */
static void kind_cell(char *out, size_t cap, const col_row *r)
{
	snprintf(out, cap, "%s", r->b->kind[0] ? r->b->kind : "?");
}
static void kind_batch(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%s", r->b->kind); }
static int kind_cmp(const col_row *a, const col_row *b) { return strcmp(a->b->kind, b->b->kind); }
static void kind_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddStringToObject(o, k, r->b->kind); }

/* ---- VERSION ---- */
static void version_cell(char *out, size_t cap, const col_row *r)
{
	snprintf(out, cap, "%s", r->b->version[0] ? r->b->version : "n/a");
}
static role version_role(const col_row *r, const col_limits *l) { (void)l; return r->b->version[0] ? R_NORMAL : R_NA; }
static int version_cmp(const col_row *a, const col_row *b) { return strcmp(a->b->version, b->b->version); }
static void version_json(cJSON *o, const char *k, const col_row *r) { col_json_str_or_null(o, k, r->b->version); }

/* ---- MODE (batch: MANAGED) ---- */
static void mode_cell(char *out, size_t cap, const col_row *r)
{
	snprintf(out, cap, "%s", r->b->managed ? "managed" : "attached");
}
static void mode_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddBoolToObject(o, k, r->b->managed); }

/* ---- STATE: the supervisor's plan says more than "exited" ---- */
static void state_cell(char *out, size_t cap, const col_row *r)
{
	const pool_browser *b = r->b;
	if (b->held)
		snprintf(out, cap, "held");
	else if (b->restart_at_us > 0 && b->state != BS_CONNECTED)
		snprintf(out, cap, "restart");
	else
		snprintf(out, cap, "%s", browser_state_name(b->state));
}
static void state_batch(char *out, size_t cap, const col_row *r)
{
	snprintf(out, cap, "%s", browser_state_name(r->b->state));
}
static role state_role(const col_row *r, const col_limits *l)
{
	const pool_browser *b = r->b;
	(void)l;
	if (b->held)
		return R_CRIT;
	if (b->restart_at_us > 0 && b->state != BS_CONNECTED)
		return R_WARN;
	switch (b->state) {
	case BS_CONNECTED: return R_GOOD;
	case BS_LOST: return R_WARN;
	case BS_EXITED: return R_CRIT;
	default: return R_DIM;
	}
}
static int state_cmp(const col_row *a, const col_row *b) { return col_cmp_num(a->b->state, b->b->state); }
static void state_json(cJSON *o, const char *k, const col_row *r)
{
	cJSON_AddStringToObject(o, k, browser_state_name(r->b->state));
}

/* ---- WEBGPU, WEBNN, WASM: status words (the batch table writes them in lower case) ---- */
static void status_cell(char *out, size_t cap, const col_row *r, ac_platform p)
{
	snprintf(out, cap, "%s", fmt_status_word(&r->b->caps, p));
}
static void status_batch(char *out, size_t cap, const col_row *r, ac_platform p)
{
	snprintf(out, cap, "%s", r->b->caps.valid ? class_name(r->b->caps.verdict[p].status) : "n/a");
}
static int status_cmp(const col_row *a, const col_row *b, ac_platform p)
{
	return strcmp(fmt_status_word(&a->b->caps, p), fmt_status_word(&b->b->caps, p));
}
static void webgpu_cell(char *out, size_t cap, const col_row *r) { status_cell(out, cap, r, PLAT_WEBGPU); }
static void webgpu_batch(char *out, size_t cap, const col_row *r) { status_batch(out, cap, r, PLAT_WEBGPU); }
static role webgpu_role(const col_row *r, const col_limits *l)
{
	(void)l;
	return col_status_role(fmt_status_word(&r->b->caps, PLAT_WEBGPU));
}
static int webgpu_cmp(const col_row *a, const col_row *b) { return status_cmp(a, b, PLAT_WEBGPU); }
static void webnn_cell(char *out, size_t cap, const col_row *r) { status_cell(out, cap, r, PLAT_WEBNN); }
static void webnn_batch(char *out, size_t cap, const col_row *r) { status_batch(out, cap, r, PLAT_WEBNN); }
static role webnn_role(const col_row *r, const col_limits *l)
{
	(void)l;
	return col_status_role(fmt_status_word(&r->b->caps, PLAT_WEBNN));
}
static int webnn_cmp(const col_row *a, const col_row *b) { return status_cmp(a, b, PLAT_WEBNN); }
static void wasm_cell(char *out, size_t cap, const col_row *r) { status_cell(out, cap, r, PLAT_WASM); }
static void wasm_batch(char *out, size_t cap, const col_row *r) { status_batch(out, cap, r, PLAT_WASM); }

/* ---- ADAPTER ---- */
static void adapter_cell(char *out, size_t cap, const col_row *r)
{
	const ac_caps *c = &r->b->caps;
	const caps_webgpu *g = &c->webgpu;
	if (!c->valid)
		snprintf(out, cap, "n/a");
	else if (!g->adapter)
		snprintf(out, cap, "none");
	else if (g->vendor[0] && g->architecture[0])
		snprintf(out, cap, "%s/%s", g->vendor, g->architecture);
	else if (g->vendor[0] || g->architecture[0])
		snprintf(out, cap, "%s", g->vendor[0] ? g->vendor : g->architecture);
	else if (g->description[0] || g->device[0])
		snprintf(out, cap, "%s", g->description[0] ? g->description : g->device);
	else
		snprintf(out, cap, "(hidden)");
}

/* ---- MODELS, INFL: from the model rows and sessions (browser_load) ---- */
static void models_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%d", r->ld ? r->ld->models : 0); }
static void infl_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%d", r->ld ? r->ld->inflight : 0); }

/* ---- RTT ---- */
static void rtt_cell(char *out, size_t cap, const col_row *r)
{
	fmt_ms(out, cap, (double)r->b->rtt_us / 1000.0, browser_rtt_valid(r->b));
}
static void rtt_batch(char *out, size_t cap, const col_row *r)
{
	if (browser_rtt_valid(r->b))
		snprintf(out, cap, "%.2f", (double)r->b->rtt_us / 1000.0);
	else
		snprintf(out, cap, "n/a");
}
static role rtt_role(const col_row *r, const col_limits *l)
{
	return col_ms_role((double)r->b->rtt_us / 1000.0, browser_rtt_valid(r->b), l);
}
static int rtt_cmp(const col_row *a, const col_row *b) { return col_cmp_num((double)a->b->rtt_us, (double)b->b->rtt_us); }
static void rtt_json(cJSON *o, const char *k, const col_row *r)
{
	col_json_num_or_null(o, k, (double)r->b->rtt_us / 1000.0, browser_rtt_valid(r->b));
}

/* ---- RSS, CPU, PROCS, PAGE_MEM: sampled by tui/usage.c, page memory by the page ---- */
static void rss_cell(char *out, size_t cap, const col_row *r) { fmt_bytes(out, cap, r->b->rss_bytes, r->b->rss_valid); }
static role rss_role(const col_row *r, const col_limits *l) { (void)l; return r->b->rss_valid ? R_NORMAL : R_NA; }
static int rss_cmp(const col_row *a, const col_row *b)
{
	return col_cmp_num(a->b->rss_valid ? (double)a->b->rss_bytes : -1, b->b->rss_valid ? (double)b->b->rss_bytes : -1);
}
static void rss_json(cJSON *o, const char *k, const col_row *r)
{
	col_json_num_or_null(o, k, (double)r->b->rss_bytes, r->b->rss_valid);
}
static void cpu_cell(char *out, size_t cap, const col_row *r) { fmt_pct(out, cap, r->b->cpu_pct, r->b->cpu_valid); }
static role cpu_role(const col_row *r, const col_limits *l) { (void)l; return r->b->cpu_valid ? R_NORMAL : R_NA; }
static int cpu_cmp(const col_row *a, const col_row *b)
{
	return col_cmp_num(a->b->cpu_valid ? a->b->cpu_pct : -1, b->b->cpu_valid ? b->b->cpu_pct : -1);
}
static void cpu_json(cJSON *o, const char *k, const col_row *r) { col_json_num_or_null(o, k, r->b->cpu_pct, r->b->cpu_valid); }
static void procs_cell(char *out, size_t cap, const col_row *r)
{
	if (browser_nproc_valid(r->b))
		snprintf(out, cap, "%d", r->b->nproc);
	else
		snprintf(out, cap, "n/a");
}
static void procs_json(cJSON *o, const char *k, const col_row *r)
{
	col_json_num_or_null(o, k, r->b->nproc, browser_nproc_valid(r->b));
}
static void page_cell(char *out, size_t cap, const col_row *r)
{
	fmt_bytes(out, cap, r->b->page_mem_bytes, r->b->page_mem_valid);
}
static void page_json(cJSON *o, const char *k, const col_row *r)
{
	col_json_num_or_null(o, k, (double)r->b->page_mem_bytes, r->b->page_mem_valid);
}

/* Screen: title, min, pref, max, prio, right, status, flex, cell, role;
 * sort: place, name, compare;  JSON: key, value;  batch: place, title, width, cut, text. */
#define ST FMT_STATUS_MAX
const col_spec browser_columns[BC__COUNT] = {
	[BC_ID]       = { "ID", 3, 3, 0, 100, true, false, false, id_cell, NULL,
			  10, "id", id_cmp, "id", id_json, 10, "ID", 4, false, NULL },
	[BC_KIND]     = { "KIND", 8, 9, 0, 90, false, false, false, kind_cell, NULL,
			  20, "kind", kind_cmp, "kind", kind_json, 20, "KIND", -9, true, kind_batch },
	[BC_VERSION]  = { "VERSION", 8, 15, 0, 30, false, false, false, version_cell, version_role,
			  70, "version", version_cmp, "version", version_json, 30, "VERSION", -16, true, NULL },
	[BC_MODE]     = { "MODE", 8, 8, 0, 40, false, false, false, mode_cell, NULL,
			  0, NULL, NULL, "managed", mode_json, 40, "MANAGED", -8, false, NULL },
	[BC_STATE]    = { "STATE", 9, 9, 0, 80, false, false, false, state_cell, state_role,
			  30, "state", state_cmp, "state", state_json, 50, "STATE", -10, false, state_batch },
	[BC_WEBGPU]   = { "WEBGPU", ST, ST, 0, 95, false, true, false, webgpu_cell, webgpu_role,
			  40, "webgpu", webgpu_cmp, NULL, NULL, 70, "WEBGPU", -11, false, webgpu_batch },
	[BC_ADAPTER]  = { "ADAPTER", 10, 24, 40, 55, false, false, true, adapter_cell, NULL,
			  0, NULL, NULL, NULL, NULL, 0, NULL, 0, false, NULL },
	[BC_WEBNN]    = { "WEBNN", ST, ST, 0, 94, false, true, false, webnn_cell, webnn_role,
			  50, "webnn", webnn_cmp, NULL, NULL, 80, "WEBNN", -11, false, webnn_batch },
	[BC_MODELS]   = { "MODELS", 6, 6, 0, 50, true, false, false, models_cell, NULL,
			  0, NULL, NULL, NULL, NULL, 0, NULL, 0, false, NULL },
	[BC_INFL]     = { "INFL", 5, 5, 0, 45, true, false, false, infl_cell, NULL,
			  0, NULL, NULL, NULL, NULL, 0, NULL, 0, false, NULL },
	[BC_RTT]      = { "RTT ms", 7, 7, 0, 60, true, false, false, rtt_cell, rtt_role,
			  60, "rtt", rtt_cmp, "rtt_ms", rtt_json, 60, "RTT_MS", 8, false, rtt_batch },
	[BC_RSS]      = { "RSS", 4, 5, 0, 44, true, false, false, rss_cell, rss_role,
			  80, "rss", rss_cmp, "rss_bytes", rss_json, 100, "RSS", 6, false, NULL },
	[BC_CPU]      = { "CPU%", 4, 5, 0, 43, true, false, false, cpu_cell, cpu_role,
			  90, "cpu", cpu_cmp, "cpu_pct", cpu_json, 110, "CPU%", 6, false, NULL },
	/* the batch table only */
	[BC_WASM]     = { NULL, 0, 0, 0, 0, false, false, false, wasm_cell, NULL,
			  0, NULL, NULL, NULL, NULL, 90, "WASM", -11, false, wasm_batch },
	[BC_PROCS]    = { NULL, 0, 0, 0, 0, false, false, false, procs_cell, NULL,
			  0, NULL, NULL, "nproc", procs_json, 120, "PROCS", 5, false, NULL },
	[BC_PAGE_MEM] = { NULL, 0, 0, 0, 0, false, false, false, page_cell, NULL,
			  0, NULL, NULL, "page_memory_bytes", page_json, 130, "PAGE_MEM", 8, false, NULL },
};
#undef ST
