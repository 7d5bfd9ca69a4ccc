"""The compiled bytes path (engine/wire.py) against its slow twin, the Python path
(`api.convert` + `Engine`): equal responses on random orders of every kind, declines exactly
where the Python path must answer (explain, reserve, bad input), the same batch responses
with Python-routed orders spliced in, and a swapped state followed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniroute.api.convert import decision_to_proto, order_from_proto
from omniroute.api.loaded import Loaded
from omniroute.api.router_servicer import RouterServicer
from omniroute.config import Network, load_network
from omniroute.engine import Engine, WireRouter, _wire
from omniroute.engine import _kernels as kern
from omniroute.engine._numba import kernels_holding_gil
from omniroute.engine.wire import string_table
from omniroute.errors import OmnirouteError
from omniroute.sim import embedded_network_dir
from omniroute.sim.demo_network import PREORDER_SKU
from omniroute.state import KIND_STORE
from omniroute.v1 import router_pb2, types_pb2


@dataclasses.dataclass
class World:
    network: Network
    engine: Engine
    wire: WireRouter
    servicer: RouterServicer
    skus: list[str]
    stores: list[str]
    others: list[str]
    levels: list[str]
    channels: list[str]
    postal: list[str]


@pytest.fixture(scope="module")
def world() -> World:
    network = load_network(embedded_network_dir())
    engine = Engine.from_network(network, today=dt.date(2026, 6, 1))
    engine.warm_up()
    loaded = Loaded()
    loaded.fill(engine, network)
    state = engine.state
    kinds = state.nodes.kind.tolist()
    node_ids = state.catalog.node_ids
    return World(
        network=network, engine=engine, wire=WireRouter(engine),
        servicer=RouterServicer(loaded), skus=list(state.catalog.sku_ids),
        stores=[n for n, k in zip(node_ids, kinds, strict=True) if k == KIND_STORE],
        others=[n for n, k in zip(node_ids, kinds, strict=True) if k != KIND_STORE],
        levels=sorted(state.carrier.level_index), channels=sorted(state.catalog.channel_bit),
        postal=list(state.catalog.postal_codes))


def python_response(world: World, raw: bytes) -> router_pb2.RouteResponse | None:
    """The Python path's answer, None when it rejects the request."""
    try:
        order = order_from_proto(router_pb2.RouteRequest.FromString(raw))
        return decision_to_proto(world.engine.route(order), currency="USD")
    except OmnirouteError:
        return None


