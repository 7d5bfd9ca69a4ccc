"""Explain: the top candidate nodes of an order's first shipped group, and why each lost.

Runs only for orders with `explain` set, after the routing kernel, so it may spend NumPy and a
little Python per node. Eligibility comes from the same kernel the router uses
(`eligibility_rules`), evaluated on the state the order started from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
import numpy as np

from omniroute.engine import _kernels as kern
from omniroute.engine.model import Candidate, Decision, Fulfillment, Reason

if TYPE_CHECKING:
    from omniroute.engine._prepare import Prepared
    from omniroute.engine.router import Engine

TOP_CANDIDATES = 10

_RULE_REASON = {1: Reason.NO_ELIGIBLE_NODE, 2: Reason.NO_ELIGIBLE_NODE, 3: Reason.POLICY,
                4: Reason.NO_ELIGIBLE_NODE, 5: Reason.SLA_UNMET, 6: Reason.CAPACITY,
                7: Reason.OUT_OF_STOCK}
_RULE_TEXT = {1: "node is disabled",
              2: "channel may not use this node kind, or the node does not serve the channel",
              3: "the ruleset does not ship from stores",
              4: "node lacks a capability the line needs (ship, gift_card, made_to_order, hazmat)",
              5: "processing + transit days exceed the promise for the service level",
              6: "no daily capacity left",
              7: "no ATP for the SKU"}


def explain_candidates(engine: Engine, prepared: Prepared, o: int, decision: Decision) -> Decision:
    """Return `decision` with `candidates` filled for its first shipped group (if any)."""
    state = engine.state
    nodes = state.nodes
    l0, l1 = int(prepared.line_off[o]), int(prepared.line_off[o + 1])
    groups = prepared.line_group[l0:l1]
    stores = prepared.line_store[l0:l1]
    if (groups == kern.G_CUSTOMER).any():
        in_group = groups == kern.G_CUSTOMER
        dest = kern.DEST_CUSTOMER
    elif (groups == kern.G_STS).any():
        dest = int(stores[np.argmax(groups == kern.G_STS)])
        in_group = (groups == kern.G_STS) & (stores == dest)
    else:
        return decision
    sku_idx = prepared.line_sku[l0:l1][in_group]
    qty = prepared.line_qty[l0:l1][in_group]
    slot_sku, inverse = np.unique(sku_idx, return_inverse=True)
    demand = np.bincount(inverse, weights=qty).astype(np.int64)
    level = int(prepared.level_idx[o])
    params = prepared.params[o]
    carrier = state.carrier
    if dest == kern.DEST_CUSTOMER and prepared.postal_idx[o] >= 0:
        distance_km = state.postal.distance_km[prepared.postal_idx[o]]
        zone_idx = state.postal.zone_idx[prepared.postal_idx[o]]
        where = "customer"
    else:
        lat, lon = ((prepared.lat_deg[o], prepared.lon_deg[o]) if dest == kern.DEST_CUSTOMER
                    else (nodes.lat_deg[dest], nodes.lon_deg[dest]))
        distance_km = np.empty(len(nodes.kind))
        zone_idx = np.empty(len(nodes.kind), dtype=np.int8)
        kern.destination_row(float(lat), float(lon), nodes.lat_deg, nodes.lon_deg,
                          carrier.band_max_km, distance_km, zone_idx)
        where = "customer" if dest == kern.DEST_CUSTOMER else "store:" + \
            state.catalog.node_ids[dest]
    safety = prepared.safety[o][nodes.kind]
    atp = np.maximum(0, state.inventory.on_hand[0][slot_sku].astype(np.int64)
                     - state.inventory.reserved[slot_sku] - safety[None, :])
    cap_left = np.maximum(0, nodes.daily_capacity_units - nodes.capacity_used_today)
    rule = np.empty((len(slot_sku), len(nodes.kind)), dtype=np.int8)
    kern.eligibility_rules(slot_sku.astype(np.int64), np.ascontiguousarray(atp), cap_left,
                        np.ascontiguousarray(zone_idx), level, int(prepared.channel_bit[o]),
                        prepared.kind_allowed[o], int(params[kern.P_SHIP_FROM_STORE] != 0.0),
                        nodes.kind, nodes.capability_mask, nodes.channel_mask,
                        nodes.processing_days, nodes.enabled, state.skus.kind, state.skus.hazmat,
                        carrier.transit_days, carrier.promise_days, rule)
    mto = state.skus.kind[slot_sku] == kern.SKU_MADE_TO_ORDER
    weight_kg = state.skus.weight_kg[slot_sku]
    ful = Fulfillment.SHIP if dest == kern.DEST_CUSTOMER else Fulfillment.SHIP_TO_STORE
    chosen = {s.node_id: s for s in decision.shipments
              if s.fulfillment is ful and s.destination == where}
    w_cost = params[kern.P_W_COST]
    penalty = w_cost * params[kern.P_UNFILLED]
    total = decision.cost.total
    node_ids = state.catalog.node_ids
    rows: list[tuple[int, float, Candidate]] = []
    for n in range(len(nodes.kind)):
        node_id = node_ids[n]
        ok = rule[:, n] == 0
        zi = int(zone_idx[n])
        zone = int(carrier.zone_number[zi])
        transit = int(carrier.transit_days[level, zi])
        dist = float(distance_km[n])
        usable = np.where(ok, np.where(mto, demand, np.minimum(atp[:, n], demand)), 0)
        atp_units = int(usable.sum())
        # The node's single-node plan: what it can ship (capacity first to the cheapest units),
        # the rest unfilled.
        room = int(cap_left[n])
        units = 0
        weight = 0.0
        for s in np.argsort(weight_kg, kind="stable"):
            take = min(int(usable[s]), room - units)
            units += take
            weight += take * float(weight_kg[s])
        ship = float(carrier.base_cost[level, zi] + carrier.per_kg_cost[level, zi] * weight)
        handling = float(nodes.handling_cost[n] + nodes.pick_cost[n] * units)
        if node_id in chosen:
            shipment = chosen[node_id]
            units = sum(line.qty for line in shipment.lines)
            ship, handling = shipment.ship_cost, shipment.handling_cost
        other = (params[kern.P_W_DISTANCE] * dist + params[kern.P_W_PRIORITY] * nodes.priority[n]
                 + (params[kern.P_W_CAPACITY] * units / cap_left[n] if cap_left[n] > 0 else 0.0))
        score = w_cost * (ship + handling) + float(other) + penalty * (int(demand.sum()) - units)
        if node_id in chosen:
            rank, reason = 0, None
            detail = (f"chosen: ships {units} unit(s) to {where} (ship {ship:.2f} + handling "
                      f"{handling:.2f})")
        elif ok.any() and units > 0:
            rank, reason = 1, None
            detail = (f"eligible, lost on cost: shipping the group alone from here scores "
                      f"{score:.2f}, {score - total:+.2f} vs the chosen plan ({total:.2f})")
        else:
            rank = 2
            furthest = int(np.where(rule[:, n] == 0, 8, rule[:, n]).max())
            if furthest == 8:
                furthest = 6  # eligible in rules but no capacity left for any unit
            which = int(np.argmax(np.where(rule[:, n] == 0, 8, rule[:, n])))
            reason = _RULE_REASON[furthest]
            detail = (f"ineligible (rule {furthest}, SKU {state.catalog.sku_ids[slot_sku[which]]})"
                      f": {_RULE_TEXT[furthest]}")
        rows.append((rank, score if rank < 2 else dist, Candidate(
            node_id=node_id, eligible=bool(ok.any()), chosen=node_id in chosen, score=score,
            ship_cost=ship, handling_cost=handling, distance_km=dist, zone=zone,
            transit_days=transit, atp_units=atp_units, reason=reason, detail=detail)))
    rows.sort(key=lambda row: (row[0], row[1]))
    top = tuple(row[2] for row in rows[:max(TOP_CANDIDATES, len(chosen))])
    return msgspec.structs.replace(decision, candidates=top)
