"""The delivery thread against the real server: batching, order, what each
answer does (422 and 409 split out, duplicates counted, 503/429 waited out
with Retry-After, connection errors retried, gzip or its plain fallback),
the bounded queue, run() and artifacts.

The 503/429 refusals and a gzip-taking server come from conftest.Front, a
small front in this process before the real server: the server cannot be
made to answer 503 on demand, and it does not take gzip bodies yet.
"""

import gzip
import json
import logging
import threading
import time

import pytest

from conftest import Front, Server, free_port
from observability import ObservabilityProvider


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def event_posts(server):
    return [r for r in server.requests() if r["method"] == "POST" and r["route"] == "/observability/events"]


def texts(steps):
    return [s["payload"].get("text") for s in steps]


def test_flush_at_sends_a_batch_without_waiting_for_the_interval(logged_server):
    with ObservabilityProvider(logged_server.url, flush_at=50, flush_interval=60) as obs:
        for i in range(50):
            obs.log("thought", {"text": "t%d" % i}, run_id="batched")
        assert wait_for(lambda: obs.stats()["sent"] == 50), obs.stats()
        for i in range(50, 99):
            obs.log("thought", {"text": "t%d" % i}, run_id="batched")
        time.sleep(0.5)
        assert obs.stats()["sent"] == 50  # 49 waiting: below flush_at, the interval is a minute
        obs.log("thought", {"text": "t99"}, run_id="batched")
        assert wait_for(lambda: obs.stats()["sent"] == 100), obs.stats()
    stored = event_posts(logged_server)
    assert len([r for r in stored if r["status"] == 201]) == 2, stored
    assert texts(logged_server.steps("batched")) == ["t%d" % i for i in range(100)]


def test_flush_interval_sends_a_partial_batch_in_one_request(logged_server):
    with ObservabilityProvider(logged_server.url, flush_at=1000, flush_interval=0.3) as obs:
        for i in range(3):
            obs.log("thought", {"text": "t%d" % i}, run_id="interval")
        # No flush(): the interval alone must send them.
        assert wait_for(lambda: obs.stats()["sent"] == 3), obs.stats()
    assert len([r for r in event_posts(logged_server) if r["status"] == 201]) == 1


def test_a_422_batch_is_split_and_the_rest_delivered_in_order(server, caplog):
    # log() refuses bad events, so they are put in the queue behind its
    # back, as a spool written under other rules or a stale rules.json would.
    bad_type = b'{"id":"bad-1","run_id":"split","type":"artifact","payload":{}}\n'
    bad_field = b'{"id":"bad-2","run_id":"split","type":"thought","payload":{"text":"t","mood":"x"}}\n'
    caplog.set_level(logging.ERROR, logger="observability")
    with ObservabilityProvider(server.url, flush_at=1000, flush_interval=60) as obs:
        for i in range(6):
            obs.log("thought", {"text": "g%d" % i}, run_id="split")
            if i == 1:
                obs._pipeline.submit(bad_type)
            if i == 3:
                obs._pipeline.submit(bad_field)
        assert obs.flush(10)
        stats = obs.stats()
    assert stats["rejected"] == 2 and stats["sent"] == 6 and stats["queued"] == 0, stats
    assert texts(server.steps("split")) == ["g%d" % i for i in range(6)]
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2, refusals
    assert "bad-1" in refusals[0] and "type: artifact events are written by the server only" in refusals[0]
    assert "bad-2" in refusals[1] and "payload.mood: unknown field" in refusals[1]


def test_a_409_event_is_rejected_once_and_its_batch_delivered(server, caplog):
    caplog.set_level(logging.ERROR, logger="observability")
    with ObservabilityProvider(server.url, flush_at=1000, flush_interval=60) as obs:
        obs.log("thought", {"text": "first"}, run_id="conflict", id="fixed-1")
        assert obs.flush(10)
        obs.log("thought", {"text": "a"}, run_id="conflict")
        obs.log("thought", {"text": "other body"}, run_id="conflict", id="fixed-1")
        obs.log("thought", {"text": "b"}, run_id="conflict")
        assert obs.flush(10)
        stats = obs.stats()
    assert stats["rejected"] == 1 and stats["sent"] == 3, stats
    assert texts(server.steps("conflict")) == ["first", "a", "b"]
    assert len([r for r in caplog.records if "409" in r.getMessage()]) == 1


