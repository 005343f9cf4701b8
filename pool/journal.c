/* Recordings (see journal.h and man/accel-top.1, RECORDING FORMAT): the writer buffers records in
 * memory and write(2)s them when flushed; the reader maps the file, indexes every complete record
 * and restores the pool at any event through the latest checkpoint and pool_apply().
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
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "ACCTREC"
#define HDR_LEN 17 /* u32 length, u32 crc, u8 type, i64 time */
#define FLUSH_AT (4u << 20)

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
typedef struct {
	uint8_t *b;
	size_t len, cap;
	bool oom;
} bytes;

static bool reserve(bytes *o, size_t more)
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

static void put(bytes *o, const void *p, size_t n)
{
	if (n && reserve(o, n)) {
		memcpy(o->b + o->len, p, n);
		o->len += n;
	}
}

static void put_u8(bytes *o, uint8_t v) { put(o, &v, 1); }

static void put_uv(bytes *o, uint64_t v)
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
	put(o, t, (size_t)n);
}

static void put_sv(bytes *o, int64_t v) { put_uv(o, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

/* A string as varint length + bytes; the value of any "token=" in it (a bridge URL with its
 * token, should one ever reach an event) is written as REDACTED: a recording never lets someone
 * connect to the bridge. */
static void put_str(bytes *o, const char *s)
{
	const char *tok = strstr(s, "token=");
	if (!tok) {
		size_t n = strlen(s);
		put_uv(o, n);
		put(o, s, n);
		return;
	}
	bytes t = { 0 };
	while (tok) {
		tok += 6;
		put(&t, s, (size_t)(tok - s));
		put(&t, "REDACTED", 8);
		s = tok + strcspn(tok, "&#\"' \t\r\n\\<>");
		tok = strstr(s, "token=");
	}
	put(&t, s, strlen(s));
	if (t.oom)
		o->oom = true;
	put_uv(o, t.len);
	put(o, t.b, t.len);
	free(t.b);
}

static void put_le(uint8_t *d, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *d, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
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
static int encode_event(bytes *o, const ac_event *ev)
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
				put_le(b, u, 4);
				put(o, b, 4);
			} else if (tag == X_F64) {
				uint64_t u;
				memcpy(&u, &ev->x[i], 8);
				uint8_t b[8];
				put_le(b, u, 8);
				put(o, b, 8);
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

/* ---- writer ---- */
struct journal_writer {
	int fd;
	char *path;
	bytes buf;
	int64_t last_ckpt_us;
	bool have_ckpt;
	size_t since_ckpt; /* events written since the last checkpoint */
};

/* Appends a record whose payload the caller then puts; returns its start for finish_record(). */
static size_t begin_record(bytes *o, char type, int64_t t_us)
{
	size_t at = o->len;
	uint8_t h[HDR_LEN] = { 0 };
	h[8] = (uint8_t)type;
	put_le(h + 9, (uint64_t)t_us, 8);
	put(o, h, sizeof h);
	return at;
}

static void finish_record(bytes *o, size_t at)
{
	if (o->oom)
		return;
	size_t plen = o->len - at - HDR_LEN;
	put_le(o->b + at, plen, 4);
	put_le(o->b + at + 4, crc32_of(o->b + at + 8, plen + 9), 4);
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

int journal_flush(journal_writer *w, ac_err *err)
{
	if (!w->buf.len)
		return 0;
	int rc = write_all(w->fd, w->buf.b, w->buf.len);
	w->buf.len = 0;
	if (rc)
		return ac_errf(err, AC_EIO, "%s: %s", w->path, strerror(-rc));
	return 0;
}

int journal_create(const char *path, const char *command, journal_writer **out, ac_err *err)
{
	journal_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->path = strdup(path))) {
		free(w);
		return ac_errf(err, AC_ENOMEM, "out of memory");
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = errno;
		free(w->path);
		free(w);
		return ac_errf(err, e == ENOENT ? AC_ENOENT : AC_EIO, "%s: %s", path, strerror(e));
	}
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	cJSON *h = cJSON_CreateObject();
	char *text = NULL;
	if (h) {
		cJSON_AddNumberToObject(h, "format", JOURNAL_FORMAT);
		cJSON_AddStringToObject(h, "version", AC_VERSION);
		cJSON_AddNumberToObject(h, "started_us", (double)ac_now_us());
		cJSON_AddStringToObject(h, "command", command ? command : "");
		cJSON_AddStringToObject(h, "host", host);
		text = cJSON_PrintUnformatted(h);
		cJSON_Delete(h);
	}
	if (!text) {
		journal_close(w);
		return ac_errf(err, AC_ENOMEM, "out of memory");
	}
	put(&w->buf, MAGIC "1", 8);
	size_t at = begin_record(&w->buf, 'H', ac_now_us());
	put(&w->buf, text, strlen(text));
	finish_record(&w->buf, at);
	cJSON_free(text);
	int rc = w->buf.oom ? ac_errf(err, AC_ENOMEM, "out of memory") : journal_flush(w, err);
	if (rc) {
		journal_close(w);
		return rc;
	}
	*out = w;
	return 0;
}

int journal_append(journal_writer *w, const ac_event *ev, const pool *p, ac_err *err)
{
	size_t at = begin_record(&w->buf, 'E', ev->t_us);
	if (encode_event(&w->buf, ev)) {
		w->buf.len = at;
		w->buf.oom = false;
		return ac_errf(err, AC_ENOMEM, "out of memory recording an event");
	}
	finish_record(&w->buf, at);
	w->since_ckpt++;
	if (p && (!w->have_ckpt || ev->t_us - w->last_ckpt_us >= JOURNAL_CHECKPOINT_US || ev->t_us < w->last_ckpt_us ||
		  w->since_ckpt >= JOURNAL_CHECKPOINT_EVENTS)) {
		uint8_t *img;
		size_t len;
		if (pool_save(p, &img, &len) == 0) {
			at = begin_record(&w->buf, 'C', ev->t_us);
			put(&w->buf, img, len);
			finish_record(&w->buf, at);
			free(img);
			w->have_ckpt = true;
			w->last_ckpt_us = ev->t_us;
			w->since_ckpt = 0;
		}
	}
	if (w->buf.oom) {
		w->buf.oom = false;
		w->buf.len = at;
		return ac_errf(err, AC_ENOMEM, "out of memory recording an event");
	}
	if (w->buf.len >= FLUSH_AT)
		return journal_flush(w, err);
	return 0;
}

void journal_close(journal_writer *w)
{
	if (!w)
		return;
	journal_flush(w, NULL);
	close(w->fd);
	free(w->buf.b);
	free(w->path);
	free(w);
}

/* ---- reader ---- */
struct journal {
	uint8_t *map;
	size_t size;
	char *command;
	size_t n_ev, cap_ev;
	uint64_t *ev_off;
	int64_t *ev_t;
	size_t n_ck, cap_ck;
	uint64_t *ck_off;
	size_t *ck_first;   /* index of the first event after the checkpoint */
	char trunc[200];
	char *scratch;      /* decoded strings of the last journal_event() */
	size_t scratch_cap;
	cJSON *data;
};

void journal_free(journal *j)
{
	if (!j)
		return;
	if (j->map)
		munmap(j->map, j->size);
	free(j->command);
	free(j->ev_off);
	free(j->ev_t);
	free(j->ck_off);
	free(j->ck_first);
	free(j->scratch);
	cJSON_Delete(j->data);
	free(j);
}

static bool push_index(void **a, void **b, size_t *cap, size_t n, size_t sa, size_t sb)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 1024;
	void *na = realloc(*a, nc * sa);
	if (!na)
		return false;
	*a = na;
	void *nb = realloc(*b, nc * sb);
	if (!nb)
		return false;
	*b = nb;
	*cap = nc;
	return true;
}

/* Reads one record header at pos: 0 and the payload's length, or a reason to stop. */
static const char *record_at(const journal *j, size_t pos, uint32_t *plen)
{
	if (j->size - pos < HDR_LEN)
		return "incomplete record header";
	const uint8_t *h = j->map + pos;
	uint32_t len = (uint32_t)get_le(h, 4);
	if (len > j->size - pos - HDR_LEN)
		return "record runs past the end of the file";
	if (crc32_of(h + 8, (size_t)len + 9) != (uint32_t)get_le(h + 4, 4))
		return "CRC mismatch";
	*plen = len;
	return NULL;
}

int journal_open(const char *path, journal **out, ac_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return ac_errf(err, e == ENOENT ? AC_ENOENT : AC_EIO, "%s: %s", path, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ac_errf(err, AC_EINVAL, "%s is not an accel-top recording (not a regular file)", path);
	}
	journal *j = calloc(1, sizeof *j);
	if (!j) {
		close(fd);
		return ac_errf(err, AC_ENOMEM, "out of memory");
	}
	j->size = (size_t)st.st_size;
	if (j->size >= 8) {
		void *m = mmap(NULL, j->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			int e = errno;
			close(fd);
			free(j);
			return ac_errf(err, AC_EIO, "%s: %s", path, strerror(e));
		}
		j->map = m;
	}
	close(fd);
	if (j->size < 8 || memcmp(j->map, MAGIC, 7) != 0) {
		journal_free(j);
		return ac_errf(err, AC_EINVAL, "%s is not an accel-top recording (no ACCTREC1 header)", path);
	}
	if (j->map[7] != '0' + JOURNAL_FORMAT) {
		int c = j->map[7];
		journal_free(j);
		if (c >= '0' && c <= '9')
			return ac_errf(err, AC_EINVAL, "%s is a recording of format %c; this accel-top reads format %d",
				       path, c, JOURNAL_FORMAT);
		return ac_errf(err, AC_EINVAL, "%s is not an accel-top recording (no ACCTREC1 header)", path);
	}
	size_t pos = 8;
	uint32_t len = 0;
	const char *why = record_at(j, pos, &len);
	if (!why && j->map[pos + 8] != 'H')
		why = "the first record is not the header";
	if (!why) {
		cJSON *h = cJSON_ParseWithLength((const char *)j->map + pos + HDR_LEN, len);
		const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(h, "format");
		if (cJSON_IsNumber(fmt) && fmt->valuedouble != JOURNAL_FORMAT) {
			int f = fmt->valueint;
			cJSON_Delete(h);
			journal_free(j);
			return ac_errf(err, AC_EINVAL, "%s is a recording of format %d; this accel-top reads format %d",
				       path, f, JOURNAL_FORMAT);
		}
		const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "command"));
		j->command = strdup(cmd ? cmd : "");
		cJSON_Delete(h);
		if (!j->command) {
			journal_free(j);
			return ac_errf(err, AC_ENOMEM, "out of memory");
		}
		pos += HDR_LEN + len;
	}
	while (!why && pos < j->size) {
		if ((why = record_at(j, pos, &len)))
			break;
		const uint8_t *h = j->map + pos;
		if (h[8] == 'E') {
			if (!push_index((void **)&j->ev_off, (void **)&j->ev_t, &j->cap_ev, j->n_ev, sizeof *j->ev_off,
					sizeof *j->ev_t)) {
				journal_free(j);
				return ac_errf(err, AC_ENOMEM, "out of memory indexing %s", path);
			}
			j->ev_off[j->n_ev] = pos;
			j->ev_t[j->n_ev++] = (int64_t)get_le(h + 9, 8);
		} else if (h[8] == 'C') {
			if (!push_index((void **)&j->ck_off, (void **)&j->ck_first, &j->cap_ck, j->n_ck, sizeof *j->ck_off,
					sizeof *j->ck_first)) {
				journal_free(j);
				return ac_errf(err, AC_ENOMEM, "out of memory indexing %s", path);
			}
			j->ck_off[j->n_ck] = pos;
			j->ck_first[j->n_ck++] = j->n_ev;
		} else if (h[8] != 'H') {
			why = "unknown record type";
			break;
		}
		pos += HDR_LEN + len;
	}
	if (why)
		snprintf(j->trunc, sizeof j->trunc, "stopped at byte %zu of %zu: %s", pos, j->size, why);
	if (!j->command && !(j->command = strdup(""))) {
		journal_free(j);
		return ac_errf(err, AC_ENOMEM, "out of memory");
	}
	*out = j;
	return 0;
}

