/* Browser families: one entry per kind of browser we can launch (nvtop-style table of function
 * pointers). Each knows its executables, how to set up a fresh profile, and its command line. */
#ifndef AC_FAMILY_H
#define AC_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

#include "ac.h"

#define FAMILY_MAX_ARGS 32

typedef struct {
	const char *exe;     /* absolute path */
	const char *profile; /* fresh, empty directory owned by this instance */
	const char *url;     /* page URL with token and instance id */
	bool visible;        /* headed, when a display exists */
} launch_spec;

typedef struct browser_family {
	const char *name;               /* chromium, chrome, edge, firefox */
	const char *const *exe_names;   /* looked up in PATH, in order; NULL-terminated */
	const char *install_hint;       /* how to get it, for the error message */
	int (*prepare_profile)(const char *dir, ac_err *err);
	/* Fills argv (argv[0] = exe) and returns argc. */
	int (*build_argv)(const launch_spec *ls, const char **argv, int cap);
} browser_family;

/* NULL-terminated table of every family, in the default launch order. */
extern const browser_family *const family_all[];

const browser_family *family_find(const char *name);

/* Finds the family's executable in PATH. 0 and the path, or AC_ENOENT with a message naming
 * every executable looked for and the install hint. */
int family_locate(const browser_family *f, char *path, size_t cap, ac_err *err);

#endif
