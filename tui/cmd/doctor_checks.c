/* accel-top doctor's check list and output (text lines, JSON lines, the fix script), and the
 * checks that need neither the loop nor a browser: libraries, executables, Vulkan ICDs, and the
 * verdicts of a browser's hello with the fix for each. */
#include "doctor.h"

#include <cjson/cJSON.h>
#include <curses.h>
#include <glob.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../../bridge/probe.h"

static const char *const status_word[] = { "....", "OK", "WARN", "FAIL" };
static const char *const status_json[] = { "pending", "ok", "warn", "fail" };

/* ---------------------------------------------------------------- check slots and output */

int doc_slot(doc_list *l, const char *check, const char *browser, const char *platform)
{
	if (l->n == (int)(sizeof l->ck / sizeof l->ck[0]))
		return -1; /* cannot happen: at most 4 browsers x 3 platforms */
	dcheck *c = &l->ck[l->n];
	memset(c, 0, sizeof *c);
	c->check = check;
	ac_strlcpy(c->browser, browser, sizeof c->browser);
	ac_strlcpy(c->platform, platform, sizeof c->platform);
	return l->n++;
}

void doc_set(doc_list *l, int i, dstatus st, const char *fmt, ...)
{
	if (i < 0 || l->ck[i].st != ST_PENDING)
		return;
	l->ck[i].st = st;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->ck[i].detail, sizeof l->ck[i].detail, fmt, ap);
	va_end(ap);
}

void doc_fix(doc_list *l, int i, const char *packages, const char *script, const char *fmt, ...)
{
	if (i < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->ck[i].fix, sizeof l->ck[i].fix, fmt, ap);
	va_end(ap);
	ac_strlcpy(l->ck[i].packages, packages, sizeof l->ck[i].packages);
	ac_strlcpy(l->ck[i].script, script, sizeof l->ck[i].script);
}

static void print_check(const doc_list *l, const dcheck *c)
{
	if (l->json) {
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
void doc_flush(doc_list *l)
{
	while (l->printed < l->n && l->ck[l->printed].st != ST_PENDING)
		print_check(l, &l->ck[l->printed++]);
}

/* ---------------------------------------------------------------- checks that need no loop */

void doc_check_libraries(doc_list *l, int i)
{
	char plugin[1200];
	ac_err err = { 0 };
	if (probe_lws_plugin(plugin, sizeof plugin, &err)) {
		doc_set(l, i, ST_FAIL, "%s", err.msg);
		doc_fix(l, i, "libwebsockets-evlib-uv", "", "apt-get install -y libwebsockets-evlib-uv");
		return;
	}
	doc_set(l, i, ST_OK, "%s; libuv %s; sqlite %s; cJSON %s; %s", plugin, uv_version_string(), sqlite3_libversion(),
	    cJSON_Version(), curses_version());
}

/* The Vulkan ICD manifests the loader would read: VK_DRIVER_FILES / VK_ICD_FILENAMES, else the
 * standard folders. Chromium's WebGPU runs on its own SwiftShader without them; Firefox's and
 * any hardware adapter need one. A manifest says nothing of whether its GPU is present: the
 * adapters the browsers report (caps lines) say that. */
bool doc_check_vulkan(doc_list *l, int i)
{
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
		doc_set(l, i, ST_WARN, "no usable Vulkan driver (ICD)%s%s%s%s: no GPU adapter can reach a browser (Chromium still has its bundled SwiftShader, on the CPU)",
		    env_name ? " in " : " in /etc/vulkan/icd.d, /usr/local/share/vulkan/icd.d, /usr/share/vulkan/icd.d",
		    env_name ? env_name : "", broken[0] ? "; broken: " : "", broken);
		doc_fix(l, i, "mesa-vulkan-drivers", "", "apt-get install -y mesa-vulkan-drivers%s",
		    env_name ? " (and unset the variable, or point it at an installed ICD)" : "");
		return false;
	}
	if (broken[0]) {
		doc_set(l, i, ST_WARN, "%d usable: %s; broken: %s", usable, list, broken);
		doc_fix(l, i, "", "", "reinstall the package that owns each broken manifest (dpkg -S FILE), or remove it");
		return true;
	}
	doc_set(l, i, ST_OK, "%d ICD%s%s%s: %s (whether a GPU answers shows in the webgpu lines)", usable, usable == 1 ? "" : "s",
	    env_name ? " from " : "", env_name ? env_name : "", list);
	return true;
}

bool doc_check_installed(doc_list *l, int i, const browser_family *f, char *exe, size_t cap)
{
	ac_err err = { 0 };
	if (family_locate(f, exe, cap, &err) == 0)
		return true;
	char *hint = strstr(err.msg, f->install_hint); /* it goes on the fix line */
	if (hint && hint - err.msg >= 2)
		hint[-2] = '\0';
	doc_set(l, i, ST_FAIL, "%s", err.msg);
	bool deb = !strncmp(f->install_hint, "apt-get install ", 16);
	char pkg[64] = "";
	if (deb)
		ac_strlcpy(pkg, f->install_hint + 16, sizeof pkg);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "apt-get install -y %s", pkg);
	doc_fix(l, i, pkg, "", "%s", deb ? cmd : f->install_hint);
	return false;
}

/* ---------------------------------------------------------------- capabilities */

