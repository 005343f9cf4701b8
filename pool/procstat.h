/* Resource use of a managed browser's processes, read from /proc.
 *
 * A managed browser is started in a session of its own (uv_spawn's UV_PROCESS_DETACHED calls
 * setsid, setpriv then execs the browser under the same pid), so its pid is its session id.
 * Chromium's zygotes, GPU, utility and renderer processes and Firefox's content processes stay in
 * that session; a process belongs to a browser's tree when it is the leader, is in the leader's
 * session (only when the leader leads one), or descends from the leader by parent pid. Crash
 * reporters that double-fork into a session of their own (chrome_crashpad_handler, Firefox's
 * crashhelper; a few MB each) are outside both and are not counted.
 *
 * The root folder is a parameter so the tests can hand in a fake /proc. No I/O besides reading
 * it, no printing. */
#ifndef AC_PROCSTAT_H
#define AC_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "ac.h"

/* One line of /proc/PID/stat, the fields we use. */
typedef struct {
	int pid, ppid, pgrp, session;
	char state;               /* R S D Z T ... */
	uint64_t utime, stime;    /* clock ticks */
	int64_t cutime, cstime;   /* ticks of reaped children */
	uint64_t starttime;       /* ticks after boot: tells a reused pid from the one we started */
	int64_t rss_pages;
} procstat_entry;

/* A browser's process tree. */
typedef struct {
	int pid;                  /* in: the process we started */
	int rc;                   /* out: 0, or AC_ENOENT when the leader is gone (or a zombie) */
	int nproc;                /* out: live processes in the tree (zombies not counted) */
	int64_t rss_bytes;        /* out: sum of their resident set sizes (shared pages counted in
	                             each, as htop and ps do) */
	uint64_t cpu_ticks;       /* out: user + system time of the tree, zombies and the children
	                             its members reaped included, so that the total only grows
	                             while the tree lives */
	uint64_t start;           /* out: the leader's starttime */
} procstat_tree;

/* Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses). */
int procstat_parse(const char *text, procstat_entry *out, ac_err *err);

/* Reads root (normally "/proc") once and fills every tree. A process that vanishes while being
 * read is skipped. Fails only when root cannot be listed. */
int procstat_sample(const char *root, procstat_tree *trees, size_t n, ac_err *err);

/* Clock ticks per second (sysconf(_SC_CLK_TCK)) and page size in bytes. */
long procstat_hz(void);
long procstat_page_size(void);

#endif
