"""The routing engine: `Engine` (validate, route, explain, availability) over numba kernels,
and `WireRouter`, its compiled protobuf-bytes path for dry runs."""

from omniroute.engine.availability import FutureSupply, NodeAvailability, SkuAvailability
from omniroute.engine.router import Engine
from omniroute.engine.wire import WireBatch, WireRouter

__all__ = ["Engine", "FutureSupply", "NodeAvailability", "SkuAvailability", "WireBatch",
           "WireRouter"]
