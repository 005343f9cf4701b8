#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long procstat_hz(void)
{
	static long hz;
	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100; /* what Linux reports to user space on every architecture */
	}
	return hz;
}

long procstat_page_size(void)
{
	static long ps;
	if (!ps) {
		ps = sysconf(_SC_PAGESIZE);
		if (ps <= 0)
			ps = 4096;
	}
	return ps;
}

/* Fields after the command name, counted from the state (0): see proc(5). */
enum { F_PPID = 1, F_PGRP = 2, F_SESSION = 3, F_UTIME = 11, F_STIME = 12, F_CUTIME = 13, F_CSTIME = 14,
       F_STARTTIME = 19, F_RSS = 21, F__NEEDED };

int procstat_parse(const char *text, procstat_entry *out, ac_err *err)
{
	memset(out, 0, sizeof *out);
	const char *open = strchr(text, '(');
	const char *close = strrchr(text, ')'); /* the name may itself hold ')' */
	if (!open || !close || close < open)
		return ac_errf(err, AC_EINVAL, "stat line without a (command name)");
	char *end;
	errno = 0;
	long pid = strtol(text, &end, 10);
	if (end == text || errno || pid <= 0 || pid > INT32_MAX)
		return ac_errf(err, AC_EINVAL, "stat line does not start with a pid");
	const char *p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p || *p == ' ')
		return ac_errf(err, AC_EINVAL, "stat line of pid %ld has no state", pid);
	out->pid = (int)pid;
	out->state = *p++;
	long long f[F__NEEDED] = { 0 };
	for (int i = 1; i < F__NEEDED; i++) {
		errno = 0;
		f[i] = strtoll(p, &end, 10);
		if (end == p || errno || (*end != ' ' && *end != '\n' && *end != '\0'))
			return ac_errf(err, AC_EINVAL, "stat line of pid %ld: field %d is not a number", pid, i + 3);
		p = end;
	}
	if (f[F_PPID] < 0 || f[F_PPID] > INT32_MAX || f[F_PGRP] < 0 || f[F_PGRP] > INT32_MAX ||
	    f[F_SESSION] < 0 || f[F_SESSION] > INT32_MAX || f[F_UTIME] < 0 || f[F_STIME] < 0 ||
	    f[F_STARTTIME] < 0)
		return ac_errf(err, AC_EINVAL, "stat line of pid %ld: a field is out of range", pid);
	out->ppid = (int)f[F_PPID];
	out->pgrp = (int)f[F_PGRP];
	out->session = (int)f[F_SESSION];
	out->utime = (uint64_t)f[F_UTIME];
	out->stime = (uint64_t)f[F_STIME];
	out->cutime = f[F_CUTIME] > 0 ? f[F_CUTIME] : 0;
	out->cstime = f[F_CSTIME] > 0 ? f[F_CSTIME] : 0;
	out->starttime = (uint64_t)f[F_STARTTIME];
	out->rss_pages = f[F_RSS] > 0 ? f[F_RSS] : 0; /* kernel threads and zombies: 0 */
	return 0;
}

/* Reads root/NAME/stat; false when the process is gone or its line cannot be read. */
static bool read_entry(const char *root, const char *name, procstat_entry *e)
{
	char path[4200], buf[1024];
	snprintf(path, sizeof path, "%.4000s/%s/stat", root, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1); /* one read: the kernel makes the line at once */
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	ac_err err;
	return procstat_parse(buf, e, &err) == 0;
}

static int by_pid(const void *a, const void *b)
{
	int x = ((const procstat_entry *)a)->pid, y = ((const procstat_entry *)b)->pid;
	return x < y ? -1 : x > y;
}

static const procstat_entry *find(const procstat_entry *all, size_t n, int pid)
{
	procstat_entry key = { .pid = pid };
	return bsearch(&key, all, n, sizeof *all, by_pid);
}

/* Whether e is in the tree of leader l. */
static bool member(const procstat_entry *all, size_t n, const procstat_entry *l, const procstat_entry *e)
{
	if (e->pid == l->pid)
		return true;
	if (l->session == l->pid && e->session == l->pid)
		return true;
	/* up the parents; the depth limit guards against a cycle in a torn read */
	const procstat_entry *q = e;
	for (int depth = 0; q && q->ppid > 1 && depth < 64; depth++) {
		if (q->ppid == l->pid)
			return true;
		q = find(all, n, q->ppid);
	}
	return false;
}

int procstat_sample(const char *root, procstat_tree *trees, size_t n, ac_err *err)
{
	DIR *d = opendir(root);
	if (!d) {
		int e = errno;
		return ac_errf(err, -e, "cannot list %s: %s", root, strerror(e));
	}
	procstat_entry *all = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		if (ac_reserve((void **)&all, &cap, count + 1, sizeof *all)) {
			closedir(d);
			free(all);
			return ac_errf(err, AC_ENOMEM, "out of memory reading %s", root);
		}
		if (read_entry(root, de->d_name, &all[count]))
			count++;
	}
	closedir(d);
	if (count)
		qsort(all, count, sizeof *all, by_pid);
	long page = procstat_page_size();
	for (size_t t = 0; t < n; t++) {
		procstat_tree *tr = &trees[t];
		int pid = tr->pid;
		memset(tr, 0, sizeof *tr);
		tr->pid = pid;
		const procstat_entry *l = pid > 0 ? find(all, count, pid) : NULL;
		if (!l || l->state == 'Z') {
			tr->rc = AC_ENOENT;
			continue;
		}
		tr->start = l->starttime;
		for (size_t i = 0; i < count; i++) {
			const procstat_entry *e = &all[i];
			if (!member(all, count, l, e))
				continue;
			tr->cpu_ticks += e->utime + e->stime + (uint64_t)e->cutime + (uint64_t)e->cstime;
			if (e->state == 'Z')
				continue; /* no memory; PID 1 may never reap it */
			tr->nproc++;
			tr->rss_bytes += e->rss_pages * page;
		}
	}
	free(all);
	return 0;
}
