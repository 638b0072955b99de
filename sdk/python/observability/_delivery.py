"""The delivery thread: batches, sends, retries and splits; the only thread
that talks to the server.

It takes events in log() order from the source (the memory queue, or the
spool's files) and sends them as one POST /observability/events per batch:
`flush_at` events, or what `flush_interval` gathered, or at once when
flush() or close() waits or an artifact is due. A batch is resolved before
the next is taken, so the events of a run reach the server in the order they
were logged. Answers:

- 201: stored (or duplicates, when an earlier try was stored but its answer
  lost: ids make every resend idempotent).
- connection errors, timeouts, 429, 503, 401/403 and other 5xx: the same
  batch again after an exponential backoff with jitter (Retry-After when the
  server gives one), for as long as the process lives (until close()'s
  deadline).
- 422 / 409: the events named by the answer's details[].index are reported
  once through `logging` and counted as rejected; the rest goes again.
- 413, or 400 to a plain body: the batch is halved until the event at fault
  is alone, then rejected.
- 415 or 400 to a gzip body: the server does not take gzip bodies; the
  batch goes again as plain JSON, and so does every later one.

Artifacts wait until every event logged before them is resolved, then go as
one PUT each, retried like events.
"""

import json
import logging
import random
import re
import time
import zlib

_log = logging.getLogger("observability")

BACKOFF_FIRST = 0.05   # seconds before the first retry
BACKOFF_MAX = 2.0      # no wait between retries is longer (Retry-After aside)
RETRY_AFTER_MAX = 60.0
FAILED_TRIES_BEFORE_SPLIT = 5  # unexplained answers (500, 404) to one batch
MAX_BATCH_BYTES = (4 << 20) - 4096  # the server's default body limit, less the wrapper
_COUNTS = re.compile(rb'\{"accepted":(\d+),"duplicates":(\d+)')
_JSON_HEADERS = {"Content-Type": "application/json"}
_GZIP_HEADERS = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


def _gzip(body):
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    return c.compress(body) + c.flush()


def _retry_after(answer):
    value = answer.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_MAX)
    except ValueError:
        return None  # an HTTP date: the backoff decides


def _error_details(answer):
    try:
        return json.loads(answer.body)["error"]
    except (ValueError, KeyError, TypeError):
        return {}


