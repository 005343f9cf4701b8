/* The "shards" of a model manifest (models/README.md): what a valid description gives the
 * catalog, and the one-line error each mistake gets. Also the pool's EV_SHARD_DONE. */
#include "check.h"
#include "tests.h"

#include "../../pool/catalog.h"
#include "../../pool/pool.h"

#define HEAD "{\"format\":1,\"name\":\"enc\",\"type\":\"text\",\"dims\":{\"b\":1,\"s\":4}," \
	     "\"inputs\":[{\"name\":\"ids\",\"dtype\":\"int64\",\"shape\":[\"b\",\"s\"],\"fill\":{\"kind\":\"ones\"}}," \
	     "{\"name\":\"mask\",\"dtype\":\"int64\",\"shape\":[\"b\",\"s\"],\"fill\":{\"kind\":\"ones\"}}]," \
	     "\"outputs\":[{\"name\":\"out\"},{\"name\":\"pooled\"}]"
#define S1 "{\"folder\":\"shards/1\",\"inputs\":[{\"name\":\"ids\",\"from\":\"input\"},{\"name\":\"mask\",\"from\":\"input\"}],\"outputs\":[\"hidden\"]}"
#define S2 "{\"folder\":\"shards/2\",\"inputs\":[{\"name\":\"hidden\",\"from\":\"previous\"},{\"name\":\"mask\",\"from\":\"input\"}],\"outputs\":[\"out\",\"pooled\"]}"

static void free_pool(void *p) { pool_free(p); }

static int parse(const char *json, cat_model *m, ac_err *err)
{
	memset(m, 0, sizeof *m);
	memset(err, 0, sizeof *err);
	return catalog_parse_manifest(json, "x/accel.json", m, err);
}

int test_shards_manifest_valid(void)
{
	static cat_model m;
	ac_err err;
	CHECK_EQ_INT(parse(HEAD ",\"shards\":[" S1 "," S2 "]}", &m, &err), 0);
	CHECK_EQ_INT(m.n_shards, 2);
	CHECK_STR(m.shards[0].folder, "shards/1");
	CHECK_EQ_INT(m.shards[0].n_inputs, 2);
	CHECK(!m.shards[0].from_previous[0] && !m.shards[0].from_previous[1]);
	CHECK_STR(m.shards[0].outputs[0], "hidden");
	CHECK_STR(m.shards[1].inputs[0], "hidden");
	CHECK(m.shards[1].from_previous[0] && !m.shards[1].from_previous[1]);
	CHECK_EQ_INT(m.shards[1].n_outputs, 2);
	m.root = 3;
	char url[256];
	catalog_shard_url(&m, 2, PREC_INT8, url, sizeof url);
	CHECK_STR(url, "/models/3/enc/shards/2/onnx/model_quantized.onnx");
	catalog_shard_url(&m, 0, PREC_FP32, url, sizeof url);
	CHECK_STR(url, "/models/3/enc/onnx/model.onnx");
	CHECK(!catalog_shards_have(&m, PREC_FP32)); /* no file was found: has[] is all false */
	m.shards[0].has[PREC_FP32] = m.shards[1].has[PREC_FP32] = true;
	CHECK(catalog_shards_have(&m, PREC_FP32));
	/* no "shards": a whole model only */
	CHECK_EQ_INT(parse(HEAD "}", &m, &err), 0);
	CHECK_EQ_INT(m.n_shards, 0);
	CHECK(!catalog_shards_have(&m, PREC_FP32));
	return 0;
}

static int bad(const char *shards, const char *want)
{
	static cat_model m;
	ac_err err;
	char json[2048];
	snprintf(json, sizeof json, HEAD ",\"shards\":%s}", shards);
	if (parse(json, &m, &err) != AC_EINVAL || !strstr(err.msg, "x/accel.json: ") || !strstr(err.msg, want) ||
	    strchr(err.msg, '\n')) {
		check_fail(__FILE__, __LINE__, "shards %s: error \"%s\", wanted \"%s\"", shards, err.msg, want);
		return 1;
	}
	return 0;
}

int test_shards_manifest_errors(void)
{
	CHECK(!bad("{}", "'shards' must be a list of 2 to 4 shards"));
	CHECK(!bad("[" S1 "]", "'shards' must be a list of 2 to 4 shards"));
	CHECK(!bad("[{\"inputs\":[],\"outputs\":[]}," S2 "]", "shards[0].folder must be a relative path"));
	CHECK(!bad("[{\"folder\":\"../x\",\"inputs\":[],\"outputs\":[]}," S2 "]", "shards[0].folder"));
	CHECK(!bad("[{\"folder\":\"/abs\",\"inputs\":[],\"outputs\":[]}," S2 "]", "shards[0].folder"));
	CHECK(!bad("[{\"folder\":\"a\",\"inputs\":[],\"outputs\":[\"hidden\"]}," S2 "]",
		   "shards[0].inputs must be a list of 1 to 8 inputs"));
	CHECK(!bad("[{\"folder\":\"a\",\"inputs\":[{\"name\":\"ids\",\"from\":\"input\"}],\"outputs\":[]}," S2 "]",
		   "shards[0].outputs must be a list of 1 to 8 names"));
	CHECK(!bad("[{\"folder\":\"a\",\"inputs\":[{\"name\":\"ids\",\"from\":\"disk\"}],\"outputs\":[\"hidden\"]}," S2 "]",
		   "shards[0].inputs[0] needs a string 'name' and 'from': \"input\" or \"previous\""));
	CHECK(!bad("[{\"folder\":\"a\",\"inputs\":[{\"name\":\"ids\",\"from\":\"previous\"}],\"outputs\":[\"hidden\"]}," S2 "]",
		   "the first shard has no previous shard"));
	CHECK(!bad("[{\"folder\":\"a\",\"inputs\":[{\"name\":\"pixels\",\"from\":\"input\"}],\"outputs\":[\"hidden\"]}," S2 "]",
		   "shards[0].inputs[0] ('pixels') comes from 'input', but the model's 'inputs' has no such input"));
	CHECK(!bad("[" S1 ",{\"folder\":\"b\",\"inputs\":[{\"name\":\"h2\",\"from\":\"previous\"}],\"outputs\":[\"out\",\"pooled\"]}]",
		   "shards[1].inputs[0] ('h2') comes from 'previous', but shards[0].outputs does not list it"));
	CHECK(!bad("[" S1 ",{\"folder\":\"b\",\"inputs\":[{\"name\":\"mask\",\"from\":\"input\"}],\"outputs\":[\"out\",\"pooled\"]}]",
		   "shards[1].inputs takes nothing from the previous shard"));
	CHECK(!bad("[" S1 ",{\"folder\":\"b\",\"inputs\":[{\"name\":\"hidden\",\"from\":\"previous\"}],\"outputs\":[\"pooled\",\"out\"]}]",
		   "shards[1].outputs must be the model's 'outputs', in the same order"));
	return 0;
}