const char *journal_truncation(const journal *j) { return j->trunc[0] ? j->trunc : NULL; }
const char *journal_command(const journal *j) { return j->command; }
size_t journal_event_count(const journal *j) { return j->n_ev; }
int64_t journal_event_time(const journal *j, size_t i) { return i < j->n_ev ? j->ev_t[i] : 0; }
int64_t journal_start_us(const journal *j) { return j->n_ev ? j->ev_t[0] : 0; }
int64_t journal_end_us(const journal *j) { return j->n_ev ? j->ev_t[j->n_ev - 1] : 0; }
size_t journal_checkpoint_count(const journal *j) { return j->n_ck; }

size_t journal_find(const journal *j, int64_t t_us)
{
	size_t lo = 0, hi = j->n_ev;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->ev_t[mid] <= t_us)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int journal_event(journal *j, size_t i, ac_event *ev, ac_err *err)
{
	memset(ev, 0, sizeof *ev);
	if (i >= j->n_ev)
		return ac_errf(err, AC_EINVAL, "event %zu of %zu does not exist", i, j->n_ev);
	const uint8_t *h = j->map + j->ev_off[i];
	uint32_t len = (uint32_t)get_le(h, 4);
	reader r = { h + HDR_LEN, h + HDR_LEN + len, false };
	/* strings are copied out NUL-terminated: the payload can never need more than its length
	 * plus one byte per string */
	if (j->scratch_cap < (size_t)len + 8) {
		char *ns = realloc(j->scratch, (size_t)len + 8);
		if (!ns)
			return ac_errf(err, AC_ENOMEM, "out of memory");
		j->scratch = ns;
		j->scratch_cap = (size_t)len + 8;
	}
	cJSON_Delete(j->data);
	j->data = NULL;
	char *sp = j->scratch;
	ev->t_us = j->ev_t[i];
	const uint8_t *k = get_bytes(&r, 1);
	uint64_t mask = get_uv(&r);
	if (r.bad || !ev_kind_valid(*k))
		return ac_errf(err, AC_EINVAL, "event %zu: malformed", i);
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
	if (mask & (1u << F_X)) {
		uint64_t xd = get_uv(&r);
		static const double scale[] = { 1, 1e3, 1e6 };
		for (int x = 0; x < 4; x++) {
			int tag = (int)(xd >> (3 * x)) & 7;
			const uint8_t *b;
			if (tag >= X_INT && tag <= X_MICRO) {
				ev->x[x] = (double)get_sv(&r) / scale[tag - X_INT];
			} else if (tag == X_F32 && (b = get_bytes(&r, 4))) {
				uint32_t u = (uint32_t)get_le(b, 4);
				float f;
				memcpy(&f, &u, 4);
				ev->x[x] = f;
			} else if (tag == X_F64 && (b = get_bytes(&r, 8))) {
				uint64_t u = get_le(b, 8);
				memcpy(&ev->x[x], &u, 8);
			} else if (tag != X_ABSENT) {
				r.bad = true;
			}
		}
	}
	const char **strs[5] = { &ev->family, &ev->text, &ev->name, &ev->precision, &ev->platform };
	for (int f = 0; f < 6; f++) {
		if (!(mask & (1u << (F_FAMILY + f))))
			continue;
		uint64_t n = get_uv(&r);
		const uint8_t *s = r.bad ? NULL : get_bytes(&r, n);
		if (!s)
			break;
		if (f == 5) {
			j->data = cJSON_ParseWithLength((const char *)s, n);
			if (!j->data)
				return ac_errf(err, AC_EINVAL, "event %zu: its data is not JSON", i);
			ev->data = j->data;
		} else {
			memcpy(sp, s, n);
			sp[n] = '\0';
			*strs[f] = sp;
			sp += n + 1;
		}
	}
	if (r.bad)
		return ac_errf(err, AC_EINVAL, "event %zu: malformed", i);
	return 0;
}

int journal_restore(journal *j, pool *p, size_t upto, ac_err *err)
{
	if (upto > j->n_ev)
		upto = j->n_ev;
	/* the latest checkpoint whose events are all before upto */
	size_t lo = 0, hi = j->n_ck;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->ck_first[mid] <= upto)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t from = 0;
	int rc;
	ac_err ck_err;
	const uint8_t *h = lo ? j->map + j->ck_off[lo - 1] : NULL;
	if (h && pool_load(p, h + HDR_LEN, (size_t)get_le(h, 4), &ck_err) == 0)
		from = j->ck_first[lo - 1];
	else
		pool_clear(p); /* no checkpoint, or one this build cannot read: from the start */
	for (size_t i = from; i < upto; i++) {
		ac_event ev;
		if ((rc = journal_event(j, i, &ev, err)))
			return rc;
		ac_err ignored;
		/* the live pool refused the same events and stayed unchanged: so does this one */
		(void)pool_apply(p, &ev, &ignored);
	}
	return 0;
}
