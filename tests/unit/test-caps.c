/* Capability parsing and classification (pool/caps.c), on real hellos and hand-made edge cases. */
#include <stdio.h>
#include <string.h>

#include "../../pool/caps.h"
#include "check.h"
#include "tests.h"

static const char *const webnn_unsupported =
	"NotSupportedError: Failed to execute 'createContext' on 'ML': WebNN is not supported on this platform.";

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Parses a hello given as JSON text; 0 on success, with *c filled. */
static int caps_of(const char *json, ac_caps *c)
{
	cJSON *j = parse_json(json);
	CHECK(j != NULL);
	ac_err err = { 0, "" };
	int rc = caps_from_hello(j, c, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "caps_from_hello: %s", err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK(c->valid);
	return 0;
}

static int caps_of_fixture(const char *name, ac_caps *c)
{
	cJSON *j = load_fixture(name);
	CHECK(j != NULL);
	ac_err err = { 0, "" };
	int rc = caps_from_hello(j, c, &err);
	if (rc)
		check_fail(__FILE__, __LINE__, "caps_from_hello(%s): %s", name, err.msg);
	CHECK_EQ_INT(rc, 0);
	CHECK(c->valid);
	return 0;
}

/* ---- real hellos ---- */

int test_caps_chromium_swiftshader(void)
{
	ac_caps c;
	CHECK_OK(caps_of_fixture("hello-chromium-swiftshader.json", &c));
	CHECK_STR(c.name, "chromium");
	CHECK_STR(c.version, "156.0.0.0");
	CHECK_CONTAINS(c.user_agent, "HeadlessChrome/156");
	CHECK_EQ_INT(c.cross_origin_isolated, 1);
	CHECK_EQ_INT(c.hardware_concurrency, 2);
	CHECK(c.device_memory_gb == 16.0);

	const caps_webgpu *g = &c.webgpu;
	CHECK(g->api && g->adapter);
	CHECK_STR(g->vendor, "google");
	CHECK_STR(g->architecture, "swiftshader");
	CHECK_EQ_INT(g->fallback, 1);
	CHECK_CONTAINS(g->features, "timestamp-query");
	CHECK_EQ_INT(g->max_buffer_size, 1073741824);
	CHECK_EQ_INT(g->max_storage_binding, 1073741824);
	CHECK_EQ_INT(g->max_wg_size_x, 256);
	CHECK_EQ_INT(g->max_invocations, 256);
	CHECK_EQ_INT(g->max_wg_storage, 32768);
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "architecture=\"swiftshader\"");

	CHECK(c.webnn.api);
	for (int d = 0; d < NN__COUNT; d++) {
		CHECK(c.webnn.dev[d].reported);
		CHECK(!c.webnn.dev[d].ok);
		CHECK_EQ_INT(c.webnn.dev[d].accelerated, TRI_UNSET);
		CHECK_STR(c.webnn.dev[d].error, webnn_unsupported);
	}
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	char want[256];
	snprintf(want, sizeof want, "cpu, gpu, npu: %s", webnn_unsupported);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, want);
	CHECK_EQ_INT(count_of(c.verdict[PLAT_WEBNN].evidence, "NotSupportedError"), 1);

	CHECK(c.wasm.api);
	CHECK_EQ_INT(c.wasm.simd, 1);
	CHECK_EQ_INT(c.wasm.threads, 1);
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WASM].evidence, "simd=true threads=true");
	return 0;
}

int test_caps_firefox_fallback(void)
{
	ac_caps c;
	CHECK_OK(caps_of_fixture("hello-firefox-fallback.json", &c));
	CHECK_STR(c.name, "firefox");
	CHECK(c.device_memory_gb < 0); /* null: n/a */
	const caps_webgpu *g = &c.webgpu;
	CHECK(g->api && g->adapter);
	CHECK_STR(g->vendor, "");
	CHECK_STR(g->architecture, "");
	CHECK_STR(g->device, "");
	CHECK_STR(g->description, "");
	CHECK_EQ_INT(g->fallback, 1);
	CHECK_CONTAINS(g->features, "shader-f16");
	CHECK_EQ_INT(g->max_storage_binding, 134217728);
	CHECK_EQ_INT(g->max_wg_size_x, 1024);
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "isFallbackAdapter=true");
	CHECK(!c.webnn.api);
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "navigator.ml");
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_SOFTWARE);
	return 0;
}

