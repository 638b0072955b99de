"""/metrics after traffic of every kind, against the real binary.

One server with keys; a scrape before, traffic (a run, events, steps, an
artifact stored and read, two streams, one replaying, 401 and 403, 404,
413, a local backup and one S3 backup that is not configured, an OTLP
export), then a scrape after. Both scrapes pass `promtool check metrics`
with nothing to say, and a table of expectations says how each series of
docs/operations.md moves between them: by exactly what this traffic did,
checked against the database file and /proc where another source exists.
"""

import json
import os
import socket
import sqlite3
import subprocess
import time

import pytest

from metrics_client import ADMIN_KEY, INGEST_KEY, READ_KEY, Samples, Server

RUN = "ops-run"
ARTIFACT = b"# findings\n" + b"x" * 5000
EVENTS_ROUTE = "POST /observability/events"


def promtool_check(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode == 0 and out.strip() == "", "promtool check metrics: " + out


def proc_cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_soft_fd_limit(pid):
    for line in open("/proc/%d/limits" % pid):
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no 'Max open files' in /proc/%d/limits" % pid)


def db_count(db, sql):
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


class Stream:
    """A raw SSE connection, read as frames arrive."""

    def __init__(self, port, query):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.sock.sendall(("GET /observability/stream?%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                           % (query, READ_KEY)).encode())
        self.seen = b""

    def read_until(self, text):
        deadline = time.monotonic() + 15
        while text.encode() not in self.seen:
            assert time.monotonic() < deadline, "stream never sent %r: %r" % (text, self.seen[-500:])
            chunk = self.sock.recv(65536)
            assert chunk, "stream closed early: %r" % self.seen[-500:]
            self.seen += chunk

    def close(self):
        self.sock.close()


def wait_for(server, predicate, what, timeout=15):
    """The first scrape for which predicate(samples) holds (the storage
    figures are read again at most every 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        s = Samples(server.scrape())
        if predicate(s):
            return s
        assert time.monotonic() < deadline, "never saw " + what + ":\n" + s.text
        time.sleep(0.25)


def otlp_body():
    now = time.time_ns()
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "plan",
            "kind": 1, "startTimeUnixNano": str(now - 5_000_000), "endTimeUnixNano": str(now),
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
                           {"key": "gen_ai.agent.name", "value": {"stringValue": "otel-agent"}}]}
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("ops")), ["--max-body-bytes", "65536", "--stream-ping-ms", "100"])
    yield s
    s.stop()


def generate_traffic(s):
    """Every kind of request; returns what the expectations need to know."""
    seen = {"t_first_event": time.time()}
    ok = lambda r, status: r[0] == status or pytest.fail("%s instead of %s: %r" % (r[0], status, r[2]))
    ok(s.request("POST", "/observability/runs", {"id": RUN, "name": "ops", "agent": "planner"}, INGEST_KEY), 201)
    events = [{"run_id": RUN, "type": "thought", "payload": {"text": "step %d" % i}} for i in range(10)]
    for _ in range(3):
        ok(s.request("POST", "/observability/events", {"events": events}, INGEST_KEY), 201)
    ok(s.request("POST", "/observability/runs/%s/steps" % RUN,
                 {"type": "tool_call", "payload": {"tool": "search", "call_id": "c1", "arguments": {}}}, INGEST_KEY), 201)
    ok(s.request("PUT", "/observability/runs/%s/artifacts/report.md" % RUN, ARTIFACT, INGEST_KEY,
                 {"Content-Type": "text/markdown"}), 201)
    got = s.request("GET", "/observability/runs/%s/artifacts/report.md" % RUN, key=READ_KEY)
    ok(got, 200)
    assert got[2] == ARTIFACT
    ok(s.request("POST", "/v1/traces", otlp_body(), INGEST_KEY), 200)

    # A live stream (no resume point) and a replay from the start.
    live = Stream(s.port, "")
    live.read_until("retry:")
    replay = Stream(s.port, "last_event_id=0")
    replay.read_until("id: 5\n")
    during = Samples(s.scrape())
    seen["subscribers_during"] = during.value("obs_stream_subscribers")
    seen["fds_during_metrics"] = during.value("process_open_fds")
    seen["fds_during_proc"] = len(os.listdir("/proc/%d/fd" % s.proc.pid))
    live.close()
    replay.close()

    ok(s.request("POST", "/observability/events", {"events": events}), 401)              # no key
    ok(s.request("POST", "/observability/events", {"events": events}, READ_KEY), 403)    # wrong scope
    ok(s.request("GET", "/no/such/route"), 404)
    big = {"events": [{"run_id": RUN, "type": "thought", "payload": {"text": "y" * 70000}}]}
    ok(s.request("POST", "/observability/events", big, INGEST_KEY), 413)

    seen["t_backup_start"] = time.time()
    backup = s.request("POST", "/observability/backup?upload=false", key=ADMIN_KEY)
    ok(backup, 201)
    seen["backup"] = json.loads(backup[2])
    seen["t_backup_end"] = time.time()
    ok(s.request("POST", "/observability/backup", key=ADMIN_KEY), 503)  # S3 not configured
    return seen


@pytest.fixture(scope="module")
def observed(server):
    """Scrapes before and after generate_traffic(), with what it saw."""
    s = server
    before_text = s.scrape()
    cpu_before = proc_cpu_seconds(s.proc.pid)
    seen = generate_traffic(s)
    # Streams gone and the storage figures read again (they are kept 5 s).
    last_offset = db_count(s.db, 'SELECT max("offset") FROM events')
    after = wait_for(s, lambda x: x.value("obs_events_stored") == last_offset and x.value("obs_stream_subscribers") == 0,
                     "obs_events_stored == %d and no stream listener" % last_offset)
    seen.update(before_text=before_text, before=Samples(before_text), after=after, last_offset=last_offset,
                cpu_before=cpu_before, cpu_after=proc_cpu_seconds(s.proc.pid))
    return seen


def check_table(table, after):
    """(what, observed, expected) rows: all checked, every failure reported."""
    failed = ["%s: got %r, expected %r" % (what, got, want) for what, got, want in table if got != want]
    assert not failed, "\n".join(failed) + "\n\n" + after.text


def delta(seen):
    return lambda name, **labels: (seen["after"].value(name, **labels) or 0) - (seen["before"].value(name, **labels) or 0)


def test_both_scrapes_pass_promtool(observed):
    promtool_check(observed["before_text"])
    promtool_check(observed["after"].text)


def test_series_move_as_the_traffic_says(server, observed):
    s, seen = server, observed
    before, after, d = seen["before"], seen["after"], delta(seen)
    dur = "obs_http_request_duration_seconds"
    art = "/observability/runs/{run_id}/artifacts/{name}"
    stored = seen["last_offset"]
    table = [
        ("requests counted", d("obs_http_requests_total") >= 17, True),
        ("2xx answers grew", d("obs_http_responses_total", **{"class": "2xx"}) >= 11, True),
        ("4xx answers: 401, 403, 404, 413", d("obs_http_responses_total", **{"class": "4xx"}), 4),
        ("5xx answers: the 503 of S3 not configured", d("obs_http_responses_total", **{"class": "5xx"}), 1),
        ("event POSTs timed, 2xx", d(dur + "_count", route=EVENTS_ROUTE, **{"class": "2xx"}), 3),
        ("event POSTs timed, 4xx (401, 403, 413)", d(dur + "_count", route=EVENTS_ROUTE, **{"class": "4xx"}), 3),
        ("+Inf bucket == count", after.value(dur + "_bucket", route=EVENTS_ROUTE, le="+Inf", **{"class": "2xx"}),
         after.value(dur + "_count", route=EVENTS_ROUTE, **{"class": "2xx"})),
        ("event POSTs took some time", after.value(dur + "_sum", route=EVENTS_ROUTE, **{"class": "2xx"}) > 0, True),
        ("run start timed", d(dur + "_count", route="POST /observability/runs", **{"class": "2xx"}), 1),
        ("steps timed", d(dur + "_count", route="POST /observability/runs/{run_id}/steps", **{"class": "2xx"}), 1),
        ("artifact PUT timed", d(dur + "_count", route="PUT " + art, **{"class": "2xx"}), 1),
        ("artifact GET timed", d(dur + "_count", route="GET " + art, **{"class": "2xx"}), 1),
        ("OTLP timed", d(dur + "_count", route="POST /v1/traces", **{"class": "2xx"}), 1),
        ("streams timed (to their head)", d(dur + "_count", route="GET /observability/stream", **{"class": "2xx"}), 2),
        ("backup timed, 2xx", d(dur + "_count", route="POST /observability/backup", **{"class": "2xx"}), 1),
        ("backup timed, 5xx", d(dur + "_count", route="POST /observability/backup", **{"class": "5xx"}), 1),
        ("no 5xx histogram for events", after.value(dur + "_count", route=EVENTS_ROUTE, **{"class": "5xx"}), None),
        ("401s", d("obs_auth_failures_total", status="401"), 1),
        ("403s", d("obs_auth_failures_total", status="403"), 1),
        ("commits timed, one per group", after.value("obs_write_commit_duration_seconds_count"),
         after.value("obs_write_groups_total")),
        ("commits happened", d("obs_write_commit_duration_seconds_count") >= 6, True),
        ("commits took some time", d("obs_write_commit_duration_seconds_sum") > 0, True),
        ("group sizes add up to the events stored", d("obs_write_group_events_sum"), stored),
        ("groups counted", d("obs_write_group_events_count"), d("obs_write_commit_duration_seconds_count")),
        ("write queue empty when idle", after.value("obs_write_queue_events"), 0),
        ("events stored, as in the database", after.value("obs_events_stored"), db_count(s.db, "SELECT count(*) FROM events")),
        ("events stored before", before.value("obs_events_stored"), 0),
        ("runs stored, as in the database", after.value("obs_runs_stored"), db_count(s.db, "SELECT count(*) FROM runs")),
        ("runs: ours and the OTLP agent's", d("obs_runs_stored"), 2),
        ("artifact bytes", d("obs_artifact_bytes"), len(ARTIFACT)),
        ("database file size", after.value("obs_database_bytes"), os.path.getsize(s.db)),
        ("WAL present after writes", after.value("obs_wal_bytes") > 0, True),
        ("oldest event age, empty database", before.value("obs_oldest_event_age_seconds"), 0),
        ("oldest event age ~ time since the first POST",
         abs(after.value("obs_oldest_event_age_seconds") - (time.time() - seen["t_first_event"])) < 3, True),
        ("stream listeners while two were open", seen["subscribers_during"], 2),
        ("stream listeners after", after.value("obs_stream_subscribers"), 0),
        ("replays: only the one with last_event_id", d("obs_stream_replays_total"), 1),
        ("frames sent", d("obs_stream_frames_sent_total") >= 5, True),
        ("no overflow", d("obs_stream_overflows_total"), 0),
        ("CPU seconds between /proc's readings",
         seen["cpu_before"] - 0.02 <= after.value("process_cpu_seconds_total") <= seen["cpu_after"] + 0.02, True),
        ("CPU seconds grew", d("process_cpu_seconds_total") > 0, True),
        ("resident memory plausible", 1e6 < after.value("process_resident_memory_bytes") < 2e9, True),
        ("open fds as /proc lists them (+-2) with two streams open",
         abs(seen["fds_during_metrics"] - seen["fds_during_proc"]) <= 2, True),
        ("fd limit as the process has it", after.value("process_max_fds"), float(proc_soft_fd_limit(s.proc.pid))),
        ("start time", abs(after.value("process_start_time_seconds") - s.started_at) < 3, True),
        ("start time does not move", d("process_start_time_seconds"), 0),
    ]
    check_table(table, after)


def test_backup_series_follow_the_backups(observed):
    """backup_runner keeps backup_stats (backup/backup_stats.hpp); /metrics shows them."""
    seen, after, d = observed, observed["after"], delta(observed)
    table = [
        ("backups succeeded", d("obs_backups_succeeded_total"), 1),
        ("last success time within the backup",
         seen["t_backup_start"] - 1 <= after.value("obs_backup_last_success_timestamp_seconds") <= seen["t_backup_end"] + 1,
         True),
        ("last success bytes", after.value("obs_backup_last_success_bytes"), seen["backup"]["bytes"]),
        ("last duration (the failed one, which ended last) within the request",
         0 <= after.value("obs_backup_last_duration_seconds") <= seen["t_backup_end"] - seen["t_backup_start"] + 1, True),
        ("failure: S3 not configured", d("obs_backup_failures_total", reason="not_configured"), 1),
        ("no other failure", sum(v for labels, v in after.series("obs_backup_failures_total")
                                 if labels["reason"] != "not_configured"), 0),
        ("no schedule: started", after.value("obs_backup_scheduled_started_total"), 0),
        ("no schedule: skipped", after.value("obs_backup_scheduled_skipped_total"), 0),
        ("no rotation", after.value("obs_backup_rotated_deleted_total"), 0),
    ]
    check_table(table, after)


def test_build_info_names_the_binarys_version(server):
    version = subprocess.run([server.proc.args[0], "--version"], capture_output=True, text=True,
                             timeout=10).stdout.split()[-1]
    s = Samples(server.scrape())
    assert s.series("obs_build_info") == [({"version": version}, 1.0)]


def test_every_histogram_is_cumulative(server):
    s = Samples(server.scrape())
    buckets = {}
    for (name, labels), v in s.by_key.items():
        if name.endswith("_bucket"):
            rest = frozenset((k, x) for k, x in labels if k != "le")
            le = dict(labels)["le"]
            buckets.setdefault((name[:-7], rest), []).append((float(le), v))
    assert {n for n, _ in buckets} >= {"obs_http_request_duration_seconds", "obs_write_commit_duration_seconds",
                                       "obs_write_group_events"}
    for (name, rest), pairs in buckets.items():
        pairs.sort()
        counts = [v for _, v in pairs]
        assert counts == sorted(counts), (name, rest, pairs)
        assert pairs[-1][0] == float("inf")
        assert s.by_key[(name + "_count", rest)] == counts[-1]


def test_the_last_good_backup_is_remembered_across_a_restart(tmp_path):
    """The backup-stale alert needs the last success time after a restart too:
    the server reads it back from the backup history when it starts."""
    first = Server(str(tmp_path))
    try:
        status, _, body = first.request("POST", "/observability/backup?upload=false", key=ADMIN_KEY)
        assert status == 201, body
        made = json.loads(body)
        before = Samples(first.scrape())
    finally:
        first.stop()
    assert before.value("obs_backup_last_success_timestamp_seconds") > 0
    again = Server(str(tmp_path))
    try:
        after = Samples(again.scrape())
    finally:
        again.stop()
    assert after.value("obs_backup_last_success_timestamp_seconds") == \
        before.value("obs_backup_last_success_timestamp_seconds")
    assert after.value("obs_backup_last_success_bytes") == made["bytes"]
    assert after.value("obs_backups_succeeded_total") == 0  # counters count this process's backups
