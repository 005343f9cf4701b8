#!/usr/bin/python3
"""GET /metrics for Prometheus (issue 13 section 3), with a real headless Chromium running real
requests, Debian's promtool linting the body and a real Prometheus (Debian's package) scraping it
on a loopback port: with the token as a bearer credential on the bridge port, and without it on
--metrics-listen. Bounded: Prometheus is started, waited for until it has scraped (at most 20 s),
queried and stopped.

Run: tests/e2e/test_metrics.py [NAME...]; ACCEL_TOP names the binary. Ends with 'N passed, N failed'.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Fail, Serve, check, run_tests, stop_server  # noqa: E402

TOKEN = "metrics-test-token"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
N_REQUESTS = 6


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None, timeout=10):
    """(status, content type, body) of a GET; HTTP errors are answers too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def ready(sv, timeout=60):
    sv.wait(lambda a: any(x.get("event") == "ready" for x in a), timeout, "ready")
    r = next(x for x in sv.answers if x.get("event") == "ready")
    check(len(r["browsers"]) == 1 and r["browsers"][0]["state"] == "connected", f"ready: {r}")
    return r["browsers"][0]


def sample(body, name, **labels):
    """The value of the one sample of `name` whose labels include `labels`; None when none."""
    for line in body.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line[len(name):line.rindex("}") + 1]))
        if all(got.get(k) == str(v) for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


class Prometheus:
    """Debian's Prometheus on a free loopback port, scraping every second: job "token" on the bridge
    port with the token as a bearer credential, job "open" on --metrics-listen without it."""

    def __init__(self, port, metrics_port):
        self.dir = tempfile.mkdtemp(prefix="accel-top-prom-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: token
    authorization:
      type: Bearer
      credentials: {TOKEN}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
  - job_name: open
    static_configs:
      - targets: ["127.0.0.1:{metrics_port}"]
""")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.p = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
                                   f"--web.listen-address=127.0.0.1:{self.port}"],
                                  stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)

    def query(self, q):
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            status, _, body = get(url, timeout=2)
        except OSError:
            return None  # not listening yet
        if status != 200:
            return None
        return json.loads(body)["data"]["result"]

    def wait(self, q, pred, timeout=20):
        end = time.time() + timeout
        res = None
        while time.time() < end:
            check(self.p.poll() is None, f"prometheus exited {self.p.returncode}: {self.text()[-1500:]}")
            res = self.query(q)
            if res is not None and pred(res):
                return res
            time.sleep(0.25)
        raise Fail(f"prometheus: {q} gave {res} within {timeout}s; its log: {self.text()[-1500:]}")

    def text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        stop_server(self.p, self.log, self.dir)


def run_requests(sv, n):
    for i in range(1, n + 1):
        sv.send({"id": i, "model": "bert-tiny", "outputs": "none"})
    sv.wait(lambda a: len([x for x in a if "ok" in x and "event" not in x]) >= n, 90, f"{n} answers")
    bad = [r for r in sv.results() if not r["ok"]]
    check(not bad, f"requests failed: {bad[:2]}")


def check_auth(base):
    """401 with a one-line reason without the token or with a wrong one; 200 with either form."""
    for headers, url in (({}, f"{base}/metrics"), ({"Authorization": "Bearer wrong-token-x"}, f"{base}/metrics"),
                         ({}, f"{base}/metrics?token=wrong-token-x"), ({"Authorization": TOKEN}, f"{base}/metrics")):
        status, _, body = get(url, headers)
        check(status == 401 and body.count("\n") == 1 and "token" in body, f"{headers} {url}: {status} {body!r}")
    status, ctype, body = get(f"{base}/metrics?token={TOKEN}")
    check(status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8", f"?token=: {status} {ctype}")
    status, ctype, body = get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
    check(status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8", f"bearer: {status} {ctype}")
    return body


def check_body(body, browser):
    """The figures of the requests just run, and promtool's lint clean (no warnings at all)."""
    row = {"model": "bert-tiny", "precision": "fp32", "platform": "wasm", "browser": browser["id"]}
    check(sample(body, "accel_top_requests_total", outcome="ok", **row) == N_REQUESTS, body[:3000])
    check(sample(body, "accel_top_requests_total", outcome="error", **row) == 0, "errors")
    check(sample(body, "accel_top_request_duration_seconds_count", **row) == N_REQUESTS, "histogram count")
    check(sample(body, "accel_top_request_duration_seconds_bucket", le="+Inf", **row) == N_REQUESTS, "+Inf bucket")
    check(0 < sample(body, "accel_top_request_duration_seconds_sum", **row) < 60 * N_REQUESTS, "histogram sum")
    check(sample(body, "accel_top_browser_info", browser=browser["id"], kind="chromium", mode="managed",
                 host="127.0.0.1", state="connected") == 1, "browser info (host: where its WebSocket came from)")
    check(sample(body, "accel_top_browser_platform_class", browser=browser["id"], platform="wasm") == 1, "class")
    check(sample(body, "accel_top_queue_depth", model="bert-tiny") == 0, "queue depth")
    check(sample(body, "accel_top_process_resident_memory_bytes") is None, "process RSS is unlabelled")
    check(re.search(r"^accel_top_process_resident_memory_bytes \d+$", body, re.M), "process RSS")
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True, timeout=20)
    check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
          f"promtool: rc {lint.returncode}: {lint.stdout}{lint.stderr}")


