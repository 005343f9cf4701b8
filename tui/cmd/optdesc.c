#include "optdesc.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../bridge/origins.h"
#include "../../pool/family.h"

#define OPT_MAX 96 /* options of one command: accel-top itself has 56 */

int opt_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
		return AC_EINVAL;
	*out = v;
	return 0;
}

int opt_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return AC_EINVAL;
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------- the loop */

static const opt_desc *find(const opt_desc *const *const *lists, int id)
{
	for (int l = 0; lists[l]; l++)
		for (int i = 0; lists[l][i]; i++)
			if (lists[l][i]->id == id)
				return lists[l][i];
	return NULL;
}

/* What getopt_long could not match: a short option (maybe inside a cluster like -xb or -bx) or a
 * long one. glibc has not advanced optind past a cluster when it reports a letter in it. */
static int unknown(const opt_ctx *c, int argc, char **argv, ac_err *err)
{
	if (optopt > 0 && optopt < 256 && strncmp(argv[optind - 1], "--", 2) != 0) {
		const char *arg = optind < argc && argv[optind][0] == '-' && strchr(argv[optind], optopt)
			? argv[optind] : argv[optind - 1];
		if (strlen(arg) == 2)
			return ac_errf(err, AC_EINVAL, "unknown option '-%c' (see %s --help)", optopt, c->prog);
		return ac_errf(err, AC_EINVAL, "unknown option '-%c' in '%s' (see %s --help)", optopt, arg, c->prog);
	}
	return ac_errf(err, AC_EINVAL, "unknown option '%s' (see %s --help)", argv[optind - 1], c->prog);
}

int opt_parse(const opt_desc *const *const *lists, opt_ctx *c, int argc, char **argv, ac_err *err)
{
	struct option longs[OPT_MAX + 1];
	char shorts[2 * OPT_MAX + 2] = ":";
	int n = 0, ns = 1;
	for (int l = 0; lists[l]; l++)
		for (int i = 0; lists[l][i] && n < OPT_MAX; i++, n++) {
			const opt_desc *d = lists[l][i];
			longs[n] = (struct option){ d->name, d->arg ? required_argument : no_argument, 0, d->id };
			if (d->id > 0 && d->id < 256) {
				shorts[ns++] = (char)d->id;
				if (d->arg)
					shorts[ns++] = ':';
			}
		}
	longs[n] = (struct option){ 0, 0, 0, 0 };
	shorts[ns] = '\0';
	optind = 0; /* 0, not 1: glibc then also forgets where it was inside "-xyz" */
	opterr = 0;
	int id;
	while ((id = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const opt_desc *d = id == ':' || id == '?' ? NULL : find(lists, id);
		if (id == ':')
			return ac_errf(err, AC_EINVAL, "option %s needs a value (see %s --help)", argv[optind - 1], c->prog);
		if (!d)
			return unknown(c, argc, argv, err);
		int rc = d->parse(c, d, d->arg ? optarg : NULL, err);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return ac_errf(err, AC_EINVAL, "unexpected argument '%s' (see %s --help)", argv[optind], c->prog);
	return 0;
}

/* ---------------------------------------------------------------- shared descriptors */

int opt_set_flag(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)arg, (void)err;
	*(bool *)((char *)c->o + d->field) = true;
	return 0;
}

int opt_set_string(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)err;
	*(const char **)((char *)c->o + d->field) = arg;
	return 0;
}

static int p_help(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d, (void)arg, (void)err;
	c->o->help = true;
	return 0;
}

static int p_port(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	return options_parse_port(arg, &c->o->port, err);
}

static int p_token(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	size_t n = strlen(arg);
	if (n < 8 || n > 128 || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != n)
		return ac_errf(err, AC_EINVAL, "--token: use 8 to 128 letters, digits, '-' or '_'");
	c->o->token = arg;
	return 0;
}

static int p_public_url(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	char o[ORIGIN_MAX];
	if (origin_of_url(arg, o, sizeof o, err))
		return AC_EINVAL;
	c->o->public_url = arg;
	return 0;
}

static int p_allow_origin(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	char o[ORIGIN_MAX];
	if (origin_parse(arg, o, sizeof o, err))
		return AC_EINVAL;
	if (c->o->n_allow_origins == 8)
		return ac_errf(err, AC_EINVAL, "--allow-origin: at most 8 (or put accel-top behind one --public-url)");
	c->o->allow_origins[c->o->n_allow_origins++] = arg;
	return 0;
}

static int p_tls(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	if (strcmp(arg, "self-signed") != 0)
		return ac_errf(err, AC_EINVAL, "--tls: '%s' is not known: --tls self-signed makes a certificate; for your "
			       "own use --tls-cert FILE --tls-key FILE", arg);
	c->o->tls_self_signed = true;
	return 0;
}

int opt_check_tls(const options *o, ac_err *err)
{
	if (!o->tls_cert != !o->tls_key)
		return ac_errf(err, AC_EINVAL, "%s needs %s too (the certificate and its private key, PEM files)",
			       o->tls_cert ? "--tls-cert" : "--tls-key", o->tls_cert ? "--tls-key FILE" : "--tls-cert FILE");
	if (o->tls_cert && o->tls_self_signed)
		return ac_errf(err, AC_EINVAL, "--tls self-signed and --tls-cert contradict each other: use one");
	if ((o->tls_cert || o->tls_self_signed) && o->public_url && strncmp(o->public_url, "https://", 8) != 0)
		return ac_errf(err, AC_EINVAL, "--public-url '%s' is http, but with TLS accel-top serves https: write "
			       "https://", o->public_url);
	return 0;
}

