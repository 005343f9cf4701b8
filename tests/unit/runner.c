/* The unit test runner: runs every test listed in tests.h, or those named on the command line,
 * prints "ok   NAME" or "FAIL NAME" for each and ends with "N passed, N failed".
 * Exit status: 0 when all passed, 1 when any failed, 2 for a bad command line.
 *
 * Like libuv's runner, each test runs in a child process of its own (unless --no-fork), so a test
 * that crashes, hangs or leaks (LeakSanitizer checks every child as it exits) fails alone and the
 * run goes on. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tests.h"

typedef struct {
	const char *name;
	int (*fn)(void);
} test_entry;

static const test_entry tests[] = {
#define X(name) { #name, test_##name },
	TEST_LIST(X)
#undef X
};
#define N_TESTS (sizeof tests / sizeof tests[0])

/* ---- failure reports ---- */

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stdout, "     %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ---- deferred cleanup ---- */

typedef struct deferred {
	void (*fn)(void *);
	void *ptr;
	struct deferred *next;
} deferred;

static deferred *defer_head;

void *check_defer(void (*fn)(void *), void *ptr)
{
	if (!ptr)
		return NULL;
	deferred *d = malloc(sizeof *d);
	if (!d) {
		fn(ptr);
		fputs("unit-tests: out of memory\n", stderr);
		exit(2);
	}
	d->fn = fn;
	d->ptr = ptr;
	d->next = defer_head;
	defer_head = d;
	return ptr;
}

void check_run_deferred(void)
{
	while (defer_head) {
		deferred *d = defer_head;
		defer_head = d->next;
		d->fn(d->ptr);
		free(d);
	}
}

void check_free_json(void *j)
{
	cJSON_Delete(j);
}

/* ---- fixtures ---- */

cJSON *parse_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fprintf(stdout, "     parse_json: not JSON near: %.40s\n", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : text);
	return DEFER_JSON(j);
}

cJSON *load_fixture(const char *name)
{
	const char *root = getenv("ACCEL_TOP_DATA");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/fixtures/%s", root && *root ? root : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stdout, "     fixture %s: cannot open (set ACCEL_TOP_DATA to the repository root)\n", path);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	cJSON *j = buf ? cJSON_ParseWithLength(buf, len) : NULL;
	free(buf);
	if (!j)
		fprintf(stdout, "     fixture %s: not valid JSON\n", path);
	return DEFER_JSON(j);
}

/* ---- main ---- */

#define TEST_TIMEOUT_S 60

static const test_entry *find_test(const char *name)
{
	for (size_t i = 0; i < N_TESTS; i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

static int run_here(const test_entry *t)
{
	int rc = t->fn();
	check_run_deferred();
	return rc;
}

/* 0 passed, 1 failed. */
static int run_forked(const test_entry *t)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stdout, "     fork: %s; running in this process\n", strerror(errno));
		return run_here(t) ? 1 : 0;
	}
	if (pid == 0) {
		alarm(TEST_TIMEOUT_S);
		int rc = run_here(t);
		fflush(stdout);
		exit(rc ? 1 : 0); /* exit, not _exit: LeakSanitizer checks at exit */
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stdout, "     waitpid: %s\n", strerror(errno));
			return 1;
		}
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		if (code > 1)
			fprintf(stdout, "     exited with status %d (a sanitizer report above?)\n", code);
		return code != 0;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGALRM)
			fprintf(stdout, "     timed out after %d s\n", TEST_TIMEOUT_S);
		else
			fprintf(stdout, "     killed by signal %d (%s)\n", sig, strsignal(sig));
	}
	return 1;
}

static void usage(FILE *f, const char *argv0)
{
	fprintf(f, "Usage: %s [--no-fork] [-l] [TEST...]\n"
		"Runs every unit test, or the ones named, each in a child process.\n"
		"  -l, --list   print the test names\n"
		"  --no-fork    run the tests in this process (for a debugger)\n", argv0);
}

int main(int argc, char **argv)
{
	bool fork_each = true;
	int first = 1;
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "-l") == 0 || strcmp(argv[first], "--list") == 0) {
			for (size_t i = 0; i < N_TESTS; i++)
				puts(tests[i].name);
			return 0;
		} else if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
			usage(stdout, argv[0]);
			return 0;
		} else if (strcmp(argv[first], "--no-fork") == 0) {
			fork_each = false;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", argv[0], argv[first]);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	for (int i = first; i < argc; i++)
		if (!find_test(argv[i])) {
			fprintf(stderr, "%s: no test named '%s' (-l lists them)\n", argv[0], argv[i]);
			return 2;
		}
	int passed = 0, failed = 0;
	for (size_t i = 0; i < N_TESTS; i++) {
		if (first < argc) {
			bool wanted = false;
			for (int a = first; a < argc && !wanted; a++)
				wanted = strcmp(argv[a], tests[i].name) == 0;
			if (!wanted)
				continue;
		}
		int rc = fork_each ? run_forked(&tests[i]) : run_here(&tests[i]);
		if (rc == 0) {
			passed++;
			printf("ok   %s\n", tests[i].name);
		} else {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
