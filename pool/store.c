#include "store.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct store {
	sqlite3 *db;
	char path[1024];
};

static const char schema_v1[] =
	"CREATE TABLE runs("
	" id INTEGER PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL, command TEXT, version TEXT);"
	"CREATE TABLE browsers("
	" run_id INTEGER NOT NULL REFERENCES runs(id), browser_id INTEGER NOT NULL, kind TEXT, version TEXT,"
	" managed INTEGER, user_agent TEXT,"
	" webgpu_status TEXT, webgpu_evidence TEXT, vendor TEXT, architecture TEXT, device TEXT, description TEXT,"
	" fallback_adapter INTEGER, webnn_status TEXT, webnn_evidence TEXT, wasm_status TEXT, wasm_evidence TEXT,"
	" PRIMARY KEY(run_id, browser_id));"
	"CREATE TABLE results("
	" id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), browser_id INTEGER,"
	" browser_kind TEXT, browser_version TEXT, model TEXT, model_type TEXT,"
	" precision_requested TEXT, precision_loaded TEXT, file_loaded TEXT,"
	" platform_requested TEXT, platform_used TEXT, classification TEXT, evidence TEXT, fallback INTEGER,"
	" status TEXT NOT NULL, reason TEXT, iterations INTEGER, warmup INTEGER, concurrency INTEGER,"
	" p50_ms REAL, p95_ms REAL, p99_ms REAL, mean_ms REAL, min_ms REAL, max_ms REAL, throughput_rps REAL,"
	" load_ms REAL, compute_mean_ms REAL, wire_mean_ms REAL, queue_mean_ms REAL, memory_bytes REAL,"
	" verify_max_abs REAL, verify_norm_err REAL, verify_tolerance REAL, verify_ok INTEGER, verify_note TEXT,"
	" output_head TEXT);"
	"CREATE INDEX results_run ON results(run_id);";

/* Version 2: what `accel-top tune` measured, one row per candidate, and which one it chose. */
static const char schema_v2[] =
	"CREATE TABLE tuning("
	" id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), measured_at REAL NOT NULL,"
	" browser_kind TEXT, browser_version TEXT, adapter TEXT, classification TEXT, kernel TEXT NOT NULL,"
	" workload TEXT, wx INTEGER, wy INTEGER, items INTEGER, is_default INTEGER, chosen INTEGER,"
	" status TEXT NOT NULL, reason TEXT, timing TEXT, samples INTEGER,"
	" median_ms REAL, min_ms REAL, mean_ms REAL, compile_ms REAL,"
	" verify_max_abs REAL, verify_tolerance REAL, verify_ok INTEGER);"
	"CREATE INDEX tuning_key ON tuning(browser_kind, browser_version, adapter, kernel);";

/* Version 3: sharded runs (rows of older files read as unsharded) */
static const char schema_v3[] =
	"ALTER TABLE results ADD COLUMN shard TEXT;"
	"ALTER TABLE results ADD COLUMN shard_figures TEXT;";

static int db_err(store *s, ac_err *err, const char *what)
{
	return ac_errf(err, AC_EIO, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(store *s, const char *sql, ac_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ac_errf(err, AC_EIO, "%s: %s", s->path, msg ? msg : "error");
		sqlite3_free(msg);
		return AC_EIO;
	}
	return 0;
}

int store_open(const char *path, store **out, ac_err *err)
{
	store *s = calloc(1, sizeof *s);
	if (!s)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	ac_strlcpy(s->path, path, sizeof s->path);
	int rc;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = db_err(s, err, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		rc = ac_errf(err, AC_EINVAL, "%s is not an accel-top database (%s): give another --db",
			     path, sqlite3_errmsg(s->db));
		goto fail;
	}
	int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version < 0) {
		rc = ac_errf(err, AC_EINVAL, "%s is not an accel-top database (%s): give another --db",
			     path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		rc = ac_errf(err, AC_EINVAL, "%s was written by a newer accel-top (schema %d; this one knows %d): "
			     "use that version, or another --db", path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0) {
		sqlite3_stmt *t;
		int tables = 0;
		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &t, NULL) == SQLITE_OK &&
		    sqlite3_step(t) == SQLITE_ROW)
			tables = sqlite3_column_int(t, 0);
		sqlite3_finalize(t);
		if (tables) {
			rc = ac_errf(err, AC_EINVAL, "%s is an sqlite database, but not accel-top's: give another --db", path);
			goto fail;
		}
	}
	/* migrations, one step per version, all inside one transaction: a file from an older
	 * accel-top keeps its rows and gains the new tables */
	if (version < STORE_SCHEMA_VERSION) {
		if ((rc = exec(s, "BEGIN", err)) || (version < 1 && (rc = exec(s, schema_v1, err))) ||
		    (version < 2 && (rc = exec(s, schema_v2, err))) ||
		    (version < 3 && (rc = exec(s, schema_v3, err))) ||
		    (rc = exec(s, "PRAGMA user_version = 3", err)) || (rc = exec(s, "COMMIT", err))) {
			exec(s, "ROLLBACK", &(ac_err){ 0 });
			goto fail;
		}
	}
	if ((rc = exec(s, "PRAGMA journal_mode = WAL", err)))
		goto fail;
	*out = s;
	return 0;
fail:
	sqlite3_close(s->db);
	free(s);
	return rc;
}

