"""The graph's nodes: a controller that plans and three workers that each
solve one part, every one instrumented with the observability SDK.

A node is a function of the graph state (a dict); the provider travels in
the state under "obs", as the plan's graph would inject it, and each node
logs what it does through the run handle it is given. The "model" and the
tools are small deterministic stand-ins so the example runs anywhere: what
matters here is what gets logged, and how.
"""

import json
import random
import time

GEARS = {"motor": 1750, "stage-1": (18, 54), "stage-2": (15, 60), "wheel": 0.3}


def tiny_model(prompt):
    """A stand-in for an LLM call: an answer, token counts, latency."""
    started = time.perf_counter()
    time.sleep(random.uniform(0.01, 0.03))
    answer = "plan: ratio of stage-1, ratio of stage-2, wheel speed" if "plan" in prompt else "ok: " + prompt[:40]
    return answer, len(prompt.split()) * 3, len(answer.split()) * 3, int((time.perf_counter() - started) * 1000)


_wheel_lookups = []


def lookup_tool(key):
    """A stand-in for a tool: reads the gear table; the first lookup of 'wheel'
    times out, so every run of the example shows a failed tool call and its retry."""
    if key == "wheel" and not _wheel_lookups:
        _wheel_lookups.append(key)
        raise TimeoutError("the parts catalogue did not answer in time")
    return GEARS[key]


def llm(run, node, prompt):
    answer, tokens_in, tokens_out, latency = tiny_model(prompt)
    run.log("llm_call", {"model": "tiny-planner-1", "provider": "local", "prompt": [{"role": "user", "content": prompt}],
                         "completion": answer, "input_tokens": tokens_in, "output_tokens": tokens_out,
                         "latency_ms": latency, "cost_usd": 0.000002 * (tokens_in + tokens_out)}, node=node)
    return answer


def call_tool(run, node, tool, key, parent_id=None):
    """A tool call and its result (or its error), the result nested under the call."""
    call_id = "%s-%s-%d" % (node, key, random.randrange(1 << 30))
    call = run.log("tool_call", {"tool": tool, "call_id": call_id, "arguments": {"key": key}}, node=node,
                   parent_id=parent_id)
    started = time.perf_counter()
    try:
        value = lookup_tool(key)
    except TimeoutError as e:
        run.log("tool_result", {"call_id": call_id, "output": str(e), "is_error": True,
                                "duration_ms": int((time.perf_counter() - started) * 1000)}, node=node, parent_id=call)
        run.log("error", {"kind": "TimeoutError", "message": str(e), "fatal": False}, node=node, parent_id=call)
        raise
    run.log("tool_result", {"call_id": call_id, "output": value,
                            "duration_ms": int((time.perf_counter() - started) * 1000)}, node=node, parent_id=call)
    return value


def worker(state, n, part):
    """Worker node n: solves one part in a child run of the controller's run."""
    obs, node = state["obs"], "worker-%d" % n
    with obs.run("solve %s" % part, node, parent_run_id=state["run"].id, tags=["gears"]) as run:
        run.log("thought", {"text": "I compute %s" % part}, node=node)
        if part == "stage ratios":
            ratios = [b / a for a, b in (call_tool(run, node, "table", "stage-1"),
                                         call_tool(run, node, "table", "stage-2"))]
            result = ratios[0] * ratios[1]
        elif part == "motor speed":
            result = call_tool(run, node, "table", "motor")
        else:
            for attempt in range(3):
                try:
                    result = call_tool(run, node, "table", "wheel")
                    break
                except TimeoutError:
                    run.log("log", {"level": "warning", "message": "retrying the catalogue (%d)" % attempt},
                            node=node)
            else:
                raise RuntimeError("the catalogue never answered")
        llm(run, node, "check %s = %s" % (part, result))
        state["results"][part] = result
        # The controller's run hears from its workers too.
        state["run"].log("log", {"level": "info", "message": "%s done: %s" % (node, part)}, node=node)


def controller(state, spawn):
    """The controller node: plans, hands the parts to the workers, combines."""
    run, node = state["run"], "controller"
    run.log("thought", {"text": "How fast does the wheel turn? Split it in three."}, node=node)
    llm(run, node, "plan how to find the wheel speed of a two-stage gearbox")
    parts = ["stage ratios", "motor speed", "wheel diameter"]
    spawn([(worker, n + 1, part) for n, part in enumerate(parts)])
    r = state["results"]
    rpm = r["motor speed"] / r["stage ratios"]
    speed = rpm * 3.14159 * r["wheel diameter"] / 60
    run.log("thought", {"text": "wheel: %.1f rpm, %.2f m/s" % (rpm, speed)}, node=node)
    run.artifact("report.json", json.dumps({"wheel_rpm": rpm, "speed_m_s": speed, "inputs": r}).encode())
    return speed
