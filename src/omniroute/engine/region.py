"""Regions for enterprise availability: the nodes within a radius of a point or postal code."""

from __future__ import annotations

import math

import numpy as np

from omniroute.engine.model import ShipTo
from omniroute.errors import InvalidArgument
from omniroute.state import EngineState
from omniroute.state.geo import haversine_km


def nodes_within(state: EngineState, center: ShipTo, radius_km: float, *,
                 field: str = "region") -> list[str]:
    """Ids of the nodes whose great-circle distance to `center` is at most `radius_km`."""
    if not (math.isfinite(radius_km) and radius_km > 0.0):
        raise InvalidArgument(f"{field}.radius_km", f"must be a positive number, got {radius_km}")
    if center.lat is not None and center.lon is not None:
        lat, lon = center.lat, center.lon
    else:
        if not center.postal_code:
            raise InvalidArgument(f"{field}.center", "needs a postal_code or a point")
        postal_idx = state.catalog.resolve_postal(center.postal_code)
        if postal_idx < 0:
            raise InvalidArgument(f"{field}.center.postal_code",
                                  f"no postal area matches {center.postal_code!r}")
        lat = float(state.postal.lat_deg[postal_idx])
        lon = float(state.postal.lon_deg[postal_idx])
    distance_km = haversine_km(lat, lon, state.nodes.lat_deg, state.nodes.lon_deg)
    node_ids = state.catalog.node_ids
    return [node_ids[i] for i in np.flatnonzero(distance_km <= radius_km)]