/* A --browser list: every entry a known family or "all", at least one entry. */
int opt_check_browser_list(const char *list, ac_err *err)
{
	char buf[256];
	ac_strlcpy(buf, list, sizeof buf);
	int n = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++)
		if (strcmp(t, "all") && !family_find(t))
			return ac_errf(err, AC_EINVAL, "--browser: unknown browser '%s' (%s, all)", t, family_known());
	if (!n)
		return ac_errf(err, AC_EINVAL, "--browser: name at least one browser (%s, all)", family_known());
	return 0;
}

static int p_browser(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	if (opt_check_browser_list(arg, err))
		return AC_EINVAL;
	c->o->browser = arg;
	return 0;
}

static int p_timeout(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	if (opt_parse_double(arg, 1, 86400, &c->o->timeout_s))
		return ac_errf(err, AC_EINVAL, "--timeout: '%s' is not a number of seconds from 1 to 86400", arg);
	return 0;
}

static int p_models(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	if (c->o->n_model_dirs == 6)
		return ac_errf(err, AC_EINVAL, "--models: at most 6 directories");
	c->o->model_dirs[c->o->n_model_dirs++] = arg;
	return 0;
}

static int p_seed(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	long l;
	if (opt_parse_long(arg, 0, 2147483647L, &l))
		return ac_errf(err, AC_EINVAL, "--seed: '%s' is not a number from 0 to 2147483647", arg);
	c->o->seed = (unsigned long long)l;
	return 0;
}

static int p_record(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	if (!arg[0])
		return ac_errf(err, AC_EINVAL, "--record: name the file to write");
	c->o->record = arg;
	return 0;
}

static int p_browser_arg(opt_ctx *c, const opt_desc *d, const char *arg, ac_err *err)
{
	(void)d;
	options *o = c->o;
	const char *eq = strchr(arg, '=');
	char kind[32] = "";
	if (eq && (size_t)(eq - arg) < sizeof kind)
		memcpy(kind, arg, (size_t)(eq - arg));
	const browser_family *f = kind[0] ? family_find(kind) : NULL;
	if (!f || !eq[1] || eq[1] != '-')
		return ac_errf(err, AC_EINVAL, "--browser-arg '%s': give KIND=FLAG, e.g. chromium=--use-angle=vulkan "
			       "(KIND: %s; the flag starts with -)", arg, family_known());
	if (o->n_browser_args == 16)
		return ac_errf(err, AC_EINVAL, "--browser-arg: at most 16");
	o->browser_args[o->n_browser_args].family = f->name;
	o->browser_args[o->n_browser_args++].arg = eq + 1;
	return 0;
}

/* Ids from 1000: above the commands' own (256 up in options.c, 300 up in the subcommands). */
const opt_desc opt_help = { "help", 'h', NULL, p_help, 0 };
const opt_desc opt_port = { "port", 1000, "N", p_port, 0 };
const opt_desc opt_listen = OPT_STRING("listen", 1001, "ADDR", listen);
const opt_desc opt_token = { "token", 1002, "TOKEN", p_token, 0 };
const opt_desc opt_browser = { "browser", 1003, "KIND|all[,...]", p_browser, 0 };
const opt_desc opt_timeout = { "timeout", 1004, "SECS", p_timeout, 0 };
const opt_desc opt_db = OPT_STRING("db", 1005, "PATH", db);
const opt_desc opt_json = OPT_FLAG("json", 1006, json);
const opt_desc opt_json_file = OPT_STRING("json", 1007, "FILE", json_path);
const opt_desc opt_visible = OPT_FLAG("visible", 1008, visible);
const opt_desc opt_models = { "models", 1009, "DIR", p_models, 0 };
const opt_desc opt_seed = { "seed", 1010, "N", p_seed, 0 };
const opt_desc opt_audio = OPT_STRING("audio", 1011, "SRC", audio);
const opt_desc opt_text = OPT_STRING("text", 1040, "TEXT", text);
const opt_desc opt_image = OPT_STRING("image", 1041, "FILE", image);
const opt_desc opt_allow_fallback = OPT_FLAG("allow-fallback", 1012, allow_fallback);
const opt_desc opt_record = { "record", 1013, "FILE", p_record, 0 };
const opt_desc opt_optimize_audio = OPT_FLAG("optimize-audio", 1014, optimize_audio);
const opt_desc opt_browser_arg = { "browser-arg", 1015, "KIND=FLAG", p_browser_arg, 0 };
const opt_desc opt_public_url = { "public-url", 1016, "URL", p_public_url, 0 };
const opt_desc opt_allow_origin = { "allow-origin", 1017, "ORIGIN", p_allow_origin, 0 };
const opt_desc opt_tls_cert = OPT_STRING("tls-cert", 1018, "FILE", tls_cert);
const opt_desc opt_tls_key = OPT_STRING("tls-key", 1019, "FILE", tls_key);
const opt_desc opt_tls = { "tls", 1020, "self-signed", p_tls, 0 };
