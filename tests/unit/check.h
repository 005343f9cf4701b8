/* Checks for the unit tests, libuv style: a failing check prints file:line and the expression,
 * and returns 1 from the test function; the runner goes on with the next test.
 *
 * Because a failing check returns early, a test hands whatever it allocates to DEFER_*() right
 * away; the runner releases the deferred list after every test, passed or failed, so a failure
 * never shows up as a leak in the sanitizer build. */
#ifndef AC_CHECK_H
#define AC_CHECK_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void check_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
			return 1;                                       \
		}                                                       \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                    \
	do {                                                                                  \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);               \
		if (check_a_ != check_b_) {                                                   \
			check_fail(__FILE__, __LINE__, "CHECK_EQ_INT(%s, %s): %lld != %lld", #a, #b, \
				   check_a_, check_b_);                                       \
			return 1;                                                             \
		}                                                                             \
	} while (0)

/* NULL is never equal to anything (also not to NULL). */
#define CHECK_STR(a, b)                                                                        \
	do {                                                                                   \
		const char *check_a_ = (a), *check_b_ = (b);                                   \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {              \
			check_fail(__FILE__, __LINE__, "CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, \
				   check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
			return 1;                                                              \
		}                                                                              \
	} while (0)

/* a contains b as a substring. */
#define CHECK_CONTAINS(a, b)                                                                     \
	do {                                                                                     \
		const char *check_a_ = (a), *check_b_ = (b);                                     \
		if (!check_a_ || !check_b_ || !strstr(check_a_, check_b_)) {                      \
			check_fail(__FILE__, __LINE__, "CHECK_CONTAINS(%s, %s): \"%s\" lacks \"%s\"", #a, #b, \
				   check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");  \
			return 1;                                                                \
		}                                                                                \
	} while (0)

/* Runs a helper that returns 0 or 1 (itself using CHECK) and fails the caller with it. */
#define CHECK_OK(call)                                                      \
	do {                                                                \
		if ((call) != 0) {                                          \
			check_fail(__FILE__, __LINE__, "from %s", #call);   \
			return 1;                                           \
		}                                                           \
	} while (0)

/* Cleanup after the current test, in reverse order; returns ptr (NULL is kept and ignored). */
void *check_defer(void (*fn)(void *), void *ptr);
void check_run_deferred(void);
void check_free_json(void *j); /* cJSON_Delete */

#define DEFER_FREE(p) check_defer(free, (p))
#define DEFER_JSON(j) ((cJSON *)check_defer(check_free_json, (j)))

/* Reads tests/fixtures/NAME under $ACCEL_TOP_DATA (default: the current directory) and parses it;
 * the result is deferred. NULL (with a message) when missing or not JSON. */
cJSON *load_fixture(const char *name);

/* Parses a JSON literal written in a test; deferred. */
cJSON *parse_json(const char *text);

#endif
