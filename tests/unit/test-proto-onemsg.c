/* The accel.v1 one-message form (bridge/proto.c, man/accel-top-protocol.7 "ONE-MESSAGE FORM"):
 * a JSON message and its frames in one binary message, built and decoded in place; malformed
 * ones refused with the error the bridge answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bridge/proto.h"
#include "check.h"
#include "tests.h"

/* A uint8 frame of n data bytes for request id, index i, into dst (frame_len(n) bytes). */
static size_t frame_len(size_t n) { return 24 + n; }

static void put_frame(uint8_t *dst, size_t n, uint32_t id, uint32_t i)
{
	proto_frame f = { .dtype = DT_UINT8, .rank = 1, .dims = { n }, .req_id = id, .index = i };
	size_t hl = proto_encode_frame_header(&f, dst, 64);
	for (size_t k = 0; k < n; k++)
		dst[hl + k] = (uint8_t)(k * 7 + i);
}

/* An exact-size heap copy of a message: JSON json, frames of sizes[0..n) carrying id. */
static uint8_t *build(const char *json, const size_t *sizes, int n, uint32_t id, size_t *len)
{
	size_t lens[8] = { 0 };
	for (int i = 0; i < n; i++)
		lens[i] = frame_len(sizes[i]);
	*len = proto_onemsg_size(strlen(json), lens, n);
	uint8_t *buf = DEFER_FREE(malloc(*len));
	if (!buf)
		return NULL;
	size_t off = proto_onemsg_head(buf, json, strlen(json), (uint32_t)n);
	for (int i = 0; i < n; i++)
		put_frame(proto_onemsg_slot(buf, &off, lens[i]), sizes[i], id, (uint32_t)i);
	return off == *len ? buf : NULL;
}

int test_proto_onemsg_roundtrip(void)
{
	const char *json = "{\"type\":\"result\",\"id\":7,\"session\":2,\"compute_ms\":1.5,\"tensors\":3}";
	const size_t sizes[] = { 5, 0, 1024 };
	size_t len;
	uint8_t *buf = build(json, sizes, 3, 7, &len);
	CHECK(buf != NULL);
	CHECK(proto_is_onemsg(buf, len));
	CHECK_EQ_INT(len % 8, 0);
	proto_msg m;
	proto_frame fr[PROTO_MAX_TENSORS];
	int n = -1;
	char err[200];
	CHECK_EQ_INT(proto_decode_onemsg(buf, len, &m, fr, &n, err, sizeof err), PE_OK);
	DEFER_JSON(m.root);
	CHECK_EQ_INT(m.type, PM_RESULT);
	CHECK_EQ_INT(m.id, 7);
	CHECK_EQ_INT(m.tensors, 3);
	CHECK_EQ_INT(n, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(fr[i].data_len, sizes[i]);
		CHECK_EQ_INT(fr[i].index, i);
		CHECK(fr[i].data > buf && fr[i].data + fr[i].data_len <= buf + len); /* in place, no copy */
		CHECK_EQ_INT(((uintptr_t)(fr[i].data - buf)) % 8, 0);
		for (size_t k = 0; k < sizes[i]; k++)
			CHECK_EQ_INT(fr[i].data[k], (uint8_t)(k * 7 + (size_t)i));
	}
	CHECK(!proto_is_onemsg((const uint8_t *)"ATNS", 4));
	return 0;
}

/* Every cut of a valid message is refused, with a message, and frees what it parsed. */
int test_proto_onemsg_truncated(void)
{
	const char *json = "{\"type\":\"echo\",\"id\":3,\"tensors\":2}";
	const size_t sizes[] = { 9, 16 };
	size_t len;
	uint8_t *buf = build(json, sizes, 2, 3, &len);
	CHECK(buf != NULL);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);
		CHECK(b != NULL);
		memcpy(b, buf, cut);
		proto_msg m;
		proto_frame fr[PROTO_MAX_TENSORS];
		int n;
		char err[200] = "";
		int rc = proto_decode_onemsg(b, cut, &m, fr, &n, err, sizeof err);
		free(b);
		CHECK(rc < 0);
		CHECK(err[0] != '\0');
		CHECK(m.root == NULL);
	}
	return 0;
}

static int decode_rc(uint8_t *buf, size_t len, char *err, size_t errlen)
{
	proto_msg m;
	proto_frame fr[PROTO_MAX_TENSORS];
	int n;
	int rc = proto_decode_onemsg(buf, len, &m, fr, &n, err, errlen);
	if (rc == PE_OK)
		proto_msg_free(&m);
	return rc;
}

int test_proto_onemsg_malformed(void)
{
	const char *json = "{\"type\":\"echo\",\"id\":3,\"tensors\":1}";
	const size_t one[] = { 8 };
	size_t len;
	char err[200];
	uint8_t *buf = build(json, one, 1, 3, &len);
	CHECK(buf != NULL);
	CHECK_EQ_INT(decode_rc(buf, len, err, sizeof err), PE_OK);
	buf[4] = 2; /* version */
	CHECK_EQ_INT(decode_rc(buf, len, err, sizeof err), PE_UNSUPPORTED_VERSION);
	buf[4] = 1;
	buf[12] = 2; /* the header's K differs from the JSON's tensors */
	CHECK_EQ_INT(decode_rc(buf, len, err, sizeof err), PE_BAD_MESSAGE);
	CHECK(strstr(err, "2 frames in its header, 1 in its JSON") != NULL);
	buf[12] = 1;
	/* a frame of another request, or out of order */
	uint8_t *other = build(json, one, 1, 4, &len);
	CHECK(other != NULL);
	CHECK_EQ_INT(decode_rc(other, len, err, sizeof err), PE_OUT_OF_ORDER);
	/* padding after the JSON (34 bytes, padded to 40) must be zero */
	buf[16 + strlen(json)] = 1;
	CHECK_EQ_INT(decode_rc(buf, len, err, sizeof err), PE_BAD_FRAME);
	buf[16 + strlen(json)] = 0;
	/* a frame length past the end */
	size_t slot = 16 + ((strlen(json) + 7) & ~(size_t)7);
	buf[slot + 7] = 0x80;
	CHECK_EQ_INT(decode_rc(buf, len, err, sizeof err), PE_BAD_FRAME);
	buf[slot + 7] = 0;
	/* bytes after the last frame */
	uint8_t *longer = DEFER_FREE(malloc(len + 8));
	CHECK(longer != NULL);
	memcpy(longer, buf, len);
	memset(longer + len, 0, 8);
	CHECK_EQ_INT(decode_rc(longer, len + 8, err, sizeof err), PE_BAD_FRAME);
	/* the JSON's own errors, with the id kept for the reply */
	const char *bad = "{\"type\":\"nope\",\"id\":9,\"tensors\":0}";
	uint8_t *b2 = build(bad, NULL, 0, 9, &len);
	CHECK(b2 != NULL);
	proto_msg m;
	proto_frame fr[PROTO_MAX_TENSORS];
	int n;
	CHECK_EQ_INT(proto_decode_onemsg(b2, len, &m, fr, &n, err, sizeof err), PE_UNKNOWN_TYPE);
	CHECK(m.has_id && m.id == 9 && m.root == NULL);
	/* a type without tensors may not carry frames */
	const char *ping = "{\"type\":\"ping\",\"id\":3}";
	uint8_t *b3 = build(ping, one, 1, 3, &len);
	CHECK(b3 != NULL);
	CHECK_EQ_INT(decode_rc(b3, len, err, sizeof err), PE_BAD_MESSAGE);
	return 0;
}
