/* The model library: model directories laid out as transformers.js lays out ONNX exports.
 *
 *   <dir>/<name>/accel.json          manifest (format 1; see models/README.md)
 *   <dir>/<name>/onnx/model.onnx     fp32            model_fp16.onnx   fp16
 *   model_quantized.onnx  int8       model_q4.onnx   int4               model_q4f16.onnx  q4f16
 *
 * A variant whose file is absent is absent: nothing is substituted. */
#ifndef AC_CATALOG_H
#define AC_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "ac.h"

typedef enum { PREC_FP32, PREC_FP16, PREC_INT8, PREC_INT4, PREC_Q4F16, PREC__COUNT } ac_precision;

typedef enum {
	FILL_TOKENS, FILL_ONES, FILL_ZEROS, FILL_UNIFORM, FILL_NORMAL, FILL_AUDIO_LOGMEL, FILL_AUDIO_PCM,
	FILL_SCALAR, FILL_IMAGE
} fill_kind;

#define CAT_MAX_IO 8
#define CAT_MAX_RANK 8
#define CAT_MAX_MODELS 64
#define CAT_MAX_ROOTS 8

typedef struct {
	char name[64];
	char dtype[12];       /* float32, int64, ... */
	int rank;
	int64_t dims[CAT_MAX_RANK]; /* symbolic dims resolved through the manifest's "dims" */
	fill_kind fill;
	double a, b;          /* uniform low/high, normal mean/std, scalar value */
	int64_t vocab;        /* tokens */
	int n_mels, frames, samples; /* audio */
	double mean[3], std[3], rescale; /* image: pixels 0..255 * rescale, then (x - mean) / std per channel */
} cat_input;

/* A model split into a pipeline: shard k runs on what the request and shard k-1 give it. Each
 * shard is a model folder of its own (FOLDER/onnx/<precision file>) inside the model's folder. */
#define CAT_MAX_SHARDS 4
typedef struct {
	char folder[256];     /* relative to the model's folder: "shards/1" */
	int n_inputs;
	char inputs[CAT_MAX_IO][64];
	bool from_previous[CAT_MAX_IO]; /* else the request's input of that name */
	int n_outputs;
	char outputs[CAT_MAX_IO][64];
	bool has[PREC__COUNT];
} cat_shard;

typedef struct {
	char name[64];
	char type[16];        /* text vision audio multimodal */
	char description[160];
	char source[160];
	char dir[4096];       /* the model's folder */
	char file[PREC__COUNT][160]; /* each precision's file, relative to dir ("onnx/model.onnx") */
	bool inferred;        /* the manifest was built from the model (no complete accel.json) */
	int root;             /* index of its models directory: served at /models/ROOT/NAME/ */
	bool has[PREC__COUNT];
	double tolerance[PREC__COUNT]; /* normalised error allowed against fp32 on wasm */
	cat_input inputs[CAT_MAX_IO];
	int n_inputs;
	char outputs[CAT_MAX_IO][64];
	int n_outputs;
	cat_shard shards[CAT_MAX_SHARDS];
	int n_shards;         /* 0 = not described as shards */
} cat_model;

typedef struct {
	cat_model models[CAT_MAX_MODELS];
	int n;
	char roots[CAT_MAX_ROOTS][4096];
	int n_roots;
} catalog;

const char *prec_name(ac_precision p);          /* fp32 ... */
const char *prec_file(ac_precision p);          /* model.onnx ... */
int prec_from_name(const char *name);           /* negative if unknown */
/* --precision 4|8|16|32 (+ --mixed-precision) */
int prec_from_bits(int bits, bool mixed);

/* Adds every model under dir: each subfolder with a complete accel.json, or with model files
 * whose manifest is inferred (pool/infer.h; an accel.json without "inputs" overlays it). A
 * malformed manifest or a model that cannot be inferred is an error naming the folder and what to
 * write; a folder with neither accel.json nor a .onnx file is skipped. */
int catalog_add_dir(catalog *c, const char *dir, ac_err *err);

/* The manifest of the model folder dir (named name), as accel.json text: the file when it is
 * complete, else the inferred one with the file's overlay. *inferred says which; free() *json. */
int catalog_manifest_text(const char *dir, const char *name, char **json, bool *inferred, ac_err *err);

/* Parses one manifest into m (dir and root set by the caller). */
int catalog_parse_manifest(const char *json, const char *path, cat_model *m, ac_err *err);

const cat_model *catalog_find(const catalog *c, const char *name);

/* "/models/ROOT/NAME/onnx/FILE" */
void catalog_url(const cat_model *m, ac_precision p, char *out, size_t cap);
/* shard 1..n_shards: "/models/ROOT/NAME/FOLDER/onnx/FILE"; shard 0 is the whole model */
void catalog_shard_url(const cat_model *m, int shard, ac_precision p, char *out, size_t cap);
/* Whether every shard has this precision (false for a model without shards). */
bool catalog_shards_have(const cat_model *m, ac_precision p);

#endif
