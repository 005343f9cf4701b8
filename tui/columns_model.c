/* The models panel's columns: one entry per column in model_columns[] at the end of this file,
 * its functions just above it. See tui/columns.h for what each field means. */
#include <stdio.h>
#include <string.h>

#include "columns.h"
#include "format.h"

static void json_string(cJSON *o, const char *k, const char *v) { cJSON_AddStringToObject(o, k, v); }

/* ---- ID ---- */
static void id_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%d", r->m->id); }
static int id_cmp(const col_row *a, const col_row *b) { return col_cmp_num(a->m->id, b->m->id); }
static void id_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddNumberToObject(o, k, r->m->id); }

/* ---- MODEL, TYPE, PREC, PLAT: the batch table writes the names as they are ---- */
static void name_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%s", r->m->name[0] ? r->m->name : "?"); }
static void name_batch(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%s", r->m->name); }
static int name_cmp(const col_row *a, const col_row *b) { return strcmp(a->m->name, b->m->name); }
static void name_json(cJSON *o, const char *k, const col_row *r) { json_string(o, k, r->m->name); }
static void type_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%s", r->m->type[0] ? r->m->type : "n/a"); }
static void type_json(cJSON *o, const char *k, const col_row *r) { json_string(o, k, r->m->type); }
static void prec_cell(char *out, size_t cap, const col_row *r)
{
	snprintf(out, cap, "%s", r->m->precision[0] ? r->m->precision : "n/a");
}
static void prec_batch(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%s", r->m->precision); }
static int prec_cmp(const col_row *a, const col_row *b) { return strcmp(a->m->precision, b->m->precision); }
static void prec_json(cJSON *o, const char *k, const col_row *r) { json_string(o, k, r->m->precision); }
/* a '*': some results ran on wasm instead */
static void plat_cell(char *out, size_t cap, const col_row *r)
{
	snprintf(out, cap, "%s%s", r->m->platform[0] ? r->m->platform : "n/a", r->m->fallback ? "*" : "");
}
static void plat_batch(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%s", r->m->platform); }
static int plat_cmp(const col_row *a, const col_row *b) { return strcmp(a->m->platform, b->m->platform); }
static void plat_json(cJSON *o, const char *k, const col_row *r) { json_string(o, k, r->m->platform); }

/* ---- STATE (JSON: running) ---- */
static void state_cell(char *out, size_t cap, const col_row *r)
{
	const pool_model *m = r->m;
	snprintf(out, cap, "%s", !m->running ? "stopped" : m->breakers_open ? "breaker" : "running");
}
static role state_role(const col_row *r, const col_limits *l)
{
	(void)l;
	return !r->m->running ? R_DIM : r->m->breakers_open ? R_WARN : R_GOOD;
}
static void state_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddBoolToObject(o, k, r->m->running); }

/* ---- BROWSERS ---- */
static void browsers_cell(char *out, size_t cap, const col_row *r)
{
	const pool_model *m = r->m;
	fmt_id_list(out, cap, m->browsers, m->n_browsers < POOL_MODEL_BROWSERS ? m->n_browsers : POOL_MODEL_BROWSERS);
}
static void browsers_batch(char *out, size_t cap, const col_row *r)
{
	char ids[32] = "";
	for (int k = 0; k < r->m->n_browsers; k++)
		ac_strlcatf(ids, sizeof ids, "%s%d", k ? "," : "", r->m->browsers[k]);
	snprintf(out, cap, "%s", ids[0] ? ids : "-");
}
static void browsers_json(cJSON *o, const char *k, const col_row *r)
{
	cJSON *br = cJSON_AddArrayToObject(o, k);
	for (int i = 0; i < r->m->n_browsers; i++)
		cJSON_AddItemToArray(br, cJSON_CreateNumber(r->m->browsers[i]));
}

/* ---- QUEUE, INFL ---- */
static void queue_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%d", r->m->queue); }
static role queue_role(const col_row *r, const col_limits *l)
{
	long q = r->m->queue;
	if (q >= l->crit_queue && l->crit_queue > 0)
		return R_CRIT;
	if (q >= l->warn_queue && l->warn_queue > 0)
		return R_WARN;
	return R_NORMAL;
}
static int queue_cmp(const col_row *a, const col_row *b) { return col_cmp_num(a->m->queue, b->m->queue); }
static void queue_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddNumberToObject(o, k, r->m->queue); }
static void infl_cell(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%d", r->m->inflight); }
static void infl_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddNumberToObject(o, k, r->m->inflight); }

/* ---- P50, P95, P99: valid once a request completed ---- */
static void pct_cell(char *out, size_t cap, double ms, bool valid) { fmt_ms(out, cap, ms, valid); }
static void pct_batch(char *out, size_t cap, double ms, bool valid)
{
	if (valid)
		snprintf(out, cap, "%.2f", ms);
	else
		snprintf(out, cap, "n/a");
}
static int pct_cmp(double a, bool av, double b, bool bv) { return col_cmp_num(av ? a : -1, bv ? b : -1); }
#define PERCENTILE(P, FIELD)                                                                                         \
	static void P##_cell(char *out, size_t cap, const col_row *r) { pct_cell(out, cap, r->m->FIELD, r->m->lat_valid); } \
	static void P##_batch(char *out, size_t cap, const col_row *r) { pct_batch(out, cap, r->m->FIELD, r->m->lat_valid); } \
	static role P##_role(const col_row *r, const col_limits *l) { return col_ms_role(r->m->FIELD, r->m->lat_valid, l); } \
	static int P##_cmp(const col_row *a, const col_row *b)                                                       \
	{                                                                                                            \
		return pct_cmp(a->m->FIELD, a->m->lat_valid, b->m->FIELD, b->m->lat_valid);                          \
	}                                                                                                            \
	static void P##_json(cJSON *o, const char *k, const col_row *r)                                              \
	{                                                                                                            \
		col_json_num_or_null(o, k, r->m->FIELD, r->m->lat_valid);                                            \
	}
PERCENTILE(p50, p50_ms)
PERCENTILE(p95, p95_ms)
PERCENTILE(p99, p99_ms)
#undef PERCENTILE

/* ---- REQ/s: the rate now (the caller sets m->rps) ---- */
static void rps_cell(char *out, size_t cap, const col_row *r) { fmt_rate(out, cap, r->m->rps); }
static void rps_batch(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%.1f", r->m->rps); }
static int rps_cmp(const col_row *a, const col_row *b) { return col_cmp_num(a->m->rps, b->m->rps); }
static void rps_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddNumberToObject(o, k, r->m->rps); }

/* ---- ERR ---- */
static void err_cell(char *out, size_t cap, const col_row *r) { fmt_count(out, cap, r->m->errors); }
static void err_batch(char *out, size_t cap, const col_row *r) { snprintf(out, cap, "%llu", (unsigned long long)r->m->errors); }
static role err_role(const col_row *r, const col_limits *l) { (void)l; return r->m->errors ? R_CRIT : R_NORMAL; }
static int err_cmp(const col_row *a, const col_row *b) { return col_cmp_num((double)a->m->errors, (double)b->m->errors); }
static void err_json(cJSON *o, const char *k, const col_row *r) { cJSON_AddNumberToObject(o, k, (double)r->m->errors); }

/* ---- VERIFY: the largest error against the reference (JSON: max_abs_err, max_norm_err, verified) ---- */
static void verify_cell(char *out, size_t cap, const col_row *r)
{
	const pool_model *m = r->m;
	if (!m->err_valid)
		snprintf(out, cap, "n/a");
	else if (!m->verify_ok)
		snprintf(out, cap, "FAIL");
	else
		snprintf(out, cap, "%.1e", m->max_abs_err);
}
static void verify_batch(char *out, size_t cap, const col_row *r)
{
	const pool_model *m = r->m;
	if (m->err_valid)
		snprintf(out, cap, "%s %.0e", m->verify_ok ? "ok" : "BAD", m->max_norm_err);
	else
		snprintf(out, cap, "n/a");
}
static role verify_role(const col_row *r, const col_limits *l)
{
	(void)l;
	return !r->m->err_valid ? R_NA : r->m->verify_ok ? R_GOOD : R_CRIT;
}

/* ---- LATENCY: the sparkline of the newest latencies ---- */
static void spark_cell(char *out, size_t cap, const col_row *r)
{
	const pool_model *m = r->m;
	int n = m->history_len < 0 ? 0 : m->history_len > POOL_LAT_HISTORY ? POOL_LAT_HISTORY : m->history_len;
	fmt_sparkline(out, cap, m->history, n, r->width, r->utf8);
}
static role spark_role(const col_row *r, const col_limits *l) { (void)r; (void)l; return R_HEADER; }

/* Screen: title, min, pref, max, prio, right, status, flex, cell, role;
 * sort: place, name, compare;  JSON: key, value;  batch: place, title, width, cut, text. */
const col_spec model_columns[MC__COUNT] = {
	[MC_ID]       = { "ID", 3, 3, 0, 100, true, false, false, id_cell, NULL,
			  10, "id", id_cmp, "id", id_json, 10, "ID", 4, false, NULL },
	[MC_MODEL]    = { "MODEL", 10, 16, 0, 98, false, false, false, name_cell, NULL,
			  20, "model", name_cmp, "name", name_json, 20, "MODEL", -21, true, name_batch },
	[MC_TYPE]     = { "TYPE", 5, 10, 0, 30, false, false, false, type_cell, NULL,
			  0, NULL, NULL, "type", type_json, 0, NULL, 0, false, NULL },
	[MC_PREC]     = { "PREC", 5, 5, 0, 97, false, false, false, prec_cell, NULL,
			  30, "precision", prec_cmp, "precision", prec_json, 30, "PREC", -6, false, prec_batch },
	[MC_PLAT]     = { "PLAT", 7, 7, 0, 96, false, false, false, plat_cell, NULL,
			  40, "platform", plat_cmp, "platform", plat_json, 40, "PLATFRM", -7, false, plat_batch },
	[MC_STATE]    = { "STATE", 7, 7, 0, 40, false, false, false, state_cell, state_role,
			  0, NULL, NULL, "running", state_json, 0, NULL, 0, false, NULL },
	[MC_BROWSERS] = { "BROWSERS", 8, 12, 0, 50, false, false, false, browsers_cell, NULL,
			  0, NULL, NULL, "browsers", browsers_json, 50, "BROWSERS", -8, false, browsers_batch },
	[MC_QUEUE]    = { "QUEUE", 5, 5, 0, 80, true, false, false, queue_cell, queue_role,
			  100, "queue", queue_cmp, "queue", queue_json, 60, "QUEUE", 5, false, NULL },
	[MC_INFL]     = { "INFL", 4, 5, 0, 79, true, false, false, infl_cell, NULL,
			  0, NULL, NULL, "inflight", infl_json, 70, "INFL", 5, false, NULL },
	[MC_P50]      = { "P50 ms", 7, 7, 0, 90, true, false, false, p50_cell, p50_role,
			  50, "p50", p50_cmp, "p50_ms", p50_json, 80, "P50_MS", 8, false, p50_batch },
	[MC_P95]      = { "P95 ms", 7, 7, 0, 85, true, false, false, p95_cell, p95_role,
			  60, "p95", p95_cmp, "p95_ms", p95_json, 90, "P95_MS", 8, false, p95_batch },
	[MC_P99]      = { "P99 ms", 7, 7, 0, 60, true, false, false, p99_cell, p99_role,
			  70, "p99", p99_cmp, "p99_ms", p99_json, 100, "P99_MS", 8, false, p99_batch },
	[MC_RPS]      = { "REQ/s", 6, 6, 0, 88, true, false, false, rps_cell, NULL,
			  80, "req/s", rps_cmp, "rps", rps_json, 110, "REQ/S", 7, false, rps_batch },
	[MC_ERR]      = { "ERR", 5, 5, 0, 70, true, false, false, err_cell, err_role,
			  90, "errors", err_cmp, "errors", err_json, 120, "ERRORS", 6, false, err_batch },
	[MC_VERIFY]   = { "VERIFY", 7, 8, 0, 35, true, false, false, verify_cell, verify_role,
			  0, NULL, NULL, NULL, NULL, 130, "VERIFY", 9, false, verify_batch },
	[MC_SPARK]    = { "LATENCY", 8, 8, POOL_LAT_HISTORY, 65, false, false, true, spark_cell, spark_role,
			  0, NULL, NULL, NULL, NULL, 0, NULL, 0, false, NULL },
};
