/* accel-top doctor: checks, in order, everything accel-top needs on this machine, and prints one
 * line per check (OK, WARN or FAIL) with the concrete fix for each problem: the libraries and the
 * libwebsockets libuv plugin, the browsers and their versions, the Vulkan drivers, the bridge
 * serving its page, each browser launching and connecting, a round trip, the classification of
 * each platform, and one run of the smallest demo model per platform, verified.
 *
 * Lines come out in that order: every check has its slot from the start, and a line is printed
 * once it and every slot before it are decided. A WARN (a software adapter, WebNN missing when
 * it was not asked for by name) leaves the exit status 0; a FAIL makes it 1. */
#include <curses.h>
#include <dlfcn.h>
#include <getopt.h>
#include <glob.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bridge/probe.h"
#include "app.h"
#include "commands.h"

#define DOC_MODEL "bert-tiny" /* the smallest demo model: 1.3 MB, two layers, [1,32] tokens */
#define DOC_PINGS 5
#define DOC_ECHO_BYTES (1024 * 1024)
#define DOC_MAX_BROWSERS 4

typedef enum { ST_PENDING, ST_OK, ST_WARN, ST_FAIL } dstatus;

static const char *const status_word[] = { "....", "OK", "WARN", "FAIL" };
static const char *const status_json[] = { "pending", "ok", "warn", "fail" };

typedef struct {
	const char *check;   /* libraries, browser, vulkan, bridge, launch, roundtrip, caps, model */
	char browser[16];
	char platform[8];
	dstatus st;
	char detail[1024];
	char fix[640];
	char packages[96];   /* Debian packages that fix it, for the fix script */
	char script[1024];   /* further shell lines (or # comments) for the fix script */
} dcheck;

typedef struct {
	const browser_family *fam;
	char exe[4096];
	bool installed;
	int id;              /* pool id once launched; 0 = not launched */
	bool launched;       /* its launch line is decided */
	int64_t start_us;
	int i_installed, i_launch, i_rtt, i_caps[PLAT__COUNT], i_model[PLAT__COUNT];
	int pings;
	uint64_t rtt_ns[DOC_PINGS];
	uint64_t echo_sent_ns;
} dbrowser;

enum { STAGE_START, STAGE_BRIDGE, STAGE_LAUNCH, STAGE_RTT, STAGE_MODELS, STAGE_DONE };

typedef struct {
	app a;
	options o;
	bool json;
	const char *fix_path;
	double timeout_s;
	bool want[PLAT__COUNT], named[PLAT__COUNT]; /* asked for; asked for by name (not via all) */
	dbrowser br[DOC_MAX_BROWSERS];
	int nb;
	dcheck ck[64];
	int nck, printed;
	int i_libs, i_vulkan, i_bridge;
	bool vulkan_ok;
	int stage;
	int cur;             /* the browser (round trip) or the combination (models) being checked */
	int row;             /* the model row running, 0 = none */
	bool row_stopped;
	size_t page_bytes;
	uv_timer_t deadline, step;
	char why_not[256];   /* what stopped the checks still pending at the end */
} doctor;

static void usage(FILE *f)
{
	fputs("Usage: accel-top doctor [--browser KIND|all] [--platform webgpu|webnn|wasm|all] [--fix-script FILE] [--json]\n"
	      "Checks what accel-top needs here, one line per check (OK, WARN, FAIL), with the fix for each problem.\n"
	      "  --browser chromium|chrome|edge|firefox|all[,...]  (default all: chromium, firefox, and chrome, edge if installed)\n"
	      "  --platform webgpu|webnn|wasm|all[,...]            (default all; a platform named is required: unavailable = FAIL)\n"
	      "  --fix-script FILE   write the fixes found as a shell script (read it, then run it as root)\n"
	      "  --json              one JSON object per check, then a summary object\n"
	      "  --timeout SECS      the longest one step may take: connecting, a round trip, a model run (default 120)\n"
	      "  --port N            the bridge's port (default: any free one)\n"
	      "Exit status: 0 when everything asked for works (WARN included), 1 when a check failed, 2 for a usage error.\n", f);
}

/* ---------------------------------------------------------------- check slots and output */

static int slot(doctor *d, const char *check, const char *browser, const char *platform)
{
	if (d->nck == (int)(sizeof d->ck / sizeof d->ck[0]))
		return -1; /* cannot happen: at most 4 browsers x 3 platforms */
	dcheck *c = &d->ck[d->nck];
	memset(c, 0, sizeof *c);
	c->check = check;
	ac_strlcpy(c->browser, browser, sizeof c->browser);
	ac_strlcpy(c->platform, platform, sizeof c->platform);
	return d->nck++;
}

static void set(doctor *d, int i, dstatus st, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(doctor *d, int i, dstatus st, const char *fmt, ...)
{
	if (i < 0 || d->ck[i].st != ST_PENDING)
		return;
	d->ck[i].st = st;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->ck[i].detail, sizeof d->ck[i].detail, fmt, ap);
	va_end(ap);
}

