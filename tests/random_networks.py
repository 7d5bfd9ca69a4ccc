"""Random valid networks and orders, built as msgspec Structs directly (no files).

Two faces over one generator:

- plain seeded functions (`random_network(seed, ...)`, `random_order(rng, network, ...)`) for
  deterministic sweeps such as the routing-quality acceptance test;
- hypothesis strategies (`networks()`, `orders()`, `network_and_orders()`) for property tests.
  Hypothesis draws the shape (sizes, flags, policies) and a seed; the seeded generator fills in
  the bulk. Shrinking therefore works on sizes and flags, which is what makes a failure readable.

Everything here produces input that `load_network` would accept: unique ids, known references,
one digital node at most, bands increasing with the last one infinite, every table sized per band.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Sequence

from hypothesis import strategies as st

from omniroute.config import (
    Capability,
    Carrier,
    Disposition,
    InventoryRow,
    Network,
    NodeKind,
    NodeRow,
    PostalRow,
    RateTable,
    Rules,
    Ruleset,
    SkuKind,
    SkuRow,
    SupplyRow,
    Weights,
    ZoneBand,
)
from omniroute.engine.model import Fulfillment, Order, OrderLine, ShipTo, SplitPolicy

TODAY = dt.date(2025, 11, 25)
"""The `today` every generated network's supply dates are relative to."""

# A continental-US box (degrees): real-ish distances of 0 to ~4500 km.
LAT_RANGE = (25.0, 49.0)
LON_RANGE = (-124.0, -67.0)

CHANNELS = ("web", "app", "marketplace")
SERVICE_LEVELS = ("ground", "two_day", "next_day")
RULESET = "default"


@dataclasses.dataclass(frozen=True)
class NetworkShape:
    """The knobs of one random network. Defaults give a mixed, moderately stocked network."""

    n_nodes: int = 20
    n_skus: int = 12
    with_digital: bool = True
    ship_from_store: bool = True
    pickup_ship_to_store: bool = True
    safety_stock: bool = False
    channel_restrictions: bool = False
    """When set, the marketplace channel may use DCs and vendors only."""
    max_shipments: int = 3
    split_penalty: float = 4.0
    unfilled_penalty: float = 60.0
    stock_density: float = 0.3
    """Probability that a (SKU, physical node) pair has a sellable position."""
    max_stock: int = 12
    disabled_fraction: float = 0.05
    tight_capacity_fraction: float = 0.1
    """Share of nodes with a tiny daily capacity (0 to 5 units), so capacity binds."""


def _zones(rng: random.Random) -> list[ZoneBand]:
    edges = [80.0, 240.0, 480.0, 800.0, 1200.0, 1800.0, 2600.0]
    jittered = sorted(edge * rng.uniform(0.8, 1.2) for edge in edges)
    bands = [ZoneBand(zone=i + 2, max_km=edge) for i, edge in enumerate(jittered)]
    bands.append(ZoneBand(zone=len(bands) + 2, max_km=math.inf))
    return bands


