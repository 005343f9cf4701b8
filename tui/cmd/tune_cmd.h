/* accel-top tune, inside: its state, shared by tune_cmd.c (the run and its output) and
 * tune_args.c (the options). */
#ifndef AC_TUNE_CMD_H
#define AC_TUNE_CMD_H

#include "../../pool/store.h"
#include "../../pool/tune.h"
#include "../app.h"
#include "../tuner.h"

typedef struct {
	tuner_result r;      /* measured here, or only kind/version/adapter when stored or skipped */
	bool stored;         /* the choice came from the database */
	store_tuning *rows;
	int n_rows;
} btune;

typedef struct {
	app a;
	options o;
	char browsers_arg[128], shapes_arg[256], clips_arg[256];
	bool force;
	double seconds;
	tuner_plan plan;
	tuner *tn;
	btune *bt;
	int n_bt, cur;
	bool started;
	int exit_code;
	char command[1024];
} tune;

/* The defaults (before the options are read); what the options mean together (after). */
void tune_defaults(tune *t);
int tune_check_args(tune *t, ac_err *err);

#endif
