#include "launcher.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAIL_MAX 2048
#define SETPRIV "/usr/bin/setpriv"

typedef struct child {
	struct child *next;
	launcher *l;
	int id;
	const browser_family *fam;
	uv_process_t proc;
	uv_pipe_t err_pipe;      /* the browser's stderr: we keep its tail for the exit reason */
	int open_handles;
	bool running;
	int pgid;
	char profile[4096];
	char tail[TAIL_MAX];
	size_t tail_len;
	char exe[4096];
	char page_url[1024];     /* for a restart */
	bool visible;
	bool restart;            /* start again, same id, once this process has exited */
} child;

/* `EXE --version`, run once per family, asynchronously. */
typedef struct probe {
	launcher *l;
	const browser_family *fam;
	uv_process_t proc;
	uv_pipe_t out;
	int open_handles;
	bool started, done;
	char buf[256];
	size_t len;
	char version[64];
} probe;

struct launcher {
	uv_loop_t *loop;
	launcher_emit emit;
	void *ctx;
	char root[4096];         /* runtime folder holding every profile of this process */
	child *children;
	probe probes[8];
	bool shutting_down;
	uv_timer_t kill_timer;
	bool timer_open;
	void (*done)(void *);
	void *done_ctx;
	/* --browser-arg: operator flags per family, put before the page URL */
	struct { const char *family, *arg; } extra[LAUNCHER_MAX_EXTRA];
	int n_extra;
	struct { const char *family, *name, *content; } files[LAUNCHER_MAX_FILES];
	int n_files;
};

static void emit(launcher *l, ev_kind kind, int id, int64_t num, int64_t num2, const char *family, const char *text)
{
	ac_event ev = { .kind = kind, .t_us = ac_now_us(), .browser = id, .num = num, .num2 = num2,
			.family = family, .text = text };
	ac_err err;
	l->emit(l->ctx, &ev, &err);
}

/* Browsers still running on a profile under dir: left by an accel-top that could not clean up
 * (and started without setpriv's parent-death signal). */
static void kill_users_of(const char *dir)
{
	uv_fs_t req;
	if (uv_fs_scandir(NULL, &req, "/proc", 0, NULL) < 0)
		return;
	uv_dirent_t d;
	size_t n = strlen(dir);
	while (uv_fs_scandir_next(&req, &d) != UV_EOF) {
		int pid = atoi(d.name);
		if (pid <= 1 || pid == (int)getpid())
			continue;
		char path[64], cmd[8192];
		snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t len = fread(cmd, 1, sizeof cmd - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[len] = '\0';
		char *hit = strstr(cmd, dir);
		if (hit && (hit[n] == '/' || hit[n] == ' ' || hit[n] == '\0'))
			kill(pid, SIGKILL);
	}
	uv_fs_req_cleanup(&req);
}

/* Profiles of accel-top processes that died without cleaning up (kill -9) are removed at start,
 * with any browser still using them. */
static void sweep_stale_roots(const char *tmp)
{
	uv_fs_t req;
	if (uv_fs_scandir(NULL, &req, tmp, 0, NULL) < 0)
		return;
	uv_dirent_t d;
	while (uv_fs_scandir_next(&req, &d) != UV_EOF) {
		int pid;
		char rest;
		if (sscanf(d.name, "accel-top-%d%c", &pid, &rest) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno == EPERM)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", tmp, d.name);
		kill_users_of(path);
		ac_rmtree(path);
	}
	uv_fs_req_cleanup(&req);
}

int launcher_new(uv_loop_t *loop, launcher_emit emit_fn, void *ctx, launcher **out, ac_err *err)
{
	launcher *l = calloc(1, sizeof *l);
	if (!l)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	l->loop = loop;
	l->emit = emit_fn;
	l->ctx = ctx;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	sweep_stale_roots(tmp);
	snprintf(l->root, sizeof l->root, "%s/accel-top-%d", tmp, (int)getpid());
	if (mkdir(l->root, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		free(l);
		return ac_errf(err, -e, "cannot create the runtime folder %s: %s (set TMPDIR to a writable folder)",
			       l->root, strerror(e));
	}
	uv_timer_init(loop, &l->kill_timer);
	l->kill_timer.data = l;
	l->timer_open = true;
	*out = l;
	return 0;
}

int launcher_running(const launcher *l)
{
	int n = 0;
	for (const child *c = l->children; c; c = c->next)
		n += c->running;
	return n;
}

static void maybe_finish(launcher *l);

/* ---- version probes ---- */

static void probe_handle_closed(uv_handle_t *h)
{
	probe *p = h->data;
	if (--p->open_handles == 0) {
		p->done = true;
		maybe_finish(p->l);
	}
}

static void probe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	probe *p = h->data;
	(void)hint;
	*buf = uv_buf_init(p->buf + p->len, (unsigned)(sizeof p->buf - 1 - p->len));
}

static void probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	probe *p = s->data;
	(void)buf;
	if (n > 0)
		p->len += (size_t)n;
	if (n < 0 || p->len >= sizeof p->buf - 1)
		uv_read_stop(s);
}

