"""The routing kernel across order, network and catalog sizes (issue 6's kernel grid).

One axis at a time around the 1,000-node x 100,000-SKU network of `conftest.py` (a full cross
would need a 5,000 x 1,000,000 network, 20 GB of sellable stock alone): 100, 1,000 and 5,000
nodes at 100,000 SKUs; 10,000, 100,000 and 1,000,000 SKUs at 1,000 nodes. On each, orders of 1,
5 and 20 lines: 200 different orders in one kernel call, so Python's call overhead is
spread and every order reads cold stock rows. `extra_info` has the median microseconds per order
and the network's build and engine times. The smoke run (`--benchmark-disable`) uses 100 and
200 nodes at 2,000 SKUs.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import random_orders, synthetic_state

from omniroute.engine import Engine
from omniroute.engine import _kernels as kern

ORDERS = 200
GRID = [(1_000, 100_000), (100, 100_000), (5_000, 100_000), (1_000, 10_000),
        (1_000, 1_000_000)]
SMOKE_GRID = [(100, 2_000), (200, 2_000)]
LINES = (1, 5, 20)


_built: dict[tuple[int, int], tuple[Engine, dict[str, Any]]] = {}
"""The last network built, kept while its line counts run (one at a time: the
1,000,000-SKU one holds 4 GB of stock)."""


def _network(n_nodes: int, n_skus: int) -> tuple[Engine, dict[str, Any]]:
    if (n_nodes, n_skus) not in _built:
        _built.clear()  # free the previous network before building the next
        t0 = time.perf_counter()
        state = synthetic_state(n_nodes, n_skus)
        t1 = time.perf_counter()
        engine = Engine(state)
        engine.warm_up()
        _built[n_nodes, n_skus] = engine, {"build_s": round(t1 - t0, 1),
                                           "engine_s": round(time.perf_counter() - t1, 2)}
    return _built[n_nodes, n_skus]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config  # pytest-benchmark's own test for a disabled run
    smoke = config.getoption("benchmark_disable") and not config.getoption("benchmark_enable")
    grid = SMOKE_GRID if smoke else GRID
    cases = [(n_nodes, n_skus, n_lines) for n_nodes, n_skus in grid for n_lines in LINES]
    metafunc.parametrize("case", cases, ids=[f"{n}n-{s}sku-{ln}l" for n, s, ln in cases])


def test_route_kernel_grid(benchmark: Any, case: tuple[int, int, int]) -> None:
    n_nodes, n_skus, n_lines = case
    engine, info = _network(n_nodes, n_skus)
    orders = random_orders(ORDERS, n_lines=n_lines, seed=31 + n_lines, n_skus=n_skus)
    prepared = engine._preparer.prepare(orders, batch=True)
    out = engine._run(prepared)
    args = engine.kernel_args(prepared, out)
    benchmark.pedantic(kern.route_by_table, args=args, rounds=5, iterations=1, warmup_rounds=1)
    assert (out.status != 0).all()
    benchmark.extra_info.update(nodes=n_nodes, skus=n_skus, lines=n_lines, **info)
    if benchmark.stats is not None:
        benchmark.extra_info["us_per_order"] = round(
            benchmark.stats.stats.median / ORDERS * 1e6, 1)
