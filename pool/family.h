/* Browser families: one entry per kind of browser we can launch (nvtop-style table of function
 * pointers). Each knows its executables, how to set up a fresh profile, its command line, which
 * models it suits, and its letter in the screen's menu. The table is the only list of families:
 * messages, usage text and menus are built from it, so a new family is one entry in family.c
 * (plus the page's detection of its kind: probeBrowser() in browser-js/accel.js). */
#ifndef AC_FAMILY_H
#define AC_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

#include "ac.h"
#include "caps.h"

#define FAMILY_MAX_ARGS 32

typedef struct {
	const char *exe;     /* absolute path */
	const char *profile; /* fresh, empty directory owned by this instance; NULL on a Grid node
			      * (its driver makes the profile) */
	const char *url;     /* page URL with token and instance id; NULL: none (a Grid session
			      * navigates to it by WebDriver) */
	bool visible;        /* headed, when a display exists */
} launch_spec;

typedef struct browser_family {
	const char *name;               /* chromium, chrome, edge, firefox */
	const char *const *exe_names;   /* looked up in PATH, in order; NULL-terminated */
	const char *install_hint;       /* how to get it, for the error message */
	int (*prepare_profile)(const char *dir, ac_err *err);
	/* Fills argv (argv[0] = exe) and returns argc. */
	int (*build_argv)(const launch_spec *ls, const char **argv, int cap);
	/* Lower is better: how well it suits a model of this type ("audio", "vision", "multimodal",
	 * anything else is text) before any measurement; caps from its hello (may be NULL). */
	int (*suits)(const char *model_type, const ac_caps *caps);
	char menu_key;                  /* its letter in the screen's "Start a browser" menu */
	bool by_default;                /* launched when no --browsers is given; doctor's "all"
					 * checks it even when it is missing (the others if installed) */
	/* Non-NULL: not launched here but asked of a Selenium Grid (--grid, pool/grid.h) as a W3C
	 * WebDriver session with this browserName, its flags from build_argv. Such families are
	 * found by family_find() ("chromium@grid") but are not in family_at()'s menus. */
	const char *webdriver_name;
	/* Finds a family that is not in PATH (chromium-shell: under build/); NULL: exe_names in PATH.
	 * 0 and the path, or nonzero leaving in out the path it tried (or ""). */
	int (*locate)(char *out, size_t cap);
} browser_family;

/* The families in table order (how menus and messages list them); NULL past the end. */
const browser_family *family_at(int i);
/* The families in launch order: the by_default ones first, then the rest, each in table order
 * (chromium, firefox, chrome, edge); NULL past the end. */
const browser_family *family_by_launch(int i);

const browser_family *family_find(const char *name);

enum { FAM_ALL, FAM_DEFAULT, FAM_OPTIONAL };
/* Writes the names of the families (FAM_ALL, FAM_DEFAULT: by_default ones, FAM_OPTIONAL: the
 * others), in table order, joined by sep: "chromium, chrome, edge, firefox". */
void family_list(char *buf, size_t cap, const char *sep, int which);
/* "chromium, chrome, edge, firefox": every family, for messages (static storage). */
const char *family_known(void);
/* "chromium@grid": the families asked of a Selenium Grid, for messages (static storage). */
const char *family_grid_known(void);

/* Lower is better: the scheduler's preference for a browser of this kind (a family name, or any
 * attached kind) for a model of this type, before any measurement: the family's suits(), and for
 * a kind that is no family, what a family with no particular fit gets (1; 2 for text). */
int family_preference(const char *kind, const char *model_type, const ac_caps *caps);

/* Finds the family's executable in PATH (or through its locate()). 0 and the path, or AC_ENOENT with a message naming
 * every executable looked for and the install hint. */
int family_locate(const browser_family *f, char *path, size_t cap, ac_err *err);

#endif
