"""Hand-computed cases for the slow twin, one rule of docs/routing.md at a time.

The twin is the reference the engine is judged by, so it must be trusted on its own: every
expected number below is worked out by hand from the spec (the arithmetic is in the test).

The little world: the customer is at (40, -100). Node `near` sits on the customer (0 km:
zone 2), node `far` is 20 degrees of longitude east (about 1705 km: zone 3). Rates: zone 2
costs 5 + 1/kg, zone 3 costs 10 + 2/kg. Ground transit is 1 day in zone 2 and 3 days in
zone 3, within a 5-day promise; next-day transit is 1 day everywhere with a 1-day promise.
"""

from __future__ import annotations

import datetime as dt
import math

import msgspec
import pytest
from naive import allocated_units, haversine_km, naive_route

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
from omniroute.errors import InvalidArgument

TODAY = dt.date(2025, 1, 10)
HOME = (40.0, -100.0)
FAR = (40.0, -80.0)


def node(node_id: str, *, kind: NodeKind = NodeKind.DC, at: tuple[float, float] = HOME,
         caps: tuple[Capability, ...] = (Capability.SHIP,), channels: tuple[str, ...] = ("*",),
         capacity: int = 100, handling: float = 2.0, pick: float = 0.5, processing: int = 0,
         enabled: bool = True, priority: int = 0) -> NodeRow:
    return NodeRow(node_id=node_id, kind=kind, postal_code="00000", lat=at[0], lon=at[1],
                   priority=priority, capabilities=list(caps), channels=list(channels),
                   daily_capacity_units=capacity, handling_cost=handling, pick_cost=pick,
                   processing_days=processing, enabled=enabled)


def sku(sku_id: str, *, kind: SkuKind = SkuKind.STANDARD, weight: float = 1.0,
        hazmat: bool = False) -> SkuRow:
    return SkuRow(sku=sku_id, kind=kind, weight_kg=weight, hazmat=hazmat, returnable=True)


def stock(sku_id: str, node_id: str, qty: int,
          disposition: Disposition = Disposition.SELLABLE) -> InventoryRow:
    return InventoryRow(sku=sku_id, node_id=node_id, disposition=disposition, qty=qty)


def world(nodes: list[NodeRow], skus: list[SkuRow], inventory: list[InventoryRow], *,
          supply: tuple[SupplyRow, ...] = (), split_penalty: float = 3.0,
          unfilled_penalty: float = 100.0, max_shipments: int = 3,
          ship_from_store: bool = True, pickup_ship_to_store: bool = True,
          kinds: dict[str, list[str]] | None = None,
          safety: dict[str, dict[str, int]] | None = None,
          first_band_km: float = 500.0) -> Network:
    carrier = Carrier(
        zones=[ZoneBand(zone=2, max_km=first_band_km), ZoneBand(zone=3, max_km=math.inf)],
        service_levels=["ground", "next_day"],
        transit_days={"ground": [1, 3], "next_day": [1, 1]},
        promise_days={"ground": 5, "next_day": 1},
        rates={"*": RateTable(base=[5.0, 10.0], per_kg=[1.0, 2.0])})
    ruleset = Ruleset(
        version=3, weights=Weights(cost=1.0, distance_per_km=0.0, priority=0.0,
                                   capacity_balance=0.0),
        split_penalty=split_penalty, unfilled_penalty=unfilled_penalty,
        max_shipments=max_shipments, ship_from_store=ship_from_store,
        pickup_ship_to_store=pickup_ship_to_store,
        channel_node_kinds=kinds if kinds is not None else {
            "*": ["dc", "store", "vendor", "digital"]},
        safety_stock=safety or {})
    rules = Rules(currency="USD", carrier=carrier, rulesets={"default": ruleset},
                  channels={"*": "default"})
    postal = [PostalRow(postal_code="123", lat=HOME[0], lon=HOME[1]),
              PostalRow(postal_code="12345", lat=FAR[0], lon=FAR[1])]
    return Network(nodes=nodes, skus=skus, inventory=inventory, supply=list(supply),
                   postal=postal, rules=rules)


def order(*lines: OrderLine, policy: SplitPolicy = SplitPolicy.ALLOW_SPLIT,
          max_shipments: int = 0, backorder: bool = False, level: str = "ground",
          channel: str = "web", ship_to: ShipTo | None = None) -> Order:
    return Order(order_id="o", channel=channel, ship_to=ship_to or ShipTo(lat=HOME[0],
                                                                          lon=HOME[1]),
                 service_level=level, lines=lines, split_policy=policy,
                 max_shipments=max_shipments, allow_backorder=backorder)


