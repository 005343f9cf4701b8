/* Launching and supervising browsers as child processes on the loop.
 *
 * Each browser runs in its own process group with its own profile directory under a runtime
 * folder of this accel-top process. Launch, version, exit and failure are reported as events
 * through the emit callback; the launcher keeps no other state about browsers. */
#ifndef AC_LAUNCHER_H
#define AC_LAUNCHER_H

#include <stdbool.h>
#include <uv.h>

#include "ac.h"
#include "event.h"
#include "family.h"

typedef struct launcher launcher;
typedef int (*launcher_emit)(void *ctx, const ac_event *ev, ac_err *err);

int launcher_new(uv_loop_t *loop, launcher_emit emit, void *ctx, launcher **out, ac_err *err);

/* Starts one browser of `fam` with instance id `id`; page_url gets "&id=ID" appended. */
int launcher_start(launcher *l, const browser_family *fam, int id, const char *page_url, bool visible,
		   ac_err *err);

/* One more command-line flag for every browser of `family` launched from now on (before the page
 * URL). Both strings must outlive the launcher. AC_EINVAL past LAUNCHER_MAX_EXTRA. */
#define LAUNCHER_MAX_EXTRA 16
int launcher_add_arg(launcher *l, const char *family, const char *arg);

/* One more file written into every fresh profile of `family` (e.g. Firefox's cert_override.txt,
 * which has no command-line flag), after the family prepared it. Both strings must outlive the
 * launcher. AC_EINVAL past LAUNCHER_MAX_FILES. */
#define LAUNCHER_MAX_FILES 4
int launcher_add_profile_file(launcher *l, const char *family, const char *name, const char *content);

/* Sends sig to the browser's whole process group; AC_ENOENT when it is not running. */
int launcher_signal(launcher *l, int id, int sig);

/* Stops the browser (sig to its group: SIGTERM, or SIGKILL for one that hangs or is stopped) and
 * starts it again with the same id and a fresh profile once it has exited. */
int launcher_restart(launcher *l, int id, int sig);

/* Whether a browser process with this id is running. */
bool launcher_is_running(const launcher *l, int id);

/* Number of browser processes still running. */
int launcher_running(const launcher *l);

/* Stops every browser (SIGTERM, then SIGKILL after grace_ms), removes every profile, closes the
 * launcher's handles, then calls done. The launcher is freed before done runs. */
void launcher_shutdown(launcher *l, unsigned grace_ms, void (*done)(void *ctx), void *ctx);

#endif