void doc_check_caps(doc_list *l, const int i_caps[PLAT__COUNT], const char *family, const pool_browser *pb,
		    const bool named[PLAT__COUNT], bool vulkan_ok)
{
	bool chromium_like = strcmp(family, "firefox") != 0;
	for (int p = 0; p < PLAT__COUNT; p++) {
		int i = i_caps[p];
		if (i < 0)
			continue;
		const ac_verdict *v = &pb->caps.verdict[p];
		const char *cls = class_name(v->status);
		if (v->status == CL_HARDWARE) {
			doc_set(l, i, ST_OK, "hardware: %s", v->evidence);
		} else if (v->status == CL_SOFTWARE && p == PLAT_WASM) {
			doc_set(l, i, ST_OK, "software (as expected): %s", v->evidence);
		} else if (v->status == CL_SOFTWARE) {
			doc_set(l, i, ST_WARN, "software: %s", v->evidence);
			if (p == PLAT_WEBGPU)
				doc_fix(l, i, "", "", "none here: WebGPU works, on the CPU, because no GPU adapter reached the browser. "
				    "On a machine with a GPU, install its Vulkan driver (apt-get install -y mesa-vulkan-drivers, or the vendor's)");
			else
				doc_fix(l, i, "", "", "none on this machine: this browser's WebNN runs on the CPU here (no accelerated device)");
		} else if (v->status == CL_UNKNOWN) {
			doc_set(l, i, ST_WARN, "unknown: %s", v->evidence);
		} else {
			bool required = named[p] || p == PLAT_WASM;
			if (required)
				doc_set(l, i, ST_FAIL, "%s: %s", cls, v->evidence);
			else
				doc_set(l, i, ST_WARN, "%s: %s (a warning: --platform %s makes it a failure)", cls, v->evidence,
				    plat_name((ac_platform)p));
			if (p == PLAT_WEBNN && !chromium_like)
				doc_fix(l, i, "", "",
				    "none in Firefox (it has no WebNN): use a Chromium-based browser for webnn");
			else if (p == PLAT_WEBNN && strstr(v->evidence, "built without a WebNN backend"))
				doc_fix(l, i, "", "",
				    "use --browsers chromium-shell: this browser is built without WebNN (Debian's chromium: "
				    "webnn_use_tflite=false, no flag brings it back); make unpacks npm @sparticuz/chromium's "
				    "headless shell, which has it");
			else if (p == PLAT_WEBNN)
				doc_fix(l, i, "", "",
				    "none known on this machine: the browser refuses WebNN here even with "
				    "--enable-features=WebMachineLearningNeuralNetwork, which accel-top passes; "
				    "try --browsers chromium-shell");
			else if (p == PLAT_WEBGPU && !chromium_like)
				doc_fix(l, i, vulkan_ok ? "" : "mesa-vulkan-drivers",
				    "for p in \"$HOME\"/.mozilla/firefox/*/; do if [ -d \"$p\" ]; then printf '%s\\n' "
				    "'user_pref(\"dom.webgpu.enabled\", true);' 'user_pref(\"gfx.webgpu.ignore-blocklist\", true);' "
				    ">> \"${p}user.js\"; fi; done",
				    "Firefox needs dom.webgpu.enabled and gfx.webgpu.ignore-blocklist true (accel-top writes them into "
				    "its profiles; add them to user.js of a profile you open yourself)%s",
				    vulkan_ok ? "" : " and a Vulkan driver: apt-get install -y mesa-vulkan-drivers");
			else if (p == PLAT_WEBGPU)
				doc_fix(l, i, vulkan_ok ? "" : "mesa-vulkan-drivers",
				    !strcmp(family, "chromium") ?
				    "mkdir -p /etc/chromium.d && echo 'export CHROMIUM_FLAGS=\"$CHROMIUM_FLAGS --enable-unsafe-webgpu\"' "
				    "> /etc/chromium.d/accel-top-webgpu" : "# start Chrome or Edge with --enable-unsafe-webgpu",
				    "headless Chromium needs --enable-unsafe-webgpu (accel-top passes it; add it where you start "
				    "the browser yourself)%s", vulkan_ok ? "" : " and a Vulkan driver: apt-get install -y mesa-vulkan-drivers");
			else
				doc_fix(l, i, "", "", "WebAssembly is switched off in this browser (a policy or javascript.options.wasm): switch it on");
		}
	}
}

int doc_write_script(const doc_list *l, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "accel-top doctor: --fix-script: cannot write %s\n", path);
		return 1;
	}
	char when[64];
	time_t now = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(f, "#!/bin/sh\n# Written by accel-top doctor on %s: the fixes it knows for what it found.\n"
		"# Read it first; run it as root (sh %s).\nset -e\n", when, path);
	char pkgs[512] = "";
	int n = 0;
	for (int i = 0; i < l->n; i++) {
		const dcheck *c = &l->ck[i];
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
	for (int i = 0; i < l->n; i++) {
		const dcheck *c = &l->ck[i];
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
		fprintf(stderr, "accel-top doctor: --fix-script: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

void doc_fail_pending(doc_list *l, const char *why)
{
	for (int i = 0; i < l->n; i++)
		doc_set(l, i, ST_FAIL, "%s", why);
	doc_flush(l);
}

void doc_count(const doc_list *l, int n[4])
{
	n[0] = n[1] = n[2] = n[3] = 0;
	for (int i = 0; i < l->n; i++)
		n[l->ck[i].st]++;
}
