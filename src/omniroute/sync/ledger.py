"""The sidecar's master copy of on-hand, supply and catalog: validation, after-images, replay.

Semantics of one batch (the unit of idempotency and of atomicity):

- Dedup and gaps, per `source_id`: sequences start at 1. A batch with `sequence <= last
  applied` is a DUPLICATE: acknowledged (once the original is durable) and not reapplied. A
  batch with `sequence > last` is applied, whether or not it is `last + 1`: sources may skip
  numbers (a feed that numbers by offset, or that dropped an empty batch). Consequently a batch
  that arrives AFTER a higher-numbered one of the same source (out of order) is a duplicate and
  is not applied: feeds must send each source's batches in sequence order, one stream per
  source, and resend from their last acknowledged sequence after a reconnect.
- All or nothing: a batch with any bad delta is REJECTED and changes nothing (no on-hand, no
  supply, no catalog entry, no sequence); the ack lists every bad delta (up to MAX_ERRORS)
  with its index, field and reason. A rejected sequence may be resent, fixed, with the same
  number.
- Deltas apply in order: ADJUST adds `qty` (signed), SET replaces the count (`qty >= 0`).
  A delta whose result is below zero is bad, also when a later delta of the batch would lift it
  again. Counts are int32: a result above 2**31 - 1 is bad.
- Supply deltas apply in order per (sku, node, available_date): ADD adds `qty > 0`, CANCEL
  removes `qty > 0` units and is bad if fewer exist.
- A SKU not in the catalog is registered on first sight (inventory or supply), in order of
  first appearance, when its batch applies.

A batch that applies becomes a `BatchRecord` holding after-images (the absolute new value of
every touched cell), so replaying a record is deterministic, pure assignment, and cheap.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from omniroute.config import Network
from omniroute.state.shared import day_number
from omniroute.state.store import DISPOSITIONS

I8 = npt.NDArray[np.int8]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

# Wire numbers of the v1 enums (sync.proto / types.proto); the servicer passes them through.
KIND_ADJUST, KIND_SET = 1, 2
ACTION_ADD, ACTION_CANCEL = 1, 2
N_DISPOSITIONS = len(DISPOSITIONS)  # proto Disposition n + 1 is index n of DISPOSITIONS
INT32_MAX = 2**31 - 1
MAX_ERRORS = 100
SKU_ID_PATTERN = re.compile(r"^[^\s|,]{1,128}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_NO_TIMES: I64 = np.zeros(0, dtype=np.int64)


class DeltaColumns(NamedTuple):
    """A batch's inventory deltas, column by column, ids dictionary-encoded: delta i is
    (sku_ids[sku_ref[i]], node_ids[node_ref[i]], disposition[i], kind[i], qty[i]), enum
    fields as wire numbers, with event time `event_ns[i]` (ns since the epoch) when that
    column is not empty. Validation works per table entry, not per delta, so a batch of
    10k deltas over a few hundred ids costs a few hundred dict look-ups. A table may repeat an
    id and hold ids no delta refers to; a ref outside its table is a bad delta."""

    sku_ids: list[str]
    sku_ref: I64
    node_ids: list[str]
    node_ref: I64
    disposition: I64
    kind: I64
    qty: I64
    event_ns: I64 = _NO_TIMES

    @property
    def size(self) -> int:
        """Number of deltas (`len()` of a NamedTuple counts its fields)."""
        return len(self.qty)


def delta_rows(sku: list[str], node_id: list[str], disposition: I64, kind: I64,
               qty: I64) -> DeltaColumns:
    """Columns from one id per delta (as `InventoryDelta` rows carry them)."""
    ref = np.arange(len(sku), dtype=np.int64)
    return DeltaColumns(sku, ref, node_id, ref, disposition, kind, qty)


def concat_deltas(first: DeltaColumns, second: DeltaColumns) -> DeltaColumns:
    """`first`'s deltas followed by `second`'s."""
    if _no_rows(first):
        return second
    if _no_rows(second):
        return first
    return DeltaColumns(
        first.sku_ids + second.sku_ids,
        np.concatenate([first.sku_ref, second.sku_ref + len(first.sku_ids)]),
        first.node_ids + second.node_ids,
        np.concatenate([first.node_ref, second.node_ref + len(first.node_ids)]),
        np.concatenate([first.disposition, second.disposition]),
        np.concatenate([first.kind, second.kind]), np.concatenate([first.qty, second.qty]),
        # Times are all or nothing per batch: rows without one count as "no time" (0).
        _NO_TIMES if not (len(first.event_ns) or len(second.event_ns)) else np.concatenate(
            [_times_or_zeros(first), _times_or_zeros(second)]))


def _no_rows(deltas: DeltaColumns) -> bool:
    # Every column empty; a part with only some columns empty is malformed and must stay so.
    return not any(len(c) for c in (deltas.sku_ref, deltas.node_ref, deltas.disposition,
                                    deltas.kind, deltas.qty, deltas.event_ns))


def _times_or_zeros(deltas: DeltaColumns) -> I64:
    # A column of the wrong length stays as it is, so the whole stays the wrong length (the
    # same goes for every column: `ingest` rejects the concatenation as it would the part).
    if len(deltas.event_ns):
        return deltas.event_ns
    return np.zeros(deltas.size, dtype=np.int64)


class SupplyColumns(NamedTuple):
    sku: list[str]
    node_id: list[str]
    action: I64
    qty: I64
    available_date: list[str]


def empty_deltas() -> DeltaColumns:
    z = np.zeros(0, dtype=np.int64)
    return DeltaColumns([], z, [], z, z, z, z)


def empty_supply() -> SupplyColumns:
    z = np.zeros(0, dtype=np.int64)
    return SupplyColumns([], [], z, z, [])


@dataclass(frozen=True)
class DeltaError:
    index: int
    """Index in the batch's deltas (or supply when `supply`); -1 for the batch itself."""
    supply: bool
    field: str
    reason: str


