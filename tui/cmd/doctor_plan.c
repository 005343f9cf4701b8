/* accel-top doctor: its options, and the checks planned from them (one slot each, in print order). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "doctor.h"

void doctor_usage(FILE *f)
{
	fputs("Usage: accel-top doctor [--browser KIND|all] [--platform webgpu|webnn|wasm|all] [--fix-script FILE] [--json]\n"
	      "Checks what accel-top needs here, one line per check (OK, WARN, FAIL), with the fix for each problem.\n", f);
	char names[96], dflt[64], opt[64];
	family_list(names, sizeof names, "|", FAM_ALL);
	family_list(dflt, sizeof dflt, ", ", FAM_DEFAULT);
	family_list(opt, sizeof opt, ", ", FAM_OPTIONAL);
	fprintf(f, "  --browser %s|all[,...]  (default all: %s, and %s if installed)\n", names, dflt, opt);
	fputs("  --platform webgpu|webnn|wasm|all[,...]            (default all; a platform named is required: unavailable = FAIL)\n"
	      "  --fix-script FILE   write the fixes found as a shell script (read it, then run it as root)\n"
	      "  --json              one JSON object per check, then a summary object\n"
	      "  --timeout SECS      the longest one step may take: connecting, a round trip, a model run (default 120)\n"
	      "  --port N            the bridge's port (default: any free one)\n"
	      "  --listen ADDR, --public-url URL, --tls-cert FILE --tls-key FILE, --tls self-signed\n"
	      "                      as for accel-top: the tls check judges them, the browsers use them\n"
	      "Exit status: 0 when everything asked for works (WARN included), 1 when a check failed, 2 for a usage error.\n", f);
}


enum { D_PLATFORM = 300, D_FIX };

/* doctor's own options, one occurrence of od */
static int own_opt(opt_ctx *ctx, const opt_desc *od, const char *arg, ac_err *err)
{
	doctor *d = ctx->cmd;
	switch (od->id) {
	case D_PLATFORM: d->platforms = arg; break;
	case D_FIX:
		if (!arg[0])
			return ac_errf(err, AC_EINVAL, "--fix-script: name the file to write");
		d->fix_path = arg;
		break;
	}
	return 0;
}

static const opt_desc d_platform = { "platform", D_PLATFORM, "webgpu|webnn|wasm|all[,...]", own_opt, 0 },
	d_fix_script = { "fix-script", D_FIX, "FILE", own_opt, 0 };

const opt_desc *const doctor_options[] = {
	&opt_browser, &d_platform, &d_fix_script, &opt_json, &opt_timeout, &opt_port, &opt_help,
	&opt_listen, &opt_public_url, &opt_tls_cert, &opt_tls_key, &opt_tls, NULL,
};

/* The platforms asked for, once all options are read. */
int doctor_check_args(doctor *d, ac_err *err)
{
	const char *platforms = d->platforms;
	d->l.json = d->o.json;
	if (opt_check_tls(&d->o, err))
		return AC_EINVAL;
	char buf[256];
	ac_strlcpy(buf, platforms, sizeof buf);
	int nt = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), nt++) {
		bool all = !strcmp(t, "all");
		bool known = all;
		for (int p = 0; p < PLAT__COUNT; p++)
			if (all || !strcmp(t, plat_name((ac_platform)p))) {
				d->want[p] = true;
				d->named[p] |= !all;
				known = true;
			}
		if (!known)
			return ac_errf(err, AC_EINVAL, "--platform: unknown platform '%s' (webgpu, webnn, wasm, all)", t);
	}
	if (!nt)
		return ac_errf(err, AC_EINVAL, "--platform: name at least one platform (webgpu, webnn, wasm, all)");
	return 0;
}

/* The browsers to check: those named; for "all", Debian's chromium and firefox-esr (always, so
 * a missing one is reported) and Chrome and Edge where installed. */
void doctor_plan(doctor *d, const char *browsers)
{
	bool all = ac_list_has(browsers, "all");
	for (int i = 0; family_by_launch(i) && d->nb < DOC_MAX_BROWSERS; i++) {
		const browser_family *f = family_by_launch(i);
		bool optional = !f->by_default;
		if (!ac_list_has(browsers, f->name)) {
			char path[4096];
			ac_err miss;
			if (!all || (optional && family_locate(f, path, sizeof path, &miss)))
				continue;
		}
		d->br[d->nb++].fam = f;
	}
	d->i_libs = doc_slot(&d->l, "libraries", "", "");
	for (int k = 0; k < d->nb; k++)
		d->br[k].i_installed = doc_slot(&d->l, "browser", d->br[k].fam->name, "");
	d->i_vulkan = doc_slot(&d->l, "vulkan", "", "");
	d->i_bridge = doc_slot(&d->l, "bridge", "", "");
	d->i_tls = doc_slot(&d->l, "tls", "", "");
	for (int k = 0; k < d->nb; k++) {
		dbrowser *b = &d->br[k];
		b->i_launch = b->i_rtt = -1;
		for (int p = 0; p < PLAT__COUNT; p++)
			b->i_caps[p] = b->i_model[p] = -1;
	}
}

/* Slots for what needs a browser, only for those installed (a missing one has its FAIL line). */
void doctor_plan_browsers(doctor *d)
{
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].installed)
			d->br[k].i_launch = doc_slot(&d->l, "launch", d->br[k].fam->name, "");
	for (int k = 0; k < d->nb; k++)
		if (d->br[k].installed)
			d->br[k].i_rtt = doc_slot(&d->l, "roundtrip", d->br[k].fam->name, "");
	for (int k = 0; k < d->nb; k++)
		for (int p = 0; p < PLAT__COUNT; p++)
			if (d->br[k].installed && d->want[p])
				d->br[k].i_caps[p] = doc_slot(&d->l, "caps", d->br[k].fam->name, plat_name((ac_platform)p));
	for (int k = 0; k < d->nb; k++)
		for (int p = 0; p < PLAT__COUNT; p++)
			if (d->br[k].installed && d->want[p])
				d->br[k].i_model[p] = doc_slot(&d->l, "model", d->br[k].fam->name, plat_name((ac_platform)p));
}

