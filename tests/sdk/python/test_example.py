"""The example agent (examples/agent_python) and the README's five lines run
against the real server and leave the runs they should, and a provider that
is never closed is flushed by its atexit hook."""

import os
import subprocess
import sys
import textwrap

from conftest import REPO, SDK_DIR


def run_python(code_or_args, server, timeout=60):
    env = dict(os.environ, OBS_URL=server.url, PYTHONPATH=SDK_DIR)
    args = [sys.executable] + (code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args])
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)


def test_the_example_agent_logs_a_controller_and_three_workers(server):
    out = run_python([os.path.join(REPO, "examples", "agent_python", "agent.py")], server)
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.split()[1].rstrip(":")
    run = server.get("/observability/runs/" + run_id)
    assert run["status"] == "succeeded" and run["agent"] == "controller"
    children = [r for r in server.get("/observability/runs?limit=50")["runs"] if r["parent_run_id"] == run_id]
    assert sorted(r["agent"] for r in children) == ["worker-1", "worker-2", "worker-3"]
    assert all(r["status"] == "succeeded" for r in children)
    types = {s["type"] for r in children for s in server.steps(r["id"])}
    assert {"thought", "tool_call", "tool_result", "llm_call"} <= types
    assert [a["name"] for a in server.get("/observability/runs/%s/artifacts" % run_id)["artifacts"]] == ["report.json"]


def test_the_readme_snippet(server):
    snippet = textwrap.dedent("""
        from observability import ObservabilityProvider
        with ObservabilityProvider() as obs, obs.run("triage", "controller") as run:
            call = run.log("tool_call", {"tool": "search", "call_id": "c1", "arguments": {"q": "gears"}})
            run.log("tool_result", {"call_id": "c1", "output": ["a", "b"]}, parent_id=call)
            run.artifact("report.md", b"# findings\\n")
        print(run.id)
    """)
    out = run_python(snippet, server)
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    steps = server.steps(run_id)
    assert [s["type"] for s in steps if s["type"] != "artifact"] == ["run_started", "tool_call", "tool_result",
                                                                      "run_finished"]
    assert steps[2]["parent_id"] == steps[1]["id"]


def test_atexit_delivers_what_an_unclosed_provider_queued(server):
    out = run_python(textwrap.dedent("""
        from observability import ObservabilityProvider
        obs = ObservabilityProvider(flush_at=10000, flush_interval=60)
        for i in range(500):
            obs.log("thought", {"text": "t%d" % i}, run_id="atexit")
    """), server)
    assert out.returncode == 0, out.stderr
    assert [s["payload"]["text"] for s in server.steps("atexit")] == ["t%d" % i for i in range(500)]