int test_caps_firefox_nvidia_hardware(void)
{
	ac_caps c;
	CHECK_OK(caps_of_fixture("hello-firefox-nvidia-hardware.json", &c));
	CHECK_EQ_INT(c.webgpu.fallback, 0);
	CHECK_EQ_INT(c.webgpu.max_buffer_size, 1073741824);
	CHECK_EQ_INT(c.webgpu.max_storage_binding, -1); /* not reported: n/a */
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_HARDWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "isFallbackAdapter=false");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "adapter strings empty");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "shader-f16 supported");
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	return 0;
}

/* Recorded on the GPU machine (H100, bench/README.md): the same Firefox as on ours, whose adapter is
 * hardware there and software here (test_caps_firefox_fallback); the adapter strings are empty in
 * both, so only isFallbackAdapter tells them apart, and the evidence says the strings are hidden. */
int test_caps_firefox_nvidia_h100(void)
{
	ac_caps c;
	CHECK_OK(caps_of_fixture("hello-firefox-nvidia-h100.json", &c));
	const caps_webgpu *g = &c.webgpu;
	CHECK_STR(g->vendor, "");
	CHECK_STR(g->architecture, "");
	CHECK_EQ_INT(g->fallback, 0);
	CHECK_CONTAINS(g->features, "shader-f16");
	CHECK_CONTAINS(g->features, "timestamp-query");
	CHECK_EQ_INT(g->max_buffer_size, 1073741824);
	CHECK_EQ_INT(g->max_storage_binding, 1073741824);
	CHECK_EQ_INT(c.hardware_concurrency, 16);
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_HARDWARE);
	CHECK_STR(c.verdict[PLAT_WEBGPU].evidence,
		  "isFallbackAdapter=false; adapter strings empty (the browser hides them); shader-f16 supported");
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_SOFTWARE);
	ac_caps sw;
	CHECK_OK(caps_of_fixture("hello-firefox-fallback.json", &sw));
	CHECK_STR(sw.version, c.version);
	CHECK_EQ_INT(sw.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);
	return 0;
}

/* Recorded on the GPU machine (H200) with Chromium under Xvfb and Vulkan (bench/README.md): the
 * adapter names its vendor, and lacks shader-f16; the same Chromium here is SwiftShader. */
int test_caps_chromium_nvidia_h200(void)
{
	ac_caps c;
	CHECK_OK(caps_of_fixture("hello-chromium-nvidia-h200.json", &c));
	CHECK_STR(c.webgpu.vendor, "nvidia");
	CHECK_EQ_INT(c.webgpu.fallback, 0);
	CHECK(strstr(c.webgpu.features, "shader-f16") == NULL);
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_HARDWARE);
	CHECK_STR(c.verdict[PLAT_WEBGPU].evidence,
		  "isFallbackAdapter=false; vendor=\"nvidia\" architecture=\"\"; shader-f16 not supported");
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	ac_caps sw;
	CHECK_OK(caps_of_fixture("hello-chromium-swiftshader.json", &sw));
	CHECK_STR(sw.version, c.version);
	CHECK_EQ_INT(sw.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);
	return 0;
}

/* ---- WebGPU edge cases ---- */