class SourceState(msgspec.Struct, array_like=True):
    sequence: int
    lsn: int
    """Inventory version (= journal LSN) of the source's last applied batch."""
    applied_at_ns: int
    lag_ms: float


class BatchRecord(msgspec.Struct, array_like=True, frozen=True):
    """One applied batch as after-images: the journal payload."""

    source_id: str
    sequence: int
    applied_at_ns: int
    event_ns: int
    """Newest event time seen in the batch (ns since the epoch), 0 when none."""
    deltas: int
    first_new_sku: int
    new_skus: list[str]
    disposition: bytes  # int8 disposition index of each touched cell
    sku: bytes  # int32
    node: bytes  # int32
    value: bytes  # int32 units after the batch
    supply_sku: bytes  # int32
    supply_node: bytes  # int32
    supply_day: bytes  # int32 days since 1970-01-01
    supply_qty: bytes  # int64 units after the batch; 0 = none left

    def cells(self) -> tuple[I8, I32, I32, I32]:
        return (np.frombuffer(self.disposition, np.int8), np.frombuffer(self.sku, np.int32),
                np.frombuffer(self.node, np.int32), np.frombuffer(self.value, np.int32))

    def supply_cells(self) -> tuple[I32, I32, I32, I64]:
        return (np.frombuffer(self.supply_sku, np.int32),
                np.frombuffer(self.supply_node, np.int32),
                np.frombuffer(self.supply_day, np.int32), np.frombuffer(self.supply_qty, np.int64))


class Snapshot(msgspec.Struct, array_like=True):
    version: int
    taken_at_ns: int
    node_ids: list[str]
    sku_ids: list[str]
    on_hand: bytes  # int32 [disposition, len(sku_ids), len(node_ids)]
    supply_sku: bytes
    supply_node: bytes
    supply_day: bytes
    supply_qty: bytes
    sources: dict[str, SourceState]
    batches_applied: int
    deltas_applied: int


