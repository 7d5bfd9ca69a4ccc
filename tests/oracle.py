"""The exact oracle: the customer-group optimisation of docs/routing.md as a MILP (HiGHS).

Far too slow to serve, exact enough to judge: `oracle_route(network, order, today=...)` solves

    min  sum_n F_n y_n + sum_{l,n} c_{l,n} x_{l,n} + P sum_l u_l  - w.cost * split_penalty
    s.t. sum_n x_{l,n} + u_l = qty_l                         (every unit shipped or unfilled)
         sum_{l: sku(l) = s} x_{l,n} <= ATP[s, n]            (not for made-to-order SKUs)
         sum_l x_{l,n} <= remaining capacity[n]
         x_{l,n} <= min(qty_l, ATP, capacity) * y_n          (units only from used nodes)
         1 <= sum_n y_n <= max_shipments
         x integer >= 0 over eligible (line, node) pairs only, y binary, u >= 0

with F_n = w.cost * (base[zone_n] + handling_n + split_penalty) + w.distance_per_km * dist_n
+ w.priority * priority_n, c_{l,n} = w.cost * (per_kg[zone_n] * weight_l + pick_n)
+ w.capacity_balance / remaining_n, and P = w.cost * unfilled_penalty. A shipment's
weight-dependent rate is linear in its units, so this is the routing objective exactly; the
"using no node at all" solution (everything unfilled) is compared separately because the
`- split_penalty` constant only holds when at least one node ships.
SHIP_COMPLETE is max_shipments = 1 with u = 0; FILL_OR_KILL is u = 0. When those are
infeasible nothing is allocated and every unit pays the unfilled penalty.

Eligibility is recomputed here with NumPy, independently of the slow twin (`tests/naive.py`),
so the two implementations check each other as well as the engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from omniroute.config import ANY, EARTH_RADIUS_KM, Disposition, Network, NodeKind, SkuKind
from omniroute.engine.model import Fulfillment, Order, SplitPolicy


@dataclass(frozen=True)
class OracleResult:
    objective: float
    """Optimal total cost of the order (customer group only; that is the whole order)."""
    units: dict[tuple[str, str], int]
    """Allocated units per (line_id, node_id)."""
    unfilled: dict[str, int]
    """Unfilled units per line_id."""
    feasible: bool
    """False when SHIP_COMPLETE / FILL_OR_KILL could not be met (nothing allocated)."""
    eligible_pairs: int
    """Number of (line, node) pairs that passed the eligibility rules: the MILP's size."""


