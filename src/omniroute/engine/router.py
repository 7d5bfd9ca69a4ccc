"""`Engine`: validates orders, runs the routing kernel, builds `Decision` objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omniroute.config import Network
from omniroute.engine import _kernels as kern
from omniroute.engine._numba import compile_all
from omniroute.engine._prepare import Prepared, Preparer
from omniroute.engine._search import EXACT_BUDGET_SETS, EXACT_MAX_SKUS
from omniroute.engine.availability import FutureSupply, NodeAvailability, SkuAvailability
from omniroute.engine.explain import explain_candidates
from omniroute.engine.model import (
    Backorder,
    CostTotals,
    Decision,
    Fulfillment,
    Order,
    Reason,
    Shipment,
    ShipmentLine,
    Status,
    Unfilled,
)
from omniroute.errors import InvalidArgument, NotFound
from omniroute.state import DISPOSITIONS, EngineState, build_state

_FULFILLMENT = {int(f): f for f in Fulfillment}
_REASON = {int(r): r for r in Reason}
_STATUS = {int(s): s for s in Status}


class KernelOutputs(NamedTuple):
    """What `route_orders` wrote for a batch."""

    rec_off: npt.NDArray[np.int64]
    rec: npt.NDArray[np.int64]
    shp_off: npt.NDArray[np.int64]
    shp_i: npt.NDArray[np.int64]
    shp_f: npt.NDArray[np.float64]
    status: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64]
    lower_bound: npt.NDArray[np.float64]
    optimal: npt.NDArray[np.uint8]


class Engine:
    """In-process router over one `EngineState` (no reservations: routing reads, never writes)."""

    def __init__(self, state: EngineState) -> None:
        self._state = state
        self._preparer = Preparer(state)
        self.exact_max_skus = EXACT_MAX_SKUS
        self.exact_budget_sets = EXACT_BUDGET_SETS

    @classmethod
    def from_network(cls, network: Network, *, today: dt.date) -> Engine:
        return cls(build_state(network, today=today))

    @property
    def state(self) -> EngineState:
        return self._state

    def use_state(self, state: EngineState) -> None:
        """Route on `state` from now on (the live inventory swaps in grown or remapped arrays).

        A call already running keeps the state it started with: both are read-only here.
        """
        self._preparer = Preparer(state)
        self._state = state

    @property
    def inventory_version(self) -> int:
        return int(self._state.version[0])

    def warm_up(self) -> None:
        """Compile every kernel for its explicit signature, then route a one-line order."""
        compile_all()
        state = self._state
        if not state.catalog.sku_ids or not state.catalog.node_ids:
            return
        rules = state.rules
        name = next(iter(rules.rulesets))
        from omniroute.engine._prepare import resolve_ruleset
        rs = resolve_ruleset(name, rules.rulesets[name], "*")
        one = np.array([0, 1], dtype=np.int64)
        prepared = Prepared(
            orders=(), rulesets=[rs], line_off=one, postal_idx=np.zeros(1, np.int64),
            lat_deg=np.zeros(1), lon_deg=np.zeros(1), channel_bit=np.full(1, 63, np.int64),
            level_idx=np.zeros(1, np.int64), policy=np.ones(1, np.int64),
            max_ship=np.full(1, rs.max_shipments, np.int64), backorder=np.ones(1, np.uint8),
            params=rs.params[None, :].copy(), kind_allowed=rs.kind_allowed[None, :].copy(),
            safety=rs.safety_stock[None, :].copy(), line_sku=np.zeros(1, np.int64),
            line_qty=np.ones(1, np.int64), line_group=np.full(1, kern.G_CUSTOMER, np.int64),
            line_store=np.full(1, -1, np.int64), max_nodes=rs.max_shipments)
        self._run(prepared)

    def route(self, order: Order) -> Decision:
        prepared = self._preparer.prepare((order,), batch=False)
        return self._decisions(prepared, self._run(prepared))[0]

    def route_batch(self, orders: Sequence[Order]) -> list[Decision]:
        """Route independent orders with one kernel call (each sees the same state)."""
        if not orders:
            return []
        prepared = self._preparer.prepare(orders, batch=True)
        return self._decisions(prepared, self._run(prepared))

    def _run(self, p: Prepared) -> KernelOutputs:
        s = self._state
        nodes, skus, inv, sup, postal, car = (s.nodes, s.skus, s.inventory, s.supply, s.postal,
                                              s.carrier)
        n_orders = len(p.line_off) - 1
        n_lines = int(p.line_off[-1])
        n_rec = n_lines * 3 + n_lines * (p.max_nodes + 1) + 4
        n_shp = n_lines * (p.max_nodes + 1) + 4
        while True:
            out = KernelOutputs(
                rec_off=np.zeros(n_orders + 1, np.int64), rec=np.empty((n_rec, 5), np.int64),
                shp_off=np.zeros(n_orders + 1, np.int64), shp_i=np.empty((n_shp, 7), np.int64),
                shp_f=np.empty((n_shp, 4), np.float64), status=np.empty(n_orders, np.int64),
                cost=np.empty((n_orders, kern.N_COSTS), np.float64),
                lower_bound=np.empty(n_orders, np.float64), optimal=np.empty(n_orders, np.uint8))
            code = kern.route_orders(
                nodes.kind, nodes.lat_deg, nodes.lon_deg, nodes.priority, nodes.capability_mask,
                nodes.channel_mask, nodes.daily_capacity_units, nodes.capacity_used_today,
                nodes.handling_cost, nodes.pick_cost, nodes.processing_days, nodes.enabled,
                skus.kind, skus.weight_kg, skus.hazmat, inv.on_hand, inv.reserved,
                sup.sku_offsets, sup.node_idx, sup.day, sup.qty,
                postal.distance_km, postal.zone_idx, car.band_max_km, car.transit_days,
                car.promise_days, car.base_cost, car.per_kg_cost, s.digital_node_idx,
                p.line_off, p.postal_idx, p.lat_deg, p.lon_deg, p.channel_bit, p.level_idx,
                p.policy, p.max_ship, p.backorder, p.params, p.kind_allowed, p.safety,
                p.line_sku, p.line_qty, p.line_group, p.line_store,
                self.exact_max_skus, self.exact_budget_sets,
                out.rec_off, out.rec, out.shp_off, out.shp_i, out.shp_f, out.status, out.cost,
                out.lower_bound, out.optimal)
            if code == kern.ROUTE_OK:
                return out
            n_rec *= 2  # sized from a bound, so this is defensive
            n_shp *= 2

    def _decisions(self, p: Prepared, out: KernelOutputs) -> list[Decision]:
        s = self._state
        node_ids = s.catalog.node_ids
        zone_number = s.carrier.zone_number
        processing = s.nodes.processing_days
        today = s.today
        version = int(s.version[0])
        rec_off = out.rec_off.tolist()
        shp_off = out.shp_off.tolist()
        # Only the used rows: the buffers are sized for the worst case.
        rec = out.rec[:rec_off[-1]].tolist()
        shp_i = out.shp_i[:shp_off[-1]].tolist()
        shp_f = out.shp_f[:shp_off[-1]].tolist()
        costs = out.cost.tolist()
        decisions: list[Decision] = []
        for o, order in enumerate(p.orders):
            l0 = int(p.line_off[o])
            lines = order.lines
            by_shipment: dict[int, list[ShipmentLine]] = {}
            backorders: list[Backorder] = []
            unfilled: list[Unfilled] = []
            for line_g, node, qty, kind, aux in rec[rec_off[o]:rec_off[o + 1]]:
                line = lines[line_g - l0]
                if kind == kern.R_NOW:
                    by_shipment.setdefault(aux, []).append(
                        ShipmentLine(line.line_id, line.sku, qty))
                elif kind == kern.R_BACKORDER:
                    backorders.append(Backorder(line.line_id, line.sku, qty, node_ids[node],
                                                today + dt.timedelta(days=aux)))
                else:
                    unfilled.append(Unfilled(line.line_id, line.sku, qty, _REASON[aux]))
            shipments: list[Shipment] = []
            for t in range(shp_off[o], shp_off[o + 1]):
                node, dest, ful, zone_idx, transit, _units, offset = shp_i[t]
                distance, weight, ship, handling = shp_f[t]
                if dest == kern.DEST_CUSTOMER:
                    where = "customer"
                elif dest == kern.DEST_DIGITAL:
                    where = "digital"
                else:
                    where = "store:" + node_ids[dest]
                shipments.append(Shipment(
                    node_id=node_ids[node], fulfillment=_FULFILLMENT[ful],
                    lines=tuple(by_shipment.get(t, ())), destination=where,
                    zone=int(zone_number[zone_idx]) if zone_idx >= 0 else 0,
                    distance_km=distance, transit_days=transit,
                    processing_days=int(processing[node]), weight_kg=weight, ship_cost=ship,
                    handling_cost=handling, ship_date_offset_days=offset))
            c = costs[o]
            rs = p.rulesets[o]
            decision = Decision(
                order_id=order.order_id, status=_STATUS[int(out.status[o])],
                shipments=tuple(shipments), backorders=tuple(backorders),
                unfilled=tuple(unfilled),
                cost=CostTotals(ship_cost=c[kern.C_SHIP], handling_cost=c[kern.C_HANDLING],
                                split_penalty=c[kern.C_SPLIT], unfilled_penalty=c[kern.C_UNFILLED],
                                other_terms=c[kern.C_OTHER], total=c[kern.C_TOTAL]),
                ruleset=rs.name, ruleset_version=rs.version, inventory_version=version,
                optimal=bool(out.optimal[o]), lower_bound=float(out.lower_bound[o]))
            if order.explain:
                decision = explain_candidates(self, p, o, decision)
            decisions.append(decision)
        return decisions

    def availability(self, skus: Sequence[str], *, channel: str,
                     node_ids: Sequence[str] = ()) -> list[SkuAvailability]:
        """Enterprise ATP per SKU for a channel: network total, per node, supply by date."""
        s = self._state
        catalog = s.catalog
        if node_ids:
            selected = []
            for i, node_id in enumerate(node_ids):
                idx = catalog.node_index.get(node_id)
                if idx is None:
                    raise NotFound(f"node_ids[{i}]", f"unknown node {node_id!r}")
                selected.append(idx)
            node_idx = np.array(selected, dtype=np.int64)
        else:
            node_idx = np.arange(len(catalog.node_ids), dtype=np.int64)
        if not channel:
            raise InvalidArgument("channel", "must not be empty")
        rules = s.rules
        default = rules.channels.get(channel, rules.channels.get("*"))
        if default is None:
            raise InvalidArgument("channel", f"no default ruleset for channel {channel!r}")
        from omniroute.engine._prepare import resolve_ruleset
        rs = resolve_ruleset(default, rules.rulesets[default], channel)
        bit = catalog.channel_bit.get(channel, 63)
        kinds = s.nodes.kind[node_idx]
        safety = rs.safety_stock[kinds]
        usable = ((s.nodes.enabled[node_idx] != 0) & (rs.kind_allowed[kinds] != 0)
                  & (((s.nodes.channel_mask[node_idx] >> bit) & 1) != 0))
        result: list[SkuAvailability] = []
        for sku in skus:
            sku_idx = catalog.sku_index.get(sku)
            if sku_idx is None:
                result.append(SkuAvailability(sku=sku, known=False))
                continue
            on_hand = s.inventory.on_hand[:, sku_idx, node_idx].astype(np.int64)
            reserved = s.inventory.reserved[sku_idx, node_idx].astype(np.int64)
            atp = np.maximum(0, on_hand[0] - reserved - safety)
            per_node = tuple(
                NodeAvailability(node_id=catalog.node_ids[n], atp=int(atp[j]),
                                 sellable=int(on_hand[0, j]), damaged=int(on_hand[1, j]),
                                 in_transit=int(on_hand[2, j]), quarantine=int(on_hand[3, j]),
                                 reserved=int(reserved[j]), safety_stock=int(safety[j]))
                for j, n in enumerate(node_idx.tolist()))
            wanted = set(node_idx.tolist())
            lo, hi = int(s.supply.sku_offsets[sku_idx]), int(s.supply.sku_offsets[sku_idx + 1])
            supply = tuple(
                FutureSupply(node_id=catalog.node_ids[int(s.supply.node_idx[r])],
                             available_date=s.today + dt.timedelta(days=int(s.supply.day[r])),
                             qty=int(s.supply.qty[r]))
                for r in range(lo, hi) if int(s.supply.node_idx[r]) in wanted)
            result.append(SkuAvailability(sku=sku, known=True,
                                          network_atp=int(atp[usable].sum()),
                                          nodes=per_node, supply=supply))
        assert len(DISPOSITIONS) == 4
        return result
