"""Reservations, node capacity and admin overrides, shared by every router worker process.

The router owns these (DESIGN section 6); the sidecar owns on-hand. Files in `<state>/router/`:

- `holds.journal`: the source of truth. Append-only records (framed and checksummed like the
  sidecar's journal, `state.journal.frame`), each a msgspec-encoded `Record` below. A response
  that reports a reservation, release, confirm or admin change is sent only after its record
  is fsynced (`wait_durable`, group commit: one fdatasync covers every record written before
  it, by any process).
- `holds.header`: 4096 bytes of little-endian int64 words (layout below), mapped by everyone.
- `holds-<generation>.data`: the arrays the routing kernels read, mapped by everyone:

      reserved        int32 [sku_capacity, node]   units held by reservations (stock only)
      capacity_used   int64 [node]                 units consumed on the node's current day
      capacity_day    int64 [node]                 that day: days since 1970-01-01, node-local
      daily_capacity  int64 [node]                 units per day (nodes.csv, then admin)
      enabled         uint8 [node]                 1 = routable (nodes.csv, then admin)

Concurrency: one cross-process critical section, an `flock` on `holds.lock`, serialises every
writer. Inside it the holder first catches its in-memory ledger up with the journal (records
other processes wrote), then checks, appends, and applies. The kernel-facing arrays are read
without the lock: a stale read costs a re-route at reserve time, never an oversell, because the
reserve check re-reads on-hand and `reserved` under the lock.

Crash safety: `flock` is released by the kernel when its holder dies, so a SIGKILLed worker
never wedges the others. The holder marks the header dirty before it touches the arrays and
clean once the journal and the arrays agree; the next holder that finds it dirty (or finds
journal bytes past `applied_end`) truncates any torn record and rebuilds the arrays from the
ledger. A record torn mid-write was never acknowledged, so dropping it loses nothing.

Node days: nodes.csv has no time zone, so a node's day is its mean solar day: UTC shifted by
`round(lon / 15)` hours. Capacity counts units allocated now (stock and made-to-order/digital
lines, not backorders) on the node's day of the reservation; releasing a line that same day
gives its units back, and a new day starts from zero.

Growth: when the catalog outgrows `sku_capacity`, the holder writes `holds-<g+1>.data` with
twice the rows, copies, and bumps the header's generation; readers remap on their next look.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import mmap
import os
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from omniroute.errors import FailedPrecondition, NotFound
from omniroute.state.journal import RECORD_HEADER, JournalFailed, frame

log = logging.getLogger(__name__)

MAGIC = 0x4F4D4E49484F4C44  # "OMNIHOLD"
LAYOUT_VERSION = 2
HEADER_BYTES = 4096
(H_MAGIC, H_LAYOUT, H_GENERATION, H_APPLIED_END, H_DIRTY, H_NODES, H_NODE_IDS_CRC,
 H_ADMIN_VERSION, H_SUPPLY_VERSION) = range(9)
_DAY_S = 86_400

# Line kinds of a hold.
STOCK = 0
"""Units from on-hand: reserved, and count against capacity."""
BUILD = 1
"""Made-to-order or digital units: no stock, but they count against capacity."""
SUPPLY = 2
"""Backordered units promised from a node's future supply; no capacity today."""

HELD, RELEASED, CONFIRMING, CONFIRMED = "held", "released", "confirming", "confirmed"

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]


# Journal records. `at` is the wall-clock time of the change (seconds since the epoch).

class HoldLine(msgspec.Struct, array_like=True, frozen=True):
    line_id: str
    sku_idx: int
    node_idx: int
    qty: int
    kind: int
    """STOCK, BUILD or SUPPLY."""
    day: int = 0
    """SUPPLY only: the promised date, days since 1970-01-01."""


class Reserve(msgspec.Struct, tag="reserve", array_like=True, frozen=True):
    reservation_id: str
    order_id: str
    at: float
    expires_at: float
    """0 for a hold without a time limit."""
    lines: list[HoldLine]


