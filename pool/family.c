/* The browser families and executable discovery. Chrome and Edge are Chromium builds and share
 * its command line; Firefox differs in flags and needs WebGPU switched on in its profile. */
#include "family.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Chromium and its relatives ---- */

static int chromium_profile(const char *dir, ac_err *err)
{
	(void)dir; (void)err; /* --user-data-dir on an empty directory is all Chromium needs */
	return 0;
}

static int chromium_argv(const launch_spec *ls, const char **argv, int cap)
{
	static char udd[4200];
	int n = 0;
	snprintf(udd, sizeof udd, "--user-data-dir=%s", ls->profile);
	argv[n++] = ls->exe;
	if (!ls->visible || !getenv("DISPLAY"))
		argv[n++] = "--headless=new";
	/* Chromium refuses to run as root with its sandbox; a Grid node's user is not ours to know,
	 * and nodes in containers commonly run as root */
	if (geteuid() == 0 || !ls->profile)
		argv[n++] = "--no-sandbox";
	argv[n++] = "--no-first-run";
	argv[n++] = "--no-default-browser-check";
	argv[n++] = "--disable-background-networking"; /* no network here: its attempts fail noisily */
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-sync";
	argv[n++] = "--password-store=basic";
	argv[n++] = "--enable-unsafe-webgpu"; /* headless WebGPU is off without it */
	argv[n++] = "--enable-features=WebMachineLearningNeuralNetwork"; /* expose WebNN so it can say why it fails */
	if (ls->profile)
		argv[n++] = udd;
	if (ls->url)
		argv[n++] = ls->url;
	argv[n] = NULL;
	(void)cap;
	return n;
}

/* ---- which models each suits (lower is better) ---- */

static bool type_is(const char *type, const char *what)
{
	return type && !strcmp(type, what);
}

static bool type_visual(const char *type)
{
	return type_is(type, "vision") || type_is(type, "multimodal");
}

static bool type_text(const char *type)
{
	return !type_is(type, "audio") && !type_visual(type);
}

/* A family with no particular fit: behind the one that suits the type (0), and for text also
 * behind Chromium (1). */
static int suits_none(const char *type)
{
	return type_text(type) ? 2 : 1;
}

/* The scheduler's starting preference (sched.h): vision and multimodal on Chromium or Chrome;
 * text on Edge when its WebNN is hardware, else on Chromium; audio on Firefox. */
static int chromium_suits(const char *type, const ac_caps *caps)
{
	(void)caps;
	return type_visual(type) ? 0 : 1;
}

static int chrome_suits(const char *type, const ac_caps *caps)
{
	(void)caps;
	return type_visual(type) ? 0 : suits_none(type);
}

static int edge_suits(const char *type, const ac_caps *caps)
{
	if (type_text(type) && caps && caps->verdict[PLAT_WEBNN].status == CL_HARDWARE)
		return 0;
	return suits_none(type);
}

static const char *const chromium_exes[] = { "chromium", "chromium-browser", NULL };
static const char *const chrome_exes[] = { "google-chrome", "google-chrome-stable", NULL };
static const char *const edge_exes[] = { "microsoft-edge", "microsoft-edge-stable", NULL };

static const browser_family fam_chromium = {
	"chromium", chromium_exes, "apt-get install chromium", chromium_profile, chromium_argv,
	chromium_suits, 'c', true, NULL, NULL,
};
static const browser_family fam_chrome = {
	"chrome", chrome_exes, "install Google Chrome (package google-chrome-stable) from Google",
	chromium_profile, chromium_argv, chrome_suits, 'g', false, NULL, NULL,
};
static const browser_family fam_edge = {
	"edge", edge_exes, "install Microsoft Edge (package microsoft-edge-stable) from Microsoft",
	chromium_profile, chromium_argv, edge_suits, 'e', false, NULL, NULL,
};

/* ---- Chromium's headless shell from npm @sparticuz/chromium ---- */

/* The one Chromium here with WebNN (Debian's is built without it, see shared/notes/browsers.md):
 * a headless shell that `make` unpacks into build/chromium-shell/ with its SwiftShader libraries.
 * Without --use-angle=swiftshader its GPU process has no GL and WebNN answers "WebNN is disabled
 * due to some unresolvable issues". It is always headless, whatever --visible says. */
