/* accel-top doctor: what one run of the demo model on a platform means (its check line). */
#include <stdio.h>
#include <string.h>

#include "doctor.h"

/* webgpu and webnn run fp32 and are compared with fp32 on wasm; wasm runs int8, so that it too is
 * compared with something other than itself (the fp32 wasm reference is its own reference). */
ac_precision doctor_model_precision(int p)
{
	return p == PLAT_WASM ? PREC_INT8 : PREC_FP32;
}

void doctor_judge_model(doctor *d, dbrowser *b, int p, bool timed_out)
{
	int i = b->i_model[p];
	const pool_model *m = pool_model_find(d->a.pool, d->row);
	const pool_session *used = NULL;
	for (size_t k = 0; k < pool_session_count(d->a.pool); k++) {
		const pool_session *s = pool_session_at(d->a.pool, k);
		if (s->model == d->row && !s->reference && (!used || s->completed > used->completed))
			used = s;
	}
	const pool_browser *pb = pool_browser_find(d->a.pool, b->id);
	const char *cls = pb && pb->caps.valid ? class_name(pb->caps.verdict[p].status) : "?";
	const char *prec = prec_name(doctor_model_precision(p));
	if (!m || !used || !m->completed || m->errors) {
		const char *why = timed_out ? "timed out (--timeout)" : m && m->errors ? m->last_error :
				  used && used->state == SS_FAILED ? used->error : m && m->stop_reason[0] ? m->stop_reason : "no result";
		doc_set(&d->l, i, ST_FAIL, "%s %s on %s: %s", DOC_MODEL, prec, plat_name((ac_platform)p), why);
		doc_fix(&d->l, i, "", "", "accel-top bench --browser %s --platform %s --model %s --precision %s --iterations 1 "
		    "shows the run in detail", b->fam->name, plat_name((ac_platform)p), DOC_MODEL, p == PLAT_WASM ? "8" : "32");
		return;
	}
	if (strcmp(used->platform_used, used->platform)) {
		doc_set(&d->l, i, ST_FAIL, "%s %s asked for %s but ran on %s", DOC_MODEL, prec, used->platform, used->platform_used);
		return;
	}
	char ran[200];
	snprintf(ran, sizeof ran, "%s %s ran on %s (%s): compute %.1f ms, %.1f ms from queueing to result, load %.0f ms",
		 DOC_MODEL, prec, used->platform_used, cls, m->compute_ms, m->mean_ms, used->load_ms);
	if (!used->verified || used->verify_err < 0) {
		doc_set(&d->l, i, ST_FAIL, "%s; not verified: %s", ran, used->verified ? used->verify_note : "the fp32 wasm reference did not answer");
		return;
	}
	if (!used->verify_ok) {
		doc_set(&d->l, i, ST_FAIL, "%s; output OUTSIDE tolerance: normalised error %.2g > %.2g (%s)", ran, used->verify_err,
		    used->verify_tol, used->verify_note);
		doc_fix(&d->l, i, "", "", "a wrong result from this platform: report it with the output of accel-top bench "
		    "--browser %s --platform %s --model %s", b->fam->name, plat_name((ac_platform)p), DOC_MODEL);
		return;
	}
	doc_set(&d->l, i, ST_OK, "%s; output verified: normalised error %.2g within %.2g %s", ran, used->verify_err, used->verify_tol,
	    used->verify_note);
}

