/* Parsing `hello` into ac_caps, and the classification rules. */
#include "caps.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const plat_names[PLAT__COUNT] = { "webgpu", "webnn", "wasm" };
static const char *const class_names[] = { "unavailable", "software", "hardware", "unknown" };
static const char *const nn_names[NN__COUNT] = { "cpu", "gpu", "npu" };

const char *plat_name(ac_platform p) { return (unsigned)p < PLAT__COUNT ? plat_names[p] : "?"; }
const char *class_name(ac_class c) { return (unsigned)c <= CL_UNKNOWN ? class_names[c] : "?"; }
const char *nn_device_name(nn_device d) { return (unsigned)d < NN__COUNT ? nn_names[d] : "?"; }

/* ---- typed field readers: absent or null is fine, a wrong type is an error naming the field ---- */

typedef struct {
	ac_err *err;
	int rc;
	char path[64];
} reader;

static const cJSON *field(reader *r, const cJSON *obj, const char *key)
{
	(void)r;
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	return cJSON_IsNull(v) ? NULL : v;
}

static void wrong(reader *r, const char *key, const char *want)
{
	if (r->rc == 0)
		r->rc = ac_errf(r->err, AC_EPROTO, "hello.%s%s%s: expected %s", r->path,
				r->path[0] ? "." : "", key, want);
}

static void get_str(reader *r, const cJSON *obj, const char *key, char *dst, size_t cap)
{
	const cJSON *v = field(r, obj, key);
	if (!v)
		return;
	if (!cJSON_IsString(v))
		return wrong(r, key, "a string");
	ac_strlcpy(dst, v->valuestring, cap);
}

static int get_tri(reader *r, const cJSON *obj, const char *key)
{
	const cJSON *v = field(r, obj, key);
	if (!v)
		return TRI_UNSET;
	if (!cJSON_IsBool(v)) {
		wrong(r, key, "a boolean");
		return TRI_UNSET;
	}
	return cJSON_IsTrue(v);
}

/* A number in [lo, hi]; out of range is as wrong as a string (and would overflow the cast). */
static double get_num_in(reader *r, const cJSON *obj, const char *key, double dflt, double lo, double hi)
{
	const cJSON *v = field(r, obj, key);
	if (!v)
		return dflt;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) {
		char want[64];
		snprintf(want, sizeof want, "a number from %.0f to %.0f", lo, hi);
		wrong(r, key, want);
		return dflt;
	}
	return v->valuedouble;
}

static double get_num(reader *r, const cJSON *obj, const char *key, double dflt)
{
	return get_num_in(r, obj, key, dflt, 0, 9007199254740992.0); /* 2^53: exact in a double */
}

static const cJSON *get_obj(reader *r, const cJSON *obj, const char *key)
{
	const cJSON *v = field(r, obj, key);
	if (v && !cJSON_IsObject(v)) {
		wrong(r, key, "an object");
		return NULL;
	}
	return v;
}

static void parse_webgpu(reader *r, const cJSON *g, caps_webgpu *w)
{
	memset(w, 0, sizeof *w);
	w->fallback = TRI_UNSET;
	w->max_buffer_size = w->max_storage_binding = w->max_wg_size_x = -1;
	w->max_invocations = w->max_wg_storage = -1;
	if (!g)
		return;
	ac_strlcpy(r->path, "webgpu", sizeof r->path);
	w->api = get_tri(r, g, "api") == 1;
	w->adapter = get_tri(r, g, "adapter") == 1;
	get_str(r, g, "error", w->error, sizeof w->error);
	get_str(r, g, "vendor", w->vendor, sizeof w->vendor);
	get_str(r, g, "architecture", w->architecture, sizeof w->architecture);
	get_str(r, g, "device", w->device, sizeof w->device);
	get_str(r, g, "description", w->description, sizeof w->description);
	w->fallback = get_tri(r, g, "fallback");
	const cJSON *f = field(r, g, "features");
	if (f && !cJSON_IsArray(f))
		wrong(r, "features", "an array of strings");
	const cJSON *it;
	cJSON_ArrayForEach(it, f) {
		if (!cJSON_IsString(it)) {
			wrong(r, "features", "an array of strings");
			break;
		}
		ac_strlcatf(w->features, sizeof w->features, "%s%s", w->features[0] ? " " : "", it->valuestring);
	}
	const cJSON *l = get_obj(r, g, "limits");
	ac_strlcpy(r->path, "webgpu.limits", sizeof r->path);
	w->max_buffer_size = (int64_t)get_num(r, l, "maxBufferSize", -1);
	w->max_storage_binding = (int64_t)get_num(r, l, "maxStorageBufferBindingSize", -1);
	w->max_wg_size_x = (int64_t)get_num(r, l, "maxComputeWorkgroupSizeX", -1);
	w->max_invocations = (int64_t)get_num(r, l, "maxComputeInvocationsPerWorkgroup", -1);
	w->max_wg_storage = (int64_t)get_num(r, l, "maxComputeWorkgroupStorageSize", -1);
}

