"""Route from protobuf bytes to protobuf bytes: the compiled path of dry-run Route and RouteBatch.

`WireRouter.route(raw)` reads a serialized RouteRequest, routes it with the same kernel as
`Engine.route`, and returns the serialized RouteResponse, or None when the request needs the
Python path (explain, reserve, a field it does not read, anything invalid: the Python path
names the bad field). Responses equal what `Engine.route` + `api.convert.decision_to_proto`
give (tests/unit/test_wire.py compares them on random orders).

Tables (string ids -> indices, resolved rulesets) are rebuilt when the engine's state swaps in
a new catalog, rules or carrier tables, and reused otherwise: an inventory publish does not
rebuild the 100k-SKU table.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from omniroute.engine import _kernels as kern
from omniroute.engine import _wire
from omniroute.engine._numba import address_table
from omniroute.engine._prepare import RulesetParams, find_ruleset
from omniroute.engine.model import Status
from omniroute.engine.router import Engine, StaticArrays
from omniroute.errors import OmnirouteError
from omniroute.state import NODE_KINDS, EngineState
from omniroute.state.catalog import OTHER_CHANNEL_BIT

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_EPOCH = dt.date(1970, 1, 1)
_STATUS_NAMES = {int(s): s.name for s in Status}


class StringTable(NamedTuple):
    """Ids as one byte array with offsets, and an open-addressing index (`_wire.build_table`)."""

    keys: U8
    offsets: I64
    slots: I64


HOLD_GIL_MAX_BYTES = 256
"""Unary requests up to this size keep the GIL while routed (`_numba.FLAGS` says why). The
size stands in for the line count, which only the kernel reads: a line is 20 to 40 bytes, so
this is about 5 to 10 lines; larger orders can search for milliseconds, and for that long the
worker's other threads should run."""


def string_table(ids: Iterable[str]) -> StringTable:
    encoded = [s.encode() for s in ids]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    keys = np.frombuffer(b"".join(encoded), np.uint8).copy()
    # Load factor at most one half: a miss (an unknown SKU) probes a short run.
    size = 1 << max(1, (2 * len(encoded)).bit_length())
    slots = np.full(size, -1, np.int64)
    _wire.build_table(keys, offsets, slots)
    return StringTable(keys, offsets, slots)


class _CatalogTables(NamedTuple):
    catalog: object
    sku: StringTable
    node: StringTable
    postal: StringTable
    postal_lengths: I64


class _RuleTables(NamedTuple):
    """Every ruleset an order can resolve to, one row each, and the [channel, ruleset] map."""

    rules: object
    catalog: object
    channel: StringTable
    ruleset: StringTable
    level: StringTable
    channel_bit: I64
    row_of: I64
    """[channel (last: any channel no table names), 0 = default or 1 + named ruleset] -> row."""
    rows: list[RulesetParams]
    max_ship: I64
    params: npt.NDArray[np.float64]
    kind_allowed: npt.NDArray[np.uint8]
    safety: I64
    names: U8
    name_off: I64
    version: I64
    zone_number: I64
    currency: U8


_UNNAMED = "\x00any channel no table names"
"""Resolving a ruleset for a channel named nowhere gives the '*' answers every such channel gets."""


def _rule_tables(state: EngineState, previous: _RuleTables | None) -> _RuleTables:
    rules, catalog = state.rules, state.catalog
    if (previous is not None and previous.rules is rules and previous.catalog is catalog
            and np.array_equal(previous.zone_number, state.carrier.zone_number)):
        return previous
    channels = set(catalog.channel_bit) | set(rules.channels)
    for ruleset in rules.rulesets.values():
        channels |= set(ruleset.channel_node_kinds) | set(ruleset.safety_stock)
    channel_names = sorted(channels)
    ruleset_names = sorted(rules.rulesets)
    rows: list[RulesetParams] = []
    row_of = np.full((len(channel_names) + 1, len(ruleset_names) + 1), -1, np.int64)
    for c, channel in enumerate([*channel_names, _UNNAMED]):
        for r, name in enumerate(["", *ruleset_names]):
            try:
                resolved = find_ruleset(rules, name, channel)
            except OmnirouteError:
                continue  # no default for this channel: the Python path says so
            row_of[c, r] = len(rows)
            rows.append(resolved)
    names = string_table(rs.name for rs in rows)
    return _RuleTables(
        rules=rules, catalog=catalog, channel=string_table(channel_names),
        ruleset=string_table(ruleset_names), level=string_table(state.carrier.level_index),
        channel_bit=np.array([catalog.channel_bit.get(c, OTHER_CHANNEL_BIT)
                              for c in channel_names] + [OTHER_CHANNEL_BIT], np.int64),
        row_of=row_of, rows=rows,
        max_ship=np.array([rs.max_shipments for rs in rows] or [0], np.int64),
        params=np.stack([rs.params for rs in rows]) if rows else np.zeros((1, kern.N_PARAMS)),
        kind_allowed=(np.stack([rs.kind_allowed for rs in rows]) if rows
                      else np.zeros((1, 1), np.uint8)),
        safety=np.stack([rs.safety_stock for rs in rows]) if rows else np.zeros((1, 1), np.int64),
        names=names.keys, name_off=names.offsets,
        version=np.array([rs.version for rs in rows] or [0], np.int64),
        zone_number=state.carrier.zone_number.astype(np.int64),
        currency=np.frombuffer(rules.currency.encode(), np.uint8).copy())


