"""Prometheus metrics of the router, exported on the metrics port by `omniroute serve`."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ROUTE_SECONDS = Histogram(
    "omniroute_route_seconds",
    "Engine time per Route call or per RouteBatch/RouteStream message.",
    ["rpc"],
    # Engine time is micro- to milliseconds; the default buckets start at 5 ms.
    buckets=(5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 2.5),
)
ORDERS_ROUTED = Counter(
    "omniroute_orders_routed_total", "Orders routed, by decision status.", ["status"])
