"""Durable ingestion: ledger + journal + snapshots + publication to the shared live arrays.

Files in the state directory:

    LOCK                         flock'ed by the one sidecar (or bulk load) using the directory
    journal/journal-<lsn>.log    append-only batch records (state.journal), LSN = version
    snapshot-<version>.snap      b"OMNISNAP" | u32 CRC-32 | u64 length | msgpack `Snapshot`
    live/                        the shared arrays router workers map (state.shared)

Write path of one batch (under the ingest lock, so LSN order == apply order): validate and
apply it to the private master copy (`Ledger`), queue its after-image record on the journal.
The journal's flusher thread writes and fdatasyncs queued records as a group, then publishes
their after-images to the shared arrays and only then wakes the streams waiting to ack. So a
router worker never sees a change that a crash could still undo, and a change is visible
before its ack leaves the sidecar.

Snapshots: a background thread copies the master (under the lock; a memcpy), waits until the
journal is durable up to the copy's version, writes `snapshot-<v>.snap.tmp`, fsyncs, renames,
fsyncs the directory, then rotates the journal and drops segments the snapshot covers, and all
but the newest two snapshots. Recovery loads the newest intact snapshot and replays the
journal records after it (dropping a torn final record), so its time is bounded by the
snapshot interval, not by history length. With no snapshot at all the initial state comes
from the network directory, and is snapshotted at once (version 0).
"""

from __future__ import annotations

import collections
import fcntl
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from omniroute.config import load_network
from omniroute.errors import FailedPrecondition
from omniroute.state.journal import Journal, JournalFailed, fsync_dir, read_journal
from omniroute.state.shared import SharedInventoryWriter
from omniroute.sync.ledger import (
    Applied,
    BatchRecord,
    DeltaColumns,
    Duplicate,
    Ledger,
    Outcome,
    Snapshot,
    SourceState,
    SupplyColumns,
)

log = logging.getLogger(__name__)

_SNAP_MAGIC = b"OMNISNAP"
_SNAP_HEADER = struct.Struct("<8sIQ")
_record_encoder = msgspec.msgpack.Encoder()
_record_decoder = msgspec.msgpack.Decoder(BatchRecord)
_snapshot_decoder = msgspec.msgpack.Decoder(Snapshot)


def snapshot_path(state_dir: Path, version: int) -> Path:
    return state_dir / f"snapshot-{version:020d}.snap"


def list_snapshots(state_dir: Path) -> list[tuple[int, Path]]:
    found = []
    for path in state_dir.glob("snapshot-*.snap"):
        try:
            found.append((int(path.name[len("snapshot-"):-len(".snap")]), path))
        except ValueError:
            continue
    return sorted(found)


