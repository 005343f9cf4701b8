/* The scheduler tests' harness (test-sched.c, test-sched-faults.c): a small catalog in a
 * temporary folder (empty .onnx files: the browsers are fake), a real pool and loop, the scheduler
 * behind fake browsers (fake-sched-io.h), a record of every event the pool applied, and the
 * exactly-once accounting every test ends with. Test code, not product code. */
#include "sched-harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"

/* The models: txt (text; fp32 fp16 int8), img (vision; fp32), enc (text; fp32, as 2 shards, the
 * first with an output the second does not take). */
static const char *const manifests[][2] = {
	{ "txt", "{\"format\":1,\"name\":\"txt\",\"type\":\"text\",\"dims\":{\"b\":1,\"s\":4},\"inputs\":["
		 "{\"name\":\"ids\",\"dtype\":\"int64\",\"shape\":[\"b\",\"s\"],\"fill\":{\"kind\":\"ones\"}},"
		 "{\"name\":\"mask\",\"dtype\":\"int64\",\"shape\":[\"b\",\"s\"],\"fill\":{\"kind\":\"ones\"}}],"
		 "\"outputs\":[{\"name\":\"out\"}]}" },
	{ "img", "{\"format\":1,\"name\":\"img\",\"type\":\"vision\",\"inputs\":[{\"name\":\"pixels\",\"dtype\":"
		 "\"float32\",\"shape\":[1,3,2,2],\"fill\":{\"kind\":\"ones\"}}],\"outputs\":[{\"name\":\"out\"}]}" },
	{ "enc", "{\"format\":1,\"name\":\"enc\",\"type\":\"text\",\"dims\":{\"b\":1,\"s\":4},\"inputs\":["
		 "{\"name\":\"ids\",\"dtype\":\"int64\",\"shape\":[\"b\",\"s\"],\"fill\":{\"kind\":\"ones\"}},"
		 "{\"name\":\"mask\",\"dtype\":\"int64\",\"shape\":[\"b\",\"s\"],\"fill\":{\"kind\":\"ones\"}}],"
		 "\"outputs\":[{\"name\":\"out\"},{\"name\":\"pooled\"}],\"shards\":["
		 "{\"folder\":\"shards/1\",\"inputs\":[{\"name\":\"ids\",\"from\":\"input\"},{\"name\":\"mask\",\"from\":"
		 "\"input\"}],\"outputs\":[\"hidden\",\"extra\"]},{\"folder\":\"shards/2\",\"inputs\":[{\"name\":\"hidden\",\"from\":"
		 "\"previous\"},{\"name\":\"mask\",\"from\":\"input\"}],\"outputs\":[\"out\",\"pooled\"]}]}" },
};
static const char *const model_files[] = {
	"txt/onnx/model.onnx", "txt/onnx/model_fp16.onnx", "txt/onnx/model_quantized.onnx", "img/onnx/model.onnx",
	"enc/onnx/model.onnx", "enc/shards/1/onnx/model.onnx", "enc/shards/2/onnx/model.onnx",
};

static int write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	for (char *q = path + strlen(dir) + 1; (q = strchr(q, '/')); q++) {
		*q = '\0';
		mkdir(path, 0700);
		*q = '/';
	}
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void recorder(void *ctx, const ac_event *ev)
{
	harness *h = ctx;
	if (h->n_ev == REC_MAX) {
		h->ev_overflow = true;
		return;
	}
	rec_ev *r = &h->ev[h->n_ev++];
	*r = (rec_ev){ .kind = ev->kind, .browser = ev->browser, .model = ev->model, .session = ev->session,
		       .request = ev->request, .num = ev->num, .num2 = ev->num2, .x0 = ev->x[0],
		       .x1 = ev->x[1] };
	ac_strlcpy(r->name, ev->name ? ev->name : "", sizeof r->name);
	ac_strlcpy(r->text, ev->text ? ev->text : "", sizeof r->text);
}

static void teardown(void *arg)
{
	harness *h = arg;
	fake_free(h->f); /* first: it runs the loop until the scheduler's timers are closed */
	pool_free(h->p);
	if (h->loop_ok)
		uv_loop_close(&h->loop);
	if (h->dir[0])
		nftw(h->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(h->cat);
	free(h);
}

/* A pool, a catalog and a scheduler under cfg (NULL: the defaults, window 2), nothing connected. */
harness *sh_setup(const sched_config *cfg)
{
	harness *h = calloc(1, sizeof *h);
	if (!h || !(h->cat = calloc(1, sizeof *h->cat))) {
		free(h);
		return NULL;
	}
	check_defer(teardown, h);
	ac_err err;
	snprintf(h->dir, sizeof h->dir, "/tmp/accel-sched-XXXXXX");
	if (!mkdtemp(h->dir)) {
		h->dir[0] = '\0';
		return NULL;
	}
	for (size_t i = 0; i < sizeof manifests / sizeof manifests[0]; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "%s/accel.json", manifests[i][0]);
		if (write_file(h->dir, rel, manifests[i][1]))
			return NULL;
	}
	for (size_t i = 0; i < sizeof model_files / sizeof model_files[0]; i++)
		if (write_file(h->dir, model_files[i], ""))
			return NULL;
	if (catalog_add_dir(h->cat, h->dir, &err)) {
		fprintf(stdout, "     catalog: %s\n", err.msg);
		return NULL;
	}
	sched_config dflt = { .seed = 7, .window = 2 };
	if (uv_loop_init(&h->loop) || pool_new(&h->p))
		return NULL;
	h->loop_ok = true;
	if (fake_new(&h->loop, h->p, h->cat, cfg ? cfg : &dflt, &h->f) || pool_add_listener(h->p, recorder, h))
		return NULL;
	h->s = fake_sched(h->f);
	return h;
}