static void fix(doctor *d, int i, const char *packages, const char *script, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fix(doctor *d, int i, const char *packages, const char *script, const char *fmt, ...)
{
	if (i < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->ck[i].fix, sizeof d->ck[i].fix, fmt, ap);
	va_end(ap);
	ac_strlcpy(d->ck[i].packages, packages, sizeof d->ck[i].packages);
	ac_strlcpy(d->ck[i].script, script, sizeof d->ck[i].script);
}

static void print_check(const doctor *d, const dcheck *c)
{
	if (d->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "check", c->check);
		if (c->browser[0]) cJSON_AddStringToObject(o, "browser", c->browser);
		else cJSON_AddNullToObject(o, "browser");
		if (c->platform[0]) cJSON_AddStringToObject(o, "platform", c->platform);
		else cJSON_AddNullToObject(o, "platform");
		cJSON_AddStringToObject(o, "status", status_json[c->st]);
		cJSON_AddStringToObject(o, "detail", c->detail);
		if (c->fix[0]) cJSON_AddStringToObject(o, "fix", c->fix);
		else cJSON_AddNullToObject(o, "fix");
		cJSON *pk = cJSON_AddArrayToObject(o, "packages");
		char buf[sizeof c->packages];
		ac_strlcpy(buf, c->packages, sizeof buf);
		for (char *save, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
			cJSON_AddItemToArray(pk, cJSON_CreateString(t));
		char *s = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (s)
			puts(s);
		free(s);
	} else {
		char name[48];
		snprintf(name, sizeof name, "%s%s%s%s%s", c->check, c->browser[0] ? " " : "", c->browser,
			 c->platform[0] ? " " : "", c->platform);
		printf("%-4s  %-22s %s\n", status_word[c->st], name, c->detail);
		if (c->fix[0])
			printf("      %-22s fix: %s\n", "", c->fix);
	}
	fflush(stdout);
}

/* Prints every decided line that has no undecided line before it. */
static void flush(doctor *d)
{
	while (d->printed < d->nck && d->ck[d->printed].st != ST_PENDING)
		print_check(d, &d->ck[d->printed++]);
}

/* ---------------------------------------------------------------- checks that need no loop */

static void check_libraries(doctor *d)
{
	char plugin[1200];
	ac_err err = { 0 };
	int i = d->i_libs;
	if (probe_lws_plugin(plugin, sizeof plugin, &err)) {
		set(d, i, ST_FAIL, "%s", err.msg);
		fix(d, i, "libwebsockets-evlib-uv", "", "apt-get install -y libwebsockets-evlib-uv");
		return;
	}
	set(d, i, ST_OK, "%s; libuv %s; sqlite %s; cJSON %s; %s", plugin, uv_version_string(), sqlite3_libversion(),
	    cJSON_Version(), curses_version());
}

/* The Vulkan ICD manifests the loader would read: VK_DRIVER_FILES / VK_ICD_FILENAMES, else the
 * standard folders. Chromium's WebGPU runs on its own SwiftShader without them; Firefox's and
 * any hardware adapter need one. A manifest says nothing of whether its GPU is present: the
 * adapters the browsers report (caps lines) say that. */
static void check_vulkan(doctor *d)
{
	int i = d->i_vulkan;
	char files[32][1024];
	int n = 0;
	const char *env = getenv("VK_DRIVER_FILES");
	const char *env_name = "VK_DRIVER_FILES";
	if (!env || !*env) {
		env = getenv("VK_ICD_FILENAMES");
		env_name = "VK_ICD_FILENAMES";
	}
	if (env && *env) {
		char buf[4096];
		ac_strlcpy(buf, env, sizeof buf);
		for (char *save, *t = strtok_r(buf, ":", &save); t && n < 32; t = strtok_r(NULL, ":", &save))
			ac_strlcpy(files[n++], t, sizeof files[0]);
	} else {
		static const char *const dirs[] = { "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d",
						    "/usr/share/vulkan/icd.d" };
		for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
			char pat[128];
			glob_t g;
			snprintf(pat, sizeof pat, "%s/*.json", dirs[k]);
			if (glob(pat, 0, NULL, &g) == 0)
				for (size_t j = 0; j < g.gl_pathc && n < 32; j++)
					ac_strlcpy(files[n++], g.gl_pathv[j], sizeof files[0]);
			globfree(&g);
		}
		env_name = NULL;
	}
	char list[700] = "", broken[300] = "";
	int usable = 0;
	for (int k = 0; k < n; k++) {
		FILE *f = fopen(files[k], "r");
		char text[4096];
		size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
		if (f)
			fclose(f);
		text[len] = '\0';
		cJSON *j = cJSON_Parse(text);
		const cJSON *lib = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "ICD"), "library_path");
		const char *base = strrchr(files[k], '/') ? strrchr(files[k], '/') + 1 : files[k];
		char name[64];
		ac_strlcpy(name, base, sizeof name);
		char *dot = strchr(name, '.');
		if (dot)
			*dot = '\0';
		if (!cJSON_IsString(lib)) {
			ac_strlcatf(broken, sizeof broken, "%s%s (%s)", broken[0] ? ", " : "", files[k],
				    f ? "no ICD.library_path" : "unreadable");
		} else if (lib->valuestring[0] == '/' && access(lib->valuestring, R_OK) != 0) {
			ac_strlcatf(broken, sizeof broken, "%s%s (%s is missing)", broken[0] ? ", " : "", files[k],
				    lib->valuestring);
		} else {
			usable++;
			ac_strlcatf(list, sizeof list, "%s%s%s", list[0] ? ", " : "", name,
				    strstr(lib->valuestring, "lvp") ? " (lavapipe: software)" : "");
		}
		cJSON_Delete(j);
	}
	if (!usable) {
		set(d, i, ST_WARN, "no usable Vulkan driver (ICD)%s%s%s%s: no GPU adapter can reach a browser (Chromium still has its bundled SwiftShader, on the CPU)",
		    env_name ? " in " : " in /etc/vulkan/icd.d, /usr/local/share/vulkan/icd.d, /usr/share/vulkan/icd.d",
		    env_name ? env_name : "", broken[0] ? "; broken: " : "", broken);
		fix(d, i, "mesa-vulkan-drivers", "", "apt-get install -y mesa-vulkan-drivers%s",
		    env_name ? " (and unset the variable, or point it at an installed ICD)" : "");
		return;
	}
	d->vulkan_ok = true;
	if (broken[0]) {
		set(d, i, ST_WARN, "%d usable: %s; broken: %s", usable, list, broken);
		fix(d, i, "", "", "reinstall the package that owns each broken manifest (dpkg -S FILE), or remove it");
		return;
	}
	set(d, i, ST_OK, "%d ICD%s%s%s: %s (whether a GPU answers shows in the webgpu lines)", usable, usable == 1 ? "" : "s",
	    env_name ? " from " : "", env_name ? env_name : "", list);
}

