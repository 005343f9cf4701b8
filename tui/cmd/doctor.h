/* accel-top doctor's check list: one slot per check, filled in any order and printed in order
 * (text or JSON lines), the fix script, and the checks that need no loop or browser. The loop's
 * checks (bridge, launch, round trip, model runs) are in doctor_cmd.c. */
#ifndef AC_DOCTOR_H
#define AC_DOCTOR_H

#include <stdbool.h>

#include "../../pool/family.h"
#include "../../pool/pool.h"

typedef enum { ST_PENDING, ST_OK, ST_WARN, ST_FAIL } dstatus;

typedef struct {
	const char *check;   /* libraries, browser, vulkan, bridge, launch, roundtrip, caps, model */
	char browser[16];
	char platform[8];
	dstatus st;
	char detail[1024];
	char fix[640];
	char packages[96];   /* Debian packages that fix it, space-separated, for the fix script */
	char script[1024];   /* further shell lines for the fix script */
} dcheck;

#define DOC_MAX_CHECKS 64

typedef struct {
	dcheck ck[DOC_MAX_CHECKS];
	int n, printed;
	bool json;           /* print JSON lines instead of text */
} doc_list;

/* A new pending slot at the end; its index (-1 when full, which 4 browsers x 3 platforms never are). */
int doc_slot(doc_list *l, const char *check, const char *browser, const char *platform);
/* Decides slot i (once: a decided slot stays as it is; i < 0 is ignored). */
void doc_set(doc_list *l, int i, dstatus st, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The fix of slot i: its text, the Debian packages it installs, other lines for the script. */
void doc_fix(doc_list *l, int i, const char *packages, const char *script, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Prints every decided slot that has no pending slot before it. */
void doc_flush(doc_list *l);
/* Every pending slot becomes a FAIL saying why; then all is printed. */
void doc_fail_pending(doc_list *l, const char *why);
/* Counts by status (index: dstatus). */
void doc_count(const doc_list *l, int n[4]);
/* The fix script: one apt-get line for every package named, then each problem and its lines. */
int doc_write_script(const doc_list *l, const char *path);

/* ---- checks that need no loop ---- */
void doc_check_libraries(doc_list *l, int i);
/* Returns whether a usable Vulkan ICD exists. */
bool doc_check_vulkan(doc_list *l, int i);
/* Finds the family's executable in PATH (into exe); decides slot i only when it is missing (the
 * version comes from the launcher). */
bool doc_check_installed(doc_list *l, int i, const browser_family *f, char *exe, size_t cap);
/* One slot per platform (i_caps[p] < 0: not asked for) from what the browser said in hello.
 * named[p]: the platform was named in --platform, so unavailable is a failure. */
void doc_check_caps(doc_list *l, const int i_caps[PLAT__COUNT], const char *family, const pool_browser *pb,
		    const bool named[PLAT__COUNT], bool vulkan_ok);

#endif