@st.composite
def requests(draw: st.DrawFn, world: World) -> tuple[router_pb2.RouteRequest, bool]:
    """A RouteRequest over the demo network and whether the Python path must answer it
    (explain, reserve, hold), whatever else it holds."""
    ascii_id = st.text(alphabet="abcXYZ019-_", min_size=1, max_size=6)
    request = router_pb2.RouteRequest(
        order_id=draw(st.one_of(ascii_id, st.just(""))),
        channel=draw(st.sampled_from([*world.channels, "kiosk", ""])),
        service_level=draw(st.sampled_from([*world.levels, "teleport"])),
        ruleset=draw(st.sampled_from(["", *sorted(world.network.rules.rulesets), "nope"])),
        split_policy=draw(st.integers(0, 3)),  # type: ignore[arg-type]
        max_shipments=draw(st.integers(-1, 4)),
        allow_backorder=draw(st.booleans()))
    where = draw(st.sampled_from(["postal", "prefix", "point", "bad-point", "none", "unknown"]))
    if where == "postal":
        request.ship_to.postal_code = draw(st.sampled_from(world.postal))
    elif where == "prefix":  # a longer code than any area's: resolved by its prefix
        request.ship_to.postal_code = draw(st.sampled_from(world.postal)) + "42"
    elif where == "unknown":
        request.ship_to.postal_code = "ZZZ"
    elif where in ("point", "bad-point"):
        request.ship_to.point.lat = draw(st.floats(25.0, 48.0))
        request.ship_to.point.lon = draw(st.floats(-124.0, -67.0))
        if where == "bad-point":
            request.ship_to.point.lat = 91.0
    line_ids = draw(st.lists(st.sampled_from(["1", "2", "3", "4", "5", "6", ""]), min_size=0,
                             max_size=6))
    for line_id in line_ids:
        line = request.lines.add(
            line_id=line_id,
            sku=draw(st.sampled_from([*world.skus, PREORDER_SKU, "NO-SUCH-SKU"])),
            qty=draw(st.integers(-1, 30)),
            fulfillment=draw(st.sampled_from([0, 1, 1, 2, 3, 4])))  # type: ignore[arg-type]
        if line.fulfillment in (types_pb2.FULFILLMENT_PICKUP, types_pb2.FULFILLMENT_SHIP_TO_STORE):
            line.store_id = draw(st.sampled_from([*world.stores, world.others[0], ""]))
    python_only = False
    if draw(st.booleans()) and draw(st.booleans()):
        request.explain = True
        python_only = True
    if draw(st.integers(0, 9)) == 0:
        request.reserve = True
        python_only = True
    return request, python_only


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wire_route_answers_as_the_python_path_or_declines(world: World, data: st.DataObject
                                                          ) -> None:
    request, python_only = data.draw(requests(world))
    raw = request.SerializeToString()
    expected = python_response(world, raw)
    routed = world.wire.route(raw)
    if python_only or expected is None:
        assert routed is None
        return
    # Every other request is routed here, and answered byte for byte as the Python path does.
    assert routed is not None, request
    encoded, status = routed
    assert router_pb2.RouteResponse.FromString(encoded) == expected
    assert encoded == expected.SerializeToString()
    assert status == types_pb2.RouteStatus.Name(expected.status).removeprefix("ROUTE_STATUS_")


def test_backorder_dates_and_large_orders_take_the_compiled_path(world: World) -> None:
    # A preorder promises a date (written by the kernel's own calendar), and 150 lines need
    # more than the first scratch arrays hold.
    request = router_pb2.RouteRequest(order_id="big", channel=world.channels[0],
                                      service_level=world.levels[0], allow_backorder=True)
    request.ship_to.postal_code = world.postal[0]
    request.lines.add(line_id="pre", sku=PREORDER_SKU, qty=3)
    for i in range(150):
        request.lines.add(line_id=f"l{i}", sku=world.skus[i % len(world.skus)], qty=1 + i % 3)
    raw = request.SerializeToString()
    expected = python_response(world, raw)
    assert expected is not None
    assert expected.backorders, "the demo's preorder SKU should be promised from supply"
    routed = world.wire.route(raw)
    assert routed is not None
    assert router_pb2.RouteResponse.FromString(routed[0]) == expected


def test_batch_splices_python_answers_into_request_order(world: World) -> None:
    rng = np.random.default_rng(7)
    batch = router_pb2.RouteBatchRequest()
    for o in range(300):
        order = batch.orders.add(order_id=f"o{o}", channel=world.channels[o % len(world.channels)],
                                 service_level=world.levels[0])
        order.ship_to.postal_code = world.postal[int(rng.integers(len(world.postal)))]
        for i in range(1 + o % 5):
            order.lines.add(line_id=str(i), sku=world.skus[int(rng.integers(len(world.skus)))],
                            qty=int(rng.integers(1, 4)))
    batch.orders[3].explain = True  # the Python path, with candidates
    batch.orders[10].lines[0].qty = 0  # rejected: the error names orders[10]
    batch.orders[11].max_shipments = -1  # rejected while reading the proto
    raw = batch.SerializeToString()
    wired = world.wire.route_batch(raw)
    assert wired is not None
    assert wired.declined == [3, 10, 11]
    got = router_pb2.RouteBatchResponse.FromString(world.servicer.route_batch_raw(raw, None))  # type: ignore[arg-type]
    expected = world.servicer.RouteBatch(batch, None)  # type: ignore[arg-type]
    assert got == expected
    # The metrics' counts: every routed order's status, the declined ones left out.
    assert wired.status_counts == Counter(
        types_pb2.RouteStatus.Name(r.response.status).removeprefix("ROUTE_STATUS_")
        for k, r in enumerate(expected.results) if k not in wired.declined)
    assert got.results[3].response.candidates
    assert got.results[10].error_message.startswith("orders[10].")
    assert got.results[11].error_message.startswith("orders[11].")