def test_resends_are_counted_as_duplicates_and_stored_once(server):
    with ObservabilityProvider(server.url) as obs:
        # The same body: log() stamps the time, so it is given here.
        ts = "2026-11-27T22:04:05.123Z"
        obs.log("thought", {"text": "same"}, run_id="dups", id="dup-1", ts=ts)
        assert obs.flush(10)
        obs.log("thought", {"text": "same"}, run_id="dups", id="dup-1", ts=ts)
        assert obs.flush(10)
        stats = obs.stats()
    assert stats["sent"] == 1 and stats["duplicates"] == 1, stats
    assert len(server.steps("dups")) == 1


def test_503_and_429_are_retried_after_retry_after(server):
    front = Front(server.url, refusals=[(503, {"Retry-After": "1"}), (429, {"Retry-After": "1"})])
    try:
        with ObservabilityProvider(front.url, flush_at=1000, flush_interval=0.05) as obs:
            for i in range(10):
                obs.log("thought", {"text": "t%d" % i}, run_id="overloaded")
            assert obs.flush(15)
            stats = obs.stats()
    finally:
        front.close()
    assert stats["retries"] >= 2 and stats["sent"] == 10, stats
    times = [t for t, method, path, _, _ in front.seen if method == "POST"]
    statuses = [status for _, method, _, _, status in front.seen if method == "POST"]
    assert statuses[:2] == [503, 429] and statuses[-1] == 201, statuses
    assert times[1] - times[0] >= 1.0 and times[2] - times[1] >= 1.0, times
    assert texts(server.steps("overloaded")) == ["t%d" % i for i in range(10)]


def test_connection_errors_are_retried_until_the_server_comes(tmp_path):
    port = free_port()
    with ObservabilityProvider("http://127.0.0.1:%d" % port, flush_interval=0.05) as obs:
        for i in range(5):
            obs.log("thought", {"text": "t%d" % i}, run_id="late")
        assert wait_for(lambda: obs.stats()["retries"] >= 2)
        assert obs.stats()["queued"] == 5 and obs.stats()["sent"] == 0
        server = Server(str(tmp_path)).start(port)
        try:
            assert obs.flush(15)
            assert texts(server.steps("late")) == ["t%d" % i for i in range(5)]
        finally:
            server.stop()


def test_gzip_bodies_or_the_plain_fallback_on_the_real_server(server):
    # What the server does with a gzip body today decides what the SDK must do.
    probe = gzip.compress(json.dumps({"events": [{"run_id": "probe", "type": "thought",
                                                  "payload": {"text": "p"}}]}).encode())
    status, _ = server.post("/observability/events", probe, {"Content-Encoding": "gzip"})
    with ObservabilityProvider(server.url) as obs:
        for i in range(20):
            obs.log("thought", {"text": "t%d" % i}, run_id="gz")
        assert obs.flush(10)
        stats = obs.stats()
    assert stats["sent"] == 20 and stats["rejected"] == 0, stats
    if status == 201:
        assert stats["gzip"] is True
    else:
        assert status in (400, 415)
        assert stats["gzip"] is False
    assert texts(server.steps("gz")) == ["t%d" % i for i in range(20)]


def test_gzip_bodies_are_sent_while_a_server_takes_them(server):
    front = Front(server.url, gunzip=True)
    try:
        with ObservabilityProvider(front.url, flush_at=100) as obs:
            for i in range(250):
                obs.log("thought", {"text": "t%d" % i}, run_id="gz-front")
            assert obs.flush(10)
            stats = obs.stats()
    finally:
        front.close()
    assert stats["gzip"] is True and stats["sent"] == 250, stats
    posts = [headers for _, method, _, headers, _ in front.seen if method == "POST"]
    assert posts and all(h.get("Content-Encoding") == "gzip" for h in posts)
    assert texts(server.steps("gz-front")) == ["t%d" % i for i in range(250)]


