/* Private to pool/journal*.c: the byte buffer, little-endian helpers and the event payload codec
 * that the recording's writer and reader share (format: journal.h and journal_codec.c). */
#ifndef AC_JOURNAL_CODEC_H
#define AC_JOURNAL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* A growing byte buffer; after a failed allocation it stays as it was and oom is set. */
typedef struct {
	uint8_t *b;
	size_t len, cap;
	bool oom;
} jc_bytes;

void jc_put(jc_bytes *o, const void *p, size_t n);

static inline void jc_put_le(uint8_t *d, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t jc_get_le(const uint8_t *d, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

/* Appends ev's 'E' payload to o: 0 or AC_ENOMEM. */
int jc_encode_event(jc_bytes *o, const ac_event *ev);

/* Why a payload could not be decoded. */
enum { JC_MALFORMED = 1, JC_BAD_JSON = 2 };
/* Decodes the len bytes at p into *ev (all but its time): 0, JC_MALFORMED or JC_BAD_JSON. Its
 * strings are copied, NUL-terminated, into scratch, which must hold len + 8 bytes; its data, if
 * any, is parsed into *data (the caller frees it). */
int jc_decode_event(const uint8_t *p, size_t len, ac_event *ev, char *scratch, cJSON **data);

#endif