static int shell_argv(const launch_spec *ls, const char **argv, int cap)
{
	static char udd[4200];
	int n = 0;
	snprintf(udd, sizeof udd, "--user-data-dir=%s", ls->profile);
	argv[n++] = ls->exe;
	argv[n++] = "--headless";
	if (geteuid() == 0)
		argv[n++] = "--no-sandbox";
	argv[n++] = "--no-first-run";
	argv[n++] = "--no-default-browser-check";
	argv[n++] = "--disable-background-networking";
	argv[n++] = "--disable-component-update";
	argv[n++] = "--disable-sync";
	argv[n++] = "--password-store=basic";
	argv[n++] = "--use-angle=swiftshader";
	argv[n++] = "--enable-unsafe-webgpu";
	argv[n++] = "--enable-features=WebMachineLearningNeuralNetwork";
	argv[n++] = udd;
	argv[n++] = ls->url;
	argv[n] = NULL;
	(void)cap;
	return n;
}

/* Where make puts it, below the data folder ($ACCEL_TOP_DATA or the executable's folder). */
#define SHELL_BUILD_PATH "build/chromium-shell/chromium"

static int shell_locate(char *out, size_t cap)
{
	const char *env = getenv("ACCEL_TOP_CHROMIUM_SHELL");
	if (env && *env) {
		ac_strlcpy(out, env, cap);
		return access(out, X_OK) == 0 ? 0 : AC_ENOENT;
	}
	char exe[PATH_MAX] = "";
	const char *data = getenv("ACCEL_TOP_DATA");
	if (!data || !*data) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
		if (slash)
			*slash = '\0';
		data = exe;
	}
	if (!*data || (size_t)snprintf(out, cap, "%s/" SHELL_BUILD_PATH, data) >= cap)
		return AC_ENOENT;
	return access(out, X_OK) == 0 ? 0 : AC_ENOENT;
}

static const char *const shell_exes[] = { SHELL_BUILD_PATH, NULL };

static const browser_family fam_shell = {
	"chromium-shell", shell_exes,
	"run make in accel-top's folder: it unpacks npm @sparticuz/chromium's bin/chromium.br into build/chromium-shell/ "
	"(make deps installs the npm package); or set ACCEL_TOP_CHROMIUM_SHELL to the shell's path",
	chromium_profile, shell_argv, chromium_suits, 's', false, NULL, shell_locate,
};

/* ---- Firefox ---- */

/* WebGPU needs both of the first two prefs (see shared/notes/browsers.md); the rest stop Firefox
 * reaching for a network this machine does not have. */
static const char firefox_user_js[] =
	"user_pref(\"dom.webgpu.enabled\", true);\n"
	"user_pref(\"gfx.webgpu.ignore-blocklist\", true);\n"
	"user_pref(\"browser.shell.checkDefaultBrowser\", false);\n"
	"user_pref(\"browser.startup.homepage_override.mstone\", \"ignore\");\n"
	"user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n"
	"user_pref(\"datareporting.healthreport.uploadEnabled\", false);\n"
	"user_pref(\"toolkit.telemetry.enabled\", false);\n"
	"user_pref(\"app.update.enabled\", false);\n"
	"user_pref(\"app.normandy.enabled\", false);\n"
	"user_pref(\"extensions.update.enabled\", false);\n"
	"user_pref(\"network.captive-portal-service.enabled\", false);\n"
	"user_pref(\"network.connectivity-service.enabled\", false);\n"
	"user_pref(\"browser.safebrowsing.malware.enabled\", false);\n"
	"user_pref(\"browser.safebrowsing.phishing.enabled\", false);\n"
	"user_pref(\"browser.safebrowsing.downloads.enabled\", false);\n"
	"user_pref(\"browser.newtabpage.enabled\", false);\n"
	"user_pref(\"dom.max_script_run_time\", 0);\n";

static int firefox_profile(const char *dir, ac_err *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/user.js", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return ac_errf(err, AC_EIO, "cannot write %s", path);
	int ok = fputs(firefox_user_js, f) >= 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : ac_errf(err, AC_EIO, "cannot write %s", path);
}

static int firefox_argv(const launch_spec *ls, const char **argv, int cap)
{
	int n = 0;
	argv[n++] = ls->exe;
	if (!ls->visible || !getenv("DISPLAY"))
		argv[n++] = "--headless";
	argv[n++] = "--no-remote";
	argv[n++] = "--profile";
	argv[n++] = ls->profile;
	argv[n++] = ls->url;
	argv[n] = NULL;
	(void)cap;
	return n;
}

static int firefox_suits(const char *type, const ac_caps *caps)
{
	(void)caps;
	return type_is(type, "audio") ? 0 : suits_none(type);
}