@dataclass
class Rejected:
    errors: list[DeltaError]


@dataclass
class Duplicate:
    lsn: int
    """The LSN that made the original durable (wait for it before acking)."""


@dataclass
class Applied:
    record: BatchRecord
    lsn: int


Outcome = Rejected | Duplicate | Applied


@dataclass
class Ledger:
    """Master state; single-threaded (the sidecar's ingest lock serializes callers)."""

    node_ids: list[str]
    sku_ids: list[str]
    on_hand: I32
    """[disposition, sku capacity, node]; rows >= len(sku_ids) are zero."""
    supply: dict[tuple[int, int, int], int]
    """(sku, node, day since 1970) -> units."""
    sources: dict[str, SourceState] = field(default_factory=dict)
    version: int = 0
    batches_applied: int = 0
    deltas_applied: int = 0
    node_index: dict[str, int] = field(init=False)
    sku_index: dict[str, int] = field(init=False)
    _dates: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.node_index = {n: i for i, n in enumerate(self.node_ids)}
        self.sku_index = {s: i for i, s in enumerate(self.sku_ids)}
        self._dates = {}

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_network(cls, network: Network) -> Ledger:
        node_ids = [n.node_id for n in network.nodes]
        sku_ids = [s.sku for s in network.skus]
        ledger = cls(node_ids=node_ids, sku_ids=sku_ids,
                     on_hand=_zeros(len(sku_ids), len(node_ids)), supply={})
        for row in network.inventory:
            ledger.on_hand[DISPOSITIONS.index(row.disposition.value), ledger.sku_index[row.sku],
                           ledger.node_index[row.node_id]] = row.qty
        for srow in network.supply:
            key = (ledger.sku_index[srow.sku], ledger.node_index[srow.node_id],
                   day_number(srow.available_date))
            ledger.supply[key] = ledger.supply.get(key, 0) + srow.qty
        return ledger

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> Ledger:
        n_skus, n_nodes = len(snap.sku_ids), len(snap.node_ids)
        on_hand = _zeros(n_skus, n_nodes)
        on_hand[:, :n_skus, :] = np.frombuffer(snap.on_hand, np.int32).reshape(
            N_DISPOSITIONS, n_skus, n_nodes)
        supply = {
            (int(s), int(n), int(d)): int(q) for s, n, d, q in zip(
                np.frombuffer(snap.supply_sku, np.int32), np.frombuffer(snap.supply_node, np.int32),
                np.frombuffer(snap.supply_day, np.int32), np.frombuffer(snap.supply_qty, np.int64),
                strict=True)}
        return cls(node_ids=list(snap.node_ids), sku_ids=list(snap.sku_ids), on_hand=on_hand,
                   supply=supply, sources=dict(snap.sources), version=snap.version,
                   batches_applied=snap.batches_applied, deltas_applied=snap.deltas_applied)

    def snapshot(self, now_ns: int) -> Snapshot:
        """A self-contained copy (safe to encode outside the ingest lock)."""
        keys = np.array(list(self.supply), dtype=np.int64).reshape(-1, 3)
        return Snapshot(
            version=self.version, taken_at_ns=now_ns, node_ids=list(self.node_ids),
            sku_ids=list(self.sku_ids),
            on_hand=self.on_hand[:, :len(self.sku_ids), :].tobytes(),
            supply_sku=keys[:, 0].astype(np.int32).tobytes(),
            supply_node=keys[:, 1].astype(np.int32).tobytes(),
            supply_day=keys[:, 2].astype(np.int32).tobytes(),
            supply_qty=np.array(list(self.supply.values()), dtype=np.int64).tobytes(),
            sources={k: msgspec.structs.replace(v) for k, v in self.sources.items()},
            batches_applied=self.batches_applied, deltas_applied=self.deltas_applied)

    # -- ingestion ------------------------------------------------------------------------

    def ingest(self, source_id: str, sequence: int, deltas: DeltaColumns,
               supply: SupplyColumns, *, event_ns: int, now_ns: int) -> Outcome:
        """Validate a batch; if it is good, apply it here and return its record."""
        if not source_id:
            return Rejected([DeltaError(-1, False, "source_id", "must not be empty")])
        if sequence < 1:
            return Rejected([DeltaError(-1, False, "sequence", "must be at least 1")])
        known = self.sources.get(source_id)
        if known is not None and sequence <= known.sequence:
            return Duplicate(known.lsn)
        n = deltas.size
        lengths = {"sku_ref": len(deltas.sku_ref), "node_ref": len(deltas.node_ref),
                   "disposition": len(deltas.disposition), "kind": len(deltas.kind), "qty": n}
        if len(set(lengths.values())) > 1 or len(deltas.event_ns) not in (0, n):
            lengths["event_time_unix_ns"] = len(deltas.event_ns)
            sizes = ", ".join(f"{k} {v}" for k, v in lengths.items())
            return Rejected([DeltaError(-1, False, "columns",
                                        f"columns differ in length ({sizes})")])
        errors: list[DeltaError] = []
        new_skus: dict[str, int] = {}
        sku_idx = self._sku_indices(deltas.sku_ids, deltas.sku_ref, new_skus, errors,
                                    supply=False)
        cells = self._inventory_after(deltas, sku_idx, errors)
        supply_after = self._supply_after(supply, new_skus, errors)
        if errors:
            errors.sort(key=lambda e: (e.supply, e.index))
            if len(errors) > MAX_ERRORS:
                more = len(errors) - MAX_ERRORS + 1
                errors = [*errors[:MAX_ERRORS - 1],
                          DeltaError(-1, False, "", f"... and {more} more bad deltas")]
            return Rejected(errors)
        d_idx, s_idx, n_idx, values = cells
        supply_bytes = _supply_bytes(supply_after)
        record = BatchRecord(
            source_id=source_id, sequence=sequence, applied_at_ns=now_ns, event_ns=event_ns,
            deltas=n + len(supply.sku), first_new_sku=len(self.sku_ids),
            new_skus=list(new_skus), disposition=d_idx.astype(np.int8).tobytes(),
            sku=s_idx.astype(np.int32).tobytes(), node=n_idx.astype(np.int32).tobytes(),
            value=values.astype(np.int32).tobytes(), supply_sku=supply_bytes[0],
            supply_node=supply_bytes[1], supply_day=supply_bytes[2],
            supply_qty=supply_bytes[3])
        self.apply(record)
        return Applied(record, self.version)

    def apply(self, record: BatchRecord) -> None:
        """Apply a validated record (live ingestion and journal replay alike)."""
        if record.first_new_sku != len(self.sku_ids):
            raise ValueError(f"record registers SKUs from {record.first_new_sku}, catalog has "
                             f"{len(self.sku_ids)}")
        if record.new_skus:
            self._register(record.new_skus)
        d_idx, s_idx, n_idx, values = record.cells()
        self.on_hand[d_idx, s_idx, n_idx] = values
        if record.supply_qty:  # most batches have no supply deltas: skip 8 NumPy calls
            for s, n, d, q in zip(*(a.tolist() for a in record.supply_cells()), strict=True):
                if q:
                    self.supply[(s, n, d)] = q
                else:
                    self.supply.pop((s, n, d), None)
        self.version += 1
        self.batches_applied += 1
        self.deltas_applied += record.deltas
        lag_ms = (record.applied_at_ns - record.event_ns) / 1e6 if record.event_ns else 0.0
        self.sources[record.source_id] = SourceState(record.sequence, self.version,
                                                     record.applied_at_ns, lag_ms)

    def _register(self, skus: list[str]) -> None:
        first = len(self.sku_ids)
        needed = first + len(skus)
        capacity = self.on_hand.shape[1]
        if needed > capacity:
            grown = _zeros(max(needed, 2 * capacity), len(self.node_ids))
            grown[:, :first, :] = self.on_hand[:, :first, :]
            self.on_hand = grown
        for i, sku in enumerate(skus):
            self.sku_index[sku] = first + i
        self.sku_ids.extend(skus)

    def _sku_indices(self, table: list[str], ref: I64, new_skus: dict[str, int],
                     errors: list[DeltaError], *, supply: bool) -> I64:
        """SKU index of each delta (new SKUs get tentative ones); < 0 for a bad delta."""
        index = self.sku_index
        entry = _table_lookup(index, table)
        ref = _checked_refs(ref, len(table), errors, supply=supply, field="sku_ref")
        sku_idx = entry[ref]
        unknown = np.flatnonzero(sku_idx == _UNKNOWN)
        if unknown.size:
            # New SKUs are numbered in order of their first delta, whatever the table order.
            refs = ref[unknown]
            _, first = np.unique(refs, return_index=True)
            for j in np.sort(first).tolist():
                sku = table[refs[j]]
                tentative = new_skus.get(sku)
                if tentative is None:
                    if not SKU_ID_PATTERN.match(sku):
                        entry[refs[j]] = _INVALID
                        continue
                    tentative = new_skus[sku] = len(self.sku_ids) + len(new_skus)
                entry[refs[j]] = tentative
            sku_idx[unknown] = entry[refs]
            for i in unknown[sku_idx[unknown] == _INVALID].tolist():
                errors.append(DeltaError(i, supply, "sku", f"invalid SKU id {table[ref[i]]!r}: "
                                         "1 to 128 characters, no spaces, '|' or ','"))
        return sku_idx

    def _node_indices(self, table: list[str], ref: I64, errors: list[DeltaError], *,
                      supply: bool) -> I64:
        """Node index of each delta; < 0 for a bad delta."""
        entry = _table_lookup(self.node_index, table)
        ref = _checked_refs(ref, len(table), errors, supply=supply, field="node_ref")
        node_idx = entry[ref]
        for i in np.flatnonzero(node_idx == _UNKNOWN).tolist():
            errors.append(DeltaError(i, supply, "node_id",
                                     f"unknown node {table[ref[i]]!r}"))
        return node_idx

    def _inventory_after(self, deltas: DeltaColumns, sku_idx: I64, errors: list[DeltaError]
                         ) -> tuple[I64, I64, I64, I64]:
        """Validate inventory deltas; the after-image (disp, sku, node, value) of each cell.

        Vectorised: a stable sort groups the deltas of each cell in batch order, and running
        sums give every delta's result. Kept to few NumPy calls on the good path (a call costs
        ~1-2 us, a 1k-delta batch makes a few dozen), the error path spells out each reason."""
        node_idx = self._node_indices(deltas.node_ids, deltas.node_ref, errors, supply=False)
        disposition, kind, qty = deltas.disposition, deltas.kind, deltas.qty
        is_set = kind == KIND_SET
        bad = ((disposition < 1) | (disposition > N_DISPOSITIONS)
               | ((kind != KIND_ADJUST) & ~is_set) | (qty > INT32_MAX) | (qty < -INT32_MAX)
               | (is_set & (qty < 0)) | (node_idx < 0) | (sku_idx < 0))
        pos: I64 | None = None
        if bad.any():
            self._field_errors(deltas, errors)
            pos = np.flatnonzero(~bad)
            disposition, is_set, qty = disposition[pos], is_set[pos], qty[pos]
            sku_idx, node_idx = sku_idx[pos], node_idx[pos]
        if len(qty) == 0:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z, z
        n_nodes = len(self.node_ids)
        per_sku = N_DISPOSITIONS * n_nodes
        # One key per cell, valid for tentative (not yet allocated) SKU indices too.
        cell = sku_idx * per_sku + (disposition - 1) * n_nodes + node_idx
        order = np.argsort(cell, kind="stable")
        c, q, is_set = cell[order], qty[order], is_set[order]
        group_start = np.empty(len(c), dtype=bool)
        group_start[0] = True
        np.not_equal(c[1:], c[:-1], out=group_start[1:])
        reset = group_start | is_set  # a SET restarts the running count of its cell
        seg = np.cumsum(reset) - 1
        first = np.flatnonzero(reset)
        cf = c[first]
        s_f, d_f, n_f = cf // per_sku, cf % per_sku // n_nodes, cf % n_nodes
        existing = s_f < len(self.sku_ids)
        if existing.all():
            current = self.on_hand[d_f, s_f, n_f].astype(np.int64)
        else:
            current = np.zeros(len(first), dtype=np.int64)
            current[existing] = self.on_hand[d_f[existing], s_f[existing], n_f[existing]]
        base = np.where(is_set[first], q[first], current)
        contrib = np.where(is_set, 0, q)
        running = np.cumsum(contrib)
        after = (base - (running[first] - contrib[first]))[seg] + running
        out_of_range = (after < 0) | (after > INT32_MAX)
        if out_of_range.any():
            for j in np.flatnonzero(out_of_range).tolist():
                i = int(order[j]) if pos is None else int(pos[order[j]])
                where = (f"{DISPOSITIONS[int(c[j]) % per_sku // n_nodes]} on-hand of "
                         f"{deltas.sku_ids[deltas.sku_ref[i]]!r} at "
                         f"{deltas.node_ids[deltas.node_ref[i]]!r}")
                limit = "(< 0)" if after[j] < 0 else f"(> {INT32_MAX})"
                errors.append(DeltaError(i, False, "qty", f"would make {where} {after[j]} "
                                         f"{limit}"))
        last = np.empty(len(c), dtype=bool)
        last[-1] = True
        last[:-1] = group_start[1:]
        cl = c[last]
        return cl % per_sku // n_nodes, cl // per_sku, cl % n_nodes, after[last]

    @staticmethod
    def _field_errors(deltas: DeltaColumns, errors: list[DeltaError]) -> None:
        """The reasons of the bad disposition, kind and qty fields (ids are checked apart)."""
        disposition, kind, qty = deltas.disposition, deltas.kind, deltas.qty
        bad_qty = (qty > INT32_MAX) | (qty < -INT32_MAX)
        for i in np.flatnonzero((disposition < 1) | (disposition > N_DISPOSITIONS)).tolist():
            errors.append(DeltaError(i, False, "disposition",
                                     f"unknown or unspecified disposition {disposition[i]}"))
        for i in np.flatnonzero((kind != KIND_ADJUST) & (kind != KIND_SET)).tolist():
            errors.append(DeltaError(i, False, "kind", f"unknown or unspecified kind {kind[i]}"))
        for i in np.flatnonzero(bad_qty).tolist():
            errors.append(DeltaError(i, False, "qty", f"|qty| {qty[i]} exceeds {INT32_MAX}"))
        for i in np.flatnonzero((kind == KIND_SET) & (qty < 0) & ~bad_qty).tolist():
            errors.append(DeltaError(i, False, "qty", f"SET to {qty[i]} < 0"))

    def _supply_after(self, supply: SupplyColumns, new_skus: dict[str, int],
                      errors: list[DeltaError]) -> dict[tuple[int, int, int], int]:
        if not supply.sku:
            return {}
        rows = np.arange(len(supply.sku), dtype=np.int64)
        sku_idx = self._sku_indices(supply.sku, rows, new_skus, errors, supply=True)
        node_idx = self._node_indices(supply.node_id, rows, errors, supply=True)
        after: dict[tuple[int, int, int], int] = {}
        for i, (action, qty, date) in enumerate(zip(supply.action.tolist(), supply.qty.tolist(),
                                                    supply.available_date, strict=True)):
            bad = False
            if action not in (ACTION_ADD, ACTION_CANCEL):
                errors.append(DeltaError(i, True, "action",
                                         f"unknown or unspecified action {action}"))
                bad = True
            if not 0 < qty <= INT32_MAX:
                errors.append(DeltaError(i, True, "qty", f"must be 1 to {INT32_MAX}, got {qty}"))
                bad = True
            day = self._day(date)
            if day is None:
                errors.append(DeltaError(i, True, "available_date",
                                         f"not an ISO date (YYYY-MM-DD): {date!r}"))
                bad = True
            if bad or sku_idx[i] < 0 or node_idx[i] < 0 or day is None:
                continue
            key = (int(sku_idx[i]), int(node_idx[i]), day)
            current = after.get(key)
            if current is None:
                current = self.supply.get(key, 0)
            if action == ACTION_ADD:
                after[key] = current + qty
            elif qty > current:
                errors.append(DeltaError(i, True, "qty", f"cancels {qty} units of "
                                         f"{supply.sku[i]!r} at {supply.node_id[i]!r} on "
                                         f"{date} but only {current} are expected"))
            else:
                after[key] = current - qty
        return after

    def _day(self, date: str) -> int | None:
        day = self._dates.get(date)
        if day is None:
            if not _ISO_DATE.match(date):
                return None
            try:
                day = day_number(dt.date.fromisoformat(date))
            except ValueError:
                return None
            if len(self._dates) < 100_000:
                self._dates[date] = day
        return day


