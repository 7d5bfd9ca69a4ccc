"""The engine on a small hand-built network: every rule and line kind of docs/routing.md,
with expected nodes and costs worked out by hand (comments show the arithmetic).

Geometry (destination postal code 10001 at 40.0 N, 75.0 W):

    node      kind     point          km to 10001   zone   handling  pick  processing
    DC_NEAR   dc       40.0, -75.5      42.6          1      2.00      0.50  1
    DC_MID    dc       42.0, -75.0     222.4          2      1.50      0.25  1
    DC_FAR    dc       40.0, -90.0    ~1276           3      1.00      0.10  1
    STORE_A   store    40.1, -75.0      11.1          1      3.00      1.00  0
    STORE_B   store    41.0, -75.0     111.2          2      3.00      1.00  0
    VENDOR    vendor   40.0, -76.0      85.2          1      4.00      0.00  5
    DIGITAL   digital  40.0, -75.0       0            -      0.10      0.00  0

Ground rates: base [5, 7, 10, 14], per kg [0.5, 1.0, 1.5, 2.0] by zone 1..4; transit
[1, 2, 3, 5] days, promise 5. two_day: transit [1, 1, 2, 3], promise 2. next_day: transit
[1, 1, 1, 2], promise 1. Split penalty 4, unfilled penalty 50 per unit.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest

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
from omniroute.engine import Engine
from omniroute.engine._numba import compiled_signatures
from omniroute.engine.model import (
    Decision,
    Fulfillment,
    Order,
    OrderLine,
    Reason,
    ShipTo,
    SplitPolicy,
    Status,
)
from omniroute.engine.router import pack_static
from omniroute.errors import InvalidArgument, NotFound

TODAY = dt.date(2025, 1, 10)
C = Capability


def node(node_id: str, kind: NodeKind, lat: float, lon: float, caps: list[Capability],  # noqa: PLR0917
         handling: float, pick: float, processing: int, capacity: int = 100,
         channels: tuple[str, ...] = ("*",), priority: int = 1, enabled: bool = True) -> NodeRow:
    return NodeRow(node_id=node_id, kind=kind, postal_code="00000", lat=lat, lon=lon,
                   priority=priority, capabilities=caps, channels=list(channels),
                   daily_capacity_units=capacity, handling_cost=handling, pick_cost=pick,
                   processing_days=processing, enabled=enabled)


NODES = [
    node("DC_NEAR", NodeKind.DC, 40.0, -75.5, [C.SHIP], 2.0, 0.5, 1),
    node("DC_MID", NodeKind.DC, 42.0, -75.0, [C.SHIP, C.GIFT_CARD], 1.5, 0.25, 1),
    node("DC_FAR", NodeKind.DC, 40.0, -90.0, [C.SHIP, C.HAZMAT], 1.0, 0.1, 1),
    node("STORE_A", NodeKind.STORE, 40.1, -75.0, [C.SHIP, C.PICKUP, C.SHIP_TO_STORE], 3.0, 1.0,
         0, capacity=50),
    node("STORE_B", NodeKind.STORE, 41.0, -75.0, [C.SHIP, C.PICKUP, C.SHIP_TO_STORE], 3.0, 1.0,
         0, capacity=50),
    node("VENDOR", NodeKind.VENDOR, 40.0, -76.0, [C.SHIP, C.MADE_TO_ORDER], 4.0, 0.0, 5,
         capacity=10),
    node("DIGITAL", NodeKind.DIGITAL, 40.0, -75.0, [C.GIFT_CARD], 0.1, 0.0, 0, capacity=1000),
]
SKUS = [
    SkuRow(sku="A", kind=SkuKind.STANDARD, weight_kg=1.0, hazmat=False, returnable=True),
    SkuRow(sku="B", kind=SkuKind.STANDARD, weight_kg=2.0, hazmat=False, returnable=True),
    SkuRow(sku="H", kind=SkuKind.STANDARD, weight_kg=1.0, hazmat=True, returnable=False),
    SkuRow(sku="G", kind=SkuKind.GIFT_CARD, weight_kg=0.1, hazmat=False, returnable=False),
    SkuRow(sku="M", kind=SkuKind.MADE_TO_ORDER, weight_kg=5.0, hazmat=False, returnable=False),
    SkuRow(sku="D", kind=SkuKind.DIGITAL, weight_kg=0.0, hazmat=False, returnable=False),
    SkuRow(sku="P", kind=SkuKind.STANDARD, weight_kg=1.0, hazmat=False, returnable=True),
]
ALL_KINDS = ["dc", "store", "vendor", "digital"]


def ruleset(**overrides: object) -> Ruleset:
    base = {"version": 3, "weights": Weights(cost=1.0, distance_per_km=0.0, priority=0.0,
                                             capacity_balance=0.0),
            "split_penalty": 4.0, "unfilled_penalty": 50.0, "max_shipments": 3,
            "ship_from_store": True, "pickup_ship_to_store": True,
            "channel_node_kinds": {"*": ALL_KINDS, "marketplace": ["dc", "vendor"]},
            "safety_stock": {}}
    base.update(overrides)
    return msgspec.convert(base, Ruleset, from_attributes=True)


RULES = Rules(
    currency="USD",
    carrier=Carrier(
        zones=[ZoneBand(zone=1, max_km=100.0), ZoneBand(zone=2, max_km=500.0),
               ZoneBand(zone=3, max_km=1500.0), ZoneBand(zone=4, max_km=float("inf"))],
        service_levels=["ground", "two_day", "next_day"],
        transit_days={"ground": [1, 2, 3, 5], "two_day": [1, 1, 2, 3],
                      "next_day": [1, 1, 1, 2]},
        promise_days={"ground": 5, "two_day": 2, "next_day": 1},
        rates={"ground": RateTable(base=[5.0, 7.0, 10.0, 14.0], per_kg=[0.5, 1.0, 1.5, 2.0]),
               "*": RateTable(base=[8.0, 11.0, 15.0, 20.0], per_kg=[1.0, 1.0, 2.0, 2.0])}),
    rulesets={"default": ruleset(),
              "nostore": ruleset(version=1, ship_from_store=False, max_shipments=2),
              "safe": ruleset(version=2, safety_stock={"*": {"dc": 2}}),
              "balanced": ruleset(version=4, weights=Weights(
                  cost=1.0, distance_per_km=0.01, priority=0.5, capacity_balance=10.0))},
    channels={"*": "default"})
POSTAL = [PostalRow(postal_code="10001", lat=40.0, lon=-75.0),
          PostalRow(postal_code="190", lat=40.0, lon=-75.5)]


def stock(*rows: tuple[str, str, int]) -> list[InventoryRow]:
    return [InventoryRow(sku=s, node_id=n, disposition=Disposition.SELLABLE, qty=q)
            for s, n, q in rows]


def engine(inventory: list[InventoryRow], supply: list[SupplyRow] | None = None,
           nodes: list[NodeRow] | None = None) -> Engine:
    network = Network(nodes=nodes or NODES, skus=SKUS, inventory=inventory, supply=supply or [],
                      postal=POSTAL, rules=RULES)
    built = Engine.from_network(network, today=TODAY)
    built.warm_up()
    return built


def only(*node_ids: str) -> list[NodeRow]:
    """A sub-network: unfilled reasons look at every node, so reason tests keep few nodes."""
    return [n for n in NODES if n.node_id in node_ids]


def order(*lines: OrderLine, **fields: object) -> Order:
    base: dict[str, object] = {"order_id": "o1", "channel": "web",
                               "ship_to": ShipTo(postal_code="10001"),
                               "service_level": "ground", "lines": lines}
    base.update(fields)
    return Order(**base)  # type: ignore[arg-type]


def line(line_id: str, sku: str, qty: int, fulfillment: Fulfillment = Fulfillment.SHIP,
         store_id: str = "") -> OrderLine:
    return OrderLine(line_id=line_id, sku=sku, qty=qty, fulfillment=fulfillment,
                     store_id=store_id)


def shipped(decision: Decision) -> dict[str, dict[str, int]]:
    return {s.node_id: {ln.line_id: ln.qty for ln in s.lines} for s in decision.shipments}


def assert_cost_recomputes(decision: Decision) -> None:
    """The reported terms add up (pure-cost rulesets: weight 1, no other terms)."""
    c = decision.cost
    assert c.ship_cost == pytest.approx(sum(s.ship_cost for s in decision.shipments))
    assert c.handling_cost == pytest.approx(sum(s.handling_cost for s in decision.shipments))
    assert c.total == pytest.approx(c.ship_cost + c.handling_cost + c.split_penalty
                                    + c.unfilled_penalty + c.other_terms)


# ------------------------------------------------------------------ the customer group


def test_single_node_cover_takes_the_cheapest_node() -> None:
    e = engine(stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 5)))
    d = e.route(order(line("L1", "A", 1)))
    assert d.status is Status.ROUTED
    assert d.optimal
    assert shipped(d) == {"DC_NEAR": {"L1": 1}}
    s = d.shipments[0]
    assert (s.zone, s.transit_days, s.processing_days) == (1, 1, 1)
    assert s.distance_km == pytest.approx(42.6, abs=0.1)
    assert s.ship_cost == pytest.approx(5.5)        # 5 + 0.5 * 1 kg
    assert s.handling_cost == pytest.approx(2.5)    # 2 + 0.5 * 1 unit
    assert d.cost.total == pytest.approx(8.0)
    assert d.lower_bound == pytest.approx(d.cost.total)
    assert (d.ruleset, d.ruleset_version) == ("default", 3)
    assert_cost_recomputes(d)


def test_split_when_no_node_covers_and_split_beats_unfilled() -> None:
    e = engine(stock(("B", "DC_NEAR", 1), ("B", "DC_FAR", 1)))
    d = e.route(order(line("L1", "B", 2)))
    assert d.status is Status.ROUTED
    assert shipped(d) == {"DC_NEAR": {"L1": 1}, "DC_FAR": {"L1": 1}}
    # DC_NEAR: 5 + 0.5 * 2 kg + 2 + 0.5 = 8.5; DC_FAR: 10 + 1.5 * 2 + 1 + 0.1 = 14.1; split 4.
    assert d.cost.split_penalty == pytest.approx(4.0)
    assert d.cost.total == pytest.approx(8.5 + 14.1 + 4.0)
    assert_cost_recomputes(d)


def test_max_shipments_limits_nodes_and_leaves_policy_units() -> None:
    e = engine(stock(("B", "DC_NEAR", 1), ("B", "DC_FAR", 1)))
    d = e.route(order(line("L1", "B", 2), max_shipments=1))
    assert d.status is Status.PARTIAL
    assert shipped(d) == {"DC_NEAR": {"L1": 1}}
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.POLICY)]
    assert d.cost.total == pytest.approx(8.5 + 50.0)


def test_request_max_shipments_is_capped_by_the_ruleset() -> None:
    inv = stock(("A", "DC_NEAR", 1), ("A", "DC_MID", 1), ("A", "DC_FAR", 1))
    d = engine(inv).route(order(line("L1", "A", 3), ruleset="nostore", max_shipments=9))
    assert len(d.shipments) == 2  # nostore allows 2
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.POLICY)]


def test_ship_complete_is_all_or_nothing() -> None:
    e = engine(stock(("B", "DC_NEAR", 1), ("B", "DC_FAR", 1)))
    d = e.route(order(line("L1", "B", 2), split_policy=SplitPolicy.SHIP_COMPLETE))
    assert d.status is Status.UNROUTABLE
    assert d.shipments == ()
    assert [(u.qty, u.reason) for u in d.unfilled] == [(2, Reason.POLICY)]
    assert d.cost.total == pytest.approx(100.0)
    ok = engine(stock(("B", "DC_NEAR", 1), ("B", "DC_FAR", 2)))
    d = ok.route(order(line("L1", "B", 2), split_policy=SplitPolicy.SHIP_COMPLETE))
    assert shipped(d) == {"DC_FAR": {"L1": 2}}


def test_fill_or_kill_reports_each_units_reason() -> None:
    e = engine(stock(("B", "DC_NEAR", 1), ("B", "DC_FAR", 1)))
    d = e.route(order(line("L1", "B", 3), split_policy=SplitPolicy.FILL_OR_KILL))
    assert d.status is Status.UNROUTABLE
    assert d.shipments == ()
    assert sorted((u.qty, u.reason) for u in d.unfilled) == [(1, Reason.OUT_OF_STOCK),
                                                             (2, Reason.POLICY)]
    d = e.route(order(line("L1", "B", 2), split_policy=SplitPolicy.FILL_OR_KILL))
    assert d.status is Status.ROUTED
    assert len(d.shipments) == 2


def test_hazmat_needs_a_hazmat_node() -> None:
    d = engine(stock(("H", "DC_NEAR", 5), ("H", "DC_FAR", 5))).route(order(line("L1", "H", 1)))
    assert shipped(d) == {"DC_FAR": {"L1": 1}}
    assert d.cost.total == pytest.approx(10 + 1.5 + 1.0 + 0.1)
    # Stock only where hazmat cannot ship: DC_FAR passes rules 1-6 but has no ATP.
    d = engine(stock(("H", "DC_NEAR", 5))).route(order(line("L1", "H", 1)))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.OUT_OF_STOCK)]
    nodes = [*NODES[:2], msgspec.structs.replace(NODES[2], capabilities=[C.SHIP]), *NODES[3:]]
    d = engine(stock(("H", "DC_NEAR", 5)), nodes=nodes).route(order(line("L1", "H", 1)))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.NO_ELIGIBLE_NODE)]


def test_promise_days_exclude_slow_nodes() -> None:
    d = engine(stock(("A", "DC_FAR", 5)), nodes=only("DC_FAR", "DIGITAL")).route(
        order(line("L1", "A", 1), service_level="two_day"))
    assert d.status is Status.UNROUTABLE
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.SLA_UNMET)]
    # next_day: only a zero-processing store in a 1-day zone makes it (rates from the '*' table).
    d = engine(stock(("A", "DC_NEAR", 5), ("A", "STORE_A", 5))).route(
        order(line("L1", "A", 1), service_level="next_day"))
    assert shipped(d) == {"STORE_A": {"L1": 1}}
    assert d.cost.total == pytest.approx(8 + 1.0 + 3 + 1)


def test_capacity_is_read_each_call_and_never_exceeded() -> None:
    e = engine(stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 5)))
    used = e.state.nodes.capacity_used_today
    used[0] = 99  # DC_NEAR has one unit of capacity left
    d = e.route(order(line("L1", "A", 2)))
    # DC_MID alone: 7 + 1.0 * 2 + 1.5 + 0.25 * 2 = 11.0 beats 1 + 1 split (8 + 9.75 + 4).
    assert shipped(d) == {"DC_MID": {"L1": 2}}
    assert d.cost.total == pytest.approx(11.0)
    used[0] = 100
    used[1] = 100
    d = e.route(order(line("L1", "A", 1)))
    # Other nodes pass rules 1-6 but hold no A: the first applying reason is OUT_OF_STOCK.
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.OUT_OF_STOCK)]
    e = engine(stock(("A", "DC_NEAR", 5)), nodes=only("DC_NEAR", "DIGITAL"))
    e.state.nodes.capacity_used_today[0] = 100
    d = e.route(order(line("L1", "A", 1)))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.CAPACITY)]


def test_capacity_limits_one_order_on_one_node() -> None:
    e = engine(stock(("A", "DC_NEAR", 5)), nodes=only("DC_NEAR", "DIGITAL"))
    e.state.nodes.capacity_used_today[0] = 98
    d = e.route(order(line("L1", "A", 3)))
    assert shipped(d) == {"DC_NEAR": {"L1": 2}}
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.CAPACITY)]


def test_gift_cards_need_a_gift_card_node() -> None:
    d = engine(stock(("G", "DC_NEAR", 5), ("G", "DC_MID", 5))).route(order(line("L1", "G", 1)))
    assert shipped(d) == {"DC_MID": {"L1": 1}}
    assert d.cost.total == pytest.approx(7 + 1.0 * 0.1 + 1.5 + 0.25)


def test_made_to_order_needs_no_stock_but_capacity_and_lead_time() -> None:
    e = engine([])
    d = e.route(order(line("L1", "M", 2)))
    assert shipped(d) == {"VENDOR": {"L1": 2}}
    s = d.shipments[0]
    assert (s.processing_days, s.ship_date_offset_days) == (5, 5)
    assert d.cost.total == pytest.approx(5 + 0.5 * 10 + 4.0)
    e.state.nodes.capacity_used_today[5] = 9
    d = e.route(order(line("L1", "M", 2)))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.CAPACITY)]


def test_safety_stock_reduces_atp() -> None:
    e = engine(stock(("A", "DC_NEAR", 2), ("A", "DC_MID", 5)))
    assert shipped(e.route(order(line("L1", "A", 1)))) == {"DC_NEAR": {"L1": 1}}
    assert shipped(e.route(order(line("L1", "A", 1), ruleset="safe"))) == {"DC_MID": {"L1": 1}}


def test_atp_is_shared_by_lines_of_one_sku_and_reads_reservations() -> None:
    e = engine(stock(("A", "DC_NEAR", 3), ("A", "DC_MID", 10)))
    d = e.route(order(line("L1", "A", 2), line("L2", "A", 2)))
    assert shipped(d) == {"DC_MID": {"L1": 2, "L2": 2}}
    e.state.inventory.reserved[0, 1] = 9  # A at DC_MID: 1 left
    d = e.route(order(line("L1", "A", 2)))
    assert shipped(d) == {"DC_NEAR": {"L1": 2}}


def test_stores_ship_only_when_the_ruleset_allows() -> None:
    e = engine(stock(("A", "STORE_A", 5)))
    assert shipped(e.route(order(line("L1", "A", 1)))) == {"STORE_A": {"L1": 1}}
    d = e.route(order(line("L1", "A", 1), ruleset="nostore"))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.OUT_OF_STOCK)]
    e = engine(stock(("A", "STORE_A", 5)), nodes=only("STORE_A", "STORE_B", "DIGITAL"))
    d = e.route(order(line("L1", "A", 1), ruleset="nostore"))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.NO_ELIGIBLE_NODE)]


def test_channel_node_kinds_and_node_channels() -> None:
    e = engine(stock(("A", "STORE_A", 5)), nodes=only("STORE_A", "DIGITAL"))
    d = e.route(order(line("L1", "A", 1), channel="marketplace"))
    assert [(u.qty, u.reason) for u in d.unfilled] == [(1, Reason.NO_ELIGIBLE_NODE)]
    nodes = [*NODES[:1], msgspec.structs.replace(NODES[1], channels=["app"]), *NODES[2:]]
    e = engine(stock(("A", "DC_MID", 5)), nodes=nodes)
    assert e.route(order(line("L1", "A", 1), channel="app")).status is Status.ROUTED
    assert e.route(order(line("L1", "A", 1), channel="web")).status is Status.UNROUTABLE


def test_disabled_nodes_are_never_used() -> None:
    nodes = [msgspec.structs.replace(NODES[0], enabled=False), *NODES[1:]]
    d = engine(stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 5)), nodes=nodes).route(
        order(line("L1", "A", 1)))
    assert shipped(d) == {"DC_MID": {"L1": 1}}


def test_postal_prefix_and_explicit_point() -> None:
    e = engine(stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 5)))
    d = e.route(order(line("L1", "A", 1), ship_to=ShipTo(postal_code="19012")))
    assert d.shipments[0].distance_km == pytest.approx(0.0, abs=1e-9)
    d = e.route(order(line("L1", "A", 1), ship_to=ShipTo(postal_code="10001", lat=42.0,
                                                         lon=-75.0)))
    assert shipped(d) == {"DC_MID": {"L1": 1}}  # the point wins over the code


def test_weighted_terms_are_reported_in_other_terms() -> None:
    e = engine(stock(("A", "DC_NEAR", 5)))
    d = e.route(order(line("L1", "A", 1), ruleset="balanced"))
    s = d.shipments[0]
    other = 0.01 * s.distance_km + 0.5 * 1 + 10.0 * 1 / 100
    assert d.cost.other_terms == pytest.approx(other)
    assert d.cost.total == pytest.approx(8.0 + other)


# ------------------------------------------------------------------ other groups


def test_digital_lines_go_to_the_digital_node() -> None:
    d = engine([]).route(order(line("L1", "D", 2, Fulfillment.DIGITAL)))
    assert d.status is Status.ROUTED
    (s,) = d.shipments
    assert (s.node_id, s.fulfillment, s.destination, s.ship_cost) == (
        "DIGITAL", Fulfillment.DIGITAL, "digital", 0.0)
    assert d.cost.total == pytest.approx(0.1)


def test_pickup_then_shortfall_ships_to_the_store() -> None:
    e = engine(stock(("A", "STORE_A", 1), ("A", "DC_NEAR", 5)))
    d = e.route(order(line("L1", "A", 3, Fulfillment.PICKUP, "STORE_A")))
    assert d.status is Status.ROUTED
    by_kind = {s.fulfillment: s for s in d.shipments}
    pickup = by_kind[Fulfillment.PICKUP]
    sts = by_kind[Fulfillment.SHIP_TO_STORE]
    assert (pickup.node_id, pickup.destination, pickup.ship_cost) == ("STORE_A", "store:STORE_A",
                                                                      0.0)
    assert pickup.handling_cost == pytest.approx(3.0 + 1.0)
    assert (sts.node_id, sts.destination, sts.zone) == ("DC_NEAR", "store:STORE_A", 1)
    # DC_NEAR -> STORE_A is zone 1: 5 + 0.5 * 2 kg, handling 2 + 0.5 * 2.
    assert d.cost.total == pytest.approx(4.0 + 6.0 + 3.0)
    assert d.cost.split_penalty == 0.0


def test_ship_to_store_lines_are_routed_to_the_store() -> None:
    d = engine(stock(("A", "DC_MID", 5))).route(
        order(line("L1", "A", 1, Fulfillment.SHIP_TO_STORE, "STORE_B")))
    (s,) = d.shipments
    assert (s.node_id, s.destination, s.fulfillment) == ("DC_MID", "store:STORE_B",
                                                         Fulfillment.SHIP_TO_STORE)
    assert s.distance_km == pytest.approx(111.2, abs=0.1)  # DC_MID 42.0 -> STORE_B 41.0


def test_store_distances_come_from_a_table_packed_once_per_network() -> None:
    e = engine(stock(("A", "DC_MID", 5)))
    packed = pack_static(e.state)
    # A state swap with the same nodes keeps the table; moved nodes rebuild it.
    assert pack_static(e.state, packed).store_km is packed.store_km
    nodes = e.state.nodes
    moved = nodes._replace(lat_deg=nodes.lat_deg.copy())
    store_b = e.state.catalog.node_index["STORE_B"]
    moved.lat_deg[store_b] = 40.0  # now level with DC_MID's longitude, 222.4 km south of it
    e.use_state(e.state._replace(nodes=moved))
    (s,) = e.route(order(line("L1", "A", 1, Fulfillment.SHIP_TO_STORE, "STORE_B"))).shipments
    assert s.distance_km == pytest.approx(222.4, abs=0.1)


def test_unknown_sku_is_unfilled_not_an_error() -> None:
    d = engine(stock(("A", "DC_NEAR", 5))).route(order(line("L1", "A", 1), line("L2", "NOPE", 2)))
    assert d.status is Status.PARTIAL
    assert [(u.line_id, u.qty, u.reason) for u in d.unfilled] == [("L2", 2, Reason.UNKNOWN_SKU)]


# ------------------------------------------------------------------ backorders


SUPPLY = [SupplyRow(sku="P", node_id="DC_MID", qty=4, available_date=dt.date(2025, 2, 1)),
          SupplyRow(sku="P", node_id="DC_FAR", qty=4, available_date=dt.date(2025, 1, 20))]


def test_backorder_against_the_earliest_covering_supply() -> None:
    e = engine([], SUPPLY)
    d = e.route(order(line("L1", "P", 3), allow_backorder=True))
    assert d.status is Status.BACKORDERED
    assert d.cost.total == 0.0
    assert [(b.qty, b.node_id, b.available_date) for b in d.backorders] == [
        (3, "DC_FAR", dt.date(2025, 1, 20))]
    d = e.route(order(line("L1", "P", 3)))
    assert d.status is Status.UNROUTABLE
    assert [(u.qty, u.reason) for u in d.unfilled] == [(3, Reason.OUT_OF_STOCK)]


def test_backorder_partial_cover_takes_the_node_covering_most() -> None:
    d = engine([], SUPPLY).route(order(line("L1", "P", 6), allow_backorder=True))
    assert d.status is Status.PARTIAL
    assert [(b.qty, b.node_id) for b in d.backorders] == [(4, "DC_FAR")]
    assert [(u.qty, u.reason) for u in d.unfilled] == [(2, Reason.OUT_OF_STOCK)]


def test_supply_is_promised_once_per_order() -> None:
    d = engine([], SUPPLY).route(order(line("L1", "P", 3), line("L2", "P", 3),
                                       allow_backorder=True))
    assert [(b.line_id, b.qty, b.node_id) for b in d.backorders] == [
        ("L1", 3, "DC_FAR"), ("L2", 3, "DC_MID")]


def test_ship_complete_backorders_at_one_node() -> None:
    inv = stock(("P", "DC_MID", 1), ("P", "DC_FAR", 1))
    d = engine(inv, SUPPLY).route(order(line("L1", "P", 3), allow_backorder=True,
                                        split_policy=SplitPolicy.SHIP_COMPLETE))
    assert d.status is Status.BACKORDERED
    assert d.shipments == ()
    assert [(b.qty, b.node_id, b.available_date) for b in d.backorders] == [
        (3, "DC_FAR", dt.date(2025, 1, 20))]


def test_seed_scenario_routes_every_line_kind_in_one_call() -> None:
    """DESIGN section 5: in-stock, digital gift card, physical gift card, custom, preorder."""
    e = engine(stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 5), ("G", "DC_MID", 5)), SUPPLY)
    d = e.route(order(line("L1", "A", 1), line("L2", "D", 1, Fulfillment.DIGITAL),
                      line("L3", "G", 1), line("L4", "M", 1), line("L5", "P", 1),
                      allow_backorder=True))
    assert d.status is Status.BACKORDERED
    # A rides with the gift card from DC_MID (one shipment: 7 + 1.0 * 1.1 kg + 1.5 + 0.25 * 2
    # = 10.1) rather than alone from DC_NEAR (8.0 + 8.85 for G + 4 split).
    assert shipped(d) == {"DC_MID": {"L1": 1, "L3": 1}, "VENDOR": {"L4": 1},
                          "DIGITAL": {"L2": 1}}
    assert [(b.line_id, b.node_id, b.available_date) for b in d.backorders] == [
        ("L5", "DC_FAR", dt.date(2025, 1, 20))]
    # VENDOR: 5 + 0.5 * 5 + 4.0 = 11.5; split 4 (two shipments to the customer); digital 0.1.
    assert d.cost.total == pytest.approx(10.1 + 11.5 + 4.0 + 0.1)
    assert_cost_recomputes(d)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(("bad", "field"), [
    ({"order_id": ""}, "order_id"),
    ({"channel": ""}, "channel"),
    ({"service_level": "warp"}, "service_level"),
    ({"ship_to": ShipTo(postal_code="99999")}, "ship_to.postal_code"),
    ({"ship_to": ShipTo(lat=91.0, lon=0.0)}, "ship_to.lat"),
    ({"ship_to": ShipTo(lat=10.0)}, "ship_to.lon"),
    ({"lines": ()}, "lines"),
    ({"lines": (line("L1", "A", 1), line("L2", "A", 0))}, "lines[1].qty"),
    ({"lines": (line("L1", "A", 1), line("L1", "A", 1))}, "lines[1].line_id"),
    ({"lines": (line("", "A", 1),)}, "lines[0].line_id"),
    ({"lines": (line("L1", "A", 1, Fulfillment.PICKUP),)}, "lines[0].store_id"),
    ({"lines": (line("L1", "A", 1, Fulfillment.PICKUP, "NOWHERE"),)}, "lines[0].store_id"),
    ({"lines": (line("L1", "A", 1, Fulfillment.SHIP_TO_STORE, "DC_MID"),)},
     "lines[0].store_id"),
    ({"lines": (line("L1", "A", 1), line("L2", "A", 1, Fulfillment.DIGITAL))},
     "lines[1].fulfillment"),
    ({"max_shipments": -1}, "max_shipments"),
])
def test_bad_orders_name_the_field(bad: dict[str, object], field: str) -> None:
    e = engine(stock(("A", "DC_NEAR", 5)))
    with pytest.raises(InvalidArgument) as error:
        e.route(order(line("L1", "A", 1), **bad))
    assert error.value.field == field


def test_unknown_ruleset_is_not_found_and_batches_name_the_order() -> None:
    e = engine(stock(("A", "DC_NEAR", 5)))
    with pytest.raises(NotFound) as error:
        e.route(order(line("L1", "A", 1), ruleset="nope"))
    assert error.value.field == "ruleset"
    with pytest.raises(InvalidArgument) as bad:
        e.route_batch([order(line("L1", "A", 1)), order(line("L1", "A", -2))])
    assert bad.value.field == "orders[1].lines[0].qty"


# ------------------------------------------------------------------ batch, explain, availability


def test_batch_equals_single_routes() -> None:
    e = engine(stock(("A", "DC_NEAR", 2), ("A", "DC_MID", 5), ("B", "DC_FAR", 1),
                     ("G", "DC_MID", 2)), SUPPLY)
    orders = [
        order(line("L1", "A", 1), order_id="a"),
        order(line("L1", "A", 4), line("L2", "B", 2), order_id="b"),
        order(line("L1", "P", 2), line("L2", "D", 1), allow_backorder=True, order_id="c"),
        order(line("L1", "A", 3, Fulfillment.PICKUP, "STORE_B"), order_id="d"),
        order(line("L1", "G", 3), split_policy=SplitPolicy.FILL_OR_KILL, order_id="e"),
        order(line("L1", "B", 2), split_policy=SplitPolicy.SHIP_COMPLETE, order_id="f"),
        order(line("L1", "NOPE", 1), line("L2", "M", 1), order_id="g"),
    ]
    batch = e.route_batch(orders)
    assert batch == [e.route(o) for o in orders]
    # Single routes reuse their thread's output buffers: stale rows of a larger earlier order
    # must never leak into a smaller one, nor one thread's into another's.
    assert [e.route(o) for o in reversed(orders)] == batch[::-1]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(e.route, orders * 20)) == batch * 20
    assert e.route_batch([]) == []


def test_route_reads_state_and_never_writes_it() -> None:
    e = engine(stock(("A", "DC_NEAR", 2)))
    before = (e.state.inventory.on_hand.copy(), e.state.nodes.capacity_used_today.copy())
    first = e.route(order(line("L1", "A", 2)))
    assert e.route(order(line("L1", "A", 2))) == first
    assert (e.state.inventory.on_hand == before[0]).all()
    assert (e.state.nodes.capacity_used_today == before[1]).all()
    assert e.inventory_version == first.inventory_version == 0
    e.state.version[0] = 7
    assert e.route(order(line("L1", "A", 2))).inventory_version == 7


def test_kernels_compile_once() -> None:
    e = engine(stock(("A", "DC_NEAR", 2)))
    e.route(order(line("L1", "A", 2), ship_to=ShipTo(lat=40.0, lon=-75.0), explain=True))
    assert set(compiled_signatures().values()) <= {0, 1}
    assert compiled_signatures()["route_orders"] == 1
    assert compiled_signatures()["route_by_table"] == 1  # calls route_orders' one build


def test_explain_lists_candidates_with_reasons() -> None:
    e = engine(stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 5), ("A", "DC_FAR", 5)))
    d = e.route(order(line("L1", "A", 1), explain=True, service_level="two_day"))
    by_node = {c.node_id: c for c in d.candidates}
    assert d.candidates[0].node_id == "DC_NEAR"
    assert d.candidates[0].chosen
    assert d.candidates[0].detail.startswith("chosen")
    mid = by_node["DC_MID"]
    assert mid.eligible
    assert not mid.chosen
    assert mid.reason is None
    # two_day zone 2 from DC_MID: 11 + 1.0 + 1.5 + 0.25 = 13.75 vs 8 + 1 + 2 + 0.5 = 11.5.
    assert mid.score == pytest.approx(13.75)
    assert "+2.25" in mid.detail
    far = by_node["DC_FAR"]
    assert not far.eligible
    assert far.reason is Reason.SLA_UNMET
    assert "rule 5" in far.detail
    assert by_node["STORE_B"].reason is Reason.OUT_OF_STOCK
    assert by_node["DIGITAL"].reason is Reason.NO_ELIGIBLE_NODE
    assert len(d.candidates) == len(NODES)
    assert e.route(order(line("L1", "A", 1))).candidates == ()


def test_availability_by_disposition_and_supply() -> None:
    inventory = [*stock(("A", "DC_NEAR", 5), ("A", "DC_MID", 1)),
                 InventoryRow(sku="A", node_id="DC_NEAR", disposition=Disposition.DAMAGED,
                              qty=2)]
    e = engine(inventory, SUPPLY)
    e.state.inventory.reserved[0, 0] = 1
    a, p, nope = e.availability(["A", "P", "NOPE"], channel="web")
    assert a.known
    assert not nope.known
    near = next(n for n in a.nodes if n.node_id == "DC_NEAR")
    assert (near.sellable, near.damaged, near.reserved, near.atp) == (5, 2, 1, 4)
    assert a.network_atp == 5
    assert [(s.node_id, s.available_date, s.qty) for s in p.supply] == [
        ("DC_FAR", dt.date(2025, 1, 20), 4), ("DC_MID", dt.date(2025, 2, 1), 4)]
    (only,) = e.availability(["A"], channel="web", node_ids=["DC_MID"])
    assert [n.node_id for n in only.nodes] == ["DC_MID"]
    assert only.network_atp == 1
    with pytest.raises(NotFound) as error:
        e.availability(["A"], channel="web", node_ids=["DC_MID", "NOWHERE"])
    assert error.value.field == "node_ids[1]"
