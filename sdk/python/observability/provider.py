"""ObservabilityProvider: log() in the agent's threads, delivery in one
background thread.

log() checks an event against the server's rules (observability._rules) in
the calling thread and raises at once when it breaks one, then gives it its
UUIDv7 id and its time, encodes it, and queues it (or appends it to the
spool): no network I/O, no waiting. The delivery thread (_delivery.py) does
the rest. See sdk/README.md for the whole behaviour.
"""

import atexit
import collections.abc
import datetime
import logging
import mimetypes
import os
import threading
import time
import traceback
import urllib.parse

from observability import _fast, _rules
from observability._delivery import MAX_BATCH_BYTES, Delivery
from observability._encoding import encode, unencodable
from observability._pipeline import Pipeline
from observability._spool import Spool
from observability._time import RFC3339_MS_LIMIT, datetime_ms, format_ms, uuid7
from observability._transport import Transport

_log = logging.getLogger("observability")

DEFAULT_URL = "http://127.0.0.1:8000"
MAX_EVENT_BYTES = MAX_BATCH_BYTES - 16
MAX_ARTIFACT_BYTES = 256 << 20          # the server's default artifact limit
MAX_QUEUED_ARTIFACT_BYTES = 256 << 20   # artifact bytes held in memory awaiting upload

_TYPES = _fast.TYPES
_fast_id = _fast.fast_valid_id
_fast_node = _fast.fast_valid_node
_encode = encode


_time_ns = time.time_ns
_open_providers = 0
_open_lock = threading.Lock()


class InvalidEvent(ValueError):
    """An event the server would refuse. `violations` lists (path, message)
    pairs with the server's paths (`payload.tags[3]`) and messages."""

    def __init__(self, violations):
        self.violations = [(v[0], v[1]) for v in violations]
        super().__init__("; ".join(str(v) for v in violations))


class InvalidEventType(InvalidEvent, TypeError):
    """An InvalidEvent whose every violation is a value of the wrong type."""


def _refuse(violations):
    if all(v[2] in _rules.TYPE_RULES for v in violations):
        return InvalidEventType(violations)
    return InvalidEvent(violations)


class _ArtifactJob:
    __slots__ = ("run_id", "name", "quoted_name", "data", "path", "content_type", "step_id", "after",
                 "size_in_memory")

    def __init__(self, run_id, name, data, path, content_type, step_id):
        self.run_id = run_id
        self.name = name
        self.quoted_name = urllib.parse.quote(name, safe="")
        self.data = data
        self.path = path
        self.content_type = content_type
        self.step_id = step_id
        self.after = 0
        self.size_in_memory = len(data) if data is not None else 0


class Run:
    """A run being logged: its `id`, and log()/artifact() bound to it."""

    __slots__ = ("id", "_provider")

    def __init__(self, provider, run_id):
        self.id = run_id
        self._provider = provider

    def log(self, step_type, data, *, node=None, parent_id=None, id=None, ts=None):
        return self._provider.log(step_type, data, run_id=self.id, node=node, parent_id=parent_id, id=id, ts=ts)

    def artifact(self, name, data_or_path, content_type=None, step_id=None):
        self._provider.artifact(self.id, name, data_or_path, content_type=content_type, step_id=step_id)


class _RunScope:
    """The context manager of ObservabilityProvider.run()."""

    def __init__(self, provider, payload, run_id):
        self._provider = provider
        self._payload = payload
        self._run = Run(provider, run_id)

    def __enter__(self):
        self._provider.log("run_started", self._payload, run_id=self._run.id)
        return self._run

    def __exit__(self, exc_type, exc, tb):
        log = self._provider.log
        if exc_type is None:
            log("run_finished", {"status": "succeeded"}, run_id=self._run.id)
            return False
        kind = exc_type.__qualname__
        if exc_type.__module__ not in ("builtins", "__main__"):
            kind = exc_type.__module__ + "." + kind
        limit = _rules.MAX_TEXT_BYTES // 4  # characters that fit the text rule in any encoding
        message = str(exc)[:limit]
        stack = "".join(traceback.format_exception(exc_type, exc, tb))[-limit:]
        log("error", {"kind": kind[:limit], "message": message, "stack": stack, "fatal": True}, run_id=self._run.id)
        log("run_finished", {"status": "failed", "summary": ("%s: %s" % (kind, message))[:limit]},
            run_id=self._run.id)
        return False