static void check_installed(doctor *d)
{
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		ac_err err = { 0 };
		b->installed = family_locate(b->fam, b->exe, sizeof b->exe, &err) == 0;
		if (!b->installed) {
			char *hint = strstr(err.msg, b->fam->install_hint); /* it goes on the fix line */
			if (hint && hint - err.msg >= 2)
				hint[-2] = '\0';
			set(d, b->i_installed, ST_FAIL, "%s", err.msg);
			bool deb = !strncmp(b->fam->install_hint, "apt-get install ", 16);
			char pkg[64] = "";
			if (deb)
				ac_strlcpy(pkg, b->fam->install_hint + 16, sizeof pkg);
			char cmd[160];
			snprintf(cmd, sizeof cmd, "apt-get install -y %s", pkg);
			fix(d, b->i_installed, pkg, "", "%s", deb ? cmd : b->fam->install_hint);
		}
	}
}

/* ---------------------------------------------------------------- capabilities */

static void check_caps(doctor *d, dbrowser *b, const pool_browser *pb)
{
	bool chromium_like = strcmp(b->fam->name, "firefox") != 0;
	for (int p = 0; p < PLAT__COUNT; p++) {
		int i = b->i_caps[p];
		if (i < 0)
			continue;
		const ac_verdict *v = &pb->caps.verdict[p];
		const char *cls = class_name(v->status);
		if (v->status == CL_HARDWARE) {
			set(d, i, ST_OK, "hardware: %s", v->evidence);
		} else if (v->status == CL_SOFTWARE && p == PLAT_WASM) {
			set(d, i, ST_OK, "software (as expected): %s", v->evidence);
		} else if (v->status == CL_SOFTWARE) {
			set(d, i, ST_WARN, "software: %s", v->evidence);
			if (p == PLAT_WEBGPU)
				fix(d, i, "", "", "none here: WebGPU works, on the CPU, because no GPU adapter reached the browser. "
				    "On a machine with a GPU, install its Vulkan driver (apt-get install -y mesa-vulkan-drivers, or the vendor's)");
			else
				fix(d, i, "", "", "none on this machine: this browser's WebNN runs on the CPU here (no accelerated device)");
		} else if (v->status == CL_UNKNOWN) {
			set(d, i, ST_WARN, "unknown: %s", v->evidence);
		} else {
			bool required = d->named[p] || p == PLAT_WASM;
			if (required)
				set(d, i, ST_FAIL, "%s: %s", cls, v->evidence);
			else
				set(d, i, ST_WARN, "%s: %s (a warning: --platform %s makes it a failure)", cls, v->evidence,
				    plat_name((ac_platform)p));
			if (p == PLAT_WEBNN && !chromium_like)
				fix(d, i, "", "",
				    "none in Firefox (it has no WebNN): use a Chromium-based browser for webnn");
			else if (p == PLAT_WEBNN)
				fix(d, i, "", "",
				    "none known on this machine: the browser refuses WebNN here even with "
				    "--enable-features=WebMachineLearningNeuralNetwork, which accel-top passes");
			else if (p == PLAT_WEBGPU && !chromium_like)
				fix(d, i, d->vulkan_ok ? "" : "mesa-vulkan-drivers",
				    "for p in \"$HOME\"/.mozilla/firefox/*/; do if [ -d \"$p\" ]; then printf '%s\\n' "
				    "'user_pref(\"dom.webgpu.enabled\", true);' 'user_pref(\"gfx.webgpu.ignore-blocklist\", true);' "
				    ">> \"${p}user.js\"; fi; done",
				    "Firefox needs dom.webgpu.enabled and gfx.webgpu.ignore-blocklist true (accel-top writes them into "
				    "its profiles; add them to user.js of a profile you open yourself)%s",
				    d->vulkan_ok ? "" : " and a Vulkan driver: apt-get install -y mesa-vulkan-drivers");
			else if (p == PLAT_WEBGPU)
				fix(d, i, d->vulkan_ok ? "" : "mesa-vulkan-drivers",
				    !strcmp(b->fam->name, "chromium") ?
				    "mkdir -p /etc/chromium.d && echo 'export CHROMIUM_FLAGS=\"$CHROMIUM_FLAGS --enable-unsafe-webgpu\"' "
				    "> /etc/chromium.d/accel-top-webgpu" : "# start Chrome or Edge with --enable-unsafe-webgpu",
				    "headless Chromium needs --enable-unsafe-webgpu (accel-top passes it; add it where you start "
				    "the browser yourself)%s", d->vulkan_ok ? "" : " and a Vulkan driver: apt-get install -y mesa-vulkan-drivers");
			else
				fix(d, i, "", "", "WebAssembly is switched off in this browser (a policy or javascript.options.wasm): switch it on");
		}
	}
}

/* ---------------------------------------------------------------- the loop's stages */

static void finish_all(doctor *d);
static void next_stage(doctor *d);
static bool interrupted(doctor *d);

static dbrowser *by_id(doctor *d, int id)
{
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].id && d->br[k].id == id)
			return &d->br[k];
	return NULL;
}

static void on_step(uv_timer_t *t)
{
	next_stage(t->data);
}

/* Stages move on from the loop, not from inside the event or reply that ended one. */
static void step(doctor *d)
{
	uv_timer_stop(&d->deadline);
	uv_timer_start(&d->step, on_step, 0, 0);
}

static void arm(doctor *d, void (*cb)(uv_timer_t *))
{
	uv_timer_start(&d->deadline, cb, (uint64_t)(d->timeout_s * 1000), 0);
}

/* ---- bridge: the page and onnxruntime-web over plain HTTP, before any browser ---- */