def write_snapshot(state_dir: Path, snap: Snapshot) -> Path:
    """Atomically write a snapshot: temp file, fsync, rename, fsync the directory."""
    payload = _record_encoder.encode(snap)
    path = snapshot_path(state_dir, snap.version)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(_SNAP_HEADER.pack(_SNAP_MAGIC, zlib.crc32(payload), len(payload)))
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(state_dir)
    return path


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot in `path`, or None if it is damaged."""
    data = path.read_bytes()
    if len(data) < _SNAP_HEADER.size:
        return None
    magic, crc, length = _SNAP_HEADER.unpack_from(data)
    payload = data[_SNAP_HEADER.size:]
    if magic != _SNAP_MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return _snapshot_decoder.decode(payload)


@dataclass
class Pending:
    """A submitted batch: what to ack once `lsn` is durable."""

    outcome: Outcome
    lsn: int


@dataclass
class SourceView:
    source_id: str
    sequence: int
    applied_at_ns: int
    lag_ms: float


@dataclass
class StatusView:
    sources: list[SourceView]
    version: int
    sku_count: int
    node_count: int
    batches_applied: int
    deltas_applied: int
    last_snapshot_ns: int


class Ingestor:
    """The sidecar's durable state. Thread-safe; one per state directory (flock)."""

    def __init__(self, state_dir: Path, *, network_dir: Path | None,
                 snapshot_interval_s: float = 30.0, snapshot_every_batches: int = 20_000,
                 snapshots: bool = True,
                 on_journal_failure: Callable[[BaseException], None] | None = None) -> None:
        """`on_journal_failure` runs (on the journal's thread) once if a journal write or
        fsync fails; from then on nothing is acked, and the owner should exit."""
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.state_dir / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise FailedPrecondition(
                f"{self.state_dir} is in use by another sidecar or bulk load") from None
        self._ingest_lock = threading.Lock()
        self._publish: collections.deque[BatchRecord] = collections.deque()
        self._published_version = 0
        self.last_snapshot_ns = 0
        self.ledger = self._recover(network_dir)
        self.shared = SharedInventoryWriter.create(
            self.state_dir, node_ids=self.ledger.node_ids,
            sku_capacity=self.ledger.on_hand.shape[1])
        self._load_shared()
        self.journal = Journal(self.state_dir / "journal", next_lsn=self.ledger.version + 1,
                               on_durable=self._on_durable, on_failure=on_journal_failure)
        self._snapshot_interval_s = snapshot_interval_s
        self._snapshot_every = snapshot_every_batches
        self._snapshot_version = self.ledger.version
        self._stop = threading.Event()
        self._snapshotter: threading.Thread | None = None
        if snapshots:
            self._snapshotter = threading.Thread(target=self._snapshot_loop, name="snapshots",
                                                 daemon=True)
            self._snapshotter.start()

    # -- recovery -------------------------------------------------------------------------

    def _recover(self, network_dir: Path | None) -> Ledger:
        network_nodes: list[str] | None = None
        for version, path in reversed(list_snapshots(self.state_dir)):
            snap = read_snapshot(path)
            if snap is None:
                log.warning("snapshot %s is damaged; trying an older one", path.name)
                continue
            ledger = Ledger.from_snapshot(snap)
            self.last_snapshot_ns = snap.taken_at_ns
            log.info("recovering from snapshot version %d", version)
            break
        else:
            if network_dir is None:
                from omniroute.sim import embedded_network_dir

                network_dir = embedded_network_dir()
            network = load_network(network_dir)
            network_nodes = [n.node_id for n in network.nodes]
            ledger = Ledger.from_network(network)
            self.last_snapshot_ns = time.time_ns()
            write_snapshot(self.state_dir, ledger.snapshot(self.last_snapshot_ns))
        if network_dir is not None:
            if network_nodes is None:
                network_nodes = [n.node_id for n in load_network(network_dir).nodes]
            if network_nodes != ledger.node_ids:
                raise FailedPrecondition(
                    f"the nodes of {network_dir} differ from those of the state in "
                    f"{self.state_dir}; use a new --state directory for a new network")
        replayed = 0
        for lsn, payload in read_journal(self.state_dir / "journal", after_lsn=ledger.version,
                                         repair=True):
            if lsn != ledger.version + 1:
                raise FailedPrecondition(f"journal resumes at {lsn}, state is at version "
                                         f"{ledger.version}: records are missing")
            ledger.apply(_record_decoder.decode(payload))
            replayed += 1
        log.info("state at version %d (%d journal records replayed)", ledger.version, replayed)
        return ledger

    def _load_shared(self) -> None:
        ledger, shared = self.ledger, self.shared
        shared.begin()
        shared.register_skus(0, ledger.sku_ids)
        shared.load_on_hand(ledger.on_hand[:, :len(ledger.sku_ids), :])
        for (s, n, d), q in ledger.supply.items():
            shared.set_supply(s, n, d, q)
        shared.end(version=ledger.version, batches=ledger.batches_applied,
                   deltas=ledger.deltas_applied)
        self._published_version = ledger.version
        self._published_sources = dict(ledger.sources)
        self._published_batches = ledger.batches_applied
        self._published_deltas = ledger.deltas_applied

    # -- ingestion ------------------------------------------------------------------------

    def submit(self, source_id: str, sequence: int, deltas: DeltaColumns,
               supply: SupplyColumns, *, event_ns: int = 0) -> Pending:
        """Validate and apply a batch, queue it for the journal; ack after `wait(pending)`."""
        with self._ingest_lock:
            outcome = self.ledger.ingest(source_id, sequence, deltas, supply, event_ns=event_ns,
                                         now_ns=time.time_ns())
            if isinstance(outcome, Applied):
                self._publish.append(outcome.record)
                self.journal.append(outcome.lsn, _record_encoder.encode(outcome.record))
                return Pending(outcome, outcome.lsn)
            if isinstance(outcome, Duplicate):
                return Pending(outcome, outcome.lsn)
            return Pending(outcome, 0)

    def submit_record(self, record: BatchRecord) -> Pending:
        """Apply and journal a record built elsewhere (bulk load); it must be valid."""
        with self._ingest_lock:
            self.ledger.apply(record)
            self._publish.append(record)
            self.journal.append(self.ledger.version, _record_encoder.encode(record))
            return Pending(Applied(record, self.ledger.version), self.ledger.version)

    def wait(self, pending: Pending) -> None:
        """Block until the batch (or the original of a duplicate) is durable and visible."""
        if pending.lsn > 0:
            self.journal.wait_durable(pending.lsn)

    def _on_durable(self, lsn: int) -> None:
        # Runs on the journal's flusher thread, after the fsync covering `lsn`.
        shared = self.shared
        shared.begin()
        try:
            # Records enter the deque (under the ingest lock) before the journal queue, in LSN
            # order, so every record up to `lsn` is here.
            while self._published_version < lsn:
                record = self._publish.popleft()
                if record.new_skus:
                    shared.register_skus(record.first_new_sku, record.new_skus)
                d, s, n, v = record.cells()
                if len(v):
                    shared.set_on_hand(d, s, n, v)
                if record.supply_qty:
                    for ss, nn, dd, qq in zip(*(a.tolist() for a in record.supply_cells()),
                                              strict=True):
                        shared.set_supply(ss, nn, dd, qq)
                self._published_version += 1
                lag_ms = ((record.applied_at_ns - record.event_ns) / 1e6 if record.event_ns
                          else 0.0)
                self._published_sources[record.source_id] = SourceState(
                    record.sequence, self._published_version, record.applied_at_ns, lag_ms)
                self._published_batches += 1
                self._published_deltas += record.deltas
        finally:
            shared.end(version=self._published_version, batches=self._published_batches,
                       deltas=self._published_deltas)

    # -- status and snapshots -------------------------------------------------------------

    def status(self) -> StatusView:
        # What is durable and visible, not what is still in flight.
        with self._ingest_lock:
            ledger = self.ledger
            sources = [SourceView(k, v.sequence, v.applied_at_ns, v.lag_ms)
                       for k, v in sorted(self._published_sources.items())]
            return StatusView(sources=sources, version=self._published_version,
                              sku_count=len(ledger.sku_ids), node_count=len(ledger.node_ids),
                              batches_applied=self._published_batches,
                              deltas_applied=self._published_deltas,
                              last_snapshot_ns=self.last_snapshot_ns)

    def sources(self) -> dict[str, SourceState]:
        with self._ingest_lock:
            return dict(self.ledger.sources)

    def take_snapshot(self) -> int:
        """Snapshot now; returns its version."""
        with self._ingest_lock:
            now = time.time_ns()
            snap = self.ledger.snapshot(now)
        # Never let a snapshot get ahead of the journal: it would contain unacked batches that
        # a crash before their fsync would otherwise have dropped.
        self.journal.wait_durable(snap.version)
        write_snapshot(self.state_dir, snap)
        self.last_snapshot_ns = now
        self._snapshot_version = snap.version
        self.journal.rotate()
        self.journal.drop_through(snap.version)
        for _, old in list_snapshots(self.state_dir)[:-2]:
            old.unlink(missing_ok=True)
        return snap.version

    def _snapshot_loop(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(0.5):
            behind = self.ledger.version - self._snapshot_version
            due = time.monotonic() - last >= self._snapshot_interval_s
            if behind >= self._snapshot_every or (due and behind > 0):
                try:
                    self.take_snapshot()
                except JournalFailed:
                    return  # the journal's failure ends the process; never snapshot past it
                except OSError:
                    log.exception("snapshot failed; the journal still holds everything")
                last = time.monotonic()

    def close(self) -> None:
        self._stop.set()
        if self._snapshotter is not None:
            self._snapshotter.join()
        self.journal.close()
        self.shared.close()
        os.close(self._lock_fd)
