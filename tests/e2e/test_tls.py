#!/usr/bin/python3
"""TLS (issue 13, part 1): accel-top serving https and wss itself, and what a browser under a
non-loopback name gets then: a secure context, WebGPU (SwiftShader here) and wasm threads.

The certificate of the first test is made at test time with Debian's openssl for the name labhost,
with no CA. Chromium maps labhost to 127.0.0.1 itself (--host-resolver-rules), so no traffic
leaves the machine and the page's origin is https://labhost:PORT, a name that is secure only
because of https. The managed Chromium trusts the certificate through the
--ignore-certificate-errors-spki-list flag accel-top adds; managed Firefox through the
cert_override.txt accel-top writes into its profile. The http case (no secure context, the
verdict naming --tls-cert) is tests/e2e/test_remote.py.

Run: tests/e2e/test_tls.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import asyncio
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ACCEL_TOP, AccelTop, check, leftovers, run_tests  # noqa: E402

import websockets  # Debian python3-websockets  # noqa: E402

TOKEN = "tls-test-token"
TMP = tempfile.mkdtemp(prefix="accel-top-tls-")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, data=None):
    p = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=20)
    check(p.returncode == 0, f"openssl {args}: {p.stderr.decode()[-500:]}")
    return p.stdout


def make_cert(name, tag):
    """A self-signed certificate and key for name (no CA), made by Debian's openssl."""
    cert, key = f"{TMP}/{tag}.crt", f"{TMP}/{tag}.key"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", cert, "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}")
    return cert, key


def spki_of(cert):
    """base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's flag takes it."""
    pem = openssl("x509", "-pubkey", "-noout", "-in", cert)
    der = openssl("pkey", "-pubin", "-outform", "der", data=pem)
    return openssl("base64", "-A", data=openssl("dgst", "-sha256", "-binary", data=der)).decode().strip()


def fingerprint_of(cert):
    out = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", cert).decode()
    return out.strip().split("=", 1)[1]


def no_verify():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def wss_try(port, token, origin):
    """True when the upgrade over wss was accepted."""
    try:
        ws = await websockets.connect(f"wss://127.0.0.1:{port}/ws?token={token}", subprotocols=["accel.v1"],
                                      origin=origin, open_timeout=5, ssl=no_verify())
    except (websockets.exceptions.InvalidHandshake, websockets.exceptions.ConnectionClosed, OSError, EOFError):
        return False
    await ws.close()
    return True


def wait_err(at, text, timeout=10):
    """accel-top's stderr once it holds text (the lines after 'serving' may come in a later read)."""
    end = time.time() + timeout
    while text not in at.err.decode() and time.time() < end and at.p.poll() is None:
        at._pump(0.1)
    at._pump(0.1)
    return at.err.decode()


