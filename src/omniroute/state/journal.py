"""An append-only, checksummed journal with group commit (DESIGN section 6).

Files: `<dir>/journal-<first lsn, 20 digits>.log`, each a sequence of records

    u32 payload length | u32 CRC-32 of (lsn bytes + payload) | u64 lsn | payload

little-endian, LSNs consecutive across segments. The payload is opaque here (the sidecar
stores msgspec-encoded batch records).

Group commit: `append` only queues the record; one flusher thread writes everything queued
with a single `write` and a single `fdatasync`, then calls `on_durable(last lsn)` and wakes the
waiters. While it syncs, new records pile up for the next round, so under load many records
share one fsync and at rest a record waits for one fsync only. Callers acknowledge a record
only after `wait_durable(lsn)` returns.

Recovery: `read_journal` yields records in order and stops at the first incomplete or corrupt
record of the LAST segment (a write torn by a crash), truncating it with `repair=True` so the
next append starts on a clean boundary; such a record was never acknowledged, so dropping it
loses nothing. Damage anywhere else is real corruption and raises `JournalCorrupt`.

Segments roll over at `segment_bytes` or on `rotate()`; `drop_through(lsn)` deletes segments
whose every record is at or below a snapshot's LSN, so recovery reads only the journal tail.

Failure: if a write or fdatasync fails, the journal is dead for good: every waiter and every
later `append` raises `JournalFailed`, and `on_failure` is called once (the sidecar exits so
that its supervisor restarts it). Retrying the fsync is not safe: after a failed fsync Linux
may have dropped the dirty pages and report the next fsync as a success, so only re-reading
the file at recovery tells what is on disk.
"""

from __future__ import annotations

import itertools
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from omniroute.errors import Unavailable

log = logging.getLogger(__name__)

RECORD_HEADER = struct.Struct("<IIQ")
_LSN = struct.Struct("<Q")
SEGMENT_BYTES = 64 << 20
MAX_RECORD_BYTES = 1 << 30


class JournalCorrupt(Exception):
    """A journal record before the final one is damaged: recovery cannot continue safely."""


class JournalFailed(Unavailable):
    """Writing or syncing the journal failed; nothing after the last durable LSN is safe.

    UNAVAILABLE on the wire: the feed should resend its unacked batches once the sidecar has
    restarted (duplicates of batches that did reach the disk are acked, not reapplied)."""


def segment_name(first_lsn: int) -> str:
    return f"journal-{first_lsn:020d}.log"


def segments(directory: Path) -> list[tuple[int, Path]]:
    """(first lsn, path) of every segment, oldest first."""
    found = []
    for path in Path(directory).glob("journal-*.log"):
        try:
            found.append((int(path.name[len("journal-"):-len(".log")]), path))
        except ValueError:
            continue
    return sorted(found)


def frame(lsn: int, payload: bytes) -> bytes:
    lsn_bytes = _LSN.pack(lsn)
    crc = zlib.crc32(payload, zlib.crc32(lsn_bytes))
    return RECORD_HEADER.pack(len(payload), crc, lsn) + payload


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_journal(directory: Path, *, after_lsn: int = 0,
                 repair: bool = False) -> Iterator[tuple[int, bytes]]:
    """Yield (lsn, payload) of every intact record with lsn > after_lsn, in order."""
    found = segments(directory)
    expected: int | None = None
    for number, (first_lsn, path) in enumerate(found):
        last_segment = number == len(found) - 1
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            problem = None
            if len(data) - offset < RECORD_HEADER.size:
                problem = "truncated record header"
            else:
                length, crc, lsn = RECORD_HEADER.unpack_from(data, offset)
                end = offset + RECORD_HEADER.size + length
                if length > MAX_RECORD_BYTES or end > len(data):
                    problem = "truncated record"
                else:
                    payload = data[offset + RECORD_HEADER.size:end]
                    if zlib.crc32(payload, zlib.crc32(_LSN.pack(lsn))) != crc:
                        problem = "checksum mismatch"
                    elif lsn != (first_lsn if expected is None and offset == 0 else expected):
                        problem = f"lsn {lsn} out of order (expected {expected})"
            if problem is not None:
                if not last_segment:
                    raise JournalCorrupt(f"{path} at byte {offset}: {problem}")
                log.warning("journal %s: dropping torn tail at byte %d (%s, %d bytes)",
                            path.name, offset, problem, len(data) - offset)
                if repair:
                    with path.open("r+b") as handle:
                        handle.truncate(offset)
                        os.fsync(handle.fileno())
                return
            expected = lsn + 1
            offset = end
            if lsn > after_lsn:
                yield lsn, payload
        if expected is None:
            expected = first_lsn


