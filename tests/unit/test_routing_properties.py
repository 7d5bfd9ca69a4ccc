"""Issue acceptance: properties of the engine's decisions on random networks and orders.

Networks come from two fixed, seeded pools (engines are built once per network and reused,
so hypothesis spends its examples on orders): small networks (3-15 nodes), where every
decision is also compared with the slow twin, and mid-sized ones (40-150 nodes) for the
invariants. Orders are drawn by hypothesis: 1-10 lines, every fulfilment, every split policy,
with and without backorders.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from naive import (
    atp_table,
    destination_point,
    group_nodes,
    haversine_km,
    naive_route,
    require_engine,
    resolve_ruleset,
    rule_failed,
    zone_index,
)
from random_networks import RULESET, TODAY, NetworkShape, orders, random_network

from omniroute.config import ANY, Capability, Network, NodeKind, SkuKind, Weights
from omniroute.engine.model import Decision, Fulfillment, Order, SplitPolicy, Status

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    max_examples=80)
COST_REL = 1e-6


def _pool_shape(rng: random.Random, n_nodes: int) -> NetworkShape:
    return NetworkShape(
        n_nodes=n_nodes, n_skus=rng.randint(3, 10), with_digital=rng.random() < 0.7,
        ship_from_store=rng.random() < 0.85, pickup_ship_to_store=rng.random() < 0.6,
        safety_stock=rng.random() < 0.3, channel_restrictions=rng.random() < 0.3,
        max_shipments=rng.randint(1, 4), split_penalty=rng.choice((0.0, 2.5, 8.0)),
        unfilled_penalty=rng.choice((12.0, 40.0, 90.0, 90.0)),
        stock_density=rng.choice((0.4, 0.6, 0.9)) if n_nodes < 20 else rng.choice((0.05, 0.1)),
        max_stock=rng.choice((3, 6, 10)), disabled_fraction=rng.choice((0.0, 0.1)),
        tight_capacity_fraction=rng.choice((0.0, 0.15, 0.4)))


def _pool(first_seed: int, sizes: list[int]) -> list[tuple[int, Network]]:
    out = []
    for k, n_nodes in enumerate(sizes):
        seed = first_seed + k
        out.append((seed, random_network(seed, _pool_shape(random.Random(seed), n_nodes))))
    return out


SMALL = _pool(7100, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 8, 10, 12])
MID = _pool(7200, [40, 60, 90, 150])


def _weighted(seed: int, network: Network) -> tuple[int, Network]:
    """The same network under a ruleset that weighs every objective term."""
    rng = random.Random(seed)
    ruleset = network.rules.rulesets[RULESET]
    weights = Weights(cost=rng.uniform(0.5, 2.0), distance_per_km=rng.uniform(0.0, 0.01),
                      priority=rng.uniform(0.0, 1.0), capacity_balance=rng.uniform(0.0, 5.0))
    rules = msgspec.structs.replace(network.rules, rulesets={
        RULESET: msgspec.structs.replace(ruleset, weights=weights)})
    return seed + 1000, msgspec.structs.replace(network, rules=rules)


WEIGHTED = [_weighted(seed, network) for seed, network in SMALL[::2]]


class Engines:
    """Engines built on first use, one per pooled network."""

    def __init__(self, engine_cls: Any) -> None:
        self.engine_cls = engine_cls
        self.built: dict[int, Any] = {}

    def route(self, seed: int, network: Network, order: Order) -> Decision:
        if seed not in self.built:
            engine = self.engine_cls.from_network(network, today=TODAY)
            engine.warm_up()
            self.built[seed] = engine
        decision: Decision = self.built[seed].route(order)
        return decision


@pytest.fixture(scope="module")
def engines() -> Engines:
    return Engines(require_engine())


POLICIES = (SplitPolicy.ALLOW_SPLIT, SplitPolicy.ALLOW_SPLIT, SplitPolicy.SHIP_COMPLETE,
            SplitPolicy.FILL_OR_KILL)


def case_strategy(pool: list[tuple[int, Network]], *, max_lines: int, ship_only: bool,
                  backorder: bool) -> st.SearchStrategy[tuple[int, Network, Order]]:
    @st.composite
    def draw_case(draw: st.DrawFn) -> tuple[int, Network, Order]:
        seed, network = draw(st.sampled_from(pool))
        # ALLOW_SPLIT twice as often as each strict policy.
        order = draw(orders(network, max_lines=max_lines, ship_only=ship_only,
                            backorder=backorder, policies=POLICIES))
        return seed, network, order
    return draw_case()


SMALL_SHIP = case_strategy(SMALL, max_lines=3, ship_only=True, backorder=False)
SMALL_MIXED = case_strategy(SMALL, max_lines=4, ship_only=False, backorder=True)
SMALL_WEIGHTED = case_strategy(WEIGHTED, max_lines=3, ship_only=False, backorder=False)
ANY_CASE = st.one_of(case_strategy(SMALL, max_lines=6, ship_only=False, backorder=True),
                     case_strategy(MID, max_lines=10, ship_only=False, backorder=True),
                     case_strategy(MID, max_lines=10, ship_only=True, backorder=False))


def where(seed: int, order: Order, decision: Decision) -> str:
    return f"network seed {seed}, order {order}, decision {decision}"


# ------------------------------------------------------------------ against the slow twin


def assert_same_as_twin(engines: Engines, seed: int, network: Network, order: Order) -> None:
    got = engines.route(seed, network, order)
    want = naive_route(network, order, today=TODAY)
    kinds = "+".join(sorted({line.fulfillment.name for line in order.lines}))
    event(f"{order.split_policy.name} {kinds} -> {want.status.name}, "
          f"{len(want.shipments)} shipments")
    assert got.cost.total == pytest.approx(want.cost.total, rel=COST_REL, abs=1e-9), (
        f"engine cost {got.cost.total} vs twin {want.cost.total}\n"
        f"twin: {want}\n{where(seed, order, got)}")
    assert got.status is want.status, (
        f"engine status {got.status.name} vs twin {want.status.name}\n"
        f"twin: {want}\n{where(seed, order, got)}")


@SETTINGS
@given(SMALL_SHIP)
def test_same_cost_as_twin_on_small_ship_orders(engines: Engines,
                                                case: tuple[int, Network, Order]) -> None:
    assert_same_as_twin(engines, *case)


@SETTINGS
@given(SMALL_MIXED)
def test_same_cost_as_twin_on_small_mixed_orders(engines: Engines,
                                                 case: tuple[int, Network, Order]) -> None:
    """Digital, pickup and ship-to-store lines and backorders too."""
    assert_same_as_twin(engines, *case)


@SETTINGS
@given(SMALL_WEIGHTED)
def test_same_cost_as_twin_with_every_objective_weight(
        engines: Engines, case: tuple[int, Network, Order]) -> None:
    """Distance, priority and capacity-balance terms weighted in, money weighted != 1."""
    assert_same_as_twin(engines, *case)
    seed, network, order = case
    got = engines.route(seed, network, order)
    want = naive_route(network, order, today=TODAY)
    assert got.cost.other_terms == pytest.approx(want.cost.other_terms, rel=COST_REL, abs=1e-9)


# ------------------------------------------------------------------ invariants


def shipped_units(decision: Decision) -> dict[tuple[str, str], int]:
    """Units per (sku, node) over every shipment (all fulfilments)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for shipment in decision.shipments:
        for line in shipment.lines:
            out[(line.sku, shipment.node_id)] += line.qty
    return out