static void got_ort(void *ctx, int status, size_t bytes, const char *error)
{
	doctor *d = ctx;
	if (interrupted(d))
		return;
	int i = d->i_bridge;
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", bridge_port(d->a.br));
	if (error || status != 200) {
		set(d, i, ST_FAIL, "%s serves the page, but GET /ort/ort.all.min.mjs gave %d%s%s", url, status,
		    error ? ": " : "", error ? error : "");
		fix(d, i, "", "", "make deps (installs onnxruntime-web into browser-js/node_modules)");
		ac_strlcpy(d->why_not, "not checked: the bridge does not serve onnxruntime-web", sizeof d->why_not);
		return finish_all(d);
	}
	set(d, i, ST_OK, "listening on %s; GET / gave 200 (%zu bytes), GET /ort/ort.all.min.mjs 200 (%zu bytes)", url,
	    d->page_bytes, bytes);
	flush(d);
	d->stage = STAGE_LAUNCH;
	step(d);
}

static void got_page(void *ctx, int status, size_t bytes, const char *error)
{
	doctor *d = ctx;
	if (interrupted(d))
		return;
	ac_err err = { 0 };
	int i = d->i_bridge;
	if (error || status != 200) {
		set(d, i, ST_FAIL, "the bridge listens on port %d but GET /?token=... gave %d%s%s", bridge_port(d->a.br),
		    status, error ? ": " : "", error ? error : "");
		fix(d, i, "", "", "check that ACCEL_TOP_DATA (or the executable's folder) holds browser-js/index.html");
		ac_strlcpy(d->why_not, "not checked: the bridge does not serve its page", sizeof d->why_not);
		return finish_all(d);
	}
	d->page_bytes = bytes;
	if (probe_http_get(d->a.loop, bridge_port(d->a.br), "/ort/ort.all.min.mjs", 10000, got_ort, d, &err))
		got_ort(d, 0, 0, err.msg);
}

static void start_bridge_check(doctor *d)
{
	ac_err err = { 0 };
	char path[256];
	snprintf(path, sizeof path, "/?token=%s", d->a.token);
	if (probe_http_get(d->a.loop, bridge_port(d->a.br), path, 10000, got_page, d, &err))
		got_page(d, 0, 0, err.msg);
}

/* ---- launch: each browser starts and says hello ---- */

static void launch_failed(doctor *d, dbrowser *b, const char *why)
{
	set(d, b->i_launch, ST_FAIL, "%s", why);
	fix(d, b->i_launch, "", "", "run '%s --version' to see that it starts at all; accel-top -b --browsers %s "
	    "shows why it stops (its reason column)", b->exe, b->fam->name);
}

static bool all_launched(const doctor *d)
{
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].installed && !d->br[k].launched)
			return false;
	return true;
}

static void on_launch_deadline(uv_timer_t *t)
{
	doctor *d = t->data;
	if (interrupted(d))
		return;
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		if (b->installed && !b->launched) {
			char why[160];
			snprintf(why, sizeof why, "%s did not connect and say hello within %.0f s (--timeout)", b->fam->name, d->timeout_s);
			launch_failed(d, b, why);
			b->launched = true;
		}
	}
	flush(d);
	d->stage = STAGE_RTT;
	d->cur = -1;
	step(d);
}

static void start_launches(doctor *d)
{
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		if (!b->installed)
			continue;
		ac_err err = { 0 };
		b->start_us = ac_now_us();
		if (app_start_browser(&d->a, b->fam->name, &err)) {
			launch_failed(d, b, err.msg);
			b->launched = true;
			continue;
		}
		for (size_t j = 0; j < pool_browser_count(d->a.pool) && !b->id; j++) { /* the id it was given */
			const pool_browser *pb = pool_browser_at(d->a.pool, j);
			if (!strcmp(pb->kind, b->fam->name) && !by_id(d, pb->id))
				b->id = pb->id;
		}
	}
	flush(d);
	if (all_launched(d)) {
		d->stage = STAGE_RTT;
		d->cur = -1;
		step(d);
	} else {
		arm(d, on_launch_deadline);
	}
}

/* ---- round trip: pings, then 1 MiB echoed ---- */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void on_rtt_deadline(uv_timer_t *t)
{
	doctor *d = t->data;
	if (interrupted(d))
		return;
	dbrowser *b = &d->br[d->cur];
	set(d, b->i_rtt, ST_FAIL, "%s: %s within %.0f s (--timeout)", b->fam->name,
	    b->pings < DOC_PINGS ? "no pong" : "the 1 MiB echo did not come back", d->timeout_s);
	fix(d, b->i_rtt, "", "", "the browser is connected but does not answer: run accel-top -b --browsers %s and "
	    "look at its reason column", b->fam->name);
	flush(d);
	step(d);
}

static void send_ping(doctor *d, dbrowser *b)
{
	int rc = b->pings < DOC_PINGS ? bridge_ping(d->a.br, b->id, NULL) : bridge_echo(d->a.br, b->id, DOC_ECHO_BYTES, NULL);
	if (b->pings == DOC_PINGS)
		b->echo_sent_ns = uv_hrtime();
	if (rc) {
		set(d, b->i_rtt, ST_FAIL, "cannot send to %s: %s", b->fam->name, uv_strerror(rc));
		flush(d);
		step(d);
	}
}