class Journal:
    """The writer side: append, group-commit, wait for durability. Thread-safe."""

    def __init__(self, directory: Path, *, next_lsn: int,
                 on_durable: Callable[[int], None] | None = None,
                 on_failure: Callable[[BaseException], None] | None = None,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._on_durable = on_durable
        self._on_failure = on_failure
        self._segment_bytes = segment_bytes
        # One lock, two conditions: appends wake only the flusher, a finished fsync wakes only
        # the waiters (one notify_all per append used to wake every waiting stream per batch).
        lock = threading.RLock()
        self._cond = threading.Condition(lock)  # durable_lsn / rotations / error changed
        self._work = threading.Condition(lock)  # records queued, rotate or close asked
        self._queue: list[bytes] = []
        self._queued_lsn = next_lsn - 1
        self._durable_lsn = next_lsn - 1
        self._rotate = False
        self._rotations = 0
        self._closing = False
        self._error: BaseException | None = None
        self.fsyncs = 0
        self.records = 0
        existing = segments(self.directory)
        if existing:
            self._path = existing[-1][1]
        else:
            self._path = self.directory / segment_name(next_lsn)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size
        if not existing:
            fsync_dir(self.directory)
        self._thread = threading.Thread(target=self._flusher, name="journal-flush",
                                        daemon=True)
        self._thread.start()

    @property
    def durable_lsn(self) -> int:
        return self._durable_lsn

    @property
    def failed(self) -> BaseException | None:
        """Why the journal stopped, or None while it works."""
        return self._error

    def append(self, lsn: int, payload: bytes) -> None:
        """Queue a record; LSNs must be consecutive. Durable once `wait_durable(lsn)` returns."""
        record = frame(lsn, payload)
        with self._cond:
            if self._error is not None:
                raise JournalFailed(str(self._error))
            if lsn != self._queued_lsn + 1:
                raise ValueError(f"journal lsn {lsn} after {self._queued_lsn}")
            self._queue.append(record)
            self._queued_lsn = lsn
            self._work.notify()

    def wait_durable(self, lsn: int, timeout_s: float | None = None) -> bool:
        """Block until every record up to `lsn` is on disk; False on timeout."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._durable_lsn >= lsn or self._error is not None, timeout_s)
            if self._error is not None and self._durable_lsn < lsn:
                raise JournalFailed(str(self._error))
            return ok

    def rotate(self) -> None:
        """Start a new segment for the records queued from now on; returns once it exists."""
        with self._cond:
            target = self._rotations + 1
            self._rotate = True
            self._work.notify()
            self._cond.wait_for(lambda: self._rotations >= target or self._error is not None)

    def drop_through(self, lsn: int) -> int:
        """Delete segments holding only records <= lsn (covered by a snapshot)."""
        found = segments(self.directory)
        dropped = 0
        for (_, path), (next_first, _) in itertools.pairwise(found):
            if next_first <= lsn + 1 and path != self._path:
                path.unlink(missing_ok=True)
                dropped += 1
        if dropped:
            fsync_dir(self.directory)
        return dropped

    def _flusher(self) -> None:
        try:
            while True:
                with self._cond:
                    self._work.wait_for(lambda: self._queue or self._closing or self._rotate)
                    batch, self._queue = self._queue, []
                    last = self._queued_lsn
                    rotate, self._rotate = self._rotate, False
                    closing = self._closing
                if batch:
                    data = b"".join(batch)
                    view = memoryview(data)
                    while view:
                        written = os.write(self._fd, view)
                        view = view[written:]
                    os.fdatasync(self._fd)
                    self._size += len(data)
                    self.fsyncs += 1
                    self.records += len(batch)
                    if self._on_durable is not None:
                        self._on_durable(last)
                    with self._cond:
                        self._durable_lsn = last
                        self._cond.notify_all()
                if (rotate or self._size >= self._segment_bytes) and (batch or rotate):
                    self._new_segment(last + 1)
                if rotate:
                    with self._cond:
                        self._rotations += 1
                        self._cond.notify_all()
                if closing and not batch:
                    return
        except BaseException as error:  # disk full, EIO: fail every waiter, never ack
            log.exception("journal flusher failed")
            with self._cond:
                self._error = error
                self._cond.notify_all()
            if self._on_failure is not None:
                self._on_failure(error)

    def _new_segment(self, first_lsn: int) -> None:
        path = self.directory / segment_name(first_lsn)
        if path == self._path:
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fsync_dir(self.directory)
        os.close(self._fd)
        self._fd, self._path, self._size = fd, path, 0

    def close(self) -> None:
        """Flush what is queued, then stop the flusher."""
        with self._cond:
            self._closing = True
            self._work.notify()
        self._thread.join()
        os.close(self._fd)
