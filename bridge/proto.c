#include "proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[PM__COUNT] = {
	[PM_HELLO] = "hello", [PM_WELCOME] = "welcome", [PM_PING] = "ping", [PM_PONG] = "pong",
	[PM_ECHO] = "echo", [PM_RECONNECT] = "reconnect", [PM_ERROR] = "error",
	[PM_LOAD] = "load", [PM_LOADED] = "loaded", [PM_RUN] = "run", [PM_RESULT] = "result",
	[PM_UNLOAD] = "unload", [PM_UNLOADED] = "unloaded", [PM_LOGMEL] = "logmel", [PM_LOGMEL_RESULT] = "logmel_result",
};

/* Which types must carry an id (requests and replies); reconnect is a notice, error may lack one. */
static const bool needs_id[PM__COUNT] = {
	[PM_HELLO] = true, [PM_WELCOME] = true, [PM_PING] = true, [PM_PONG] = true, [PM_ECHO] = true,
	[PM_LOAD] = true, [PM_LOADED] = true, [PM_RUN] = true, [PM_RESULT] = true, [PM_UNLOAD] = true,
	[PM_UNLOADED] = true, [PM_LOGMEL] = true, [PM_LOGMEL_RESULT] = true,
};

/* Which types carry binary frames ("tensors") and a "session" key. */
static const bool has_tensors[PM__COUNT] = {
	[PM_ECHO] = true, [PM_RUN] = true, [PM_RESULT] = true, [PM_LOGMEL] = true, [PM_LOGMEL_RESULT] = true,
};
static const bool has_session[PM__COUNT] = {
	[PM_LOAD] = true, [PM_LOADED] = true, [PM_RUN] = true, [PM_RESULT] = true, [PM_UNLOAD] = true,
	[PM_UNLOADED] = true,
};

static const char *const errc_names[] = {
	"ok", "bad_json", "bad_message", "unknown_type", "out_of_order", "bad_frame",
	"unsupported_version", "too_large",
};


const char *pm_type_name(pm_type t) { return (unsigned)t < PM__COUNT ? type_names[t] : "?"; }

const char *proto_errc_name(proto_errc c)
{
	unsigned i = (unsigned)-c;
	return i < sizeof errc_names / sizeof errc_names[0] ? errc_names[i] : "internal";
}

size_t proto_dtype_size(uint8_t d) { return dtype_size(d); }
const char *proto_dtype_name(uint8_t d) { return dtype_name(d); }

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A JSON number that is an integer in 0..2^32-1. */
static bool as_u32(const cJSON *v, uint32_t *out)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!(d >= 0 && d <= 4294967295.0) || floor(d) != d)
		return false;
	*out = (uint32_t)d;
	return true;
}

/* One JSON object and nothing after it. */
static int parse_object(const char *buf, size_t len, cJSON **out, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root)
		return fail(err, errlen, PE_BAD_JSON, "message is not valid JSON");
	for (const char *p = end; p && p < buf + len; p++) /* one JSON value, nothing after it */
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			cJSON_Delete(root);
			return fail(err, errlen, PE_BAD_JSON, "message has bytes after its JSON value");
		}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, errlen, PE_BAD_JSON, "message is JSON but not an object");
	}
	*out = root;
	return PE_OK;
}

/* What every message has: an optional (for some types required) id and a known type. */
static int check_envelope(const cJSON *root, proto_msg *m, char *err, size_t errlen)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (id && !cJSON_IsNull(id)) {
		if (!as_u32(id, &m->id))
			return fail(err, errlen, PE_BAD_MESSAGE, "field 'id' must be an integer from 0 to 4294967295");
		m->has_id = true;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (!cJSON_IsString(type))
		return fail(err, errlen, PE_BAD_MESSAGE, "field 'type' is missing or not a string");
	int t;
	for (t = 0; t < PM__COUNT; t++)
		if (strcmp(type->valuestring, type_names[t]) == 0)
			break;
	if (t == PM__COUNT)
		return fail(err, errlen, PE_UNKNOWN_TYPE, "unknown message type '%.64s'", type->valuestring);
	m->type = (pm_type)t;
	if (needs_id[t] && !m->has_id)
		return fail(err, errlen, PE_BAD_MESSAGE, "'%s' needs an integer 'id'", type_names[t]);
	return PE_OK;
}

