"""Return routing: which node should a returned item go back to?

Eligible nodes are enabled, have the `returns` capability, serve the channel, and can hold the
SKU (`hazmat` for hazmat SKUs, `gift_card` for gift cards). The SKU must be returnable and
physical. Ranking, in order:

1. restock value: nodes *short* of the SKU (ATP 0 for the channel, after reservations and
   safety stock) first, because the unit can be sold from there again at once;
2. cost: the carrier rate from the customer to the node at the requested service level for
   the returned weight, plus the node's handling and per-unit pick (receiving) cost;
3. distance, then node index, so the ranking is total and repeatable.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from omniroute.engine._prepare import resolve_ruleset
from omniroute.engine.model import ShipTo
from omniroute.engine.region import point_of
from omniroute.errors import FailedPrecondition, InvalidArgument
from omniroute.state import (
    CAP_GIFT_CARD,
    CAP_HAZMAT,
    CAP_RETURNS,
    SKU_DIGITAL,
    SKU_GIFT_CARD,
    EngineState,
    haversine_km,
    zone_index,
)

MAX_CANDIDATES = 10


class ReturnCandidate(NamedTuple):
    node_id: str
    rank: int
    ship_cost: float
    handling_cost: float
    distance_km: float
    zone: int
    atp: int
    detail: str


def route_return(state: EngineState, *, sku: str, qty: int, origin: ShipTo, channel: str,
                 service_level: str, explain: bool) -> list[ReturnCandidate]:
    """The best nodes for a return, ranked (at most `MAX_CANDIDATES`)."""
    catalog = state.catalog
    sku_idx = catalog.sku_index.get(sku)
    if sku_idx is None:
        raise InvalidArgument("sku", f"unknown SKU {sku!r}")
    if qty <= 0:
        raise InvalidArgument("qty", f"must be > 0, got {qty}")
    if not channel:
        raise InvalidArgument("channel", "must not be empty")
    level = state.carrier.level_index.get(service_level)
    if level is None:
        raise InvalidArgument("service_level", f"unknown service level {service_level!r}; "
                              f"expected one of {sorted(state.carrier.level_index)}")
    skus = state.skus
    kind = int(skus.kind[sku_idx])
    if kind == SKU_DIGITAL or not skus.returnable[sku_idx]:
        raise FailedPrecondition(f"sku: {sku!r} is not returnable")
    lat, lon = point_of(state, origin, field="from")
    nodes = state.nodes
    need = CAP_RETURNS
    if skus.hazmat[sku_idx]:
        need |= CAP_HAZMAT
    if kind == SKU_GIFT_CARD:
        need |= CAP_GIFT_CARD
    bit = catalog.channel_bit.get(channel, 63)
    eligible = ((nodes.enabled != 0) & ((nodes.capability_mask & need) == need)
                & (((nodes.channel_mask >> bit) & 1) != 0))
    idx = np.flatnonzero(eligible)
    if not len(idx):
        return []
    rules = state.rules
    default = rules.channels.get(channel, rules.channels.get("*"))
    if default is None:
        raise InvalidArgument("channel", f"no default ruleset for channel {channel!r}")
    rs = resolve_ruleset(default, rules.rulesets[default], channel)
    inv = state.inventory
    atp = np.maximum(0, inv.on_hand[0, sku_idx, idx].astype(np.int64)
                     - inv.reserved[sku_idx, idx] - rs.safety_stock[nodes.kind[idx]])
    distance = np.asarray(haversine_km(lat, lon, nodes.lat_deg[idx], nodes.lon_deg[idx]))
    car = state.carrier
    zone = zone_index(distance, car.band_max_km).astype(np.int64)
    weight = float(skus.weight_kg[sku_idx]) * qty
    ship = car.base_cost[level, zone] + car.per_kg_cost[level, zone] * weight
    handling = nodes.handling_cost[idx] + nodes.pick_cost[idx] * qty
    short = atp == 0
    order = np.lexsort((idx, distance, ship + handling, ~short))
    best = float(ship[order[0]] + handling[order[0]])
    result = []
    for rank, j in enumerate(order[:MAX_CANDIDATES].tolist(), start=1):
        detail = ""
        if explain:
            cost = float(ship[j] + handling[j])
            why = ("short of the SKU (ATP 0): restocks it" if short[j]
                   else f"holds {int(atp[j])} already")
            gap = "" if rank == 1 else f"; cost {cost - best:+.2f} vs rank 1"
            detail = f"{why}; cost {cost:.2f} (ship {float(ship[j]):.2f} + handling " \
                     f"{float(handling[j]):.2f}), {float(distance[j]):.0f} km{gap}"
        result.append(ReturnCandidate(
            node_id=catalog.node_ids[int(idx[j])], rank=rank, ship_cost=float(ship[j]),
            handling_cost=float(handling[j]), distance_km=float(distance[j]),
            zone=int(car.zone_number[zone[j]]), atp=int(atp[j]), detail=detail))
    return result
