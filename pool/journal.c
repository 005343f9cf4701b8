/* Recordings (see journal.h and man/accel-top.1, RECORDING FORMAT): the writer buffers records in
 * memory and write(2)s them when flushed; the reader maps the file, indexes every complete record
 * and restores the pool at any event through the latest checkpoint and pool_apply(). An event's
 * payload is encoded by journal_codec.c. Checkpoints ('C') follow the event that crossed the
 * JOURNAL_CHECKPOINT_US boundary and hold the pool after that event. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_codec.h"

#define MAGIC "ACCTREC"
#define HDR_LEN 17 /* u32 length, u32 crc, u8 type, i64 time */
#define FLUSH_AT (4u << 20)

/* ---- writer ---- */
struct journal_writer {
	int fd;
	char *path;
	jc_bytes buf;
	int64_t last_ckpt_us;
	bool have_ckpt;
	size_t since_ckpt; /* events written since the last checkpoint */
};

/* Appends a record whose payload the caller then puts; returns its start for finish_record(). */
static size_t begin_record(jc_bytes *o, char type, int64_t t_us)
{
	size_t at = o->len;
	uint8_t h[HDR_LEN] = { 0 };
	h[8] = (uint8_t)type;
	jc_put_le(h + 9, (uint64_t)t_us, 8);
	jc_put(o, h, sizeof h);
	return at;
}

static void finish_record(jc_bytes *o, size_t at)
{
	if (o->oom)
		return;
	size_t plen = o->len - at - HDR_LEN;
	jc_put_le(o->b + at, plen, 4);
	jc_put_le(o->b + at + 4, journal_crc32(o->b + at + 8, plen + 9), 4);
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
	jc_put(&w->buf, MAGIC "1", 8);
	size_t at = begin_record(&w->buf, 'H', ac_now_us());
	jc_put(&w->buf, text, strlen(text));
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
	if (jc_encode_event(&w->buf, ev)) {
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
			jc_put(&w->buf, img, len);
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
	uint32_t len = (uint32_t)jc_get_le(h, 4);
	if (len > j->size - pos - HDR_LEN)
		return "record runs past the end of the file";
	if (journal_crc32(h + 8, (size_t)len + 9) != (uint32_t)jc_get_le(h + 4, 4))
		return "CRC mismatch";
	*plen = len;
	return NULL;
}

/* Opens and maps path into a new *out (a file under 8 bytes is not mapped: not a recording). */
static int map_file(const char *path, journal **out, ac_err *err)
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
	*out = j;
	return 0;
}

/* The 8 bytes "ACCTREC1": 0, or an error naming what the file is instead. */
static int check_magic(const journal *j, const char *path, ac_err *err)
{
	if (j->size < 8 || memcmp(j->map, MAGIC, 7) != 0)
		return ac_errf(err, AC_EINVAL, "%s is not an accel-top recording (no ACCTREC1 header)", path);
	if (j->map[7] != '0' + JOURNAL_FORMAT) {
		int c = j->map[7];
		if (c >= '0' && c <= '9')
			return ac_errf(err, AC_EINVAL, "%s is a recording of format %c; this accel-top reads format %d",
				       path, c, JOURNAL_FORMAT);
		return ac_errf(err, AC_EINVAL, "%s is not an accel-top recording (no ACCTREC1 header)", path);
	}
	return 0;
}

/* The 'H' record at *pos: its command into j, *pos past it. A header that cannot be read is not
 * an error but where the readable part stops (*why); one of another format is an error. */
static int read_header(journal *j, const char *path, size_t *pos, const char **why, ac_err *err)
{
	uint32_t len = 0;
	*why = record_at(j, *pos, &len);
	if (!*why && j->map[*pos + 8] != 'H')
		*why = "the first record is not the header";
	if (*why)
		return 0;
	cJSON *h = cJSON_ParseWithLength((const char *)j->map + *pos + HDR_LEN, len);
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(h, "format");
	if (cJSON_IsNumber(fmt) && fmt->valuedouble != JOURNAL_FORMAT) {
		int f = fmt->valueint;
		cJSON_Delete(h);
		return ac_errf(err, AC_EINVAL, "%s is a recording of format %d; this accel-top reads format %d", path,
			       f, JOURNAL_FORMAT);
	}
	const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "command"));
	j->command = strdup(cmd ? cmd : "");
	cJSON_Delete(h);
	if (!j->command)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	*pos += HDR_LEN + len;
	return 0;
}

/* Indexes every complete record from pos on; where and why the readable part stops goes into
 * j->trunc. A record time past JOURNAL_MAX_US or before 1970 ends the readable part (journal.h). */
static int index_records(journal *j, const char *path, size_t pos, const char *why, ac_err *err)
{
	uint32_t len = 0;
	while (!why && pos < j->size) {
		if ((why = record_at(j, pos, &len)))
			break;
		const uint8_t *h = j->map + pos;
		int64_t t = (int64_t)jc_get_le(h + 9, 8);
		if ((h[8] == 'E' || h[8] == 'C') && (t < 0 || t > JOURNAL_MAX_US)) {
			why = "a record time that is not a clock's (before 1970 or after 2112)";
			break;
		}
		if (h[8] == 'E') {
			if (!push_index((void **)&j->ev_off, (void **)&j->ev_t, &j->cap_ev, j->n_ev, sizeof *j->ev_off,
					sizeof *j->ev_t))
				return ac_errf(err, AC_ENOMEM, "out of memory indexing %s", path);
			j->ev_off[j->n_ev] = pos;
			j->ev_t[j->n_ev++] = (int64_t)jc_get_le(h + 9, 8);
		} else if (h[8] == 'C') {
			if (!push_index((void **)&j->ck_off, (void **)&j->ck_first, &j->cap_ck, j->n_ck, sizeof *j->ck_off,
					sizeof *j->ck_first))
				return ac_errf(err, AC_ENOMEM, "out of memory indexing %s", path);
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
	return 0;
}

int journal_open(const char *path, journal **out, ac_err *err)
{
	journal *j = NULL;
	int rc = map_file(path, &j, err);
	if (rc)
		return rc;
	size_t pos = 8;
	const char *why = NULL;
	if ((rc = check_magic(j, path, err)) || (rc = read_header(j, path, &pos, &why, err)) ||
	    (rc = index_records(j, path, pos, why, err))) {
		journal_free(j);
		return rc;
	}
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
	uint32_t len = (uint32_t)jc_get_le(h, 4);
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
	ev->t_us = j->ev_t[i];
	int rc = jc_decode_event(h + HDR_LEN, len, ev, j->scratch, &j->data);
	if (rc == JC_BAD_JSON)
		return ac_errf(err, AC_EINVAL, "event %zu: its data is not JSON", i);
	if (rc)
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
	if (h && pool_load(p, h + HDR_LEN, (size_t)jc_get_le(h, 4), &ck_err) == 0)
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
