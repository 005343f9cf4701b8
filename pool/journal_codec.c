/* The event payload of a recording's 'E' records, and the CRC-32 of every record (the file's
 * layout, header and records: journal.h; writing and reading them: journal.c).
 *
 * Event payload ('E' record), all integers little-endian varints, signed ones zigzagged:
 *   u8 kind, varint field mask (bit order below), then the present fields in that order:
 *   browser, model, session, request, num, num2 (signed varints); x (a varint of 3 bits per
 *   element, element i in bits 3i..3i+2: 0 absent (+0.0), 1 an integer, 2 k/1e3, 3 k/1e6 (k a
 *   signed varint; only used where it gives back the exact same double), 4 float32 (exact),
 *   5 float64; then the values); family, text, name, precision, platform (varint length +
 *   bytes); data (varint length + its unformatted JSON text).
 * The time is the record's. Checkpoints ('C') follow the event that crossed the
 * JOURNAL_CHECKPOINT_US boundary and hold the pool after that event. */
#include "journal_codec.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

enum { F_BROWSER, F_MODEL, F_SESSION, F_REQUEST, F_NUM, F_NUM2, F_X, F_FAMILY, F_TEXT, F_NAME, F_PRECISION,
       F_PLATFORM, F_DATA };
enum { X_ABSENT, X_INT, X_MILLI, X_MICRO, X_F32, X_F64 };

/* ---- CRC-32 (IEEE 802.3, reflected, as zlib's crc32()), 8 bytes a step ---- */
static uint32_t crc_table[8][256];

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	if (!crc_table[0][1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			crc_table[0][i] = c;
		}
		for (int t = 1; t < 8; t++) /* table t: a byte followed by t zero bytes */
			for (int i = 0; i < 256; i++)
				crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
	}
	uint32_t c = 0xFFFFFFFFu;
	for (; n >= 8; p += 8, n -= 8) {
		uint32_t a = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		c = crc_table[7][a & 0xFF] ^ crc_table[6][(a >> 8) & 0xFF] ^ crc_table[5][(a >> 16) & 0xFF] ^
		    crc_table[4][a >> 24] ^ crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
	}
	while (n--)
		c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

uint32_t journal_crc32(const void *buf, size_t len) { return crc32_of(buf, len); }

/* ---- byte buffer ---- */
static bool reserve(jc_bytes *o, size_t more)
{
	if (o->oom)
		return false;
	if (o->len + more <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + more)
		cap *= 2;
	uint8_t *nb = realloc(o->b, cap);
	if (!nb) {
		o->oom = true;
		return false;
	}
	o->b = nb;
	o->cap = cap;
	return true;
}

void jc_put(jc_bytes *o, const void *p, size_t n)
{
	if (n && reserve(o, n)) {
		memcpy(o->b + o->len, p, n);
		o->len += n;
	}
}

static void put_u8(jc_bytes *o, uint8_t v) { jc_put(o, &v, 1); }

