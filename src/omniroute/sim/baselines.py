"""Routing baselines a DOM user recognises, priced with omniroute's own cost model.

Plain Python/NumPy, independent of the engine's kernels:

- `first_by_priority`: per line, the most preferred node (lowest `priority`) with stock, then
  the next one for what is still short;
- `nearest`: per line, the nearest node with stock, then the next nearest;
- `fewest_splits`: one node for the whole order when one can fill it (the nearest such);
  otherwise greedily the node that fills the most remaining units (nearest on ties).

Every baseline obeys the same eligibility rules (docs/routing.md: kinds per channel, ship from
store, capabilities, promise, capacity, ATP with safety stock) and the same `max_shipments`,
so the comparison is about choices, not about rule breaking. `OrderProblem` is the customer
group of one order as arrays; `price` is the routing objective of docs/routing.md for any
allocation, so the MILP (sim/milp.py), the baselines and omniroute are priced alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from omniroute.config import ANY, EARTH_RADIUS_KM, Disposition, Network, NodeKind, SkuKind
from omniroute.engine.model import Decision, Fulfillment, Order, SplitPolicy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def haversine_km(lat: F64, lon: F64, lat0: float, lon0: float) -> F64:
    """Great-circle distance (km) from every (lat, lon) to one point."""
    phi, phi0 = np.radians(lat), np.radians(lat0)
    a = (np.sin((phi0 - phi) / 2) ** 2
         + np.cos(phi) * np.cos(phi0) * np.sin(np.radians(lon0 - lon) / 2) ** 2)
    distance: F64 = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return distance


@dataclasses.dataclass(frozen=True)
class OrderProblem:
    """The customer group of one order: lines x nodes, with every price and limit."""

    order: Order
    qty: I64
    """Units per line."""
    weight_kg: F64
    """Weight of one unit, per line."""
    line_sku: list[str]
    mto: B
    """Made-to-order lines: no stock limit."""
    eligible: B
    """[line, node]: passes every rule but stock and capacity amounts."""
    atp: dict[str, I64]
    """Per SKU, ATP per node (safety stock applied), shared by the order's lines of the SKU."""
    remaining: I64
    """Remaining daily capacity per node (units)."""
    distance_km: F64
    base: F64
    per_kg: F64
    handling: F64
    pick: F64
    priority: F64
    w_cost: float
    w_distance: float
    w_priority: float
    w_balance: float
    split_penalty: float
    unfilled_penalty: float
    max_shipments: int
    strict: bool
    """SHIP_COMPLETE or FILL_OR_KILL (the quality run uses ALLOW_SPLIT only)."""

    @property
    def n_lines(self) -> int:
        return len(self.qty)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One order's routing by one method, priced."""

    cost: float
    shipments: int
    distance_km: tuple[float, ...]
    """Per shipment."""
    unfilled_units: int

    @property
    def on_promise(self) -> bool:
        """Every unit ships now, from nodes that meet the promise (eligibility enforces it)."""
        return self.unfilled_units == 0


