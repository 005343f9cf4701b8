/* accel-top report: prints results stored by bench, as Markdown, JSON or CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/store.h"
#include "commands.h"

typedef struct {
	report_format fmt;
	int64_t run;         /* 0: the latest, -1: all */
} report;

enum { R_FORMAT = 300, R_RUN };

/* report's own options, one occurrence of d */
static int own_opt(opt_ctx *ctx, const opt_desc *d, const char *arg, ac_err *err)
{
	report *r = ctx->cmd;
	char *end;
	if (d->id == R_FORMAT) {
		if (!strcmp(arg, "md") || !strcmp(arg, "markdown")) r->fmt = REPORT_MD;
		else if (!strcmp(arg, "json")) r->fmt = REPORT_JSON;
		else if (!strcmp(arg, "csv")) r->fmt = REPORT_CSV;
		else return ac_errf(err, AC_EINVAL, "--format: '%s' is not md, json or csv", arg);
	} else if (!strcmp(arg, "all")) {
		r->run = -1;
	} else {
		r->run = strtoll(arg, &end, 10);
		if (*end || r->run < 1)
			return ac_errf(err, AC_EINVAL, "--run: '%s' is not a run id (a number) or 'all'", arg);
	}
	return 0;
}

static const opt_desc r_format = { "format", R_FORMAT, "md|json|csv", own_opt, 0 },
	r_run = { "run", R_RUN, "ID|all", own_opt, 0 };

const opt_desc *const report_options[] = { &opt_db, &r_format, &r_run, &opt_help, NULL };

void report_usage(FILE *f)
{
	fputs("Usage: accel-top report [--db PATH] [--format md|json|csv] [--run ID|all]\n"
	      "Prints results stored by accel-top bench (default: ./accel-top.db, the latest run, md).\n", f);
}

int report_run(const command *self, int argc, char **argv)
{
	options o;
	report r = { .fmt = REPORT_MD, .run = 0 };
	options_defaults(&o);
	int code = command_options(self, &o, &r, argc, argv);
	if (code >= 0)
		return code;
	const char *db = o.db;
	report_format fmt = r.fmt;
	int64_t run = r.run;
	FILE *f = fopen(db, "rb");
	if (!f) {
		fprintf(stderr, "accel-top report: %s does not exist: run accel-top bench --db %s first\n", db, db);
		return 1;
	}
	fclose(f);
	store *st;
	ac_err err;
	if (store_open(db, &st, &err) || store_report(st, run, fmt, stdout, &err)) {
		fprintf(stderr, "accel-top report: %s\n", err.msg);
		return 1;
	}
	store_close(st);
	return 0;
}
