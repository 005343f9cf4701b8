/* Shared basics for every room: error codes and messages, clock, small string helpers.
 *
 * Errors follow libuv: a function returns 0 or a negative code, and writes a one-line message
 * naming the problem (and, where we know it, the fix) into a caller-owned ac_err. */
#ifndef AC_H
#define AC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define AC_VERSION "0.1.0"

enum {
	AC_EINVAL = UV_EINVAL,   /* bad argument or input */
	AC_ENOMEM = UV_ENOMEM,
	AC_ENOENT = UV_ENOENT,   /* missing file or executable */
	AC_EADDRINUSE = UV_EADDRINUSE,
	AC_EPROTO = UV_EPROTO,   /* a peer broke the protocol */
	AC_EIO = UV_EIO,
};

typedef struct {
	int code;
	char msg[512];
} ac_err;

/* Sets e->code and e->msg (printf-style); returns code so callers can `return ac_errf(...)`. */
int ac_errf(ac_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Wall-clock time in microseconds since the epoch: the time events carry. */
int64_t ac_now_us(void);

/* Copies src into dst (size cap), always NUL-terminated, truncating; NULL src gives "". */
void ac_strlcpy(char *dst, const char *src, size_t cap);

/* Appends printf-style to a NUL-terminated buffer of size cap, truncating. */
void ac_strlcatf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Case-insensitive substring test. */
int ac_contains_ci(const char *haystack, const char *needle);

/* Whether item is one of the entries of the comma-separated list ("a,b,c"). */
bool ac_list_has(const char *list, const char *item);

/* Makes room in a growing array of `size`-byte elements for at least `need` of them (doubling,
 * 16 at first). 0, or AC_ENOMEM with the array unchanged. */
int ac_reserve(void **arr, size_t *cap, size_t need, size_t size);

/* Removes a directory tree (like rm -rf); 0 or a negative errno-style code. */
int ac_rmtree(const char *path);

#endif