/* A two-stage request: shard 1's end hands the request back for stage 2; the last shard's end
 * only records figures, and EV_REQUEST_DONE ends the request once. */
int test_shards_pool_stages(void)
{
	pool *p;
	ac_err err;
	CHECK_EQ_INT(pool_new(&p), 0);
	check_defer(free_pool, p);
	ac_event evs[] = {
		{ .kind = EV_BROWSER_LAUNCHED, .browser = 1, .family = "chromium", .num = 11 },
		{ .kind = EV_BROWSER_LAUNCHED, .browser = 2, .family = "firefox", .num = 12 },
		{ .kind = EV_WORKLOAD_STARTED, .model = 1, .name = "bert-tiny", .precision = "fp32", .platform = "wasm",
		  .family = "chromium,firefox", .num = 1, .text = "text" },
		{ .kind = EV_SESSION_LOADING, .browser = 1, .session = 1, .model = 1, .precision = "fp32",
		  .platform = "wasm", .text = "shard 1/2 model.onnx", .num2 = 1 },
		{ .kind = EV_SESSION_LOADING, .browser = 2, .session = 2, .model = 1, .precision = "fp32",
		  .platform = "wasm", .text = "shard 2/2 model.onnx", .num2 = 2 },
		{ .kind = EV_SESSION_READY, .browser = 1, .session = 1, .platform = "wasm" },
		{ .kind = EV_SESSION_READY, .browser = 2, .session = 2, .platform = "wasm" },
		{ .kind = EV_REQUEST_QUEUED, .model = 1, .request = 7 },
		{ .kind = EV_REQUEST_SENT, .model = 1, .request = 7, .browser = 1, .session = 1 },
		{ .kind = EV_SHARD_DONE, .model = 1, .request = 7, .browser = 1, .session = 1, .num = 1, .num2 = 2,
		  .x = { 4, 5, 9, 16384 } },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		evs[i].t_us = 1000 + (int64_t)i;
		CHECK_EQ_INT(pool_apply(p, &evs[i], &err), 0);
	}
	const pool_request *r = pool_request_find(p, 7);
	CHECK(r && !r->inflight && r->stage == 1);
	CHECK(pool_next_queued(p, 1) == NULL); /* between stages: not a new request */
	CHECK_EQ_INT(pool_session_find(p, 1, 1)->inflight, 0);
	CHECK_EQ_INT(pool_session_find(p, 2, 2)->shard, 2);
	const pool_model *m = pool_model_find(p, 1);
	CHECK_EQ_INT(m->n_shards, 2);
	CHECK(m->shard[0].n == 1 && m->shard[0].compute_ms == 4 && m->shard[0].transfer_ms == 4 &&
	      m->shard[0].total_ms == 9 && m->shard[0].bytes == 16384 && m->shard[0].browser == 1);
	/* a shard done on a session the request is not on is refused */
	ac_event wrong = { .kind = EV_SHARD_DONE, .t_us = 2000, .model = 1, .request = 7, .browser = 2, .session = 2,
			   .num = 2, .num2 = 2 };
	CHECK(pool_apply(p, &wrong, &err) < 0);
	ac_event rest[] = {
		{ .kind = EV_REQUEST_SENT, .model = 1, .request = 7, .browser = 2, .session = 2 },
		{ .kind = EV_SHARD_DONE, .model = 1, .request = 7, .browser = 2, .session = 2, .num = 2, .num2 = 2,
		  .x = { 2, 3, 6, 0 } },
		{ .kind = EV_REQUEST_DONE, .model = 1, .request = 7, .browser = 2, .session = 2, .x = { 15, 6, 0, 8 } },
	};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
		rest[i].t_us = 3000 + (int64_t)i;
		CHECK_EQ_INT(pool_apply(p, &rest[i], &err), 0);
	}
	CHECK(pool_request_find(p, 7) == NULL);
	m = pool_model_find(p, 1);
	CHECK(m->completed == 1 && m->shard[1].n == 1 && m->shard[1].transfer_ms == 3 && m->shard[1].browser == 2);
	CHECK_EQ_INT(pool_session_find(p, 2, 2)->inflight, 0);
	pool_request_totals t;
	pool_request_totals_get(p, &t);
	CHECK(t.submitted == 1 && t.done == 1 && t.failed == 0);
	return 0;
}
