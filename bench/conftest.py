"""A synthetic 1,000-node x 100,000-SKU network, built straight into the state arrays.

Going through 100k msgspec rows and `build_state` would spend most of a minute on Python
objects; the arrays are what the engine reads, so they are filled with NumPy directly (the
rules, the only nested config, still go through msgspec). Build time is a few seconds.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import numpy as np
import pytest

from omniroute.config import Rules
from omniroute.engine import Engine
from omniroute.engine.model import Fulfillment, Order, OrderLine, ShipTo, SplitPolicy
from omniroute.state import (
    CAP_GIFT_CARD,
    CAP_HAZMAT,
    CAP_MADE_TO_ORDER,
    CAP_PICKUP,
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

TODAY = dt.date(2025, 11, 25)
N_NODES = 1_000
N_SKUS = 100_000
N_DCS = 40
N_VENDORS = 59
N_POSTAL = 900
SEED = 20251125

RULES = msgspec.convert({
    "currency": "USD",
    "carrier": {
        "zones": [{"zone": z, "max_km": km} for z, km in
                  ((2, 80.0), (3, 240.0), (4, 480.0), (5, 960.0), (6, 1440.0), (7, 2160.0),
                   (8, float("inf")))],
        "service_levels": ["ground", "two_day", "next_day"],
        "transit_days": {"ground": [1, 2, 2, 3, 4, 5, 5], "two_day": [1, 1, 2, 2, 2, 2, 2],
                         "next_day": [1, 1, 1, 1, 1, 1, 1]},
        "promise_days": {"ground": 7, "two_day": 3, "next_day": 2},
        "rates": {"*": {"base": [5.0, 5.6, 6.2, 7.1, 8.3, 9.4, 10.5],
                        "per_kg": [0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.5]}},
    },
    "rulesets": {"default": {
        "version": 1,
        "weights": {"cost": 1.0, "distance_per_km": 0.0, "priority": 0.0,
                    "capacity_balance": 0.0},
        "split_penalty": 3.0, "unfilled_penalty": 40.0, "max_shipments": 3,
        "ship_from_store": True, "pickup_ship_to_store": True,
        "channel_node_kinds": {"*": ["dc", "store", "vendor", "digital"]},
        "safety_stock": {"*": {"store": 1}},
    }},
    "channels": {"*": "default"},
}, Rules)


def synthetic_state(n_nodes: int = N_NODES, n_skus: int = N_SKUS) -> EngineState:
    """The benchmark network; other sizes keep its proportions (4% DCs, 5.9% vendors, the rest
    stores but one digital node), so the default is exactly the 1,000 x 100,000 network."""
    n_dcs = round(n_nodes * 0.04)
    n_vendors = round(n_nodes * 0.059)
    rng = np.random.default_rng(SEED)
    kind = np.full(n_nodes, KIND_STORE, dtype=np.int8)
    kind[:n_dcs] = KIND_DC
    kind[n_dcs:n_dcs + n_vendors] = KIND_VENDOR
    kind[-1] = KIND_DIGITAL
    caps = np.full(n_nodes, CAP_SHIP | CAP_PICKUP | CAP_SHIP_TO_STORE, dtype=np.int64)
    caps[:n_dcs] = CAP_SHIP | CAP_HAZMAT | CAP_GIFT_CARD
    caps[n_dcs:n_dcs + n_vendors] = CAP_SHIP | CAP_MADE_TO_ORDER
    caps[-1] = CAP_GIFT_CARD
    is_dc = kind == KIND_DC
    nodes = NodeArrays(
        kind=kind,
        lat_deg=rng.uniform(25.0, 49.0, n_nodes), lon_deg=rng.uniform(-124.0, -67.0, n_nodes),
        priority=rng.integers(1, 10, n_nodes).astype(np.int64),
        capability_mask=caps, channel_mask=np.full(n_nodes, -1, dtype=np.int64),
        daily_capacity_units=np.where(is_dc, 50_000, 500).astype(np.int64),
        capacity_used_today=np.zeros(n_nodes, dtype=np.int64),
        handling_cost=np.where(is_dc, 1.5, 3.5) + rng.uniform(0.0, 0.5, n_nodes),
        pick_cost=np.where(is_dc, 0.3, 0.9) + rng.uniform(0.0, 0.2, n_nodes),
        processing_days=np.where(is_dc, 1, 0).astype(np.int64) + (kind == KIND_VENDOR) * 3,
        enabled=np.ones(n_nodes, dtype=np.uint8))
    skus = SkuArrays(kind=np.zeros(n_skus, dtype=np.int8),
                     weight_kg=np.round(rng.uniform(0.1, 8.0, n_skus), 3),
                     hazmat=(rng.random(n_skus) < 0.02).astype(np.uint8),
                     returnable=np.ones(n_skus, dtype=np.uint8))
    # Sellable stock: most DCs carry most SKUs; a store carries a SKU with probability 5%.
    # np.zeros maps untouched pages lazily, so the other dispositions and `reserved` cost nothing.
    on_hand = np.zeros((len(DISPOSITIONS), n_skus, n_nodes), dtype=np.int32)
    chunk = 10_000
    for lo in range(0, n_skus, chunk):
        hi = min(n_skus, lo + chunk)
        dc = rng.integers(0, 30, (hi - lo, n_dcs), dtype=np.int32)
        dc[rng.random((hi - lo, n_dcs)) < 0.3] = 0
        on_hand[0, lo:hi, :n_dcs] = dc
        stores = rng.integers(1, 6, (hi - lo, n_nodes - n_dcs - n_vendors - 1), dtype=np.int32)
        stores[rng.random(stores.shape) >= 0.05] = 0
        on_hand[0, lo:hi, n_dcs + n_vendors:-1] = stores
    inventory = Inventory.of(on_hand, np.zeros((n_skus, n_nodes), dtype=np.int32))
    n_supply = 50_000
    supply = supply_csr(n_skus, rng.integers(0, n_skus, n_supply),
                        rng.integers(0, n_dcs, n_supply), rng.integers(1, 60, n_supply),
                        rng.integers(10, 200, n_supply))
    carrier = carrier_tables(RULES)
    postal_codes = [f"{i:03d}" for i in range(100, 100 + N_POSTAL)]
    postal = postal_table(rng.uniform(25.0, 49.0, N_POSTAL), rng.uniform(-124.0, -67.0, N_POSTAL),
                          nodes, carrier)
    catalog = Catalog((f"S{i:06d}" for i in range(n_skus)),
                      (f"N{i:04d}" for i in range(n_nodes)), [], postal_codes)
    return EngineState(catalog=catalog, nodes=nodes, skus=skus, inventory=inventory,
                       supply=supply, postal=postal, carrier=carrier, rules=RULES, today=TODAY,
                       version=np.zeros(1, dtype=np.int64), digital_node_idx=n_nodes - 1)


def random_orders(n: int, n_lines: int = 5, seed: int = 7, n_skus: int = N_SKUS) -> list[Order]:
    rng = np.random.default_rng(seed)
    orders = []
    for o in range(n):
        skus = rng.choice(n_skus, n_lines, replace=False)
        lines = tuple(OrderLine(line_id=f"L{i}", sku=f"S{int(s):06d}",
                                qty=int(rng.integers(1, 4))) for i, s in enumerate(skus))
        orders.append(Order(order_id=f"o{o}", channel="web",
                            ship_to=ShipTo(postal_code=f"{int(rng.integers(100, 1000)):03d}"),
                            service_level="ground", lines=lines))
    return orders


def mixed_orders(n: int, seed: int = 14) -> list[Order]:
    """A retail mix: 1-8 lines (mostly 1-3), ground / two_day / next_day, 5% of lines picked up
    or shipped to a store, 10% ship-complete orders, 20% allowing backorders."""
    rng = np.random.default_rng(seed)
    first_store = N_DCS + N_VENDORS
    orders = []
    for o in range(n):
        n_lines = int(rng.choice([1, 2, 3, 4, 5, 6, 8], p=[0.3, 0.25, 0.17, 0.1, 0.08, 0.06,
                                                           0.04]))
        lines = []
        for i, s in enumerate(rng.choice(N_SKUS, n_lines, replace=False)):
            r = rng.random()
            store = f"N{int(rng.integers(first_store, N_NODES - 1)):04d}"
            if r < 0.03:
                ful, store_id = Fulfillment.PICKUP, store
            elif r < 0.05:
                ful, store_id = Fulfillment.SHIP_TO_STORE, store
            else:
                ful, store_id = Fulfillment.SHIP, ""
            lines.append(OrderLine(line_id=f"L{i}", sku=f"S{int(s):06d}",
                                   qty=int(rng.integers(1, 4)), fulfillment=ful,
                                   store_id=store_id))
        orders.append(Order(
            order_id=f"m{o}", channel="web",
            ship_to=ShipTo(postal_code=f"{int(rng.integers(100, 1000)):03d}"),
            service_level=str(rng.choice(["ground", "two_day", "next_day"], p=[0.7, 0.2, 0.1])),
            split_policy=(SplitPolicy.SHIP_COMPLETE if rng.random() < 0.1
                          else SplitPolicy.ALLOW_SPLIT),
            allow_backorder=bool(rng.random() < 0.2), lines=tuple(lines)))
    return orders


@pytest.fixture(scope="session")
def big_engine() -> Engine:
    engine = Engine(synthetic_state())
    engine.warm_up()
    return engine
