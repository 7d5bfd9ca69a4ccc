"""Every kernel against a slow twin in plain Python, on random inputs (STYLE habit 9)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniroute.engine import _kernels as kern
from omniroute.engine import _search as search
from omniroute.engine._numba import address_table, compile_all
from omniroute.state import Catalog, haversine_km, zone_index

SETTINGS = settings(deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.too_slow])
R_KM = 6371.0088
BANDS_KM = np.array([50.0, 300.0, 900.0, 2500.0, math.inf])


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    compile_all(everything=True)


def slow_haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R_KM * math.asin(math.sqrt(min(1.0, a)))


def slow_zone(distance_km: float) -> int:
    return next(i for i, edge in enumerate(BANDS_KM) if distance_km <= edge)


lats = st.floats(-89.9, 89.9)
lons = st.floats(-179.9, 179.9)
points = st.lists(st.tuples(lats, lons), min_size=1, max_size=8)


@SETTINGS
@given(points, points)
def test_distance_table_and_destination_row_match_direct_haversine(
        nodes: list[tuple[float, float]], dests: list[tuple[float, float]]) -> None:
    node_lat = np.array([p[0] for p in nodes])
    node_lon = np.array([p[1] for p in nodes])
    table = haversine_km(node_lat[None, :], node_lon[None, :],
                         np.array([p[0] for p in dests])[:, None],
                         np.array([p[1] for p in dests])[:, None])
    zones = zone_index(table, BANDS_KM)
    row = np.empty(len(nodes))
    row_zone = np.empty(len(nodes), dtype=np.int8)
    for d, (lat, lon) in enumerate(dests):
        kern.destination_row(lat, lon, node_lat, node_lon, BANDS_KM, row, row_zone)
        for n, (nlat, nlon) in enumerate(nodes):
            want = slow_haversine(nlat, nlon, lat, lon)
            # Well under a cent at any per-km weight: 1e-6 km.
            assert table[d, n] == pytest.approx(want, abs=1e-6)
            assert row[n] == pytest.approx(table[d, n], abs=1e-9)
            assert zones[d, n] == row_zone[n] == slow_zone(float(table[d, n]))


def test_zone_bands_are_upper_inclusive() -> None:
    assert zone_index(np.array([0.0, 50.0, 50.000001, 2500.0]), BANDS_KM).tolist() == [0, 0, 1, 3]


@SETTINGS
@given(st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=12,
                unique=True), st.text("0123456789", min_size=1, max_size=7))
def test_postal_resolution_is_exact_then_longest_prefix(codes: list[str], query: str) -> None:
    catalog = Catalog([], [], [], codes)
    if query in codes:
        want = codes.index(query)
    else:
        prefixes = [c for c in codes if query.startswith(c)]
        want = codes.index(max(prefixes, key=len)) if prefixes else -1
    assert catalog.resolve_postal(query) == want


# ------------------------------------------------------------------ eligibility


def slow_rule(n: int, sku: int, *, atp: int, cap_left: int, zone: int, level: int,  # noqa: PLR0911
              channel_bit: int, kind_allowed: np.ndarray, sfs: int, arrays: dict[str, np.ndarray]
              ) -> int:
    """docs/routing.md rules 1-7, written out."""
    kind = int(arrays["node_kind"][n])
    caps = int(arrays["node_caps"][n])
    sku_kind = int(arrays["sku_kind"][sku])
    if not arrays["node_enabled"][n]:
        return 1
    if not kind_allowed[kind] or not (int(arrays["node_channels"][n]) >> channel_bit) & 1:
        return 2
    if kind == 1 and not sfs:
        return 3
    needs = kern.CAP_SHIP
    if sku_kind == kern.SKU_GIFT_CARD:
        needs |= kern.CAP_GIFT_CARD
    if sku_kind == kern.SKU_MADE_TO_ORDER:
        needs |= kern.CAP_MADE_TO_ORDER
    if arrays["sku_hazmat"][sku]:
        needs |= kern.CAP_HAZMAT
    if caps & needs != needs:
        return 4
    processing = 0 if sku_kind == kern.SKU_MADE_TO_ORDER else int(arrays["node_processing"][n])
    if processing + int(arrays["transit"][level, zone]) > int(arrays["promise"][level]):
        return 5
    if cap_left <= 0:
        return 6
    if sku_kind != kern.SKU_MADE_TO_ORDER and atp <= 0:
        return 7
    return 0


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_eligibility_kernel_matches_the_rules(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_nodes, n_skus, levels, zones = int(rng.integers(1, 12)), int(rng.integers(1, 6)), 2, 4
    arrays = {
        "node_kind": rng.integers(0, 4, n_nodes).astype(np.int8),
        "node_caps": rng.integers(0, 128, n_nodes).astype(np.int64),
        "node_channels": rng.integers(-2**20, 2**20, n_nodes).astype(np.int64),
        "node_processing": rng.integers(0, 4, n_nodes).astype(np.int64),
        "node_enabled": (rng.random(n_nodes) < 0.85).astype(np.uint8),
        "sku_kind": rng.integers(0, 4, n_skus).astype(np.int8),
        "sku_hazmat": (rng.random(n_skus) < 0.3).astype(np.uint8),
        "transit": rng.integers(0, 5, (levels, zones)).astype(np.int64),
        "promise": rng.integers(1, 7, levels).astype(np.int64),
    }
    slot_sku = rng.integers(0, n_skus, int(rng.integers(1, 5))).astype(np.int64)
    atp = rng.integers(0, 3, (len(slot_sku), n_nodes)).astype(np.int64)
    cap_left = rng.integers(0, 3, n_nodes).astype(np.int64)
    zone_row = rng.integers(0, zones, n_nodes).astype(np.int8)
    level = int(rng.integers(0, levels))
    channel_bit = int(rng.integers(0, 64))
    kind_allowed = (rng.random(4) < 0.8).astype(np.uint8)
    sfs = int(rng.integers(0, 2))
    out = np.empty((len(slot_sku), n_nodes), dtype=np.int8)
    kern.eligibility_rules(slot_sku, atp, cap_left, zone_row, level, channel_bit, kind_allowed, sfs,
                        arrays["node_kind"], arrays["node_caps"], arrays["node_channels"],
                        arrays["node_processing"], arrays["node_enabled"], arrays["sku_kind"],
                        arrays["sku_hazmat"], arrays["transit"], arrays["promise"], out)
    for g, sku in enumerate(slot_sku):
        for n in range(n_nodes):
            assert out[g, n] == slow_rule(
                n, int(sku), atp=int(atp[g, n]), cap_left=int(cap_left[n]),
                zone=int(zone_row[n]), level=level, channel_bit=channel_bit,
                kind_allowed=kind_allowed, sfs=sfs, arrays=arrays)


# ------------------------------------------------------------------ allocation


def brute_transport(sel: list[int], d: np.ndarray, a: np.ndarray, cvar: np.ndarray,  # noqa: PLR0917
                    capc: np.ndarray, pu: float) -> float:
    """Every integer allocation of the tiny instance."""
    k, m = len(d), len(sel)
    ranges = [range(min(int(a[s, sel[j]]), int(d[s])) + 1) for s in range(k) for j in range(m)]
    best = math.inf
    for combo in itertools.product(*ranges):
        x = np.array(combo, dtype=np.int64).reshape(k, m)
        if (x.sum(axis=1) > d).any() or (x.sum(axis=0) > capc[sel]).any():
            continue
        best = min(best, float((x * cvar[:, sel]).sum() + (d - x.sum(axis=1)).sum() * pu))
    return best


def tiny_problem(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    k, nc = int(rng.integers(1, 4)), int(rng.integers(1, 7))
    d = rng.integers(1, 4, k).astype(np.int64)
    a = rng.integers(0, 4, (k, nc)).astype(np.int64)
    cvar = np.round(rng.uniform(0, 4, (k, nc)), 1)
    if rng.random() < 0.5:  # identical nodes (stores with equal costs) exercise the symmetry cut
        cvar[:] = cvar[:, :1]
    fixed = np.round(rng.uniform(0, 10, nc), 0)
    capc = rng.integers(0, 7, nc).astype(np.int64)
    return d, a, cvar, fixed, capc


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([1.0, 3.0, 50.0]))
def test_transport_is_the_exact_min_cost_allocation(seed: int, pu: float) -> None:
    d, a, cvar, _, capc = tiny_problem(seed)
    rng = np.random.default_rng(seed + 1)
    m = int(rng.integers(1, min(3, a.shape[1]) + 1))
    sel = rng.permutation(a.shape[1])[:m].astype(np.int64)
    x = np.zeros((len(d), m), dtype=np.int64)
    got = search.transport(sel, m, d, a, cvar, capc, pu, x)
    assert got == pytest.approx(brute_transport(list(sel), d, a, cvar, capc, pu), abs=1e-9)
    # The allocation itself is feasible and costs what was reported.
    assert (x.sum(axis=1) <= d).all()
    assert (x.sum(axis=0) <= capc[sel]).all()
    assert (x <= a[:, sel]).all()
    assert got == pytest.approx(float((x * cvar[:, sel]).sum() + (d - x.sum(axis=1)).sum() * pu))


def brute_group(d: np.ndarray, a: np.ndarray, cvar: np.ndarray, fixed: np.ndarray,  # noqa: PLR0917
                capc: np.ndarray, pu: float, sp: float, max_nodes: int) -> float:
    best = float(d.sum() * pu)
    for m in range(1, max_nodes + 1):
        for sel in itertools.combinations(range(a.shape[1]), m):
            t = brute_transport(list(sel), d, a, cvar, capc, pu)
            best = min(best, float(fixed[list(sel)].sum()) + sp * (m - 1) + t)
    return best


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([2.0, 8.0, 50.0]),
       st.sampled_from([0.0, 1.0, 5.0]), st.integers(1, 3))
def test_group_search_is_exact_and_the_heuristic_bound_is_valid(
        seed: int, pu: float, sp: float, max_nodes: int) -> None:
    d, a, cvar, fixed, capc = tiny_problem(seed)
    want = brute_group(d, a, cvar, fixed, capc, pu, sp, max_nodes)
    for exact_max_skus in (search.EXACT_MAX_SKUS, 0):
        sel = np.zeros(max_nodes, dtype=np.int64)
        x = np.zeros((len(d), max_nodes), dtype=np.int64)
        info = np.zeros(4)
        search.solve_group(d, a, cvar, fixed, capc, pu, sp, max_nodes, exact_max_skus, 20000,
                           sel, x, info)
        m = int(info[0])
        cost, lower, optimal = info[1], info[2], bool(info[3])
        assert lower <= want + 1e-9 <= cost + 2e-9
        if optimal:
            assert cost == pytest.approx(want, abs=1e-9)
        # The reported plan is feasible and costs what was reported.
        chosen = sel[:m]
        xs = x[:, :m]
        assert (xs.sum(axis=1) <= d).all()
        assert (xs <= a[:, chosen]).all()
        assert (xs.sum(axis=0) <= capc[chosen]).all()
        plan = (fixed[chosen].sum() + sp * max(m - 1, 0) + (xs * cvar[:, chosen]).sum()
                + (d - xs.sum(axis=1)).sum() * pu)
        assert cost == pytest.approx(float(plan), abs=1e-9)


def test_dominated_identical_stores_do_not_blow_up_the_search() -> None:
    """200 identical stores, each with one unit of each of 3 SKUs, and 3 units wanted."""
    k, nc = 3, 200
    d = np.full(k, 3, dtype=np.int64)
    a = np.ones((k, nc), dtype=np.int64)
    cvar = np.ones((k, nc))
    fixed = np.full(nc, 5.0)
    capc = np.full(nc, 10, dtype=np.int64)
    sel = np.zeros(3, dtype=np.int64)
    x = np.zeros((k, 3), dtype=np.int64)
    info = np.zeros(4)
    search.solve_group(d, a, cvar, fixed, capc, 50.0, 1.0, 3, search.EXACT_MAX_SKUS, 2000, sel,
                       x, info)
    assert info[3] == 1.0
    assert info[0] == 3
    assert info[1] == pytest.approx(3 * 5.0 + 2 * 1.0 + 9 * 1.0)


def store_heavy_problem(seed: int) -> tuple[np.ndarray, ...]:
    """Many candidates that each stock one SKU (stores), a few that stock several (DCs): the
    shape the single-SKU reduction prunes, with ties in cost to exercise its tie rule."""
    rng = np.random.default_rng(seed)
    k, nc = int(rng.integers(1, 3)), int(rng.integers(4, 11))
    d = rng.integers(1, 4, k).astype(np.int64)
    a = np.zeros((k, nc), dtype=np.int64)
    for c in range(nc):
        if rng.random() < 0.25:
            a[:, c] = rng.integers(0, 4, k)
        else:
            a[int(rng.integers(k)), c] = rng.integers(1, 4)
    cvar = np.round(rng.uniform(0, 3, (k, nc)), 0)
    fixed = np.round(rng.uniform(0, 6, nc), 0)
    capc = rng.integers(1, 5, nc).astype(np.int64)
    return d, a, cvar, fixed, capc


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([2.0, 8.0, 50.0]),
       st.sampled_from([0.0, 1.0]), st.integers(1, 2))
def test_single_sku_reduction_keeps_the_optimum(seed: int, pu: float, sp: float,
                                                max_nodes: int) -> None:
    d, a, cvar, fixed, capc = store_heavy_problem(seed)
    want = brute_group(d, a, cvar, fixed, capc, pu, sp, max_nodes)
    sel = np.zeros(max_nodes, dtype=np.int64)
    x = np.zeros((len(d), max_nodes), dtype=np.int64)
    info = np.zeros(4)
    search.solve_group(d, a, cvar, fixed, capc, pu, sp, max_nodes, search.EXACT_MAX_SKUS, 20000,
                       sel, x, info)
    assert info[3] == 1.0
    assert info[1] == pytest.approx(want, abs=1e-9)


def test_address_table_checks_each_array_against_its_slot() -> None:
    """The kernel reads a table's arrays by raw address, so a mismatch must fail before it."""
    slots = (("counts", np.int64, 1), ("grid", np.float64, 2))
    counts, grid = np.arange(3, dtype=np.int64), np.zeros((2, 5))
    table = address_table([counts, grid], slots)
    assert table.tolist() == [counts.ctypes.data, 3, 0, 0, grid.ctypes.data, 2, 5, 0]
    with pytest.raises(ValueError, match="counts is int32"):
        address_table([counts.astype(np.int32), grid], slots)
    with pytest.raises(ValueError, match=r"grid is float64.*rank 2"):
        address_table([counts, grid.ravel()], slots)
    with pytest.raises(ValueError, match="C-contiguous: False"):
        address_table([counts, grid[:, ::2]], slots)
    with pytest.raises(ValueError, match="1 arrays for 2 slots"):
        address_table([counts], slots)
