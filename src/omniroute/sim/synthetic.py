"""Large synthetic networks built straight into the engine's arrays, for scale runs.

At 200k SKUs x 2,000 nodes the network files would hold tens of millions of inventory rows;
writing them with the demo generator and reading them back through msgspec would take far
longer than the arrays take to fill, and the arrays are what the engine reads. So this fills
the struct-of-arrays state with NumPy directly; only the rules (the embedded demo's
`rules.toml`) and the postal centroids (its `postal.csv`, real ZIP3 areas) come from files.

`scale_run` builds one, routes a batch on it, and reports build time, memory and routing
time: the figures of the scale target of issue 6.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import resource
import sys
import time
from pathlib import Path

import numpy as np

from omniroute.config import load_network, load_rules
from omniroute.engine import Engine
from omniroute.engine.model import Order, OrderLine, ShipTo
from omniroute.sim.demo_network import REFERENCE_DATE, embedded_network_dir
from omniroute.state import (
    CAP_GIFT_CARD,
    CAP_HAZMAT,
    CAP_MADE_TO_ORDER,
    CAP_PICKUP,
    CAP_RETURNS,
    CAP_SHIP,
    CAP_SHIP_TO_STORE,
    DISPOSITIONS,
    KIND_DC,
    KIND_DIGITAL,
    KIND_STORE,
    KIND_VENDOR,
    Catalog,
    EngineState,
    Inventory,
    NodeArrays,
    SkuArrays,
)
from omniroute.state.store import carrier_tables, postal_table, supply_csr

_CHUNK = 8_192
"""SKUs filled per step, so temporaries stay small next to the arrays."""


def synthetic_state(n_nodes: int, n_skus: int, *, seed: int = 1,
                    today: dt.date = REFERENCE_DATE) -> EngineState:
    """2-3% DCs (stock 70% of SKUs), 5% vendors (10%), one digital node, the rest stores
    (3% of SKUs, a few units each); nodes sit near real ZIP3 centroids."""
    rng = np.random.default_rng(seed)
    demo = load_network(embedded_network_dir())
    rules = load_rules(embedded_network_dir() / "rules.toml")
    postal_lat = np.array([row.lat for row in demo.postal])
    postal_lon = np.array([row.lon for row in demo.postal])
    continental = (postal_lat > 24.0) & (postal_lat < 50.0) & (postal_lon > -125.0)
    n_dc = max(3, n_nodes // 40)
    n_vendor = max(2, n_nodes // 20)
    kind = np.full(n_nodes, KIND_STORE, dtype=np.int8)
    kind[:n_dc] = KIND_DC
    kind[n_dc:n_dc + n_vendor] = KIND_VENDOR
    kind[-1] = KIND_DIGITAL
    caps = np.full(n_nodes, CAP_SHIP | CAP_PICKUP | CAP_SHIP_TO_STORE | CAP_RETURNS,
                   dtype=np.int64)
    caps[:n_dc] = CAP_SHIP | CAP_RETURNS | CAP_GIFT_CARD | CAP_HAZMAT
    caps[n_dc:n_dc + n_vendor] = CAP_SHIP | CAP_MADE_TO_ORDER
    caps[-1] = CAP_GIFT_CARD
    site = rng.choice(np.flatnonzero(continental), n_nodes)
    is_dc, is_store = kind == KIND_DC, kind == KIND_STORE
    nodes = NodeArrays(
        kind=kind,
        lat_deg=postal_lat[site] + rng.uniform(-0.2, 0.2, n_nodes),
        lon_deg=postal_lon[site] + rng.uniform(-0.2, 0.2, n_nodes),
        priority=np.where(is_dc, 1, np.where(is_store, 5, 3)).astype(np.int64),
        capability_mask=caps, channel_mask=np.full(n_nodes, -1, dtype=np.int64),
        daily_capacity_units=np.where(is_dc, 20_000, np.where(is_store, 300, 2_000)
                                      ).astype(np.int64),
        capacity_used_today=np.zeros(n_nodes, dtype=np.int64),
        handling_cost=np.round(np.where(is_dc, 2.0, np.where(is_store, 3.5, 2.8))
                               + rng.uniform(0.0, 1.0, n_nodes), 2),
        pick_cost=np.round(np.where(is_dc, 0.4, 0.9) + rng.uniform(0.0, 0.3, n_nodes), 2),
        processing_days=np.where(is_store, 1, np.where(is_dc, 1, 2)).astype(np.int64),
        enabled=np.ones(n_nodes, dtype=np.uint8))
    skus = SkuArrays(kind=np.zeros(n_skus, dtype=np.int8),
                     weight_kg=np.round(rng.gamma(1.5, 0.8, n_skus) + 0.05, 3),
                     hazmat=(rng.random(n_skus) < 0.01).astype(np.uint8),
                     returnable=np.ones(n_skus, dtype=np.uint8))
    # np.zeros maps pages lazily: the non-sellable planes and `reserved` cost no memory until
    # written, the sellable plane is written in full below.
    on_hand = np.zeros((len(DISPOSITIONS), n_skus, n_nodes), dtype=np.int32)
    density = np.where(is_dc, 0.7, np.where(is_store, 0.03, 0.1))
    high = np.where(is_dc, 60, np.where(is_store, 6, 30))
    density[-1] = 0.0
    for lo in range(0, n_skus, _CHUNK):
        hi = min(n_skus, lo + _CHUNK)
        stocked = rng.random((hi - lo, n_nodes), dtype=np.float32) < density
        qty = rng.integers(1, high, (hi - lo, n_nodes), dtype=np.int32)
        on_hand[0, lo:hi] = np.where(stocked, qty, 0)
    inventory = Inventory.of(on_hand, np.zeros((n_skus, n_nodes), dtype=np.int32))
    n_supply = n_skus // 4
    supply = supply_csr(n_skus, rng.integers(0, n_skus, n_supply),
                        rng.integers(0, n_dc, n_supply), rng.integers(1, 60, n_supply),
                        rng.integers(10, 200, n_supply))
    carrier = carrier_tables(rules)
    postal = postal_table(postal_lat, postal_lon, nodes, carrier)
    catalog = Catalog((f"SKU{i:07d}" for i in range(n_skus)),
                      (f"N{i:05d}" for i in range(n_nodes)), ["web", "app", "marketplace"],
                      [row.postal_code for row in demo.postal])
    return EngineState(catalog=catalog, nodes=nodes, skus=skus, inventory=inventory,
                       supply=supply, postal=postal, carrier=carrier, rules=rules, today=today,
                       version=np.zeros(1, dtype=np.int64), digital_node_idx=n_nodes - 1)


def synthetic_orders(state: EngineState, count: int, *, seed: int = 2) -> list[Order]:
    """Orders of 1-5 lines (weighted to 1) over the state's SKUs and postal areas."""
    rng = np.random.default_rng(seed)
    sku_ids = state.catalog.sku_ids
    postal = state.catalog.postal_codes
    lines_n = rng.choice(np.arange(1, 6), size=count, p=[0.45, 0.25, 0.15, 0.10, 0.05])
    orders = []
    for o in range(count):
        picked = rng.choice(len(sku_ids), size=int(lines_n[o]), replace=False)
        orders.append(Order(
            order_id=f"s{o}", channel="web",
            ship_to=ShipTo(postal_code=postal[int(rng.integers(len(postal)))]),
            service_level="ground",
            lines=tuple(OrderLine(line_id=str(i + 1), sku=sku_ids[int(s)],
                                  qty=int(rng.integers(1, 3))) for i, s in enumerate(picked))))
    return orders