def test_a_full_queue_drops_new_events_and_log_never_waits():
    with ObservabilityProvider("http://127.0.0.1:%d" % free_port(), max_queue=10) as obs:
        ids = [obs.log("thought", {"text": "t%d" % i}, run_id="full") for i in range(25)]
        stats = obs.stats()
        assert len(set(ids)) == 25
        assert stats["dropped"] == 15 and stats["queued"] == 10, stats
        obs.close(timeout=0.2)
        stats = obs.stats()
    # Undelivered at close: counted as dropped too; nothing left queued.
    assert stats["dropped"] == 25 and stats["queued"] == 0, stats


def test_log_after_close_is_dropped_and_counted(server):
    obs = ObservabilityProvider(server.url)
    obs.close()
    obs.log("thought", {"text": "late"}, run_id="after-close")
    assert obs.stats()["dropped"] == 1


def test_threads_log_at_once_and_each_threads_order_is_kept(server):
    per_thread = 300
    with ObservabilityProvider(server.url, flush_at=64) as obs:
        def worker(n):
            for i in range(per_thread):
                obs.log("thought", {"text": "%d:%d" % (n, i)}, run_id="threads", node="w%d" % n)
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert obs.flush(20)
    steps = server.steps("threads")
    assert len(steps) == 8 * per_thread and len({s["id"] for s in steps}) == len(steps)
    for n in range(8):
        mine = [s["payload"]["text"] for s in steps if s["node"] == "w%d" % n]
        assert mine == ["%d:%d" % (n, i) for i in range(per_thread)]


def failing_step():
    raise KeyError("no such tool")


def test_run_logs_started_and_finished_and_an_escaping_exception(server):
    with ObservabilityProvider(server.url) as obs:
        with obs.run("fine", "planner", tags=["t"], metadata={"team": "a"}) as ok:
            ok.log("thought", {"text": "all good"})
        with pytest.raises(KeyError):
            with obs.run("broken", "planner", parent_run_id=ok.id) as bad:
                bad.log("thought", {"text": "about to fail"})
                failing_step()
        assert obs.flush(10)
    assert [s["type"] for s in server.steps(ok.id)] == ["run_started", "thought", "run_finished"]
    assert server.get("/observability/runs/" + ok.id)["status"] == "succeeded"
    steps = server.steps(bad.id)
    assert [s["type"] for s in steps] == ["run_started", "thought", "error", "run_finished"]
    error = steps[2]["payload"]
    assert error["kind"] == "KeyError" and error["message"] == "'no such tool'" and error["fatal"] is True
    assert "Traceback" in error["stack"] and "failing_step" in error["stack"]
    run = server.get("/observability/runs/" + bad.id)
    assert run["status"] == "failed" and run["parent_run_id"] == ok.id


def test_artifacts_upload_after_the_events_before_them(server, tmp_path):
    report = tmp_path / "report.json"
    report.write_bytes(b'{"score": 3}')
    with ObservabilityProvider(server.url, flush_at=1000, flush_interval=60) as obs:
        with obs.run("with files", "writer") as run:
            step = run.log("thought", {"text": "writing the report"})
            run.artifact("report.json", report, step_id=step)
            run.artifact("raw.bin", bytes(range(256)), content_type="application/x-raw")
        assert obs.flush(10)
        stats = obs.stats()
    assert stats["artifacts_sent"] == 2 and stats["artifacts_failed"] == 0, stats
    listed = {a["name"]: a for a in server.get("/observability/runs/%s/artifacts" % run.id)["artifacts"]}
    assert listed["report.json"]["step_id"] == step and listed["report.json"]["content_type"] == "application/json"
    assert listed["raw.bin"]["size"] == 256 and listed["raw.bin"]["content_type"] == "application/x-raw"
    import urllib.request
    with urllib.request.urlopen(server.url + "/observability/runs/%s/artifacts/raw.bin" % run.id) as r:
        assert r.read() == bytes(range(256))
    with pytest.raises(ValueError, match="name: the artifact name contains '/'"):
        ObservabilityProvider.artifact(obs, run.id, "a/b", b"x")


def test_url_and_key_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OBS_URL", server.url)
    with ObservabilityProvider() as obs:
        assert obs.url == server.url
        obs.log("thought", {"text": "env"}, run_id="env")
        assert obs.flush(10)
    assert texts(server.steps("env")) == ["env"]