static int check_hello(const cJSON *root, char *err, size_t errlen)
{
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(root, "protocol");
	uint32_t v;
	if (!as_u32(pv, &v))
		return fail(err, errlen, PE_BAD_MESSAGE, "'hello' needs an integer 'protocol'");
	if (v != PROTO_VERSION)
		return fail(err, errlen, PE_UNSUPPORTED_VERSION, "protocol version %u is not supported (this server speaks %d)",
			    v, PROTO_VERSION);
	const cJSON *inst = cJSON_GetObjectItemCaseSensitive(root, "instance");
	uint32_t iv;
	if (inst && !cJSON_IsNull(inst) && !as_u32(inst, &iv))
		return fail(err, errlen, PE_BAD_MESSAGE, "'hello' field 'instance' must be an integer or null");
	return PE_OK;
}

/* The fields a type carries by the tables above: tensors, session, the measured time. */
static int check_counts(const cJSON *root, proto_msg *m, char *err, size_t errlen)
{
	int t = (int)m->type;
	if (has_tensors[t]) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "tensors");
		if (!as_u32(n, &m->tensors) || m->tensors > PROTO_MAX_TENSORS)
			return fail(err, errlen, PE_BAD_MESSAGE, "'%s' needs 'tensors' from 0 to %d", type_names[t],
				    PROTO_MAX_TENSORS);
	}
	if (has_session[t]) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "session");
		if (!as_u32(n, &m->session))
			return fail(err, errlen, PE_BAD_MESSAGE, "'%s' needs an integer 'session'", type_names[t]);
	}
	if (t == PM_RESULT || t == PM_LOADED) {
		const char *key = t == PM_RESULT ? "compute_ms" : "load_ms";
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, key);
		if (!cJSON_IsNumber(n) || !(n->valuedouble >= 0))
			return fail(err, errlen, PE_BAD_MESSAGE, "'%s' needs a number '%s' >= 0", type_names[t], key);
	}
	return PE_OK;
}

static bool all_numbers_ge0(const cJSON *a)
{
	if (!cJSON_IsArray(a))
		return false;
	for (const cJSON *e = a->child; e; e = e->next)
		if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0))
			return false;
	return true;
}

static int check_logmel(const cJSON *root, char *err, size_t errlen)
{
	if (all_numbers_ge0(cJSON_GetObjectItemCaseSensitive(root, "wall_ms")) &&
	    all_numbers_ge0(cJSON_GetObjectItemCaseSensitive(root, "gpu_ms")) &&
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "timing")))
		return PE_OK;
	return fail(err, errlen, PE_BAD_MESSAGE,
		    "'logmel_result' needs 'wall_ms' and 'gpu_ms' (arrays of numbers >= 0) and a string 'timing'");
}

static int check_error(const cJSON *root, char *err, size_t errlen)
{
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "code")) &&
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "message")))
		return PE_OK;
	return fail(err, errlen, PE_BAD_MESSAGE, "'error' needs string fields 'code' and 'message'");
}

int proto_decode_text(const char *buf, size_t len, proto_msg *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	cJSON *root = NULL;
	int rc = parse_object(buf, len, &root, err, errlen);
	if (rc != PE_OK)
		return rc;
	if ((rc = check_envelope(root, m, err, errlen)) == PE_OK && m->type == PM_HELLO)
		rc = check_hello(root, err, errlen);
	if (rc == PE_OK)
		rc = check_counts(root, m, err, errlen);
	if (rc == PE_OK && m->type == PM_LOGMEL_RESULT)
		rc = check_logmel(root, err, errlen);
	if (rc == PE_OK && m->type == PM_ERROR)
		rc = check_error(root, err, errlen);
	if (rc != PE_OK) {
		cJSON_Delete(root);
		return rc;
	}
	m->root = root;
	return PE_OK;
}