def check_atp(network: Network, order: Order, decision: Decision) -> None:
    _, ruleset = resolve_ruleset(network, order)
    atp = atp_table(network, ruleset, order.channel)
    index = {node.node_id: i for i, node in enumerate(network.nodes)}
    skus = {sku.sku: sku for sku in network.skus}
    for (sku_id, node_id), qty in shipped_units(decision).items():
        if skus[sku_id].kind in (SkuKind.MADE_TO_ORDER, SkuKind.DIGITAL):
            continue
        assert qty <= atp.get((sku_id, index[node_id]), 0), (sku_id, node_id, qty)


def check_capacity(network: Network, order: Order, decision: Decision) -> None:
    del order
    per_node: dict[str, int] = defaultdict(int)
    for (_, node_id), qty in shipped_units(decision).items():
        per_node[node_id] += qty
    capacity = {node.node_id: node.daily_capacity_units for node in network.nodes}
    for node_id, qty in per_node.items():
        assert qty <= capacity[node_id], (node_id, qty)


def check_ship_complete(network: Network, order: Order, decision: Decision) -> None:
    del network
    if order.split_policy is not SplitPolicy.SHIP_COMPLETE:
        return
    for destination, nodes in group_nodes(decision).items():
        assert len(nodes) == 1, (destination, nodes)
    shipped = {line.line_id for line in order.lines
               if line.fulfillment in (Fulfillment.SHIP, Fulfillment.SHIP_TO_STORE)}
    if any(u.line_id in shipped for u in decision.unfilled):
        assert decision.shipments == (), "SHIP_COMPLETE left shipped units but allocated some"


