/* libFuzzer target for the accel.v1 codec (bridge/proto.c).
 *
 * The first input byte picks the decoder: even -> proto_decode_text, 1 (mod 4) ->
 * proto_decode_frame, 3 (mod 4) -> proto_decode_onemsg (one message per request); the rest of the
 * input is the message. A one-message that decodes must have its frames inside it, in order,
 * and rebuild to the very same bytes. A frame that decodes must re-encode to the very same
 * header bytes, and its header and data must cover the input exactly; anything else abort()s,
 * as do crashes and sanitizer reports. Build: make build-fuzz/fuzz-proto; run: scripts/fuzz.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bridge/proto.h"

static void check_onemsg(const uint8_t *buf, size_t len)
{
	proto_msg m;
	proto_frame fr[PROTO_MAX_TENSORS];
	int n = -1;
	char err[256];
	err[0] = '\0';
	int rc = proto_decode_onemsg(buf, len, &m, fr, &n, err, sizeof err);
	if (rc != PE_OK) {
		if (rc > 0 || !err[0] || m.root)
			abort();
		return;
	}
	if (n < 0 || (uint32_t)n != m.tensors || !m.root)
		abort();
	/* rebuilt from what was decoded (the JSON as it came, the frames in place): the same bytes */
	size_t jl = (size_t)(buf[8] | buf[9] << 8 | buf[10] << 16 | (uint32_t)buf[11] << 24);
	size_t lens[PROTO_MAX_TENSORS];
	for (int i = 0; i < n; i++) {
		if (fr[i].data < buf || fr[i].data + fr[i].data_len > buf + len || fr[i].index != (uint32_t)i ||
		    fr[i].req_id != m.id)
			abort();
		lens[i] = fr[i].hdr_len + fr[i].data_len;
	}
	size_t total = proto_onemsg_size(jl, lens, n);
	uint8_t *out = total == len ? malloc(len) : NULL;
	if (!out)
		abort();
	size_t off = proto_onemsg_head(out, (const char *)buf + PROTO_ONEMSG_HDR, jl, (uint32_t)n);
	for (int i = 0; i < n; i++)
		memcpy(proto_onemsg_slot(out, &off, lens[i]), fr[i].data - fr[i].hdr_len, lens[i]);
	if (off != len || memcmp(out, buf, len) != 0)
		abort();
	free(out);
	proto_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const uint8_t *buf, size_t len)
{
	proto_msg m;
	char err[256];
	err[0] = '\0';
	int rc = proto_decode_text((const char *)buf, len, &m, err, sizeof err);
	if (rc == PE_OK) {
		if (!m.root || (unsigned)m.type >= PM__COUNT)
			abort();
		if (m.type == PM_ECHO && m.tensors > PROTO_MAX_TENSORS)
			abort();
		proto_msg_free(&m);
		if (m.root)
			abort();
	} else {
		if (m.root || rc > 0 || !memchr(err, '\0', sizeof err) || !err[0])
			abort();
		/* the error reply for it must be producible */
		char *reply = proto_error_json(m.has_id, m.id, (proto_errc)rc, err);
		free(reply);
	}
}

static void check_frame(const uint8_t *buf, size_t len)
{
	proto_frame f;
	char err[256];
	err[0] = '\0';
	int rc = proto_decode_frame(buf, len, &f, err, sizeof err);
	if (rc != PE_OK) {
		if (rc > 0 || !err[0])
			abort();
		return;
	}
	if (f.hdr_len + f.data_len != len || f.data != buf + f.hdr_len || f.hdr_len % 8 != 0)
		abort();
	proto_frame again = f;
	uint8_t hdr[16 + 8 * PROTO_MAX_RANK + 256 + 8];
	size_t hl = proto_encode_frame_header(&again, hdr, sizeof hdr);
	if (hl == 0 || hl != f.hdr_len || memcmp(hdr, buf, hl) != 0) {
		fprintf(stderr, "fuzz-proto: re-encoded header differs (decoded %zu bytes, encoded %zu)\n",
			f.hdr_len, hl);
		abort();
	}
	if (again.hdr_len != f.hdr_len || again.data_len != f.data_len || again.hdr_len + again.data_len != len) {
		fprintf(stderr, "fuzz-proto: encoder says %zu + %zu bytes, frame has %zu\n", again.hdr_len,
			again.data_len, len);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* an exact-size copy, so ASan sees any read past the message */
	size_t len = size - 1;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & 3) == 3)
		check_onemsg(buf, len);
	else if (data[0] & 1)
		check_frame(buf, len);
	else
		check_text(buf, len);
	free(buf);
	return 0;
}