static void probe_exit(uv_process_t *proc, int64_t status, int sig)
{
	probe *p = proc->data;
	launcher *l = p->l;
	(void)status; (void)sig;
	p->buf[p->len] = '\0';
	/* "Chromium 156.0.8078.108 built on Debian", "Mozilla Firefox 153.7.0esr": first token that
	 * starts with a digit */
	for (char *t = strtok(p->buf, " \t\r\n"); t; t = strtok(NULL, " \t\r\n"))
		if (*t >= '0' && *t <= '9') {
			ac_strlcpy(p->version, t, sizeof p->version);
			break;
		}
	if (p->version[0] && !l->shutting_down)
		for (child *c = l->children; c; c = c->next)
			if (c->fam == p->fam)
				emit(l, EV_BROWSER_VERSION, c->id, 0, 0, NULL, p->version);
	uv_close((uv_handle_t *)&p->proc, probe_handle_closed);
	uv_close((uv_handle_t *)&p->out, probe_handle_closed);
}

static probe *probe_for(launcher *l, const browser_family *fam, const char *exe)
{
	probe *free_slot = NULL;
	for (size_t i = 0; i < sizeof l->probes / sizeof l->probes[0]; i++) {
		if (l->probes[i].fam == fam)
			return &l->probes[i];
		if (!l->probes[i].fam && !free_slot)
			free_slot = &l->probes[i];
	}
	if (!free_slot)
		return NULL;
	probe *p = free_slot;
	p->l = l;
	p->fam = fam;
	uv_pipe_init(l->loop, &p->out, 0);
	p->out.data = p;
	p->open_handles = 1;
	const char *args[] = { exe, "--version", NULL };
	uv_stdio_container_t io[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out },
		{ .flags = UV_IGNORE },
	};
	uv_process_options_t o = { .exit_cb = probe_exit, .file = exe, .args = (char **)args,
				   .stdio_count = 3, .stdio = io };
	p->proc.data = p;
	if (uv_spawn(l->loop, &p->proc, &o) == 0) {
		p->open_handles++;
		p->started = true;
		uv_read_start((uv_stream_t *)&p->out, probe_alloc, probe_read);
	} else {
		uv_close((uv_handle_t *)&p->out, probe_handle_closed);
	}
	return p;
}

/* ---- browsers ---- */

static void child_handle_closed(uv_handle_t *h)
{
	child *c = h->data;
	launcher *l = c->l;
	if (--c->open_handles > 0)
		return;
	for (child **pp = &l->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
	maybe_finish(l);
}

static void tail_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	child *c = h->data;
	(void)hint;
	if (c->tail_len > TAIL_MAX - 512) { /* keep the newest half */
		memmove(c->tail, c->tail + TAIL_MAX / 2, c->tail_len - TAIL_MAX / 2);
		c->tail_len -= TAIL_MAX / 2;
	}
	*buf = uv_buf_init(c->tail + c->tail_len, (unsigned)(TAIL_MAX - 1 - c->tail_len));
}

static void tail_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	child *c = s->data;
	(void)buf;
	if (n > 0)
		c->tail_len += (size_t)n;
	else if (n < 0)
		uv_read_stop(s);
}

