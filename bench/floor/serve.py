#!/usr/bin/env python3
"""Serve the WebGPU floor probe (bench/floor/probe.html) to one headless Firefox and collect its results.

  serve.py --data DIR --out results.json [--firefox EXE] [--query 'k=v&...'] [--timeout S]

DIR holds browser-js/node_modules/onnxruntime-web/dist (served at /ort/) and build/models (at
/models/), as a checkout after `make` or an unpacked gpu-bundle does. The page posts its log lines
(printed here as they come) and its results; the script writes them to --out and exits. Standard
library only, so it runs with any python3 (the GPU machine has no registry)."""
import argparse, http.server, json, os, shutil, signal, subprocess, sys, tempfile, threading

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
         '.wasm': 'application/wasm', '.json': 'application/json', '.onnx': 'application/octet-stream'}
USER_JS = ('user_pref("dom.webgpu.enabled", true);\nuser_pref("gfx.webgpu.ignore-blocklist", true);\n'
           'user_pref("browser.shell.checkDefaultBrowser", false);\nuser_pref("dom.max_script_run_time", 0);\n'
           'user_pref("datareporting.policy.dataSubmissionEnabled", false);\nuser_pref("app.update.enabled", false);\n'
           'user_pref("dom.workers.maxPerDomain", 64);\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--firefox', default='firefox-esr')
    ap.add_argument('--chromium', help='run this Chromium instead of Firefox')
    ap.add_argument('--flag', action='append', default=[], help='an extra browser flag (repeatable)')
    ap.add_argument('--stderr', help="keep the browser's stderr in this file")
    ap.add_argument('--query', default='')
    ap.add_argument('--timeout', type=float, default=300)
    a = ap.parse_args()
    roots = {'/ort/': os.path.join(a.data, 'browser-js/node_modules/onnxruntime-web/dist'),
             '/models/': os.path.join(a.data, 'build/models'), '/': HERE}
    done = threading.Event()
    result = {}

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def headers_out(self, code, ctype, n):
            self.send_response(code)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(n))
            self.send_header('Cross-Origin-Opener-Policy', 'same-origin')
            self.send_header('Cross-Origin-Embedder-Policy', 'require-corp')
            self.send_header('Cross-Origin-Resource-Policy', 'same-origin')
            self.send_header('Cache-Control', 'no-store')
            self.end_headers()

        def do_GET(self):
            path = self.path.split('?')[0]
            for prefix, root in roots.items():
                if path.startswith(prefix):
                    rel = os.path.normpath(path[len(prefix):]).lstrip('/')
                    full = os.path.join(root, rel)
                    if '..' in rel.split('/') or not os.path.isfile(full):
                        break
                    with open(full, 'rb') as f:
                        body = f.read()
                    self.headers_out(200, TYPES.get(os.path.splitext(full)[1], 'application/octet-stream'), len(body))
                    self.wfile.write(body)
                    return
            self.headers_out(404, 'text/plain', 0)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
            if self.path == '/log':
                print(body.decode('utf-8', 'replace'), flush=True)
            elif self.path == '/result':
                result.update(json.loads(body))
                with open(a.out, 'w') as f:
                    json.dump(result, f, indent=1)
                done.set()
            self.headers_out(204, 'text/plain', 0)

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    prof = tempfile.mkdtemp(prefix='floor-probe-')
    with open(os.path.join(prof, 'user.js'), 'w') as f:
        f.write(USER_JS)
    url = 'http://127.0.0.1:%d/probe.html?%s' % (srv.server_address[1], a.query)
    print('probe:', url, flush=True)
    if a.chromium:
        argv = [a.chromium, '--no-sandbox', '--no-first-run', '--user-data-dir=' + prof, *a.flag, url]
    else:
        argv = [a.firefox, '--headless', '--no-remote', '--profile', prof, *a.flag, url]
    err = open(a.stderr, 'wb') if a.stderr else subprocess.DEVNULL
    ff = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    ok = done.wait(a.timeout)
    try:
        os.killpg(ff.pid, signal.SIGTERM)
        ff.wait(5)
    except Exception:
        try:
            os.killpg(ff.pid, signal.SIGKILL)
        except Exception:
            pass
    shutil.rmtree(prof, ignore_errors=True)
    srv.shutdown()
    if not ok:
        print('probe: no result within %.0f s' % a.timeout, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
