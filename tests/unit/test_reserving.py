"""The reserve path in-process: two "workers" (engines with their own hold-book handles on one
state directory) race for the same units; the loser re-routes instead of overselling. Plus
expiry on a test clock and ruleset validation."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from omniroute.config import load_network
from omniroute.engine import Engine
from omniroute.engine.model import Order, OrderLine, ShipTo, Status
from omniroute.engine.reserving import Reservations, parse_ruleset
from omniroute.errors import FailedPrecondition, InvalidArgument, NotFound
from omniroute.sim import embedded_network_dir
from omniroute.state import EngineState
from omniroute.state.holds import HoldBook
from omniroute.state.stocked import mark_stocked

SKU = "TSHIRT-BLK-M"
NEAR, FAR = "DC-IL-JOLIET", "DC-NJ-EDISON"
T0 = 1_780_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def demo_state() -> EngineState:
    engine = Engine.from_network(load_network(embedded_network_dir()), today=dt.date(2026, 6, 1))
    engine.warm_up()
    state = engine.state
    on_hand = state.inventory.on_hand
    s = state.catalog.sku_index[SKU]
    on_hand[0, s, :] = 0
    on_hand[0, s, state.catalog.node_index[NEAR]] = 3
    on_hand[0, s, state.catalog.node_index[FAR]] = 3
    nodes = np.arange(on_hand.shape[2])
    mark_stocked(state.inventory.stocked, np.full_like(nodes, s), nodes, on_hand[0, s])
    return state


def worker(state: EngineState, state_dir: Path, clock: Clock) -> Reservations:
    """One worker's view: the shared on-hand, and the book's shared arrays in its state."""
    nodes = state.nodes
    book = HoldBook(state_dir, node_ids=list(state.catalog.node_ids), node_lon=nodes.lon_deg,
                    daily_capacity=nodes.daily_capacity_units, enabled=nodes.enabled,
                    sku_rows=len(state.catalog.sku_ids), clock=clock)
    engine = Engine(state._replace(
        inventory=state.inventory._replace(reserved=book.reserved),
        nodes=nodes._replace(enabled=book.enabled, daily_capacity_units=book.daily_capacity,
                             capacity_used_today=book.capacity_used)))
    ids = itertools.count(1)
    new_id: Callable[[], str] = lambda: f"{state_dir.name}-{next(ids)}"  # noqa: E731
    return Reservations(lambda: engine, book, default_hold_s=600.0, new_id=new_id)


def order(order_id: str, qty: int) -> Order:
    return Order(order_id=order_id, channel="web", ship_to=ShipTo(postal_code="60614"),
                 service_level="ground", lines=(OrderLine(line_id="1", sku=SKU, qty=qty),))


def nodes_of(decision_shipments: tuple[object, ...]) -> list[str]:
    return [s.node_id for s in decision_shipments]  # type: ignore[attr-defined]


def test_the_loser_of_a_race_re_routes_and_nobody_oversells(demo_state: EngineState,
                                                           tmp_path: Path) -> None:
    clock = Clock()
    a, b = worker(demo_state, tmp_path, clock), worker(demo_state, tmp_path, clock)
    dry = a._engine().route(order("a", 3))
    assert nodes_of(dry.shipments) == [NEAR]  # what A saw before B moved
    taken = b.reserve(order("b", 3))
    assert nodes_of(taken.decision.shipments) == [NEAR]
    # A commits its stale decision: the check under the lock fails, A routes again inside it.
    won = a.reserve(order("a", 3), decision=dry)
    assert won.reservation_id
    assert nodes_of(won.decision.shipments) == [FAR]
    s = demo_state.catalog.sku_index[SKU]
    reserved = a.book.reserved[s]
    assert reserved[demo_state.catalog.node_index[NEAR]] == 3
    assert reserved[demo_state.catalog.node_index[FAR]] == 3
    late = b.reserve(order("c", 1))
    assert late.decision.status == Status.UNROUTABLE
    assert not late.reservation_id
    # Released units are routable again, from either worker.
    b.release(won.reservation_id)
    again = b.reserve(order("d", 2))
    assert nodes_of(again.decision.shipments) == [FAR]


def test_holds_expire_on_time_and_answer_released(demo_state: EngineState,
                                                  tmp_path: Path) -> None:
    clock = Clock()
    w = worker(demo_state, tmp_path, clock)
    held = w.reserve(order("e", 2), hold_s=30.0)
    assert held.expires_at == pytest.approx(T0 + 30.0)
    clock.now += 29.0
    assert w.expire_due() == 0
    clock.now += 2.0
    assert w.expire_due() == 1
    s = demo_state.catalog.sku_index[SKU]
    assert int(w.book.reserved[s].sum()) == 0
    view = w.release(held.reservation_id)
    assert (view.held, view.released) == ([], ["1"])
    with pytest.raises(FailedPrecondition, match=r"line_ids\[0\]"):
        w.confirm(held.reservation_id, ["1"], sink=lambda seq, drops: "")
    with pytest.raises(NotFound, match="reservation_id"):
        w.release("nope")
    with pytest.raises(InvalidArgument, match="hold"):
        w.reserve(order("f", 1), hold_s=-1.0)


def test_confirm_sends_stock_drops_once_in_sequence(demo_state: EngineState,
                                                    tmp_path: Path) -> None:
    clock = Clock()
    w = worker(demo_state, tmp_path, clock)
    sent: list[tuple[int, list[tuple[str, str, int]]]] = []

    def sink(sequence: int, drops: list) -> str:  # type: ignore[type-arg]
        sent.append((sequence, [tuple(d) for d in drops]))
        return ""

    first = w.reserve(order("g", 1))
    second = w.reserve(order("h", 1))
    w.confirm(first.reservation_id, [], sink)
    w.confirm(first.reservation_id, [], sink)  # idempotent: nothing sent again
    w.confirm(second.reservation_id, ["1"], sink)
    assert sent == [(1, [(SKU, NEAR, 1)]), (2, [(SKU, NEAR, 1)])]
    s = demo_state.catalog.sku_index[SKU]
    assert int(w.book.reserved[s].sum()) == 0


def test_a_confirm_the_sidecar_never_took_is_sent_again(demo_state: EngineState,
                                                        tmp_path: Path) -> None:
    clock = Clock()
    w = worker(demo_state, tmp_path, clock)
    held = w.reserve(order("i", 1))

    def down(sequence: int, drops: list) -> str:  # type: ignore[type-arg]
        raise FailedPrecondition("sidecar down")

    with pytest.raises(FailedPrecondition):
        w.confirm(held.reservation_id, [], down)
    s = demo_state.catalog.sku_index[SKU]
    assert int(w.book.reserved[s].sum()) == 1  # still counted until the drop is acknowledged
    # A restarted worker (a new handle on the same files) finishes it.
    again = worker(demo_state, tmp_path, clock)
    sent: list[int] = []
    assert again.flush_confirms(lambda seq, drops: sent.append(seq) or "") == 1
    assert sent == [1]
    assert int(again.book.reserved[s].sum()) == 0
    assert again.release(held.reservation_id).confirmed == ["1"]


GOOD = """
version = 9
split_penalty = 1.0
unfilled_penalty = 50.0
max_shipments = 2
ship_from_store = false
pickup_ship_to_store = false
[weights]
cost = 1.0
distance_per_km = 0.0
priority = 0.0
capacity_balance = 0.0
[channel_node_kinds]
"*" = ["dc"]
[safety_stock."*"]
dc = 1
"""


@pytest.mark.parametrize(("body", "field"), [
    (GOOD.replace("cost = 1.0", 'cost = "cheap"'), "toml.weights.cost"),
    (GOOD.replace("max_shipments = 2", "max_shipments = 2\nsplit = 3"), "toml.split"),
    (GOOD.replace('"*" = ["dc"]', '"*" = ["warehouse"]'), "toml.channel_node_kinds.*"),
    (GOOD.replace("version = 9\n", ""), "toml.version"),
    ("version = [", "toml"),
])
def test_bad_rulesets_name_the_field(body: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        parse_ruleset(body)
    assert error.value.field == field


def test_a_good_ruleset_parses() -> None:
    ruleset = parse_ruleset(GOOD)
    assert ruleset.version == 9
    assert ruleset.safety_stock == {"*": {"dc": 1}}
    assert np.isclose(ruleset.weights.cost, 1.0)
