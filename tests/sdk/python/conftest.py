"""Shared set-up of the Python SDK's tests: the real server binary, started
on a real port with its own database in the test's temporary folder.

Paths come from the environment CTest sets (tests/sdk/python/CMakeLists.txt):
OBS_SERVER_BIN (the observability-server target), OBS_DUMP_RULES and
OBS_DUMP_BAD_EVENTS (the generators of the rules and of the bad-event
table). The SDK is imported from sdk/python (PYTHONPATH or the fallback
below), not from an installed copy.
"""

import gzip
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SDK_DIR = os.path.join(REPO, "sdk", "python")
if SDK_DIR not in sys.path:
    sys.path.insert(0, SDK_DIR)


def tool(env_name, relative):
    """A built binary: from the environment, else from build/release."""
    path = os.environ.get(env_name) or os.path.join(REPO, "build", "release", relative)
    if not os.access(path, os.X_OK):
        pytest.fail("%s not found (%s): build it, or run these tests through ctest" % (env_name, path))
    return path


def free_port():
    """A port nothing listens on (for a server that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One observability-server process over a database in `folder`."""

    def __init__(self, folder, request_log=False):
        self.folder = folder
        self.request_log = request_log
        self.proc = None
        self.port = None
        self.err_path = None
        self._starts = 0

    def start(self, port=0):
        self._starts += 1
        self.err_path = os.path.join(self.folder, "server-%d.log" % self._starts)
        args = [tool("OBS_SERVER_BIN", "server/observability-server"),
                "--listen", "127.0.0.1:%d" % port,
                "--db", os.path.join(self.folder, "obs.db"),
                "--data-dir", os.path.join(self.folder, "data")]
        if not self.request_log:
            args.append("--no-request-log")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for line in open(self.err_path, encoding="utf-8", errors="replace"):
                if '"msg":"listening"' in line:
                    self.port = json.loads(line)["port"]
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited: " + open(self.err_path).read())
            time.sleep(0.02)
        raise RuntimeError("the server did not start: " + open(self.err_path).read())

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def requests(self):
        """The request log lines of every start so far (request_log=True)."""
        out = []
        for i in range(1, self._starts + 1):
            path = os.path.join(self.folder, "server-%d.log" % i)
            for line in open(path, encoding="utf-8", errors="replace"):
                if '"msg":"request"' in line:
                    out.append(json.loads(line))
        return out

    # -------------------------------------------------------------- reads

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path, body, headers=None):
        """(status, decoded JSON) of a POST of `body` (bytes)."""
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=body, headers=h, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def steps(self, run_id):
        """Every stored event of a run, in seq order."""
        steps = []
        after = 0
        while True:
            page = self.get("/observability/runs/%s/steps?after_seq=%d&limit=1000" % (run_id, after))
            steps.extend(page["steps"])
            if page["next_after_seq"] is None:
                return steps
            after = page["next_after_seq"]


@pytest.fixture
def server(tmp_path):
    s = Server(str(tmp_path)).start()
    yield s
    s.stop()


@pytest.fixture
def logged_server(tmp_path):
    """A server that logs every request (to count the SDK's batches)."""
    s = Server(str(tmp_path), request_log=True).start()
    yield s
    s.stop()


class Front:
    """A small HTTP front in this process before the real server: it answers
    the first `refusals` requests itself (status, headers) and forwards the
    rest, unzipping gzip bodies when `gunzip` is set. It stands in for a
    server behaviour that cannot be provoked on demand (a 503 with
    Retry-After) or that the server does not have yet (gzip bodies)."""

    def __init__(self, target, refusals=(), gunzip=False):
        self.target = target
        self.refusals = list(refusals)
        self.gunzip = gunzip
        self.seen = []  # (monotonic time, method, path, headers, status answered)
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items()}
                if front.refusals:
                    status, extra = front.refusals.pop(0)
                    front.seen.append((time.monotonic(), self.command, self.path, headers, status))
                    data = json.dumps({"error": {"code": "overloaded", "message": "front refusal"}}).encode()
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                forward = {"Content-Type": headers.get("Content-Type", "application/json")}
                if headers.get("Content-Encoding") == "gzip" and front.gunzip:
                    body = gzip.decompress(body)
                elif "Content-Encoding" in headers:
                    forward["Content-Encoding"] = headers["Content-Encoding"]
                if "X-Step-Id" in headers:
                    forward["X-Step-Id"] = headers["X-Step-Id"]
                req = urllib.request.Request(front.target + self.path, data=body, headers=forward,
                                             method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                front.seen.append((time.monotonic(), self.command, self.path, headers, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _handle
            do_PUT = _handle

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
