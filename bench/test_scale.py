"""Scale: a 200k-SKU x 2,000-node network built, loaded and routed; memory and times.

    .venv/bin/python -m pytest bench/test_scale.py --benchmark-enable -s

The smoke run (`--benchmark-disable`) uses 200 nodes x 5,000 SKUs. The arrays are filled with
NumPy directly (sim/synthetic.py): the demo generator's CSV files at this size would hold tens
of millions of rows.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from omniroute.sim.synthetic import ScaleResult, scale_run


def scale_run_alone(nodes: int, skus: int) -> ScaleResult:
    """`scale_run` in a new process: its peak RSS is then this network's alone, not that of
    whatever benchmarks ran before in this one (the 1M-SKU kernel grid, say). The kernel cache
    makes the new process's compile a load."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(scale_run, nodes, skus).result()


def test_scale_load_and_route(benchmark: Any) -> None:
    nodes, skus = (200, 5_000) if benchmark.disabled else (2_000, 200_000)
    result = benchmark.pedantic(scale_run_alone, args=(nodes, skus), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in dataclasses.asdict(result).items()
                                 if isinstance(v, (int, float))})
    assert result.n_skus == skus
    print(f"\nscale {nodes:,} nodes x {skus:,} SKUs: arrays built in {result.build_s:.1f} s, "
          f"engine + compile {result.engine_s:.1f} s, peak RSS {result.resident_mb:,.0f} MB "
          f"({result.array_mb:,.0f} MB of [sku, node] arrays allocated), "
          f"{result.batch_orders} orders in {result.batch_ms:.1f} ms "
          f"({result.batch_orders / result.batch_ms * 1e3:,.0f} orders/s), "
          f"one order {result.unary_ms:.3f} ms")