def line(line_id: str, sku_id: str, qty: int, fulfillment: Fulfillment = Fulfillment.SHIP,
         store: str = "") -> OrderLine:
    return OrderLine(line_id=line_id, sku=sku_id, qty=qty, fulfillment=fulfillment,
                     store_id=store)


def route(network: Network, o: Order) -> Decision:
    return naive_route(network, o, today=TODAY)


def reasons(decision: Decision) -> dict[str, list[tuple[int, Reason]]]:
    out: dict[str, list[tuple[int, Reason]]] = {}
    for u in decision.unfilled:
        out.setdefault(u.line_id, []).append((u.qty, u.reason))
    return out


def check_totals(decision: Decision) -> None:
    cost = decision.cost
    assert cost.total == pytest.approx(cost.ship_cost + cost.handling_cost + cost.split_penalty
                                       + cost.unfilled_penalty + cost.other_terms)


# ------------------------------------------------------------------ cost model


def test_single_line_takes_the_cheaper_node_and_prices_every_term() -> None:
    net = world([node("near", handling=4.0, pick=1.0), node("far", at=FAR, handling=1.0)],
                [sku("A", weight=2.0)], [stock("A", "near", 5), stock("A", "far", 5)])
    d = route(net, order(line("1", "A", 3)))
    # near: ship 5 + 1*6kg = 11, handling 4 + 1*3 = 7 -> 18.
    # far: ship 10 + 2*6kg = 22, handling 1 + 0.5*3 = 2.5 -> 24.5.
    assert d.status is Status.ROUTED
    assert allocated_units(d) == {("1", "near"): 3}
    (s,) = d.shipments
    assert (s.zone, s.distance_km, s.weight_kg) == (2, 0.0, 6.0)
    assert s.ship_cost == pytest.approx(11.0)
    assert s.handling_cost == pytest.approx(7.0)
    assert d.cost.total == pytest.approx(18.0)
    assert d.optimal
    assert d.lower_bound == pytest.approx(18.0)
    check_totals(d)


def test_far_node_is_zone_three_at_the_haversine_distance() -> None:
    net = world([node("far", at=FAR)], [sku("A")], [stock("A", "far", 5)])
    d = route(net, order(line("1", "A", 1)))
    (s,) = d.shipments
    assert s.zone == 3
    assert s.distance_km == pytest.approx(haversine_km(*FAR, *HOME))
    assert 1690 < s.distance_km < 1720
    assert d.cost.total == pytest.approx(10 + 2 * 1 + 2 + 0.5)


def test_zone_bands_are_upper_inclusive() -> None:
    edge = haversine_km(*FAR, *HOME)
    on_edge = world([node("far", at=FAR)], [sku("A")], [stock("A", "far", 5)],
                    first_band_km=edge)
    assert route(on_edge, order(line("1", "A", 1))).shipments[0].zone == 2
    just_below = world([node("far", at=FAR)], [sku("A")], [stock("A", "far", 5)],
                       first_band_km=math.nextafter(edge, 0.0))
    assert route(just_below, order(line("1", "A", 1))).shipments[0].zone == 3


def test_postal_code_exact_then_longest_prefix() -> None:
    net = world([node("near"), node("far", at=FAR)], [sku("A")],
                [stock("A", "near", 5), stock("A", "far", 5)])
    # '12345' is an exact row at FAR: the far node is then at distance 0.
    exact = route(net, order(line("1", "A", 1), ship_to=ShipTo(postal_code="12345")))
    assert exact.shipments[0].node_id == "far"
    # '12399' only matches the '123' prefix, which is HOME.
    prefix = route(net, order(line("1", "A", 1), ship_to=ShipTo(postal_code="12399")))
    assert prefix.shipments[0].node_id == "near"
    with pytest.raises(InvalidArgument) as err:
        route(net, order(line("1", "A", 1), ship_to=ShipTo(postal_code="999")))
    assert err.value.field == "ship_to.postal_code"


