"""`Engine`: validates orders, runs the routing kernel, builds `Decision` objects."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omniroute.config import Network
from omniroute.engine import _kernels as kern
from omniroute.engine._numba import address_table, compile_all
from omniroute.engine._prepare import Prepared, Preparer, assemble
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
from omniroute.state.stocked import stocked_words

_FULFILLMENT = {int(f): f for f in Fulfillment}
_REASON = {int(r): r for r in Reason}
_STATUS = {int(s): s for s in Status}


class KernelOutputs(NamedTuple):
    """What `route_orders` wrote for a batch (the named fields are views of `out_i` / `out_f`)."""

    rec: npt.NDArray[np.int64]
    shp_i: npt.NDArray[np.int64]
    shp_f: npt.NDArray[np.float64]
    out_i: npt.NDArray[np.int64]
    out_f: npt.NDArray[np.float64]
    rec_off: npt.NDArray[np.int64]
    shp_off: npt.NDArray[np.int64]
    status: npt.NDArray[np.int64]
    optimal: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64]
    lower_bound: npt.NDArray[np.float64]


class StaticArrays(NamedTuple):
    """Kernel inputs packed once per state from columns that never change after load."""

    node_f: npt.NDArray[np.float64]
    """Rows `kern.NF_*`."""
    node_i: npt.NDArray[np.int64]
    """Rows `kern.NI_*`."""
    car_f: npt.NDArray[np.float64]
    """Row 0 the zone bands' max km, then base cost per level, then per-kg cost per level."""
    store_km: npt.NDArray[np.float64]
    """[row, node] km from every node to each store that receives shipments (ship-to-store
    and pickup shortfalls); a store's row is its `node_i[kern.NI_STORE_ROW]`, -1 for nodes
    that cannot receive. Computed here, once per network, so no request pays trigonometry:
    a store group's distances computed per order (1,000 haversines) were 80 us of it."""
    store_zone: npt.NDArray[np.int8]
    """[row, node] zone band index of `store_km`."""
    table: npt.NDArray[np.int64]
    """`kern.route_by_table`'s address table (`kern.ROUTE_STATE_SLOTS`) of the arrays above
    and `state`'s."""
    state: EngineState
    """The state `table` points into, kept alive with it: the kernel reads arrays by address."""


class _NodeNames(NamedTuple):
    """Per-state Python lists the decision builder indexes (numpy scalar reads cost ~0.1 us)."""

    state: EngineState
    node_ids: list[str]
    processing_days: list[int]
    store_dest: list[str]
    """`"store:<node id>"` per node, the destination of ship-to-store shipments."""
    zone_number: list[int]

    @classmethod
    def of(cls, state: EngineState) -> _NodeNames:
        node_ids = state.catalog.node_ids
        return cls(state, node_ids, state.nodes.processing_days.tolist(),
                   ["store:" + node_id for node_id in node_ids],
                   state.carrier.zone_number.tolist())


