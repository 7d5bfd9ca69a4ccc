"""RouteBatch in-process (the servicer without a server): results come back in request order,
a bad order fails alone with a status naming its field, the good ones around it are routed as
`Route` would route them."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from omniroute.api.convert import decision_to_proto, order_to_proto
from omniroute.api.loaded import Loaded
from omniroute.api.router_servicer import RouterServicer
from omniroute.config import load_network
from omniroute.engine import Engine
from omniroute.sim import embedded_network_dir
from omniroute.sim.examples import pickup_order, seed_order, two_day_order
from omniroute.v1 import router_pb2


@pytest.fixture(scope="module")
def servicer_and_engine() -> tuple[RouterServicer, Engine]:
    network = load_network(embedded_network_dir())
    engine = Engine.from_network(network, today=dt.date(2026, 6, 1))
    engine.warm_up()
    loaded = Loaded()
    loaded.fill(engine, network)
    return RouterServicer(loaded), engine


def test_batch_results_in_order_and_bad_orders_fail_alone(
        servicer_and_engine: tuple[RouterServicer, Engine]) -> None:
    servicer, engine = servicer_and_engine
    good = [seed_order(), pickup_order(), two_day_order()]
    parse_bad = order_to_proto(seed_order(order_id="bad-shape"))
    parse_bad.max_shipments = -1  # rejected while reading the proto
    engine_bad = order_to_proto(seed_order(order_id="bad-meaning"))
    engine_bad.lines[0].qty = 0  # rejected by the engine's validation
    request = router_pb2.RouteBatchRequest(orders=[
        order_to_proto(good[0]), parse_bad, order_to_proto(good[1]), engine_bad,
        order_to_proto(good[2])])
    response = servicer.RouteBatch(request, None)  # type: ignore[arg-type]
    results = list(response.results)
    assert len(results) == 5
    for i, order in zip((0, 2, 4), good, strict=True):
        assert results[i].error_code == 0
        expected = decision_to_proto(engine.route(order), currency="USD")
        assert results[i].response == expected
    assert results[1].error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert results[1].error_message.startswith("orders[1].")
    assert "max_shipments" in results[1].error_message
    assert not results[1].HasField("response")
    assert results[3].error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert results[3].error_message.startswith("orders[3].")
    assert "qty" in results[3].error_message