class Release(msgspec.Struct, tag="release", array_like=True, frozen=True):
    reservation_id: str
    line_ids: list[str]
    at: float
    expired: bool


class ConfirmStart(msgspec.Struct, tag="confirm", array_like=True, frozen=True):
    """Lines shipped; their on-hand drop is being sent to the sidecar as batch `confirm_seq`."""

    reservation_id: str
    line_ids: list[str]
    at: float
    confirm_seq: int


class ConfirmDone(msgspec.Struct, tag="confirmed", array_like=True, frozen=True):
    """The sidecar acknowledged batch `confirm_seq` (or rejected it: `note` says why)."""

    confirm_seq: int
    at: float
    note: str


class NodeEnabled(msgspec.Struct, tag="node_enabled", array_like=True, frozen=True):
    node_idx: int
    enabled: bool
    reason: str
    at: float


class NodeCapacity(msgspec.Struct, tag="node_capacity", array_like=True, frozen=True):
    node_idx: int
    units: int
    at: float


class RulesetActivated(msgspec.Struct, tag="ruleset", array_like=True, frozen=True):
    name: str
    version: int
    toml: str
    at: float


Record = Reserve | Release | ConfirmStart | ConfirmDone | NodeEnabled | NodeCapacity | \
    RulesetActivated
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Record)


class Reservation(msgspec.Struct):
    """The ledger's view of one reservation: its record and each line's state."""

    record: Reserve
    status: dict[str, str]
    """line_id -> HELD, RELEASED, CONFIRMING or CONFIRMED."""


class Effect(NamedTuple):
    """One change to the arrays: `reserved[sku, node] += stock`, capacity, promised supply."""

    sku_idx: int
    node_idx: int
    stock: int
    capacity: int
    supply: int
    cap_day: int
    """The node-local day the capacity change belongs to."""


def node_day(at: float, utc_offset_s: int) -> int:
    """The node-local day (days since 1970-01-01) of wall-clock time `at`."""
    return math.floor((at + utc_offset_s) / _DAY_S)


