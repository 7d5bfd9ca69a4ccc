"""The compiled bytes path (`WireRouter`, what Route / RouteBatch / RouteStream serve dry runs
with) on 1,000 nodes x 100,000 SKUs: serialized request in, serialized response out, one
kernel call (decode, route, encode). Smoke mode (`--benchmark-disable`) runs each once.

Figures for issue 3's targets (kernel <= 20 us median for a 5-line order, batch >= 50,000
orders/s on one core):

- `test_wire_route_five_lines`: one 5-line order, request bytes to response bytes (median);
- `test_wire_route_different_five_line_orders`: `median_us_per_order` over 200 different ones;
- `test_wire_batch_throughput`: `orders_per_s` of 1,000-order RouteBatchRequests (the batch
  throughput figure: RouteBatch's dry-run orders are routed by this path).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import mixed_orders, random_orders
from pytest_benchmark.fixture import BenchmarkFixture

from omniroute.api.convert import decision_to_proto, order_to_proto
from omniroute.engine import Engine, WireRouter
from omniroute.v1 import router_pb2

BATCH = 1_000


@pytest.fixture(scope="module")
def wire(big_engine: Engine) -> WireRouter:
    return WireRouter(big_engine)


def test_wire_route_five_lines(benchmark: BenchmarkFixture, big_engine: Engine,
                               wire: WireRouter) -> None:
    (order,) = random_orders(1, seed=11)
    raw = order_to_proto(order).SerializeToString()
    routed = benchmark.pedantic(wire.route, args=(raw,), rounds=2000, iterations=1,
                                warmup_rounds=50)
    assert routed is not None
    expected = decision_to_proto(big_engine.route(order), currency="USD")
    assert router_pb2.RouteResponse.FromString(routed[0]) == expected


def test_wire_route_different_five_line_orders(benchmark: BenchmarkFixture,
                                               wire: WireRouter) -> None:
    """200 different orders (cold inventory rows each), each timed on its own."""
    raws = [order_to_proto(o).SerializeToString() for o in random_orders(200, seed=13)]
    samples: list[float] = []

    def run_all() -> None:
        for raw in raws:
            started = time.perf_counter()
            wire.route(raw)
            samples.append(time.perf_counter() - started)

    benchmark.pedantic(run_all, rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["median_us_per_order"] = round(float(np.median(samples)) * 1e6, 1)


@pytest.mark.parametrize("mix", ["five_lines", "mixed"])
def test_wire_batch_throughput(benchmark: BenchmarkFixture, wire: WireRouter, mix: str) -> None:
    orders = random_orders(BATCH, seed=12) if mix == "five_lines" else mixed_orders(BATCH, seed=14)
    raw = router_pb2.RouteBatchRequest(
        orders=[order_to_proto(o) for o in orders]).SerializeToString()
    wired = benchmark.pedantic(wire.route_batch, args=(raw,), rounds=20, iterations=1,
                               warmup_rounds=1)
    assert wired is not None
    assert not wired.declined
    assert len(router_pb2.RouteBatchResponse.FromString(wired.encoded).results) == BATCH
    if benchmark.stats is not None:
        benchmark.extra_info["orders_per_s"] = round(BATCH / benchmark.stats.stats.median)