static void on_reply(void *ctx, int browser, pm_type type, uint32_t id, uint64_t rtt_ns, size_t bytes)
{
	doctor *d = ((app *)ctx)->user;
	(void)id;
	if (interrupted(d) || d->stage != STAGE_RTT || d->cur < 0 || d->br[d->cur].id != browser)
		return;
	dbrowser *b = &d->br[d->cur];
	if (type == PM_PONG && b->pings < DOC_PINGS) {
		b->rtt_ns[b->pings++] = rtt_ns;
		send_ping(d, b);
	} else if (type == PM_ECHO && b->pings == DOC_PINGS) {
		double echo_ms = (double)(uv_hrtime() - b->echo_sent_ns) / 1e6;
		uint64_t s[DOC_PINGS];
		memcpy(s, b->rtt_ns, sizeof s);
		qsort(s, DOC_PINGS, sizeof s[0], cmp_u64);
		if (bytes < DOC_ECHO_BYTES) {
			set(d, b->i_rtt, ST_FAIL, "%d pings answered (median %.2f ms), but the 1 MiB echo came back with %zu bytes",
			    DOC_PINGS, (double)s[DOC_PINGS / 2] / 1e6, bytes);
		} else {
			set(d, b->i_rtt, ST_OK, "%d pings over the WebSocket: median %.2f ms (%.2f to %.2f); 1 MiB sent and "
			    "echoed back in %.1f ms", DOC_PINGS, (double)s[DOC_PINGS / 2] / 1e6, (double)s[0] / 1e6,
			    (double)s[DOC_PINGS - 1] / 1e6, echo_ms);
		}
		flush(d);
		step(d);
	}
}

static void next_rtt(doctor *d)
{
	while (++d->cur < d->nb) {
		dbrowser *b = &d->br[d->cur];
		if (!b->installed)
			continue;
		const pool_browser *pb = b->id ? pool_browser_find(d->a.pool, b->id) : NULL;
		if (!pb || pb->state != BS_CONNECTED || !pb->caps.valid) {
			set(d, b->i_rtt, ST_FAIL, "not checked: %s is not connected (see its launch line)", b->fam->name);
			continue;
		}
		b->pings = 0;
		arm(d, on_rtt_deadline);
		send_ping(d, b);
		return;
	}
	flush(d);
	d->stage = STAGE_MODELS;
	d->cur = -1;
	step(d);
}

/* ---- models: one tiny run per platform, verified against fp32 on wasm ---- */

/* webgpu and webnn run fp32 and are compared with fp32 on wasm; wasm runs int8, so that it too is
 * compared with something other than itself (the fp32 wasm reference is its own reference). */
static ac_precision model_precision(int p)
{
	return p == PLAT_WASM ? PREC_INT8 : PREC_FP32;
}

static bool row_settled(doctor *d)
{
	const pool_model *m = pool_model_find(d->a.pool, d->row);
	if (m && m->inflight)
		return false;
	for (size_t i = 0; i < pool_session_count(d->a.pool); i++) {
		const pool_session *s = pool_session_at(d->a.pool, i);
		if (s->model == d->row && !s->reference && s->completed && !s->verified)
			return false;
	}
	return true;
}

static void judge_model(doctor *d, dbrowser *b, int p, bool timed_out)
{
	int i = b->i_model[p];
	const pool_model *m = pool_model_find(d->a.pool, d->row);
	const pool_session *used = NULL;
	for (size_t k = 0; k < pool_session_count(d->a.pool); k++) {
		const pool_session *s = pool_session_at(d->a.pool, k);
		if (s->model == d->row && !s->reference && (!used || s->completed > used->completed))
			used = s;
	}
	const pool_browser *pb = pool_browser_find(d->a.pool, b->id);
	const char *cls = pb && pb->caps.valid ? class_name(pb->caps.verdict[p].status) : "?";
	const char *prec = prec_name(model_precision(p));
	if (!m || !used || !m->completed || m->errors) {
		const char *why = timed_out ? "timed out (--timeout)" : m && m->errors ? m->last_error :
				  used && used->state == SS_FAILED ? used->error : m && m->stop_reason[0] ? m->stop_reason : "no result";
		set(d, i, ST_FAIL, "%s %s on %s: %s", DOC_MODEL, prec, plat_name((ac_platform)p), why);
		fix(d, i, "", "", "accel-top bench --browser %s --platform %s --model %s --precision %s --iterations 1 "
		    "shows the run in detail", b->fam->name, plat_name((ac_platform)p), DOC_MODEL, p == PLAT_WASM ? "8" : "32");
		return;
	}
	if (strcmp(used->platform_used, used->platform)) {
		set(d, i, ST_FAIL, "%s %s asked for %s but ran on %s", DOC_MODEL, prec, used->platform, used->platform_used);
		return;
	}
	char ran[200];
	snprintf(ran, sizeof ran, "%s %s ran on %s (%s): one run %.1f ms, load %.0f ms", DOC_MODEL, prec, used->platform_used,
		 cls, m->mean_ms, used->load_ms);
	if (!used->verified || used->verify_err < 0) {
		set(d, i, ST_FAIL, "%s; not verified: %s", ran, used->verified ? used->verify_note : "the fp32 wasm reference did not answer");
		return;
	}
	if (!used->verify_ok) {
		set(d, i, ST_FAIL, "%s; output OUTSIDE tolerance: normalised error %.2g > %.2g (%s)", ran, used->verify_err,
		    used->verify_tol, used->verify_note);
		fix(d, i, "", "", "a wrong result from this platform: report it with the output of accel-top bench "
		    "--browser %s --platform %s --model %s", b->fam->name, plat_name((ac_platform)p), DOC_MODEL);
		return;
	}
	set(d, i, ST_OK, "%s; output verified: normalised error %.2g within %.2g %s", ran, used->verify_err, used->verify_tol,
	    used->verify_note);
}

static void end_model(doctor *d, bool timed_out)
{
	ac_err err;
	int b = d->cur / PLAT__COUNT, p = d->cur % PLAT__COUNT;
	judge_model(d, &d->br[b], p, timed_out);
	if (!d->row_stopped)
		sched_stop(d->a.sch, d->row, "timed out (doctor --timeout)", &err);
	d->row = 0;
	flush(d);
	step(d);
}

static void on_model_deadline(uv_timer_t *t)
{
	doctor *d = t->data;
	if (interrupted(d))
		return;
	if (d->row)
		end_model(d, true);
}