void proto_msg_free(proto_msg *m)
{
	cJSON_Delete(m->root);
	m->root = NULL;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

static const uint8_t magic[4] = { 'A', 'T', 'N', 'S' };
#define FIXED_HDR 16

static size_t header_len(unsigned rank, unsigned namelen)
{
	size_t n = FIXED_HDR + 8 * (size_t)rank + namelen;
	return (n + 7) & ~(size_t)7;
}

int proto_decode_frame(const uint8_t *buf, size_t len, proto_frame *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	if (len < FIXED_HDR)
		return fail(err, errlen, PE_BAD_FRAME, "binary frame of %zu bytes is shorter than the %d-byte header",
			    len, FIXED_HDR);
	if (memcmp(buf, magic, 4) != 0)
		return fail(err, errlen, PE_BAD_FRAME, "binary frame does not start with the magic 'ATNS'");
	if (buf[4] != PROTO_VERSION)
		return fail(err, errlen, PE_UNSUPPORTED_VERSION, "binary frame version %u is not supported (expected %d)",
			    buf[4], PROTO_VERSION);
	f->dtype = buf[5];
	f->rank = buf[6];
	unsigned namelen = buf[7];
	size_t esize = proto_dtype_size(f->dtype);
	if (!esize)
		return fail(err, errlen, PE_BAD_FRAME, "binary frame has unknown dtype %u", f->dtype);
	if (f->rank > PROTO_MAX_RANK)
		return fail(err, errlen, PE_BAD_FRAME, "binary frame rank %u exceeds %d", f->rank, PROTO_MAX_RANK);
	f->req_id = rd32(buf + 8);
	f->index = rd32(buf + 12);
	f->hdr_len = header_len(f->rank, namelen);
	if (len < f->hdr_len)
		return fail(err, errlen, PE_BAD_FRAME, "binary frame of %zu bytes is shorter than its %zu-byte header",
			    len, f->hdr_len);
	uint64_t count = 1;
	for (unsigned i = 0; i < f->rank; i++) {
		f->dims[i] = rd64(buf + FIXED_HDR + 8 * i);
		if (f->dims[i] && count > UINT64_MAX / f->dims[i])
			return fail(err, errlen, PE_BAD_FRAME, "binary frame dims overflow");
		count *= f->dims[i];
	}
	const uint8_t *name = buf + FIXED_HDR + 8 * f->rank;
	if (memchr(name, 0, namelen))
		return fail(err, errlen, PE_BAD_FRAME, "binary frame tensor name contains a NUL byte");
	memcpy(f->name, name, namelen);
	f->name[namelen] = '\0';
	for (size_t i = FIXED_HDR + 8 * f->rank + namelen; i < f->hdr_len; i++)
		if (buf[i])
			return fail(err, errlen, PE_BAD_FRAME, "binary frame header padding is not zero");
	if (count > (UINT64_MAX - f->hdr_len) / esize || f->hdr_len + count * esize != len)
		return fail(err, errlen, PE_BAD_FRAME,
			    "binary frame carries %zu data bytes but its dims say %llu elements of %zu bytes",
			    len - f->hdr_len, (unsigned long long)count, esize);
	f->data_len = len - f->hdr_len;
	f->data = buf + f->hdr_len;
	return PE_OK;
}

size_t proto_encode_frame_header(proto_frame *f, uint8_t *out, size_t cap)
{
	size_t namelen = strnlen(f->name, sizeof f->name);
	size_t esize = proto_dtype_size(f->dtype);
	if (!esize || f->rank > PROTO_MAX_RANK || namelen > 255)
		return 0;
	size_t hl = header_len(f->rank, (unsigned)namelen);
	if (cap < hl)
		return 0;
	memset(out, 0, hl);
	memcpy(out, magic, 4);
	out[4] = PROTO_VERSION;
	out[5] = f->dtype;
	out[6] = f->rank;
	out[7] = (uint8_t)namelen;
	wr32(out + 8, f->req_id);
	wr32(out + 12, f->index);
	uint64_t count = 1;
	for (unsigned i = 0; i < f->rank; i++) {
		if (f->dims[i] && count > UINT64_MAX / f->dims[i])
			return 0;
		count *= f->dims[i];
	}
	if (count > (UINT64_MAX - hl) / esize)
		return 0; /* the bytes would not fit in 64 bits */
	for (unsigned i = 0; i < f->rank; i++)
		wr64(out + FIXED_HDR + 8 * i, f->dims[i]);
	memcpy(out + FIXED_HDR + 8 * f->rank, f->name, namelen);
	f->hdr_len = hl;
	f->data_len = count * esize;
	return hl;
}

/* ---------------------------------------------------------------- one message per request */

static const uint8_t onemsg_magic[4] = { 'A', 'T', 'N', 'M' };
static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

bool proto_is_onemsg(const uint8_t *buf, size_t len)
{
	return len >= 4 && memcmp(buf, onemsg_magic, 4) == 0;
}

size_t proto_onemsg_size(size_t json_len, const size_t *lens, int n)
{
	size_t total = PROTO_ONEMSG_HDR + pad8(json_len);
	for (int i = 0; i < n; i++)
		total += 8 + pad8(lens[i]);
	return total;
}

size_t proto_onemsg_head(uint8_t *out, const char *json, size_t json_len, uint32_t n)
{
	memset(out, 0, PROTO_ONEMSG_HDR);
	memcpy(out, onemsg_magic, 4);
	out[4] = PROTO_VERSION;
	wr32(out + 8, (uint32_t)json_len);
	wr32(out + 12, n);
	memcpy(out + PROTO_ONEMSG_HDR, json, json_len);
	size_t end = PROTO_ONEMSG_HDR + pad8(json_len);
	memset(out + PROTO_ONEMSG_HDR + json_len, 0, end - PROTO_ONEMSG_HDR - json_len);
	return end;
}

uint8_t *proto_onemsg_slot(uint8_t *out, size_t *off, size_t len)
{
	wr64(out + *off, len);
	uint8_t *frame = out + *off + 8;
	memset(frame + len, 0, pad8(len) - len);
	*off += 8 + pad8(len);
	return frame;
}

static bool zeros(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The K frames after the JSON, from off; each in place, in order, carrying id. */
static int onemsg_frames(const uint8_t *buf, size_t len, size_t off, const proto_msg *m, proto_frame *frames,
			 int *n, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < m->tensors; i++) {
		if (len - off < 8)
			return fail(err, errlen, PE_BAD_FRAME, "one-message %s: frame %u's length is past the end", pm_type_name(m->type), i);
		uint64_t fl = rd64(buf + off);
		off += 8;
		if (fl > len - off || pad8((size_t)fl) > len - off)
			return fail(err, errlen, PE_BAD_FRAME, "one-message %s: frame %u of %llu bytes is past the end",
				    pm_type_name(m->type), i, (unsigned long long)fl);
		int rc = proto_decode_frame(buf + off, (size_t)fl, &frames[i], err, errlen);
		if (rc)
			return rc;
		if (frames[i].req_id != m->id || frames[i].index != i)
			return fail(err, errlen, PE_OUT_OF_ORDER, "one-message %s %u: frame %u has request id %u index %u",
				    pm_type_name(m->type), m->id, i, frames[i].req_id, frames[i].index);
		if (!zeros(buf + off + fl, pad8((size_t)fl) - (size_t)fl))
			return fail(err, errlen, PE_BAD_FRAME, "one-message %s: padding after frame %u is not zero",
				    pm_type_name(m->type), i);
		off += pad8((size_t)fl);
		*n = (int)i + 1;
	}
	if (off != len)
		return fail(err, errlen, PE_BAD_FRAME, "one-message %s has %zu bytes after its %u frames", pm_type_name(m->type),
			    len - off, m->tensors);
	return PE_OK;
}

int proto_decode_onemsg(const uint8_t *buf, size_t len, proto_msg *m, proto_frame *frames, int *n, char *err,
			size_t errlen)
{
	memset(m, 0, sizeof *m);
	*n = 0;
	if (len < PROTO_ONEMSG_HDR || !proto_is_onemsg(buf, len))
		return fail(err, errlen, PE_BAD_FRAME, "one-message of %zu bytes: no 16-byte 'ATNM' header", len);
	if (buf[4] != PROTO_VERSION)
		return fail(err, errlen, PE_UNSUPPORTED_VERSION, "one-message version %u is not supported (expected %d)",
			    buf[4], PROTO_VERSION);
	uint32_t jl = rd32(buf + 8), k = rd32(buf + 12);
	if (buf[5] || buf[6] || buf[7])
		return fail(err, errlen, PE_BAD_FRAME, "one-message header bytes 5..7 are not zero");
	if (jl > len - PROTO_ONEMSG_HDR || pad8(jl) > len - PROTO_ONEMSG_HDR)
		return fail(err, errlen, PE_BAD_FRAME, "one-message JSON of %u bytes is past the end (%zu)", jl, len);
	if (!zeros(buf + PROTO_ONEMSG_HDR + jl, pad8(jl) - jl))
		return fail(err, errlen, PE_BAD_FRAME, "one-message padding after the JSON is not zero");
	int rc = proto_decode_text((const char *)buf + PROTO_ONEMSG_HDR, jl, m, err, errlen);
	if (rc)
		return rc;
	if (m->tensors != k || (k && !has_tensors[m->type])) {
		rc = fail(err, errlen, PE_BAD_MESSAGE, "one-message '%s' says %u frames in its header, %u in its JSON",
			  pm_type_name(m->type), k, m->tensors);
	} else {
		rc = onemsg_frames(buf, len, PROTO_ONEMSG_HDR + pad8(jl), m, frames, n, err, errlen);
	}
	if (rc)
		proto_msg_free(m);
	return rc;
}

static char *finish(cJSON *j)
{
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	return s;
}

char *proto_error_json(bool has_id, uint32_t id, proto_errc code, const char *message)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "type", "error");
	if (has_id)
		cJSON_AddNumberToObject(j, "id", id);
	else
		cJSON_AddNullToObject(j, "id");
	cJSON_AddStringToObject(j, "code", proto_errc_name(code));
	cJSON_AddStringToObject(j, "message", message ? message : "");
	return finish(j);
}