def pack_static(state: EngineState, previous: StaticArrays | None = None) -> StaticArrays:
    """The kernel's static inputs for `state`; the store distance table comes from `previous`
    when the nodes and zone bands are the same (a live state swap keeps its network)."""
    nodes, car, inv = state.nodes, state.carrier, state.inventory
    # The kernels index without bounds checks: a bitmap of another shape would read past it.
    expected = (inv.on_hand.shape[1], stocked_words(inv.on_hand.shape[2]))
    if inv.stocked.shape != expected or inv.stocked.dtype != np.uint64:
        raise ValueError(f"inventory.stocked is {inv.stocked.dtype}{inv.stocked.shape}, "
                         f"expected uint64{expected} for on-hand {inv.on_hand.shape}")
    # Owners (store.py): none of these columns has a writer after load, so a copy stays true.
    node_f = np.ascontiguousarray(np.stack(
        [nodes.lat_deg, nodes.lon_deg, nodes.handling_cost, nodes.pick_cost]).astype(np.float64))
    receiving = np.flatnonzero(nodes.capability_mask & kern.CAP_SHIP_TO_STORE)
    store_row = np.full(len(nodes.kind), -1, np.int64)
    store_row[receiving] = np.arange(len(receiving))
    caps = nodes.capability_mask.astype(np.int64)
    if (caps & ~np.int64(kern.SCAN_CAPS_MASK)).any():
        raise ValueError("nodes.capability_mask has bits the kernel does not know")
    # The candidate scan's one read per node for its static tests (`kern.NI_SCAN`).
    scan_word = (caps | (nodes.kind.astype(np.int64) << kern.SCAN_KIND_SHIFT)
                 | (nodes.processing_days.astype(np.int64) << kern.SCAN_PROCESSING_SHIFT))
    node_i = np.ascontiguousarray(np.stack(
        [nodes.priority, caps, nodes.channel_mask, nodes.processing_days, store_row,
         scan_word]).astype(np.int64))
    car_f = np.ascontiguousarray(np.concatenate(
        [car.band_max_km[None, :], car.base_cost, car.per_kg_cost]).astype(np.float64))
    if (previous is not None and np.array_equal(previous.node_f[:2], node_f[:2])
            and np.array_equal(previous.node_i[kern.NI_STORE_ROW], store_row)
            and np.array_equal(previous.car_f[0], car_f[0])):
        store_km, store_zone = previous.store_km, previous.store_zone
    else:
        store_km = np.empty((len(receiving), len(store_row)), np.float64)
        store_zone = np.empty((len(receiving), len(store_row)), np.int8)
        lat, lon = node_f[kern.NF_LAT], node_f[kern.NF_LON]
        for row, n in enumerate(receiving.tolist()):
            # The kernel's own distance code, so a store's row equals what it computed before.
            kern.destination_row(float(lat[n]), float(lon[n]), lat, lon, car_f[0],
                                 store_km[row], store_zone[row])
    skus, sup, postal = state.skus, state.supply, state.postal
    table = address_table(
        [node_f, node_i, nodes.kind, nodes.enabled, nodes.daily_capacity_units,
         nodes.capacity_used_today, skus.kind, skus.weight_kg, skus.hazmat, inv.on_hand,
         inv.reserved, inv.stocked, sup.sku_offsets, sup.node_idx, sup.day, sup.qty,
         postal.distance_km, postal.zone_idx, store_km, store_zone, car_f, car.transit_days,
         car.promise_days], kern.ROUTE_STATE_SLOTS)
    return StaticArrays(node_f, node_i, car_f, store_km, store_zone, table, state)


def new_outputs(n_orders: int, n_rec: int, n_shp: int) -> KernelOutputs:
    out_i = np.zeros((kern.N_OUT_I, n_orders + 1), np.int64)
    out_f = np.empty((n_orders, kern.N_COSTS + 1), np.float64)
    return KernelOutputs(
        rec=np.empty((n_rec, 5), np.int64), shp_i=np.empty((n_shp, 7), np.int64),
        shp_f=np.empty((n_shp, 4), np.float64), out_i=out_i, out_f=out_f,
        rec_off=out_i[kern.OUT_REC_OFF], shp_off=out_i[kern.OUT_SHP_OFF],
        status=out_i[kern.OUT_STATUS, :n_orders], optimal=out_i[kern.OUT_OPTIMAL, :n_orders],
        cost=out_f[:, :kern.N_COSTS], lower_bound=out_f[:, kern.C_LOWER_BOUND])


