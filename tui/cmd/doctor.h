/* accel-top doctor's check list: one slot per check, filled in any order and printed in order
 * (text or JSON lines), the fix script, and the checks that need no loop or browser. The loop's
 * checks (bridge, launch, round trip, model runs) are in doctor_cmd.c. */
#ifndef AC_DOCTOR_H
#define AC_DOCTOR_H

#include <stdbool.h>

#include "../../pool/family.h"
#include "../../pool/pool.h"
#include "../app.h"

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

/* ---- the run: doctor_cmd.c runs the stages; doctor_plan.c reads the options and plans the
 * checks; doctor_models.c judges a model run ---- */

#define DOC_MODEL "bert-tiny" /* the smallest demo model: 1.3 MB, two layers, [1,32] tokens */
#define DOC_PINGS 5
#define DOC_ECHO_BYTES (1024 * 1024)
#define DOC_MAX_BROWSERS 4

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
	doc_list l;          /* the checks, in the order they print */
	const char *fix_path;
	const char *platforms; /* --platform, as typed */
	bool want[PLAT__COUNT], named[PLAT__COUNT]; /* asked for; asked for by name (not via all) */
	dbrowser br[DOC_MAX_BROWSERS];
	int nb;
	int i_libs, i_vulkan, i_bridge, i_tls;
	bool vulkan_ok;
	int stage;
	int cur;             /* the browser (round trip) or the combination (models) being checked */
	int row;             /* the model row running, 0 = none */
	bool row_stopped;
	size_t page_bytes;
	uv_timer_t deadline, step;
	char why_not[256];   /* what stopped the checks still pending at the end */
} doctor;

int doctor_check_args(doctor *d, ac_err *err);
/* The browsers to check and the slots that need no browser; then those that do (once each
 * browser is known to be installed or not). */
void doctor_plan(doctor *d, const char *browsers);
void doctor_plan_browsers(doctor *d);
/* The precision a platform's run uses; the check line of the run of row d->row. */
ac_precision doctor_model_precision(int p);
void doctor_judge_model(doctor *d, dbrowser *b, int p, bool timed_out);

#endif
