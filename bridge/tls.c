/* Certificates for the bridge's TLS (tls.h): checked, made, described. OpenSSL's libcrypto. */
#include "tls.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY_S 86400
#define VALID_DAYS 365

/* The newest OpenSSL error as text ("" when none). */
static const char *ssl_reason(void)
{
	static char buf[160];
	unsigned long e = ERR_peek_last_error();
	buf[0] = '\0';
	if (e) {
		const char *r = ERR_reason_error_string(e);
		snprintf(buf, sizeof buf, "%s", r ? r : "unknown OpenSSL error");
	}
	ERR_clear_error();
	return buf;
}

/* A passphrase callback that gives none: an encrypted key fails instead of prompting on the tty. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void day_text(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%d", &tm);
}

/* The fingerprint, the SPKI hash, the names and the expiry of x into t. */
static void describe(X509 *x, tls_info *t)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	t->sha256[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &n) == 1)
		for (unsigned i = 0; i < n; i++)
			ac_strlcatf(t->sha256, sizeof t->sha256, "%s%02X", i ? ":" : "", md[i]);
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	t->spki[0] = '\0';
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) == 1)
		EVP_EncodeBlock((unsigned char *)t->spki, md, (int)n);
	OPENSSL_free(der);
	t->names[0] = '\0';
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN] = "";
		if (g->type == GEN_DNS)
			ac_strlcatf(t->names, sizeof t->names, "%sDNS:%s", t->names[0] ? ", " : "",
				    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		else if (g->type == GEN_IPADD && (g->d.iPAddress->length == 4 || g->d.iPAddress->length == 16)) {
			inet_ntop(g->d.iPAddress->length == 4 ? AF_INET : AF_INET6, g->d.iPAddress->data, ip, sizeof ip);
			ac_strlcatf(t->names, sizeof t->names, "%sIP:%s", t->names[0] ? ", " : "", ip);
		}
	}
	GENERAL_NAMES_free(gens);
	t->not_after = asn1_epoch(X509_get0_notAfter(x));
}

static int read_cert(const char *path, X509 **out, ac_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ac_errf(err, AC_ENOENT, "--tls-cert %s: cannot read it (%s): give a PEM certificate file, "
			       "or use --tls self-signed", path, strerror(errno));
	*out = PEM_read_X509(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!*out)
		return ac_errf(err, AC_EINVAL, "--tls-cert %s: no PEM certificate in it (%s): give the certificate as "
			       "PEM ('-----BEGIN CERTIFICATE-----'), or use --tls self-signed", path, ssl_reason());
	return 0;
}

static int read_key(const char *path, EVP_PKEY **out, ac_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ac_errf(err, AC_ENOENT, "--tls-key %s: cannot read it (%s): give the certificate's private key "
			       "as a PEM file, or use --tls self-signed", path, strerror(errno));
	*out = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!*out)
		return ac_errf(err, AC_EINVAL, "--tls-key %s: no unencrypted PEM private key in it (%s): give the key "
			       "as PEM, decrypted (openssl pkey -in KEY -out PLAIN.key)", path, ssl_reason());
	return 0;
}

static int load(const char *cert, const char *key, tls_info *t, X509 **xo, ac_err *err)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = read_cert(cert, &x, err);
	if (!rc)
		rc = read_key(key, &k, err);
	if (!rc && X509_check_private_key(x, k) != 1)
		rc = ac_errf(err, AC_EINVAL, "--tls-key %s is not the key of the certificate --tls-cert %s: give the key "
			     "the certificate was made for (their 'openssl pkey -pubout' and 'openssl x509 -pubkey' differ)",
			     key, cert);
	EVP_PKEY_free(k);
	ERR_clear_error();
	if (rc) {
		X509_free(x);
		return rc;
	}
	memset(t, 0, sizeof *t);
	ac_strlcpy(t->cert, cert, sizeof t->cert);
	ac_strlcpy(t->key, key, sizeof t->key);
	describe(x, t);
	*xo = x;
	return 0;
}