int test_caps_webgpu_missing(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":false,\"adapter\":false,\"features\":[],\"limits\":{}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "navigator.gpu is undefined");
	/* no webgpu section at all: not reported, so nothing to use either */
	CHECK_OK(caps_of("{\"type\":\"hello\"}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "navigator.gpu");
	CHECK_EQ_INT(c.webgpu.fallback, TRI_UNSET);
	CHECK_EQ_INT(c.webgpu.max_buffer_size, -1);
	CHECK_EQ_INT(c.hardware_concurrency, -1);
	CHECK_EQ_INT(c.cross_origin_isolated, TRI_UNSET);
	return 0;
}

int test_caps_webgpu_no_adapter(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":true,\"adapter\":false,\"error\":\"requestAdapter() returned null\","
			 "\"vendor\":\"\",\"architecture\":\"\",\"device\":\"\",\"description\":\"\",\"fallback\":null,"
			 "\"features\":[],\"limits\":{}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "requestAdapter() gave no adapter");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "requestAdapter() returned null");
	/* an exception text is shown as it came */
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":true,\"adapter\":false,\"error\":\"Timeout: no answer in 5000 ms\"}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "Timeout: no answer in 5000 ms");
	/* no error text at all */
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":true,\"adapter\":false,\"error\":null}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "no reason given");
	return 0;
}

/* A software name in any adapter string wins, even over isFallbackAdapter=false. */
int test_caps_webgpu_software_names(void)
{
	static const struct { const char *field, *value; } cases[] = {
		{ "description", "llvmpipe (LLVM 15.0.6, 256 bits)" },
		{ "device", "llvmpipe (LLVM 15.0.6, 256 bits)" },
		{ "description", "Vulkan: lavapipe" },
		{ "architecture", "LAVAPIPE" },
		{ "description", "Microsoft Basic Render Driver" },
		{ "vendor", "SwiftShader" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char json[512], want[256];
		snprintf(json, sizeof json, "{\"webgpu\":{\"api\":true,\"adapter\":true,\"vendor\":\"mesa\","
			 "\"fallback\":false,\"%s\":\"%s\"}}", cases[i].field, cases[i].value);
		if (strcmp(cases[i].field, "vendor") == 0)
			snprintf(json, sizeof json, "{\"webgpu\":{\"api\":true,\"adapter\":true,\"vendor\":\"%s\","
				 "\"fallback\":false}}", cases[i].value);
		ac_caps c;
		CHECK_OK(caps_of(json, &c));
		if (c.verdict[PLAT_WEBGPU].status != CL_SOFTWARE)
			check_fail(__FILE__, __LINE__, "%s=\"%s\": %s", cases[i].field, cases[i].value,
				   c.verdict[PLAT_WEBGPU].evidence);
		CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);
		snprintf(want, sizeof want, "%s=\"%s\"", cases[i].field, cases[i].value);
		CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, want);
		CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "isFallbackAdapter=false");
	}
	return 0;
}

int test_caps_webgpu_fallback_missing(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":true,\"adapter\":true,\"vendor\":\"nvidia\",\"architecture\":\"hopper\","
			 "\"device\":\"\",\"description\":\"NVIDIA H100 80GB HBM3\",\"features\":[\"shader-f16\"]}}", &c));
	CHECK_EQ_INT(c.webgpu.fallback, TRI_UNSET);
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNKNOWN);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "isFallbackAdapter");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "vendor=\"nvidia\"");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "architecture=\"hopper\"");
	/* null is the page's "not reported" */
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":true,\"adapter\":true,\"vendor\":\"nvidia\",\"architecture\":\"hopper\","
			 "\"fallback\":null}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNKNOWN);
	/* with fallback false and real strings it is hardware, named by vendor */
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":true,\"adapter\":true,\"vendor\":\"nvidia\",\"architecture\":\"hopper\","
			 "\"fallback\":false,\"features\":[]}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_HARDWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "isFallbackAdapter=false");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "vendor=\"nvidia\"");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "shader-f16 not supported");
	return 0;
}

/* ---- WebNN ---- */