char *proto_simple_json(pm_type type, bool has_id, uint32_t id)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "type", pm_type_name(type));
	if (has_id)
		cJSON_AddNumberToObject(j, "id", id);
	return finish(j);
}

cJSON *proto_encode_load(const proto_load *l)
{
	cJSON *msg = cJSON_CreateObject();
	if (!msg)
		return NULL;
	cJSON_AddStringToObject(msg, "type", "load");
	cJSON_AddNumberToObject(msg, "session", l->session);
	cJSON_AddStringToObject(msg, "model", l->model);
	cJSON_AddStringToObject(msg, "precision", l->precision);
	cJSON_AddStringToObject(msg, "platform", l->platform);
	cJSON_AddStringToObject(msg, "url", l->url);
	cJSON_AddStringToObject(msg, "file", l->file);
	if (l->device_type)
		cJSON_AddStringToObject(msg, "device_type", l->device_type);
	return msg;
}

static void add_logmel_spec(cJSON *msg, const proto_logmel_spec *a)
{
	cJSON *spec = cJSON_AddObjectToObject(msg, "audio_logmel");
	cJSON_AddNumberToObject(spec, "index", a->index);
	cJSON_AddNumberToObject(spec, "frames", a->frames);
	cJSON *dims = cJSON_AddArrayToObject(spec, "dims");
	for (int d = 0; d < a->rank && d < PROTO_MAX_RANK; d++)
		cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)a->dims[d]));
	cJSON *wg = cJSON_AddArrayToObject(spec, "workgroup");
	for (int i = 0; i < 3; i++)
		cJSON_AddItemToArray(wg, cJSON_CreateNumber(a->workgroup[i]));
	cJSON_AddNumberToObject(spec, "items", a->items);
	cJSON_AddBoolToObject(spec, "tuned", a->tuned);
}