def served_fingerprint(port):
    """The SHA-256 fingerprint of the certificate the listener presents, as openssl prints it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with no_verify().wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    h = __import__("hashlib").sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def test_https_under_a_name_is_a_secure_context():
    cert, key = make_cert("labhost", "labhost")
    port = free_port()
    origin = f"https://labhost:{port}"
    at = AccelTop("-b", "--json", "-d", "0.5", "--listen", "127.0.0.1", "--port", str(port), "--token", TOKEN,
                  "--public-url", f"{origin}/", "--tls-cert", cert, "--tls-key", key, "--browsers", "chromium",
                  "--browser-arg", "chromium=--host-resolver-rules=MAP labhost 127.0.0.1",
                  "--run", "bert-tiny:int8:wasm:chromium")
    try:
        at.wait_url()
        check(at.url == f"{origin}/?token={TOKEN}", at.url)
        err = wait_err(at, "spki-list=")
        check(f"SHA-256 fingerprint {fingerprint_of(cert)}" in err, err[-1500:])
        check(f"--ignore-certificate-errors-spki-list={spki_of(cert)}" in err, err[-1500:])
        check("warning:" not in err, err[-1500:])
        check(served_fingerprint(port) == fingerprint_of(cert), "the listener serves another certificate")
        s = at.wait_for(lambda s: s["models"] and s["models"][0]["verified"] is not None, 50,
                        "a verified bert-tiny run over https")
        (b,) = s["browsers"]
        g, w = b["webgpu"], b["wasm"]
        check(b["state"] == "connected" and b["secure_context"] is True and b["cross_origin_isolated"] is True, b)
        check(g["status"] == "software" and g["adapter"] is True and g["architecture"] == "swiftshader", g)
        check(w["threads"] is True and "threads=true" in w["evidence"], w)
        m = s["models"][0]
        check(m["verified"] is True and m["errors"] == 0 and m["completed"] >= 1, m)
        check(s["bridge"]["url"] == f"{origin}/", s["bridge"])
        # the token is still required, and the Origin check knows the https origin
        check(not asyncio.run(wss_try(port, "wrong-token-value", origin)), "wrong token accepted over wss")
        check(asyncio.run(wss_try(port, TOKEN, origin)), f"{origin} refused over wss")
        check(not asyncio.run(wss_try(port, TOKEN, "https://evil.example")), "a foreign origin accepted")
        check(not asyncio.run(wss_try(port, TOKEN, f"http://labhost:{port}")), "an http origin accepted on https")
        at.stop()
    finally:
        at.kill()
    check(not leftovers(at), leftovers(at))


def test_self_signed_is_made_then_reused_and_firefox_trusts_it():
    state = f"{TMP}/state"
    env = {"ACCEL_TOP_STATE": state}
    at = AccelTop("-b", "--json", "-d", "0.5", "--port", "0", "--tls", "self-signed", "--browsers", "firefox",
                  env=env)
    try:
        at.wait_url()
        check(at.url.startswith("https://127.0.0.1:"), at.url)
        cert, key = f"{state}/tls/self-signed.crt", f"{state}/tls/self-signed.key"
        check(os.path.exists(cert) and os.path.exists(key), os.listdir(state))
        check(stat.S_IMODE(os.stat(key).st_mode) == 0o600, oct(os.stat(key).st_mode))
        err = wait_err(at, "spki-list=")
        fp = fingerprint_of(cert)
        check(f"(self-signed, made now;" in err and f"SHA-256 fingerprint {fp}" in err, err[-1500:])
        check(f"--ignore-certificate-errors-spki-list={spki_of(cert)}" in err, err[-1500:])
        names = openssl("x509", "-noout", "-ext", "subjectAltName", "-in", cert).decode()
        for n in ("DNS:localhost", "IP Address:127.0.0.1", f"DNS:{socket.gethostname()}"):
            check(n in names, names)
        # a managed Firefox accepts it (its cert_override.txt), or it would sit on an error page
        s = at.wait_for(lambda s: any(b["state"] == "connected" for b in s["browsers"]), 40, "Firefox over https")
        (b,) = s["browsers"]
        check(b["kind"] == "firefox" and b["secure_context"] is True and b["cross_origin_isolated"] is True, b)
        at.stop()
    finally:
        at.kill()
    check(not leftovers(at), leftovers(at))
    again = AccelTop("-b", "-n", "1", "--no-launch", "--port", "0", "--tls", "self-signed", env=env)
    try:
        again.wait_url()
        check(again.finish() == 0, again.err.decode()[-800:])
    finally:
        again.kill()
    err = again.err.decode()
    check("(self-signed, reused;" in err and f"SHA-256 fingerprint {fp}" in err, err[-1500:])


def test_firefox_under_a_name_with_the_override_is_a_secure_context():
    """A Firefox we start ourselves, as an operator's would be after accepting the certificate once:
    labhost resolves to 127.0.0.1 (network.dns.localDomains) and its profile holds the override
    line accel-top writes for managed Firefoxes."""
    cert, key = make_cert("labhost", "ff")
    port = free_port()
    origin = f"https://labhost:{port}"
    prof = tempfile.mkdtemp(prefix="accel-top-tls-ff-")
    with open(f"{prof}/user.js", "w") as f:
        f.write('user_pref("dom.webgpu.enabled", true);\nuser_pref("gfx.webgpu.ignore-blocklist", true);\n'
                'user_pref("network.dns.localDomains", "labhost");\n'
                'user_pref("browser.shell.checkDefaultBrowser", false);\n')
    with open(f"{prof}/cert_override.txt", "w") as f:
        f.write(f"labhost:{port}:\tOID.2.16.840.1.101.3.4.2.1\t{fingerprint_of(cert)}\t\n")
    at = AccelTop("-b", "--json", "-d", "0.5", "--no-launch", "--port", str(port), "--token", TOKEN,
                  "--public-url", f"{origin}/", "--tls-cert", cert, "--tls-key", key)
    ff = None
    try:
        at.wait_url()
        ff = subprocess.Popen(["firefox-esr", "--headless", "--no-remote", "--profile", prof, at.url],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        s = at.wait_for(lambda s: any(b["state"] == "connected" and b["webgpu"]["status"] for b in s["browsers"]),
                        40, "Firefox under labhost over https")
        (b,) = s["browsers"]
        check(b["kind"] == "firefox" and b["secure_context"] is True and b["cross_origin_isolated"] is True, b)
        check(b["webgpu"]["status"] == "software" and b["webgpu"]["adapter"] is True, b["webgpu"])
        check(b["wasm"]["threads"] is True, b["wasm"])
        at.stop()
    finally:
        if ff and ff.poll() is None:
            os.killpg(ff.pid, 9)
            ff.wait()
        at.kill()
        shutil.rmtree(prof, ignore_errors=True)


def one_line_error(args, want, code=1):
    p = subprocess.run([ACCEL_TOP, "-b", "-n", "1", "--no-launch", "--port", "0", *args], capture_output=True,
                       text=True, timeout=20, stdin=subprocess.DEVNULL)
    check(p.returncode == code and want in p.stderr and p.stderr.count("\n") == 1 and "serving" not in p.stderr,
          f"{args}: {p.returncode} {p.stderr!r}")


def test_bad_certificate_files_are_one_line():
    cert, key = make_cert("labhost", "bad-a")
    _, other_key = make_cert("labhost", "bad-b")
    junk = f"{TMP}/junk.pem"
    with open(junk, "w") as f:
        f.write("not a certificate\n")
    one_line_error(["--tls-cert", f"{TMP}/missing.crt", "--tls-key", key],
                   f"--tls-cert {TMP}/missing.crt: cannot read it (No such file or directory)")
    one_line_error(["--tls-cert", junk, "--tls-key", key], f"--tls-cert {junk}: no PEM certificate in it")
    one_line_error(["--tls-cert", cert, "--tls-key", junk], f"--tls-key {junk}: no unencrypted PEM private key")
    one_line_error(["--tls-cert", cert, "--tls-key", other_key],
                   f"--tls-key {other_key} is not the key of the certificate --tls-cert {cert}")
    one_line_error(["--tls-cert", cert], "--tls-cert needs --tls-key FILE too", code=2)
    one_line_error(["--tls", "acme"], "--tls: 'acme' is not known", code=2)


def test_http_on_a_non_loopback_address_warns_everywhere():
    at = AccelTop("-b", "-n", "1", "--no-launch", "--listen", "0.0.0.0", "--port", "0")
    try:
        at.wait_url()
        check(at.finish() == 0, at.err.decode()[-800:])
    finally:
        at.kill()
    want = ("warning: http on 0.0.0.0 (not a loopback address): browsers on other machines will not be a secure "
            "context (no WebGPU, no threaded wasm, no crossOriginIsolated); use --tls self-signed")
    check(want in at.err.decode(), at.err.decode()[-1500:])
    # doctor says it too (browsers hidden from PATH: only the checks before them matter here)
    bare = f"{TMP}/bin"
    os.makedirs(bare, exist_ok=True)
    p = subprocess.run([ACCEL_TOP, "doctor", "--browser", "chromium", "--listen", "0.0.0.0", "--timeout", "10"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env={**os.environ, "PATH": bare})
    line = next((x for x in p.stdout.splitlines() if re.match(r"^\S+ +tls ", x)), "")
    check(line.startswith("WARN") and "will not be a secure context" in line, p.stdout[-2000:])
    check("fix: start accel-top with --tls self-signed" in p.stdout, p.stdout[-2000:])


def main(argv):
    return run_tests("tls", globals(), argv, cleanup=lambda: shutil.rmtree(TMP, ignore_errors=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