static void parse_webnn(reader *r, const cJSON *n, caps_webnn *w)
{
	memset(w, 0, sizeof *w);
	for (int d = 0; d < NN__COUNT; d++)
		w->dev[d].accelerated = TRI_UNSET;
	if (!n)
		return;
	ac_strlcpy(r->path, "webnn", sizeof r->path);
	w->api = get_tri(r, n, "api") == 1;
	const cJSON *devs = get_obj(r, n, "devices");
	for (int d = 0; d < NN__COUNT; d++) {
		ac_strlcpy(r->path, "webnn.devices", sizeof r->path);
		const cJSON *o = get_obj(r, devs, nn_names[d]);
		if (!o)
			continue;
		snprintf(r->path, sizeof r->path, "webnn.devices.%s", nn_names[d]);
		caps_nn_device *dv = &w->dev[d];
		dv->reported = true;
		dv->ok = get_tri(r, o, "ok") == 1;
		dv->accelerated = get_tri(r, o, "accelerated");
		get_str(r, o, "error", dv->error, sizeof dv->error);
	}
}

static void parse_wasm(reader *r, const cJSON *o, caps_wasm *w)
{
	w->api = false;
	w->simd = w->threads = TRI_UNSET;
	if (!o)
		return;
	ac_strlcpy(r->path, "wasm", sizeof r->path);
	w->api = get_tri(r, o, "api") == 1;
	w->simd = get_tri(r, o, "simd");
	w->threads = get_tri(r, o, "threads");
}

/* WebGPU and SharedArrayBuffer (threaded wasm) exist only in a secure context: https, or a
 * loopback address. A page opened over http under another name lacks both, and "navigator.gpu is
 * undefined" alone would hide the cause and the fix. */
#define INSECURE_CAUSE "not a secure context (http on a non-loopback address): use --tls-cert FILE --tls-key FILE " \
	"or --tls self-signed"
#define INSECURE_WHY INSECURE_CAUSE " (WebGPU and wasm threads need https or a loopback address; or an https " \
	"proxy with --public-url https://...)"

static void name_insecure_context(ac_caps *c)
{
	ac_verdict *g = &c->verdict[PLAT_WEBGPU], *w = &c->verdict[PLAT_WASM];
	if (!c->webgpu.api)
		snprintf(g->evidence, sizeof g->evidence, "navigator.gpu is undefined: " INSECURE_WHY);
	if (c->wasm.api && c->wasm.threads != 1) {
		char was[sizeof w->evidence];
		ac_strlcpy(was, w->evidence, sizeof was);
		snprintf(w->evidence, sizeof w->evidence, "%.120s; threads off because %s", was, INSECURE_CAUSE);
	}
}

/* "Mozilla/5.0 (X11; Linux x86_64) ... Chrome/153..." but not Android or ChromeOS (CrOS), whose
 * Chromium has other WebNN backends; Firefox's UA has no Chrome/. */
static bool ua_linux_chromium(const char *ua)
{
	return strstr(ua, "Linux") && strstr(ua, "Chrome/") && !strstr(ua, "Android") && !strstr(ua, "CrOS");
}

