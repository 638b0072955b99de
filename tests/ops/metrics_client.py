"""What the tests of tests/ops share: the real observability-server binary
started on a free loopback port with its own database and keys, plain HTTP
requests over real sockets (http.client), and a reader of Prometheus' text
format that keeps every sample by name and labels.

Paths come from the environment CTest sets (tests/ops/CMakeLists.txt):
OBS_SERVER_BIN, the observability-server target.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import time

ADMIN_KEY = "admin-key-0123456789abcdef"
INGEST_KEY = "ingest-key-0123456789abcdef"
READ_KEY = "read-key-0123456789abcdef"


def server_binary():
    path = os.environ.get("OBS_SERVER_BIN", "")
    if not os.access(path, os.X_OK):
        raise RuntimeError("OBS_SERVER_BIN is not an executable (%r): run these tests through ctest" % path)
    return path


class Server:
    """One server process over `folder`/obs.db, with the three keys."""

    def __init__(self, folder, extra_args=()):
        self.folder = folder
        self.db = os.path.join(folder, "obs.db")
        self.log_path = os.path.join(folder, "server.log")
        args = [server_binary(), "--listen", "127.0.0.1:0", "--db", self.db,
                "--data-dir", os.path.join(folder, "data"), "--no-request-log",
                "--api-key", "admin:" + ADMIN_KEY, "--api-key", "ingest:" + INGEST_KEY,
                "--api-key", "read:" + READ_KEY] + list(extra_args)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OBS_", "AWS_"))}
        self.started_at = time.time()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, env=env)
        self.port = self._wait_for_port()

    def _wait_for_port(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                for line in log:
                    if '"msg":"listening"' in line:
                        return json.loads(line)["port"]
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited: " + self.log())
            time.sleep(0.02)
        raise RuntimeError("the server did not start: " + self.log())

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method, path, body=None, key=None, headers=None):
        """(status, headers as a lower-cased dict, body bytes) of one request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            h = dict(headers or {})
            if key:
                h["Authorization"] = "Bearer " + key
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def scrape(self):
        status, headers, body = self.request("GET", "/metrics")
        assert status == 200, body
        assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
        return body.decode()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Samples:
    """The samples of one scrape: value(name, label=value...) and names()."""

    def __init__(self, text):
        self.text = text
        self.by_key = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            labels = frozenset(_LABEL.findall(m.group(2) or ""))
            self.by_key[(m.group(1), labels)] = float(m.group(3))

    def value(self, name, **labels):
        """The sample's value; None when the series is absent."""
        return self.by_key.get((name, frozenset(labels.items())))

    def names(self):
        return {name for name, _ in self.by_key}

    def series(self, name):
        """[(labels dict, value)] of every sample called `name`."""
        return [(dict(labels), v) for (n, labels), v in self.by_key.items() if n == name]