int tls_load(const char *cert, const char *key, tls_info *out, ac_err *err)
{
	X509 *x = NULL;
	int rc = load(cert, key, out, &x, err);
	if (rc)
		return rc;
	int64_t now = (int64_t)time(NULL), nb = asn1_epoch(X509_get0_notBefore(x));
	char day[16];
	if (out->not_after <= now) {
		day_text(out->not_after, day, sizeof day);
		rc = ac_errf(err, AC_EINVAL, "--tls-cert %s expired on %s: renew it, or use --tls self-signed", cert, day);
	} else if (nb > now) {
		day_text(nb, day, sizeof day);
		rc = ac_errf(err, AC_EINVAL, "--tls-cert %s is not valid before %s: check this machine's clock, or use "
			     "--tls self-signed", cert, day);
	}
	X509_free(x);
	return rc;
}

/* ---------------------------------------------------------------- self-signed */

static bool is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool covers(X509 *x, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		if (!names[i][0])
			continue;
		int ok = is_ip(names[i]) ? X509_check_ip_asc(x, names[i], 0)
					 : X509_check_host(x, names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL);
		if (ok != 1)
			return false;
	}
	return true;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A new certificate for names, signed by its own new key. */
static int make_cert(const char *const *names, int n, X509 **xo, EVP_PKEY **ko)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	char san[1024] = "", cn[128] = "accel-top";
	for (int i = 0; i < n; i++)
		if (names[i][0] && !strstr(san, names[i]))
			ac_strlcatf(san, sizeof san, "%s%s:%s", san[0] ? "," : "", is_ip(names[i]) ? "IP" : "DNS", names[i]);
	for (int i = 0; i < n; i++)
		if (names[i][0] && !is_ip(names[i]) && strcmp(names[i], "localhost")) {
			snprintf(cn, sizeof cn, "%.100s", names[i]);
			break;
		}
	X509_NAME *nm = x ? X509_get_subject_name(x) : NULL;
	int ok = k && x && serial && BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) && X509_set_version(x, 2) == 1 &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -3600) && /* a clock a little behind still accepts it */
		 X509_gmtime_adj(X509_getm_notAfter(x), (long)VALID_DAYS * DAY_S) && X509_set_pubkey(x, k) == 1 &&
		 X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"accel-top self-signed", -1, -1, 0) == 1 &&
		 X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
		 X509_set_issuer_name(x, nm) == 1 && add_ext(x, NID_subject_alt_name, san) == 0 &&
		 add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		 add_ext(x, NID_key_usage, "critical,digitalSignature") == 0 &&
		 add_ext(x, NID_ext_key_usage, "serverAuth") == 0 && add_ext(x, NID_subject_key_identifier, "hash") == 0 &&
		 X509_sign(x, k, EVP_sha256()) > 0;
	BN_free(serial);
	if (!ok) {
		X509_free(x);
		EVP_PKEY_free(k);
		return -1;
	}
	*xo = x;
	*ko = k;
	return 0;
}

/* Writes path.tmp (mode) with write_fn, then renames it over path. */
static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *k)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%.4000s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || ok != 1 || rename(tmp, path) != 0) {
		unlink(tmp);
		return AC_EIO;
	}
	return 0;
}

static int mkdirs(const char *dir)
{
	char p[4096];
	ac_strlcpy(p, dir, sizeof p);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	return mkdir(p, 0700) != 0 && errno != EEXIST ? -errno : 0;
}