int test_caps_webnn_api_false(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webnn\":{\"api\":false,\"devices\":{\"cpu\":{\"ok\":false,\"error\":null,\"accelerated\":null}}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "navigator.ml is undefined");
	CHECK_OK(caps_of("{}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "navigator.ml");
	return 0;
}

int test_caps_webnn_same_error(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webnn\":{\"api\":true,\"devices\":{"
			 "\"cpu\":{\"ok\":false,\"error\":\"E: boom\",\"accelerated\":null},"
			 "\"gpu\":{\"ok\":false,\"error\":\"E: boom\",\"accelerated\":null},"
			 "\"npu\":{\"ok\":false,\"error\":\"E: boom\",\"accelerated\":null}}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "createContext failed: cpu, gpu, npu: E: boom");
	CHECK_EQ_INT(count_of(c.verdict[PLAT_WEBNN].evidence, "boom"), 1);
	/* different texts are listed apart, equal ones together */
	CHECK_OK(caps_of("{\"webnn\":{\"api\":true,\"devices\":{"
			 "\"cpu\":{\"ok\":false,\"error\":\"A\"},"
			 "\"gpu\":{\"ok\":false,\"error\":\"B\"},"
			 "\"npu\":{\"ok\":false,\"error\":\"A\"}}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "cpu, npu: A");
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "gpu: B");
	/* api true but no device reported */
	CHECK_OK(caps_of("{\"webnn\":{\"api\":true}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "no device tried");
	return 0;
}

int test_caps_webnn_cpu_software(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webnn\":{\"api\":true,\"devices\":{"
			 "\"cpu\":{\"ok\":true,\"error\":null,\"accelerated\":false},"
			 "\"gpu\":{\"ok\":false,\"error\":\"NotSupportedError: no gpu\",\"accelerated\":null},"
			 "\"npu\":{\"ok\":false,\"error\":\"NotSupportedError: no npu\",\"accelerated\":null}}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "createContext ok for cpu");
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "accelerated=true");
	/* gpu context that does not say accelerated (Chromium on Linux runs it on the CPU) */
	CHECK_OK(caps_of("{\"webnn\":{\"api\":true,\"devices\":{"
			 "\"cpu\":{\"ok\":true,\"accelerated\":null},\"gpu\":{\"ok\":true,\"accelerated\":null}}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "cpu,gpu");
	return 0;
}

int test_caps_webnn_gpu_hardware(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webnn\":{\"api\":true,\"devices\":{"
			 "\"cpu\":{\"ok\":true,\"error\":null,\"accelerated\":false},"
			 "\"gpu\":{\"ok\":true,\"error\":null,\"accelerated\":true},"
			 "\"npu\":{\"ok\":false,\"error\":\"NotSupportedError: no npu\",\"accelerated\":null}}}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_HARDWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "createContext(gpu)");
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "accelerated=true");
	return 0;
}

/* The hello of npm @sparticuz/chromium's headless shell (family chromium-shell): createContext
 * works for cpu, gpu and npu, no context says accelerated, and it is Chromium on Linux: software,
 * with the reason, never hardware. */
int test_caps_chromium_shell_webnn(void)
{
	ac_caps c;
	CHECK_OK(caps_of_fixture("hello-chromium-shell-webnn.json", &c));
	CHECK_STR(c.name, "chromium");
	CHECK_STR(c.version, "153.0.8010.0");
	CHECK_CONTAINS(c.user_agent, "HeadlessChrome/153");
	CHECK(c.webnn.api && c.webnn.linux_chromium);
	for (int d = 0; d < NN__COUNT; d++) {
		CHECK(c.webnn.dev[d].reported && c.webnn.dev[d].ok);
		CHECK_STR(c.webnn.dev[d].error, "");
		CHECK_EQ_INT(c.webnn.dev[d].accelerated, TRI_UNSET);
	}
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "createContext ok for cpu,gpu,npu");
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "TFLite/XNNPACK");
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_SOFTWARE);
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_SOFTWARE);
	return 0;
}

/* Chromium on Linux stays software even where a gpu context says accelerated=true; the same
 * context in an Edge on Windows is hardware. */
int test_caps_webnn_linux_never_hardware(void)
{
	static const char devs[] = "\"webnn\":{\"api\":true,\"devices\":{"
		"\"cpu\":{\"ok\":true,\"accelerated\":false},\"gpu\":{\"ok\":true,\"accelerated\":true}}}";
	char json[600];
	ac_caps c;
	snprintf(json, sizeof json, "{\"browser\":{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
		 "(KHTML, like Gecko) Chrome/153.0.0.0 Safari/537.36\"},%s}", devs);
	CHECK_OK(caps_of(json, &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "accelerated=true for gpu");
	CHECK_CONTAINS(c.verdict[PLAT_WEBNN].evidence, "on the CPU");
	snprintf(json, sizeof json, "{\"browser\":{\"user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
		 "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/153.0.0.0 Safari/537.36 Edg/153.0.0.0\"},%s}", devs);
	CHECK_OK(caps_of(json, &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_HARDWARE);
	snprintf(json, sizeof json, "{\"browser\":{\"user_agent\":\"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 "
		 "(KHTML, like Gecko) Chrome/153.0.0.0 Mobile Safari/537.36\"},%s}", devs);
	CHECK_OK(caps_of(json, &c));
	CHECK_EQ_INT(c.verdict[PLAT_WEBNN].status, CL_HARDWARE);
	return 0;
}

/* ---- WebAssembly ---- */

int test_caps_wasm_missing(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":false}}", &c));
	CHECK(!c.wasm.api);
	CHECK_EQ_INT(c.wasm.simd, TRI_UNSET);
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WASM].evidence, "WebAssembly is undefined");
	CHECK_OK(caps_of("{\"wasm\":{\"api\":false,\"simd\":false,\"threads\":false}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_UNAVAILABLE);
	CHECK_OK(caps_of("{\"wasm\":{\"api\":true,\"simd\":true,\"threads\":false}}", &c));
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WASM].evidence, "simd=true threads=false");
	CHECK_OK(caps_of("{\"wasm\":{\"api\":true}}", &c));
	CHECK_CONTAINS(c.verdict[PLAT_WASM].evidence, "simd=not reported");
	return 0;
}