@dataclasses.dataclass(frozen=True)
class ScaleResult:
    n_nodes: int
    n_skus: int
    build_s: float
    """Filling the arrays (the stand-in for loading a snapshot of this size)."""
    engine_s: float
    """Engine construction and kernel compilation."""
    resident_mb: float
    """Peak resident memory of the process."""
    array_mb: float
    """Bytes of the [sku, node] arrays as allocated (virtual; untouched pages cost nothing)."""
    batch_orders: int
    batch_ms: float
    """Routing `batch_orders` orders in one in-process call."""
    unary_ms: float
    """Median in-process latency of one order."""


def peak_resident_mb() -> float:
    """Peak resident memory of this process image, in MiB.

    Linux's `VmHWM`, not `ru_maxrss`: the kernel carries a process's peak over `exec`, so a
    process spawned (fork, then exec) from a parent holding 6 GB reported 6 GB of its own.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # not Linux: the rusage figure (KiB on Linux, bytes on macOS)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def scale_run(n_nodes: int, n_skus: int, *, orders: int = 1_000) -> ScaleResult:
    t0 = time.perf_counter()
    state = synthetic_state(n_nodes, n_skus)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = Engine(state)
    engine.warm_up()
    engine_s = time.perf_counter() - t0
    batch = synthetic_orders(state, orders)
    engine.route_batch(batch[:10])
    t0 = time.perf_counter()
    engine.route_batch(batch)
    batch_ms = (time.perf_counter() - t0) * 1e3
    unary = []
    for order in batch[:200]:
        t1 = time.perf_counter()
        engine.route(order)
        unary.append(time.perf_counter() - t1)
    inv = state.inventory
    return ScaleResult(
        n_nodes=n_nodes, n_skus=n_skus, build_s=build, engine_s=engine_s,
        resident_mb=peak_resident_mb(),
        array_mb=(inv.on_hand.nbytes + inv.reserved.nbytes) / 2**20,
        batch_orders=orders, batch_ms=batch_ms, unary_ms=float(np.median(unary)) * 1e3)