static void put_uv(jc_bytes *o, uint64_t v)
{
	uint8_t t[10];
	int n = 0;
	do {
		t[n] = v & 0x7F;
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	jc_put(o, t, (size_t)n);
}

static void put_sv(jc_bytes *o, int64_t v) { put_uv(o, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

/* A string as varint length + bytes; the value of any "token=" in it (a bridge URL with its
 * token, should one ever reach an event) is written as REDACTED: a recording never lets someone
 * connect to the bridge. */
static void put_str(jc_bytes *o, const char *s)
{
	const char *tok = strstr(s, "token=");
	if (!tok) {
		size_t n = strlen(s);
		put_uv(o, n);
		jc_put(o, s, n);
		return;
	}
	jc_bytes t = { 0 };
	while (tok) {
		tok += 6;
		jc_put(&t, s, (size_t)(tok - s));
		jc_put(&t, "REDACTED", 8);
		s = tok + strcspn(tok, "&#\"' \t\r\n\\<>");
		tok = strstr(s, "token=");
	}
	jc_put(&t, s, strlen(s));
	if (t.oom)
		o->oom = true;
	put_uv(o, t.len);
	jc_put(o, t.b, t.len);
	free(t.b);
}

static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* The shortest exact encoding of x (see the top of the file). */
static int x_tag(double x, int64_t *k)
{
	static const double scale[] = { 1, 1e3, 1e6 };
	if (same_double(x, 0.0))
		return X_ABSENT;
	if (isfinite(x))
		for (int i = 0; i < 3; i++) {
			double s = x * scale[i];
			if (!(fabs(s) < 4e15))
				break;
			*k = llround(s);
			if (same_double((double)*k / scale[i], x))
				return X_INT + i;
		}
	if (!isnan(x) && (isinf(x) || fabs(x) <= FLT_MAX) && same_double((double)(float)x, x))
		return X_F32;
	return X_F64;
}

/* ---- event encoding ---- */
int jc_encode_event(jc_bytes *o, const ac_event *ev)
{
	const char *strs[5] = { ev->family, ev->text, ev->name, ev->precision, ev->platform };
	int64_t ints[6] = { ev->browser, ev->model, ev->session, ev->request, ev->num, ev->num2 };
	uint64_t mask = 0;
	for (int i = 0; i < 6; i++)
		if (ints[i])
			mask |= 1u << i;
	uint64_t xd = 0;
	int64_t xk[4] = { 0 };
	for (int i = 0; i < 4; i++)
		xd |= (uint64_t)x_tag(ev->x[i], &xk[i]) << (3 * i);
	if (xd)
		mask |= 1u << F_X;
	for (int i = 0; i < 5; i++)
		if (strs[i])
			mask |= 1u << (F_FAMILY + i);
	char *data = NULL;
	if (ev->data) {
		data = cJSON_PrintUnformatted(ev->data);
		if (!data)
			return AC_ENOMEM;
		mask |= 1u << F_DATA;
	}
	put_u8(o, (uint8_t)ev->kind);
	put_uv(o, mask);
	for (int i = 0; i < 6; i++)
		if (ints[i])
			put_sv(o, ints[i]);
	if (xd) {
		put_uv(o, xd);
		for (int i = 0; i < 4; i++) {
			int tag = (int)(xd >> (3 * i)) & 7;
			if (tag >= X_INT && tag <= X_MICRO) {
				put_sv(o, xk[i]);
			} else if (tag == X_F32) {
				float f = (float)ev->x[i];
				uint32_t u;
				memcpy(&u, &f, 4);
				uint8_t b[4];
				jc_put_le(b, u, 4);
				jc_put(o, b, 4);
			} else if (tag == X_F64) {
				uint64_t u;
				memcpy(&u, &ev->x[i], 8);
				uint8_t b[8];
				jc_put_le(b, u, 8);
				jc_put(o, b, 8);
			}
		}
	}
	for (int i = 0; i < 5; i++)
		if (strs[i])
			put_str(o, strs[i]);
	if (data) {
		put_str(o, data);
		cJSON_free(data);
	}
	return o->oom ? AC_ENOMEM : 0;
}

typedef struct {
	const uint8_t *p, *end;
	bool bad;
} reader;

static uint64_t get_uv(reader *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		uint8_t c = *r->p++;
		v |= (uint64_t)(c & 0x7F) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static int64_t get_sv(reader *r)
{
	uint64_t u = get_uv(r);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static const uint8_t *get_bytes(reader *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *s = r->p;
	r->p += n;
	return s;
}


/* ---- event decoding ---- */
static void get_xs(reader *r, ac_event *ev)
{
	static const double scale[] = { 1, 1e3, 1e6 };
	uint64_t xd = get_uv(r);
	for (int x = 0; x < 4; x++) {
		int tag = (int)(xd >> (3 * x)) & 7;
		const uint8_t *b;
		if (tag >= X_INT && tag <= X_MICRO) {
			ev->x[x] = (double)get_sv(r) / scale[tag - X_INT];
		} else if (tag == X_F32 && (b = get_bytes(r, 4))) {
			uint32_t u = (uint32_t)jc_get_le(b, 4);
			float f;
			memcpy(&f, &u, 4);
			ev->x[x] = f;
		} else if (tag == X_F64 && (b = get_bytes(r, 8))) {
			uint64_t u = jc_get_le(b, 8);
			memcpy(&ev->x[x], &u, 8);
		} else if (tag != X_ABSENT) {
			r->bad = true;
		}
	}
}

/* The strings (copied into sp) and the data (parsed into *data): 0 or JC_BAD_JSON. */
static int get_strs(reader *r, uint64_t mask, ac_event *ev, char *sp, cJSON **data)
{
	const char **strs[5] = { &ev->family, &ev->text, &ev->name, &ev->precision, &ev->platform };
	for (int f = 0; f < 6; f++) {
		if (!(mask & (1u << (F_FAMILY + f))))
			continue;
		uint64_t n = get_uv(r);
		const uint8_t *s = r->bad ? NULL : get_bytes(r, n);
		if (!s)
			break;
		if (f == 5) {
			*data = cJSON_ParseWithLength((const char *)s, n);
			if (!*data)
				return JC_BAD_JSON;
			ev->data = *data;
		} else {
			memcpy(sp, s, n);
			sp[n] = '\0';
			*strs[f] = sp;
			sp += n + 1;
		}
	}
	return 0;
}

int jc_decode_event(const uint8_t *p, size_t len, ac_event *ev, char *scratch, cJSON **data)
{
	reader r = { p, p + len, false };
	const uint8_t *k = get_bytes(&r, 1);
	uint64_t mask = get_uv(&r);
	if (r.bad || !ev_kind_valid(*k))
		return JC_MALFORMED;
	ev->kind = (ev_kind)*k;
	int64_t ints[6] = { 0 };
	for (int f = 0; f < 6; f++)
		if (mask & (1u << f))
			ints[f] = get_sv(&r);
	ev->browser = (int)ints[0];
	ev->model = (int)ints[1];
	ev->session = (int)ints[2];
	ev->request = ints[3];
	ev->num = ints[4];
	ev->num2 = ints[5];
	if (mask & (1u << F_X))
		get_xs(&r, ev);
	if (get_strs(&r, mask, ev, scratch, data))
		return JC_BAD_JSON;
	return r.bad ? JC_MALFORMED : 0;
}
