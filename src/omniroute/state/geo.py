"""Great-circle distances and zone bands, vectorized NumPy (no per-request trigonometry)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from omniroute.config import EARTH_RADIUS_KM

FloatArray = npt.NDArray[np.float64]


def haversine_km(lat1_deg: npt.ArrayLike, lon1_deg: npt.ArrayLike,
                 lat2_deg: npt.ArrayLike, lon2_deg: npt.ArrayLike) -> FloatArray:
    """Haversine distance in km on the DESIGN sphere (R = 6371.0088 km); broadcasts.

    The kernels' per-request twin (`engine._kernels.haversine_row_km`) uses the same formula in
    the same order of operations so that both agree to the last few ulps.
    """
    lat1 = np.radians(np.asarray(lat1_deg, dtype=np.float64))
    lat2 = np.radians(np.asarray(lat2_deg, dtype=np.float64))
    dlat = lat2 - lat1
    dlon = np.radians(np.asarray(lon2_deg, dtype=np.float64)) - np.radians(
        np.asarray(lon1_deg, dtype=np.float64))
    a = np.sin(dlat * 0.5) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon * 0.5) ** 2
    a = np.clip(a, 0.0, 1.0)
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a)), dtype=np.float64)


def zone_index(distance_km: npt.ArrayLike, band_max_km: FloatArray) -> npt.NDArray[np.int8]:
    """Index of the first band whose upper edge is >= the distance (bands are upper-inclusive)."""
    idx = np.searchsorted(band_max_km, np.asarray(distance_km, dtype=np.float64), side="left")
    # validate_rules guarantees the last band reaches half the circumference; clamp is defensive.
    return np.minimum(idx, len(band_max_km) - 1).astype(np.int8)