def _catalog_tables(state: EngineState, previous: _CatalogTables | None) -> _CatalogTables:
    catalog = state.catalog
    if previous is not None and previous.catalog is catalog:
        return previous
    return _CatalogTables(catalog, string_table(catalog.sku_ids), string_table(catalog.node_ids),
                          string_table(catalog.postal_codes),
                          np.array(catalog.postal_lengths, np.int64))


class _Tables(NamedTuple):
    """One state's address table and the arrays it points into (kept alive with it)."""

    static: StaticArrays
    """The packed state the table is for, which keeps its arrays alive."""
    knobs: tuple[int, int]
    cat: _CatalogTables
    rule: _RuleTables
    arrays: list[npt.NDArray[Any]]
    table: I64


class _Scratch:
    """One thread's buffers for `route_wire` and their address table."""

    def __init__(self, orders: int, lines: int, n_rec: int, n_shp: int, n_bytes: int) -> None:
        self.shape = (orders, lines, n_rec, n_shp, n_bytes)
        self.arrays: list[npt.NDArray[Any]] = [
            np.zeros((orders, 2), np.int64), np.zeros(orders, np.int64),
            np.zeros((orders, _wire.N_SP), np.int64), np.zeros((lines, _wire.N_LS), np.int64),
            np.zeros(orders + 1, np.int64), np.zeros((kern.N_ORD_I, orders), np.int64),
            np.zeros((kern.N_ORD_F, orders), np.float64), np.zeros((kern.N_LN, lines), np.int64),
            np.zeros((orders, kern.N_PARAMS), np.float64),
            np.zeros((orders, len(NODE_KINDS)), np.uint8),
            np.zeros((orders, len(NODE_KINDS)), np.int64),
            np.zeros((n_rec, 5), np.int64), np.zeros((n_shp, 7), np.int64),
            np.zeros((n_shp, 4), np.float64), np.zeros((kern.N_OUT_I, orders + 1), np.int64),
            np.zeros((orders, kern.N_COSTS + 1), np.float64), np.zeros(n_bytes, np.uint8),
            np.zeros(orders + 1, np.int64), np.zeros(_wire.N_NEED, np.int64)]
        self.table = address_table(self.arrays, _wire.SCRATCH_SLOTS)
        self.status = self.arrays[1]
        self.encoded = self.arrays[16]
        self.res_off = self.arrays[17]
        self.need = self.arrays[18]
        self.msgs = self.arrays[0]
        self.out_status = self.arrays[14][kern.OUT_STATUS]


class WireBatch(NamedTuple):
    """A RouteBatchRequest routed on the compiled path, except the orders it declined."""

    encoded: bytes
    """Each routed order's RouteBatchResult, tagged as a RouteBatchResponse field."""
    result_off: list[int]
    """Order o's result is `encoded[result_off[o]:result_off[o + 1]]` (empty when declined)."""
    declined: list[int]
    """Slots of the orders the Python path must route (their results are empty here)."""
    spans: npt.NDArray[np.int64]
    """[order, 2]: each order's RouteRequest bytes in the request are `raw[lo:hi]` (an array:
    a list of a thousand tuples measured 0.1 us per order, and only declined orders read it)."""
    status_counts: dict[str, int]
    """Routed orders per status name (metrics)."""