def check_fill_or_kill(network: Network, order: Order, decision: Decision) -> None:
    del network
    if order.split_policy is not SplitPolicy.FILL_OR_KILL:
        return
    if decision.status is Status.ROUTED:
        assert decision.unfilled == ()
        assert decision.backorders == ()
        assert sum(line.qty for s in decision.shipments for line in s.lines) == sum(
            line.qty for line in order.lines)
    else:
        assert decision.status is Status.UNROUTABLE
        assert decision.shipments == ()
        assert decision.backorders == ()


def _point(network: Network, order: Order, destination: str) -> tuple[float, float]:
    if destination == "customer":
        return destination_point(network, order)
    assert destination.startswith("store:"), destination
    store = next(n for n in network.nodes if n.node_id == destination.removeprefix("store:"))
    return store.lat, store.lon


def check_eligibility_and_promise(network: Network, order: Order, decision: Decision) -> None:
    """Every shipment's node passes rules 1-5 (kind, channel, enabled, capability,
    ship-from-store, promise) for every line on it; pickups at their store; digital at the
    digital node. Rule 5 is the promise: processing + transit <= promise days, the lead time
    of made-to-order SKUs excluded."""
    nodes = {node.node_id: node for node in network.nodes}
    lines = {line.line_id: line for line in order.lines}
    skus = {sku.sku: sku for sku in network.skus}
    carrier = network.rules.carrier
    promise = carrier.promise_days[order.service_level]
    for shipment in decision.shipments:
        node = nodes[shipment.node_id]
        serves = ANY in node.channels or order.channel in node.channels
        if shipment.fulfillment is Fulfillment.DIGITAL:
            assert node.kind is NodeKind.DIGITAL
            assert node.enabled
            assert serves
            continue
        if shipment.fulfillment is Fulfillment.PICKUP:
            assert node.kind is NodeKind.STORE
            assert node.enabled
            assert serves
            assert Capability.PICKUP in node.capabilities
            assert all(lines[s.line_id].store_id == node.node_id for s in shipment.lines)
            continue
        point = _point(network, order, shipment.destination)
        distance = haversine_km(node.lat, node.lon, *point)
        transit = carrier.transit_days[order.service_level][zone_index(network, distance)]
        assert shipment.transit_days == transit
        for s in shipment.lines:
            failed = rule_failed(network, order, node.node_id, s.sku, point, today=TODAY)
            assert failed == 0, f"{node.node_id} fails rule {failed} for line {s.line_id}"
            lead = 0 if skus[s.sku].kind is SkuKind.MADE_TO_ORDER else node.processing_days
            assert lead + transit <= promise