def _haversine(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    phi, phi0 = np.radians(lat), np.radians(lat0)
    dphi = phi0 - phi
    dlam = np.radians(lon0 - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi) * np.cos(phi0) * np.sin(dlam / 2) ** 2
    result: np.ndarray = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def _destination(network: Network, order: Order) -> tuple[float, float]:
    if order.ship_to.lat is not None and order.ship_to.lon is not None:
        return order.ship_to.lat, order.ship_to.lon
    code = order.ship_to.postal_code
    matches = [row for row in network.postal if code and code.startswith(row.postal_code)]
    if not matches:
        raise ValueError(f"no postal area for {code!r}")
    row = max(matches, key=lambda r: len(r.postal_code))
    return row.lat, row.lon


def oracle_route(network: Network, order: Order, *, today: dt.date,
                 time_limit: float = 60.0) -> OracleResult:
    """Solve the order's customer group exactly. Only SHIP lines of physical (or unknown) SKUs.

    `today` is accepted for symmetry with the engine; nothing in the customer-group
    optimisation depends on it (future supply is never allocated now).
    """
    del today
    rules = network.rules
    carrier = rules.carrier
    name = order.ruleset or rules.channels.get(order.channel) or rules.channels[ANY]
    ruleset = rules.rulesets[name]
    w = ruleset.weights
    level = order.service_level
    k_max = ruleset.max_shipments if order.max_shipments == 0 else min(
        order.max_shipments, ruleset.max_shipments)
    if order.split_policy is SplitPolicy.SHIP_COMPLETE:
        k_max = 1
    strict = order.split_policy is not SplitPolicy.ALLOW_SPLIT
    skus = {sku.sku: sku for sku in network.skus}
    for line in order.lines:
        if line.fulfillment is not Fulfillment.SHIP or (
                line.sku in skus and skus[line.sku].kind is SkuKind.DIGITAL):
            raise ValueError("the oracle covers SHIP lines of physical SKUs only")

    nodes = network.nodes
    n_nodes = len(nodes)
    node_idx = {node.node_id: i for i, node in enumerate(nodes)}
    lat = np.array([node.lat for node in nodes])
    lon = np.array([node.lon for node in nodes])
    lat0, lon0 = _destination(network, order)
    dist = _haversine(lat, lon, lat0, lon0)
    edges = np.array([band.max_km for band in carrier.zones])
    zone = np.searchsorted(edges, dist, side="left")  # first band with max_km >= dist
    table = carrier.rates.get(level) or carrier.rates[ANY]
    base = np.asarray(table.base)[zone]
    per_kg = np.asarray(table.per_kg)[zone]
    transit = np.asarray(carrier.transit_days[level])[zone]
    promise = carrier.promise_days[level]
    processing = np.array([node.processing_days for node in nodes])
    remaining = np.array([node.daily_capacity_units for node in nodes], dtype=np.int64)
    handling = np.array([node.handling_cost for node in nodes])
    pick = np.array([node.pick_cost for node in nodes])
    priority = np.array([node.priority for node in nodes], dtype=float)
    kinds_allowed = ruleset.channel_node_kinds.get(order.channel,
                                                   ruleset.channel_node_kinds.get(ANY, []))
    base_ok = np.array([
        node.enabled
        and node.kind.value in kinds_allowed
        and (ANY in node.channels or order.channel in node.channels)
        and (node.kind is not NodeKind.STORE or ruleset.ship_from_store)
        for node in nodes])

    def safety(kind: NodeKind) -> int:
        for key in (order.channel, ANY):
            if key in ruleset.safety_stock and kind.value in ruleset.safety_stock[key]:
                return ruleset.safety_stock[key][kind.value]
        return 0

    atp: dict[str, np.ndarray] = {}
    for row in network.inventory:
        if row.disposition is Disposition.SELLABLE:
            i = node_idx[row.node_id]
            arr = atp.setdefault(row.sku, np.zeros(n_nodes, dtype=np.int64))
            arr[i] = max(0, row.qty - safety(nodes[i].kind))

    lines = list(order.lines)
    known = [line for line in lines if line.sku in skus]
    unknown_units = sum(line.qty for line in lines if line.sku not in skus)
    total_units = sum(line.qty for line in lines)
    penalty = w.cost * ruleset.unfilled_penalty

    def nothing(feasible: bool) -> OracleResult:
        return OracleResult(objective=penalty * total_units, units={},
                            unfilled={line.line_id: line.qty for line in lines},
                            feasible=feasible, eligible_pairs=0)

    if strict and unknown_units:
        return nothing(False)

    # Eligible (line, node) pairs, rule by rule.
    pairs: list[tuple[int, int]] = []
    for li, line in enumerate(known):
        sku = skus[line.sku]
        mto = sku.kind is SkuKind.MADE_TO_ORDER
        need = {"ship"}
        if sku.kind is SkuKind.GIFT_CARD:
            need.add("gift_card")
        if mto:
            need.add("made_to_order")
        if sku.hazmat:
            need.add("hazmat")
        caps_ok = np.array([need <= {c.value for c in node.capabilities} for node in nodes])
        days = transit + (0 if mto else processing)
        stock_ok = np.ones(n_nodes, bool) if mto else atp.get(
            sku.sku, np.zeros(n_nodes, dtype=np.int64)) > 0
        ok = base_ok & caps_ok & (days <= promise) & (remaining > 0) & stock_ok
        pairs.extend((li, int(n)) for n in np.flatnonzero(ok))
    used_nodes = sorted({n for _, n in pairs})
    if not pairs:
        return nothing(not strict or not known)

    n_x, n_y = len(pairs), len(used_nodes)
    n_u = 0 if strict else len(known)
    y_of = {n: n_x + k for k, n in enumerate(used_nodes)}
    n_var = n_x + n_y + n_u
    c = np.zeros(n_var)
    upper = np.zeros(n_var)
    for j, (li, n) in enumerate(pairs):
        sku = skus[known[li].sku]
        c[j] = w.cost * (per_kg[n] * sku.weight_kg + pick[n]) + w.capacity_balance / remaining[n]
        cap = known[li].qty if sku.kind is SkuKind.MADE_TO_ORDER else min(
            known[li].qty, int(atp[sku.sku][n]))
        upper[j] = min(cap, int(remaining[n]))
    for n, j in y_of.items():
        c[j] = (w.cost * (base[n] + handling[n] + ruleset.split_penalty)
                + w.distance_per_km * dist[n] + w.priority * priority[n])
        upper[j] = 1
    for li in range(n_u):
        c[n_x + n_y + li] = penalty
        upper[n_x + n_y + li] = known[li].qty

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add_row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        r = len(lo)
        for col, val in entries:
            rows.append(r)
            cols.append(col)
            vals.append(val)
        lo.append(low)
        hi.append(high)

    for li, line in enumerate(known):
        entries = [(j, 1.0) for j, (lj, _) in enumerate(pairs) if lj == li]
        if not strict:
            entries.append((n_x + n_y + li, 1.0))
        add_row(entries, line.qty, line.qty)
    for n in used_nodes:
        at_node = [j for j, (_, m) in enumerate(pairs) if m == n]
        add_row([(j, 1.0) for j in at_node], 0.0, float(remaining[n]))
        by_sku: dict[str, list[int]] = {}
        for j in at_node:
            sku = skus[known[pairs[j][0]].sku]
            if sku.kind is not SkuKind.MADE_TO_ORDER:
                by_sku.setdefault(sku.sku, []).append(j)
        for sku_id, js in by_sku.items():
            add_row([(j, 1.0) for j in js], 0.0, float(atp[sku_id][n]))
        for j in at_node:
            add_row([(j, 1.0), (y_of[n], -upper[j])], -np.inf, 0.0)
    add_row([(j, 1.0) for j in y_of.values()], 1.0, float(k_max))

    matrix = coo_array((vals, (rows, cols)), shape=(len(lo), n_var)).tocsr()
    integrality = np.ones(n_var)
    if n_u:
        integrality[n_x + n_y:] = 0  # u is integral whenever x is (qty - sum x)
    result = milp(c, integrality=integrality, bounds=Bounds(np.zeros(n_var), upper),
                  constraints=LinearConstraint(matrix, np.array(lo), np.array(hi)),
                  options={"mip_rel_gap": 1e-10, "time_limit": time_limit, "presolve": True})
    empty_value = penalty * total_units
    if result.x is None:
        if result.status == 2 or not strict:  # infeasible: no way to meet the policy
            return nothing(not strict)
        raise RuntimeError(f"MILP failed: {result.message}")
    if result.status != 0:
        raise RuntimeError(f"MILP not solved to optimality: {result.message}")
    x = np.rint(result.x[:n_x]).astype(np.int64)
    units: dict[tuple[str, str], int] = {}
    for j, (li, n) in enumerate(pairs):
        if x[j] > 0:
            units[(known[li].line_id, nodes[n].node_id)] = int(x[j])
    # Recompute the objective from the integral solution (no solver tolerances in it).
    shipping = sorted({n for j, (_, n) in enumerate(pairs) if x[j] > 0})
    value = sum(float(c[y_of[n]]) for n in shipping)
    value -= w.cost * ruleset.split_penalty if shipping else 0.0
    value += float(np.dot(c[:n_x], x))
    unfilled = {line.line_id: line.qty for line in lines}
    for (line_id, _), q in units.items():
        unfilled[line_id] -= q
    value += penalty * sum(unfilled.values())
    if not strict and empty_value < value:
        return nothing(True)
    return OracleResult(objective=value, units=units,
                        unfilled={k: v for k, v in unfilled.items() if v},
                        feasible=True, eligible_pairs=n_x)