def test_split_pays_the_split_penalty_and_beats_leaving_units_unfilled() -> None:
    net = world([node("near"), node("far", at=FAR)], [sku("A")],
                [stock("A", "near", 2), stock("A", "far", 3)], split_penalty=3.0)
    d = route(net, order(line("1", "A", 4)))
    # Cheapest: all 2 from near (5 + 2 + 2 + 1 = 10), 2 from far (10 + 4 + 2 + 1 = 17),
    # split 3 -> 30. (near 1 + far 3 would be 5+1+2+0.5 + 10+6+2+1.5 + 3 = 31.)
    assert allocated_units(d) == {("1", "near"): 2, ("1", "far"): 2}
    assert d.cost.split_penalty == pytest.approx(3.0)
    assert d.cost.total == pytest.approx(30.0)
    check_totals(d)


def test_max_shipments_limits_nodes_and_leftover_is_policy() -> None:
    net = world([node("near"), node("far", at=FAR)], [sku("A")],
                [stock("A", "near", 2), stock("A", "far", 3)])
    d = route(net, order(line("1", "A", 4), max_shipments=1))
    # One node only: near 2 units (10) + 2 unfilled (200) = 210; far 3 units
    # (10 + 6 + 2 + 1.5 = 19.5) + 1 unfilled (100) = 119.5.
    assert allocated_units(d) == {("1", "far"): 3}
    assert reasons(d) == {"1": [(1, Reason.POLICY)]}
    assert d.status is Status.PARTIAL
    assert d.cost.total == pytest.approx(119.5)


def test_request_max_shipments_is_capped_at_the_rulesets() -> None:
    net = world([node(f"n{i}") for i in range(3)], [sku("A")],
                [stock("A", f"n{i}", 1) for i in range(3)], max_shipments=2)
    d = route(net, order(line("1", "A", 3), max_shipments=5))
    assert len(d.shipments) == 2
    assert reasons(d) == {"1": [(1, Reason.POLICY)]}


def test_cheap_unfilled_penalty_leaves_units_unfilled_as_policy() -> None:
    net = world([node("far", at=FAR)], [sku("A")], [stock("A", "far", 5)],
                unfilled_penalty=5.0)
    d = route(net, order(line("1", "A", 1)))
    # Shipping costs 14.5 > 5: leave it.
    assert d.status is Status.UNROUTABLE
    assert reasons(d) == {"1": [(1, Reason.POLICY)]}
    assert d.cost.total == pytest.approx(5.0)
    assert d.cost.unfilled_penalty == pytest.approx(5.0)


def test_atp_is_shared_by_lines_of_the_same_sku() -> None:
    net = world([node("near")], [sku("A")], [stock("A", "near", 3)])
    d = route(net, order(line("1", "A", 2), line("2", "A", 2)))
    assert sum(allocated_units(d).values()) == 3
    assert sum(u.qty for u in d.unfilled) == 1
    assert d.unfilled[0].reason is Reason.OUT_OF_STOCK


def test_safety_stock_and_other_dispositions_are_not_promised() -> None:
    net = world([node("st", kind=NodeKind.STORE)], [sku("A")],
                [stock("A", "st", 3), stock("A", "st", 50, Disposition.DAMAGED)],
                safety={"web": {"store": 2}, "*": {"store": 1}})
    d = route(net, order(line("1", "A", 3)))
    assert allocated_units(d) == {("1", "st"): 1}  # 3 - 2 (web's store safety stock)
    d = route(net, order(line("1", "A", 3), channel="app"))
    assert allocated_units(d) == {("1", "st"): 2}  # 3 - 1 ('*' safety stock)


# ------------------------------------------------------------------ eligibility rules 1-7


@pytest.mark.parametrize(("blocker", "reason"), [
    ({"enabled": False}, Reason.NO_ELIGIBLE_NODE),
    ({"channels": ("app",)}, Reason.NO_ELIGIBLE_NODE),
    ({"caps": ()}, Reason.NO_ELIGIBLE_NODE),
    ({"processing": 3, "at": FAR}, Reason.SLA_UNMET),  # 3 + 3 > 5
    ({"capacity": 0}, Reason.CAPACITY),
])
def test_each_rule_excludes_the_only_node_with_its_reason(blocker: dict[str, object],
                                                          reason: Reason) -> None:
    net = world([node("n", **blocker)], [sku("A")], [stock("A", "n", 5)])  # type: ignore[arg-type]
    d = route(net, order(line("1", "A", 2)))
    assert d.status is Status.UNROUTABLE
    assert reasons(d) == {"1": [(2, reason)]}