/* A page over http under a non-loopback name: no navigator.gpu, no threads, and the verdicts say
 * that the insecure context is why and name the fix (--tls-cert, --tls self-signed). A secure page (or an older one that does not say) keeps the
 * plain wording. */
int test_caps_insecure_context(void)
{
	ac_caps c;
	CHECK_OK(caps_of("{\"secure_context\":false,\"cross_origin_isolated\":false,"
			 "\"webgpu\":{\"api\":false,\"adapter\":false,\"features\":[],\"limits\":{}},"
			 "\"wasm\":{\"api\":true,\"simd\":true,\"threads\":false}}", &c));
	CHECK_EQ_INT(c.secure_context, 0);
	CHECK_EQ_INT(c.verdict[PLAT_WEBGPU].status, CL_UNAVAILABLE);
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "navigator.gpu is undefined");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "not a secure context (http on a non-loopback address)");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "--public-url https://");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "(http on a non-loopback address): use --tls-cert");
	CHECK_CONTAINS(c.verdict[PLAT_WEBGPU].evidence, "--tls self-signed");
	CHECK_EQ_INT(c.verdict[PLAT_WASM].status, CL_SOFTWARE);
	CHECK_CONTAINS(c.verdict[PLAT_WASM].evidence, "simd=true threads=false");
	CHECK_CONTAINS(c.verdict[PLAT_WASM].evidence, "not a secure context (http on a non-loopback address): use --tls-cert");
	/* secure, or not reported: unchanged */
	CHECK_OK(caps_of("{\"secure_context\":true,\"webgpu\":{\"api\":false},"
			 "\"wasm\":{\"api\":true,\"simd\":true,\"threads\":false}}", &c));
	CHECK_EQ_INT(c.secure_context, 1);
	CHECK(!strstr(c.verdict[PLAT_WEBGPU].evidence, "secure"));
	CHECK(!strstr(c.verdict[PLAT_WASM].evidence, "secure"));
	CHECK_OK(caps_of("{\"webgpu\":{\"api\":false}}", &c));
	CHECK_EQ_INT(c.secure_context, TRI_UNSET);
	CHECK(!strstr(c.verdict[PLAT_WEBGPU].evidence, "secure"));
	/* an API that exists is judged as before, whatever the context says */
	CHECK_OK(caps_of_fixture("hello-chromium-swiftshader.json", &c));
	ac_verdict before = c.verdict[PLAT_WEBGPU];
	CHECK_EQ_INT(before.status, CL_SOFTWARE);
	return 0;
}

/* ---- wrong types ---- */