def random_rules(rng: random.Random, shape: NetworkShape) -> Rules:
    """A carrier model with three service levels and one pure-cost ruleset named 'default'."""
    zones = _zones(rng)
    n = len(zones)
    ground_transit = [min(1 + i // 2, 5) for i in range(n)]
    two_day_transit = [min(1 + i // 4, 2) for i in range(n)]
    next_day_transit = [1] * n
    transit = {"ground": ground_transit, "two_day": two_day_transit,
               "next_day": next_day_transit}
    promise = {"ground": rng.choice((5, 6, 7)), "two_day": rng.choice((2, 3)),
               "next_day": rng.choice((1, 2))}

    def table(scale: float) -> RateTable:
        base = [round(scale * (4.0 + 1.3 * i) * rng.uniform(0.9, 1.1), 2) for i in range(n)]
        per_kg = [round(scale * (0.3 + 0.18 * i) * rng.uniform(0.9, 1.1), 3) for i in range(n)]
        return RateTable(base=base, per_kg=per_kg)

    if rng.random() < 0.5:
        rates = {"*": table(1.0)}
    else:
        rates = {"ground": table(1.0), "two_day": table(1.8), "next_day": table(3.2)}
    carrier = Carrier(zones=zones, service_levels=list(SERVICE_LEVELS), transit_days=transit,
                      promise_days=promise, rates=rates)
    kinds: dict[str, list[str]] = {"*": ["dc", "store", "vendor", "digital"]}
    if shape.channel_restrictions:
        kinds["marketplace"] = ["dc", "vendor", "digital"]
    safety: dict[str, dict[str, int]] = {}
    if shape.safety_stock:
        safety = {"*": {"store": rng.randint(0, 2)}, "marketplace": {"store": 3, "dc": 1}}
    ruleset = Ruleset(
        version=rng.randint(1, 9),
        weights=Weights(cost=1.0, distance_per_km=0.0, priority=0.0, capacity_balance=0.0),
        split_penalty=shape.split_penalty,
        unfilled_penalty=shape.unfilled_penalty,
        max_shipments=shape.max_shipments,
        ship_from_store=shape.ship_from_store,
        pickup_ship_to_store=shape.pickup_ship_to_store,
        channel_node_kinds=kinds,
        safety_stock=safety,
    )
    return Rules(currency="USD", carrier=carrier, rulesets={RULESET: ruleset},
                 channels={"*": RULESET})


def _node(rng: random.Random, index: int, kind: NodeKind, shape: NetworkShape) -> NodeRow:
    caps: set[Capability] = set()
    if kind is NodeKind.DIGITAL:
        caps = {Capability.GIFT_CARD}
    else:
        if rng.random() < 0.93:
            caps.add(Capability.SHIP)
        if kind is NodeKind.STORE:
            if rng.random() < 0.8:
                caps.add(Capability.PICKUP)
            if rng.random() < 0.7:
                caps.add(Capability.SHIP_TO_STORE)
            if rng.random() < 0.5:
                caps.add(Capability.RETURNS)
        if kind in (NodeKind.DC, NodeKind.VENDOR) and rng.random() < 0.35:
            caps.add(Capability.MADE_TO_ORDER)
        if rng.random() < 0.3:
            caps.add(Capability.GIFT_CARD)
        if kind is NodeKind.DC and rng.random() < 0.6:
            caps.add(Capability.HAZMAT)
    channels = ["*"] if rng.random() < 0.8 else sorted(rng.sample(CHANNELS, rng.randint(1, 2)))
    if rng.random() < shape.tight_capacity_fraction:
        capacity = rng.randint(0, 5)
    else:
        capacity = rng.randint(20, 400)
    handling = {NodeKind.DC: (1.0, 3.0), NodeKind.STORE: (2.5, 6.0),
                NodeKind.VENDOR: (2.0, 5.0), NodeKind.DIGITAL: (0.0, 0.5)}[kind]
    processing = {NodeKind.DC: (0, 1), NodeKind.STORE: (0, 2), NodeKind.VENDOR: (1, 3),
                  NodeKind.DIGITAL: (0, 0)}[kind]
    return NodeRow(
        node_id=f"{kind.value}{index:03d}",
        kind=kind,
        postal_code=f"{rng.randint(10000, 99999)}",
        lat=round(rng.uniform(*LAT_RANGE), 4),
        lon=round(rng.uniform(*LON_RANGE), 4),
        priority=rng.randint(0, 9),
        capabilities=sorted(caps, key=lambda c: c.value),
        channels=channels,
        daily_capacity_units=capacity,
        handling_cost=round(rng.uniform(*handling), 2),
        pick_cost=round(rng.uniform(0.1, 1.2), 2),
        processing_days=rng.randint(*processing),
        enabled=rng.random() >= shape.disabled_fraction,
    )


def random_network(seed: int, shape: NetworkShape | None = None, **overrides: object) -> Network:
    """A valid random network, fully determined by `seed` and the shape.

    `overrides` are NetworkShape fields, for the common one-off change
    (`random_network(7, n_nodes=300)`).
    """
    shape = dataclasses.replace(shape or NetworkShape(), **overrides)  # type: ignore[arg-type]
    rng = random.Random(seed)
    rules = random_rules(rng, shape)
    n_physical = max(shape.n_nodes - (1 if shape.with_digital else 0), 1)
    nodes: list[NodeRow] = []
    for i in range(n_physical):
        roll = rng.random()
        kind = NodeKind.DC if roll < 0.15 else NodeKind.VENDOR if roll < 0.35 else NodeKind.STORE
        nodes.append(_node(rng, i, kind, shape))
    if shape.with_digital:
        nodes.append(_node(rng, len(nodes), NodeKind.DIGITAL, shape))

    skus: list[SkuRow] = []
    for i in range(shape.n_skus):
        roll = rng.random()
        if roll < 0.72 or i == 0:  # at least one standard SKU, so every order can be drawn
            kind = SkuKind.STANDARD
        elif roll < 0.82:
            kind = SkuKind.GIFT_CARD
        elif roll < 0.92:
            kind = SkuKind.MADE_TO_ORDER
        else:
            kind = SkuKind.DIGITAL if shape.with_digital else SkuKind.STANDARD
        skus.append(SkuRow(
            sku=f"S{i:04d}",
            kind=kind,
            weight_kg=0.0 if kind is SkuKind.DIGITAL else round(rng.uniform(0.05, 18.0), 3),
            hazmat=kind is SkuKind.STANDARD and rng.random() < 0.1,
            returnable=rng.random() < 0.8,
        ))

    physical = [node for node in nodes if node.kind is not NodeKind.DIGITAL]
    inventory: list[InventoryRow] = []
    supply: list[SupplyRow] = []
    for sku in skus:
        if sku.kind in (SkuKind.DIGITAL, SkuKind.MADE_TO_ORDER):
            continue
        # Each SKU has its own popularity so that some are everywhere and some are scarce.
        density = shape.stock_density * rng.uniform(0.2, 1.8)
        for node in physical:
            if rng.random() < density:
                inventory.append(InventoryRow(sku=sku.sku, node_id=node.node_id,
                                              disposition=Disposition.SELLABLE,
                                              qty=rng.randint(0, shape.max_stock)))
            if rng.random() < density * 0.3:
                other = rng.choice((Disposition.DAMAGED, Disposition.IN_TRANSIT,
                                    Disposition.QUARANTINE))
                inventory.append(InventoryRow(sku=sku.sku, node_id=node.node_id,
                                              disposition=other, qty=rng.randint(1, 9)))
            if rng.random() < density * 0.15:
                for _ in range(rng.randint(1, 2)):
                    supply.append(SupplyRow(sku=sku.sku, node_id=node.node_id,
                                            qty=rng.randint(1, 10),
                                            available_date=TODAY + dt.timedelta(
                                                days=rng.randint(1, 40))))

    postal: list[PostalRow] = []
    codes: set[str] = set()
    while len(postal) < 40:
        # Mostly 3-digit prefixes (as in the demo), some full 5-digit codes.
        code = f"{rng.randint(100, 999)}" if rng.random() < 0.7 else f"{rng.randint(10000, 99999)}"
        if code in codes:
            continue
        codes.add(code)
        postal.append(PostalRow(postal_code=code, lat=round(rng.uniform(*LAT_RANGE), 4),
                                lon=round(rng.uniform(*LON_RANGE), 4)))
    return Network(nodes=nodes, skus=skus, inventory=inventory, supply=supply, postal=postal,
                   rules=rules)


def random_ship_to(rng: random.Random, network: Network) -> ShipTo:
    """A destination the postal table resolves: an exact code, a longer code, or a point."""
    roll = rng.random()
    row = rng.choice(network.postal)
    if roll < 0.15:
        return ShipTo(lat=round(rng.uniform(*LAT_RANGE), 4), lon=round(rng.uniform(*LON_RANGE), 4))
    if roll < 0.5 and len(row.postal_code) == 3:
        # A full ZIP that only its 3-digit prefix matches (longest-prefix rule).
        return ShipTo(postal_code=row.postal_code + f"{rng.randint(0, 99):02d}")
    return ShipTo(postal_code=row.postal_code)


@dataclasses.dataclass(frozen=True)
class OrderShape:
    """The knobs of one random order."""

    n_lines: int = 3
    ship_only: bool = True
    """Only SHIP lines of physical SKUs (the customer group): what the MILP oracle covers."""
    split_policy: SplitPolicy | None = SplitPolicy.ALLOW_SPLIT
    """None draws one (ALLOW_SPLIT mostly)."""
    allow_backorder: bool | None = False
    """None draws one."""
    max_qty: int = 4
    unknown_sku: bool = False
    """Allow an occasional SKU that is not in the catalog."""
    service_level: str | None = None


def random_order(rng: random.Random, network: Network, shape: OrderShape | None = None,
                 *, order_id: str = "o1", **overrides: object) -> Order:
    """A random order over `network`; `overrides` are OrderShape fields."""
    shape = dataclasses.replace(shape or OrderShape(), **overrides)  # type: ignore[arg-type]
    physical = [sku for sku in network.skus if sku.kind is not SkuKind.DIGITAL]
    digital = [sku for sku in network.skus if sku.kind is SkuKind.DIGITAL]
    stores = [node for node in network.nodes if node.kind is NodeKind.STORE]
    able = [node for node in stores if {Capability.PICKUP, Capability.SHIP_TO_STORE}
            <= set(node.capabilities)]
    # At most one store per order: the order in which store groups are routed is then moot.
    # Mostly a store that can take pickups and deliveries (it may still be disabled).
    store = rng.choice(able if able and rng.random() < 0.9 else stores) if stores else None
    stockable = [sku for sku in physical if sku.kind is not SkuKind.MADE_TO_ORDER]
    lines: list[OrderLine] = []
    for i in range(shape.n_lines):
        qty = rng.randint(1, shape.max_qty)
        line_id = f"L{i + 1}"
        if shape.unknown_sku and rng.random() < 0.1:
            lines.append(OrderLine(line_id=line_id, sku="NOPE", qty=qty))
            continue
        if shape.ship_only or rng.random() < 0.7 or store is None:
            lines.append(OrderLine(line_id=line_id, sku=rng.choice(physical).sku, qty=qty))
            continue
        roll = rng.random()
        if roll < 0.3 and digital:
            lines.append(OrderLine(line_id=line_id, sku=rng.choice(digital).sku, qty=qty,
                                   fulfillment=Fulfillment.DIGITAL))
        elif roll < 0.65:
            # Pickup is from the store's stock: made-to-order SKUs are not picked up.
            lines.append(OrderLine(line_id=line_id, sku=rng.choice(stockable).sku, qty=qty,
                                   fulfillment=Fulfillment.PICKUP, store_id=store.node_id))
        else:
            lines.append(OrderLine(line_id=line_id, sku=rng.choice(physical).sku, qty=qty,
                                   fulfillment=Fulfillment.SHIP_TO_STORE,
                                   store_id=store.node_id))
    policy = shape.split_policy
    if policy is None:
        roll = rng.random()
        policy = (SplitPolicy.ALLOW_SPLIT if roll < 0.7 else
                  SplitPolicy.SHIP_COMPLETE if roll < 0.85 else SplitPolicy.FILL_OR_KILL)
    backorder = shape.allow_backorder
    if backorder is None:
        backorder = rng.random() < 0.3
    ruleset = network.rules.rulesets[RULESET]
    return Order(
        order_id=order_id,
        channel=rng.choice(CHANNELS),
        ship_to=random_ship_to(rng, network),
        service_level=shape.service_level or rng.choices(SERVICE_LEVELS, (6, 3, 1))[0],
        lines=tuple(lines),
        split_policy=policy,
        max_shipments=rng.randint(0, ruleset.max_shipments + 1),
        allow_backorder=backorder,
    )


# --- hypothesis strategies ---------------------------------------------------------------


@st.composite
def network_shapes(draw: st.DrawFn, *, min_nodes: int = 3, max_nodes: int = 12,
                   max_skus: int = 6) -> NetworkShape:
    """Small shapes by default: the twin enumerates node subsets, so keep it tractable."""
    # Mostly routable worlds (each blocker is the exception), so that most examples exercise
    # the optimisation rather than an empty answer; values listed first are the common ones.
    mostly = st.integers(0, 3).map(lambda v: v != 0)
    rarely = st.integers(0, 3).map(lambda v: v == 0)
    return NetworkShape(
        n_nodes=draw(st.integers(min_nodes, max_nodes)),
        n_skus=draw(st.integers(1, max_skus)),
        with_digital=draw(st.booleans()),
        ship_from_store=draw(mostly),
        pickup_ship_to_store=draw(st.booleans()),
        safety_stock=draw(rarely),
        channel_restrictions=draw(rarely),
        max_shipments=draw(st.integers(1, 3)),
        split_penalty=draw(st.sampled_from((2.5, 0.0, 7.0, 20.0))),
        unfilled_penalty=draw(st.sampled_from((150.0, 40.0, 80.0, 15.0, 3.0))),
        stock_density=draw(st.sampled_from((0.7, 0.35, 0.15))),
        max_stock=draw(st.sampled_from((5, 2, 12))),
        disabled_fraction=draw(st.sampled_from((0.0, 0.1, 0.3))),
        tight_capacity_fraction=draw(st.sampled_from((0.0, 0.2, 0.5))),
    )


@st.composite
def networks(draw: st.DrawFn, *, min_nodes: int = 3, max_nodes: int = 12,
             max_skus: int = 6) -> Network:
    shape = draw(network_shapes(min_nodes=min_nodes, max_nodes=max_nodes, max_skus=max_skus))
    return random_network(draw(st.integers(0, 2**32 - 1)), shape)


@st.composite
def orders(draw: st.DrawFn, network: Network, *, max_lines: int = 3, ship_only: bool = True,
           policies: Sequence[SplitPolicy] = tuple(SplitPolicy),
           backorder: bool = False) -> Order:
    shape = OrderShape(
        n_lines=draw(st.integers(1, max_lines)),
        ship_only=ship_only,
        split_policy=draw(st.sampled_from(list(policies))),
        allow_backorder=draw(st.booleans()) if backorder else False,
        max_qty=draw(st.sampled_from((1, 3, 6))),
    )
    return random_order(random.Random(draw(st.integers(0, 2**32 - 1))), network, shape)


@st.composite
def network_and_orders(draw: st.DrawFn, *, n_orders: int = 1, max_nodes: int = 12,
                       max_lines: int = 3, ship_only: bool = True,
                       policies: Sequence[SplitPolicy] = tuple(SplitPolicy),
                       backorder: bool = False) -> tuple[Network, list[Order]]:
    network = draw(networks(max_nodes=max_nodes))
    found = [draw(orders(network, max_lines=max_lines, ship_only=ship_only, policies=policies,
                         backorder=backorder)) for _ in range(n_orders)]
    return network, found