void store_close(store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v, bool valid)
{
	if (valid)
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int store_begin_run(store *s, const char *command, int64_t *run_id, ac_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO runs(started_at, command, version) VALUES(?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, err, "cannot add a run");
	sqlite3_bind_double(st, 1, (double)ac_now_us() / 1e6);
	bind_text(st, 2, command);
	bind_text(st, 3, AC_VERSION);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "cannot add a run");
	sqlite3_finalize(st);
	*run_id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int store_end_run(store *s, int64_t run_id, ac_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "UPDATE runs SET finished_at = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "cannot close the run");
	sqlite3_bind_double(st, 1, (double)ac_now_us() / 1e6);
	sqlite3_bind_int64(st, 2, run_id);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "cannot close the run");
	sqlite3_finalize(st);
	return rc;
}

int store_add_browser(store *s, int64_t run_id, const pool_browser *b, ac_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO browsers VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(s, err, "cannot add a browser");
	const ac_caps *c = &b->caps;
	int i = 1;
	sqlite3_bind_int64(st, i++, run_id);
	sqlite3_bind_int(st, i++, b->id);
	bind_text(st, i++, b->kind);
	bind_text(st, i++, b->version);
	sqlite3_bind_int(st, i++, b->managed);
	bind_text(st, i++, c->valid ? c->user_agent : NULL);
	bind_text(st, i++, c->valid ? class_name(c->verdict[PLAT_WEBGPU].status) : NULL);
	bind_text(st, i++, c->valid ? c->verdict[PLAT_WEBGPU].evidence : NULL);
	bind_text(st, i++, c->webgpu.vendor);
	bind_text(st, i++, c->webgpu.architecture);
	bind_text(st, i++, c->webgpu.device);
	bind_text(st, i++, c->webgpu.description);
	if (c->valid && c->webgpu.fallback != TRI_UNSET)
		sqlite3_bind_int(st, i++, c->webgpu.fallback);
	else
		sqlite3_bind_null(st, i++);
	bind_text(st, i++, c->valid ? class_name(c->verdict[PLAT_WEBNN].status) : NULL);
	bind_text(st, i++, c->valid ? c->verdict[PLAT_WEBNN].evidence : NULL);
	bind_text(st, i++, c->valid ? class_name(c->verdict[PLAT_WASM].status) : NULL);
	bind_text(st, i++, c->valid ? c->verdict[PLAT_WASM].evidence : NULL);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "cannot add a browser");
	sqlite3_finalize(st);
	return rc;
}