class PricingContext:
    """Everything about a network that pricing an order needs, computed once."""

    def __init__(self, network: Network) -> None:
        self.network = network
        rules = network.rules
        self.carrier = rules.carrier
        nodes = network.nodes
        self.node_ids = [node.node_id for node in nodes]
        self.node_index = {node_id: i for i, node_id in enumerate(self.node_ids)}
        self.lat = np.array([node.lat for node in nodes])
        self.lon = np.array([node.lon for node in nodes])
        self.kind = [node.kind for node in nodes]
        self.handling = np.array([node.handling_cost for node in nodes])
        self.pick = np.array([node.pick_cost for node in nodes])
        self.priority = np.array([node.priority for node in nodes], dtype=np.float64)
        self.processing = np.array([node.processing_days for node in nodes], dtype=np.int64)
        self.remaining = np.array([node.daily_capacity_units for node in nodes], dtype=np.int64)
        self.enabled = np.array([node.enabled for node in nodes])
        self.caps = [{c.value for c in node.capabilities} for node in nodes]
        self.channels = [set(node.channels) for node in nodes]
        self.skus = {sku.sku: sku for sku in network.skus}
        self.sellable: dict[str, I64] = {}
        for row in network.inventory:
            if row.disposition is Disposition.SELLABLE:
                arr = self.sellable.setdefault(row.sku, np.zeros(len(nodes), dtype=np.int64))
                arr[self.node_index[row.node_id]] = row.qty
        self.postal = {row.postal_code: (row.lat, row.lon) for row in network.postal}
        self.zone_edges = np.array([band.max_km for band in self.carrier.zones])
        self._by_channel: dict[tuple[str, str], tuple[B, I64]] = {}

    def destination(self, order: Order) -> tuple[float, float]:
        ship_to = order.ship_to
        if ship_to.lat is not None and ship_to.lon is not None:
            return ship_to.lat, ship_to.lon
        code = ship_to.postal_code
        for end in range(len(code), 0, -1):  # exact code first, then the longest prefix
            if code[:end] in self.postal:
                return self.postal[code[:end]]
        raise ValueError(f"no postal area for {code!r}")

    def _channel_rules(self, ruleset_name: str, channel: str) -> tuple[B, I64]:
        """Nodes the channel may use (rules 1-3) and safety stock per node."""
        key = (ruleset_name, channel)
        if key not in self._by_channel:
            ruleset = self.network.rules.rulesets[ruleset_name]
            kinds = ruleset.channel_node_kinds.get(channel, ruleset.channel_node_kinds.get(ANY,
                                                                                           []))
            ok = np.array([
                bool(self.enabled[i]) and kind.value in kinds
                and (ANY in self.channels[i] or channel in self.channels[i])
                and (kind is not NodeKind.STORE or ruleset.ship_from_store)
                for i, kind in enumerate(self.kind)])

            def safety(kind: NodeKind) -> int:
                for name in (channel, ANY):
                    table = ruleset.safety_stock.get(name)
                    if table is not None and kind.value in table:
                        return table[kind.value]
                return 0

            self._by_channel[key] = (ok, np.array([safety(k) for k in self.kind],
                                                  dtype=np.int64))
        return self._by_channel[key]

    def problem(self, order: Order) -> OrderProblem:
        """The order's customer group. Only SHIP lines of known physical SKUs."""
        rules = self.network.rules
        name = order.ruleset or rules.channels.get(order.channel) or rules.channels[ANY]
        ruleset = rules.rulesets[name]
        level = order.service_level
        base_ok, safety = self._channel_rules(name, order.channel)
        lat0, lon0 = self.destination(order)
        distance = haversine_km(self.lat, self.lon, lat0, lon0)
        zone = np.searchsorted(self.zone_edges, distance, side="left")
        table = self.carrier.rates.get(level) or self.carrier.rates[ANY]
        transit = np.asarray(self.carrier.transit_days[level])[zone]
        promise = self.carrier.promise_days[level]
        n_nodes = len(self.node_ids)
        lines = order.lines
        eligible = np.zeros((len(lines), n_nodes), dtype=np.bool_)
        atp: dict[str, I64] = {}
        mto = np.zeros(len(lines), dtype=np.bool_)
        for li, line in enumerate(lines):
            sku = self.skus.get(line.sku)
            if (line.fulfillment is not Fulfillment.SHIP or sku is None
                    or sku.kind is SkuKind.DIGITAL):
                raise ValueError("baselines price SHIP lines of known physical SKUs only")
            need = {"ship"}
            if sku.kind is SkuKind.GIFT_CARD:
                need.add("gift_card")
            if sku.kind is SkuKind.MADE_TO_ORDER:
                need.add("made_to_order")
                mto[li] = True
            if sku.hazmat:
                need.add("hazmat")
            caps_ok = np.array([need <= caps for caps in self.caps])
            days = transit + (0 if mto[li] else self.processing)
            stock = np.maximum(0, self.sellable.get(sku.sku, np.zeros(n_nodes, np.int64))
                               - safety)
            atp[sku.sku] = stock
            stock_ok = np.ones(n_nodes, np.bool_) if mto[li] else stock > 0
            eligible[li] = (base_ok & caps_ok & (days <= promise) & (self.remaining > 0)
                            & stock_ok)
        k_max = (ruleset.max_shipments if order.max_shipments == 0
                 else min(order.max_shipments, ruleset.max_shipments))
        if order.split_policy is SplitPolicy.SHIP_COMPLETE:
            k_max = 1
        w = ruleset.weights
        return OrderProblem(
            order=order, qty=np.array([line.qty for line in lines], dtype=np.int64),
            weight_kg=np.array([self.skus[line.sku].weight_kg for line in lines]),
            line_sku=[line.sku for line in lines], mto=mto, eligible=eligible, atp=atp,
            remaining=self.remaining, distance_km=distance, base=np.asarray(table.base)[zone],
            per_kg=np.asarray(table.per_kg)[zone], handling=self.handling, pick=self.pick,
            priority=self.priority, w_cost=w.cost, w_distance=w.distance_per_km,
            w_priority=w.priority, w_balance=w.capacity_balance,
            split_penalty=ruleset.split_penalty, unfilled_penalty=ruleset.unfilled_penalty,
            max_shipments=k_max,
            strict=order.split_policy is not SplitPolicy.ALLOW_SPLIT)

    def allocation_of(self, problem: OrderProblem, decision: Decision) -> I64:
        """The [line, node] units of an engine decision (customer shipments)."""
        x = np.zeros(problem.eligible.shape, dtype=np.int64)
        line_of = {line.line_id: i for i, line in enumerate(problem.order.lines)}
        for shipment in decision.shipments:
            n = self.node_index[shipment.node_id]
            for sl in shipment.lines:
                x[line_of[sl.line_id], n] += sl.qty
        return x


