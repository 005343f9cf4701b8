/* The browser family table (pool/family.c): the scheduler's starting preference per family and
 * model type, and the orders and lists that menus and messages are built from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../pool/family.h"
#include "check.h"
#include "tests.h"

/* pool/sched.c's preference() as it stood before the families carried suits(), on bare
 * arguments: the values family_preference must keep. */
static int sched_preference_before(const char *type, const char *kind, const ac_caps *c)
{
	if (!strcmp(type, "audio"))
		return strcmp(kind, "firefox") ? 1 : 0;
	if (!strcmp(type, "vision") || !strcmp(type, "multimodal"))
		return !strcmp(kind, "chromium") || !strcmp(kind, "chrome") ? 0 : 1;
	if (!strcmp(kind, "edge") && c->verdict[PLAT_WEBNN].status == CL_HARDWARE)
		return 0;
	return !strcmp(kind, "chromium") ? 1 : 2;
}

static ac_caps webnn_caps(ac_class cl)
{
	ac_caps c;
	memset(&c, 0, sizeof c);
	c.valid = true;
	c.verdict[PLAT_WEBNN].status = cl;
	return c;
}

/* Each branch by name: audio -> firefox, vision and multimodal -> chromium and chrome, text ->
 * edge with hardware WebNN, then chromium, then the rest; an attached kind of no family. */
int test_family_preference_branches(void)
{
	ac_caps hw = webnn_caps(CL_HARDWARE), sw = webnn_caps(CL_SOFTWARE);
	CHECK_EQ_INT(family_preference("firefox", "audio", &sw), 0);
	CHECK_EQ_INT(family_preference("chromium", "audio", &sw), 1);
	CHECK_EQ_INT(family_preference("edge", "audio", &hw), 1);
	CHECK_EQ_INT(family_preference("chromium", "vision", &sw), 0);
	CHECK_EQ_INT(family_preference("chrome", "multimodal", &sw), 0);
	CHECK_EQ_INT(family_preference("edge", "vision", &hw), 1);
	CHECK_EQ_INT(family_preference("firefox", "multimodal", &sw), 1);
	CHECK_EQ_INT(family_preference("edge", "text", &hw), 0);
	CHECK_EQ_INT(family_preference("edge", "text", &sw), 2);
	CHECK_EQ_INT(family_preference("edge", "text", NULL), 2);
	CHECK_EQ_INT(family_preference("chromium", "text", &hw), 1);
	CHECK_EQ_INT(family_preference("chrome", "text", &hw), 2);
	CHECK_EQ_INT(family_preference("firefox", "text", &hw), 2);
	CHECK_EQ_INT(family_preference("chromium", "embedding", &sw), 1); /* any other type is text */
	/* attached browsers of a kind no family has */
	CHECK_EQ_INT(family_preference("safari", "audio", &sw), 1);
	CHECK_EQ_INT(family_preference("safari", "vision", &sw), 1);
	CHECK_EQ_INT(family_preference("safari", "text", &hw), 2);
	CHECK_EQ_INT(family_preference("", "text", &hw), 2);
	return 0;
}

/* Every kind x type x WebNN class gives what sched.c's preference() gave. */
int test_family_preference_matches_sched(void)
{
	static const char *const kinds[] = { "chromium", "chrome", "edge", "firefox", "safari", "Edge", "" };
	static const char *const types[] = { "audio", "vision", "multimodal", "text", "embedding", "" };
	static const ac_class classes[] = { CL_UNAVAILABLE, CL_SOFTWARE, CL_HARDWARE, CL_UNKNOWN };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
			for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++) {
				ac_caps caps = webnn_caps(classes[c]);
				int got = family_preference(kinds[k], types[t], &caps);
				int want = sched_preference_before(types[t], kinds[k], &caps);
				if (got != want)
					check_fail(__FILE__, __LINE__, "%s / %s / webnn %d: %d, want %d", kinds[k], types[t],
						   (int)classes[c], got, want);
				CHECK_EQ_INT(got, want);
			}
	return 0;
}