class Ledger:
    """Everything the journal says, in memory: reservations, confirms in flight, admin state.

    `apply` is the one place a record's meaning is defined; it returns the array effects so
    the writer applies exactly what a rebuild from the ledger would compute.
    """

    def __init__(self, utc_offset_s: I64) -> None:
        self.utc_offset_s = utc_offset_s
        self.reservations: dict[str, Reservation] = {}
        self.confirms: dict[int, tuple[str, list[str]]] = {}
        """Confirms sent (or to send) to the sidecar and not yet acknowledged, by sequence."""
        self.enabled: dict[int, bool] = {}
        self.capacity: dict[int, int] = {}
        self.rulesets: dict[str, RulesetActivated] = {}
        self.promised: dict[tuple[int, int], int] = {}
        """(sku_idx, node_idx) -> units of future supply promised to backorders."""
        self.expiring: dict[str, float] = {}
        """Reservations with held lines and a time limit -> expiry time."""
        self.last_confirm_seq = 0

    def _line_effects(self, res: Reserve, lines: list[HoldLine], sign: int,
                      *, capacity: bool, stock: bool) -> list[Effect]:
        effects = []
        for line in lines:
            day = node_day(res.at, int(self.utc_offset_s[line.node_idx]))
            if line.kind == SUPPLY:
                key = (line.sku_idx, line.node_idx)
                self.promised[key] = self.promised.get(key, 0) + sign * line.qty
                if not self.promised[key]:
                    del self.promised[key]
                effects.append(Effect(line.sku_idx, line.node_idx, 0, 0, sign * line.qty, day))
                continue
            effects.append(Effect(
                line.sku_idx, line.node_idx,
                sign * line.qty if stock and line.kind == STOCK else 0,
                sign * line.qty if capacity else 0, 0, day))
        return effects

    def apply(self, record: Record) -> list[Effect]:
        if isinstance(record, Reserve):
            status = {line.line_id: HELD for line in record.lines}
            self.reservations[record.reservation_id] = Reservation(record, status)
            if record.expires_at:
                self.expiring[record.reservation_id] = record.expires_at
            return self._line_effects(record, record.lines, +1, capacity=True, stock=True)
        if isinstance(record, Release):
            res = self.reservations[record.reservation_id]
            gone = [lid for lid in record.line_ids if res.status.get(lid) == HELD]
            for lid in gone:
                res.status[lid] = RELEASED
            self._settle(res)
            lines = [line for line in res.record.lines if line.line_id in set(gone)]
            return self._line_effects(res.record, lines, -1, capacity=True, stock=True)
        if isinstance(record, ConfirmStart):
            res = self.reservations[record.reservation_id]
            for lid in record.line_ids:
                res.status[lid] = CONFIRMING
            self.confirms[record.confirm_seq] = (record.reservation_id, list(record.line_ids))
            self.last_confirm_seq = max(self.last_confirm_seq, record.confirm_seq)
            self._settle(res)
            return []
        if isinstance(record, ConfirmDone):
            if record.confirm_seq not in self.confirms:
                return []
            rid, line_ids = self.confirms.pop(record.confirm_seq)
            res = self.reservations[rid]
            for lid in line_ids:
                res.status[lid] = CONFIRMED
            lines = [line for line in res.record.lines if line.line_id in set(line_ids)]
            # Shipped: the stock leaves `reserved` (the sidecar dropped on-hand); the capacity
            # stays consumed, because the node did the work.
            return self._line_effects(res.record, lines, -1, capacity=False, stock=True)
        if isinstance(record, NodeEnabled):
            self.enabled[record.node_idx] = record.enabled
        elif isinstance(record, NodeCapacity):
            self.capacity[record.node_idx] = record.units
        elif isinstance(record, RulesetActivated):
            self.rulesets[record.name] = record
        return []

    def _settle(self, res: Reservation) -> None:
        if HELD not in res.status.values():
            self.expiring.pop(res.record.reservation_id, None)

    def arrays(self, *, sku_rows: int, now: float, daily_capacity: I64, enabled: U8
               ) -> tuple[I32, I64, I64, I64, U8]:
        """The arrays as the ledger implies them at `now` (the rebuild after a crash).

        The slow, obviously-right twin of the incremental path: tests compare the two.
        """
        n = len(self.utc_offset_s)
        reserved = np.zeros((sku_rows, n), np.int32)
        used = np.zeros(n, np.int64)
        today = np.array([node_day(now, int(off)) for off in self.utc_offset_s], np.int64)
        for res in self.reservations.values():
            for line in res.record.lines:
                state = res.status[line.line_id]
                if line.kind == SUPPLY or state == RELEASED:
                    continue
                if line.kind == STOCK and state in (HELD, CONFIRMING):
                    reserved[line.sku_idx, line.node_idx] += line.qty
                if node_day(res.record.at, int(self.utc_offset_s[line.node_idx])) == \
                        today[line.node_idx]:
                    used[line.node_idx] += line.qty
        capacity = daily_capacity.copy()
        for node, units in self.capacity.items():
            capacity[node] = units
        on = enabled.copy()
        for node, flag in self.enabled.items():
            on[node] = 1 if flag else 0
        return reserved, used, today, capacity, on


def _align(n: int) -> int:
    return (n + 63) // 64 * 64


_PROLOGUE = 64
"""Bytes before the arrays: int64 magic, then int64 sku_capacity (the file says its own size,
so a crash between writing a grown file and publishing it can never mismatch the two)."""


