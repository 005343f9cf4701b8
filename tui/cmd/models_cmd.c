/* accel-top models --inspect DIR: the manifest accel-top uses for a model folder, as accel.json
 * text. For a folder without a complete accel.json it is the one inferred from the model
 * (pool/infer.h), so a user can save it, edit it and drop it in. No browser is needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool/catalog.h"
#include "commands.h"

typedef struct {
	const char *dirs[8];
	int n;
} models_args;

enum { M_INSPECT = 320 };

static int own_opt(opt_ctx *ctx, const opt_desc *d, const char *arg, ac_err *err)
{
	models_args *a = ctx->cmd;
	(void)d;
	if (a->n == 8)
		return ac_errf(err, AC_EINVAL, "--inspect: at most 8 folders");
	a->dirs[a->n++] = arg;
	return 0;
}

static const opt_desc m_inspect = { "inspect", M_INSPECT, "DIR", own_opt, 0 };

const opt_desc *const models_options[] = { &m_inspect, &opt_help, NULL };

void models_usage(FILE *f)
{
	fputs("Usage: accel-top models --inspect DIR [--inspect DIR ...]\n"
	      "Prints the manifest of each model folder as accel.json text: the folder's accel.json when it is\n"
	      "complete, else the one inferred from its ONNX file(s), config.json and preprocessor_config.json\n"
	      "(with an accel.json without \"inputs\" applied over it). Save it as DIR/accel.json to edit it.\n", f);
}

int models_run(const command *self, int argc, char **argv)
{
	options o;
	models_args a = { .n = 0 };
	options_defaults(&o);
	int code = command_options(self, &o, &a, argc, argv);
	if (code >= 0)
		return code;
	if (!a.n) {
		fputs("accel-top models: name a model folder with --inspect DIR\n", stderr);
		return 2;
	}
	int rc = 0;
	for (int i = 0; i < a.n; i++) {
		char dir[4096], *json;
		bool inferred;
		ac_err err = { 0 };
		ac_strlcpy(dir, a.dirs[i], sizeof dir);
		size_t n = strlen(dir);
		while (n > 1 && dir[n - 1] == '/')
			dir[--n] = '\0';
		const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
		if (catalog_manifest_text(dir, name, &json, &inferred, &err)) {
			fprintf(stderr, "accel-top models: %s\n", err.msg);
			rc = 1;
			continue;
		}
		/* the manifest must also be one the catalog accepts (a complete accel.json is checked here too) */
		cat_model *m = calloc(1, sizeof *m);
		char path[4200];
		snprintf(path, sizeof path, "%s/accel.json%s", dir, inferred ? " (inferred)" : "");
		if (!m || catalog_parse_manifest(json, path, m, &err)) {
			fprintf(stderr, "accel-top models: %s\n", m ? err.msg : "out of memory");
			rc = 1;
		} else {
			printf("%s\n", json);
		}
		free(m);
		free(json);
	}
	return rc;
}
