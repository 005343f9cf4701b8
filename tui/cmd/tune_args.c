/* accel-top tune: its options and what they mean together. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tune_cmd.h"

void tune_usage(FILE *f)
{
	fputs("Usage: accel-top tune [OPTIONS]\n"
	      "Times the WebGPU log-mel kernels (audio front end) with each candidate workgroup shape on\n"
	      "every browser, verifies them against the C reference, and stores the fastest per browser + adapter.\n", f);
	char names[96];
	family_list(names, sizeof names, "|", FAM_ALL);
	fprintf(f, "  --browser %s|all[,...]   (default all: every installed kind)\n", names);
	fputs("  --force             measure again even where the database holds a choice\n"
	      "  --shapes LIST       candidates XxYx1[/ITEMS],... (default " TUNE_DEFAULT_CANDIDATES ");\n"
	      "                      the first is the default the gain is measured against\n"
	      "  --clip LIST         speech|silence|sweep|noise|FILE.wav[,...] (default speech,silence,sweep):\n"
	      "                      the first is timed, every one is verified\n"
	      "  --seconds S         clip length (default: the file's, 3 s for generated clips; at most 30)\n"
	      "  --frames N          log-mel frames, 10 ms each (default 3000: the audio model's 30 s input)\n"
	      "  --rounds N (default 3)  --repeat N kernel runs per request (default 3)\n"
	      "  --db PATH (default ./accel-top.db)  --json FILE  --timeout SECS per request (default 120)\n"
	      "  --visible  --port N\n", f);
}

enum { T_FORCE = 300, T_SHAPES, T_CLIP, T_SECONDS, T_FRAMES, T_ROUNDS, T_REPEAT };

/* tune's own options, one occurrence of d */
static int own_opt(opt_ctx *ctx, const opt_desc *d, const char *arg, ac_err *err)
{
	tune *t = ctx->cmd;
	long v;
	switch (d->id) {
	case T_FORCE: t->force = true; break;
	case T_SHAPES: ac_strlcpy(t->shapes_arg, arg, sizeof t->shapes_arg); break;
	case T_CLIP: ac_strlcpy(t->clips_arg, arg, sizeof t->clips_arg); break;
	case T_SECONDS:
		if (opt_parse_double(arg, 0, 30, &t->seconds) || !(t->seconds > 0))
			return ac_errf(err, AC_EINVAL, "--seconds: '%s' is not a length from 0 to 30 seconds", arg);
		break;
	case T_FRAMES: case T_ROUNDS: case T_REPEAT: {
		long hi = d->id == T_FRAMES ? 3000 : 1000;
		if (opt_parse_long(arg, 1, hi, &v))
			return ac_errf(err, AC_EINVAL, "--%s: '%s' is not a count from 1 to %ld", d->name, arg, hi);
		*(d->id == T_FRAMES ? &t->plan.frames : d->id == T_ROUNDS ? &t->plan.rounds : &t->plan.repeat) = (int)v;
		break;
	}
	}
	return 0;
}

static const opt_desc t_force = { "force", T_FORCE, NULL, own_opt, 0 },
	t_shapes = { "shapes", T_SHAPES, "LIST", own_opt, 0 },
	t_clip = { "clip", T_CLIP, "LIST", own_opt, 0 },
	t_seconds = { "seconds", T_SECONDS, "S", own_opt, 0 },
	t_frames = { "frames", T_FRAMES, "N", own_opt, 0 },
	t_rounds = { "rounds", T_ROUNDS, "N", own_opt, 0 },
	t_repeat = { "repeat", T_REPEAT, "N", own_opt, 0 };

const opt_desc *const tune_options[] = {
	&opt_browser, &t_force, &t_shapes, &t_clip, &t_seconds, &t_frames, &t_rounds, &t_repeat, &opt_db,
	&opt_json_file, &opt_timeout, &opt_visible, &opt_port, &opt_help, NULL,
};

void tune_defaults(tune *t)
{
	options_defaults(&t->o);
	t->o.batch = true;
	t->o.port = 0;
	t->o.timeout_s = 120;
	ac_strlcpy(t->shapes_arg, TUNE_DEFAULT_CANDIDATES, sizeof t->shapes_arg);
	ac_strlcpy(t->clips_arg, "speech,silence,sweep", sizeof t->clips_arg);
	t->plan.rounds = 3;
	t->plan.repeat = 3;
	t->plan.frames = 3000;
	t->plan.progress = true;
}

/* What the options mean together, once all are read. */
int tune_check_args(tune *t, ac_err *err)
{
	ac_strlcpy(t->browsers_arg, t->o.browser, sizeof t->browsers_arg);
	t->plan.timeout_s = t->o.timeout_s;
	return tune_parse_shapes(t->shapes_arg, t->plan.shapes, TUNER_MAX_SHAPES, &t->plan.n_shapes, err);
	return 0;
}

/* The clips: loaded, cut to length, with their C reference log-mel and their ATNS frame. */