static void next_model(doctor *d)
{
	ac_err err = { 0 };
	while (++d->cur < d->nb * PLAT__COUNT) {
		dbrowser *b = &d->br[d->cur / PLAT__COUNT];
		int p = d->cur % PLAT__COUNT;
		int i = b->installed ? b->i_model[p] : -1;
		if (i < 0)
			continue;
		const pool_browser *pb = b->id ? pool_browser_find(d->a.pool, b->id) : NULL;
		if (!pb || pb->state != BS_CONNECTED || !pb->caps.valid) {
			set(d, i, ST_FAIL, "not run: %s is not connected (see its launch line)", b->fam->name);
			continue;
		}
		const ac_verdict *v = &pb->caps.verdict[p];
		if (v->status == CL_UNAVAILABLE) {
			set(d, i, d->ck[b->i_caps[p]].st, "not run: %s is unavailable in %s (see its caps line)", plat_name((ac_platform)p),
			    b->fam->name);
			continue;
		}
		const cat_model *cm = catalog_find(d->a.cat, DOC_MODEL);
		if (!cm || !cm->has[model_precision(p)] || !cm->has[PREC_FP32]) {
			set(d, i, ST_FAIL, "not run: the demo model %s (%s and fp32) is not in build/models", DOC_MODEL,
			    prec_name(model_precision(p)));
			fix(d, i, "", "", "make (builds the demo models into build/models)");
			continue;
		}
		launch_form f = { .concurrency = 1, .count = 1, .warmup = 0 };
		ac_strlcpy(f.model, DOC_MODEL, sizeof f.model);
		ac_strlcpy(f.precision, prec_name(model_precision(p)), sizeof f.precision);
		ac_strlcpy(f.platform, plat_name((ac_platform)p), sizeof f.platform);
		snprintf(f.browser, sizeof f.browser, "#%d", b->id);
		d->row_stopped = false;
		if (app_launch_model(&d->a, &f, &d->row, &err)) {
			d->row = 0;
			set(d, i, ST_FAIL, "%s could not start: %s", DOC_MODEL, err.msg);
			continue;
		}
		arm(d, on_model_deadline);
		return;
	}
	flush(d);
	finish_all(d);
}

static void on_event(void *ctx, const ac_event *ev)
{
	doctor *d = ((app *)ctx)->user;
	if (interrupted(d))
		return;
	dbrowser *b = by_id(d, ev->browser);
	if (!b && ev->kind == EV_BROWSER_LAUNCHED && ev->family) /* in case the launch is reported later */
		for (int k = 0; k < d->nb && !b; k++)
			if (d->br[k].installed && !d->br[k].id && !strcmp(d->br[k].fam->name, ev->family))
				(b = &d->br[k])->id = ev->browser;
	if (b && ev->kind == EV_BROWSER_VERSION) {
		set(d, b->i_installed, ST_OK, "%s, version %s", b->exe, ev->text ? ev->text : "?");
		flush(d);
	}
	if (b && !b->launched && (ev->kind == EV_BROWSER_HELLO || ev->kind == EV_BROWSER_FAILED ||
				  ev->kind == EV_BROWSER_EXITED || ev->kind == EV_BROWSER_LOST)) {
		const pool_browser *pb = pool_browser_find(d->a.pool, b->id);
		if (ev->kind == EV_BROWSER_HELLO && pb && pb->caps.valid) {
			set(d, b->i_launch, ST_OK, "%s %s launched (pid %d), connected and said hello in %.1f s", b->fam->name,
			    pb->version[0] ? pb->version : pb->caps.version, pb->pid, (double)(ac_now_us() - b->start_us) / 1e6);
			check_caps(d, b, pb);
		} else {
			char why[400];
			snprintf(why, sizeof why, "%s %s before saying hello: %s", b->fam->name,
				 ev->kind == EV_BROWSER_FAILED ? "could not be launched" : ev->kind == EV_BROWSER_LOST ?
				 "lost its connection" : "exited", ev->text ? ev->text : pb ? pb->reason : "");
			launch_failed(d, b, why);
		}
		b->launched = true;
		flush(d);
		if (d->stage == STAGE_LAUNCH && all_launched(d)) {
			d->stage = STAGE_RTT;
			d->cur = -1;
			step(d);
		}
	}
	if (d->stage == STAGE_RTT && b && d->cur >= 0 && b == &d->br[d->cur] &&
	    (ev->kind == EV_BROWSER_LOST || ev->kind == EV_BROWSER_EXITED)) {
		set(d, b->i_rtt, ST_FAIL, "%s went away during the round trip: %s", b->fam->name, ev->text ? ev->text : "");
		flush(d);
		step(d);
	}
	if (d->stage == STAGE_MODELS && d->row) {
		if (ev->kind == EV_WORKLOAD_STOPPED && ev->model == d->row)
			d->row_stopped = true;
		if (d->row_stopped && row_settled(d))
			end_model(d, false);
	}
}

static void next_stage(doctor *d)
{
	if (interrupted(d))
		return;
	switch (d->stage) {
	case STAGE_BRIDGE: start_bridge_check(d); break;
	case STAGE_LAUNCH: start_launches(d); break;
	case STAGE_RTT: next_rtt(d); break;
	case STAGE_MODELS: next_model(d); break;
	default: break;
	}
}

/* ---------------------------------------------------------------- the end */