int caps_from_hello(const cJSON *hello, ac_caps *c, ac_err *err)
{
	reader r = { .err = err };
	memset(c, 0, sizeof *c);
	const cJSON *b = get_obj(&r, hello, "browser");
	ac_strlcpy(r.path, "browser", sizeof r.path);
	get_str(&r, b, "name", c->name, sizeof c->name);
	get_str(&r, b, "version", c->version, sizeof c->version);
	get_str(&r, b, "user_agent", c->user_agent, sizeof c->user_agent);
	r.path[0] = '\0';
	c->cross_origin_isolated = get_tri(&r, hello, "cross_origin_isolated");
	c->secure_context = get_tri(&r, hello, "secure_context");
	c->hardware_concurrency = (int)get_num_in(&r, hello, "hardware_concurrency", -1, 0, 1 << 20);
	c->device_memory_gb = get_num(&r, hello, "device_memory", -1);
	r.path[0] = '\0';
	const cJSON *g = get_obj(&r, hello, "webgpu");
	r.path[0] = '\0';
	const cJSON *n = get_obj(&r, hello, "webnn");
	r.path[0] = '\0';
	const cJSON *w = get_obj(&r, hello, "wasm");
	parse_webgpu(&r, g, &c->webgpu);
	parse_webnn(&r, n, &c->webnn);
	c->webnn.linux_chromium = ua_linux_chromium(c->user_agent);
	parse_wasm(&r, w, &c->wasm);
	if (r.rc)
		return r.rc;
	classify_webgpu(&c->webgpu, &c->verdict[PLAT_WEBGPU]);
	classify_webnn(&c->webnn, &c->verdict[PLAT_WEBNN]);
	classify_wasm(&c->wasm, &c->verdict[PLAT_WASM]);
	if (c->secure_context == 0)
		name_insecure_context(c);
	c->valid = true;
	return 0;
}

/* ---- classification ---- */

static void verdict(ac_verdict *v, ac_class c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void verdict(ac_verdict *v, ac_class c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->evidence, sizeof v->evidence, fmt, ap);
	va_end(ap);
	v->status = c;
}

/* Names that mean a CPU implementation of a GPU API. Matched case-insensitively anywhere in the
 * adapter strings; "warp" is Microsoft's software rasterizer ("Microsoft Basic Render Driver"). */
static const char *const software_names[] = {
	"swiftshader", "llvmpipe", "lavapipe", "softpipe", "basic render", "warp",
};

static const char *software_name_in(const caps_webgpu *g, const char **field_name, const char **value)
{
	struct { const char *name, *value; } fields[] = {
		{ "architecture", g->architecture }, { "vendor", g->vendor },
		{ "device", g->device }, { "description", g->description },
	};
	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
		for (size_t i = 0; i < sizeof software_names / sizeof software_names[0]; i++)
			if (ac_contains_ci(fields[f].value, software_names[i])) {
				*field_name = fields[f].name;
				*value = fields[f].value;
				return software_names[i];
			}
	return NULL;
}

static const char *tri_text(int t) { return t == TRI_UNSET ? "not reported" : t ? "true" : "false"; }

void classify_webgpu(const caps_webgpu *g, ac_verdict *v)
{
	if (!g->api)
		return verdict(v, CL_UNAVAILABLE, "navigator.gpu is undefined (WebGPU disabled or unsupported)");
	if (!g->adapter)
		return verdict(v, CL_UNAVAILABLE, "requestAdapter() gave no adapter: %s",
			       g->error[0] ? g->error : "no reason given");
	const char *fname, *fvalue;
	const char *sw = software_name_in(g, &fname, &fvalue);
	if (sw)
		return verdict(v, CL_SOFTWARE, "%s=\"%s\" names a software (CPU) implementation; isFallbackAdapter=%s",
			       fname, fvalue, tri_text(g->fallback));
	if (g->fallback == 1)
		return verdict(v, CL_SOFTWARE, "isFallbackAdapter=true; vendor=\"%s\" architecture=\"%s\"",
			       g->vendor, g->architecture);
	if (g->fallback == 0) {
		int hidden = !g->vendor[0] && !g->architecture[0] && !g->device[0] && !g->description[0];
		return verdict(v, CL_HARDWARE, "isFallbackAdapter=false; %s%s%s%s%s; shader-f16 %s",
			       hidden ? "adapter strings empty (the browser hides them)" : "vendor=\"",
			       hidden ? "" : g->vendor, hidden ? "" : "\" architecture=\"",
			       hidden ? "" : g->architecture, hidden ? "" : "\"",
			       strstr(g->features, "shader-f16") ? "supported" : "not supported");
	}
	verdict(v, CL_UNKNOWN, "adapter reports no isFallbackAdapter and no known software name "
		"(vendor=\"%s\" architecture=\"%s\")", g->vendor, g->architecture);
}

