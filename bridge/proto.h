/* The accel.v1 codec: bytes from a WebSocket message in, a checked message out, and back.
 * No I/O and no connection state here (the bridge keeps that), so the fuzzer can drive it alone.
 * The protocol is documented in man/accel-top-protocol.7. */
#ifndef AC_PROTO_H
#define AC_PROTO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/tensor.h" /* dtype numbers */

#define PROTO_NAME "accel.v1"
#define PROTO_VERSION 1
#define PROTO_MAX_RANK 8
#define PROTO_MAX_TENSORS 64

typedef enum {
	PM_HELLO, PM_WELCOME, PM_PING, PM_PONG, PM_ECHO, PM_RECONNECT, PM_ERROR,
	PM_LOAD, PM_LOADED, PM_RUN, PM_RESULT, PM_UNLOAD, PM_UNLOADED,
	PM_LOGMEL, PM_LOGMEL_RESULT, /* the audio front end on the page's GPU (accel-top tune) */
	PM__COUNT
} pm_type;

/* Protocol error codes, as sent in `error` messages. */
typedef enum {
	PE_OK = 0,
	PE_BAD_JSON = -1,
	PE_BAD_MESSAGE = -2,
	PE_UNKNOWN_TYPE = -3,
	PE_OUT_OF_ORDER = -4,
	PE_BAD_FRAME = -5,
	PE_UNSUPPORTED_VERSION = -6,
	PE_TOO_LARGE = -7,
} proto_errc;

typedef struct {
	pm_type type;
	bool has_id;
	uint32_t id;
	uint32_t tensors;  /* binary frames that follow (echo, run, result, logmel, logmel_result) */
	uint32_t session;  /* load, loaded, run, result, unload, unloaded */
	cJSON *root;       /* the whole message; owned, freed by proto_msg_free */
} proto_msg;


typedef struct {
	uint8_t dtype, rank;
	uint32_t req_id, index;
	uint64_t dims[PROTO_MAX_RANK];
	char name[256];
	size_t hdr_len;        /* offset of the data */
	size_t data_len;       /* bytes of data */
	const uint8_t *data;   /* into the decoded buffer */
} proto_frame;

const char *pm_type_name(pm_type t);
const char *proto_errc_name(proto_errc c);   /* "bad_json", ... */
size_t proto_dtype_size(uint8_t dtype);      /* 0 if unknown */
const char *proto_dtype_name(uint8_t dtype);

/* Decodes one text message. Returns PE_OK, or a negative proto_errc with err set to a one-line
 * description naming what was wrong; m->has_id/m->id are still set when an id could be read, so
 * the error reply can echo it. On success the caller frees with proto_msg_free(). */
int proto_decode_text(const char *buf, size_t len, proto_msg *m, char *err, size_t errlen);
void proto_msg_free(proto_msg *m);

/* Decodes one binary frame (header checked, data length exact). */
int proto_decode_frame(const uint8_t *buf, size_t len, proto_frame *f, char *err, size_t errlen);

/* Writes the header for f (dtype, rank, dims, name, req_id, index) into out; returns its length
 * (a multiple of 8), or 0 if cap is too small or a field is invalid. Sets f->hdr_len/data_len. */
size_t proto_encode_frame_header(proto_frame *f, uint8_t *out, size_t cap);

/* One WebSocket message per request (accel.v1 "onemsg", man/accel-top-protocol.7 "ONE-MESSAGE
 * FORM"): a binary message that starts with "ATNM" holds the JSON message and its K frames:
 *   0 "ATNM", 4 version 1, 5..7 zero, 8 u32 JSON length J, 12 u32 K, 16 the JSON, zero padding
 *   to a multiple of 8; then K times: u64 frame length L, the frame (the ATNS layout), zero
 *   padding to a multiple of 8. Sent only to a page whose hello listed PROTO_FEATURE_ONEMSG in
 *   "protocol_features", and by a page only when the welcome listed it back. */
#define PROTO_FEATURE_ONEMSG "onemsg"
#define PROTO_ONEMSG_HDR 16

bool proto_is_onemsg(const uint8_t *buf, size_t len);
/* The whole message's size for a JSON of json_len bytes and n frames of lens[i] bytes. */
size_t proto_onemsg_size(size_t json_len, const size_t *lens, int n);
/* Writes the message head and the JSON into out (proto_onemsg_size() bytes); returns the offset
 * of the first frame's slot. */
size_t proto_onemsg_head(uint8_t *out, const char *json, size_t json_len, uint32_t n);
/* Writes the slot at *off for a frame of len bytes (its length and the padding after it) and
 * returns where the frame's bytes go; *off moves to the next slot. */
uint8_t *proto_onemsg_slot(uint8_t *out, size_t *off, size_t len);
/* Decodes one: the JSON as proto_decode_text() does (m as there), then its frames in place
 * (frames[i].data points into buf), each checked, carrying m->id and its index in order, as many
 * as the JSON's "tensors". *n: the frames decoded. */
int proto_decode_onemsg(const uint8_t *buf, size_t len, proto_msg *m, proto_frame *frames, int *n, char *err,
			size_t errlen);

/* Serialised messages, malloc'd NUL-terminated JSON; NULL when out of memory. */
char *proto_error_json(bool has_id, uint32_t id, proto_errc code, const char *message);
char *proto_simple_json(pm_type type, bool has_id, uint32_t id);

/* The server's requests, typed: each returns a new cJSON object without its "id" (the bridge
 * adds it last, bridge_request()), NULL when out of memory. Field order is the wire's order
 * (man/accel-top-protocol.7). */
typedef struct {
	uint32_t session;
	const char *model, *precision, *platform, *url, *file;
	const char *device_type;   /* NULL: not sent (webnn sends "gpu") */
} proto_load;

/* A run's "audio_logmel": input `index` is the raw 16 kHz clip; the page computes the log-mel
 * on its GPU with this workgroup shape (--optimize-audio, tui/optaudio.h). */
typedef struct {
	int index, frames;
	int rank;
	int64_t dims[PROTO_MAX_RANK];
	int workgroup[3];
	int items;
	bool tuned;
} proto_logmel_spec;

/* A run's "prepare" (--text, --image): the page makes these inputs itself, from the text through
 * the model's tokenizer.json, or from the encoded image (PNG/JPEG) that the run carries in place of
 * the image input's frame (a uint8 frame of the file's bytes), resized and normalised as given. */
typedef struct {
	const char *text, *tokenizer; /* NULL: no text */
	int ids, mask, type_ids;      /* frame indices of the token inputs, -1 where absent */
	int image;                    /* frame index of the image input, -1 none */
	int64_t image_dims[4];        /* the input's [batch, channels, height, width] */
	double mean[3], std[3], rescale;
} proto_prepare;

typedef struct {
	uint32_t session;
	int tensors;               /* binary frames that follow */
	bool outputs;              /* "outputs": "all" (true) or "none" */
	const proto_logmel_spec *audio_logmel; /* NULL: not sent */
	const proto_prepare *prepare;          /* NULL: not sent */
} proto_run;

cJSON *proto_encode_load(const proto_load *l);
cJSON *proto_encode_run(const proto_run *r);
cJSON *proto_encode_unload(uint32_t session);

#endif