def test_channel_node_kinds_and_ship_from_store() -> None:
    net = world([node("v", kind=NodeKind.VENDOR)], [sku("A")], [stock("A", "v", 5)],
                kinds={"web": ["dc"], "*": ["vendor"]})
    assert reasons(route(net, order(line("1", "A", 1))))["1"][0][1] is Reason.NO_ELIGIBLE_NODE
    assert route(net, order(line("1", "A", 1), channel="app")).status is Status.ROUTED
    no_kinds = world([node("v", kind=NodeKind.VENDOR)], [sku("A")], [stock("A", "v", 5)],
                     kinds={"web": ["vendor"]})
    assert route(no_kinds, order(line("1", "A", 1), channel="app")).status is Status.UNROUTABLE
    stores = world([node("s", kind=NodeKind.STORE)], [sku("A")], [stock("A", "s", 5)],
                   ship_from_store=False)
    assert reasons(route(stores, order(line("1", "A", 1))))["1"][0][1] is Reason.NO_ELIGIBLE_NODE


@pytest.mark.parametrize(("kind", "hazmat", "cap"), [
    (SkuKind.GIFT_CARD, False, Capability.GIFT_CARD),
    (SkuKind.STANDARD, True, Capability.HAZMAT),
    (SkuKind.MADE_TO_ORDER, False, Capability.MADE_TO_ORDER),
])
def test_capabilities_required_by_the_sku(kind: SkuKind, hazmat: bool, cap: Capability) -> None:
    skus = [sku("X", kind=kind, hazmat=hazmat)]
    inv = [stock("X", "plain", 5), stock("X", "able", 5)]
    net = world([node("plain"), node("able", at=FAR, caps=(Capability.SHIP, cap))], skus, inv)
    d = route(net, order(line("1", "X", 1)))
    assert allocated_units(d) == {("1", "able"): 1}


def test_made_to_order_needs_no_stock_but_uses_capacity_and_skips_lead_time() -> None:
    mto = [sku("M", kind=SkuKind.MADE_TO_ORDER)]
    maker = node("maker", at=FAR, caps=(Capability.SHIP, Capability.MADE_TO_ORDER),
                 processing=10, capacity=2)
    net = world([maker], mto, [])
    d = route(net, order(line("1", "M", 3)))
    # Lead time 10 is quoted separately: only transit (3 days) counts against the promise.
    assert allocated_units(d) == {("1", "maker"): 2}
    assert reasons(d) == {"1": [(1, Reason.CAPACITY)]}
    assert d.shipments[0].ship_date_offset_days == 10
    # A standard SKU at the same node fails the promise: 10 + 3 > 5.
    std = world([node("maker", at=FAR, processing=10)], [sku("A")], [stock("A", "maker", 5)])
    assert reasons(route(std, order(line("1", "A", 1))))["1"][0][1] is Reason.SLA_UNMET


def test_next_day_promise_counts_processing_days() -> None:
    net = world([node("slow", processing=1), node("fast", at=FAR)], [sku("A")],
                [stock("A", "slow", 5), stock("A", "fast", 5)])
    d = route(net, order(line("1", "A", 1), level="next_day"))
    assert allocated_units(d) == {("1", "fast"): 1}  # slow: 1 + 1 > 1


def test_capacity_is_shared_across_lines_and_reason_is_capacity() -> None:
    net = world([node("n", capacity=3)], [sku("A"), sku("B")],
                [stock("A", "n", 5), stock("B", "n", 5)])
    d = route(net, order(line("1", "A", 2), line("2", "B", 2)))
    assert sum(allocated_units(d).values()) == 3
    assert [r for parts in reasons(d).values() for _, r in parts] == [Reason.CAPACITY]


def test_unknown_sku() -> None:
    net = world([node("n")], [sku("A")], [stock("A", "n", 5)])
    d = route(net, order(line("1", "A", 1), line("2", "ZZZ", 2)))
    assert reasons(d) == {"2": [(2, Reason.UNKNOWN_SKU)]}
    assert d.status is Status.PARTIAL
    assert d.cost.unfilled_penalty == pytest.approx(200.0)


# ------------------------------------------------------------------ split policies


def test_ship_complete_picks_the_one_node_that_has_everything() -> None:
    net = world([node("near"), node("far", at=FAR)], [sku("A"), sku("B")],
                [stock("A", "near", 5), stock("A", "far", 5), stock("B", "far", 5)])
    d = route(net, order(line("1", "A", 1), line("2", "B", 1), policy=SplitPolicy.SHIP_COMPLETE))
    assert {s.node_id for s in d.shipments} == {"far"}
    # far, 2 kg: 10 + 4 + 2 + 0.5 * 2 = 17.
    assert d.cost.total == pytest.approx(17.0)
    assert d.status is Status.ROUTED