int store_add_result(store *s, int64_t run_id, const store_result *r, ac_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO results(run_id, browser_id, browser_kind, browser_version, model, model_type,"
			       " precision_requested, precision_loaded, file_loaded, platform_requested, platform_used,"
			       " classification, evidence, fallback, status, reason, iterations, warmup, concurrency,"
			       " p50_ms, p95_ms, p99_ms, mean_ms, min_ms, max_ms, throughput_rps, load_ms,"
			       " compute_mean_ms, wire_mean_ms, queue_mean_ms, memory_bytes, verify_max_abs,"
			       " verify_norm_err, verify_tolerance, verify_ok, verify_note, output_head, shard, shard_figures)"
			       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "cannot add a result");
	int i = 1;
	bool f = r->have_figures, v = r->have_verify;
	sqlite3_bind_int64(st, i++, run_id);
	sqlite3_bind_int(st, i++, r->browser_id);
	bind_text(st, i++, r->browser_kind);
	bind_text(st, i++, r->browser_version);
	bind_text(st, i++, r->model);
	bind_text(st, i++, r->model_type);
	bind_text(st, i++, r->precision_requested);
	bind_text(st, i++, r->precision_loaded);
	bind_text(st, i++, r->file_loaded);
	bind_text(st, i++, r->platform_requested);
	bind_text(st, i++, r->platform_used);
	bind_text(st, i++, r->classification);
	bind_text(st, i++, r->evidence);
	sqlite3_bind_int(st, i++, r->fallback);
	bind_text(st, i++, r->status);
	bind_text(st, i++, r->reason);
	sqlite3_bind_int(st, i++, r->iterations);
	sqlite3_bind_int(st, i++, r->warmup);
	sqlite3_bind_int(st, i++, r->concurrency);
	bind_real(st, i++, r->p50_ms, f);
	bind_real(st, i++, r->p95_ms, f);
	bind_real(st, i++, r->p99_ms, f);
	bind_real(st, i++, r->mean_ms, f);
	bind_real(st, i++, r->min_ms, f);
	bind_real(st, i++, r->max_ms, f);
	bind_real(st, i++, r->throughput_rps, f);
	bind_real(st, i++, r->load_ms, f && r->load_ms >= 0);
	bind_real(st, i++, r->compute_mean_ms, f);
	bind_real(st, i++, r->wire_mean_ms, f);
	bind_real(st, i++, r->queue_mean_ms, f);
	bind_real(st, i++, r->memory_bytes, r->have_memory);
	bind_real(st, i++, r->verify_max_abs, v);
	bind_real(st, i++, r->verify_norm_err, v);
	bind_real(st, i++, r->verify_tolerance, v);
	if (v)
		sqlite3_bind_int(st, i++, r->verify_ok);
	else
		sqlite3_bind_null(st, i++);
	bind_text(st, i++, r->verify_note);
	bind_text(st, i++, r->output_head);
	bind_text(st, i++, r->shard);
	bind_text(st, i++, r->shard_figures);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "cannot add a result");
	sqlite3_finalize(st);
	return rc;
}

/* ---------------------------------------------------------------- tuning */

int store_add_tuning(store *s, int64_t run_id, const store_tuning *t, ac_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO tuning(run_id, measured_at, browser_kind, browser_version, adapter, classification,"
			       " kernel, workload, wx, wy, items, is_default, chosen, status, reason, timing, samples,"
			       " median_ms, min_ms, mean_ms, compile_ms, verify_max_abs, verify_tolerance, verify_ok)"
			       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "cannot add a tuning result");
	int i = 1;
	sqlite3_bind_int64(st, i++, run_id);
	sqlite3_bind_double(st, i++, t->measured_at);
	bind_text(st, i++, t->browser_kind);
	bind_text(st, i++, t->browser_version);
	bind_text(st, i++, t->adapter);
	bind_text(st, i++, t->classification);
	bind_text(st, i++, t->kernel);
	bind_text(st, i++, t->workload);
	sqlite3_bind_int(st, i++, t->wx);
	sqlite3_bind_int(st, i++, t->wy);
	sqlite3_bind_int(st, i++, t->items);
	sqlite3_bind_int(st, i++, t->is_default);
	sqlite3_bind_int(st, i++, t->chosen);
	bind_text(st, i++, t->status);
	bind_text(st, i++, t->reason);
	bind_text(st, i++, t->timing);
	sqlite3_bind_int(st, i++, t->samples);
	bind_real(st, i++, t->median_ms, t->have_figures);
	bind_real(st, i++, t->min_ms, t->have_figures);
	bind_real(st, i++, t->mean_ms, t->have_figures);
	bind_real(st, i++, t->compile_ms, t->have_figures);
	bind_real(st, i++, t->verify_max_abs, t->have_verify);
	bind_real(st, i++, t->verify_tolerance, t->have_verify);
	if (t->have_verify)
		sqlite3_bind_int(st, i++, t->verify_ok);
	else
		sqlite3_bind_null(st, i++);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, err, "cannot add a tuning result");
	sqlite3_finalize(st);
	return rc;
}

static void col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	ac_strlcpy(dst, v ? v : "", cap);
}