void classify_webnn(const caps_webnn *n, ac_verdict *v)
{
	if (!n->api)
		return verdict(v, CL_UNAVAILABLE, "navigator.ml is undefined (no WebNN in this browser)");
	char ok[64] = "", errs[320] = "";
	int any_ok = 0, accel = -1;
	for (int d = 0; d < NN__COUNT; d++) {
		const caps_nn_device *dv = &n->dev[d];
		if (!dv->reported)
			continue;
		if (dv->ok) {
			any_ok = 1;
			ac_strlcatf(ok, sizeof ok, "%s%s", ok[0] ? "," : "", nn_names[d]);
			if (d != NN_CPU && dv->accelerated == 1)
				accel = d;
			continue;
		}
		/* devices failing with the same text are listed together: "cpu, gpu, npu: <error>" */
		int same_as = -1;
		for (int e = 0; e < d && same_as < 0; e++)
			if (n->dev[e].reported && !n->dev[e].ok && strcmp(n->dev[e].error, dv->error) == 0)
				same_as = e;
		if (same_as >= 0)
			continue;
		char names[24] = "";
		for (int e = d; e < NN__COUNT; e++)
			if (n->dev[e].reported && !n->dev[e].ok && strcmp(n->dev[e].error, dv->error) == 0)
				ac_strlcatf(names, sizeof names, "%s%s", names[0] ? ", " : "", nn_names[e]);
		ac_strlcatf(errs, sizeof errs, "%s%s: %s", errs[0] ? "; " : "", names,
			    dv->error[0] ? dv->error : "failed");
	}
	/* Debian's chromium answers this on every device: it is built without a WebNN backend
	 * (webnn_use_tflite=false, webnn_use_litert=false), and no flag brings one back */
	if (!any_ok && n->linux_chromium && strstr(errs, "not supported on this platform"))
		return verdict(v, CL_UNAVAILABLE, "createContext failed: %.200s (this Chromium is built without a WebNN "
			       "backend, as Debian's is; the chromium-shell family has one)", errs);
	if (!any_ok)
		return verdict(v, CL_UNAVAILABLE, "createContext failed: %s", errs[0] ? errs : "no device tried");
	if (n->linux_chromium)
		return verdict(v, CL_SOFTWARE, "createContext ok for %s%s%s; Chromium on Linux runs WebNN on the CPU "
			       "(TFLite/XNNPACK) for every deviceType, gpu and npu included", ok,
			       accel >= 0 ? "; a context reports accelerated=true for " : "",
			       accel >= 0 ? nn_names[accel] : "");
	if (accel >= 0)
		return verdict(v, CL_HARDWARE, "createContext(%s) ok and the context reports accelerated=true",
			       nn_names[accel]);
	verdict(v, CL_SOFTWARE, "createContext ok for %s but no context reports accelerated=true "
		"(Chromium's Linux WebNN runs on the CPU even for deviceType gpu)", ok);
}

void classify_wasm(const caps_wasm *w, ac_verdict *v)
{
	if (!w->api)
		return verdict(v, CL_UNAVAILABLE, "WebAssembly is undefined");
	verdict(v, CL_SOFTWARE, "WebAssembly runs on the CPU; simd=%s threads=%s",
		tri_text(w->simd), tri_text(w->threads));
}