int test_caps_wrong_types(void)
{
	static const struct { const char *json, *field; } cases[] = {
		{ "{\"webgpu\":{\"api\":true,\"adapter\":true,\"fallback\":\"yes\"}}", "hello.webgpu.fallback" },
		{ "{\"webgpu\":{\"api\":1}}", "hello.webgpu.api" },
		{ "{\"webgpu\":{\"vendor\":5}}", "hello.webgpu.vendor" },
		{ "{\"webgpu\":{\"features\":\"shader-f16\"}}", "hello.webgpu.features" },
		{ "{\"webgpu\":{\"features\":[\"a\",1]}}", "hello.webgpu.features" },
		{ "{\"webgpu\":{\"limits\":[]}}", "hello.webgpu.limits" },
		{ "{\"webgpu\":{\"limits\":{\"maxBufferSize\":\"1G\"}}}", "hello.webgpu.limits.maxBufferSize" },
		{ "{\"webgpu\":\"yes\"}", "hello.webgpu" },
		{ "{\"webnn\":[]}", "hello.webnn" },
		{ "{\"webnn\":{\"api\":\"true\"}}", "hello.webnn.api" },
		{ "{\"webnn\":{\"api\":true,\"devices\":3}}", "hello.webnn.devices" },
		{ "{\"webnn\":{\"api\":true,\"devices\":{\"npu\":true}}}", "hello.webnn.devices.npu" },
		{ "{\"webnn\":{\"api\":true,\"devices\":{\"gpu\":{\"ok\":\"true\"}}}}", "hello.webnn.devices.gpu.ok" },
		{ "{\"webnn\":{\"api\":true,\"devices\":{\"cpu\":{\"ok\":false,\"error\":{}}}}}", "hello.webnn.devices.cpu.error" },
		{ "{\"webnn\":{\"api\":true,\"devices\":{\"cpu\":{\"ok\":true,\"accelerated\":0}}}}", "hello.webnn.devices.cpu.accelerated" },
		{ "{\"wasm\":{\"api\":true,\"simd\":1}}", "hello.wasm.simd" },
		{ "{\"wasm\":true}", "hello.wasm" },
		{ "{\"browser\":[]}", "hello.browser" },
		{ "{\"browser\":{\"name\":5}}", "hello.browser.name" },
		{ "{\"browser\":{\"user_agent\":false}}", "hello.browser.user_agent" },
		{ "{\"cross_origin_isolated\":\"yes\"}", "hello.cross_origin_isolated" },
		{ "{\"hardware_concurrency\":\"2\"}", "hello.hardware_concurrency" },
		{ "{\"device_memory\":true}", "hello.device_memory" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *j = parse_json(cases[i].json);
		CHECK(j != NULL);
		ac_caps c;
		ac_err err = { 0, "" };
		int rc = caps_from_hello(j, &c, &err);
		if (rc == 0)
			check_fail(__FILE__, __LINE__, "accepted %s", cases[i].json);
		CHECK(rc < 0);
		CHECK_EQ_INT(rc, err.code);
		CHECK(!c.valid);
		/* the field, exactly: "hello.webgpu.fallback: expected ..." */
		char want[96];
		snprintf(want, sizeof want, "%s: ", cases[i].field);
		if (strncmp(err.msg, want, strlen(want)) != 0)
			check_fail(__FILE__, __LINE__, "%s gave \"%s\"", cases[i].json, err.msg);
		CHECK(strncmp(err.msg, want, strlen(want)) == 0);
	}
	return 0;
}

/* Numbers far outside what the C fields hold must not be cast blindly (a double to int conversion
 * out of range is undefined behaviour); either refuse the hello naming the field, or read n/a.
 * Fails today: caps.c casts get_num() results straight to int / int64_t, so 1e300 becomes
 * INT_MIN / INT64_MIN on x86-64 (UBSan's float-cast-overflow reports it under clang). */
int test_caps_out_of_range_numbers(void)
{
	static const struct { const char *json, *field; } cases[] = {
		{ "{\"hardware_concurrency\":1e300}", "hello.hardware_concurrency" },
		{ "{\"hardware_concurrency\":-1e300}", "hello.hardware_concurrency" },
		{ "{\"webgpu\":{\"limits\":{\"maxBufferSize\":1e300}}}", "hello.webgpu.limits.maxBufferSize" },
		{ "{\"webgpu\":{\"limits\":{\"maxComputeWorkgroupSizeX\":1e19}}}", "hello.webgpu.limits.maxComputeWorkgroupSizeX" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *j = parse_json(cases[i].json);
		CHECK(j != NULL);
		ac_caps c;
		ac_err err = { 0, "" };
		int rc = caps_from_hello(j, &c, &err);
		if (rc) {
			CHECK_CONTAINS(err.msg, cases[i].field);
			continue;
		}
		if (c.hardware_concurrency != -1 || c.webgpu.max_buffer_size != -1 || c.webgpu.max_wg_size_x != -1)
			check_fail(__FILE__, __LINE__, "%s read as hardware_concurrency %d, maxBufferSize %lld, "
				   "maxComputeWorkgroupSizeX %lld", cases[i].json, c.hardware_concurrency,
				   (long long)c.webgpu.max_buffer_size, (long long)c.webgpu.max_wg_size_x);
		CHECK_EQ_INT(c.hardware_concurrency, -1);
		CHECK_EQ_INT(c.webgpu.max_buffer_size, -1);
		CHECK_EQ_INT(c.webgpu.max_wg_size_x, -1);
	}
	return 0;
}

int test_caps_names(void)
{
	CHECK_STR(plat_name(PLAT_WEBGPU), "webgpu");
	CHECK_STR(plat_name(PLAT_WEBNN), "webnn");
	CHECK_STR(plat_name(PLAT_WASM), "wasm");
	CHECK_STR(plat_name(PLAT__COUNT), "?");
	CHECK_STR(class_name(CL_UNAVAILABLE), "unavailable");
	CHECK_STR(class_name(CL_SOFTWARE), "software");
	CHECK_STR(class_name(CL_HARDWARE), "hardware");
	CHECK_STR(class_name(CL_UNKNOWN), "unknown");
	CHECK_STR(class_name((ac_class)9), "?");
	CHECK_STR(nn_device_name(NN_CPU), "cpu");
	CHECK_STR(nn_device_name(NN_GPU), "gpu");
	CHECK_STR(nn_device_name(NN_NPU), "npu");
	CHECK_STR(nn_device_name(NN__COUNT), "?");
	return 0;
}
