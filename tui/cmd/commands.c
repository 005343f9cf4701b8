/* The table of subcommands. To add one: write tui/cmd/NAME_cmd.c with NAME_options[] (shared
 * descriptors from optdesc.h plus its own), NAME_usage() and NAME_run(), declare them in
 * commands.h, add its line below and the file to MAIN_SRC in the Makefile. */
#include "commands.h"

#include <string.h>

#include "../../pool/family.h"

static const command table[] = {
	{ "bench", "run models in real browsers, measure, verify and store the results", bench_options, bench_usage,
	  bench_run },
	{ "report", "print the results bench stored, as Markdown, JSON or CSV", report_options, report_usage, report_run },
	{ "serve", "the parallel API: JSON requests on standard input, answers on standard output", serve_options,
	  serve_usage, serve_run },
	{ "doctor", "check what accel-top needs on this machine, with the fix for each problem", doctor_options,
	  doctor_usage, doctor_run },
	{ "tune", "time the WebGPU log-mel kernels per browser and adapter, and store the fastest", tune_options,
	  tune_usage, tune_run },
	{ "models", "print the manifest of a model folder, inferred from the model when it has no accel.json",
	  models_options, models_usage, models_run },
};

const command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

int command_options(const command *self, options *o, void *own, int argc, char **argv)
{
	char prog[64];
	ac_err err = { 0 };
	snprintf(prog, sizeof prog, "accel-top %s", self->name);
	const opt_desc *const *lists[] = { self->options, NULL };
	opt_ctx c = { .prog = prog, .o = o, .cmd = own };
	if (opt_parse(lists, &c, argc, argv, &err)) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return 2;
	}
	if (o->help) {
		self->usage(stdout);
		return 0;
	}
	return -1;
}

int command_launch_kinds(options *o, const char *list, ac_err *err)
{
	bool all = !strcmp(list, "all");
	o->n_launch = 0;
	for (int i = 0; family_by_launch(i) && o->n_launch < OPT_MAX_LAUNCH; i++) {
		char path[4096];
		ac_err miss = { 0 };
		if (!all && !ac_list_has(list, family_by_launch(i)->name))
			continue;
		if (family_locate(family_by_launch(i), path, sizeof path, &miss)) {
			if (all)
				continue;
			*err = miss;
			return AC_ENOENT;
		}
		o->launch[o->n_launch++] = (launch_req){ .family = family_by_launch(i)->name, .count = 1 };
	}
	if (!o->n_launch)
		return ac_errf(err, AC_ENOENT, "no supported browser is installed: apt-get install chromium firefox-esr");
	o->browsers_given = true;
	return 0;
}
