/* accel-top report: prints results stored by bench, as Markdown, JSON or CSV. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/store.h"
#include "commands.h"

int cmd_report(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "db", required_argument, 0, 'D' }, { "format", required_argument, 0, 'f' },
		{ "run", required_argument, 0, 'r' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *db = "accel-top.db";
	report_format fmt = REPORT_MD;
	int64_t run = 0;
	int c;
	char *end;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		switch (c) {
		case 'D': db = optarg; break;
		case 'f':
			if (!strcmp(optarg, "md") || !strcmp(optarg, "markdown")) fmt = REPORT_MD;
			else if (!strcmp(optarg, "json")) fmt = REPORT_JSON;
			else if (!strcmp(optarg, "csv")) fmt = REPORT_CSV;
			else {
				fprintf(stderr, "accel-top report: --format: '%s' is not md, json or csv\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (!strcmp(optarg, "all")) {
				run = -1;
				break;
			}
			run = strtoll(optarg, &end, 10);
			if (*end || run < 1) {
				fprintf(stderr, "accel-top report: --run: '%s' is not a run id (a number) or 'all'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			puts("Usage: accel-top report [--db PATH] [--format md|json|csv] [--run ID|all]\n"
			     "Prints results stored by accel-top bench (default: ./accel-top.db, the latest run, md).");
			return 0;
		case ':':
			fprintf(stderr, "accel-top report: option %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "accel-top report: unknown option '%s' (see accel-top report --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "accel-top report: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
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