def test_ship_complete_fills_even_when_the_penalty_is_cheaper() -> None:
    net = world([node("far", at=FAR)], [sku("A")], [stock("A", "far", 5)], unfilled_penalty=1.0)
    d = route(net, order(line("1", "A", 1), policy=SplitPolicy.SHIP_COMPLETE))
    assert d.status is Status.ROUTED


def test_ship_complete_without_a_single_node_allocates_nothing() -> None:
    net = world([node("near"), node("far", at=FAR)], [sku("A"), sku("B")],
                [stock("A", "near", 5), stock("B", "far", 5)])
    d = route(net, order(line("1", "A", 1), line("2", "B", 2), policy=SplitPolicy.SHIP_COMPLETE))
    assert d.status is Status.UNROUTABLE
    assert d.shipments == ()
    assert reasons(d) == {"1": [(1, Reason.POLICY)], "2": [(2, Reason.POLICY)]}
    assert d.cost.total == pytest.approx(300.0)


def test_fill_or_kill_all_or_nothing_with_each_units_reason() -> None:
    net = world([node("near"), node("far", at=FAR)], [sku("A"), sku("B")],
                [stock("A", "near", 2), stock("A", "far", 2), stock("B", "far", 1)])
    ok = route(net, order(line("1", "A", 4), line("2", "B", 1), policy=SplitPolicy.FILL_OR_KILL))
    assert ok.status is Status.ROUTED
    assert sum(allocated_units(ok).values()) == 5
    short = route(net, order(line("1", "A", 4), line("2", "B", 2),
                             policy=SplitPolicy.FILL_OR_KILL))
    assert short.status is Status.UNROUTABLE
    assert short.shipments == ()
    assert reasons(short) == {"1": [(4, Reason.POLICY)],
                              "2": [(1, Reason.OUT_OF_STOCK), (1, Reason.POLICY)]}
    capped = route(net, order(line("1", "A", 4), policy=SplitPolicy.FILL_OR_KILL,
                              max_shipments=1))
    assert capped.status is Status.UNROUTABLE
    # The most one node could give is 2; the other 2 had stock elsewhere: POLICY too.
    assert reasons(capped) == {"1": [(2, Reason.POLICY), (2, Reason.POLICY)]}


# ------------------------------------------------------------------ other groups


def test_digital_lines_go_to_the_digital_node_without_shipping() -> None:
    dig = node("dig", kind=NodeKind.DIGITAL, caps=(), capacity=3, handling=0.2, pick=0.1)
    net = world([node("n"), dig], [sku("A"), sku("E", kind=SkuKind.DIGITAL, weight=0.0)],
                [stock("A", "n", 5)])
    d = route(net, order(line("1", "E", 4, Fulfillment.DIGITAL), line("2", "A", 1)))
    digital = [s for s in d.shipments if s.fulfillment is Fulfillment.DIGITAL]
    assert len(digital) == 1
    assert digital[0].ship_cost == 0.0
    assert digital[0].handling_cost == pytest.approx(0.2 + 0.1 * 3)
    assert reasons(d) == {"1": [(1, Reason.CAPACITY)]}
    with pytest.raises(InvalidArgument):
        route(net, order(line("1", "A", 1, Fulfillment.DIGITAL)))
    no_node = world([node("n")], [sku("E", kind=SkuKind.DIGITAL)], [])
    assert reasons(route(no_node, order(line("1", "E", 1))))["1"][0][1] is \
        Reason.NO_ELIGIBLE_NODE