int sh_count(const harness *h, ev_kind kind)
{
	int n = 0;
	for (int i = 0; i < h->n_ev; i++)
		n += h->ev[i].kind == kind;
	return n;
}

/* The latest recorded event of a kind (NULL if none). */
const rec_ev *sh_last(const harness *h, ev_kind kind)
{
	for (int i = h->n_ev - 1; i >= 0; i--)
		if (h->ev[i].kind == kind)
			return &h->ev[i];
	return NULL;
}

int sh_start(harness *h, const char *model, const char *platform, const char *browser, int concurrency,
		 int64_t count_, int *row)
{
	workload_spec w = { .concurrency = concurrency, .count = count_, .on_demand = concurrency == 0 };
	ac_strlcpy(w.model, model, sizeof w.model);
	ac_strlcpy(w.precision, "fp32", sizeof w.precision);
	ac_strlcpy(w.platform, platform, sizeof w.platform);
	ac_strlcpy(w.browser, browser, sizeof w.browser);
	ac_err err = { 0, "" };
	int rc = sched_start(h->s, &w, row, &err);
	if (rc)
		fprintf(stdout, "     sched_start: %s\n", err.msg);
	return rc;
}

/* Every request counted exactly once: each submitted one is done, failed or still in the pool;
 * no request ended twice; the pool refused nothing the scheduler emitted. */
int sh_accounting(const harness *h)
{
	CHECK(!h->ev_overflow);
	pool_request_totals t;
	pool_request_totals_get(h->p, &t);
	CHECK_EQ_INT(t.submitted, t.done + t.failed + t.pending);
	CHECK_EQ_INT(t.pending, pool_request_count(h->p));
	CHECK_EQ_INT(t.submitted, sh_count(h, EV_REQUEST_QUEUED));
	CHECK_EQ_INT(t.done, sh_count(h, EV_REQUEST_DONE));
	CHECK_EQ_INT(t.failed, sh_count(h, EV_REQUEST_FAILED));
	CHECK_EQ_INT(t.requeued, sh_count(h, EV_REQUEST_REQUEUED));
	CHECK_EQ_INT(t.discarded, sh_count(h, EV_REQUEST_DISCARDED));
	for (int i = 0; i < h->n_ev; i++) {
		if (h->ev[i].kind != EV_REQUEST_DONE && h->ev[i].kind != EV_REQUEST_FAILED)
			continue;
		for (int k = i + 1; k < h->n_ev; k++)
			if ((h->ev[k].kind == EV_REQUEST_DONE || h->ev[k].kind == EV_REQUEST_FAILED) &&
			    h->ev[k].request == h->ev[i].request) {
				check_fail(__FILE__, __LINE__, "request %lld ended twice", (long long)h->ev[i].request);
				return 1;
			}
	}
	if (fake_refused(h->f))
		check_fail(__FILE__, __LINE__, "refused: %s", fake_last_refusal(h->f));
	CHECK_EQ_INT(fake_refused(h->f), 0);
	return 0;
}

const float sh_out_a[4] = { 0.5f, -1.0f, 2.0f, 0.25f };
const float sh_out_b[4] = { 0.5f, -1.0f, 2.5f, 0.25f }; /* differs from sh_out_a by 0.5 in 2 */
const fake_out sh_outs_a[1] = { { "out", sh_out_a, 4 } };
const fake_out sh_outs_b[1] = { { "out", sh_out_b, 4 } };

/* The row's ready sessions' in-flight counts, by browser. */
int sh_inflight(const harness *h, int row, int browser)
{
	int n = 0;
	for (size_t i = 0; i < pool_session_count(h->p); i++) {
		const pool_session *ps = pool_session_at(h->p, i);
		if (ps->model == row && ps->browser == browser && !ps->reference)
			n += ps->inflight;
	}
	return n;
}

/* A hello whose WebNN gpu context works and reports accelerated=true (hardware WebNN). */
const cJSON *sh_hello_webnn_hardware(void)
{
	const cJSON *base = load_fixture("hello-chromium-nvidia-h200.json");
	cJSON *h = base ? DEFER_JSON(cJSON_Duplicate(base, true)) : NULL;
	cJSON *devs = h ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "webnn"), "devices") : NULL;
	if (!devs)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(devs, "gpu");
	cJSON_AddItemToObject(devs, "gpu", cJSON_Parse("{\"ok\":true,\"error\":null,\"accelerated\":true}"));
	/* an Edge on Windows: on Linux, Chromium's WebNN is the CPU whatever a context says (caps.c) */
	cJSON *b = cJSON_GetObjectItemCaseSensitive(h, "browser");
	cJSON_DeleteItemFromObjectCaseSensitive(b, "user_agent");
	cJSON_AddStringToObject(b, "user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
				"(KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0");
	return h;
}
