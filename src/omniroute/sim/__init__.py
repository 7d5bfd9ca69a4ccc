"""Synthetic networks and example orders: the embedded demo network and the seed scenario."""

from omniroute.sim.demo_network import (
    EMBEDDED,
    REFERENCE_DATE,
    SEED_SKUS,
    DemoSpec,
    embedded_network_dir,
    write_demo_network,
)
from omniroute.sim.examples import EXAMPLES, PICKUP_STORE_ID, pickup_order, seed_order

__all__ = [
    "EMBEDDED",
    "EXAMPLES",
    "PICKUP_STORE_ID",
    "REFERENCE_DATE",
    "SEED_SKUS",
    "DemoSpec",
    "embedded_network_dir",
    "pickup_order",
    "seed_order",
    "write_demo_network",
]
