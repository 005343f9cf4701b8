/* Checkpoints: the pool's tables as one binary image (pool_save), read back by pool_load.
 *
 * The tables are plain structs without pointers, so the image holds them as they are in memory.
 * A header guards against another build's layout:
 *   "ACCTPOOL", u32 JOURNAL_FORMAT, u32 count of the layout words, that many u32 layout words
 *   (sizeof of every struct, the ring sizes), u64 length of the body, then the body with its
 *   runs of zero bytes squeezed (repeated: varint count of literal bytes, the bytes, varint count
 *   of zero bytes).
 * The body: i32 last_id, i32 bridge_port, i64 started_us, u64 events, u64 errors, the bridge URL
 * (char[256]), then u64 count + the array for browsers, models (followed by their row_stats),
 * sessions, requests and breakers, the request totals, the Selenium Grid's figures (pool_grid), and u64 count + the kept log entries,
 * oldest first. All integers are in
 * the machine's byte order: a checkpoint is only read by the same build on the same kind of
 * machine (the layout words check it), the events around it are portable. */
#include "journal.h"
#include "pool_internal.h"

#include <stdlib.h>
#include <string.h>

#define CK_MAGIC "ACCTPOOL"

#define N_LAYOUT 15
static void layout(uint32_t w[N_LAYOUT])
{
	uint32_t v[N_LAYOUT] = { sizeof(pool_browser), sizeof(pool_model), sizeof(row_stats), sizeof(pool_session),
				 sizeof(pool_request), sizeof(pool_log_entry), POOL_LOG_MAX, STATS_LAT_MAX, STATS_DONE_MAX,
				 sizeof(ac_caps), sizeof(((pool *)0)->bridge_url), 0x01020304u /* byte order */,
				 sizeof(pool_breaker), sizeof(pool_request_totals), sizeof(pool_grid) };
	memcpy(w, v, sizeof v);
}

typedef struct {
	uint8_t *b;
	size_t len, cap;
	bool oom;
} obuf;

