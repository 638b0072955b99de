"""The state shared by the threads that call log() and the delivery thread.

Events enter as encoded lines in log() order, into the memory queue
(bounded by max_queue: a full queue drops the new event and counts it) or,
with a spool, into the spool's files (bounded by spool_max_bytes). The
delivery thread takes them out in the same order, one batch at a time, and
resolves each batch (stored, duplicate or rejected) before taking the next.
`logged` counts events that entered, `resolved` those resolved, both in
order, so "everything logged before now is resolved" is `resolved >=
logged-at-that-time`: flush() waits on exactly that.

Every counter and the queue are changed under `lock`; `resolved_cv` (on the
same lock) wakes flush() and close(); `wake` wakes the delivery thread.
"""

import collections
import logging
import threading

_log = logging.getLogger("observability")


class Pipeline:
    def __init__(self, flush_at, flush_interval, max_queue, spool, max_batch_events):
        self.lock = threading.Lock()
        self.resolved_cv = threading.Condition(self.lock)
        self.wake = threading.Event()        # something for the delivery thread to look at
        self.interrupt = threading.Event()   # close() set a deadline: stop waiting
        self.flush_at = flush_at
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.max_batch_events = max_batch_events
        self.spool = spool
        self.memory = collections.deque() if spool is None else None
        self.in_flight = 0        # events taken from `memory` by the delivery thread, not yet resolved
        self.logged = spool.recovered if spool is not None else 0
        self.resolved = 0
        self.flush_target = 0
        self.deadline = None      # monotonic time by which close() wants delivery to stop
        self.closed = False       # log() no longer takes events
        self.stopped = False      # the delivery thread has ended
        self.gzip = True          # until the server refuses a gzip body
        self.artifacts = collections.deque()
        self.artifacts_submitted = 0
        self.artifacts_resolved = 0
        self.artifact_bytes = 0
        self._drop_warned = False
        self.counters = {"sent": 0, "duplicates": 0, "dropped": 0, "retries": 0,
                         "spooled": spool.recovered if spool is not None else 0, "rejected": 0,
                         "artifacts_sent": 0, "artifacts_failed": 0, "artifacts_dropped": 0}

    # ------------------------------------------------------ the log() side

    def submit(self, line):
        """Queues one encoded event (ending in a newline). Never blocks on
        I/O other than the spool's write(2); drops and counts when full."""
        with self.lock:
            if self.closed:
                self._drop("the provider is closed")
                return
            if self.spool is not None:
                if not self.spool.append(line):
                    self._drop("the spool holds spool_max_bytes")
                    return
                self.counters["spooled"] += 1
                self.logged += 1
                n = self.spool.pending()
            else:
                memory = self.memory
                if len(memory) + self.in_flight >= self.max_queue:
                    self._drop("the queue holds max_queue events")
                    return
                memory.append(line)
                self.logged += 1
                n = len(memory)
        if n == 1 or n == self.flush_at:
            self.wake.set()

    def _drop(self, why):
        self.counters["dropped"] += 1
        if not self._drop_warned:
            self._drop_warned = True
            _log.warning("dropping events: %s (counted in stats()['dropped'])", why)

    def submit_artifact(self, job, max_queued_bytes):
        with self.lock:
            if self.closed or self.artifact_bytes + job.size_in_memory > max_queued_bytes:
                self.counters["artifacts_dropped"] += 1
                _log.warning("artifact %s of run %s dropped (%s)", job.name, job.run_id,
                             "the provider is closed" if self.closed else "too many artifact bytes queued")
                return
            job.after = self.logged
            self.artifact_bytes += job.size_in_memory
            self.artifacts.append(job)
            self.artifacts_submitted += 1
        self.wake.set()

    # ------------------------------------------------- the delivery side

    def pending(self):
        return self.spool.pending() if self.spool is not None else len(self.memory)

    def take(self, max_events, max_bytes):
        if self.spool is not None:
            return self.spool.take(max_events, max_bytes)
        memory = self.memory
        popleft = memory.popleft
        lines = [popleft() for _ in range(min(max_events, len(memory)))]
        total = sum(map(len, lines)) + len(lines)
        while total > max_bytes and len(lines) > 1:  # rare: large events; the rest waits its turn
            line = lines.pop()
            total -= len(line) + 1
            memory.appendleft(line)
        self.in_flight = len(lines)
        return lines, None

    def source_done(self, token):
        with self.lock:
            if self.spool is not None:
                self.spool.acknowledge(token)
            self.in_flight = 0

    def resolve(self, n, sent=0, duplicates=0, rejected=0):
        with self.lock:
            c = self.counters
            c["sent"] += sent
            c["duplicates"] += duplicates
            c["rejected"] += rejected
            self.resolved += n
            self.resolved_cv.notify_all()

    def unresolved_at_exit(self, lines):
        """close()'s deadline passed with `lines` taken and not resolved.
        Spooled lines stay on disk for the next provider; others are lost."""
        if self.spool is None:
            with self.lock:
                self.in_flight = 0
                self.counters["dropped"] += len(lines)
                self.resolved += len(lines)
                self.resolved_cv.notify_all()

    def artifact_done(self, job, ok, at_exit=False):
        with self.lock:
            self.artifacts.popleft()
            self.artifact_bytes -= job.size_in_memory
            self.artifacts_resolved += 1
            self.counters["artifacts_sent" if ok else "artifacts_dropped" if at_exit else "artifacts_failed"] += 1
            self.resolved_cv.notify_all()

    def delivery_stopped(self):
        with self.lock:
            self.stopped = True
            if self.spool is None and self.memory:
                self.counters["dropped"] += len(self.memory)
                self.resolved += len(self.memory)
                self.memory.clear()
            while self.artifacts:
                job = self.artifacts.popleft()
                self.artifacts_resolved += 1
                self.counters["artifacts_dropped"] += 1
            self.resolved_cv.notify_all()

    # ---------------------------------------------------------- waiting

    def wait_resolved(self, deadline, clock):
        """Waits until every event and artifact submitted so far is resolved
        or `deadline` (a `clock()` time, or None) passes. True when resolved."""
        with self.lock:
            target = self.logged
            artifact_target = self.artifacts_submitted
            self.flush_target = max(self.flush_target, target)
        self.wake.set()
        with self.lock:
            while self.resolved < target or self.artifacts_resolved < artifact_target:
                if self.stopped:
                    return False
                if deadline is None:
                    self.resolved_cv.wait()
                    continue
                remaining = deadline - clock()
                if remaining <= 0:
                    return False
                self.resolved_cv.wait(remaining)
            return True

    def snapshot(self):
        with self.lock:
            stats = dict(self.counters)
            stats["queued"] = self.logged - self.resolved
            stats["artifacts_queued"] = len(self.artifacts)
            stats["gzip"] = self.gzip
            return stats
