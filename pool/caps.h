/* What a browser reported about its accelerators (parsed from `hello`), and the verdict we draw
 * from it per platform. Fields the browser did not report stay invalid (-1 / "" with a flag), so
 * readers print n/a or null rather than a false 0. */
#ifndef AC_CAPS_H
#define AC_CAPS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "ac.h"

typedef enum { PLAT_WEBGPU, PLAT_WEBNN, PLAT_WASM, PLAT__COUNT } ac_platform;
typedef enum { CL_UNAVAILABLE, CL_SOFTWARE, CL_HARDWARE, CL_UNKNOWN } ac_class;
typedef enum { NN_CPU, NN_GPU, NN_NPU, NN__COUNT } nn_device;

#define TRI_UNSET (-1) /* for int fields holding a JSON bool that may be absent */

typedef struct {
	bool api;       /* navigator.gpu exists */
	bool adapter;   /* requestAdapter() gave one */
	char error[256];
	char vendor[96], architecture[96], device[128], description[256];
	int fallback;   /* 1, 0 or TRI_UNSET */
	char features[768]; /* space-separated, as reported */
	int64_t max_buffer_size, max_storage_binding, max_wg_size_x, max_invocations, max_wg_storage; /* -1 = n/a */
} caps_webgpu;

typedef struct {
	bool reported;  /* this device appears in hello */
	bool ok;        /* createContext succeeded */
	int accelerated; /* 1, 0 or TRI_UNSET */
	char error[256];
} caps_nn_device;

typedef struct {
	bool api;       /* navigator.ml exists */
	caps_nn_device dev[NN__COUNT];
	/* from the user agent: Chromium (or Chrome, Edge) on desktop Linux, whose WebNN is TFLite with
	 * XNNPACK on the CPU for every deviceType (no GPU or NPU backend there), whatever a context says */
	bool linux_chromium;
} caps_webnn;

typedef struct {
	bool api;
	int simd, threads; /* 1, 0 or TRI_UNSET */
} caps_wasm;

typedef struct {
	ac_class status;
	char evidence[384];
} ac_verdict;

typedef struct {
	bool valid;     /* a hello has been parsed */
	char name[32], version[64], user_agent[320];
	int cross_origin_isolated; /* TRI_UNSET if absent */
	int secure_context;        /* hello's secure_context (the page's isSecureContext); TRI_UNSET if absent (older pages) */
	int hardware_concurrency;  /* -1 = n/a */
	double device_memory_gb;   /* < 0 = n/a */
	caps_webgpu webgpu;
	caps_webnn webnn;
	caps_wasm wasm;
	ac_verdict verdict[PLAT__COUNT];
} ac_caps;

const char *plat_name(ac_platform p);
const char *class_name(ac_class c);
const char *nn_device_name(nn_device d);

/* Parses a hello message into *caps and classifies every platform. Missing sections mean the page
 * did not report them (not an error); fields of the wrong type are an error naming the field. */
int caps_from_hello(const cJSON *hello, ac_caps *caps, ac_err *err);

/* Classification rules, one per platform; pure functions of what was reported. */
void classify_webgpu(const caps_webgpu *g, ac_verdict *v);
void classify_webnn(const caps_webnn *n, ac_verdict *v);
void classify_wasm(const caps_wasm *w, ac_verdict *v);

#endif