class Delivery:
    """The loop of the delivery thread over the provider's pipeline `p`."""

    def __init__(self, p, transport):
        self.p = p
        self.transport = transport
        self._attempt = 0
        self._unreachable_since = None
        self._last_complaint = 0.0
        self._auth_complained = False

    # ----------------------------------------------------------- the loop

    def run(self):
        p = self.p
        try:
            while True:
                job = self._next_job()
                if job is None:
                    break
                if job == "artifact":
                    self._upload(p.artifacts[0])
                    continue
                lines, token = job
                if self._deliver(lines):
                    p.source_done(token)
                else:
                    p.unresolved_at_exit(lines)
                    break
        except Exception:  # a bug here must not pass silently, nor kill the agent
            _log.exception("the delivery thread failed; events logged from now on are kept "
                           "only in the spool, if there is one")
        finally:
            self.transport.close()
            p.delivery_stopped()

    def _next_job(self):
        p = self.p
        first_seen = None
        while True:
            p.wake.clear()
            deadline = p.deadline
            if deadline is not None and time.monotonic() >= deadline:
                return None
            if p.artifacts and p.artifacts[0].after <= p.resolved:
                return "artifact"
            n = p.pending()
            if n == 0:
                if deadline is not None:
                    return None
                first_seen = None
                p.wake.wait()
                continue
            waited_for = (deadline is not None or p.resolved < p.flush_target
                          or (p.artifacts and p.artifacts[0].after > p.resolved))
            now = time.monotonic()
            if first_seen is None:
                first_seen = now
            remaining = first_seen + p.flush_interval - now
            if waited_for:
                # Someone waits (flush, close, an artifact): the largest
                # batches the server takes, the fewest round trips.
                return p.take(p.max_batch_events, MAX_BATCH_BYTES)
            if n >= p.flush_at or remaining <= 0:
                # A backlog (more than flush_at waiting: the server is slower
                # than the agent, or was away) drains in larger batches, as
                # large as the server takes: fewer round trips.
                size = p.max_batch_events if n >= 2 * p.flush_at else p.flush_at
                return p.take(min(size, p.max_batch_events), MAX_BATCH_BYTES)
            p.wake.wait(remaining)

    # ------------------------------------------------------------- waiting

    def _sleep(self, delay):
        """Waits `delay` seconds, less when close()'s deadline comes first.
        Returns False when the deadline has passed."""
        p = self.p
        end = time.monotonic() + delay
        while True:
            now = time.monotonic()
            if p.deadline is not None:
                if now >= p.deadline:
                    return False
                end = min(end, p.deadline)
            if now >= end:
                return True
            if p.interrupt.wait(end - now):
                p.interrupt.clear()  # close() set a deadline: recompute

    def _backoff(self, retry_after=None):
        with self.p.lock:
            self.p.counters["retries"] += 1
        if retry_after is not None:
            delay = retry_after + random.uniform(0, 0.1 * retry_after + 0.05)
        else:
            ceiling = min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** min(self._attempt, 16)))
            delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        self._attempt += 1
        return self._sleep(delay)

    def _unreachable(self, error):
        now = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = now
            self._last_complaint = now
            _log.warning("cannot reach the server (%s); retrying", error)
        elif now - self._last_complaint >= 60:
            self._last_complaint = now
            _log.warning("still cannot reach the server after %.0f s (%s); retrying",
                         now - self._unreachable_since, error)

    def _reached(self):
        if self._unreachable_since is not None:
            _log.info("the server answers again after %.1f s",
                      time.monotonic() - self._unreachable_since)
            self._unreachable_since = None
        self._attempt = 0

    def _request(self, method, path, body, headers):
        """The answer, or None after a connection failure (already waited
        for). Returns False when close()'s deadline has passed."""
        p = self.p
        timeout = None
        if p.deadline is not None:
            timeout = p.deadline - time.monotonic()
            if timeout <= 0:
                return False
        try:
            answer = self.transport.request(method, path, body, headers, timeout)
        except Exception as e:  # OSError, HTTPException, ssl errors: all mean "not delivered"
            self._unreachable(e)
            return None if self._backoff() else False
        self._reached()
        return answer

    # -------------------------------------------------------------- events

    def _deliver(self, lines):
        """Resolves every line (stored, duplicate or rejected), in order.
        False when close()'s deadline came first."""
        p = self.p
        todo = [lines]
        failures = 0
        while todo:
            part = todo[0]
            body = b'{"events":[' + b",".join(part) + b"]}"
            gzip = p.gzip
            answer = self._request("POST", "/observability/events", _gzip(body) if gzip else body,
                                   _GZIP_HEADERS if gzip else _JSON_HEADERS)
            if answer is False:
                return False
            if answer is None:
                continue
            status = answer.status
            if status in (200, 201):
                m = _COUNTS.match(answer.body)
                if m:
                    accepted, duplicates = int(m.group(1)), int(m.group(2))
                else:
                    decoded = json.loads(answer.body)
                    accepted, duplicates = decoded["accepted"], decoded["duplicates"]
                p.resolve(len(part), sent=accepted, duplicates=duplicates)
                todo.pop(0)
                failures = 0
            elif gzip and status in (400, 415):
                p.gzip = False
                _log.info("the server does not take gzip bodies (%d); sending plain JSON", status)
            elif status in (422, 409):
                error = _error_details(answer)
                bad = sorted({d.get("index") for d in error.get("details", ()) if isinstance(d, dict)
                              and isinstance(d.get("index"), int) and 0 <= d.get("index") < len(part)})
                if not bad or (status == 422 and any(d.get("path", "x") in ("", "events")
                                                     for d in error.get("details", ()))):
                    self._split(todo, status, answer)
                    continue
                self._reject([part[i] for i in bad], status, error)
                bad_set = set(bad)
                rest = [line for i, line in enumerate(part) if i not in bad_set]
                if rest:
                    todo[0] = rest
                else:
                    todo.pop(0)
            elif status in (429, 503):
                if not self._backoff(_retry_after(answer)):
                    return False
            elif status == 413 or status == 400:
                self._split(todo, status, answer)
            elif status in (401, 403):
                if not self._auth_complained:
                    self._auth_complained = True
                    _log.error("the server refuses the API key (%d: %s); events are kept and "
                               "retried", status, _error_details(answer).get("message"))
                if not self._backoff():
                    return False
            else:
                failures += 1
                if failures >= FAILED_TRIES_BEFORE_SPLIT:
                    failures = 0
                    self._split(todo, status, answer)
                elif not self._backoff():
                    return False
        return True

    def _split(self, todo, status, answer):
        part = todo[0]
        if len(part) == 1:
            self._reject(part, status, _error_details(answer))
            todo.pop(0)
        else:
            half = len(part) // 2
            todo[0:1] = [part[:half], part[half:]]

    def _reject(self, lines, status, error):
        details = error.get("details") or []
        for line in lines:
            try:
                event = json.loads(line)
                who = "event %s (run %s, %s)" % (event.get("id"), event.get("run_id"), event.get("type"))
            except ValueError:
                who = "a spooled line that is not JSON (%r...)" % line[:60]
            _log.error("the server refused %s with %d %s: %s; the event is dropped",
                       who, status, error.get("code", ""), error.get("message", "") if not details else
                       "; ".join("%s: %s" % (d.get("path"), d.get("message")) for d in details
                                 if isinstance(d, dict)))
        self.p.resolve(len(lines), rejected=len(lines))

    # ----------------------------------------------------------- artifacts

    def _upload(self, job):
        p = self.p
        path = "/observability/runs/%s/artifacts/%s" % (job.run_id, job.quoted_name)
        headers = {"Content-Type": job.content_type}
        if job.step_id is not None:
            headers["X-Step-Id"] = job.step_id
        while True:
            body = job.data
            if body is None:
                try:
                    with open(job.path, "rb") as f:
                        body = f.read()
                except OSError as e:
                    _log.error("cannot read artifact %s of run %s from %s: %s; not uploaded",
                               job.name, job.run_id, job.path, e)
                    p.artifact_done(job, ok=False)
                    return
            headers["Content-Length"] = str(len(body))
            answer = self._request("PUT", path, body, headers)
            if answer is False:
                p.artifact_done(job, ok=False, at_exit=True)
                return
            if answer is None:
                continue
            if answer.status in (200, 201):
                p.artifact_done(job, ok=True)
                return
            if answer.status in (429, 503) or answer.status >= 500 or answer.status in (401, 403):
                if not self._backoff(_retry_after(answer) if answer.status in (429, 503) else None):
                    p.artifact_done(job, ok=False, at_exit=True)
                    return
                continue
            error = _error_details(answer)
            _log.error("the server refused artifact %s of run %s with %d %s: %s",
                       job.name, job.run_id, answer.status, error.get("code", ""), error.get("message", ""))
            p.artifact_done(job, ok=False)
            return