class ObservabilityProvider:
    """Logs an agent's events to the observability server without blocking it.

    One per process, shared by every thread. `url`/`api_key` default to the
    OBS_URL / OBS_API_KEY environment variables, then http://127.0.0.1:8000.
    A batch goes when `flush_at` events wait or `flush_interval` seconds after
    the first of them; at most `max_queue` events wait in memory (more are
    dropped and counted) unless `spool_dir` is given, in which case every
    event is kept on disk there until acknowledged (up to `spool_max_bytes`)
    and a later provider on the same folder sends what this one could not.
    `timeout` bounds each HTTP request.
    """

    def __init__(self, url=None, api_key=None, *, flush_at=256, flush_interval=0.2, max_queue=100_000,
                 spool_dir=None, spool_max_bytes=1 << 30, timeout=10.0):
        url = url or os.environ.get("OBS_URL") or DEFAULT_URL
        api_key = api_key if api_key is not None else os.environ.get("OBS_API_KEY") or None
        if not isinstance(flush_at, int) or flush_at < 1:
            raise ValueError("flush_at must be an integer >= 1")
        if not flush_interval > 0 or not timeout > 0:
            raise ValueError("flush_interval and timeout must be > 0 seconds")
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError("max_queue must be an integer >= 1")
        transport = Transport(url, api_key, float(timeout))
        spool = Spool(os.fspath(spool_dir), int(spool_max_bytes)) if spool_dir is not None else None
        if spool is not None and spool.recovered:
            _log.info("%d events left in %s by an earlier provider will be sent", spool.recovered,
                      spool_dir)
        self.url = url
        self._pipeline = Pipeline(flush_at, float(flush_interval), max_queue, spool, _rules.MAX_BATCH_EVENTS)
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=Delivery(self._pipeline, transport).run,
                                        name="observability-delivery", daemon=True)
        self._thread.start()
        self._at_exit = self._close_at_exit
        atexit.register(self._at_exit)
        global _open_providers
        with _open_lock:
            _open_providers += 1
            if _open_providers > 1:
                _log.warning("%d providers are open in this process; one is meant to be shared",
                             _open_providers)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    # ------------------------------------------------------------- logging

    def log(self, step_type, data, *, run_id, node=None, parent_id=None, id=None, ts=None):
        """Queues one event of type `step_type` with payload `data` (a dict)
        and returns its id. Raises InvalidEvent (a ValueError) or
        InvalidEventType (also a TypeError) naming the field, with the
        server's message, when the server would refuse it."""
        if type(data) is not dict and isinstance(data, collections.abc.Mapping):
            data = dict(data)
        rules = _TYPES.get(step_type) if type(step_type) is str else None
        if (ts is None and rules is not None and type(data) is dict and _fast_id(run_id)
                and (node is None or _fast_node(node)) and (parent_id is None or _fast_id(parent_id))
                and (id is None or _fast_id(id)) and rules.fast_valid(data)):
            ts_text = None  # the common case: surely valid, nothing built to report
        else:
            ts_text = self._check_slowly(step_type, data, run_id, node, parent_id, id, ts)
        return self._queue(step_type, data, run_id, node, parent_id, id, ts_text)

    def _check_slowly(self, step_type, data, run_id, node, parent_id, id, ts):
        """Every rule, with the server's paths and messages; raises when one
        is broken, else returns the event's `ts` text (or None for now)."""
        event = {"run_id": run_id, "type": step_type, "payload": data}
        if run_id is None:
            del event["run_id"]
        if id is not None:
            event["id"] = id
        if node is not None:
            event["node"] = node
        if parent_id is not None:
            event["parent_id"] = parent_id
        ts_text = None
        extra = None
        if ts is not None:
            if isinstance(ts, str):
                event["ts"] = ts
                ts_text = ts
            elif isinstance(ts, datetime.datetime):
                ms = datetime_ms(ts)
                if 0 <= ms < RFC3339_MS_LIMIT:
                    ts_text = format_ms(ms)
                else:
                    extra = _rules.Violation("ts", _rules.ENVELOPE["ts"]["out_of_range"], "out_of_range")
            else:
                extra = _rules.Violation("ts", _rules.ENVELOPE["ts"]["not_string"] + " or an aware datetime",
                                         "not_string")
        violations = _rules.check_event(event)
        if extra is not None:
            violations.append(extra)
        if violations:
            raise _refuse(violations)
        return ts_text

    def _queue(self, step_type, data, run_id, node, parent_id, id, ts_text):
        """Encodes a valid event and hands it to the pipeline; returns its id."""
        now_ns = _time_ns()
        event_id = id if id is not None else uuid7(now_ns)
        if ts_text is None:
            ts_text = format_ms(now_ns // 1000000)
        try:
            payload_text = _encode(data)
            head = '{"id":"%s","run_id":"%s","type":"%s","ts":"%s"' % (event_id, run_id, step_type, ts_text)
            if node is not None:
                head += ',"node":' + _encode(node)
            if parent_id is not None:
                head += ',"parent_id":"%s"' % parent_id
            line = (head + ',"payload":' + payload_text + "}\n").encode("utf-8")
        except (ValueError, TypeError, RecursionError):
            found = unencodable(node, "node") or unencodable(data, "payload")
            raise _refuse([found or _rules.Violation("payload", "cannot be encoded as JSON", "not_json")]) from None
        if len(line) > MAX_EVENT_BYTES:
            raise InvalidEvent([_rules.Violation(
                "", "the encoded event is %d bytes, more than the %d a request body may hold" % (
                    len(line), MAX_EVENT_BYTES), "too_large")])
        self._pipeline.submit(line)
        return event_id

    def run(self, name, agent, *, run_id=None, tags=None, metadata=None, parent_run_id=None):
        """A context manager that logs run_started on entry and returns the
        Run; on exit logs run_finished `succeeded`, or, when an exception
        escapes, an `error` step (its type, message and traceback) and
        run_finished `failed` (the exception propagates)."""
        payload = {"name": name, "agent": agent}
        if parent_run_id is not None:
            payload["parent_run_id"] = parent_run_id
        if tags is not None:
            payload["tags"] = list(tags) if isinstance(tags, (list, tuple)) else tags
        if metadata is not None:
            payload["metadata"] = metadata
        return _RunScope(self, payload, run_id if run_id is not None else uuid7())

    def artifact(self, run_id, name, data_or_path, content_type=None, step_id=None):
        """Uploads an artifact in the background once the events logged
        before it are delivered: `data_or_path` is bytes, or a path whose
        file is read at upload time. Raises ValueError/TypeError at once for
        what the server would refuse."""
        violations = _rules.check_id_value(run_id, "run_id")
        if not isinstance(name, str):
            violations.append(_rules.Violation("name", "must be a string", "not_string"))
        else:
            problem = _rules.artifact_name_problem(name)
            if problem:
                violations.append(_rules.Violation("name", "the artifact name " + problem, "bad_name"))
        if step_id is not None:
            violations.extend(_rules.check_id_value(step_id, "step_id"))
        if content_type is None and isinstance(name, str):
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if not isinstance(content_type, str) or not 0 < len(content_type) <= 255 or not all(
                " " <= c <= "~" for c in content_type):
            violations.append(_rules.Violation("content_type", "must be 1 to 255 printable ASCII characters",
                                               "bad_content_type"))
        data = path = None
        if isinstance(data_or_path, (bytes, bytearray, memoryview)):
            data = bytes(data_or_path)
            size = len(data)
        elif isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            size = os.stat(path).st_size  # FileNotFoundError at once for a wrong path
        else:
            violations.append(_rules.Violation("data_or_path", "must be bytes or a path", "not_json"))
            size = 0
        if size > MAX_ARTIFACT_BYTES:
            violations.append(_rules.Violation("data_or_path", "is %d bytes, more than the %d an artifact may hold"
                                               % (size, MAX_ARTIFACT_BYTES), "too_large"))
        if violations:
            raise _refuse(violations)
        job = _ArtifactJob(run_id, name, data, path, content_type, step_id)
        self._pipeline.submit_artifact(job, MAX_QUEUED_ARTIFACT_BYTES)

    # ------------------------------------------------------------ delivery

    def flush(self, timeout=None):
        """Waits until everything logged (and every artifact given) before
        this call is resolved: stored, or refused by the server and counted
        in `rejected`. True when it is; False on timeout (seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return self._pipeline.wait_resolved(deadline, time.monotonic)

    def close(self, timeout=5.0):
        """Delivers what is queued for at most `timeout` seconds, then stops
        the delivery thread. Events not delivered by then are counted as
        dropped, or, with a spool, stay in it for the next provider. Later
        log() calls drop their events. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        p = self._pipeline
        deadline = time.monotonic() + timeout
        with p.lock:
            p.closed = True
            p.deadline = deadline
        p.interrupt.set()
        p.wake.set()
        p.wait_resolved(deadline, time.monotonic)
        with p.lock:
            p.deadline = min(p.deadline, time.monotonic())
        p.interrupt.set()
        p.wake.set()
        self._thread.join(max(1.0, deadline - time.monotonic() + 1.0))
        if p.spool is not None:
            with p.lock:
                everything = p.resolved >= p.logged
            if not self._thread.is_alive():
                p.spool.close(everything)
        try:
            atexit.unregister(self._at_exit)
        except Exception:
            pass
        global _open_providers
        with _open_lock:
            _open_providers -= 1

    def _close_at_exit(self):
        self.close()

    def stats(self):
        """Counters: queued (logged, not yet resolved), sent (stored by the
        server), duplicates (already stored: resends), dropped (queue or
        spool full, closed, or undelivered at close), retries (requests
        tried again), spooled (events written to the spool, or found there
        at start), rejected (refused by the server), and the artifacts'."""
        return self._pipeline.snapshot()