int store_find_tuning(store *s, const char *kind, const char *version, const char *adapter, const char *kernel,
		      store_tuning **rows, int *n, ac_err *err)
{
	*rows = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT run_id, measured_at, browser_kind, browser_version, adapter, classification, kernel,"
			       " workload, wx, wy, items, is_default, chosen, status, reason, timing, samples, median_ms,"
			       " min_ms, mean_ms, compile_ms, verify_max_abs, verify_tolerance, verify_ok FROM tuning"
			       " WHERE run_id = (SELECT max(run_id) FROM tuning WHERE browser_kind = ?1 AND"
			       " browser_version = ?2 AND adapter = ?3 AND kernel = ?4 AND chosen = 1)"
			       " AND browser_kind = ?1 AND browser_version = ?2 AND adapter = ?3 AND kernel = ?4 ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "cannot read tuning results");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, adapter, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, kernel, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_tuning *grown = realloc(*rows, (size_t)(*n + 1) * sizeof **rows);
		if (!grown)
			break;
		*rows = grown;
		store_tuning *t = &grown[(*n)++];
		memset(t, 0, sizeof *t);
		int c = 0;
		t->run_id = sqlite3_column_int64(st, c++);
		t->measured_at = sqlite3_column_double(st, c++);
		col_text(st, c++, t->browser_kind, sizeof t->browser_kind);
		col_text(st, c++, t->browser_version, sizeof t->browser_version);
		col_text(st, c++, t->adapter, sizeof t->adapter);
		col_text(st, c++, t->classification, sizeof t->classification);
		col_text(st, c++, t->kernel, sizeof t->kernel);
		col_text(st, c++, t->workload, sizeof t->workload);
		t->wx = sqlite3_column_int(st, c++);
		t->wy = sqlite3_column_int(st, c++);
		t->items = sqlite3_column_int(st, c++);
		t->is_default = sqlite3_column_int(st, c++);
		t->chosen = sqlite3_column_int(st, c++);
		col_text(st, c++, t->status, sizeof t->status);
		col_text(st, c++, t->reason, sizeof t->reason);
		col_text(st, c++, t->timing, sizeof t->timing);
		t->samples = sqlite3_column_int(st, c++);
		t->have_figures = sqlite3_column_type(st, c) != SQLITE_NULL;
		t->median_ms = sqlite3_column_double(st, c++);
		t->min_ms = sqlite3_column_double(st, c++);
		t->mean_ms = sqlite3_column_double(st, c++);
		t->compile_ms = sqlite3_column_double(st, c++);
		t->have_verify = sqlite3_column_type(st, c) != SQLITE_NULL;
		t->verify_max_abs = sqlite3_column_double(st, c++);
		t->verify_tolerance = sqlite3_column_double(st, c++);
		t->verify_ok = sqlite3_column_int(st, c++);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		free(*rows);
		*rows = NULL;
		*n = 0;
		return db_err(s, err, "cannot read tuning results");
	}
	return 0;
}

/* ---------------------------------------------------------------- report */

static void csv_field(FILE *out, const char *v)
{
	if (!strpbrk(v, ",\"\n\r")) {
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', out);
		fputc(*v, out);
	}
	fputc('"', out);
}

static void md_cell(FILE *out, sqlite3_stmt *st, int col, const char *fmt)
{
	fputs(" ", out);
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		fputs("n/a", out);
	} else if (fmt) {
		fprintf(out, fmt, sqlite3_column_double(st, col));
	} else {
		const char *t = (const char *)sqlite3_column_text(st, col);
		for (; t && *t; t++) /* a table cell holds no pipes or newlines */
			fputc(*t == '|' ? '/' : *t == '\n' ? ' ' : *t, out);
	}
	fputs(" |", out);
}

static int col_index(sqlite3_stmt *st, const char *name)
{
	for (int i = 0; i < sqlite3_column_count(st); i++)
		if (!strcmp(sqlite3_column_name(st, i), name))
			return i;
	return -1;
}

/* The Markdown table's columns: the results column, its heading, and a printf format for
 * numbers (NULL: the text as it is). */
