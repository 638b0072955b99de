"""The SDK refuses what the server refuses, with the same path and words.

The bad events are the server's own table (tests/domain/bad_events_table.cpp,
printed by obs_dump_bad_events with the full message domain answers for
each row), not a copy: every row that is about one event must be refused by
the SDK's check_event with exactly that one violation, and by log() when the
row can be said through log()'s arguments. Good events (each type, every
bound at its limit) must pass both the SDK and the real server. Random
mutations of good events are sent to the real server and the SDK must
predict its answer exactly.
"""

import json
import random
import subprocess

import pytest

from conftest import free_port, tool
from observability import InvalidEvent, InvalidEventType, ObservabilityProvider, check_event
from observability._rules import RULES

ENVELOPE_KEYS = {"run_id", "type", "payload", "id", "ts", "node", "parent_id"}


@pytest.fixture(scope="module")
def table():
    out = subprocess.run([tool("OBS_DUMP_BAD_EVENTS", "tests/domain/obs_dump_bad_events")], check=True,
                         capture_output=True, timeout=60).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def offline_provider():
    # Every log() below raises before anything is queued: no server needed.
    p = ObservabilityProvider("http://127.0.0.1:%d" % free_port())
    yield p
    p.close(timeout=0)


def batch_level_reason(body, row):
    """Why a row is about the request body rather than one event, or None.
    The SDK builds every request body itself from events that passed
    check_event, so those rules are the delivery code's to keep, not
    log()'s caller's (test_delivery checks the bodies the server takes)."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if set(body) != {"events"}:
        return "the body has keys besides 'events'"
    events = body["events"]
    if not isinstance(events, list):
        return "'events' is not an array"
    if not 1 <= len(events) <= RULES["limits"]["max_batch_events"]:
        return "the batch has %d events" % len(events)
    return None


def log_arguments(event):
    """log()'s arguments for a bad event, or (None, why) when log() cannot
    say it: a key log() has no argument for, or a null (None means "leave
    the field out" in log()'s keywords)."""
    if not isinstance(event, dict):
        return None, "the event is not an object"
    if not set(event) <= ENVELOPE_KEYS:
        return None, "unknown envelope key %s" % sorted(set(event) - ENVELOPE_KEYS)
    if "type" not in event or "payload" not in event or "run_id" not in event:
        return None, "log() always sends type, payload and run_id"
    if any(event.get(k, "") is None for k in ("id", "node", "parent_id", "run_id")):
        return None, "null for an envelope field"
    kwargs = {k: event[k] for k in ("id", "node", "parent_id", "ts") if k in event}
    return (event["type"], event["payload"], event["run_id"], kwargs), None


def test_every_bad_event_of_the_server_table_is_refused_alike(table, offline_provider):
    assert len(table) >= 100
    mismatches = []
    skipped = []
    through_log = 0
    for row in table:
        body = json.loads(row["body"])
        why = batch_level_reason(body, row)
        if why:
            skipped.append((row["path"], why))
            continue
        events = body["events"]
        for i, event in enumerate(events):
            got = [(v.path, v.message) for v in check_event(event)]
            want = [(row["path"], row["server_message"])] if i == row["index"] else []
            if got != want:
                mismatches.append(("check_event", row["body"][:160], i, got, want))
        assert row["message"] in row["server_message"]
        args, _ = log_arguments(events[row["index"]])
        if args is None:
            continue
        step_type, payload, run_id, kwargs = args
        try:
            offline_provider.log(step_type, payload, run_id=run_id, **kwargs)
            mismatches.append(("log accepted", row["body"][:160]))
        except InvalidEvent as e:
            through_log += 1
            if not any(p == row["path"] and row["server_message"] in m for p, m in e.violations):
                mismatches.append(("log", row["body"][:160], e.violations, row["path"], row["server_message"]))
    assert not mismatches, "\n".join(map(str, mismatches))
    # Only the batch's own shape may be left out, and it is a small part.
    assert all(path in ("", "events") or path not in ("run_id", "type", "payload") for path, _ in skipped)
    assert len(skipped) <= 8, skipped
    assert through_log >= len(table) - len(skipped) - 15, through_log
    assert offline_provider.stats()["queued"] == 0


def good_events():
    deep = {}
    for _ in range(63):
        deep = {"a": deep}
    return [
        {"run_id": "r-good.1:x_Y", "type": "run_started",
         "payload": {"name": "n", "agent": "a", "parent_run_id": "p" * 128, "tags": ["t%d" % i for i in range(32)],
                     "metadata": {"k%d" % i: "v" for i in range(64)}}},
        {"run_id": "r1", "type": "run_finished", "payload": {"status": "cancelled", "summary": ""}},
        {"run_id": "r1", "type": "thought", "payload": {"text": "x" * RULES["limits"]["max_text_bytes"]}},
        {"run_id": "r1", "type": "thought", "payload": {"text": "é" * (RULES["limits"]["max_text_bytes"] // 2)}},
        {"run_id": "r1", "type": "tool_call", "payload": {"tool": "t", "call_id": "c", "arguments": deep}},
        {"run_id": "r1", "type": "tool_result", "payload": {"call_id": "c", "output": None, "is_error": False,
                                                            "duration_ms": 2 ** 63 - 1}},
        {"run_id": "r1", "type": "tool_result", "payload": {"call_id": "c", "output": [[[]]], "duration_ms": 0}},
        {"run_id": "r1", "type": "llm_call", "payload": {"model": "m", "provider": "p", "input_tokens": 0,
                                                         "output_tokens": 5, "latency_ms": 1, "cost_usd": 0,
                                                         "prompt": [{"role": "user", "content": "hi"}],
                                                         "completion": "ok"}},
        {"run_id": "r1", "type": "llm_call", "payload": {"model": "m", "cost_usd": 1e308, "prompt": "p"}},
        {"run_id": "r1", "type": "error", "payload": {"kind": "k", "message": "m", "stack": "s", "fatal": True}},
        {"run_id": "r1", "type": "log", "payload": {"level": "warning", "message": "m"}},
        {"run_id": "r1", "type": "span", "payload": {"name": "s", "kind": "client", "status": "ok",
                                                     "duration_ms": 3, "attributes": {"a": [1, {"b": None}]}}},
        {"run_id": "r1", "type": "thought", "payload": {"text": "t"}, "id": "i" * 128, "node": "ü" * 64,
         "parent_id": "p-1", "ts": "2026-11-27t22:04:05.123456+05:30"},
        {"run_id": "r1", "type": "thought", "payload": {"text": "t"}, "ts": "1970-01-01T00:00:00Z"},
        {"run_id": "r1", "type": "thought", "payload": {"text": "t"}, "ts": "9999-12-31T23:59:59.999z"},
    ]


def test_good_events_pass_the_sdk_and_the_server(server):
    for event in good_events():
        assert check_event(event) == [], event["type"]
        status, answer = server.post("/observability/events", json.dumps({"events": [event]}).encode())
        assert status == 201, (event["type"], answer)
    with ObservabilityProvider(server.url) as obs:
        for event in good_events():
            kwargs = {k: event[k] for k in ("id", "node", "parent_id", "ts") if k in event}
            if "id" in kwargs:
                kwargs["id"] = "log-" + kwargs["id"][4:]  # not the id stored above
            obs.log(event["type"], event["payload"], run_id="via-log", **kwargs)
        assert obs.flush(30)
        stats = obs.stats()
    assert stats["sent"] == len(good_events()) and stats["rejected"] == 0, stats
    assert [s["type"] for s in server.steps("via-log")] == [e["type"] for e in good_events()]


# ------------------------------------------------------- random mutations

POOL = [None, 0, -1, 1.5, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, True, "", "a b", "x" * 129, [], {}, ["a", 1],
        {"k": 1}, {"k": "v"}, "succeeded", "info", "ok", "2026-02-29T00:00:00Z", "2028-02-29T00:00:00+14:00",
        [[[[]]]], "tool", "r1", -0.0]


def mutate(rng, event):
    event = json.loads(json.dumps(event))
    for _ in range(rng.randint(1, 3)):
        target = event if rng.random() < 0.35 or not isinstance(event.get("payload"), dict) else event["payload"]
        choice = rng.random()
        keys = list(target)
        if choice < 0.2 and keys:
            del target[rng.choice(keys)]
        elif choice < 0.3:
            target[rng.choice(["extra", "Text", "offset", "temperature"])] = 1
        elif keys:
            target[rng.choice(keys)] = rng.choice(POOL)
    return event


def test_random_mutations_get_the_servers_verdict(server):
    rng = random.Random(15)
    small = [e for e in good_events() if len(json.dumps(e)) < 4000]
    disagreements = []
    refused = 0
    for n in range(300):
        event = mutate(rng, rng.choice(small))
        if event.get("id") == "i" * 128:
            event["id"] = "mutation-%d" % n  # a fresh id: a reused one is a 409, no validation matter
        sdk = sorted((v.path, v.message) for v in check_event(event))
        status, answer = server.post("/observability/events", json.dumps({"events": [event]}).encode())
        if status == 201:
            got = []
        elif status == 422:
            refused += 1
            got = sorted((d["path"], d["message"]) for d in answer["error"]["details"])
        else:
            disagreements.append((event, status, answer))
            continue
        if got != sdk:
            disagreements.append((json.dumps(event)[:200], got, sdk))
    assert not disagreements, "\n".join(map(str, disagreements[:10]))
    assert refused > 100  # the mutations do break rules


def test_python_type_errors_and_value_errors(offline_provider):
    log = offline_provider.log
    with pytest.raises(InvalidEventType) as e:
        log("thought", {"text": 5}, run_id="r1")
    assert isinstance(e.value, TypeError) and e.value.violations == [("payload.text", "must be a string")]
    with pytest.raises(TypeError):
        log("thought", ["text"], run_id="r1")
    with pytest.raises(ValueError) as e:
        log("thought", {"text": "t"}, run_id="bad id")
    assert not isinstance(e.value, TypeError)
    assert e.value.violations == [("run_id", RULES["envelope"]["run_id"]["bad_id"])]
    with pytest.raises(ValueError, match=r"payload\.arguments\.x\[1\]: must be a finite number"):
        log("tool_call", {"tool": "t", "call_id": "c", "arguments": {"x": [1, float("nan")]}}, run_id="r1")
    with pytest.raises(TypeError, match=r"payload\.output\.when: is not JSON \(a object\)"):
        log("tool_result", {"call_id": "c", "output": {"when": object()}}, run_id="r1")
    with pytest.raises(ValueError, match=r"payload\.text: must be valid UTF-8"):
        log("thought", {"text": "a\ud800b"}, run_id="r1")
    with pytest.raises(ValueError, match="more than"):
        log("tool_result", {"call_id": "c", "output": ["x" * 1000000] * 5}, run_id="r1")
    with pytest.raises(ValueError, match="time zone"):
        import datetime
        log("thought", {"text": "t"}, run_id="r1", ts=datetime.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match=r"^type: must be one of"):
        log("thinking", {"text": "t"}, run_id="r1")
    with pytest.raises(ValueError, match="written by the server only"):
        log("artifact", {}, run_id="r1")
    with pytest.raises(ValueError, match="^run_id: required"):
        log("thought", {"text": "t"}, run_id=None)
    assert offline_provider.stats()["queued"] == 0


def test_the_shipped_rules_are_the_generators(tmp_path):
    out = subprocess.run([tool("OBS_DUMP_RULES", "sdk/rules/obs_dump_rules")], check=True, capture_output=True,
                         timeout=60).stdout
    assert json.loads(out) == RULES


def test_the_fast_path_of_log_never_passes_what_check_event_refuses():
    # log() first asks cheap predicates (TypeRules.fast_valid and the
    # envelope's); only check_event names violations. A predicate passing a
    # bad value would let log() queue an event the server refuses.
    from observability._fast import TYPES, fast_valid_id, fast_valid_node
    rng = random.Random(7)
    small = [e for e in good_events() if len(json.dumps(e)) < 4000]
    passed_bad = []
    for _ in range(3000):
        event = mutate(rng, rng.choice(small))
        rules = TYPES.get(event.get("type")) if isinstance(event.get("type"), str) else None
        fast = (rules is not None and type(event.get("payload")) is dict and fast_valid_id(event.get("run_id"))
                and set(event) <= {"run_id", "type", "payload", "node", "id", "parent_id"}
                and all(fast_valid_id(event[k]) for k in ("id", "parent_id") if k in event)
                and ("node" not in event or fast_valid_node(event["node"])) and rules.fast_valid(event["payload"]))
        if fast and check_event(event):
            passed_bad.append(event)
    assert not passed_bad, passed_bad[:3]