/* The last non-empty line the browser printed, for the exit reason. */
static void last_line(child *c, char *out, size_t cap)
{
	c->tail[c->tail_len] = '\0';
	char *end = c->tail + c->tail_len;
	while (end > c->tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	char *start = strrchr(c->tail, '\n');
	ac_strlcpy(out, start ? start + 1 : c->tail, cap);
}

static void child_exit(uv_process_t *proc, int64_t status, int sig)
{
	child *c = proc->data;
	launcher *l = c->l;
	c->running = false;
	kill(-c->pgid, SIGKILL); /* helpers (GPU, renderer, content processes) go with the browser */
	char why[512], line[200];
	if (sig)
		snprintf(why, sizeof why, "killed by signal %d (%s)", sig, strsignal(sig));
	else
		snprintf(why, sizeof why, "exited with status %lld", (long long)status);
	last_line(c, line, sizeof line);
	if (line[0] && !l->shutting_down)
		ac_strlcatf(why, sizeof why, "; last output: %s", line);
	if (c->restart)
		ac_strlcatf(why, sizeof why, " (restart asked for)");
	emit(l, EV_BROWSER_EXITED, c->id, status, sig, NULL, why);
	ac_rmtree(c->profile);
	uv_close((uv_handle_t *)&c->proc, child_handle_closed);
	uv_close((uv_handle_t *)&c->err_pipe, child_handle_closed);
	if (c->restart && !l->shutting_down) {
		ac_err err;
		if (launcher_start(l, c->fam, c->id, c->page_url, c->visible, &err))
			emit(l, EV_BROWSER_FAILED, c->id, 0, 0, NULL, err.msg);
	}
}

int launcher_restart(launcher *l, int id, int sig)
{
	for (child *c = l->children; c; c = c->next)
		if (c->id == id && c->running) {
			c->restart = true;
			return kill(-c->pgid, sig) == 0 ? 0 : -errno;
		}
	return AC_ENOENT;
}

bool launcher_is_running(const launcher *l, int id)
{
	for (const child *c = l->children; c; c = c->next)
		if (c->id == id && c->running)
			return true;
	return false;
}

/* The launcher_add_profile_file() files of c's family into its fresh profile. */
static int write_profile_files(const launcher *l, const child *c, ac_err *err)
{
	for (int i = 0; i < l->n_files; i++) {
		if (strcmp(l->files[i].family, c->fam->name))
			continue;
		char path[4300];
		snprintf(path, sizeof path, "%.4000s/%s", c->profile, l->files[i].name);
		FILE *f = fopen(path, "w");
		int ok = f && fputs(l->files[i].content, f) >= 0;
		if (f && fclose(f) != 0)
			ok = 0;
		if (!ok)
			return ac_errf(err, AC_EIO, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

/* A new child of l with its profile directory made and prepared, not yet started. */
static int child_new(launcher *l, const browser_family *fam, int id, const char *page_url, bool visible, child **out,
		     ac_err *err)
{
	child *c = calloc(1, sizeof *c);
	if (!c)
		return ac_errf(err, AC_ENOMEM, "out of memory");
	c->l = l;
	c->id = id;
	c->fam = fam;
	ac_strlcpy(c->page_url, page_url, sizeof c->page_url);
	c->visible = visible;
	int rc = family_locate(fam, c->exe, sizeof c->exe, err);
	if (rc) {
		free(c);
		return rc;
	}
	snprintf(c->profile, sizeof c->profile, "%.3900s/%d-%s", l->root, id, fam->name);
	if (mkdir(c->profile, 0700) != 0) {
		int e = errno;
		free(c);
		return ac_errf(err, -e, "cannot create profile %s: %s", c->profile, strerror(e));
	}
	if ((rc = fam->prepare_profile(c->profile, err)) || (rc = write_profile_files(l, c, err))) {
		ac_rmtree(c->profile);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

#define CHILD_MAX_ARGS (FAMILY_MAX_ARGS + LAUNCHER_MAX_EXTRA + 8)

/* The command line of c's browser, opening url, into args (NULL-terminated). */
static void child_args(const launcher *l, const child *c, const char *url, const char *args[CHILD_MAX_ARGS])
{
	const browser_family *fam = c->fam;
	launch_spec ls = { .exe = c->exe, .profile = c->profile, .url = url, .visible = c->visible };
	const char *argv[FAMILY_MAX_ARGS + LAUNCHER_MAX_EXTRA + 1];
	int argc = fam->build_argv(&ls, argv, FAMILY_MAX_ARGS);
	/* the operator's flags go before the URL, which build_argv puts last */
	for (int i = 0; i < l->n_extra && argc > 1; i++)
		if (!strcmp(l->extra[i].family, fam->name)) {
			argv[argc] = argv[argc - 1];
			argv[argc - 1] = l->extra[i].arg;
			argv[++argc] = NULL;
		}
	/* util-linux's setpriv execs the browser with a parent-death signal, so the browser dies
	 * with us even when we are killed with SIGKILL or crash (no cleanup of ours runs then). */
	int na = 0;
	if (access(SETPRIV, X_OK) == 0) {
		args[na++] = SETPRIV;
		args[na++] = "--pdeathsig";
		args[na++] = "KILL";
		args[na++] = "--";
	}
	for (int i = 0; argv[i] && na < CHILD_MAX_ARGS - 1; i++)
		args[na++] = argv[i];
	args[na] = NULL;
}

/* Spawns c with its stderr on a pipe and links it into l's children (also when the spawn
 * fails: it is then freed once its pipe has closed on the loop). */
static int child_spawn(launcher *l, child *c, const char **args, ac_err *err)
{
	uv_pipe_init(l->loop, &c->err_pipe, 0);
	c->err_pipe.data = c;
	c->open_handles = 1;
	/* Browsers say what went wrong on stderr; a new session makes the browser a process group
	 * we can signal as a whole */
	uv_stdio_container_t io[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_IGNORE },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&c->err_pipe },
	};
	uv_process_options_t o = { .exit_cb = child_exit, .file = args[0], .args = (char **)args,
				   .stdio_count = 3, .stdio = io, .flags = UV_PROCESS_DETACHED };
	c->proc.data = c;
	int rc = uv_spawn(l->loop, &c->proc, &o);
	c->next = l->children;
	l->children = c;
	if (rc) {
		ac_rmtree(c->profile);
		ac_errf(err, rc, "cannot start %s (%s): %s", c->fam->name, c->exe, uv_strerror(rc));
		uv_close((uv_handle_t *)&c->err_pipe, child_handle_closed);
		return rc;
	}
	c->open_handles = 2;
	c->running = true;
	c->pgid = c->proc.pid;
	return 0;
}

int launcher_start(launcher *l, const browser_family *fam, int id, const char *page_url, bool visible, ac_err *err)
{
	if (l->shutting_down)
		return ac_errf(err, AC_EINVAL, "accel-top is shutting down");
	child *c = NULL;
	int rc = child_new(l, fam, id, page_url, visible, &c, err);
	if (rc)
		return rc;
	char url[1024];
	snprintf(url, sizeof url, "%s&id=%d", page_url, id);
	const char *args[CHILD_MAX_ARGS];
	child_args(l, c, url, args);
	if ((rc = child_spawn(l, c, args, err)))
		return rc;
	uv_read_start((uv_stream_t *)&c->err_pipe, tail_alloc, tail_read);
	emit(l, EV_BROWSER_LAUNCHED, id, c->proc.pid, 0, fam->name, c->exe);
	probe *p = probe_for(l, fam, c->exe);
	if (p && p->version[0])
		emit(l, EV_BROWSER_VERSION, id, 0, 0, NULL, p->version);
	return 0;
}

int launcher_add_arg(launcher *l, const char *family, const char *arg)
{
	if (l->n_extra == LAUNCHER_MAX_EXTRA)
		return AC_EINVAL;
	l->extra[l->n_extra].family = family;
	l->extra[l->n_extra].arg = arg;
	l->n_extra++;
	return 0;
}

int launcher_add_profile_file(launcher *l, const char *family, const char *name, const char *content)
{
	if (l->n_files == LAUNCHER_MAX_FILES)
		return AC_EINVAL;
	l->files[l->n_files].family = family;
	l->files[l->n_files].name = name;
	l->files[l->n_files].content = content;
	l->n_files++;
	return 0;
}

int launcher_signal(launcher *l, int id, int sig)
{
	for (child *c = l->children; c; c = c->next)
		if (c->id == id && c->running)
			return kill(-c->pgid, sig) == 0 ? 0 : -errno;
	return AC_ENOENT;
}

/* ---- shutdown ---- */

static void timer_closed(uv_handle_t *h)
{
	launcher *l = h->data;
	l->timer_open = false;
	maybe_finish(l);
}

static void maybe_finish(launcher *l)
{
	if (!l->shutting_down || l->children)
		return;
	for (size_t i = 0; i < sizeof l->probes / sizeof l->probes[0]; i++)
		if (l->probes[i].fam && !l->probes[i].done)
			return; /* a --version probe is still running; it ends on its own */
	if (l->timer_open) {
		if (!uv_is_closing((uv_handle_t *)&l->kill_timer))
			uv_close((uv_handle_t *)&l->kill_timer, timer_closed);
		return;
	}
	ac_rmtree(l->root);
	void (*done)(void *) = l->done;
	void *ctx = l->done_ctx;
	free(l);
	if (done)
		done(ctx);
}

static void on_grace_over(uv_timer_t *t)
{
	launcher *l = t->data;
	for (child *c = l->children; c; c = c->next)
		if (c->running)
			kill(-c->pgid, SIGKILL);
}

void launcher_shutdown(launcher *l, unsigned grace_ms, void (*done)(void *ctx), void *ctx)
{
	l->shutting_down = true;
	l->done = done;
	l->done_ctx = ctx;
	int running = 0;
	for (child *c = l->children; c; c = c->next)
		if (c->running) {
			kill(-c->pgid, SIGTERM);
			running++;
		}
	if (running)
		uv_timer_start(&l->kill_timer, on_grace_over, grace_ms, 0);
	maybe_finish(l);
}