static const struct {
	const char *col, *head, *fmt;
} md_cols[] = {
	{ "run_id", "run", NULL }, { "browser_kind", "browser", NULL }, { "shard", "shards", NULL },
	{ "concurrency", "in flight", "%.0f" }, { "platform_requested", "platform", NULL },
	{ "platform_used", "ran on", NULL }, { "classification", "adapter", NULL }, { "fallback", "fallback", NULL },
	{ "model", "model", NULL }, { "precision_requested", "precision", NULL }, { "file_loaded", "file", NULL },
	{ "status", "status", NULL },
	{ "p50_ms", "p50 ms", "%.2f" }, { "p95_ms", "p95 ms", "%.2f" }, { "p99_ms", "p99 ms", "%.2f" },
	{ "throughput_rps", "req/s", "%.1f" }, { "load_ms", "load ms", "%.0f" },
	{ "verify_norm_err", "verify err", "%.1e" }, { "verify_ok", "verified", NULL }, { "reason", "reason", NULL },
};
#define N_MD ((int)(sizeof md_cols / sizeof md_cols[0]))

static void md_head(FILE *out)
{
	fputs("|", out);
	for (int i = 0; i < N_MD; i++)
		fprintf(out, " %s |", md_cols[i].head);
	fputs("\n|", out);
	for (int i = 0; i < N_MD; i++)
		fputs("---|", out);
	fputc('\n', out);
}

static void md_row(FILE *out, sqlite3_stmt *st)
{
	fputs("|", out);
	for (int i = 0; i < N_MD; i++) {
		int c = col_index(st, md_cols[i].col);
		if (!strcmp(md_cols[i].col, "fallback") || !strcmp(md_cols[i].col, "verify_ok")) {
			const char *v = sqlite3_column_type(st, c) == SQLITE_NULL ? "n/a"
				: sqlite3_column_int(st, c) ? "yes" : "no";
			fprintf(out, " %s |", v);
		} else {
			md_cell(out, st, c, md_cols[i].fmt);
		}
	}
	fputc('\n', out);
}

static void csv_head(FILE *out, sqlite3_stmt *st, int ncol)
{
	for (int i = 0; i < ncol; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, sqlite3_column_name(st, i));
	}
	fputc('\n', out);
}

static void csv_row(FILE *out, sqlite3_stmt *st, int ncol)
{
	for (int i = 0; i < ncol; i++) {
		if (i)
			fputc(',', out);
		if (sqlite3_column_type(st, i) != SQLITE_NULL)
			csv_field(out, (const char *)sqlite3_column_text(st, i));
	}
	fputc('\n', out);
}

static void json_row(cJSON *arr, sqlite3_stmt *st, int ncol)
{
	cJSON *o = cJSON_CreateObject();
	for (int i = 0; i < ncol; i++) {
		const char *name = sqlite3_column_name(st, i);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL: cJSON_AddNullToObject(o, name); break;
		case SQLITE_INTEGER:
			if (!strcmp(name, "fallback") || !strcmp(name, "verify_ok"))
				cJSON_AddBoolToObject(o, name, sqlite3_column_int(st, i));
			else
				cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT: cJSON_AddNumberToObject(o, name, sqlite3_column_double(st, i)); break;
		default: cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, i));
		}
	}
	cJSON_AddItemToArray(arr, o);
}

int store_report(store *s, int64_t run_id, report_format fmt, FILE *out, ac_err *err)
{
	sqlite3_stmt *st;
	const char *sql = run_id > 0 ? "SELECT * FROM results WHERE run_id = ? ORDER BY id"
		: run_id == 0 ? "SELECT * FROM results WHERE run_id = (SELECT max(id) FROM runs) ORDER BY id"
			      : "SELECT * FROM results ORDER BY run_id, id";
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(s, err, "cannot read results");
	if (run_id > 0)
		sqlite3_bind_int64(st, 1, run_id);
	int ncol = sqlite3_column_count(st);
	cJSON *arr = fmt == REPORT_JSON ? cJSON_CreateArray() : NULL;
	int rows = 0, rc;
	if (fmt == REPORT_CSV)
		csv_head(out, st, ncol);
	else if (fmt == REPORT_MD)
		md_head(out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows++;
		if (fmt == REPORT_JSON)
			json_row(arr, st, ncol);
		else if (fmt == REPORT_CSV)
			csv_row(out, st, ncol);
		else
			md_row(out, st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(arr);
		return db_err(s, err, "cannot read results");
	}
	if (arr) {
		char *txt = cJSON_Print(arr);
		fputs(txt, out);
		fputc('\n', out);
		free(txt);
		cJSON_Delete(arr);
	}
	if (!rows && fmt == REPORT_MD)
		fprintf(out, "(no results%s)\n", run_id > 0 ? " for that run" : "");
	return 0;
}
