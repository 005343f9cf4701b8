/* Kernel tuning helpers (pool/tune.c), the logmel messages (bridge/proto.c) and the C log-mel
 * reference on the clips the WGSL kernels are checked with (pool/audio.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../bridge/proto.h"
#include "../../pool/audio.h"
#include "../../pool/tune.h"
#include "check.h"
#include "tests.h"

int test_tune_parse_shapes(void)
{
	tune_shape s[16];
	int n = 0;
	ac_err err = { 0, "" };
	CHECK_EQ_INT(tune_parse_shapes(TUNE_DEFAULT_CANDIDATES, s, 16, &n, &err), 0);
	CHECK_EQ_INT(n, 8);
	CHECK(s[0].wx == 64 && s[0].wy == 1 && s[0].items == 1); /* the default comes first */
	CHECK(s[1].wx == 256 && s[1].wy == 1 && s[2].wx == 128 && s[2].wy == 2);
	CHECK_EQ_INT(tune_parse_shapes("16x16x1/4", s, 16, &n, &err), 0);
	CHECK(n == 1 && s[0].wx == 16 && s[0].wy == 16 && s[0].items == 4);
	static const char *const bad[] = { "", "100x1x1", "64x1x2", "64x1", "64x1x1/0", "64x1x1/17", "64x1x1/", "2048x1x1",
					   "64x1x1x", "ax1x1", "64x1x1/2z" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = '\0';
		CHECK_EQ_INT(tune_parse_shapes(bad[i], s, 16, &n, &err), AC_EINVAL);
		CHECK_CONTAINS(err.msg, "--shapes");
	}
	CHECK_EQ_INT(tune_parse_shapes("64x1x1,64x1x1,64x1x1", s, 2, &n, &err), AC_EINVAL);
	CHECK_CONTAINS(err.msg, "at most 2");
	return 0;
}

int test_tune_adapter_key(void)
{
	ac_caps c;
	memset(&c, 0, sizeof c);
	c.webgpu.adapter = true;
	c.webgpu.fallback = TRI_UNSET;
	char key[300];
	tune_adapter_key(&c, key, sizeof key);
	CHECK_STR(key, "(adapter without info)");
	strcpy(c.webgpu.vendor, "google");
	strcpy(c.webgpu.architecture, "swiftshader");
	c.webgpu.fallback = 1;
	tune_adapter_key(&c, key, sizeof key);
	CHECK_STR(key, "google / swiftshader [fallback adapter]");
	c.webgpu.adapter = false;
	c.webgpu.vendor[0] = c.webgpu.architecture[0] = '\0';
	c.webgpu.fallback = 0;
	tune_adapter_key(&c, key, sizeof key);
	CHECK_STR(key, "(no adapter)");
	return 0;
}

int test_tune_max_abs_diff(void)
{
	float ref[4] = { 1, 2, 3, 4 }, got[4] = { 1, 2.5f, 3, 3.75f };
	CHECK(fabs(tune_max_abs_diff(ref, got, 4) - 0.5) < 1e-9);
	CHECK(tune_max_abs_diff(ref, ref, 4) == 0);
	got[0] = NAN;
	CHECK(isinf(tune_max_abs_diff(ref, got, 4))); /* a NaN never passes a tolerance */
	return 0;
}

int test_tune_proto_logmel(void)
{
	proto_msg m;
	char err[200];
	const char *ok = "{\"type\":\"logmel_result\",\"id\":3,\"tensors\":1,\"timing\":\"wall\",\"gpu_ms\":[],"
			 "\"wall_ms\":[1.5,2],\"compile_ms\":4}";
	CHECK_EQ_INT(proto_decode_text(ok, strlen(ok), &m, err, sizeof err), PE_OK);
	CHECK(m.type == PM_LOGMEL_RESULT && m.tensors == 1 && m.id == 3);
	proto_msg_free(&m);
	const char *req = "{\"type\":\"logmel\",\"id\":4,\"tensors\":1,\"frames\":3000,\"workgroup\":[256,1,1],\"items\":1}";
	CHECK_EQ_INT(proto_decode_text(req, strlen(req), &m, err, sizeof err), PE_OK);
	CHECK(m.type == PM_LOGMEL && m.tensors == 1);
	proto_msg_free(&m);
	static const char *const bad[] = {
		"{\"type\":\"logmel_result\",\"id\":3,\"tensors\":1,\"timing\":\"wall\",\"gpu_ms\":[]}",
		"{\"type\":\"logmel_result\",\"id\":3,\"tensors\":1,\"timing\":\"wall\",\"gpu_ms\":[],\"wall_ms\":[-1]}",
		"{\"type\":\"logmel_result\",\"id\":3,\"tensors\":1,\"timing\":7,\"gpu_ms\":[],\"wall_ms\":[1]}",
		"{\"type\":\"logmel_result\",\"id\":3,\"tensors\":1,\"timing\":\"wall\",\"gpu_ms\":[\"x\"],\"wall_ms\":[1]}",
		"{\"type\":\"logmel\",\"id\":3}",
		"{\"type\":\"logmel_result\",\"tensors\":1,\"timing\":\"wall\",\"gpu_ms\":[],\"wall_ms\":[1]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_EQ_INT(proto_decode_text(bad[i], strlen(bad[i]), &m, err, sizeof err), PE_BAD_MESSAGE);
	return 0;
}

/* The reference itself on the test clips: silence is the floor everywhere; a rising sweep's
 * loudest band rises with time. */
int test_tune_reference_clips(void)
{
	enum { FR = 300 };
	float *out = malloc(80 * FR * sizeof *out);
	audio_clip c;
	audio_silence(&c, 3 * AUDIO_RATE);
	audio_log_mel(&c, FR, out);
	for (int i = 0; i < 80 * FR; i++)
		CHECK(fabsf(out[i] - (-10.0f + 4) / 4) < 1e-6f);
	audio_free(&c);
	audio_sweep(&c, 3 * AUDIO_RATE, 100, 7900);
	CHECK_STR(c.source, "sweep");
	audio_log_mel(&c, FR, out);
	int prev = -1;
	for (int t = 20; t < FR - 20; t += 40) {
		int best = 0;
		for (int m = 1; m < 80; m++)
			if (out[m * FR + t] > out[best * FR + t])
				best = m;
		CHECK(best > prev);
		prev = best;
	}
	audio_free(&c);
	free(out);
	return 0;
}