class Engine:
    """In-process router over one `EngineState` (no reservations: routing reads, never writes)."""

    def __init__(self, state: EngineState) -> None:
        self._state = state
        self._preparer = Preparer(state)
        # The packed static columns and the state they belong to (`.state`), swapped as one
        # (see `use_state`).
        self._packed = pack_static(state)
        self._names = _NodeNames.of(state)
        self.exact_max_skus = EXACT_MAX_SKUS
        self.exact_budget_sets = EXACT_BUDGET_SETS
        self._single_outputs = threading.local()  # see `route`

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
        packed = pack_static(state, self._packed)
        names = _NodeNames.of(state)
        self._preparer = Preparer(state)
        self._packed = packed
        self._names = names
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
        prepared = assemble(
            (), [rs], [0, 1], ord_rows=[[0], [63], [0], [1], [rs.max_shipments], [1]],
            ord_float_rows=[[0.0], [0.0]], line_rows=[[0], [1], [kern.G_CUSTOMER], [-1]])
        self._run(prepared)

    def route(self, order: Order) -> Decision:
        prepared = self._preparer.prepare((order,), batch=False)
        # This thread's output buffers from its previous single route: the Decision copies
        # everything out of them, and allocating them measured 6 us of a 40 us unary route.
        cached: KernelOutputs | None = getattr(self._single_outputs, "out", None)
        out = self._run(prepared, cached)
        self._single_outputs.out = out
        return self._decisions(prepared, out)[0]

    def route_batch(self, orders: Sequence[Order]) -> list[Decision]:
        """Route independent orders with one kernel call (each sees the same state)."""
        if not orders:
            return []
        return self._decisions(*self.route_batch_outputs(orders))

    def route_batch_outputs(self, orders: Sequence[Order]) -> tuple[Prepared, KernelOutputs]:
        """`route_batch` without the `Decision` objects: the validated batch and the kernel's
        output arrays, for a caller that encodes responses straight from arrays.

        Order o's records are `rec[rec_off[o]:rec_off[o + 1]]` (`[line, node, qty, kind, aux]`,
        line indexes `p.line_off`'s CSR, kinds `kern.R_*`), its shipments
        `shp_i` / `shp_f[shp_off[o]:shp_off[o + 1]]` (columns `kern.S_*` / `kern.SF_*`), its
        status, optimal flag, cost terms (`kern.C_*`) and lower bound the per-order rows; an
        order with `explain` needs `route_batch` (explain reads the state again).
        """
        prepared = self._preparer.prepare(orders, batch=True)
        return prepared, self._run(prepared)

    def _run(self, p: Prepared, reuse: KernelOutputs | None = None) -> KernelOutputs:
        """Run the kernel on `p`, into `reuse` when it has room (every kernel output is written
        before it is read, so old contents do not matter)."""
        n_orders = len(p.line_off) - 1
        n_lines = int(p.line_off[-1])
        n_rec = n_lines * 3 + n_lines * (p.max_nodes + 1) + 4
        n_shp = n_lines * (p.max_nodes + 1) + 4
        out = reuse
        if (out is None or out.status.shape[0] != n_orders or out.rec.shape[0] < n_rec
                or out.shp_i.shape[0] < n_shp):
            out = new_outputs(n_orders, n_rec, n_shp)
        # Held for the call: the kernel reads the state through `table`'s raw addresses, and a
        # concurrent `use_state` drops the engine's own reference to them.
        packed = self._packed
        while kern.route_by_table(*self.kernel_args(p, out, packed)) != kern.ROUTE_OK:
            n_rec *= 2  # sized from a bound, so this is defensive
            n_shp *= 2
            out = new_outputs(n_orders, n_rec, n_shp)
        return out

    def kernel_args(self, p: Prepared, out: KernelOutputs,
                    packed: StaticArrays | None = None) -> tuple[object, ...]:
        """`route_by_table`'s arguments for a prepared batch on `packed` (default: the current
        state); the caller keeps `packed` alive until the call returns (the benchmark times
        the call)."""
        st = self._packed if packed is None else packed  # one read: never two states mixed
        return (st.table, st.state.digital_node_idx,
                p.line_off, p.ord_i, p.ord_f, p.params, p.kind_allowed, p.safety, p.lines,
                self.exact_max_skus, self.exact_budget_sets,
                out.rec, out.shp_i, out.shp_f, out.out_i, out.out_f)

    def _decisions(self, p: Prepared, out: KernelOutputs) -> list[Decision]:
        s = self._state
        names = self._names
        if names.state is not s:  # a concurrent `use_state`: rebuild rather than mix states
            names = _NodeNames.of(s)
        node_ids = names.node_ids
        processing = names.processing_days
        store_dest = names.store_dest
        zone_number = names.zone_number
        today = s.today
        version = int(s.version[0])
        # Plain Python lists: numpy scalar reads cost ~0.1 us each, a dozen per order.
        rec_off = out.rec_off.tolist()
        shp_off = out.shp_off.tolist()
        line_off = p.line_off.tolist()
        status = out.status.tolist()
        optimal = out.optimal.tolist()
        lower_bound = out.lower_bound.tolist()
        # Only the used rows (the buffers are sized for the worst case), flattened: one list of
        # numbers instead of a list per row, which the cyclic GC would track and walk.
        rec = out.rec[:rec_off[-1]].ravel().tolist()
        shp_i = out.shp_i[:shp_off[-1]].ravel().tolist()
        shp_f = out.shp_f[:shp_off[-1]].ravel().tolist()
        costs = out.cost.ravel().tolist()
        n_rec_col = out.rec.shape[1]
        n_shp_i_col = out.shp_i.shape[1]
        n_shp_f_col = out.shp_f.shape[1]
        n_cost_col = out.cost.shape[1]
        r_now = kern.R_NOW
        r_backorder = kern.R_BACKORDER
        dest_customer = kern.DEST_CUSTOMER
        dest_digital = kern.DEST_DIGITAL
        # Column numbers as locals: a `kern.X` read is a global and an attribute lookup, and
        # the loops below made two dozen per order (5-line orders: 4.44 -> 4.28 us each).
        s_node, s_dest = kern.S_NODE, kern.S_DEST
        s_ful, s_zone = kern.S_FULFILLMENT, kern.S_ZONE_IDX
        s_transit, s_offset = kern.S_TRANSIT, kern.S_OFFSET_DAYS
        sf_distance, sf_weight, sf_ship, sf_handling = (kern.SF_DISTANCE, kern.SF_WEIGHT,
                                                        kern.SF_SHIP, kern.SF_HANDLING)
        c_ship, c_handling, c_split, c_unfilled, c_other, c_total = (
            kern.C_SHIP, kern.C_HANDLING, kern.C_SPLIT, kern.C_UNFILLED, kern.C_OTHER,
            kern.C_TOTAL)
        rulesets = p.rulesets
        n_store_dest = len(store_dest)
        fulfillment = _FULFILLMENT
        reason_of = _REASON
        status_of = _STATUS
        timedelta = dt.timedelta
        decisions: list[Decision] = []
        append = decisions.append
        # Positional construction throughout (field order of model.py): measured a third
        # faster than keywords for the dozen objects each order builds.
        for o, order in enumerate(p.orders):
            l0 = line_off[o]
            lines = order.lines
            s0 = shp_off[o]
            s1 = shp_off[o + 1]
            by_shipment: list[list[ShipmentLine]] = [[] for _ in range(s1 - s0)]
            backorders: list[Backorder] = []
            unfilled: list[Unfilled] = []
            for r in range(rec_off[o] * n_rec_col, rec_off[o + 1] * n_rec_col, n_rec_col):
                line = lines[rec[r] - l0]
                node = rec[r + 1]
                qty = rec[r + 2]
                kind = rec[r + 3]
                aux = rec[r + 4]
                if kind == r_now:
                    by_shipment[aux - s0].append(ShipmentLine(line.line_id, line.sku, qty))
                elif kind == r_backorder:
                    backorders.append(Backorder(line.line_id, line.sku, qty, node_ids[node],
                                                today + timedelta(days=aux)))
                else:
                    unfilled.append(Unfilled(line.line_id, line.sku, qty, reason_of[aux]))
            shipments = []
            for t in range(s0, s1):
                ti = t * n_shp_i_col
                node = shp_i[ti + s_node]
                dest = shp_i[ti + s_dest]
                zone_idx = shp_i[ti + s_zone]
                tf = t * n_shp_f_col
                if dest == dest_customer:
                    where = "customer"
                elif dest == dest_digital:
                    where = "digital"
                elif dest < n_store_dest:
                    where = store_dest[dest]
                else:
                    where = "store:" + node_ids[dest]
                shipments.append(Shipment(
                    node_ids[node], fulfillment[shp_i[ti + s_ful]], tuple(by_shipment[t - s0]),
                    where, zone_number[zone_idx] if zone_idx >= 0 else 0,
                    shp_f[tf + sf_distance], shp_i[ti + s_transit], processing[node],
                    shp_f[tf + sf_weight], shp_f[tf + sf_ship], shp_f[tf + sf_handling],
                    shp_i[ti + s_offset]))
            c = o * n_cost_col
            rs = rulesets[o]
            decision = Decision(
                order.order_id, status_of[status[o]], tuple(shipments), tuple(backorders),
                tuple(unfilled),
                CostTotals(costs[c + c_ship], costs[c + c_handling], costs[c + c_split],
                           costs[c + c_unfilled], costs[c + c_other], costs[c + c_total]),
                rs.name, rs.version, version, optimal[o] != 0, lower_bound[o])
            if order.explain:
                decision = explain_candidates(self, p, o, decision)
            append(decision)
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