static int write_fix_script(doctor *d)
{
	FILE *f = fopen(d->fix_path, "w");
	if (!f) {
		fprintf(stderr, "accel-top doctor: --fix-script: cannot write %s\n", d->fix_path);
		return 1;
	}
	char when[64];
	time_t now = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(f, "#!/bin/sh\n# Written by accel-top doctor on %s: the fixes it knows for what it found.\n"
		"# Read it first; run it as root (sh %s).\nset -e\n", when, d->fix_path);
	char pkgs[512] = "";
	int n = 0;
	for (int i = 0; i < d->nck; i++) {
		const dcheck *c = &d->ck[i];
		char buf[sizeof c->packages];
		ac_strlcpy(buf, c->packages, sizeof buf);
		for (char *save, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			char padded[128];
			snprintf(padded, sizeof padded, " %s ", t);
			char have[520];
			snprintf(have, sizeof have, " %s ", pkgs);
			if (!strstr(have, padded))
				ac_strlcatf(pkgs, sizeof pkgs, "%s%s", pkgs[0] ? " " : "", t);
		}
	}
	if (pkgs[0]) {
		fprintf(f, "\n# Debian packages\napt-get install -y %s\n", pkgs);
		n++;
	}
	for (int i = 0; i < d->nck; i++) {
		const dcheck *c = &d->ck[i];
		if (c->st == ST_OK || !c->fix[0])
			continue;
		/* every problem is named in a comment; its lines follow when there is more than a package to do */
		fprintf(f, "\n# %s %s%s%s%s%s\n# fix: ", status_word[c->st], c->check, c->browser[0] ? " " : "", c->browser,
			c->platform[0] ? " " : "", c->platform);
		for (const char *s = c->fix; *s; s++) /* one line, whatever the text holds */
			fputc(*s == '\n' ? ' ' : *s, f);
		fputc('\n', f);
		if (c->script[0])
			fprintf(f, "%s\n", c->script);
		n++;
	}
	if (!n)
		fputs("\n# nothing to fix: every check passed\n", f);
	fputs("exit 0\n", f);
	int bad = ferror(f);
	bad |= fclose(f) != 0;
	if (bad) {
		fprintf(stderr, "accel-top doctor: --fix-script: cannot write %s\n", d->fix_path);
		return 1;
	}
	return 0;
}

static void finish_all(doctor *d)
{
	if (d->stage == STAGE_DONE)
		return;
	d->stage = STAGE_DONE;
	if (d->deadline.loop) {
		uv_timer_stop(&d->deadline);
		uv_timer_stop(&d->step);
	}
	for (int k = 0; k < d->nb; k++) /* the launcher never reported a version (not launched, or silent) */
		if (d->br[k].installed)
			set(d, d->br[k].i_installed, d->br[k].id ? ST_WARN : ST_OK, "%s%s", d->br[k].exe,
			    d->br[k].id ? ", but '--version' printed no version" : " (version not probed: not launched)");
	for (int i = 0; i < d->nck; i++)
		set(d, i, ST_FAIL, "%s", d->why_not[0] ? d->why_not : "not checked");
	flush(d);
	int n[4] = { 0 };
	for (int i = 0; i < d->nck; i++)
		n[d->ck[i].st]++;
	int code = n[ST_FAIL] ? 1 : 0;
	if (d->fix_path && write_fix_script(d))
		code = 1;
	if (d->json)
		printf("{\"summary\":{\"ok\":%d,\"warn\":%d,\"fail\":%d,\"exit_status\":%d}}\n", n[ST_OK], n[ST_WARN], n[ST_FAIL], code);
	else
		printf("doctor: %d ok, %d warn, %d fail%s%s\n", n[ST_OK], n[ST_WARN], n[ST_FAIL],
		       d->fix_path ? "; fixes written to " : "", d->fix_path ? d->fix_path : "");
	fflush(stdout);
	app_quit(&d->a, code);
}

/* A signal stopped the app before the checks ended: print what was decided, and stop our timers
 * so that nothing fires into a closing app. The exit status is the app's (128 + signal). */
static bool interrupted(doctor *d)
{
	if (!d->a.quitting || d->stage == STAGE_DONE)
		return d->stage == STAGE_DONE;
	d->stage = STAGE_DONE;
	if (d->deadline.loop) {
		uv_timer_stop(&d->deadline);
		uv_timer_stop(&d->step);
	}
	flush(d);
	fprintf(stderr, "accel-top doctor: interrupted; %d of %d checks done\n", d->printed, d->nck);
	return true;
}

static void on_stopped(app *a)
{
	interrupted(a->user);
}

/* ---------------------------------------------------------------- options and main */

static bool in_list(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; (p = strstr(p, item)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static int parse(doctor *d, int argc, char **argv, const char **browsers, ac_err *err)
{
	enum { D_BROWSER = 300, D_PLATFORM, D_FIX, D_JSON, D_TIMEOUT, D_PORT, D_HELP };
	static const struct option longs[] = {
		{ "browser", required_argument, 0, D_BROWSER }, { "platform", required_argument, 0, D_PLATFORM },
		{ "fix-script", required_argument, 0, D_FIX }, { "json", no_argument, 0, D_JSON },
		{ "timeout", required_argument, 0, D_TIMEOUT }, { "port", required_argument, 0, D_PORT },
		{ "help", no_argument, 0, D_HELP }, { 0, 0, 0, 0 },
	};
	const char *platforms = "all";
	*browsers = "all";
	d->timeout_s = 120;
	optind = 1;
	opterr = 0;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		switch (c) {
		case D_BROWSER: *browsers = optarg; break;
		case D_PLATFORM: platforms = optarg; break;
		case D_FIX:
			if (!optarg[0])
				return ac_errf(err, AC_EINVAL, "--fix-script: name the file to write");
			d->fix_path = optarg;
			break;
		case D_JSON: d->json = true; break;
		case D_TIMEOUT:
			d->timeout_s = strtod(optarg, &end);
			if (*end || end == optarg || !(d->timeout_s >= 1 && d->timeout_s <= 86400))
				return ac_errf(err, AC_EINVAL, "--timeout: '%s' is not a number of seconds from 1 to 86400", optarg);
			break;
		case D_PORT: {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0 || v > 65535)
				return ac_errf(err, AC_EINVAL, "--port: '%s' is not a port from 0 to 65535", optarg);
			d->o.port = (int)v;
			break;
		}
		case D_HELP: case 'h': usage(stdout); exit(0);
		case ':': return ac_errf(err, AC_EINVAL, "option %s needs a value (see accel-top doctor --help)", argv[optind - 1]);
		default: return ac_errf(err, AC_EINVAL, "unknown option '%s' (see accel-top doctor --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ac_errf(err, AC_EINVAL, "unexpected argument '%s' (see accel-top doctor --help)", argv[optind]);
	char buf[256];
	ac_strlcpy(buf, platforms, sizeof buf);
	int nt = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), nt++) {
		bool all = !strcmp(t, "all");
		bool known = all;
		for (int p = 0; p < PLAT__COUNT; p++)
			if (all || !strcmp(t, plat_name((ac_platform)p))) {
				d->want[p] = true;
				d->named[p] |= !all;
				known = true;
			}
		if (!known)
			return ac_errf(err, AC_EINVAL, "--platform: unknown platform '%s' (webgpu, webnn, wasm, all)", t);
	}
	if (!nt)
		return ac_errf(err, AC_EINVAL, "--platform: name at least one platform (webgpu, webnn, wasm, all)");
	ac_strlcpy(buf, *browsers, sizeof buf);
	nt = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), nt++)
		if (strcmp(t, "all") && !family_find(t))
			return ac_errf(err, AC_EINVAL, "--browser: unknown browser '%s' (chromium, chrome, edge, firefox, all)", t);
	if (!nt)
		return ac_errf(err, AC_EINVAL, "--browser: name at least one browser (chromium, chrome, edge, firefox, all)");
	return 0;
}

