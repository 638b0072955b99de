"""The spool: events kept on disk from log() until the server acknowledges them.

Layout of spool_dir: `spool.lock` (held with flock by the one provider that
uses the folder, released by the kernel when its process dies, even by
SIGKILL) and segment files `<start_ns>-<n>.seg`, named so that they sort in
the order they were written. A segment holds one encoded event per line.

log() appends each line with one write(2) (no fsync: once write returns the
line is in the page cache, which survives the death of the process, not a
power cut). The delivery thread reads the lines back from the files, in
order, so memory stays bounded however long the server is away; a segment is
deleted once every line in it is acknowledged and log() has moved on to the
next one. A new provider on the same folder first delivers what earlier ones
left: their events carry their ids, so a line that was delivered but not yet
deleted is answered as a duplicate and never stored twice.

Thread use: append() and rotation run under the provider's lock (log()
threads); pending(), take() and acknowledge() run on the delivery thread. The
two sides share only each segment's `size`/`events`, which the writer
advances after its write has returned, and `closed`, set after its last one.
"""

import collections
import errno
import fcntl
import logging
import os
import time

_log = logging.getLogger("observability")

SEGMENT_BYTES = 8 << 20  # a new segment after this many bytes
_READ_CHUNK = 1 << 20


class SpoolBusy(RuntimeError):
    """Another live provider holds the spool folder."""


class _Segment:
    __slots__ = ("path", "size", "events", "closed", "read_pos", "read_events", "read_fd", "write_fd")

    def __init__(self, path, size=0, events=0, closed=False):
        self.path = path
        self.size = size            # bytes of whole lines in the file
        self.events = events        # lines in the file
        self.closed = closed        # no more lines will be added
        self.read_pos = 0           # bytes taken into batches
        self.read_events = 0
        self.read_fd = None
        self.write_fd = None


def _count_whole_lines(path):
    """(bytes up to and including the last newline, number of lines)."""
    size = 0
    lines = 0
    with open(path, "rb") as f:
        offset = 0
        while True:
            chunk = f.read(_READ_CHUNK)
            if not chunk:
                break
            n = chunk.count(b"\n")
            if n:
                lines += n
                size = offset + chunk.rindex(b"\n") + 1
            offset += len(chunk)
    return size, lines, offset