_NO_SUPPLY = (b"", b"", b"", b"")


def _supply_bytes(after: dict[tuple[int, int, int], int]) -> tuple[bytes, bytes, bytes, bytes]:
    """(sku, node, day, qty) columns of a batch's supply after-images, as record bytes."""
    if not after:
        return _NO_SUPPLY
    keys = np.array(list(after), dtype=np.int64).reshape(-1, 3)
    return (keys[:, 0].astype(np.int32).tobytes(), keys[:, 1].astype(np.int32).tobytes(),
            keys[:, 2].astype(np.int32).tobytes(),
            np.array(list(after.values()), dtype=np.int64).tobytes())


# Table look-up results below zero: not in the catalog (yet), an id that cannot be registered,
# a ref outside its table (the error is recorded where it is found).
_UNKNOWN, _INVALID, _BAD_REF = -1, -2, -3


def _table_lookup(index: dict[str, int], table: list[str]) -> I64:
    """Catalog index of each table entry, _UNKNOWN if absent, plus a trailing _BAD_REF slot
    that out-of-range refs are pointed at."""
    entry = np.empty(len(table) + 1, dtype=np.int64)
    entry[:-1] = np.fromiter(map(index.get, table, itertools.repeat(_UNKNOWN)),
                             dtype=np.int64, count=len(table))
    entry[-1] = _BAD_REF
    return entry


def _checked_refs(ref: I64, n_table: int, errors: list[DeltaError], *, supply: bool,
                  field: str) -> I64:
    """`ref` with out-of-range values (recorded as errors) pointed at the _BAD_REF slot."""
    # As uint64 a negative ref is huge: one comparison covers both ends.
    if not len(ref) or int(ref.astype(np.uint64).max()) < n_table:
        return ref
    bad = (ref < 0) | (ref >= n_table)
    for i in np.flatnonzero(bad).tolist():
        errors.append(DeltaError(i, supply, field,
                                 f"{ref[i]} is outside its id table ({n_table} ids)"))
    return np.where(bad, n_table, ref)


def _zeros(n_skus: int, n_nodes: int) -> I32:
    """On-hand with headroom for new SKUs."""
    return np.zeros((N_DISPOSITIONS, max(2 * n_skus, n_skus + 1024), n_nodes), dtype=np.int32)