/* The browsers to check: those named; for "all", Debian's chromium and firefox-esr (always, so
 * a missing one is reported) and Chrome and Edge where installed. */
static void plan(doctor *d, const char *browsers)
{
	bool all = in_list(browsers, "all");
	for (int i = 0; family_all[i] && d->nb < DOC_MAX_BROWSERS; i++) {
		const browser_family *f = family_all[i];
		bool optional = strcmp(f->name, "chromium") && strcmp(f->name, "firefox");
		if (!in_list(browsers, f->name)) {
			char path[4096];
			ac_err miss;
			if (!all || (optional && family_locate(f, path, sizeof path, &miss)))
				continue;
		}
		d->br[d->nb++].fam = f;
	}
	d->i_libs = slot(d, "libraries", "", "");
	for (int k = 0; k < d->nb; k++)
		d->br[k].i_installed = slot(d, "browser", d->br[k].fam->name, "");
	d->i_vulkan = slot(d, "vulkan", "", "");
	d->i_bridge = slot(d, "bridge", "", "");
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		b->i_launch = b->i_rtt = -1;
		for (int p = 0; p < PLAT__COUNT; p++)
			b->i_caps[p] = b->i_model[p] = -1;
	}
}

/* Slots for what needs a browser, only for those installed (a missing one has its FAIL line). */
static void plan_browsers(doctor *d)
{
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].installed)
			d->br[k].i_launch = slot(d, "launch", d->br[k].fam->name, "");
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].installed)
			d->br[k].i_rtt = slot(d, "roundtrip", d->br[k].fam->name, "");
	for (int k = 0; k < d->nb; k++)
		for (int p = 0; p < PLAT__COUNT; p++)
			if (d->br[k].installed && d->want[p])
				d->br[k].i_caps[p] = slot(d, "caps", d->br[k].fam->name, plat_name((ac_platform)p));
	for (int k = 0; k < d->nb; k++)
		for (int p = 0; p < PLAT__COUNT; p++)
			if (d->br[k].installed && d->want[p])
				d->br[k].i_model[p] = slot(d, "model", d->br[k].fam->name, plat_name((ac_platform)p));
}

int cmd_doctor(int argc, char **argv)
{
	static doctor d;
	ac_err err = { 0 };
	const char *browsers;
	options_defaults(&d.o);
	d.o.batch = true;
	d.o.port = 0;
	if (parse(&d, argc, argv, &browsers, &err)) {
		fprintf(stderr, "accel-top doctor: %s\n", err.msg);
		return 2;
	}
	d.o.browsers_given = true; /* doctor launches each browser itself, one by one */
	d.o.n_launch = 0;
	plan(&d, browsers);
	check_libraries(&d);
	check_installed(&d);
	plan_browsers(&d);
	check_vulkan(&d);
	flush(&d);

	uv_loop_t *loop = uv_default_loop();
	d.a.user = &d;
	d.a.on_reply = on_reply;
	d.a.on_stopped = on_stopped;
	int rc = app_start(&d.a, loop, &d.o, &err);
	if (!rc) {
		pool_add_listener(d.a.pool, on_event, &d.a);
		uv_timer_init(loop, &d.deadline);
		uv_timer_init(loop, &d.step);
		d.deadline.data = d.step.data = &d;
		d.stage = STAGE_BRIDGE;
		start_bridge_check(&d);
	} else {
		set(&d, d.i_bridge, ST_FAIL, "accel-top cannot start: %s", err.msg);
		if (strstr(err.msg, "libwebsockets-evlib-uv"))
			fix(&d, d.i_bridge, "libwebsockets-evlib-uv", "", "apt-get install -y libwebsockets-evlib-uv");
		else if (strstr(err.msg, "make deps"))
			fix(&d, d.i_bridge, "", "", "make deps (in the accel-top source folder)");
		else if (strstr(err.msg, "run 'make'"))
			fix(&d, d.i_bridge, "", "", "make (in the accel-top source folder)");
		else if (strstr(err.msg, "--port"))
			fix(&d, d.i_bridge, "", "", "choose a free port with --port, or leave it out");
		ac_strlcpy(d.why_not, "not checked: accel-top could not start (see the bridge line)", sizeof d.why_not);
		finish_all(&d);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (d.deadline.loop) {
		uv_close((uv_handle_t *)&d.deadline, NULL);
		uv_close((uv_handle_t *)&d.step, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
	}
	app_free(&d.a);
	uv_loop_close(loop);
	return d.a.exit_code;
}
