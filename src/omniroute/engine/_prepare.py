"""Validate orders and flatten them into the kernels' CSR arrays (STYLE habit 2: wrappers check).

Nothing here mutates state: a bad order raises before any kernel runs, so nothing is half-applied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, NoReturn

import numpy as np
import numpy.typing as npt

from omniroute.config import Rules, Ruleset
from omniroute.engine import _kernels as kern
from omniroute.engine.model import Fulfillment, Order, OrderLine
from omniroute.errors import InvalidArgument, NotFound
from omniroute.state import (
    KIND_STORE,
    NODE_KINDS,
    SKU_DIGITAL,
    EngineState,
)


class RulesetParams(NamedTuple):
    """A ruleset resolved for one channel, as kernel inputs."""

    name: str
    version: int
    max_shipments: int
    params: npt.NDArray[np.float64]
    kind_allowed: npt.NDArray[np.uint8]
    safety_stock: npt.NDArray[np.int64]


def resolve_ruleset(name: str, ruleset: Ruleset, channel: str) -> RulesetParams:
    """Weights, penalties, allowed node kinds and safety stock of `ruleset` for `channel`."""
    params = np.zeros(kern.N_PARAMS, dtype=np.float64)
    params[kern.P_W_COST] = ruleset.weights.cost
    params[kern.P_W_DISTANCE] = ruleset.weights.distance_per_km
    params[kern.P_W_PRIORITY] = ruleset.weights.priority
    params[kern.P_W_CAPACITY] = ruleset.weights.capacity_balance
    params[kern.P_SPLIT] = ruleset.split_penalty
    params[kern.P_UNFILLED] = ruleset.unfilled_penalty
    params[kern.P_SHIP_FROM_STORE] = 1.0 if ruleset.ship_from_store else 0.0
    params[kern.P_PICKUP_STS] = 1.0 if ruleset.pickup_ship_to_store else 0.0
    kinds = ruleset.channel_node_kinds.get(channel, ruleset.channel_node_kinds.get("*", []))
    allowed = np.array([1 if kind in kinds else 0 for kind in NODE_KINDS], dtype=np.uint8)
    by_channel = ruleset.safety_stock.get(channel, {})
    fallback = ruleset.safety_stock.get("*", {})
    safety = np.array([by_channel.get(kind, fallback.get(kind, 0)) for kind in NODE_KINDS],
                      dtype=np.int64)
    return RulesetParams(name, ruleset.version, ruleset.max_shipments, params, allowed, safety)


def find_ruleset(rules: Rules, name: str, channel: str, prefix: str = "") -> RulesetParams:
    """The ruleset an order on `channel` asking for `name` ('' for the channel's default)
    routes by; errors name the order's field under `prefix`."""
    if not name:
        default = rules.channels.get(channel, rules.channels.get("*"))
        if default is None:
            raise InvalidArgument(f"{prefix}channel", f"no default ruleset for channel {channel!r}")
        name = default
    ruleset = rules.rulesets.get(name)
    if ruleset is None:
        raise NotFound(f"{prefix}ruleset", f"unknown ruleset {name!r}")
    return resolve_ruleset(name, ruleset, channel)


class Prepared(NamedTuple):
    """A validated batch as kernel arrays, plus what the decision builder needs.

    The kernel takes the packed `ord_i` / `ord_f` / `lines` (rows `kern.OI_*`, `kern.OF_*`,
    `kern.LN_*`); the named per-order and per-line properties are views of their rows, made on
    use (a dozen eager views were ~2 us of every single-order route; only explain reads them).
    """

    orders: Sequence[Order]
    rulesets: list[RulesetParams]
    ord_i: npt.NDArray[np.int64]
    ord_f: npt.NDArray[np.float64]
    lines: npt.NDArray[np.int64]
    line_off: npt.NDArray[np.int64]
    params: npt.NDArray[np.float64]
    kind_allowed: npt.NDArray[np.uint8]
    safety: npt.NDArray[np.int64]
    max_nodes: int

    @property
    def postal_idx(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.ord_i[kern.OI_POSTAL]
        return row

    @property
    def lat_deg(self) -> npt.NDArray[np.float64]:
        row: npt.NDArray[np.float64] = self.ord_f[kern.OF_LAT]
        return row

    @property
    def lon_deg(self) -> npt.NDArray[np.float64]:
        row: npt.NDArray[np.float64] = self.ord_f[kern.OF_LON]
        return row

    @property
    def channel_bit(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.ord_i[kern.OI_CHANNEL_BIT]
        return row

    @property
    def level_idx(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.ord_i[kern.OI_LEVEL]
        return row

    @property
    def policy(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.ord_i[kern.OI_POLICY]
        return row

    @property
    def max_ship(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.ord_i[kern.OI_MAX_SHIP]
        return row

    @property
    def backorder(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.ord_i[kern.OI_BACKORDER]
        return row

    @property
    def line_sku(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.lines[kern.LN_SKU]
        return row

    @property
    def line_qty(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.lines[kern.LN_QTY]
        return row

    @property
    def line_group(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.lines[kern.LN_GROUP]
        return row

    @property
    def line_store(self) -> npt.NDArray[np.int64]:
        row: npt.NDArray[np.int64] = self.lines[kern.LN_STORE]
        return row


class Preparer:
    """Validation and flattening with per-(ruleset, channel) caches."""

    def __init__(self, state: EngineState) -> None:
        self.state = state
        self._rulesets: dict[tuple[str, str], RulesetParams] = {}
        # A set lookup per line instead of a NumPy scalar read (about 0.1 us each). SKU kinds
        # never change in place: a state with new SKUs has new arrays and a new Preparer.
        self._digital = frozenset(np.flatnonzero(state.skus.kind == SKU_DIGITAL).tolist())

    def ruleset_for(self, order: Order, batch: bool, o: int) -> RulesetParams:
        """Order o's resolved ruleset, cached per (ruleset, channel); errors name its fields."""
        key = (order.ruleset, order.channel)
        cached = self._rulesets.get(key)
        if cached is None:
            cached = find_ruleset(self.state.rules, order.ruleset, order.channel,
                                  _prefix(batch, o))
            self._rulesets[key] = cached
        return cached

    def prepare(self, orders: Sequence[Order], *, batch: bool) -> Prepared:
        state = self.state
        catalog = state.catalog
        sku_index = catalog.sku_index
        channel_bits = catalog.channel_bit
        digital = self._digital
        levels = state.carrier.level_index
        # Enum members and group codes as locals: `Fulfillment.DIGITAL` is a class attribute
        # lookup of ~80 ns in Python 3.11, once per line.
        f_digital = Fulfillment.DIGITAL
        f_pickup = Fulfillment.PICKUP
        f_sts = Fulfillment.SHIP_TO_STORE
        g_customer = kern.G_CUSTOMER
        g_digital = kern.G_DIGITAL
        line_off = [0]
        postal_idx: list[int] = []
        lat: list[float] = []
        lon: list[float] = []
        channel_bit: list[int] = []
        level_idx: list[int] = []
        policy: list[int] = []
        max_ship: list[int] = []
        backorder: list[int] = []
        rulesets: list[RulesetParams] = []
        line_sku: list[int] = []
        line_qty: list[int] = []
        line_group: list[int] = []
        line_store: list[int] = []
        for o, order in enumerate(orders):
            # The field prefix is formatted only when something is wrong (an f-string per
            # order was ~80 ns of each).
            if not order.order_id:
                raise InvalidArgument(f"{_prefix(batch, o)}order_id", "must not be empty")
            if not order.channel:
                raise InvalidArgument(f"{_prefix(batch, o)}channel", "must not be empty")
            level = levels.get(order.service_level)
            if level is None:
                raise InvalidArgument(f"{_prefix(batch, o)}service_level",
                                      f"unknown service level {order.service_level!r}; "
                                      f"expected one of {sorted(levels)}")
            if order.max_shipments < 0:
                raise InvalidArgument(f"{_prefix(batch, o)}max_shipments", "must be >= 0")
            rs = self.ruleset_for(order, batch, o)
            lines = order.lines
            if not lines:
                raise InvalidArgument(f"{_prefix(batch, o)}lines",
                                      "an order needs at least one line")
            bit = channel_bits.get(order.channel, 63)
            needs_ship_to = False
            for i, line in enumerate(lines):
                qty = line.qty
                if qty <= 0 or not line.line_id:
                    _bad_line(line, f"{_prefix(batch, o)}lines[{i}]")
                sku = sku_index.get(line.sku, -1)
                ful = line.fulfillment
                if sku < 0:
                    store = (self._store(line.store_id, ful,
                                         f"{_prefix(batch, o)}lines[{i}].store_id")
                             if ful in (f_pickup, f_sts) else -1)
                    shipped = ful in (Fulfillment.SHIP, f_sts)
                    group = kern.G_UNKNOWN_SHIPPED if shipped else kern.G_UNKNOWN_OTHER
                elif sku in digital:
                    store = -1
                    group = g_digital
                elif ful in (f_pickup, f_sts):
                    store = self._store(line.store_id, ful,
                                        f"{_prefix(batch, o)}lines[{i}].store_id")
                    group = kern.G_PICKUP if ful == f_pickup else kern.G_STS
                elif ful == f_digital:
                    raise InvalidArgument(
                        f"{_prefix(batch, o)}lines[{i}].fulfillment",
                        f"sku {line.sku!r} is not digital")
                else:
                    store = -1
                    group = g_customer
                    needs_ship_to = True
                line_sku.append(sku)
                line_qty.append(qty)
                line_group.append(group)
                line_store.append(store)
            if len(lines) > 1 and len({line.line_id for line in lines}) < len(lines):
                _duplicate_line_id(lines, _prefix(batch, o))
            p_idx, p_lat, p_lon = self._destination(order, o, batch, needs_ship_to)
            line_off.append(len(line_sku))
            postal_idx.append(p_idx)
            lat.append(p_lat)
            lon.append(p_lon)
            channel_bit.append(bit)
            level_idx.append(level)
            policy.append(order.split_policy)
            cap = rs.max_shipments
            max_ship.append(cap if order.max_shipments == 0 else min(order.max_shipments, cap))
            backorder.append(1 if order.allow_backorder else 0)
            rulesets.append(rs)
        return assemble(
            orders, rulesets, line_off,
            ord_rows=[postal_idx, channel_bit, level_idx, policy, max_ship, backorder],
            ord_float_rows=[lat, lon], line_rows=[line_sku, line_qty, line_group, line_store])

    def _store(self, store_id: str, ful: Fulfillment, field: str) -> int:
        # A store lacking the capability, disabled or not serving the channel is not a bad
        # request: its lines are unfilled (NO_ELIGIBLE_NODE), as in the slow twin.
        state = self.state
        if not store_id:
            raise InvalidArgument(field, f"required for {ful.name}")
        store = state.catalog.node_index.get(store_id, -1)
        if store < 0:
            raise InvalidArgument(field, f"unknown node {store_id!r}")
        if state.nodes.kind[store] != KIND_STORE:
            raise InvalidArgument(field, f"node {store_id!r} is not a store")
        return store

    def _destination(self, order: Order, o: int, batch: bool, required: bool
                     ) -> tuple[int, float, float]:
        ship_to = order.ship_to
        if ship_to.lat is not None or ship_to.lon is not None:
            for name, value, limit in (("lat", ship_to.lat, 90.0), ("lon", ship_to.lon, 180.0)):
                if value is None or not math.isfinite(value) or abs(value) > limit:
                    raise InvalidArgument(f"{_prefix(batch, o)}ship_to.{name}",
                                          f"must be a number in [-{limit:g}, {limit:g}]")
            assert ship_to.lat is not None
            assert ship_to.lon is not None
            return -1, float(ship_to.lat), float(ship_to.lon)
        if ship_to.postal_code:
            found = self.state.catalog.resolve_postal(ship_to.postal_code)
            if found < 0:
                raise InvalidArgument(f"{_prefix(batch, o)}ship_to.postal_code",
                                      f"no postal area matches {ship_to.postal_code!r}")
            return found, 0.0, 0.0
        if required:
            raise InvalidArgument(f"{_prefix(batch, o)}ship_to.postal_code",
                                  "a postal code or lat/lon is required for shipped lines")
        return 0, 0.0, 0.0


def _prefix(batch: bool, o: int) -> str:
    """Where order o's fields are in the request: `orders[o].` in a batch, nothing alone."""
    return f"orders[{o}]." if batch else ""


def _bad_line(line: OrderLine, field: str) -> NoReturn:
    """Raise for the first bad field of `line` (at `field`): an empty line_id, or a qty not
    above zero."""
    if not line.line_id:
        raise InvalidArgument(f"{field}.line_id", "must not be empty")
    raise InvalidArgument(f"{field}.qty", "must be > 0")


def _duplicate_line_id(lines: Sequence[OrderLine], prefix: str) -> NoReturn:
    """Raise for the first line whose line_id an earlier line already has."""
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.line_id in seen:
            raise InvalidArgument(f"{prefix}lines[{i}].line_id",
                                  f"duplicate line_id {line.line_id!r}")
        seen.add(line.line_id)
    raise AssertionError("no duplicate line_id")


def assemble(orders: Sequence[Order], rulesets: list[RulesetParams], line_off: list[int], *,
             ord_rows: list[list[int]], ord_float_rows: list[list[float]],
             line_rows: list[list[int]]) -> Prepared:
    """Pack per-order rows (`kern.OI_*`, `kern.OF_*`) and line rows (`kern.LN_*`) into arrays."""
    n_orders = len(rulesets)
    first = rulesets[0] if rulesets else None
    if n_orders == 1:
        # One order (every unary Route): its ruleset's rows as views; kernels only read them.
        assert first is not None
        params = first.params.reshape(1, -1)
        kind_allowed = first.kind_allowed.reshape(1, -1)
        safety = first.safety_stock.reshape(1, -1)
    elif all(rs is first for rs in rulesets):
        # One resolved ruleset for the whole batch (the common case: the cache hands out the
        # same object): its rows repeated, without a row copy per order.
        assert first is not None
        params = np.tile(first.params, (n_orders, 1))
        kind_allowed = np.tile(first.kind_allowed, (n_orders, 1))
        safety = np.tile(first.safety_stock, (n_orders, 1))
    else:
        params = np.stack([rs.params for rs in rulesets])
        kind_allowed = np.stack([rs.kind_allowed for rs in rulesets])
        safety = np.stack([rs.safety_stock for rs in rulesets])
    ord_i = np.array(ord_rows, dtype=np.int64).reshape(kern.N_ORD_I, n_orders)
    ord_f = np.array(ord_float_rows, dtype=np.float64).reshape(kern.N_ORD_F, n_orders)
    lines = np.array(line_rows, dtype=np.int64).reshape(kern.N_LN, -1)
    return Prepared(
        orders=orders, rulesets=rulesets, ord_i=ord_i, ord_f=ord_f, lines=lines,
        line_off=np.array(line_off, dtype=np.int64), params=params,
        kind_allowed=kind_allowed, safety=safety,
        max_nodes=max(ord_rows[kern.OI_MAX_SHIP], default=1))
