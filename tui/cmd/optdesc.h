/* Option descriptors: one getopt loop for accel-top and every subcommand.
 *
 * A command's options are a NULL-terminated list of descriptors. An option that more than one
 * command takes (--port, --browser, --timeout, --db, --json, --visible, --help, ...) is one shared
 * descriptor (opt_port, opt_browser, ...), so it is spelled, parsed and refused with the same
 * words everywhere; a command's own options are descriptors it defines next to its code, usually
 * all pointing at one parser that switches on the id. opt_parse() is the loop and owns the
 * messages for what no descriptor decides: a missing value, an unknown option, a stray argument.
 * Pure functions of argv (no I/O), so they are unit-tested.
 *
 * A new shared option: its field in options (options.h) and default in options_defaults(); its
 * descriptor in optdesc.c (OPT_FLAG or OPT_STRING when it only sets the field, else a parser that
 * refuses a bad value as "--NAME: 'VALUE' is not ..."), declared below; then &opt_NAME in the list
 * of every command that takes it (options_main in options.c, NAME_options[] in tui/cmd/) and a
 * line in that command's usage text. Usage texts stay hand-written: each command lays its help
 * out its own way, and accel-top(1) documents the same words. */
#ifndef AC_OPTDESC_H
#define AC_OPTDESC_H

#include <stddef.h>

#include "../options.h"

typedef struct opt_ctx opt_ctx;
typedef struct opt_desc opt_desc;

/* Parses one occurrence of the option d (arg: its value, NULL for a flag). Returns 0, or a
 * negative code with err->msg naming the option and what it accepts. */
typedef int (*opt_fn)(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err);

struct opt_desc {
	const char *name;   /* long name, without "--" */
	int id;             /* the short option's letter ('b'), or a number from 256 up (shared: 1000 up) */
	const char *arg;    /* the value's name in help and man ("N", "SECS"); NULL: a flag */
	opt_fn parse;
	size_t field;       /* opt_set_flag, opt_set_string: offsetof(options, FIELD) */
};

struct opt_ctx {
	const char *prog;   /* "accel-top" or "accel-top bench": named in opt_parse's messages */
	options *o;         /* shared options land here */
	void *cmd;          /* the command's own state, for its own parser */
};

#define OPT_MAX_LISTS 4

/* Parses argv[1..] (argv[0] is the program or the subcommand's name) with the options of every
 * list in lists (NULL-terminated; each list NULL-terminated). Stops at the first error. */
int opt_parse(const opt_desc *const *const *lists, opt_ctx *c, int argc, char **argv, ac_err *err);

/* The shared descriptors. Each writes into the options (field named in the comment). */
extern const opt_desc opt_help;           /* -h, --help: o->help (the command prints its usage) */
extern const opt_desc opt_port;           /* --port N: o->port, 0 to 65535 */
extern const opt_desc opt_listen;         /* --listen ADDR: o->listen */
extern const opt_desc opt_token;          /* --token TOKEN: o->token */
extern const opt_desc opt_public_url;     /* --public-url URL: o->public_url (checked as a URL) */
extern const opt_desc opt_allow_origin;   /* --allow-origin ORIGIN: o->allow_origins (repeatable) */
extern const opt_desc opt_tls_cert;       /* --tls-cert FILE: o->tls_cert */
extern const opt_desc opt_tls_key;        /* --tls-key FILE: o->tls_key */
extern const opt_desc opt_tls;            /* --tls self-signed: o->tls_self_signed */
extern const opt_desc opt_browser;        /* --browser KIND|all[,...]: o->browser (bench, tune, doctor) */
extern const opt_desc opt_timeout;        /* --timeout SECS: o->timeout_s, 1 to 86400 */
extern const opt_desc opt_db;             /* --db PATH: o->db */
extern const opt_desc opt_json;           /* --json: o->json (JSON output on stdout) */
extern const opt_desc opt_json_file;      /* --json FILE: o->json_path (bench, tune: results as a file) */
extern const opt_desc opt_visible;        /* --visible: o->visible */
extern const opt_desc opt_models;         /* --models DIR: o->model_dirs */
extern const opt_desc opt_seed;           /* --seed N: o->seed */
extern const opt_desc opt_audio;          /* --audio SRC: o->audio */
extern const opt_desc opt_text;           /* --text TEXT: o->text */
extern const opt_desc opt_image;          /* --image FILE: o->image */
extern const opt_desc opt_allow_fallback; /* --allow-fallback: o->allow_fallback */
extern const opt_desc opt_record;         /* --record FILE: o->record */
extern const opt_desc opt_optimize_audio; /* --optimize-audio: o->optimize_audio */
extern const opt_desc opt_browser_arg;    /* --browser-arg KIND=FLAG: o->browser_args */

/* Parsers for an option that only sets a bool (flag) or keeps its value (string) in the options,
 * at d->field. */
int opt_set_flag(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err);
int opt_set_string(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err);
#define OPT_FLAG(name, id, field) { name, id, NULL, opt_set_flag, offsetof(options, field) }
#define OPT_STRING(name, id, arg, field) { name, id, arg, opt_set_string, offsetof(options, field) }

/* The checks behind the descriptors, for callers that have the text another way. */
int opt_check_browser_list(const char *list, ac_err *err);
/* --tls-cert, --tls-key, --tls and --public-url together (after the whole line): both files or
 * neither, not with --tls self-signed, and no http:// --public-url while serving https. */
int opt_check_tls(const options *o, ac_err *err);
/* A whole decimal number from lo to hi (no blanks, no trailing text); 0 or AC_EINVAL. */
int opt_parse_long(const char *s, long lo, long hi, long *out);
/* A finite number from lo to hi; 0 or AC_EINVAL. */
int opt_parse_double(const char *s, double lo, double hi, double *out);

#endif