/* Table order (menus, messages), launch order (by_default first) and the generated lists. */
int test_family_orders_and_lists(void)
{
	char buf[160], keys[8] = "";
	CHECK_STR(family_known(), "chromium, chromium-shell, chrome, edge, firefox");
	family_list(buf, sizeof buf, "|", FAM_ALL);
	CHECK_STR(buf, "chromium|chromium-shell|chrome|edge|firefox");
	family_list(buf, sizeof buf, ", ", FAM_DEFAULT);
	CHECK_STR(buf, "chromium, firefox");
	family_list(buf, sizeof buf, ", ", FAM_OPTIONAL);
	CHECK_STR(buf, "chromium-shell, chrome, edge");
	buf[0] = '\0';
	for (int i = 0; family_by_launch(i); i++)
		ac_strlcatf(buf, sizeof buf, "%s%s", i ? "," : "", family_by_launch(i)->name);
	CHECK_STR(buf, "chromium,firefox,chromium-shell,chrome,edge");
	for (int i = 0; family_at(i); i++) {
		keys[i] = family_at(i)->menu_key;
		CHECK(family_find(family_at(i)->name) == family_at(i));
		CHECK(family_at(i)->suits != NULL);
	}
	CHECK_STR(keys, "csgef");
	CHECK(family_at(-1) == NULL && family_at(5) == NULL && family_by_launch(5) == NULL);
	CHECK(family_find("safari") == NULL);
	return 0;
}

/* chromium-shell is found where make unpacks it (below ACCEL_TOP_DATA) or at
 * ACCEL_TOP_CHROMIUM_SHELL, never in PATH; when missing, the message names make as the fix. */
int test_family_shell_locate(void)
{
	const browser_family *f = family_find("chromium-shell");
	CHECK(f != NULL && f->locate != NULL && !f->by_default);
	char dir[] = "/tmp/accel-shell-XXXXXX", path[4200], got[4200], data[4096] = "";
	CHECK(mkdtemp(dir) != NULL);
	const char *was = getenv("ACCEL_TOP_DATA"); /* the runner's fixtures need it back */
	if (was)
		ac_strlcpy(data, was, sizeof data);
	setenv("ACCEL_TOP_DATA", dir, 1);
	unsetenv("ACCEL_TOP_CHROMIUM_SHELL");
	ac_err err = { 0 };
	CHECK(family_locate(f, got, sizeof got, &err) == AC_ENOENT);
	CHECK(strstr(err.msg, "chromium-shell is not installed") && strstr(err.msg, "run make"));
	CHECK(strstr(err.msg, "build/chromium-shell/chromium"));
	snprintf(path, sizeof path, "%s/build", dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/build/chromium-shell", dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/build/chromium-shell/chromium", dir);
	FILE *fp = fopen(path, "w");
	CHECK(fp != NULL);
	fclose(fp);
	CHECK(family_locate(f, got, sizeof got, &err) == AC_ENOENT); /* not executable */
	CHECK(chmod(path, 0700) == 0);
	CHECK(family_locate(f, got, sizeof got, &err) == 0);
	CHECK_STR(got, path);
	setenv("ACCEL_TOP_CHROMIUM_SHELL", "/nonexistent/shell", 1);
	CHECK(family_locate(f, got, sizeof got, &err) == AC_ENOENT);
	CHECK(strstr(err.msg, "ACCEL_TOP_CHROMIUM_SHELL=/nonexistent/shell"));
	setenv("ACCEL_TOP_CHROMIUM_SHELL", path, 1);
	CHECK(family_locate(f, got, sizeof got, &err) == 0);
	unsetenv("ACCEL_TOP_CHROMIUM_SHELL");
	if (data[0])
		setenv("ACCEL_TOP_DATA", data, 1);
	else
		unsetenv("ACCEL_TOP_DATA");
	ac_rmtree(dir);
	return 0;
}
