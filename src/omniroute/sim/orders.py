"""A realistic stream of customer orders over a network, for load generation and quality runs.

Shaped like e-commerce order books: most orders have one or two lines (1-5, weighted towards
1), most lines one unit, SKU demand is skewed (a Zipf-like popularity over the SKUs that have
stock, so best sellers recur), destinations are the network's postal areas, and most orders
ship ground. Every line is a SHIP line of a physical SKU: the customer group of
docs/routing.md, which is what the baselines and the MILP oracle also price. Deterministic for
a given seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omniroute.config import Disposition, Network, SkuKind
from omniroute.engine.model import Order, OrderLine, ShipTo, SplitPolicy

LINES_WEIGHTS = (0.45, 0.25, 0.15, 0.10, 0.05)
"""Probability of an order having 1, 2, 3, 4 or 5 lines."""
QTY_WEIGHTS = (0.80, 0.15, 0.05)
"""Probability of a line ordering 1, 2 or 3 units."""
SERVICE_MIX = (("ground", 0.75), ("two_day", 0.18), ("next_day", 0.07))
"""Share of orders per service level (levels the network lacks are dropped)."""
CHANNEL_MIX = (("web", 0.6), ("app", 0.3), ("marketplace", 0.1))
"""Share of orders per sales channel."""
ZIPF_EXPONENT = 1.1


def _orderable_skus(network: Network) -> list[str]:
    """Physical SKUs that some node stocks (sellable) or builds (made to order)."""
    stocked = {row.sku for row in network.inventory
               if row.disposition is Disposition.SELLABLE and row.qty > 0}
    return [sku.sku for sku in network.skus
            if sku.kind is not SkuKind.DIGITAL
            and (sku.sku in stocked or sku.kind is SkuKind.MADE_TO_ORDER)]


def _mix(pairs: Sequence[tuple[str, float]], allowed: Sequence[str]
         ) -> tuple[list[str], np.ndarray[tuple[int], np.dtype[np.float64]]]:
    kept = [(name, w) for name, w in pairs if name in allowed] or [(allowed[0], 1.0)]
    weights = np.array([w for _, w in kept], dtype=np.float64)
    return [name for name, _ in kept], weights / weights.sum()


def order_stream(network: Network, count: int, *, seed: int = 1,
                 prefix: str = "o") -> list[Order]:
    """`count` orders of 1-5 SHIP lines with distinct SKUs, ALLOW_SPLIT, no backorder."""
    rng = np.random.default_rng(seed)
    skus = _orderable_skus(network)
    if not skus:
        raise ValueError("the network has no orderable SKU")
    # Popularity rank is a random permutation, so best sellers are not the first file rows.
    ranks = rng.permutation(len(skus)) + 1
    popularity = 1.0 / ranks.astype(np.float64) ** ZIPF_EXPONENT
    popularity /= popularity.sum()
    postal = [row.postal_code for row in network.postal]
    levels, level_p = _mix(SERVICE_MIX, network.rules.carrier.service_levels)
    channels_known = [c for c in network.rules.channels if c != "*"] or ["web"]
    channels, channel_p = _mix(CHANNEL_MIX, channels_known)
    n_lines = rng.choice(np.arange(1, 6), size=count, p=np.array(LINES_WEIGHTS))
    orders: list[Order] = []
    for o in range(count):
        k = min(int(n_lines[o]), len(skus))
        picked = rng.choice(len(skus), size=k, replace=False, p=popularity)
        qty = rng.choice(np.arange(1, 4), size=k, p=np.array(QTY_WEIGHTS))
        lines = tuple(OrderLine(line_id=str(i + 1), sku=skus[int(s)], qty=int(q))
                      for i, (s, q) in enumerate(zip(picked, qty, strict=True)))
        orders.append(Order(
            order_id=f"{prefix}{o}",
            channel=channels[int(rng.choice(len(channels), p=channel_p))],
            ship_to=ShipTo(postal_code=postal[int(rng.integers(len(postal)))]),
            service_level=levels[int(rng.choice(len(levels), p=level_p))],
            lines=lines,
            split_policy=SplitPolicy.ALLOW_SPLIT,
        ))
    return orders