def wait_usage(base, browser, timeout=15):
    """The usage sampler's figures (every 2 s): RSS and CPU seconds of the browser's tree appear."""
    end = time.time() + timeout
    while time.time() < end:
        _, _, body = get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
        rss = sample(body, "accel_top_browser_resident_memory_bytes", browser=browser["id"])
        cpu = sample(body, "accel_top_browser_cpu_seconds_total", browser=browser["id"])
        if rss is not None and cpu is not None:
            check(rss > 10e6 and cpu > 0, f"rss {rss} cpu {cpu}")
            return
        time.sleep(0.5)
    raise Fail("no RSS / CPU series for the browser")


def test_metrics_token_promtool_and_prometheus():
    """Requests on a real Chromium; /metrics refuses without the token and answers with it (both
    forms); promtool is clean; --metrics-listen answers without it; a real Prometheus scrapes both
    and its query returns the request counter with the right labels and value."""
    check(os.access(PROMETHEUS, os.X_OK) and os.access(PROMTOOL, os.X_OK),
          "Debian's prometheus package is missing: apt-get install prometheus (scripts/deps.sh)")
    mport = free_port()
    sv = Serve("--port", "0", "--browsers", "chromium", "--token", TOKEN, "--metrics-listen", f"127.0.0.1:{mport}")
    prom = None
    try:
        browser = ready(sv)
        check(f"metrics at http://127.0.0.1:{mport}/metrics (no token)" in sv.err.decode(), sv.err.decode())
        base = re.match(r"(http://[^/]+)/", sv.url).group(1)
        port = int(base.rsplit(":", 1)[1])
        prom = Prometheus(port, mport)  # starts while the requests run
        run_requests(sv, N_REQUESTS)
        body = check_auth(base)
        check_body(body, browser)
        status, ctype, open_body = get(f"http://127.0.0.1:{mport}/metrics")
        check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), f"--metrics-listen: {status}")
        check(sample(open_body, "accel_top_requests_total", outcome="ok", browser=browser["id"]) == N_REQUESTS,
              "--metrics-listen body")
        check(get(f"http://127.0.0.1:{mport}/")[0] == 404, "--metrics-listen serves only /metrics")
        wait_usage(base, browser)
        q = 'accel_top_requests_total{outcome="ok"}'
        # a scrape during the requests saw fewer: wait for one after them, on both jobs
        res = prom.wait(q, lambda r: sorted((x["metric"]["job"], float(x["value"][1])) for x in r)
                        == [("open", N_REQUESTS), ("token", N_REQUESTS)])
        for x in res:
            m = x["metric"]
            check(m["model"] == "bert-tiny" and m["precision"] == "fp32" and m["platform"] == "wasm"
                  and m["browser"] == str(browser["id"]) and float(x["value"][1]) == N_REQUESTS, f"series: {x}")
        up = prom.wait("up", lambda r: len(r) == 2)
        check(all(x["value"][1] == "1" for x in up), f"up: {up}")
    finally:
        if prom:
            prom.stop()
        sv.close_input()
        try:
            sv.finish(30)
        finally:
            sv.kill()


def test_metrics_listen_refused_when_malformed():
    """--metrics-listen wants ADDR:PORT with a numeric address: a one-line usage error naming it."""
    for bad in ("9464", "localhost:9464", "127.0.0.1:99999", "::1:9464"):
        p = subprocess.run([os.environ.get("ACCEL_TOP", "accel-top"), "-b", "--no-launch", "--metrics-listen", bad],
                           capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        check(p.returncode == 2 and "--metrics-listen" in p.stderr and p.stderr.count("\n") == 1,
              f"{bad}: rc {p.returncode} {p.stderr!r}")


if __name__ == "__main__":
    sys.exit(run_tests("metrics", globals(), sys.argv[1:]))
