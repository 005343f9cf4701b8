/* The key table: one entry per action (keys.c, keys_table[]). An entry carries everything the
 * screen shows about its key: the codes it binds, its handler, whether it exists only in replay,
 * whether --readonly refuses it (such keys act on live browsers, so replay says "not available"
 * for them too), its help line in each mode, its F-key label and its words in the hint line.
 * The help screen, the F-key bar, the hint line and the read-only messages are generated from
 * it, so a new key is one entry plus its handler. */
#ifndef AC_KEYS_H
#define AC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct screen screen;
typedef int (*key_action)(screen *s);

#define KEY_DEF_CODES 6

typedef struct {
	const char *keys; /* the help's key column ("l  F2"), padded to 16 */
	const char *text; /* what it does */
} key_help;

typedef struct key_def {
	int codes[KEY_DEF_CODES]; /* the key codes it binds, 0-terminated; the first names it */
	key_action act;
	bool replay;              /* bound only in replay, over the live key with the same code */
	const char *refuse;       /* non-NULL: it changes something, so --readonly refuses it with
				   * "KEY (refuse)" and replay says it is not available */
	key_help help, rp_help;   /* its line in the live / replay help; NULL keys: none */
	const char *fkey;         /* its label in the F-key bar (the F key is among codes) */
	const char *hint, *rp_hint; /* its words in the live / replay status hint */
} key_def;

/* Runs the key's action (or the read-only refusal); returns reaction flags. */
int keys_run(screen *s, const key_def *k);

/* Line i of the key lines of the help (live or replay), "%-16s%s" of the entries in table order;
 * replay ends with the line naming the live keys it refuses. false past the end. */
bool keys_help_line(bool replay, int i, char *buf, size_t cap);
/* The label of F-key n (1..12) in the bar and whether it changes something; NULL if none. */
const char *keys_fkey_label(int n, bool *changes);
/* The status line's hint: the entries' words joined by two spaces. */
void keys_hint(bool replay, char *buf, size_t cap);
/* "l p P r n x": the keys --readonly refuses, for the help's title. */
void keys_refused(char *buf, size_t cap);

/* Between keys.c and keys_modal.c: y in the confirmation does what was asked; replay's seek to
 * t (clamped), saying "WHAT TIME". Both return reaction flags. */
int keys_confirm(screen *s);
int keys_seek(screen *s, int64_t t, const char *what);

#endif