class Spool:
    def __init__(self, directory, max_bytes):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock_fd = os.open(os.path.join(directory, "spool.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(self._lock_fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise SpoolBusy("spool_dir %s is in use by another live provider" % directory) from None
            raise
        self._prefix = "%020d" % time.time_ns()
        self._next_number = 0
        self._segments = collections.deque()  # oldest first; the last one may be the writer's
        self._current = None
        self.total_bytes = 0
        self.recovered = 0
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".seg"):
                continue
            path = os.path.join(directory, name)
            size, lines, file_size = _count_whole_lines(path)
            if file_size != size:
                _log.warning("spool segment %s ends in a partial line (%d bytes), ignored",
                             path, file_size - size)
            if lines == 0:
                os.unlink(path)
                continue
            self._segments.append(_Segment(path, size, lines, closed=True))
            self.total_bytes += file_size
            self.recovered += lines
        self._mean_line = 512.0          # bytes per line, as last read
        self._written = self.recovered  # events in segments, ever (writer side)
        self._taken = 0                 # events taken into batches (reader side)

    # ------------------------------------------------------------ writer side

    def append(self, line):
        """Appends one encoded event (ending in a newline). Returns False,
        writing nothing, when the spool is at its byte bound or the disk
        refused the write. REQUIRES: the caller holds the provider's lock."""
        n = len(line)
        if self.total_bytes + n > self.max_bytes:
            return False
        seg = self._current
        if seg is None or seg.size >= SEGMENT_BYTES:
            seg = self._rotate()
        try:
            written = os.write(seg.write_fd, line)
            while written < n:
                written += os.write(seg.write_fd, line[written:])
        except OSError as e:
            # A partial line may be left at the end: close this segment so
            # the reader drops that tail, and start a new one next time.
            _log.error("cannot write to the spool (%s); the event is dropped", e)
            self._close_current()
            return False
        self.total_bytes += n
        seg.size += n  # after the write: the reader never sees a partial line
        seg.events += 1
        self._written += 1
        return True

    def _rotate(self):
        self._close_current()
        path = os.path.join(self.directory, "%s-%08d.seg" % (self._prefix, self._next_number))
        self._next_number += 1
        seg = _Segment(path)
        seg.write_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segments.append(seg)
        self._current = seg
        return seg

    def _close_current(self):
        seg = self._current
        if seg is not None:
            os.close(seg.write_fd)
            seg.write_fd = None
            seg.closed = True
            self._current = None

    # ------------------------------------------------------------ reader side

    def pending(self):
        """Events written and not yet taken into a batch."""
        return self._written - self._taken

    def take(self, max_events, max_bytes):
        """Up to `max_events` lines (without their newlines) totalling at most
        `max_bytes` (at least one line), oldest first, and a token for
        acknowledge(). Never passes a segment with lines left unread."""
        lines = []
        total = 0
        marks = []
        for seg in list(self._segments):
            while len(lines) < max_events and seg.read_pos < seg.size:
                if seg.read_fd is None:
                    seg.read_fd = os.open(seg.path, os.O_RDONLY)
                room = max_events - len(lines)
                # Read about what the batch needs (twice the mean line), not
                # a whole batch's worth of bytes for a few lines.
                want = min(seg.size - seg.read_pos, max_bytes - total, max(65536, int(room * self._mean_line * 2)))
                data = os.pread(seg.read_fd, want, seg.read_pos) if want > 0 else b""
                if b"\n" not in data:
                    if lines:
                        return self._taken_now(lines, marks)  # the next line would not fit
                    # A first line longer than a batch (only a spool written
                    # with other limits has one): read on to its end, so it
                    # is sent alone and refused alone rather than stall.
                    while b"\n" not in data and seg.read_pos + len(data) < seg.size:
                        data += os.pread(seg.read_fd, 1 << 20, seg.read_pos + len(data))
                cut = data.rfind(b"\n")
                chunk = data[:cut].split(b"\n") if cut >= 0 else []
                if len(chunk) > room:
                    chunk = chunk[:room]
                taken = len(chunk)
                used = sum(map(len, chunk)) + taken
                lines.extend(chunk)
                total += used
                seg.read_pos += used
                seg.read_events += taken
                if not marks or marks[-1] is not seg:
                    marks.append(seg)
                if taken:
                    self._mean_line = used / taken
                if used < len(data) or total >= max_bytes:
                    return self._taken_now(lines, marks)
            if seg.read_pos < seg.size:
                break
        return self._taken_now(lines, marks)

    def _taken_now(self, lines, marks):
        self._taken += len(lines)
        return lines, marks

    def acknowledge(self, marks):
        """Called once the lines of a take() are resolved (stored, duplicate or
        rejected): deletes the segments now fully done."""
        del marks
        while self._segments:
            seg = self._segments[0]
            if not seg.closed or seg.read_events < seg.events or seg is self._current:
                break
            self._segments.popleft()
            self._drop(seg)

    def _drop(self, seg):
        if seg.read_fd is not None:
            os.close(seg.read_fd)
            seg.read_fd = None
        try:
            self.total_bytes -= os.path.getsize(seg.path)
            os.unlink(seg.path)
        except OSError as e:
            _log.warning("cannot remove spool segment %s: %s", seg.path, e)

    def close(self, everything_acknowledged):
        """Closes the files; removes the writer's segment too when every event
        is acknowledged. REQUIRES: the delivery thread has stopped."""
        self._close_current()
        if everything_acknowledged:
            self.acknowledge(None)
        for seg in self._segments:
            if seg.read_fd is not None:
                os.close(seg.read_fd)
                seg.read_fd = None
        os.close(self._lock_fd)