def check_cost_terms(network: Network, order: Order, decision: Decision) -> None:
    """Each term recomputes from the shipments and the rate card, and they sum to the total."""
    _, ruleset = resolve_ruleset(network, order)
    carrier = network.rules.carrier
    table = carrier.rates.get(order.service_level) or carrier.rates[ANY]
    nodes = {node.node_id: node for node in network.nodes}
    skus = {sku.sku: sku for sku in network.skus}
    cost = decision.cost
    for shipment in decision.shipments:
        node = nodes[shipment.node_id]
        units = sum(s.qty for s in shipment.lines)
        assert shipment.handling_cost == pytest.approx(node.handling_cost + node.pick_cost * units)
        if shipment.fulfillment in (Fulfillment.DIGITAL, Fulfillment.PICKUP):
            assert shipment.ship_cost == 0.0
            continue
        point = _point(network, order, shipment.destination)
        distance = haversine_km(node.lat, node.lon, *point)
        assert shipment.distance_km == pytest.approx(distance, rel=1e-9, abs=1e-6)
        zi = zone_index(network, distance)
        assert shipment.zone == carrier.zones[zi].zone
        weight = sum(skus[s.sku].weight_kg * s.qty for s in shipment.lines)
        assert shipment.weight_kg == pytest.approx(weight)
        assert shipment.ship_cost == pytest.approx(table.base[zi] + table.per_kg[zi] * weight)
    assert cost.ship_cost == pytest.approx(sum(s.ship_cost for s in decision.shipments))
    assert cost.handling_cost == pytest.approx(sum(s.handling_cost for s in decision.shipments))
    unfilled = sum(u.qty for u in decision.unfilled)
    assert cost.unfilled_penalty == pytest.approx(ruleset.unfilled_penalty * unfilled)
    extra = sum(len(nodes_used) - 1 for nodes_used in group_nodes(decision).values())
    assert cost.split_penalty == pytest.approx(ruleset.split_penalty * extra)
    # The pooled rulesets are pure cost (weight 1 on money, 0 elsewhere).
    assert cost.other_terms == pytest.approx(0.0, abs=1e-9)
    assert cost.total == pytest.approx(cost.ship_cost + cost.handling_cost + cost.split_penalty
                                       + cost.unfilled_penalty + cost.other_terms)
    assert not math.isnan(decision.lower_bound)
    assert decision.lower_bound <= cost.total * (1 + 1e-9) + 1e-9


def check_units_and_limits(network: Network, order: Order, decision: Decision) -> None:
    """Every unit of every line is allocated, backordered or unfilled, exactly once; each
    shipped group uses at most max_shipments nodes; the status matches the units."""
    _, ruleset = resolve_ruleset(network, order)
    limit = ruleset.max_shipments if order.max_shipments == 0 else min(
        order.max_shipments, ruleset.max_shipments)
    accounted: dict[str, int] = defaultdict(int)
    for shipment in decision.shipments:
        for s in shipment.lines:
            accounted[s.line_id] += s.qty
    for b in decision.backorders:
        accounted[b.line_id] += b.qty
    for u in decision.unfilled:
        accounted[u.line_id] += u.qty
    assert dict(accounted) == {line.line_id: line.qty for line in order.lines}
    for destination, used in group_nodes(decision).items():
        assert len(used) <= limit, (destination, used, limit)
    allocated = sum(s.qty for sh in decision.shipments for s in sh.lines)
    backordered = sum(b.qty for b in decision.backorders)
    unfilled = sum(u.qty for u in decision.unfilled)
    expected = (Status.ROUTED if unfilled == 0 and backordered == 0 else
                Status.BACKORDERED if unfilled == 0 else
                Status.PARTIAL if allocated + backordered > 0 else Status.UNROUTABLE)
    assert decision.status is expected


Check = Callable[[Network, Order, Decision], None]


@pytest.mark.parametrize("check", [
    check_atp, check_capacity, check_ship_complete, check_fill_or_kill,
    check_eligibility_and_promise, check_cost_terms, check_units_and_limits,
], ids=lambda check: check.__name__.removeprefix("check_"))
@SETTINGS
@given(ANY_CASE)
def test_decision_invariant(engines: Engines, check: Check,
                            case: tuple[int, Network, Order]) -> None:
    seed, network, order = case
    decision = engines.route(seed, network, order)
    try:
        check(network, order, decision)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{where(seed, order, decision)}") from None