static void put(obuf *o, const void *p, size_t n)
{
	if (o->oom || !n)
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		while (cap < o->len + n)
			cap *= 2;
		uint8_t *nb = realloc(o->b, cap);
		if (!nb) {
			o->oom = true;
			return;
		}
		o->b = nb;
		o->cap = cap;
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void put_u64(obuf *o, uint64_t v) { put(o, &v, sizeof v); }

static void put_uv(obuf *o, uint64_t v)
{
	uint8_t t[10];
	int n = 0;
	do {
		t[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put(o, t, (size_t)n);
}

/* Squeezes runs of 8 or more zero bytes. */
static void squeeze(obuf *o, const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t lit = i, z = 0;
		for (;;) {
			if (lit == n)
				break;
			z = 0;
			while (lit + z < n && s[lit + z] == 0)
				z++;
			if (z >= 8 || lit + z == n)
				break;
			lit += z + 1;
			z = 0;
		}
		put_uv(o, lit - i);
		put(o, s + i, lit - i);
		put_uv(o, z);
		i = lit + z;
	}
}

static bool get_uv(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		*v |= (uint64_t)(c & 0x7F) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

static bool unsqueeze(const uint8_t *p, const uint8_t *end, uint8_t *out, size_t n)
{
	size_t at = 0;
	while (at < n) {
		uint64_t lit, z;
		if (!get_uv(&p, end, &lit) || lit > n - at || lit > (size_t)(end - p))
			return false;
		memcpy(out + at, p, lit);
		p += lit;
		at += lit;
		if (!get_uv(&p, end, &z) || z > n - at)
			return false;
		memset(out + at, 0, z);
		at += z;
	}
	return p == end;
}

int pool_save(const pool *p, uint8_t **buf, size_t *len)
{
	obuf body = { 0 }, o = { 0 };
	int32_t last_id = p->last_id, port = p->bridge_port;
	put(&body, &last_id, sizeof last_id);
	put(&body, &port, sizeof port);
	put(&body, &p->started_us, sizeof p->started_us);
	put_u64(&body, p->events);
	put_u64(&body, p->errors);
	put(&body, p->bridge_url, sizeof p->bridge_url);
	put_u64(&body, p->n);
	put(&body, p->browsers, p->n * sizeof *p->browsers);
	put_u64(&body, p->n_models);
	put(&body, p->models, p->n_models * sizeof *p->models);
	put(&body, p->stats, p->n_models * sizeof *p->stats);
	put_u64(&body, p->n_sessions);
	put(&body, p->sessions, p->n_sessions * sizeof *p->sessions);
	put_u64(&body, p->n_requests);
	put(&body, p->requests, p->n_requests * sizeof *p->requests);
	put_u64(&body, p->n_breakers);
	put(&body, p->breakers, p->n_breakers * sizeof *p->breakers);
	put(&body, &p->totals, sizeof p->totals);
	put(&body, &p->grid, sizeof p->grid);
	put_u64(&body, p->log_len);
	for (size_t i = 0; i < p->log_len; i++) {
		/* only the text up to its end: what follows the NUL is an older entry's leftovers */
		pool_log_entry e;
		memset(&e, 0, sizeof e);
		const pool_log_entry *s = pool_log_at(p, i);
		e.t_us = s->t_us;
		e.kind = s->kind;
		e.browser = s->browser;
		ac_strlcpy(e.text, s->text, sizeof e.text);
		put(&body, &e, sizeof e);
	}
	uint32_t fmt = JOURNAL_FORMAT, nl = N_LAYOUT, lw[N_LAYOUT];
	layout(lw);
	put(&o, CK_MAGIC, 8);
	put(&o, &fmt, sizeof fmt);
	put(&o, &nl, sizeof nl);
	put(&o, lw, sizeof lw);
	put_u64(&o, body.len);
	if (!body.oom)
		squeeze(&o, body.b, body.len);
	free(body.b);
	if (body.oom || o.oom) {
		free(o.b);
		return AC_ENOMEM;
	}
	*buf = o.b;
	*len = o.len;
	return 0;
}

typedef struct {
	const uint8_t *p, *end;
} cursor;

static const void *take(cursor *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n)
		return NULL;
	const void *r = c->p;
	c->p += n;
	return r;
}

static bool take_u64(cursor *c, uint64_t *v)
{
	const void *s = take(c, sizeof *v);
	if (s)
		memcpy(v, s, sizeof *v);
	return s != NULL;
}

/* A copy of count elements of size bytes (NULL for none), or false when they are not there. */
static bool take_array(cursor *c, size_t size, void **out, size_t *count)
{
	uint64_t n;
	*out = NULL;
	if (!take_u64(c, &n) || n > (size_t)(c->end - c->p) / size)
		return false;
	*count = (size_t)n;
	if (!n)
		return true;
	const void *s = take(c, (size_t)n * size);
	if (!(*out = malloc((size_t)n * size)))
		return false;
	memcpy(*out, s, (size_t)n * size);
	return true;
}

void pool_clear(pool *p)
{
	pool_free_tables(p);
	pool saved = *p;
	memset(p, 0, sizeof *p);
	memcpy(p->listeners, saved.listeners, sizeof p->listeners);
	memcpy(p->listener_ctx, saved.listener_ctx, sizeof p->listener_ctx);
	p->n_listeners = saved.n_listeners;
}

/* Checks the image's header against this build: 0 with the body's length and where its
 * squeezed bytes start, or an error saying why it cannot be used. */
static int check_header(const uint8_t *buf, size_t len, uint64_t *body_len, const uint8_t **z, ac_err *err)
{
	uint32_t fmt, nl, lw[N_LAYOUT], want[N_LAYOUT];
	layout(want);
	if (len < 8 + 8 || memcmp(buf, CK_MAGIC, 8) != 0)
		return ac_errf(err, AC_EINVAL, "checkpoint: not a pool image");
	memcpy(&fmt, buf + 8, 4);
	memcpy(&nl, buf + 12, 4);
	if (fmt != JOURNAL_FORMAT)
		return ac_errf(err, AC_EINVAL, "checkpoint of format %u; this accel-top reads format %d", fmt, JOURNAL_FORMAT);
	if (nl != N_LAYOUT || len < 16 + sizeof lw + 8)
		return ac_errf(err, AC_EINVAL, "checkpoint written by another build of accel-top (different table layout)");
	memcpy(lw, buf + 16, sizeof lw);
	if (memcmp(lw, want, sizeof lw) != 0)
		return ac_errf(err, AC_EINVAL,
			       "checkpoint written by another build of accel-top (table sizes %u/%u/%u/%u/%u/%u, ours "
			       "%u/%u/%u/%u/%u/%u)",
			       lw[0], lw[1], lw[2], lw[3], lw[4], lw[5], want[0], want[1], want[2], want[3], want[4], want[5]);
	memcpy(body_len, buf + 16 + sizeof lw, 8);
	*z = buf + 16 + sizeof lw + 8;
	/* zero runs can expand a lot, but not past what a pool can hold: 1 GiB is far beyond */
	if (*body_len > (1u << 30))
		return ac_errf(err, AC_EINVAL, "checkpoint: body of %llu bytes is implausible", (unsigned long long)*body_len);
	return 0;
}

/* The scalars at the start of the body, into np. */
static bool take_scalars(cursor *c, pool *np)
{
	int32_t last_id = 0, port = 0;
	const void *s;
	bool ok;
	if ((s = take(c, 4)))
		memcpy(&last_id, s, 4);
	ok = s && (s = take(c, 4));
	if (ok)
		memcpy(&port, s, 4);
	ok = ok && (s = take(c, 8));
	if (ok)
		memcpy(&np->started_us, s, 8);
	ok = ok && take_u64(c, &np->events) && take_u64(c, &np->errors) && (s = take(c, sizeof np->bridge_url));
	if (ok) {
		memcpy(np->bridge_url, s, sizeof np->bridge_url);
		np->bridge_url[sizeof np->bridge_url - 1] = '\0';
		np->last_id = last_id;
		np->bridge_port = port;
	}
	return ok;
}

/* The whole body into np (its tables malloc'd, also when it fails) and the log's length. */
static bool take_body(cursor *c, pool *np, uint64_t *log_len)
{
	const void *s;
	size_t n_stats = 0;
	bool ok = take_scalars(c, np);
	ok = ok && take_array(c, sizeof *np->browsers, (void **)&np->browsers, &np->n);
	ok = ok && take_array(c, sizeof *np->models, (void **)&np->models, &np->n_models);
	if (ok && np->n_models) { /* the stats follow the models, one each */
		ok = (s = take(c, np->n_models * sizeof *np->stats)) && (np->stats = malloc(np->n_models * sizeof *np->stats));
		if (ok) {
			memcpy(np->stats, s, np->n_models * sizeof *np->stats);
			n_stats = np->n_models;
		}
	}
	ok = ok && take_array(c, sizeof *np->sessions, (void **)&np->sessions, &np->n_sessions);
	ok = ok && take_array(c, sizeof *np->requests, (void **)&np->requests, &np->n_requests);
	ok = ok && take_array(c, sizeof *np->breakers, (void **)&np->breakers, &np->n_breakers);
	ok = ok && (s = take(c, sizeof np->totals));
	if (ok)
		memcpy(&np->totals, s, sizeof np->totals);
	ok = ok && (s = take(c, sizeof np->grid));
	if (ok)
		memcpy(&np->grid, s, sizeof np->grid);
	ok = ok && take_u64(c, log_len) && *log_len <= POOL_LOG_MAX;
	for (size_t i = 0; ok && i < *log_len; i++) {
		ok = (s = take(c, sizeof *np->log)) != NULL;
		if (ok) {
			memcpy(&np->log[i], s, sizeof *np->log);
			np->log[i].text[sizeof np->log[i].text - 1] = '\0';
		}
	}
	return ok && c->p == c->end && n_stats == np->n_models;
}

int pool_load(pool *p, const uint8_t *buf, size_t len, ac_err *err)
{
	uint64_t body_len = 0;
	const uint8_t *z = NULL;
	int rc = check_header(buf, len, &body_len, &z, err);
	if (rc)
		return rc;
	uint8_t *body = malloc(body_len ? (size_t)body_len : 1);
	if (!body)
		return ac_errf(err, AC_ENOMEM, "out of memory loading a checkpoint");
	if (!unsqueeze(z, buf + len, body, (size_t)body_len)) {
		free(body);
		return ac_errf(err, AC_EINVAL, "checkpoint: malformed body");
	}
	cursor c = { body, body + body_len };
	pool np;
	memset(&np, 0, sizeof np);
	uint64_t log_len = 0;
	bool ok = take_body(&c, &np, &log_len);
	free(body);
	np.cap = np.n;
	np.cap_models = np.n_models;
	np.cap_sessions = np.n_sessions;
	np.cap_requests = np.n_requests;
	np.cap_breakers = np.n_breakers;
	np.log_len = ok ? (size_t)log_len : 0;
	np.log_head = np.log_len % POOL_LOG_MAX;
	/* the tables are raw structs from untrusted bytes: checked field by field before use */
	rc = ok ? pool_check_loaded(&np, err) : ac_errf(err, AC_EINVAL, "checkpoint: malformed body");
	if (rc) {
		pool_free_tables(&np);
		return rc;
	}
	memcpy(np.listeners, p->listeners, sizeof np.listeners);
	memcpy(np.listener_ctx, p->listener_ctx, sizeof np.listener_ctx);
	np.n_listeners = p->n_listeners;
	pool_free_tables(p);
	*p = np;
	return 0;
}