static const char *const firefox_exes[] = { "firefox-esr", "firefox", NULL };
static const browser_family fam_firefox = {
	"firefox", firefox_exes, "apt-get install firefox-esr", firefox_profile, firefox_argv,
	firefox_suits, 'f', true, NULL, NULL,
};

/* ---- browsers from a Selenium Grid ---- */

static const char *const no_exes[] = { NULL };
static const browser_family fam_chromium_grid = {
	"chromium@grid", no_exes, "it runs on a Selenium Grid node: give the Grid's URL with --grid URL",
	chromium_profile, chromium_argv, chromium_suits, 0, false, "chrome", NULL,
};
static const browser_family *const grid_families[] = { &fam_chromium_grid };

/* ---- the table ---- */

/* Table order is how menus and messages list them; launch order puts by_default first. */
static const browser_family *const families[] = { &fam_chromium, &fam_shell, &fam_chrome, &fam_edge, &fam_firefox };
#define N_FAMILIES (int)(sizeof families / sizeof families[0])

const browser_family *family_at(int i)
{
	return i >= 0 && i < N_FAMILIES ? families[i] : NULL;
}

const browser_family *family_by_launch(int i)
{
	for (int pass = 0; pass < 2; pass++)
		for (int j = 0; j < N_FAMILIES; j++)
			if (families[j]->by_default == (pass == 0) && i-- == 0)
				return families[j];
	return NULL;
}

const browser_family *family_find(const char *name)
{
	for (int i = 0; i < N_FAMILIES; i++)
		if (strcmp(families[i]->name, name) == 0)
			return families[i];
	for (size_t i = 0; i < sizeof grid_families / sizeof grid_families[0]; i++)
		if (strcmp(grid_families[i]->name, name) == 0)
			return grid_families[i];
	return NULL;
}

void family_list(char *buf, size_t cap, const char *sep, int which)
{
	buf[0] = '\0';
	bool first = true;
	for (int i = 0; i < N_FAMILIES; i++) {
		if ((which == FAM_DEFAULT && !families[i]->by_default) || (which == FAM_OPTIONAL && families[i]->by_default))
			continue;
		ac_strlcatf(buf, cap, "%s%s", first ? "" : sep, families[i]->name);
		first = false;
	}
}

const char *family_known(void)
{
	static char known[160];
	if (!known[0])
		family_list(known, sizeof known, ", ", FAM_ALL);
	return known;
}

const char *family_grid_known(void)
{
	static char known[160];
	for (size_t i = 0; !known[0] && i < sizeof grid_families / sizeof grid_families[0]; i++)
		ac_strlcatf(known, sizeof known, "%s%s", i ? ", " : "", grid_families[i]->name);
	return known;
}

int family_preference(const char *kind, const char *model_type, const ac_caps *caps)
{
	const browser_family *f = kind ? family_find(kind) : NULL;
	return f && f->suits ? f->suits(model_type, caps) : suits_none(model_type);
}

int family_locate(const browser_family *f, char *out, size_t cap, ac_err *err)
{
	if (f->webdriver_name)
		return ac_errf(err, AC_ENOENT, "%s is not launched here: %s", f->name, f->install_hint);
	if (f->locate) {
		if (f->locate(out, cap) == 0)
			return 0;
		const char *env = getenv("ACCEL_TOP_CHROMIUM_SHELL");
		if (env && *env)
			return ac_errf(err, AC_ENOENT, "%s is not installed: ACCEL_TOP_CHROMIUM_SHELL=%s is not an executable; %s",
				       f->name, env, f->install_hint);
		return ac_errf(err, AC_ENOENT, "%s is not installed: no %s; %s", f->name, out[0] ? out : f->exe_names[0],
			       f->install_hint);
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (int i = 0; f->exe_names[i]; i++) {
		const char *p = path;
		while (*p) {
			const char *end = strchr(p, ':');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (len && (size_t)snprintf(out, cap, "%.*s/%s", (int)len, p, f->exe_names[i]) < cap &&
			    access(out, X_OK) == 0)
				return 0;
			p += len + (end ? 1 : 0);
		}
	}
	char names[160] = "";
	for (int i = 0; f->exe_names[i]; i++)
		ac_strlcatf(names, sizeof names, "%s%s", i ? ", " : "", f->exe_names[i]);
	return ac_errf(err, AC_ENOENT, "%s is not installed: looked for %s in PATH; %s",
		       f->name, names, f->install_hint);
}