def test_batch_results_of_every_length_encode_as_the_python_path(world: World) -> None:
    """A batch result's lengths have two bytes set aside: a short result (under 128 bytes)
    moves its body back, a long one fits, a huge one (16 kB or more) moves it on, and all
    read back as the Python path's."""
    batch = router_pb2.RouteBatchRequest()
    short = batch.orders.add(order_id="s", channel=world.channels[0],
                             service_level=world.levels[0])
    short.ship_to.postal_code = world.postal[0]
    short.lines.add(line_id="1", sku="NO-SUCH-SKU", qty=1)  # unfilled: no shipment
    long = batch.orders.add(order_id="long-" + "x" * 40, channel=world.channels[0],
                            service_level=world.levels[0])
    long.ship_to.postal_code = world.postal[0]
    for i, sku in enumerate(world.skus[:6]):
        long.lines.add(line_id=str(i), sku=sku, qty=1)
    huge = batch.orders.add(order_id="huge", channel=world.channels[0],
                            service_level=world.levels[0])
    huge.ship_to.postal_code = world.postal[1]
    for i, sku in enumerate(world.skus):  # a length of three bytes: the body moves right
        huge.lines.add(line_id=f"line-{i:04d}-{'x' * 32}", sku=sku, qty=1)
    raw = batch.SerializeToString()
    wired = world.wire.route_batch(raw)
    assert wired is not None
    assert wired.declined == []
    sizes = [len(router_pb2.RouteBatchResponse.FromString(
        wired.encoded[lo:hi]).results[0].response.SerializeToString())
        for lo, hi in itertools.pairwise(wired.result_off)]
    assert sizes[0] < 128 <= sizes[1] < 16384 <= sizes[2]
    got = router_pb2.RouteBatchResponse.FromString(world.servicer.route_batch_raw(raw, None))  # type: ignore[arg-type]
    assert got == world.servicer.RouteBatch(batch, None)  # type: ignore[arg-type]
    assert wired.encoded == got.SerializeToString()


def test_state_slots_the_kernel_names_by_number_are_where_it_expects() -> None:
    names = [name for name, _, _ in _wire.STATE_SLOTS]
    assert len(kern.ROUTE_STATE_SLOTS) == _wire.ST_VERSION
    assert names[:_wire.ST_VERSION] == [name for name, _, _ in kern.ROUTE_STATE_SLOTS]
    # The numbers route_wire reads them by.
    assert [names[k] for k in (23, 24, 25, 28, 31, 34, 35, 38, 41, 44, 47, 50, 52, 55)] == [
        "version", "scalars", "sku_keys", "node_keys", "postal_keys", "postal_lengths",
        "chan_keys", "rs_keys", "level_keys", "chan_bit", "rs_params", "zone_number",
        "rs_names", "currency"]


def test_malformed_bytes_get_invalid_argument(world: World) -> None:
    from omniroute.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="request"):
        world.servicer.route_raw(b"\x0a\xff", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="request"):
        world.servicer.route_batch_raw(b"\x0a\x05ab", None)  # type: ignore[arg-type]


def test_a_swapped_state_is_followed(world: World) -> None:
    engine = world.engine
    before = engine.state
    request = router_pb2.RouteRequest(order_id="swap", channel=world.channels[0],
                                      service_level=world.levels[0])
    request.ship_to.postal_code = world.postal[0]
    request.lines.add(line_id="1", sku=world.skus[0], qty=2)
    raw = request.SerializeToString()
    inventory = before.inventory._replace(on_hand=np.zeros_like(before.inventory.on_hand))
    engine.use_state(before._replace(inventory=inventory))
    try:
        expected = python_response(world, raw)
        routed = world.wire.route(raw)
        assert routed is not None
        assert expected is not None
        assert router_pb2.RouteResponse.FromString(routed[0]) == expected
        assert not expected.shipments, "nothing on hand anywhere: nothing ships"
    finally:
        engine.use_state(before)