static void add_prepare(cJSON *msg, const proto_prepare *p)
{
	cJSON *o = cJSON_AddObjectToObject(msg, "prepare");
	if (p->text) {
		cJSON_AddStringToObject(o, "text", p->text);
		cJSON_AddStringToObject(o, "tokenizer", p->tokenizer);
		const char *keys[] = { "ids", "mask", "type_ids" };
		const int idx[] = { p->ids, p->mask, p->type_ids };
		for (int i = 0; i < 3; i++)
			if (idx[i] >= 0)
				cJSON_AddNumberToObject(o, keys[i], idx[i]);
	}
	if (p->image >= 0) {
		cJSON_AddNumberToObject(o, "image", p->image);
		cJSON *dims = cJSON_AddArrayToObject(o, "dims");
		for (int d = 0; d < 4; d++)
			cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)p->image_dims[d]));
		cJSON_AddItemToObject(o, "mean", cJSON_CreateDoubleArray(p->mean, 3));
		cJSON_AddItemToObject(o, "std", cJSON_CreateDoubleArray(p->std, 3));
		cJSON_AddNumberToObject(o, "rescale", p->rescale);
	}
}

cJSON *proto_encode_run(const proto_run *r)
{
	cJSON *msg = cJSON_CreateObject();
	if (!msg)
		return NULL;
	cJSON_AddStringToObject(msg, "type", "run");
	cJSON_AddNumberToObject(msg, "session", r->session);
	cJSON_AddNumberToObject(msg, "tensors", r->tensors);
	cJSON_AddStringToObject(msg, "outputs", r->outputs ? "all" : "none");
	if (r->audio_logmel)
		add_logmel_spec(msg, r->audio_logmel);
	if (r->prepare)
		add_prepare(msg, r->prepare);
	return msg;
}

cJSON *proto_encode_unload(uint32_t session)
{
	cJSON *msg = cJSON_CreateObject();
	if (!msg)
		return NULL;
	cJSON_AddStringToObject(msg, "type", "unload");
	cJSON_AddNumberToObject(msg, "session", session);
	return msg;
}
