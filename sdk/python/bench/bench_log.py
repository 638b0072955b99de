#!/usr/bin/env python3
"""Benchmark of the Python SDK; prints one JSON object on stdout.

What it measures (issue 15's targets in brackets):
- log_us: the cost of log() in the calling thread, p50/p99 in microseconds,
  one thread logging a tool_call event in a loop, with the server up and
  down, without and with a spool [p50 <= 15, p99 <= 60, p99 <= 150 with spool];
- delivered_per_s: events stored per second from one process whose 4
  threads log as fast as they can, from the first log() until flush()
  returns [>= 30,000];
- close_10k_s: close() with 10,000 events queued and nothing sent yet, until
  every one is stored [< 1 s];
- rss_growth_mib: resident memory growth with the server down, logging
  150,000 events into the default max_queue (100,000) [<= 64 MiB].

The server: --url of a running one, or --server-bin to start one on a free
127.0.0.1 port over a temporary database (removed afterwards). "Down" is a
127.0.0.1 port nothing listens on. Every phase is bounded and stops itself.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from observability import ObservabilityProvider  # noqa: E402

# bench-ingest's batch-phase payload, as in the C++ bench.
PAYLOAD = {"tool": "search", "call_id": "c1", "arguments": {"q": "gear ratio", "k": 5}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def log_cost(url, n, spool_dir=None):
    """p50/p99 of log() in microseconds over `n` calls after a warm-up."""
    kwargs = {"max_queue": max(100_000, n + 10_000)}
    if spool_dir:
        kwargs["spool_dir"] = spool_dir
    obs = ObservabilityProvider(url, **kwargs)
    clock = time.perf_counter_ns
    log = obs.log
    for _ in range(2000):
        log("tool_call", PAYLOAD, run_id="bench-warm", node="worker-1")
    samples = []
    append = samples.append
    for _ in range(n):
        t = clock()
        log("tool_call", PAYLOAD, run_id="bench-log", node="worker-1")
        append(clock() - t)
    obs.close(timeout=10 if url_is_up(url) else 0)
    samples.sort()
    return {"p50": round(percentile(samples, 0.50) / 1000, 2), "p99": round(percentile(samples, 0.99) / 1000, 2),
            "n": n}


def url_is_up(url):
    host, port = url.rsplit("//", 1)[1].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return True
    except OSError:
        return False


def delivered_rate(url, threads, per_thread):
    with ObservabilityProvider(url) as obs:
        start = time.perf_counter()

        def work(n):
            for i in range(per_thread):
                obs.log("tool_call", PAYLOAD, run_id="bench-rate-%d" % n)
        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        delivered = obs.flush(120)
        elapsed = time.perf_counter() - start
        stats = obs.stats()
    total = threads * per_thread
    stored = stats["sent"] + stats["duplicates"]
    # Events dropped because the queue filled (the server slower than the
    # agent) are reported, not counted as delivered.
    return {"events": total, "seconds": round(elapsed, 3), "per_s": round(stored / elapsed),
            "delivered": stored, "dropped": stats["dropped"], "retries": stats["retries"],
            "all_delivered": delivered and stored == total}


def close_time(url, n):
    obs = ObservabilityProvider(url, flush_at=1_000_000, flush_interval=3600)
    for _ in range(n):
        obs.log("tool_call", PAYLOAD, run_id="bench-close", node="worker-1")
    queued = obs.stats()["queued"]
    start = time.perf_counter()
    obs.close(timeout=30)
    elapsed = time.perf_counter() - start
    stats = obs.stats()
    return {"queued_at_close": queued, "seconds": round(elapsed, 3), "sent": stats["sent"] + stats["duplicates"]}


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rss_phase(n):
    """Run in a fresh process: RSS growth while logging `n` events to a server
    that is down, at the default max_queue."""
    obs = ObservabilityProvider("http://127.0.0.1:%d" % free_port())
    before = rss_kib()
    for i in range(n):
        obs.log("tool_call", PAYLOAD, run_id="bench-rss", node="worker-1")
    after = rss_kib()
    stats = obs.stats()
    obs.close(timeout=0)
    print(json.dumps({"events": n, "growth_mib": round((after - before) / 1024, 1), "queued": stats["queued"],
                      "dropped": stats["dropped"]}))


class OwnServer:
    def __init__(self, binary):
        self.folder = tempfile.mkdtemp(prefix="bench-sdk-")
        log = open(os.path.join(self.folder, "server.log"), "wb")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--db", os.path.join(self.folder, "b.db"),
                                      "--no-request-log"], stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for line in open(os.path.join(self.folder, "server.log")):
                if '"msg":"listening"' in line:
                    self.url = "http://127.0.0.1:%d" % json.loads(line)["port"]
                    return
            time.sleep(0.05)
        self.close()
        raise RuntimeError("the server did not start")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start --server-bin)")
    parser.add_argument("--server-bin", help="observability-server binary to start for the run")
    parser.add_argument("--log-calls", type=int, default=50_000, help="log() calls per cost phase")
    parser.add_argument("--rate-events", type=int, default=25_000, help="events per thread, rate phase")
    parser.add_argument("--phase", choices=["rss"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "rss":
        rss_phase(150_000)
        return
    if not args.url and not args.server_bin:
        parser.error("give --url or --server-bin")
    own = OwnServer(args.server_bin) if not args.url else None
    url = args.url or own.url
    down = "http://127.0.0.1:%d" % free_port()
    spool_root = tempfile.mkdtemp(prefix="bench-sdk-spool-")
    try:
        result = {"python": sys.version.split()[0], "log_us": {}}
        result["log_us"]["server_up"] = log_cost(url, args.log_calls)
        result["log_us"]["server_down"] = log_cost(down, args.log_calls)
        result["log_us"]["server_up_spool"] = log_cost(url, args.log_calls, os.path.join(spool_root, "up"))
        result["log_us"]["server_down_spool"] = log_cost(down, args.log_calls, os.path.join(spool_root, "down"))
        result["delivered_per_s"] = delivered_rate(url, 4, args.rate_events)
        result["close_10k"] = close_time(url, 10_000)
        rss = subprocess.run([sys.executable, os.path.abspath(__file__), "--phase", "rss"], capture_output=True,
                             text=True, timeout=300)
        result["rss_server_down"] = json.loads(rss.stdout) if rss.returncode == 0 else {"error": rss.stderr[-500:]}
        result["targets"] = {"log_p50_us": 15, "log_p99_us": 60, "log_p99_spool_us": 150, "delivered_per_s": 30000,
                             "close_10k_s": 1.0, "rss_growth_mib": 64}
        print(json.dumps(result))
    finally:
        shutil.rmtree(spool_root, ignore_errors=True)
        if own:
            own.close()


if __name__ == "__main__":
    main()
