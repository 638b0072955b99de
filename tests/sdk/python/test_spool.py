"""The spool: events whose log() returned survive a SIGKILL of the agent and
a server that is down, and a new provider on the same folder delivers each
exactly once.

The agent is a child Python process that logs N events with spool_dir and
SIGKILLs itself the moment the last log() returns (nothing else runs in
between: no close(), no atexit, no flush of anything).
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from conftest import SDK_DIR, Server, free_port
from observability import ObservabilityProvider
from observability._spool import SpoolBusy

AGENT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from observability import ObservabilityProvider
    spool, url, n, run_id, flush_at = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    obs = ObservabilityProvider(url, spool_dir=spool, flush_at=flush_at, flush_interval=0.01)
    for i in range(n):
        obs.log("thought", {"text": "e%d" % i}, run_id=run_id, node="agent")
    os.kill(os.getpid(), signal.SIGKILL)
""")


def run_agent(spool, url, n, run_id, flush_at=256):
    child = subprocess.run([sys.executable, "-c", AGENT, SDK_DIR, spool, url, str(n), run_id, str(flush_at)],
                           timeout=60)
    assert child.returncode == -signal.SIGKILL


def segments(spool):
    return [name for name in os.listdir(spool) if name.endswith(".seg")]


def test_events_of_a_killed_agent_with_the_server_down_are_delivered_once(tmp_path):
    spool = str(tmp_path / "spool")
    port = free_port()
    n = 3000
    run_agent(spool, "http://127.0.0.1:%d" % port, n, "killed-offline")
    assert segments(spool)
    server = Server(str(tmp_path)).start(port)
    try:
        with ObservabilityProvider(server.url, spool_dir=spool) as obs:
            assert obs.flush(30)
            stats = obs.stats()
        assert stats["spooled"] == n and stats["sent"] == n and stats["duplicates"] == 0, stats
        steps = server.steps("killed-offline")
        assert [s["payload"]["text"] for s in steps] == ["e%d" % i for i in range(n)]
        assert len({s["id"] for s in steps}) == n
        assert segments(spool) == []
    finally:
        server.stop()


def test_a_killed_agent_mid_delivery_leaves_the_rest_to_the_next_provider(server, tmp_path):
    spool = str(tmp_path / "spool")
    n = 4000
    # The server is up: some batches are stored before the kill, the rest
    # (and perhaps one stored whose answer was lost) stay in the spool.
    run_agent(spool, server.url, n, "killed-online", flush_at=100)
    with ObservabilityProvider(server.url, spool_dir=spool) as obs:
        assert obs.flush(30)
        stats = obs.stats()
    assert stats["sent"] + stats["duplicates"] == stats["spooled"] > 0 and stats["rejected"] == 0, stats
    steps = server.steps("killed-online")
    assert [s["payload"]["text"] for s in steps] == ["e%d" % i for i in range(n)]
    assert segments(spool) == []


def test_the_spool_bound_drops_and_counts(tmp_path):
    with ObservabilityProvider("http://127.0.0.1:%d" % free_port(), spool_dir=str(tmp_path / "s"),
                               spool_max_bytes=20000) as obs:
        for i in range(1000):
            obs.log("thought", {"text": "x" * 100}, run_id="bounded")
        stats = obs.stats()
        obs.close(timeout=0)
    assert stats["spooled"] + stats["dropped"] == 1000 and 50 < stats["spooled"] < 200, stats
    size = sum(os.path.getsize(os.path.join(tmp_path / "s", f)) for f in segments(str(tmp_path / "s")))
    assert size <= 20000


def test_one_live_provider_per_spool_folder(tmp_path):
    spool = str(tmp_path / "spool")
    with ObservabilityProvider("http://127.0.0.1:%d" % free_port(), spool_dir=spool) as first:
        with pytest.raises(SpoolBusy):
            ObservabilityProvider("http://127.0.0.1:%d" % free_port(), spool_dir=spool)
        first.close(timeout=0)
