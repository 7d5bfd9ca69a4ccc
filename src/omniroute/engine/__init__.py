"""The routing engine: `Engine` (validate, route, explain, availability) over numba kernels."""

from omniroute.engine.availability import FutureSupply, NodeAvailability, SkuAvailability
from omniroute.engine.router import Engine

__all__ = ["Engine", "FutureSupply", "NodeAvailability", "SkuAvailability"]