class _Data:
    """One generation's arrays, mapped from `holds-<generation>.data`."""

    def __init__(self, path: Path, *, nodes: int, create_capacity: int = 0) -> None:
        """Map `path`; with `create_capacity`, first write it new with that many SKU rows."""
        if create_capacity:
            capacity = create_capacity
            with path.open("wb") as handle:
                handle.truncate(self._layout(capacity, nodes)[1])
                handle.write(np.array([MAGIC, capacity], np.int64).tobytes())
        fd = os.open(path, os.O_RDWR)
        try:
            head = np.frombuffer(os.pread(fd, 16, 0), np.int64)
            if len(head) != 2 or head[0] != MAGIC:
                raise JournalFailed(f"{path}: not a hold-book data file")
            capacity = int(head[1])
            offsets, total = self._layout(capacity, nodes)
            self.mm = mmap.mmap(fd, total)
        finally:
            os.close(fd)
        buf = self.mm
        self.sku_capacity = capacity
        self.reserved: I32 = np.frombuffer(buf, np.int32, capacity * nodes,
                                           offsets[0]).reshape(capacity, nodes)
        self.capacity_used: I64 = np.frombuffer(buf, np.int64, nodes, offsets[1])
        self.capacity_day: I64 = np.frombuffer(buf, np.int64, nodes, offsets[2])
        self.daily_capacity: I64 = np.frombuffer(buf, np.int64, nodes, offsets[3])
        self.enabled: U8 = np.frombuffer(buf, np.uint8, nodes, offsets[4])

    @staticmethod
    def _layout(capacity: int, nodes: int) -> tuple[list[int], int]:
        sizes = [capacity * nodes * 4, nodes * 8, nodes * 8, nodes * 8, nodes]
        offsets = []
        total = _PROLOGUE
        for size in sizes:
            offsets.append(total)
            total += _align(size)
        return offsets, total


def router_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "router"


class Check(NamedTuple):
    """Why a hold cannot be taken as it stands (the caller re-routes), or None."""

    field: str
    message: str