@settings(deadline=None)  # the first example compiles `find`
@given(ids=st.lists(st.text(min_size=0, max_size=8), unique=True, max_size=40),
       probes=st.lists(st.text(max_size=8), max_size=20))
def test_string_table_finds_what_a_dict_finds(ids: list[str], probes: list[str]) -> None:
    table = string_table(ids)
    index = {s: i for i, s in enumerate(ids)}
    for probe in [*ids, *probes]:
        raw = np.frombuffer(probe.encode(), np.uint8).copy()
        assert _wire.find(raw, table.keys, table.offsets, table.slots) == index.get(probe, -1)


def test_wire_field_numbers_are_the_protos() -> None:
    # (message, field, number) for every field the kernels read or write.
    used = {
        router_pb2.RouteRequest: {"order_id": 1, "channel": 2, "ship_to": 3, "service_level": 4,
                                  "ruleset": 5, "split_policy": 6, "max_shipments": 7,
                                  "allow_backorder": 8, "reserve": 9, "hold": 10,
                                  "explain": 11, "lines": 12},
        router_pb2.OrderLine: {"line_id": 1, "sku": 2, "qty": 3, "fulfillment": 4,
                               "store_id": 5},
        types_pb2.ShipTo: {"postal_code": 1, "point": 2},
        types_pb2.GeoPoint: {"lat": 1, "lon": 2},
        router_pb2.RouteResponse: {"order_id": 1, "status": 2, "shipments": 3, "backorders": 4,
                                   "unfilled": 5, "cost": 6, "currency": 7,
                                   "inventory_version": 10, "ruleset": 11,
                                   "ruleset_version": 12, "optimal": 13, "lower_bound": 14},
        router_pb2.Shipment: {"node_id": 1, "fulfillment": 2, "destination": 3, "lines": 4,
                              "zone": 5, "distance_km": 6, "transit_days": 7,
                              "processing_days": 8, "weight_kg": 9, "ship_cost": 10,
                              "handling_cost": 11},
        router_pb2.ShipmentLine: {"line_id": 1, "sku": 2, "qty": 3},
        router_pb2.Backorder: {"line_id": 1, "sku": 2, "qty": 3, "node_id": 4,
                               "available_date": 5},
        router_pb2.Unfilled: {"line_id": 1, "sku": 2, "qty": 3, "reason": 4},
        router_pb2.CostTotals: {"ship_cost": 1, "handling_cost": 2, "split_penalty": 3,
                                "unfilled_penalty": 4, "other_terms": 5, "total": 6},
        router_pb2.RouteBatchRequest: {"orders": 1},
        router_pb2.RouteBatchResult: {"response": 1},
        router_pb2.RouteBatchResponse: {"results": 1},
    }
    for message, fields in used.items():
        numbers = {f.name: f.number for f in message.DESCRIPTOR.fields}
        assert {name: numbers[name] for name in fields} == fields, message.DESCRIPTOR.name
    # Each message's fields beyond these are ones the kernels decline (requests) or never set
    # (responses: reservation_id, hold_expires_at and candidates come from the Python path).
    assert {f.name for f in router_pb2.RouteResponse.DESCRIPTOR.fields} - set(
        used[router_pb2.RouteResponse]) == {"reservation_id", "hold_expires_at", "candidates"}


def test_only_the_unary_entry_holds_the_gil() -> None:
    """Batches and every other kernel let the GIL go while they run (DESIGN 4); one unary
    Route keeps it, because taking it back cost more than the call (`_numba.FLAGS`)."""
    assert kernels_holding_gil() == {"route_wire_unary"}