int tls_self_signed(const char *dir, const char *const *names, int n, tls_info *out, ac_err *err)
{
	char cert[4096], key[4096];
	snprintf(cert, sizeof cert, "%.4000s/self-signed.crt", dir);
	snprintf(key, sizeof key, "%.4000s/self-signed.key", dir);
	X509 *x = NULL;
	ac_err ignored;
	if (access(cert, F_OK) == 0 && load(cert, key, out, &x, &ignored) == 0) {
		bool good = out->not_after > (int64_t)time(NULL) + DAY_S && covers(x, names, n);
		X509_free(x);
		if (good) {
			out->self_signed = out->reused = true;
			return 0;
		}
	}
	int rc = mkdirs(dir);
	if (rc)
		return ac_errf(err, rc, "--tls self-signed: cannot create %s (%s): set ACCEL_TOP_STATE to a folder "
			       "you can write", dir, uv_strerror(rc));
	EVP_PKEY *k = NULL;
	if (make_cert(names, n, &x, &k))
		return ac_errf(err, AC_EIO, "--tls self-signed: OpenSSL could not make the certificate (%s)", ssl_reason());
	rc = write_pem(key, 0600, NULL, k);
	if (!rc)
		rc = write_pem(cert, 0644, x, NULL);
	X509_free(x);
	EVP_PKEY_free(k);
	if (rc)
		return ac_errf(err, rc, "--tls self-signed: cannot write %s or %s: set ACCEL_TOP_STATE to a folder you "
			       "can write", key, cert);
	rc = tls_load(cert, key, out, err);
	out->self_signed = true;
	out->reused = false;
	return rc;
}

int tls_state_dir(char *out, size_t cap, ac_err *err)
{
	const char *s = getenv("ACCEL_TOP_STATE"), *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	if (s && *s)
		snprintf(out, cap, "%s", s);
	else if (x && *x == '/')
		snprintf(out, cap, "%s/accel-top", x);
	else if (h && *h)
		snprintf(out, cap, "%s/.local/state/accel-top", h);
	else
		return ac_errf(err, AC_ENOENT, "no state folder: HOME is not set (set ACCEL_TOP_STATE)");
	return 0;
}

/* ---------------------------------------------------------------- secure contexts */

bool tls_loopback_host(const char *host)
{
	size_t n = strlen(host);
	if (!strcasecmp(host, "localhost") || (n > 10 && !strcasecmp(host + n - 10, ".localhost")))
		return true;
	if (!strcmp(host, "::1") || !strcmp(host, "[::1]"))
		return true;
	struct in_addr a;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

void tls_url_host(const char *url, char *out, size_t cap)
{
	out[0] = '\0';
	const char *p = strstr(url, "://");
	if (!p)
		return;
	p += 3;
	size_t n;
	if (*p == '[') {
		p++;
		n = strcspn(p, "]");
	} else {
		n = strcspn(p, ":/");
	}
	if (n + 1 > cap)
		return;
	memcpy(out, p, n);
	out[n] = '\0';
}

int tls_url_port(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return 0;
	p += 3;
	if (*p == '[')
		p += strcspn(p, "]");
	p += strcspn(p, ":/");
	return *p == ':' ? atoi(p + 1) : strncmp(url, "https:", 6) == 0 ? 443 : 80;
}

bool tls_insecure_remote(const char *listen, const char *public_url, bool tls, char *why, size_t cap)
{
	char host[256];
	if (tls)
		return false;
	if (public_url) {
		if (strncmp(public_url, "http://", 7) != 0) /* https: a TLS proxy in front */
			return false;
		tls_url_host(public_url, host, sizeof host);
	} else {
		ac_strlcpy(host, listen ? listen : "127.0.0.1", sizeof host);
	}
	if (tls_loopback_host(host))
		return false;
	snprintf(why, cap, "http on %s (not a loopback address): browsers on other machines will not be a secure "
		 "context (no WebGPU, no threaded wasm, no crossOriginIsolated); use --tls self-signed or "
		 "--tls-cert FILE --tls-key FILE", host);
	return true;
}

void tls_firefox_override(const tls_info *t, const char *host, int port, char *out, size_t cap)
{
	bool v6 = strchr(host, ':') != NULL;
	/* nsCertOverrideService: host:port:originAttributes, the hash's OID, the fingerprint */
	snprintf(out, cap, "%s%s%s:%d:\tOID.2.16.840.1.101.3.4.2.1\t%s\t\n", v6 ? "[" : "", host, v6 ? "]" : "", port,
		 t->sha256);
}