class HoldBook:
    """One process's handle on the shared reservations, capacity and admin state."""

    def __init__(self, state_dir: Path, *, node_ids: list[str], node_lon: npt.NDArray[np.float64],
                 daily_capacity: I64, enabled: U8, sku_rows: int,
                 clock: object = time.time) -> None:
        self._dir = router_dir(state_dir)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._node_ids = list(node_ids)
        nodes = len(node_ids)
        self._defaults = (np.asarray(daily_capacity, np.int64).copy(),
                          np.asarray(enabled, np.uint8).copy())
        offset = np.array([round(lon / 15.0) * 3600 for lon in node_lon], np.int64)
        self.ledger = Ledger(offset)
        self._thread_lock = threading.RLock()
        self._lock_fd = os.open(self._dir / "holds.lock", os.O_RDWR | os.O_CREAT, 0o644)
        self._send_fd = os.open(self._dir / "confirm-send.lock", os.O_RDWR | os.O_CREAT, 0o644)
        self._send_lock = threading.Lock()
        self._journal_path = self._dir / "holds.journal"
        self._fd = os.open(self._journal_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._read_end = 0
        self._sync_cond = threading.Condition()
        self._synced = 0
        self._syncing = False
        self._holder = False
        self._next_roll = 0.0
        self._section_now: float | None = None
        self._failed: str | None = None
        header_path = self._dir / "holds.header"
        with self._flock():
            fresh = not header_path.exists()
            if fresh:
                with header_path.open("wb") as handle:
                    handle.truncate(HEADER_BYTES)
            fd = os.open(header_path, os.O_RDWR)
            try:
                self._header_mm = mmap.mmap(fd, HEADER_BYTES)
            finally:
                os.close(fd)
            self._h = np.frombuffer(self._header_mm, np.int64, HEADER_BYTES // 8)
            h = self._h
            # Records name nodes by index: the network must list the same nodes in order.
            ids_crc = zlib.crc32("\n".join(node_ids).encode())
            if fresh or h[H_MAGIC] != MAGIC:
                h[H_LAYOUT] = LAYOUT_VERSION
                h[H_NODES] = nodes
                h[H_NODE_IDS_CRC] = ids_crc
                h[H_APPLIED_END] = 0
                _Data(self._dir / "holds-1.data", nodes=nodes,
                      create_capacity=max(64, sku_rows * 2))
                h[H_GENERATION] = 1
                h[H_MAGIC] = MAGIC
            if (h[H_LAYOUT] != LAYOUT_VERSION or h[H_NODES] != nodes
                    or h[H_NODE_IDS_CRC] != ids_crc):
                raise FailedPrecondition(
                    f"{header_path}: written for another node list ({int(h[H_NODES])} nodes, "
                    f"layout {int(h[H_LAYOUT])}); this network has {nodes} nodes: start from "
                    "the same network files, or use a new --state")
            self._generation = int(h[H_GENERATION])
            self._data = self._map(self._generation)
            # Always rebuild on open: nodes.csv may have changed (capacity, enabled) since the
            # arrays were written, and a power loss may have left header and data out of step.
            h[H_DIRTY] = 1
            self._catch_up_locked()

    # -- mapping ------------------------------------------------------------------------------

    def _map(self, generation: int) -> _Data:
        return _Data(self._dir / f"holds-{generation}.data", nodes=len(self._node_ids))

    def _current_data(self) -> _Data:
        generation = int(self._h[H_GENERATION])
        if generation != self._generation:
            self._data = self._map(generation)
            self._generation = generation
        return self._data

    @property
    def generation(self) -> int:
        return int(self._h[H_GENERATION])

    @property
    def node_ids(self) -> list[str]:
        return self._node_ids

    @property
    def reserved(self) -> I32:
        return self._current_data().reserved

    @property
    def capacity_used(self) -> I64:
        return self._current_data().capacity_used

    @property
    def daily_capacity(self) -> I64:
        return self._current_data().daily_capacity

    @property
    def enabled(self) -> U8:
        return self._current_data().enabled

    @property
    def admin_version(self) -> int:
        """Bumped by every admin record; workers rebuild their rules when it moves."""
        return int(self._h[H_ADMIN_VERSION])

    @property
    def supply_version(self) -> int:
        """Bumped when promised future supply changes."""
        return int(self._h[H_SUPPLY_VERSION])

    def now(self) -> float:
        """Wall-clock seconds; inside the critical section, the time it was entered, so the
        capacity day a commit counts against is the one `_roll_days` just checked."""
        if self._holder and self._section_now is not None:
            return self._section_now
        clock = self._clock
        assert callable(clock)
        return float(clock())

    # -- the critical section -----------------------------------------------------------------

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def sending_confirms(self) -> Iterator[None]:
        """Serialises sending confirms to the sidecar across processes, apart from the main
        critical section so a slow sidecar never stalls reservations."""
        with self._send_lock:
            fcntl.flock(self._send_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._send_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def locked(self) -> Iterator[HoldBook]:
        """The cross-process critical section, with the ledger caught up and the arrays sound.

        Reentrant within a thread (the reserve path re-routes while holding it).
        """
        with self._thread_lock:
            if self._holder:
                yield self
                return
            with self._flock():
                self._holder = True
                try:
                    self._catch_up_locked()
                    self._section_now = self.now()
                    self._roll_days()
                    yield self
                finally:
                    self._holder = False
                    self._section_now = None

    def _catch_up_locked(self) -> None:
        h = self._h
        size = os.fstat(self._fd).st_size
        if h[H_DIRTY] or size != h[H_APPLIED_END]:
            good = self._read_records(size, repair=True)
            if good < h[H_APPLIED_END]:
                # Below the applied end every record was acknowledged: this is damage, not a
                # torn write, and truncating would drop acknowledged records.
                raise JournalFailed(f"{self._journal_path}: damaged record at byte {good}, "
                                    f"before the applied end {int(h[H_APPLIED_END])}")
            if good != size:
                log.warning("holds journal: dropping a torn record at byte %d (%d bytes) left "
                            "by a process that died mid-write", good, size - good)
                os.ftruncate(self._fd, good)
                os.fsync(self._fd)
            self._rebuild()
            h[H_APPLIED_END] = good
            h[H_DIRTY] = 0
            h[H_ADMIN_VERSION] += 1
            h[H_SUPPLY_VERSION] += 1
        else:
            self._read_records(int(h[H_APPLIED_END]), repair=False)

    def catch_up(self) -> None:
        """Read what other processes committed, without the cross-process lock."""
        with self._thread_lock:
            self._read_records(int(self._h[H_APPLIED_END]), repair=False)

    def overlay(self) -> tuple[dict[tuple[int, int], int], dict[str, RulesetActivated]]:
        """Copies of the promised supply and the activated rulesets, for building state."""
        with self._thread_lock:
            return dict(self.ledger.promised), dict(self.ledger.rulesets)

    def _read_records(self, end: int, *, repair: bool) -> int:
        """Apply journal records in [read_end, end) to the ledger; return the end of the last
        intact record (less than `end` only with a torn tail, which `repair` tolerates)."""
        start = self._read_end
        if end <= start:
            return start
        data = os.pread(self._fd, end - start, start)
        offset = 0
        while offset < len(data):
            if len(data) - offset < RECORD_HEADER.size:
                break
            length, crc, _lsn = RECORD_HEADER.unpack_from(data, offset)
            stop = offset + RECORD_HEADER.size + length
            if stop > len(data):
                break
            payload = data[offset + RECORD_HEADER.size:stop]
            if zlib.crc32(payload, zlib.crc32(data[offset + 8:offset + 16])) != crc:
                break
            self.ledger.apply(_decoder.decode(payload))
            offset = stop
        good = start + offset
        if good != end and not repair:
            raise JournalFailed(f"{self._journal_path}: damaged record at byte {good} below "
                                "the applied end")
        self._read_end = good
        return good

    def _rebuild(self) -> None:
        data = self._current_data()
        capacity, enabled = self._defaults
        reserved, used, day, cap, on = self.ledger.arrays(
            sku_rows=data.reserved.shape[0], now=self.now(), daily_capacity=capacity,
            enabled=enabled)
        # One store per cell: a lock-free reader sees each cell old or new, never torn.
        np.copyto(data.reserved, reserved)
        np.copyto(data.capacity_used, used)
        np.copyto(data.capacity_day, day)
        np.copyto(data.daily_capacity, cap)
        np.copyto(data.enabled, on)

    def _roll_days(self) -> None:
        """Start a new capacity day at every node whose local day has turned.

        After a look at time t every node's `capacity_day` is its day at t, and no node's day
        turns before the earliest next local midnight, whoever else looks meanwhile; so until
        then there is nothing to do.
        """
        now = self.now()
        if now < self._next_roll:
            return
        data = self._current_data()
        offsets = self.ledger.utc_offset_s
        today = np.floor((now + offsets) / _DAY_S).astype(np.int64)
        # Forward only: a clock stepped back must not zero today's counter.
        turned = today > data.capacity_day
        if turned.any():
            self._h[H_DIRTY] = 1
            data.capacity_used[turned] = 0
            data.capacity_day[turned] = today[turned]
            self._h[H_DIRTY] = 0
        self._next_roll = float(((today + 1) * _DAY_S - offsets).min())

    def commit(self, record: Record) -> int:
        """Append `record`, apply it to the ledger and the arrays; return the journal end to
        pass to `wait_durable`. Call inside `locked()`, after checking the record is valid."""
        assert self._holder, "commit outside the critical section"
        if isinstance(record, Reserve):
            self._ensure_rows(max((line.sku_idx for line in record.lines), default=0) + 1)
        h = self._h
        payload = _encoder.encode(record)
        start = int(h[H_APPLIED_END])
        blob = frame(0, payload)
        h[H_DIRTY] = 1
        try:
            written = os.write(self._fd, blob)
        except OSError as error:
            raise JournalFailed(f"{self._journal_path}: write failed: {error}") from error
        if written != len(blob):
            raise JournalFailed(f"{self._journal_path}: short write ({written} of {len(blob)})")
        effects = self.ledger.apply(record)
        self._read_end = start + len(blob)
        data = self._current_data()
        supply_changed = False
        for e in effects:
            if e.stock:
                data.reserved[e.sku_idx, e.node_idx] += e.stock
            if e.capacity and data.capacity_day[e.node_idx] == e.cap_day:
                data.capacity_used[e.node_idx] += e.capacity
            supply_changed = supply_changed or e.supply != 0
        if isinstance(record, NodeEnabled):
            data.enabled[record.node_idx] = 1 if record.enabled else 0
        elif isinstance(record, NodeCapacity):
            data.daily_capacity[record.node_idx] = record.units
        if isinstance(record, NodeEnabled | NodeCapacity | RulesetActivated):
            h[H_ADMIN_VERSION] += 1
        if supply_changed:
            h[H_SUPPLY_VERSION] += 1
        h[H_APPLIED_END] = start + len(blob)
        h[H_DIRTY] = 0
        return start + len(blob)

    def _ensure_rows(self, rows: int) -> None:
        old = self._current_data()
        if rows <= old.sku_capacity:
            return
        capacity = old.sku_capacity
        while capacity < rows:
            capacity *= 2
        generation = self._generation + 1
        path = self._dir / f"holds-{generation}.data"
        new = _Data(path, nodes=len(self._node_ids), create_capacity=capacity)
        new.reserved[:old.reserved.shape[0]] = old.reserved
        for name in ("capacity_used", "capacity_day", "daily_capacity", "enabled"):
            np.copyto(getattr(new, name), getattr(old, name))
        new.mm.flush()
        # One store publishes the new file; a crash before it leaves the old one in force.
        self._h[H_GENERATION] = generation
        self._data, self._generation = new, generation
        # Readers of the previous generation keep their mapping (valid after unlink on Linux).
        (self._dir / f"holds-{generation - 1}.data").unlink(missing_ok=True)
        log.info("holds arrays grown to %d SKU rows (generation %d)", capacity, generation)

    def ensure_rows(self, rows: int) -> None:
        """Make `reserved` cover at least `rows` SKUs (the catalog grew)."""
        if rows > self._current_data().sku_capacity:
            with self.locked():
                self._ensure_rows(rows)

    def roll_days_if_due(self) -> None:
        """Start new capacity days if a local midnight passed (housekeeping, so dry runs and
        availability see today's counters even when nobody reserves)."""
        if self.now() >= self._next_roll:
            with self.locked():
                pass

    def due_expiries(self, now: float) -> list[str]:
        with self._thread_lock:
            return [rid for rid, t in self.ledger.expiring.items() if t <= now]

    def pending_confirms(self) -> list[tuple[int, str, list[str]]]:
        """(sequence, reservation id, line ids) of confirms the sidecar has not acknowledged."""
        with self._thread_lock:
            return [(seq, rid, list(lines))
                    for seq, (rid, lines) in sorted(self.ledger.confirms.items())]

    def applied_end(self) -> int:
        """Journal bytes whose records every process can see (and `wait_durable` can cover)."""
        return int(self._h[H_APPLIED_END])

    def next_confirm_seq(self) -> int:
        assert self._holder
        # The ledger is caught up inside the section, so its highest sequence is everyone's.
        return self.ledger.last_confirm_seq + 1

    def wait_durable(self, end: int) -> None:
        """Return once every journal byte below `end` is on disk (group commit)."""
        cond = self._sync_cond
        with cond:
            while self._synced < end:
                if self._failed is not None:
                    # Once fdatasync failed, later ones may "succeed" with the data gone (the
                    # kernel drops the dirty pages): never acknowledge anything again.
                    raise JournalFailed(self._failed)
                if self._syncing:
                    cond.wait()
                    continue
                self._syncing = True
                # Everything applied so far, by any process, is covered by this one sync.
                target = int(self._h[H_APPLIED_END])
                cond.release()
                try:
                    os.fdatasync(self._fd)
                except OSError as error:
                    self._failed = f"{self._journal_path}: fdatasync failed: {error}"
                    raise JournalFailed(self._failed) from error
                finally:
                    cond.acquire()
                    self._syncing = False
                    cond.notify_all()
                self._synced = max(self._synced, target)

    # -- reads for checks and answers ---------------------------------------------------------

    def reservation(self, reservation_id: str, *, field: str = "reservation_id") -> Reservation:
        res = self.ledger.reservations.get(reservation_id)
        if res is None:
            raise NotFound(field, f"no reservation {reservation_id!r}")
        return res

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
        with contextlib.suppress(OSError):
            os.close(self._send_fd)
