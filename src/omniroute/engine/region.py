"""Regions for enterprise availability: the nodes within a radius of a point or postal code."""

from __future__ import annotations

import math

import numpy as np

from omniroute.engine.model import ShipTo
from omniroute.errors import InvalidArgument
from omniroute.state import EngineState
from omniroute.state.geo import haversine_km


def point_of(state: EngineState, where: ShipTo, *, field: str) -> tuple[float, float]:
    """(lat, lon) of a ship-to: its explicit point, else its postal area's centroid."""
    if where.lat is not None and where.lon is not None:
        return where.lat, where.lon
    if not where.postal_code:
        raise InvalidArgument(field, "needs a postal_code or a point")
    postal_idx = state.catalog.resolve_postal(where.postal_code)
    if postal_idx < 0:
        raise InvalidArgument(f"{field}.postal_code",
                              f"no postal area matches {where.postal_code!r}")
    return float(state.postal.lat_deg[postal_idx]), float(state.postal.lon_deg[postal_idx])


def nodes_within(state: EngineState, center: ShipTo, radius_km: float, *,
                 field: str = "region") -> list[str]:
    """Ids of the nodes whose great-circle distance to `center` is at most `radius_km`."""
    if not (math.isfinite(radius_km) and radius_km > 0.0):
        raise InvalidArgument(f"{field}.radius_km", f"must be a positive number, got {radius_km}")
    lat, lon = point_of(state, center, field=f"{field}.center")
    distance_km = haversine_km(lat, lon, state.nodes.lat_deg, state.nodes.lon_deg)
    node_ids = state.catalog.node_ids
    return [node_ids[i] for i in np.flatnonzero(distance_km <= radius_km)]