def test_pickup_fills_from_the_store_and_ships_the_shortfall_to_it() -> None:
    store = node("s", kind=NodeKind.STORE, at=FAR,
                 caps=(Capability.PICKUP, Capability.SHIP_TO_STORE), handling=1.0, pick=0.25)
    net = world([store, node("dc", at=FAR)], [sku("A")],
                [stock("A", "s", 2), stock("A", "dc", 5)])
    d = route(net, order(line("1", "A", 3, Fulfillment.PICKUP, store="s")))
    kinds = {(s.fulfillment, s.node_id): s for s in d.shipments}
    pick = kinds[(Fulfillment.PICKUP, "s")]
    assert (pick.lines[0].qty, pick.ship_cost, pick.handling_cost) == (2, 0.0, 1.5)
    ship = kinds[(Fulfillment.SHIP_TO_STORE, "dc")]
    # dc is at the store: zone 2, 5 + 1 + 2 + 0.5 = 8.5.
    assert ship.destination == "store:s"
    assert ship.zone == 2
    assert d.cost.total == pytest.approx(1.5 + 8.5)
    assert d.status is Status.ROUTED
    no_sts = world([store, node("dc", at=FAR)], [sku("A")],
                   [stock("A", "s", 2), stock("A", "dc", 5)], pickup_ship_to_store=False)
    d = route(no_sts, order(line("1", "A", 3, Fulfillment.PICKUP, store="s")))
    assert reasons(d) == {"1": [(1, Reason.OUT_OF_STOCK)]}


# ------------------------------------------------------------------ backorders


def test_backorder_takes_the_earliest_covering_supply() -> None:
    supply = (SupplyRow(sku="A", node_id="near", qty=2, available_date=TODAY + dt.timedelta(5)),
              SupplyRow(sku="A", node_id="near", qty=5, available_date=TODAY + dt.timedelta(9)),
              SupplyRow(sku="A", node_id="far", qty=4, available_date=TODAY + dt.timedelta(7)))
    net = world([node("near"), node("far", at=FAR)], [sku("A")], [stock("A", "near", 1)],
                supply=supply)
    d = route(net, order(line("1", "A", 4), backorder=True))
    # 1 now from near; 3 left: near covers them on day 9, far on day 7 -> far.
    assert allocated_units(d) == {("1", "near"): 1}
    (b,) = d.backorders
    assert (b.node_id, b.qty, b.available_date) == ("far", 3, TODAY + dt.timedelta(7))
    assert d.status is Status.BACKORDERED
    assert d.unfilled == ()
    assert d.cost.unfilled_penalty == 0.0  # backorders are not priced


def test_backorder_covering_the_most_when_none_covers_all() -> None:
    supply = (SupplyRow(sku="A", node_id="near", qty=2, available_date=TODAY + dt.timedelta(5)),)
    net = world([node("near")], [sku("A")], [], supply=supply)
    d = route(net, order(line("1", "A", 5), backorder=True))
    assert [(b.qty, b.node_id) for b in d.backorders] == [(2, "near")]
    assert reasons(d) == {"1": [(3, Reason.OUT_OF_STOCK)]}
    assert d.status is Status.PARTIAL


def test_ship_complete_backorders_everything_at_one_node() -> None:
    supply = (SupplyRow(sku="B", node_id="far", qty=3, available_date=TODAY + dt.timedelta(4)),)
    net = world([node("near"), node("far", at=FAR)], [sku("A"), sku("B")],
                [stock("A", "near", 5), stock("A", "far", 5)], supply=supply)
    d = route(net, order(line("1", "A", 1), line("2", "B", 2), policy=SplitPolicy.SHIP_COMPLETE,
                         backorder=True))
    assert d.status is Status.BACKORDERED
    assert d.shipments == ()
    assert {(b.line_id, b.qty, b.node_id, b.available_date) for b in d.backorders} == {
        ("1", 1, "far", TODAY + dt.timedelta(4)), ("2", 2, "far", TODAY + dt.timedelta(4))}


# ------------------------------------------------------------------ objective weights


def test_non_cost_weights_are_reported_as_other_terms() -> None:
    net = world([node("near", priority=4), node("far", at=FAR, priority=0, capacity=10)],
                [sku("A")], [stock("A", "near", 5), stock("A", "far", 5)])
    rs = net.rules.rulesets["default"]
    weights = Weights(cost=1.0, distance_per_km=0.0, priority=10.0, capacity_balance=5.0)
    rules = msgspec.structs.replace(net.rules, rulesets={
        "default": msgspec.structs.replace(rs, weights=weights)})
    net = msgspec.structs.replace(net, rules=rules)
    d = route(net, order(line("1", "A", 2)))
    # near: 5 + 2 + 2 + 1 = 10 money, + 10 * 4 priority + 5 * 2/100 = 50.1.
    # far: 10 + 4 + 2 + 1 = 17 money, + 0 + 5 * 2/10 = 18.
    assert allocated_units(d) == {("1", "far"): 2}
    assert d.cost.other_terms == pytest.approx(1.0)
    assert d.cost.total == pytest.approx(18.0)
    check_totals(d)
