"""Validate orders and flatten them into the kernels' CSR arrays (STYLE habit 2: wrappers check).

Nothing here mutates state: a bad order raises before any kernel runs, so nothing is half-applied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omniroute.config import Ruleset
from omniroute.engine import _kernels as kern
from omniroute.engine.model import Fulfillment, Order
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


class Prepared(NamedTuple):
    """A validated batch as kernel arrays, plus what the decision builder needs."""

    orders: Sequence[Order]
    rulesets: list[RulesetParams]
    line_off: npt.NDArray[np.int64]
    postal_idx: npt.NDArray[np.int64]
    lat_deg: npt.NDArray[np.float64]
    lon_deg: npt.NDArray[np.float64]
    channel_bit: npt.NDArray[np.int64]
    level_idx: npt.NDArray[np.int64]
    policy: npt.NDArray[np.int64]
    max_ship: npt.NDArray[np.int64]
    backorder: npt.NDArray[np.uint8]
    params: npt.NDArray[np.float64]
    kind_allowed: npt.NDArray[np.uint8]
    safety: npt.NDArray[np.int64]
    line_sku: npt.NDArray[np.int64]
    line_qty: npt.NDArray[np.int64]
    line_group: npt.NDArray[np.int64]
    line_store: npt.NDArray[np.int64]
    max_nodes: int


class Preparer:
    """Validation and flattening with per-(ruleset, channel) caches."""

    def __init__(self, state: EngineState) -> None:
        self.state = state
        self._rulesets: dict[tuple[str, str], RulesetParams] = {}

    def ruleset_for(self, order: Order, prefix: str) -> RulesetParams:
        key = (order.ruleset, order.channel)
        cached = self._rulesets.get(key)
        if cached is not None:
            return cached
        rules = self.state.rules
        name = order.ruleset
        if not name:
            default = rules.channels.get(order.channel, rules.channels.get("*"))
            if default is None:
                raise InvalidArgument(f"{prefix}channel",
                                      f"no default ruleset for channel {order.channel!r}")
            name = default
        ruleset = rules.rulesets.get(name)
        if ruleset is None:
            raise NotFound(f"{prefix}ruleset", f"unknown ruleset {name!r}")
        resolved = resolve_ruleset(name, ruleset, order.channel)
        self._rulesets[key] = resolved
        return resolved

    def prepare(self, orders: Sequence[Order], *, batch: bool) -> Prepared:
        state = self.state
        catalog = state.catalog
        sku_index = catalog.sku_index
        sku_kind = state.skus.kind
        levels = state.carrier.level_index
        n_orders = len(orders)
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
            prefix = f"orders[{o}]." if batch else ""
            if not order.order_id:
                raise InvalidArgument(f"{prefix}order_id", "must not be empty")
            if not order.channel:
                raise InvalidArgument(f"{prefix}channel", "must not be empty")
            level = levels.get(order.service_level)
            if level is None:
                raise InvalidArgument(f"{prefix}service_level",
                                      f"unknown service level {order.service_level!r}; "
                                      f"expected one of {sorted(levels)}")
            if order.max_shipments < 0:
                raise InvalidArgument(f"{prefix}max_shipments", "must be >= 0")
            rs = self.ruleset_for(order, prefix)
            if not order.lines:
                raise InvalidArgument(f"{prefix}lines", "an order needs at least one line")
            bit = catalog.channel_bit.get(order.channel, 63)
            ids: set[str] = set()
            needs_ship_to = False
            for i, line in enumerate(order.lines):
                where = f"{prefix}lines[{i}]"
                if not line.line_id:
                    raise InvalidArgument(f"{where}.line_id", "must not be empty")
                if line.line_id in ids:
                    raise InvalidArgument(f"{where}.line_id",
                                          f"duplicate line_id {line.line_id!r}")
                ids.add(line.line_id)
                if line.qty <= 0:
                    raise InvalidArgument(f"{where}.qty", "must be > 0")
                sku = sku_index.get(line.sku, -1)
                digital = sku >= 0 and sku_kind[sku] == SKU_DIGITAL
                ful = line.fulfillment
                if ful == Fulfillment.DIGITAL and sku >= 0 and not digital:
                    raise InvalidArgument(f"{where}.fulfillment",
                                          f"sku {line.sku!r} is not digital")
                store = -1
                if ful in (Fulfillment.PICKUP, Fulfillment.SHIP_TO_STORE) and not digital:
                    store = self._store(line.store_id, ful, f"{where}.store_id")
                if sku < 0:
                    shipped = ful in (Fulfillment.SHIP, Fulfillment.SHIP_TO_STORE)
                    group = kern.G_UNKNOWN_SHIPPED if shipped else kern.G_UNKNOWN_OTHER
                elif digital:
                    group = kern.G_DIGITAL
                elif ful == Fulfillment.PICKUP:
                    group = kern.G_PICKUP
                elif ful == Fulfillment.SHIP_TO_STORE:
                    group = kern.G_STS
                else:
                    group = kern.G_CUSTOMER
                    needs_ship_to = True
                line_sku.append(sku)
                line_qty.append(line.qty)
                line_group.append(group)
                line_store.append(store)
            p_idx, p_lat, p_lon = self._destination(order, prefix, needs_ship_to)
            line_off.append(len(line_sku))
            postal_idx.append(p_idx)
            lat.append(p_lat)
            lon.append(p_lon)
            channel_bit.append(bit)
            level_idx.append(level)
            policy.append(int(order.split_policy))
            cap = rs.max_shipments
            max_ship.append(cap if order.max_shipments == 0 else min(order.max_shipments, cap))
            backorder.append(1 if order.allow_backorder else 0)
            rulesets.append(rs)
        params = np.empty((n_orders, kern.N_PARAMS), dtype=np.float64)
        kind_allowed = np.empty((n_orders, len(NODE_KINDS)), dtype=np.uint8)
        safety = np.empty((n_orders, len(NODE_KINDS)), dtype=np.int64)
        for o, rs in enumerate(rulesets):
            params[o] = rs.params
            kind_allowed[o] = rs.kind_allowed
            safety[o] = rs.safety_stock
        return Prepared(
            orders=orders, rulesets=rulesets,
            line_off=np.array(line_off, dtype=np.int64),
            postal_idx=np.array(postal_idx, dtype=np.int64),
            lat_deg=np.array(lat, dtype=np.float64), lon_deg=np.array(lon, dtype=np.float64),
            channel_bit=np.array(channel_bit, dtype=np.int64),
            level_idx=np.array(level_idx, dtype=np.int64),
            policy=np.array(policy, dtype=np.int64), max_ship=np.array(max_ship, dtype=np.int64),
            backorder=np.array(backorder, dtype=np.uint8), params=params,
            kind_allowed=kind_allowed, safety=safety,
            line_sku=np.array(line_sku, dtype=np.int64),
            line_qty=np.array(line_qty, dtype=np.int64),
            line_group=np.array(line_group, dtype=np.int64),
            line_store=np.array(line_store, dtype=np.int64),
            max_nodes=max(max_ship, default=1))

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

    def _destination(self, order: Order, prefix: str, required: bool) -> tuple[int, float, float]:
        ship_to = order.ship_to
        if ship_to.lat is not None or ship_to.lon is not None:
            for name, value, limit in (("lat", ship_to.lat, 90.0), ("lon", ship_to.lon, 180.0)):
                if value is None or not math.isfinite(value) or abs(value) > limit:
                    raise InvalidArgument(f"{prefix}ship_to.{name}",
                                          f"must be a number in [-{limit:g}, {limit:g}]")
            assert ship_to.lat is not None
            assert ship_to.lon is not None
            return -1, float(ship_to.lat), float(ship_to.lon)
        if ship_to.postal_code:
            found = self.state.catalog.resolve_postal(ship_to.postal_code)
            if found < 0:
                raise InvalidArgument(f"{prefix}ship_to.postal_code",
                                      f"no postal area matches {ship_to.postal_code!r}")
            return found, 0.0, 0.0
        if required:
            raise InvalidArgument(f"{prefix}ship_to.postal_code",
                                  "a postal code or lat/lon is required for shipped lines")
        return 0, 0.0, 0.0
