"""The slow twin against the MILP oracle on small random networks and orders.

Two independent implementations of docs/routing.md (a subset search with a min-cost flow
inside, and a MILP over NumPy eligibility masks) must agree on the optimal cost of every
customer-group order, for every split policy, with pure-cost and with mixed objective weights.
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st
from naive import allocated_units, group_nodes, naive_route
from oracle import oracle_route
from random_networks import TODAY, network_and_orders

from omniroute.config import Network, SkuKind, Weights
from omniroute.engine.model import Order, SplitPolicy, Status

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same_cost(network: Network, order: Order) -> int:
    """Compare twin and oracle on one order; return the twin's customer shipments."""
    decision = naive_route(network, order, today=TODAY)
    oracle = oracle_route(network, order, today=TODAY)
    shipments = len(group_nodes(decision).get("customer", ()))
    event(f"{order.split_policy.name} {decision.status.name} shipments={shipments}")
    assert decision.cost.total == pytest.approx(oracle.objective, rel=1e-9, abs=1e-9), (
        f"twin {decision.cost.total} vs oracle {oracle.objective}: {order}")
    # Whatever allocation either picked, it must satisfy the policy.
    if not oracle.feasible:
        assert decision.status in (Status.UNROUTABLE, Status.BACKORDERED)
    if order.split_policy is SplitPolicy.SHIP_COMPLETE:
        assert len(group_nodes(decision).get("customer", ())) <= 1
    if order.split_policy is not SplitPolicy.ALLOW_SPLIT:
        assert decision.status in (Status.ROUTED, Status.UNROUTABLE)
    # ATP: the twin never ships more of a SKU from a node than the oracle model allows.
    skus = {sku.sku: sku for sku in network.skus}
    sent: dict[tuple[str, str], int] = {}
    by_line = {line.line_id: line for line in order.lines}
    for (line_id, node_id), qty in allocated_units(decision).items():
        key = (by_line[line_id].sku, node_id)
        sent[key] = sent.get(key, 0) + qty
    for (sku_id, node_id), qty in sent.items():
        if skus[sku_id].kind is not SkuKind.MADE_TO_ORDER:
            stocked = sum(row.qty for row in network.inventory
                          if row.sku == sku_id and row.node_id == node_id)
            assert qty <= stocked
    return shipments


@settings(SETTINGS, max_examples=300)
@given(network_and_orders(n_orders=2, max_nodes=12, max_lines=4,
                          policies=[SplitPolicy.ALLOW_SPLIT]))
def test_twin_matches_oracle_allow_split(case: tuple[Network, list[Order]]) -> None:
    network, orders = case
    target(float(sum(assert_same_cost(network, order) for order in orders)),
           label="customer shipments")


@settings(SETTINGS, max_examples=150)
@given(network_and_orders(n_orders=2, max_nodes=10, max_lines=4,
                          policies=[SplitPolicy.SHIP_COMPLETE, SplitPolicy.FILL_OR_KILL]))
def test_twin_matches_oracle_strict_policies(case: tuple[Network, list[Order]]) -> None:
    network, orders = case
    target(float(sum(assert_same_cost(network, order) for order in orders)),
           label="customer shipments")


@settings(SETTINGS, max_examples=120)
@given(network_and_orders(n_orders=2, max_nodes=10, max_lines=3),
       st.floats(0.2, 3.0), st.floats(0.0, 0.02), st.floats(0.0, 2.0), st.floats(0.0, 20.0))
def test_twin_matches_oracle_with_every_objective_weight(
        case: tuple[Network, list[Order]], cost: float, per_km: float, priority: float,
        balance: float) -> None:
    network, orders = case
    ruleset = network.rules.rulesets["default"]
    weights = Weights(cost=cost, distance_per_km=per_km, priority=priority,
                      capacity_balance=balance)
    rules = msgspec.structs.replace(network.rules, rulesets={
        "default": msgspec.structs.replace(ruleset, weights=weights)})
    network = msgspec.structs.replace(network, rules=rules)
    target(float(sum(assert_same_cost(network, order) for order in orders)),
           label="customer shipments")
