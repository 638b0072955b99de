"""The conformance scenario: a controller and three worker threads log a run
(thoughts, tool calls and results, an LLM call with tokens, an error and an
artifact) through one provider; the real server is SIGKILLed mid-run and
restarted 5 s later on the same port and database; the agent finishes; every
event is stored exactly once and in order per run (checked through the GET
routes against what log() returned).

Each worker logs its own child run (one thread per run: the stored order
must equal the logged order exactly) and also reports into the controller's
run (several threads in one run: each thread's events keep their order).
"""

import threading
import time
import urllib.request

from conftest import Server
from observability import ObservabilityProvider

WORKERS = 3
TASKS = 12  # per worker


class Journal:
    """What the agent logged, per run and per (run, node), in log() order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_run = {}
        self.by_node = {}

    def log(self, run, step_type, data, node, **kwargs):
        event_id = run.log(step_type, data, node=node, **kwargs)
        with self.lock:
            self.by_run.setdefault(run.id, []).append(event_id)
            self.by_node.setdefault((run.id, node), []).append(event_id)
        return event_id


def worker(obs, journal, controller, n, halfway):
    node = "worker-%d" % n
    with obs.run("worker %d" % n, "worker", parent_run_id=controller.id) as run:
        with journal.lock:
            journal.by_run.setdefault(run.id, []).append("run_started")
        for task in range(TASKS):
            if task == TASKS // 2:
                halfway.wait()
            journal.log(run, "thought", {"text": "task %d: search first" % task}, node)
            call = journal.log(run, "tool_call", {"tool": "search", "call_id": "%d-%d" % (n, task),
                                                  "arguments": {"q": "gear %d" % task}}, node)
            journal.log(run, "tool_result", {"call_id": "%d-%d" % (n, task), "output": {"hits": task},
                                             "duration_ms": 3}, node, parent_id=call)
            journal.log(controller, "log", {"level": "info", "message": "%s finished task %d" % (node, task)},
                        node)
            time.sleep(0.02)
        if n == 1:
            try:
                raise TimeoutError("the tool took too long")
            except TimeoutError as e:
                journal.log(run, "error", {"kind": "TimeoutError", "message": str(e), "fatal": False}, node)
    with journal.lock:
        journal.by_run[run.id].append("run_finished")
    return run.id


def test_a_controller_and_three_workers_survive_a_server_kill(tmp_path):
    server = Server(str(tmp_path)).start()
    port = server.port
    journal = Journal()
    halfway = threading.Barrier(WORKERS + 1)
    child_runs = []
    try:
        with ObservabilityProvider(server.url, flush_at=32, flush_interval=0.05) as obs:
            with obs.run("plan the gearbox", "controller", tags=["conformance"]) as controller:
                journal.log(controller, "thought", {"text": "split the work in three"}, "controller")
                journal.log(controller, "llm_call", {"model": "m-1", "provider": "local", "input_tokens": 1200,
                                                     "output_tokens": 340, "latency_ms": 812, "cost_usd": 0.0031,
                                                     "prompt": [{"role": "user", "content": "plan"}],
                                                     "completion": "three tasks"}, "controller")
                threads = []
                for n in range(WORKERS):
                    t = threading.Thread(target=lambda n=n: child_runs.append(
                        worker(obs, journal, controller, n, halfway)))
                    threads.append(t)
                    t.start()
                halfway.wait()
                server.kill()  # mid-run: the workers are halfway through
                killed_at = time.monotonic()
                journal.log(controller, "thought", {"text": "the server is gone; go on"}, "controller")
                controller.artifact("plan.md", b"# plan\n1. gears\n")
                time.sleep(max(0.0, 5.0 - (time.monotonic() - killed_at)))
                server.start(port)
                for t in threads:
                    t.join()
                journal.log(controller, "thought", {"text": "all workers are done"}, "controller")
            assert obs.flush(30)
            stats = obs.stats()
        assert stats["rejected"] == 0 and stats["dropped"] == 0 and stats["retries"] > 0, stats

        # Every run: exactly the events logged, once each, in log() order.
        assert len(child_runs) == WORKERS
        for run_id in [controller.id] + child_runs:
            all_steps = server.steps(run_id)
            assert [s["seq"] for s in all_steps] == list(range(1, len(all_steps) + 1))
            # The server writes an `artifact` event of its own for each upload.
            steps = [s for s in all_steps if s["type"] != "artifact"]
            assert len(all_steps) - len(steps) == (1 if run_id == controller.id else 0)
            ids = [s["id"] for s in steps]
            assert len(ids) == len(set(ids)), run_id
            logged = [i for i in journal.by_run.get(run_id, []) if i not in ("run_started", "run_finished")]
            assert steps[0]["type"] == "run_started" and steps[-1]["type"] == "run_finished"
            middle = ids[1:-1]
            if run_id == controller.id:
                assert sorted(middle) == sorted(logged)
                for (rid, node), node_ids in journal.by_node.items():
                    if rid == run_id:
                        assert [i for i in middle if i in set(node_ids)] == node_ids, node
            else:
                assert middle == logged, run_id

        run = server.get("/observability/runs/" + controller.id)
        assert run["status"] == "succeeded"
        assert run["input_tokens"] == 1200 and run["output_tokens"] == 340
        counts = run["step_counts"]
        assert counts["log"] == WORKERS * TASKS and counts["thought"] == 3 and counts["llm_call"] == 1, counts
        errors = [s for r in child_runs for s in server.steps(r) if s["type"] == "error"]
        assert len(errors) == 1 and errors[0]["payload"]["kind"] == "TimeoutError"
        artifacts = server.get("/observability/runs/%s/artifacts" % controller.id)["artifacts"]
        assert [a["name"] for a in artifacts] == ["plan.md"]
        with urllib.request.urlopen(server.url + "/observability/runs/%s/artifacts/plan.md" % controller.id) as r:
            assert r.read() == b"# plan\n1. gears\n"
    finally:
        server.stop()
