/* The subcommands, as one table: `accel-top NAME ...` runs the entry named NAME (main.c looks it
 * up); without one, accel-top is the monitor. Each entry names its options (a NULL-terminated list
 * of descriptors, cmd/optdesc.h: the shared ones plus its own), its usage text, and its run. */
#ifndef AC_COMMANDS_H
#define AC_COMMANDS_H

#include <stdio.h>

#include "optdesc.h"

typedef struct command command;
struct command {
	const char *name;                /* argv[1] */
	const char *summary;             /* one line, as in accel-top(1) */
	const opt_desc *const *options;  /* what it accepts */
	void (*usage)(FILE *f);          /* its --help */
	/* argv[0] is the name; returns the exit code */
	int (*run)(const command *self, int argc, char **argv);
};

/* The entry named name, or NULL. */
const command *command_find(const char *name);

/* The usual start of a run: options_defaults() must have filled o (and the command its own
 * defaults). Parses argv with self->options into o and own (the own parser's opt_ctx.cmd).
 * Returns -1 to go on; else the exit code: 2 after printing "accel-top NAME: why" for a usage
 * error, 0 after printing the usage for --help. */
int command_options(const command *self, options *o, void *own, int argc, char **argv);

/* --browser KIND|all[,...] (o->browser, or a list derived from it) as the browsers to launch, one
 * of each kind: those named (one not installed is an error saying how to install it), or for
 * "all" every installed kind. Sets o->launch and o->browsers_given. */
int command_launch_kinds(options *o, const char *list, ac_err *err);

/* ---- each command's entry points (tui/cmd/NAME_cmd.c) ---- */
extern const opt_desc *const bench_options[], *const tune_options[], *const report_options[],
	*const serve_options[], *const doctor_options[], *const models_options[];
void bench_usage(FILE *f), tune_usage(FILE *f), report_usage(FILE *f), serve_usage(FILE *f), doctor_usage(FILE *f),
	models_usage(FILE *f);
int bench_run(const command *self, int argc, char **argv);
int tune_run(const command *self, int argc, char **argv);
int report_run(const command *self, int argc, char **argv);
int serve_run(const command *self, int argc, char **argv);
int doctor_run(const command *self, int argc, char **argv);
int models_run(const command *self, int argc, char **argv);

#endif
