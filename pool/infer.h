/* The manifest of a model folder that has no complete accel.json, built from the model itself:
 * the ONNX graph's inputs and outputs (pool/onnx.c), symbolic dimensions resolved from
 * config.json / preprocessor_config.json or defaults, and a fill chosen for each input by its name
 * and type. The rules are listed in models/README.md ("Dropping in a model"); infer.c holds them.
 *
 * The folder is laid out as transformers.js lays out exports (onnx/model.onnx, model_fp16.onnx,
 * model_quantized.onnx, model_q4.onnx, model_q4f16.onnx), or holds one bare *.onnx (fp32).
 * An accel.json without "inputs" is an overlay: its keys replace the inferred ones ("dims" and
 * "tolerance" key by key), so {"format": 1, "dims": {"sequence_length": 64}} is a whole file. */
#ifndef AC_INFER_H
#define AC_INFER_H

#include <cjson/cJSON.h>

#include "ac.h"

#define INFER_SEQ_DEFAULT 128     /* tokens, when config.json gives no maximum (and the cap) */
#define INFER_SAMPLES_DEFAULT 512 /* PCM samples: 32 ms at 16 kHz (Silero VAD's frame) */
#define INFER_IMAGE_DEFAULT 224
#define INFER_FRAMES_DEFAULT 3000 /* log-mel frames: 30 s, Whisper's window */

/* The manifest (format 1, as accel.json would hold it) for the model folder dir named name, with
 * overlay (an accel.json without "inputs", or NULL) applied. *out is the caller's to cJSON_Delete.
 * A model it cannot describe is one line naming the input and what to write in accel.json. */
int infer_manifest(const char *dir, const char *name, const cJSON *overlay, cJSON **out, ac_err *err);

/* Whether dir holds a model file infer_manifest() would read (onnx/model*.onnx or a *.onnx). */
int infer_has_model(const char *dir);

#endif
