/* TLS for the bridge: checking a certificate and its key before anything starts, making and
 * reusing a self-signed one (--tls self-signed), the figures an operator needs to trust it (its
 * SHA-256 fingerprint, the SPKI hash Chromium's --ignore-certificate-errors-spki-list takes), and
 * the rule that tells when browsers elsewhere will not get a secure context.
 *
 * libwebsockets serves the TLS itself (Debian's is built with OpenSSL); this file uses OpenSSL's
 * libcrypto directly, which lws links anyway: no child process, no parsing of openssl's output,
 * and the same library reads the files that lws will load. */
#ifndef AC_TLS_H
#define AC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../pool/ac.h"

#define TLS_MAX_NAMES 12

typedef struct {
	char cert[4096], key[4096]; /* the PEM files lws loads */
	char sha256[100];           /* the certificate's SHA-256 fingerprint, "AB:CD:..." (browsers show it so) */
	char spki[48];              /* base64 SHA-256 of the SubjectPublicKeyInfo (Chromium's spki-list) */
	char names[600];            /* the subjectAltNames, "DNS:host, IP:127.0.0.1, ..." */
	int64_t not_after;          /* seconds since the epoch */
	bool self_signed;           /* made by tls_self_signed() */
	bool reused;                /* self_signed: an existing one was still good */
} tls_info;

/* Reads and checks --tls-cert and --tls-key: readable PEM, the key is the certificate's, the
 * certificate is valid now. 0 with *out filled, or a negative code with a one-line message naming
 * the file and the fix. */
int tls_load(const char *cert, const char *key, tls_info *out, ac_err *err);

/* The self-signed certificate under dir (self-signed.crt, self-signed.key, made with mode 0700 /
 * 0600): reused when it is valid for more than a day and covers every name in names (host names
 * and IP addresses), else made anew (EC P-256, one year). */
int tls_self_signed(const char *dir, const char *const *names, int n, tls_info *out, ac_err *err);

/* Where accel-top keeps its state: $ACCEL_TOP_STATE, $XDG_STATE_HOME/accel-top or
 * ~/.local/state/accel-top (not created here). */
int tls_state_dir(char *out, size_t cap, ac_err *err);

/* Whether host is a loopback name or address (localhost, *.localhost, 127.x.x.x, ::1): pages
 * served there are a secure context even over http. */
bool tls_loopback_host(const char *host);

/* The host of an http(s) URL, without brackets or port ("" when there is none). */
void tls_url_host(const char *url, char *out, size_t cap);
/* Its port: the one written, else 443 for https and 80 for http. */
int tls_url_port(const char *url);

/* When browsers elsewhere will not be a secure context: no TLS, and the page URL is http under a
 * name that is not loopback (--public-url http://..., or --listen on a non-loopback address
 * without --public-url). Then true, with the warning and the fix in why. */
bool tls_insecure_remote(const char *listen, const char *public_url, bool tls, char *why, size_t cap);

/* The line for a Firefox profile's cert_override.txt that makes it accept this certificate at
 * host:port (Firefox has no command-line flag for it). */
void tls_firefox_override(const tls_info *t, const char *host, int port, char *out, size_t cap);

#endif