class WireRouter:
    """Bytes-to-bytes routing over an `Engine` (follows its `use_state`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._tables: _Tables | None = None
        self._local = threading.local()

    def _current(self) -> _Tables:
        engine = self._engine
        static = engine._packed  # one read: the state (`.state`) and its packed columns
        knobs = (engine.exact_max_skus, engine.exact_budget_sets)
        tables = self._tables
        if tables is not None and tables.static is static and tables.knobs == knobs:
            return tables
        with self._lock:  # one thread builds; the others wait for it rather than build too
            tables = self._tables
            if tables is None or tables.static is not static or tables.knobs != knobs:
                tables = self._build(static, knobs, tables)
                self._tables = tables
        return tables

    @staticmethod
    def _build(st: StaticArrays, knobs: tuple[int, int], previous: _Tables | None) -> _Tables:
        state = st.state
        cat = _catalog_tables(state, previous.cat if previous else None)
        rule = _rule_tables(state, previous.rule if previous else None)
        scalars = np.zeros(_wire.N_SCALARS, np.int64)
        scalars[_wire.SC_DIGITAL_NODE] = state.digital_node_idx
        scalars[_wire.SC_EXACT_MAX_SKUS] = knobs[0]
        scalars[_wire.SC_EXACT_BUDGET] = knobs[1]
        scalars[_wire.SC_TODAY_DAYS] = (state.today - _EPOCH).days
        # The table starts with `route_by_table`'s (`st.table`, whose arrays `st` keeps).
        arrays: list[npt.NDArray[Any]] = [
            state.version, scalars,
            *cat.sku, *cat.node, *cat.postal, cat.postal_lengths,
            *rule.channel, *rule.ruleset, *rule.level,
            rule.channel_bit, rule.row_of, rule.max_ship, rule.params, rule.kind_allowed,
            rule.safety, rule.zone_number, state.nodes.processing_days.astype(np.int64), rule.names,
            rule.name_off, rule.version, rule.currency]
        n_route = len(kern.ROUTE_STATE_SLOTS)
        table = np.concatenate(
            [st.table, address_table(arrays, _wire.STATE_SLOTS[n_route:])])
        return _Tables(st, knobs, cat, rule, arrays, table)

    def _scratch(self) -> _Scratch:
        sc: _Scratch | None = getattr(self._local, "scratch", None)
        if sc is None:
            sc = _Scratch(orders=1, lines=64, n_rec=1024, n_shp=512, n_bytes=1 << 16)
            self._local.scratch = sc
        return sc

    def _call(self, raw: bytes, *, batch: bool) -> tuple[int, _Scratch]:
        t = self._current()
        buf = np.frombuffer(raw, np.uint8)
        sc = self._scratch()
        while True:
            if batch:
                size = _wire.route_wire(buf, t.table, sc.table, 1)
            elif len(raw) <= HOLD_GIL_MAX_BYTES:
                size = _wire.route_wire_unary(buf, t.table, sc.table)
            else:
                size = _wire.route_wire(buf, t.table, sc.table, 0)
            if size != _wire.NO_ROOM_CODE:
                return int(size), sc
            sc = _Scratch(*sc.need[:_wire.INFO_ORDERS].tolist())
            self._local.scratch = sc

    def route(self, raw: bytes) -> tuple[bytes, str] | None:
        """A RouteRequest's RouteResponse and its status name, or None for the Python path."""
        size, sc = self._call(raw, batch=False)
        if size < 0:
            return None
        return sc.encoded[:size].tobytes(), _STATUS_NAMES[int(sc.out_status[0])]

    def route_batch(self, raw: bytes) -> WireBatch | None:
        """A RouteBatchRequest's routed results; None when it is not one the compiled path
        reads (the Python path parses it and reports what is wrong)."""
        size, sc = self._call(raw, batch=True)
        if size < 0:
            return None
        n = int(sc.need[_wire.INFO_ORDERS])
        status = sc.status[:n]
        routed = status == _wire.DECODED
        counts = np.bincount(sc.out_status[:n][routed], minlength=len(_STATUS_NAMES) + 1)
        return WireBatch(
            encoded=sc.encoded[:size].tobytes(), result_off=sc.res_off[:n + 1].tolist(),
            declined=np.flatnonzero(~routed).tolist(), spans=sc.msgs[:n].copy(),
            status_counts={_STATUS_NAMES[c]: int(counts[c])
                           for c in np.flatnonzero(counts).tolist()})