def price(problem: OrderProblem, x: I64) -> Outcome:
    """The routing objective (docs/routing.md) of allocation `x[line, node]`."""
    units = x.sum(axis=0)
    used = np.flatnonzero(units)
    weight = (x * problem.weight_kg[:, None]).sum(axis=0)
    cost = 0.0
    for n in used:
        cost += (problem.w_cost * (problem.base[n] + problem.per_kg[n] * weight[n]
                                   + problem.handling[n] + problem.pick[n] * units[n])
                 + problem.w_distance * problem.distance_km[n]
                 + problem.w_priority * problem.priority[n]
                 + problem.w_balance * units[n] / problem.remaining[n])
    unfilled = int(problem.qty.sum() - x.sum())
    cost += problem.w_cost * problem.split_penalty * max(0, len(used) - 1)
    cost += problem.w_cost * problem.unfilled_penalty * unfilled
    return Outcome(cost=float(cost), shipments=len(used),
                   distance_km=tuple(float(problem.distance_km[n]) for n in used),
                   unfilled_units=unfilled)


class _Fill:
    """Greedy filling state shared by the baselines: ATP, capacity and the node budget."""

    def __init__(self, problem: OrderProblem) -> None:
        self.p = problem
        self.x = np.zeros(problem.eligible.shape, dtype=np.int64)
        self.atp = {sku: a.copy() for sku, a in problem.atp.items()}
        self.cap = problem.remaining.copy()
        self.used: set[int] = set()

    def room(self, li: int, n: int) -> int:
        """Units of line `li` node `n` can still take."""
        p = self.p
        if not p.eligible[li, n] or (n not in self.used and len(self.used) >= p.max_shipments):
            return 0
        short = int(p.qty[li] - self.x[li].sum())
        stock = short if p.mto[li] else int(self.atp[p.line_sku[li]][n])
        return max(0, min(short, stock, int(self.cap[n])))

    def take(self, li: int, n: int, q: int) -> None:
        if q <= 0:
            return
        self.x[li, n] += q
        self.cap[n] -= q
        if not self.p.mto[li]:
            self.atp[self.p.line_sku[li]][n] -= q
        self.used.add(n)

    def per_line(self, ranking: I64) -> I64:
        for li in range(self.p.n_lines):
            for n in ranking:
                self.take(li, int(n), self.room(li, int(n)))
                if self.x[li].sum() == self.p.qty[li]:
                    break
        return self.x


def first_by_priority(problem: OrderProblem) -> I64:
    """Per line: the lowest-priority-number node with stock first (ties: file order)."""
    return _Fill(problem).per_line(np.argsort(problem.priority, kind="stable"))


def nearest(problem: OrderProblem) -> I64:
    """Per line: the nearest node with stock first."""
    return _Fill(problem).per_line(np.argsort(problem.distance_km, kind="stable"))


def fewest_splits(problem: OrderProblem) -> I64:
    """One node for everything when possible (the nearest such), else greedy set cover."""
    fill = _Fill(problem)
    by_distance = np.argsort(problem.distance_km, kind="stable")
    total = int(problem.qty.sum())
    for n in by_distance:
        node = int(n)
        # Whole order from one node: every line fits in its ATP (shared per SKU) and the
        # node's capacity takes every unit.
        need: dict[str, int] = {}
        fits = bool(problem.eligible[:, node].all()) and problem.remaining[node] >= total
        for li in range(problem.n_lines):
            if fits and not problem.mto[li]:
                sku = problem.line_sku[li]
                need[sku] = need.get(sku, 0) + int(problem.qty[li])
                fits = need[sku] <= problem.atp[sku][node]
        if fits:
            for li in range(problem.n_lines):
                fill.take(li, node, int(problem.qty[li]))
            return fill.x
    while len(fill.used) < problem.max_shipments:
        best, best_units = -1, 0
        for n in by_distance:
            if int(n) in fill.used:
                continue
            units = _units_if_added(fill, int(n))
            if units > best_units:
                best, best_units = int(n), units
        if best < 0:
            break
        for li in range(problem.n_lines):
            fill.take(li, best, fill.room(li, best))
    return fill.x


def _units_if_added(fill: _Fill, n: int) -> int:
    """Units node `n` would add on its own (lines in order, capacity and shared ATP)."""
    p = fill.p
    cap = int(fill.cap[n])
    taken: dict[str, int] = {}
    units = 0
    for li in range(p.n_lines):
        q = fill.room(li, n)
        if not p.mto[li]:
            q = min(q, int(fill.atp[p.line_sku[li]][n]) - taken.get(p.line_sku[li], 0))
        q = max(0, min(q, cap - units))
        if not p.mto[li]:
            taken[p.line_sku[li]] = taken.get(p.line_sku[li], 0) + q
        units += q
    return units


BASELINES: dict[str, Callable[[OrderProblem], I64]] = {
    "first by priority": first_by_priority,
    "nearest with stock": nearest,
    "fewest splits": fewest_splits,
}
"""Baselines by report name."""
