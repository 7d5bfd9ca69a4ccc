"""A realistic, deterministic US fulfillment network written in the network file formats.

`write_demo_network` places distribution centres, stores, drop-ship vendors and one digital
node at real US population centres (coordinates of real ZIP codes, looked up offline in the
`zipcodes` package), builds a catalog with every SKU kind, stocks it, schedules future supply
and writes a carrier model and rulesets that follow published carrier practice. The output is
byte-identical for a given (nodes, skus, seed): every random draw comes from one
`numpy.random.default_rng(seed)` in a fixed order, only integer and uniform draws are used (no
transcendental functions whose last bit could differ between C libraries), floats are written
with a fixed number of decimals, and dates are offsets from a fixed reference date.

The embedded network (`EMBEDDED`, checked in under `demo_network/`) is what `omniroute serve`
runs when no data directory is given. Regenerate it after changing anything here (or after a
`zipcodes` upgrade) with `regenerate_embedded()`, or
`omniroute demo-network src/omniroute/sim/demo_network --nodes 60 --skus 400 --seed 7`;
a unit test fails while the two differ.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import zipcodes

REFERENCE_DATE = dt.date(2026, 12, 1)
"""Day zero of every generated supply date; fixed so the output never depends on today."""


@dataclasses.dataclass(frozen=True)
class DemoSpec:
    """Parameters of a generated network."""

    nodes: int
    """Number of nodes of every kind (DCs, stores, vendors and the digital node)."""
    skus: int
    """Number of SKUs, the fixed seed-scenario SKUs included."""
    seed: int
    """Seed of the random generator."""


EMBEDDED = DemoSpec(nodes=60, skus=400, seed=7)
"""The network checked in under `demo_network/` and served by default."""

MIN_NODES = 10
"""Room for 3 DCs, 2 vendors, the digital node and a few stores."""

# The DESIGN section 5 scenario needs these exact SKUs in every generated network.
TSHIRT_SKU = "TSHIRT-BLK-M"
EGIFT_SKU = "EGIFT-50"
GIFTCARD_SKU = "GIFTCARD-50"
CUSTOM_SKU = "CUSTOM-JACKET"
PREORDER_SKU = "PREORDER-CONSOLE"
HAZMAT_SKU = "HAZ-LITHIUM-BATT"
SEED_SKUS = (TSHIRT_SKU, EGIFT_SKU, GIFTCARD_SKU, CUSTOM_SKU, PREORDER_SKU, HAZMAT_SKU)

DIGITAL_NODE_ID = "DIGITAL-01"

FILES = ("nodes.csv", "skus.csv", "inventory.csv", "supply.csv", "postal.csv", "rules.toml",
         "ATTRIBUTION.md")
"""Every file `write_demo_network` writes."""


def embedded_network_dir() -> Path:
    """Directory of the embedded demo network (ships inside the package)."""
    return Path(__file__).resolve().parent / "demo_network"


class _Metro(NamedTuple):
    code: str
    city: str
    zip_code: str
    population_k: int
    """Metro-area population in thousands (2020 census, rounded): weights the store count."""


# The largest US metropolitan areas by population, each with one real ZIP near its centre.
_METROS: tuple[_Metro, ...] = (
    _Metro("NYC", "New York NY", "10001", 19_770),
    _Metro("LAX", "Los Angeles CA", "90012", 13_200),
    _Metro("CHI", "Chicago IL", "60601", 9_620),
    _Metro("DFW", "Dallas TX", "75201", 7_640),
    _Metro("HOU", "Houston TX", "77002", 7_120),
    _Metro("WAS", "Washington DC", "20001", 6_390),
    _Metro("PHL", "Philadelphia PA", "19103", 6_240),
    _Metro("MIA", "Miami FL", "33130", 6_140),
    _Metro("ATL", "Atlanta GA", "30303", 6_090),
    _Metro("BOS", "Boston MA", "02108", 4_940),
    _Metro("PHX", "Phoenix AZ", "85004", 4_850),
    _Metro("SFO", "San Francisco CA", "94103", 4_750),
    _Metro("RIV", "Riverside CA", "92501", 4_600),
    _Metro("DET", "Detroit MI", "48226", 4_390),
    _Metro("SEA", "Seattle WA", "98101", 4_020),
    _Metro("MSP", "Minneapolis MN", "55401", 3_690),
    _Metro("SAN", "San Diego CA", "92101", 3_300),
    _Metro("TPA", "Tampa FL", "33602", 3_180),
    _Metro("DEN", "Denver CO", "80202", 2_960),
    _Metro("BAL", "Baltimore MD", "21201", 2_840),
    _Metro("STL", "St. Louis MO", "63101", 2_820),
    _Metro("ORL", "Orlando FL", "32801", 2_670),
    _Metro("CLT", "Charlotte NC", "28202", 2_660),
    _Metro("SAT", "San Antonio TX", "78205", 2_560),
    _Metro("PDX", "Portland OR", "97204", 2_510),
    _Metro("SAC", "Sacramento CA", "95814", 2_400),
    _Metro("PIT", "Pittsburgh PA", "15222", 2_370),
    _Metro("AUS", "Austin TX", "78701", 2_280),
    _Metro("LAS", "Las Vegas NV", "89101", 2_270),
    _Metro("CIN", "Cincinnati OH", "45202", 2_260),
    _Metro("MKC", "Kansas City MO", "64106", 2_190),
    _Metro("CMH", "Columbus OH", "43215", 2_140),
    _Metro("IND", "Indianapolis IN", "46204", 2_110),
    _Metro("CLE", "Cleveland OH", "44114", 2_090),
    _Metro("SJC", "San Jose CA", "95113", 2_000),
    _Metro("BNA", "Nashville TN", "37203", 1_990),
    _Metro("VAB", "Virginia Beach VA", "23451", 1_800),
    _Metro("PVD", "Providence RI", "02903", 1_680),
    _Metro("JAX", "Jacksonville FL", "32202", 1_610),
    _Metro("MKE", "Milwaukee WI", "53202", 1_570),
    _Metro("RAL", "Raleigh NC", "27601", 1_410),
    _Metro("OKC", "Oklahoma City OK", "73102", 1_430),
    _Metro("MEM", "Memphis TN", "38103", 1_340),
    _Metro("RIC", "Richmond VA", "23219", 1_310),
    _Metro("SDF", "Louisville KY", "40202", 1_290),
    _Metro("MSY", "New Orleans LA", "70112", 1_270),
    _Metro("SLC", "Salt Lake City UT", "84101", 1_260),
    _Metro("HFD", "Hartford CT", "06103", 1_210),
    _Metro("BUF", "Buffalo NY", "14202", 1_170),
    _Metro("BHM", "Birmingham AL", "35203", 1_120),
    _Metro("ROC", "Rochester NY", "14604", 1_090),
    _Metro("GRR", "Grand Rapids MI", "49503", 1_090),
    _Metro("TUS", "Tucson AZ", "85701", 1_040),
    _Metro("HNL", "Honolulu HI", "96813", 1_020),
    _Metro("TUL", "Tulsa OK", "74103", 1_020),
    _Metro("FAT", "Fresno CA", "93721", 1_010),
    _Metro("ORH", "Worcester MA", "01608", 980),
    _Metro("OMA", "Omaha NE", "68102", 970),
    _Metro("BDR", "Bridgeport CT", "06604", 960),
    _Metro("GSP", "Greenville SC", "29601", 930),
    _Metro("ABQ", "Albuquerque NM", "87102", 920),
    _Metro("BFL", "Bakersfield CA", "93301", 910),
    _Metro("ALB", "Albany NY", "12207", 900),
    _Metro("TYS", "Knoxville TN", "37902", 880),
    _Metro("ELP", "El Paso TX", "79901", 870),
    _Metro("BTR", "Baton Rouge LA", "70801", 870),
    _Metro("MFE", "McAllen TX", "78501", 870),
    _Metro("ABE", "Allentown PA", "18101", 860),
    _Metro("CAE", "Columbia SC", "29201", 830),
    _Metro("BOI", "Boise ID", "83702", 760),
    _Metro("ANC", "Anchorage AK", "99501", 400),
)


class _Site(NamedTuple):
    node_id: str
    zip_code: str


# Distribution-centre sites at real US logistics hubs, ordered so that any prefix of the list
# spreads across regions (Northeast, West, Texas, Southeast, Midwest, Northwest, ...).
_DC_SITES: tuple[_Site, ...] = (
    _Site("DC-NJ-EDISON", "08837"),
    _Site("DC-CA-ONTARIO", "91761"),
    _Site("DC-TX-FORTWORTH", "76177"),
    _Site("DC-GA-MCDONOUGH", "30253"),
    _Site("DC-IL-JOLIET", "60436"),
    _Site("DC-WA-KENT", "98032"),
    _Site("DC-PA-ALLENTOWN", "18106"),
    _Site("DC-OH-COLUMBUS", "43217"),
    _Site("DC-CA-TRACY", "95304"),
    _Site("DC-TN-MEMPHIS", "38118"),
    _Site("DC-FL-JACKSONVILLE", "32218"),
    _Site("DC-AZ-PHOENIX", "85043"),
    _Site("DC-KY-LOUISVILLE", "40218"),
    _Site("DC-CO-DENVER", "80239"),
    _Site("DC-NV-RENO", "89502"),
    _Site("DC-UT-SALTLAKE", "84104"),
    _Site("DC-IN-PLAINFIELD", "46168"),
    _Site("DC-MO-KANSASCITY", "64120"),
)


class _VendorSite(NamedTuple):
    node_id: str
    zip_code: str
    categories: tuple[str, ...]
    """Standard-SKU categories in the vendor's own assortment."""
    channels: tuple[str, ...]
    made_to_order: bool
    """Builds made-to-order SKUs (no stock); its processing_days is the build lead time."""


# Drop-ship vendors at real manufacturing / wholesale districts. The first one builds custom
# items so that every network of at least MIN_NODES nodes can serve the seed scenario.
_VENDOR_SITES: tuple[_VendorSite, ...] = (
    _VendorSite("VENDOR-CUSTOMWEAR-CA", "90058", (), ("*",), made_to_order=True),
    _VendorSite("VENDOR-ELECTRONICS-TX", "75081", ("ELC",), ("web", "app"), made_to_order=False),
    _VendorSite("VENDOR-HOMEGOODS-NC", "27260", ("HOM",), ("*",), made_to_order=False),
    _VendorSite("VENDOR-OUTDOOR-UT", "84404", ("SPT",), ("web", "app"), made_to_order=False),
    _VendorSite("VENDOR-BEAUTY-NY", "11101", ("BTY",), ("*",), made_to_order=False),
    _VendorSite("VENDOR-TOYS-CA", "90245", ("TOY",), ("web", "app"), made_to_order=False),
    _VendorSite("VENDOR-FURNITURE-NC", "28601", (), ("*",), made_to_order=True),
    _VendorSite("VENDOR-FOOTWEAR-MA", "02210", ("FTW", "APP"), ("*",), made_to_order=False),
)

# Ashburn, Virginia: the largest US data-centre cluster, a fitting home for the digital node.
_DIGITAL_ZIP = "20147"


class _Category(NamedTuple):
    code: str
    share: float
    """Fraction of generated standard SKUs."""
    min_kg: float
    max_kg: float
    hazmat_share: float
    """Fraction that is hazardous (lithium batteries, aerosols, fuels, cleaning chemicals)."""
    store_carry: float
    """Probability that a store carries a SKU of this category."""


_CATEGORIES: tuple[_Category, ...] = (
    _Category("APP", 0.28, 0.10, 1.50, 0.00, 0.25),  # apparel
    _Category("FTW", 0.10, 0.50, 2.00, 0.00, 0.20),  # footwear
    _Category("HOM", 0.18, 0.30, 15.0, 0.02, 0.10),  # home
    _Category("ELC", 0.14, 0.10, 8.00, 0.10, 0.10),  # electronics
    _Category("TOY", 0.10, 0.10, 5.00, 0.01, 0.15),  # toys
    _Category("BTY", 0.10, 0.05, 1.00, 0.12, 0.25),  # beauty
    _Category("SPT", 0.10, 0.20, 15.0, 0.03, 0.10),  # sporting goods
)

# Shares of generated (non-seed) SKUs by kind.
_KIND_SHARES = (("standard", 0.86), ("made_to_order", 0.06), ("digital", 0.04), ("gift_card", 0.04))

_DISPOSITIONS = ("sellable", "damaged", "in_transit", "quarantine")


@dataclasses.dataclass
class _Node:
    node_id: str
    kind: str
    postal_code: str
    lat: float
    lon: float
    priority: int
    capabilities: tuple[str, ...]
    channels: tuple[str, ...]
    daily_capacity_units: int
    handling_cost: float
    pick_cost: float
    processing_days: int
    enabled: bool
    categories: tuple[str, ...] = ()
    first_in_metro: bool = False


@dataclasses.dataclass(frozen=True)
class _Sku:
    sku: str
    kind: str
    category: str
    weight_kg: float
    hazmat: bool
    returnable: bool


# --- geography -------------------------------------------------------------------------------


def _usable(record: dict[str, Any]) -> bool:
    """A ZIP with a delivery area and real coordinates (some records carry 0,0 for unknown)."""
    return (bool(record["active"]) and record["zip_code_type"] != "MILITARY"
            and not (float(record["lat"]) == 0.0 and float(record["long"]) == 0.0))


def _lookup(zip_code: str) -> tuple[float, float]:
    """(lat, lon) of a real, active ZIP; a missing one is a bug in the tables above."""
    # zipcodes' public functions are unannotated wrappers over its typed Rust core.
    found: list[dict[str, Any]] = zipcodes.matching(zip_code)  # type: ignore[no-untyped-call]
    if not found or not _usable(found[0]):
        raise ValueError(f"ZIP {zip_code} is not an active ZIP with coordinates in zipcodes")
    return float(found[0]["lat"]), float(found[0]["long"])


def _nearby_zips(zip_code: str, radius_miles: float) -> list[tuple[str, float, float]]:
    """Real standard delivery ZIPs within a radius, sorted by ZIP so choices are stable."""
    lat, lon = _lookup(zip_code)
    records: list[dict[str, Any]] = zipcodes.filter_by_coordinates(  # type: ignore[no-untyped-call]
        lat, lon, radius_miles)
    found = {
        record["zip_code"]: (float(record["lat"]), float(record["long"]))
        for record in records
        if _usable(record) and record["zip_code_type"] == "STANDARD"
    }
    found[zip_code] = (lat, lon)
    return [(code, la, lo) for code, (la, lo) in sorted(found.items())]


def postal_prefix_centroids() -> list[tuple[str, float, float]]:
    """(3-digit ZIP prefix, lat, lon): the mean point of each prefix's active ZIPs.

    Military (APO/FPO) ZIPs and records without coordinates are left out. Means are plain
    arithmetic means in file order; a prefix spanning the antimeridian (Pacific islands) is
    averaged in [0, 360) longitude and wrapped back.
    """
    lats: dict[str, list[float]] = defaultdict(list)
    lons: dict[str, list[float]] = defaultdict(list)
    records: list[dict[str, Any]] = zipcodes.list_all()  # type: ignore[no-untyped-call]
    for record in records:
        if _usable(record):
            prefix = record["zip_code"][:3]
            lats[prefix].append(float(record["lat"]))
            lons[prefix].append(float(record["long"]))
    out = []
    for prefix in sorted(lats):
        lon_values = lons[prefix]
        if max(lon_values) - min(lon_values) > 180.0:
            shifted = [lon + 360.0 if lon < 0.0 else lon for lon in lon_values]
            mean_lon = sum(shifted) / len(shifted)
            mean_lon = mean_lon - 360.0 if mean_lon > 180.0 else mean_lon
        else:
            mean_lon = sum(lon_values) / len(lon_values)
        out.append((prefix, sum(lats[prefix]) / len(lats[prefix]), mean_lon))
    return out


# --- nodes -----------------------------------------------------------------------------------


def _apportion(weights: Sequence[int], seats: int) -> list[int]:
    """D'Hondt (highest averages) apportionment: deterministic, big metros first on ties."""
    counts = [0] * len(weights)
    for _ in range(seats):
        best = max(range(len(weights)), key=lambda i: (weights[i] / (counts[i] + 1), -i))
        counts[best] += 1
    return counts


def _money(rng: np.random.Generator, low: float, high: float) -> float:
    """A uniform amount rounded to cents (rounded here so the file and memory agree)."""
    return round(low + (high - low) * float(rng.random()), 2)


def _numbered(base: str, i: int, cycle: int) -> str:
    """Site id for the i-th use of a site list of length `cycle`: a second building gets '-2'."""
    return base if i < cycle else f"{base}-{i // cycle + 1}"


def _dc_nodes(rng: np.random.Generator, count: int) -> list[_Node]:
    nodes = []
    for i in range(count):
        site = _DC_SITES[i % len(_DC_SITES)]
        lat, lon = _lookup(site.zip_code)
        capabilities = ["ship", "returns"]
        if i % 2 == 0:
            capabilities.append("gift_card")
        if i % 3 != 2:
            capabilities.append("hazmat")
        nodes.append(_Node(
            node_id=_numbered(site.node_id, i, len(_DC_SITES)), kind="dc",
            postal_code=site.zip_code, lat=lat, lon=lon, priority=1 + i % 3,
            capabilities=tuple(capabilities), channels=("*",),
            daily_capacity_units=100 * int(rng.integers(30, 121)),
            handling_cost=_money(rng, 1.5, 3.0), pick_cost=_money(rng, 0.2, 0.45),
            processing_days=int(rng.random() < 0.3),
            # A large network has a site closed for refit; the first DCs always run.
            enabled=not (count >= 6 and i == count - 1),
        ))
    return nodes


def _store_nodes(rng: np.random.Generator, count: int) -> list[_Node]:
    per_metro = _apportion([metro.population_k for metro in _METROS], count)
    stores: list[_Node] = []
    for metro, k in zip(_METROS, per_metro, strict=True):
        if k == 0:
            continue
        near = _nearby_zips(metro.zip_code, 15.0)
        others = [entry for entry in near if entry[0] != metro.zip_code]
        # Store 01 sits at the metro's representative ZIP; the rest at other real ZIPs nearby.
        picks = [next(entry for entry in near if entry[0] == metro.zip_code)]
        if k > 1:
            chosen = rng.choice(len(others), size=k - 1, replace=k - 1 > len(others))
            picks.extend(others[int(j)] for j in chosen)
        for j, (zip_code, lat, lon) in enumerate(picks):
            capabilities = ["ship", "pickup", "ship_to_store", "returns"]
            if len(stores) % 3 == 0:
                capabilities.append("gift_card")
            stores.append(_Node(
                node_id=f"STORE-{metro.code}-{j + 1:02d}", kind="store", postal_code=zip_code,
                lat=lat, lon=lon, priority=10 + int(rng.integers(0, 10)),
                capabilities=tuple(capabilities),
                channels=("web", "app") if rng.random() < 0.3 else ("*",),
                daily_capacity_units=10 * int(rng.integers(4, 41)),
                handling_cost=_money(rng, 4.0, 7.0), pick_cost=_money(rng, 0.6, 1.0),
                processing_days=1, enabled=j == 0 or rng.random() >= 0.06,
                first_in_metro=j == 0,
            ))
    if all(store.enabled for store in stores):
        stores[-1].enabled = False  # always show a disabled node
    return stores


def _vendor_nodes(rng: np.random.Generator, count: int) -> list[_Node]:
    nodes = []
    for i in range(count):
        site = _VENDOR_SITES[i % len(_VENDOR_SITES)]
        lat, lon = _lookup(site.zip_code)
        if site.made_to_order:
            # Build lead time: longer than any stock node's processing, excluded from the
            # promise check for made-to-order SKUs (docs/routing.md, rule 5).
            capabilities: tuple[str, ...] = ("ship", "made_to_order")
            processing_days = int(rng.integers(3, 6))
            capacity = 10 * int(rng.integers(6, 16))
        else:
            capabilities = ("ship",)
            processing_days = int(rng.integers(1, 3))
            capacity = 50 * int(rng.integers(4, 17))
        nodes.append(_Node(
            node_id=_numbered(site.node_id, i, len(_VENDOR_SITES)), kind="vendor",
            postal_code=site.zip_code, lat=lat, lon=lon, priority=5 + i % 2,
            capabilities=capabilities, channels=site.channels, daily_capacity_units=capacity,
            handling_cost=_money(rng, 2.0, 4.0), pick_cost=_money(rng, 0.3, 0.7),
            processing_days=processing_days, enabled=True, categories=site.categories,
        ))
    return nodes


def _make_nodes(rng: np.random.Generator, count: int) -> list[_Node]:
    """DCs (about 9%), stores by metro population, vendors (about 5%), one digital node."""
    n_vendors = max(2, round(count * 0.05))
    n_dcs = max(3, round(count * 0.09))
    n_stores = count - n_vendors - n_dcs - 1
    nodes = _dc_nodes(rng, n_dcs) + _store_nodes(rng, n_stores) + _vendor_nodes(rng, n_vendors)
    lat, lon = _lookup(_DIGITAL_ZIP)
    nodes.append(_Node(
        node_id=DIGITAL_NODE_ID, kind="digital", postal_code=_DIGITAL_ZIP, lat=lat, lon=lon,
        priority=1, capabilities=("gift_card",), channels=("*",), daily_capacity_units=100_000,
        handling_cost=0.10, pick_cost=0.05, processing_days=0, enabled=True,
    ))
    return nodes


# --- catalog ---------------------------------------------------------------------------------


def _fixed_skus() -> list[_Sku]:
    return [
        _Sku(TSHIRT_SKU, "standard", "APP", 0.20, hazmat=False, returnable=True),
        _Sku(EGIFT_SKU, "digital", "", 0.0, hazmat=False, returnable=False),
        _Sku(GIFTCARD_SKU, "gift_card", "", 0.05, hazmat=False, returnable=False),
        _Sku(CUSTOM_SKU, "made_to_order", "", 1.80, hazmat=False, returnable=False),
        _Sku(PREORDER_SKU, "standard", "ELC", 4.50, hazmat=False, returnable=True),
        _Sku(HAZMAT_SKU, "standard", "ELC", 0.35, hazmat=True, returnable=False),
    ]


def _make_skus(rng: np.random.Generator, count: int) -> list[_Sku]:
    fixed = _fixed_skus()
    kinds = rng.choice(len(_KIND_SHARES), size=count - len(fixed),
                       p=[share for _, share in _KIND_SHARES])
    categories = rng.choice(len(_CATEGORIES), size=count - len(fixed),
                            p=[category.share for category in _CATEGORIES])
    generated = []
    for i, (kind_index, category_index) in enumerate(zip(kinds, categories, strict=True)):
        kind = _KIND_SHARES[int(kind_index)][0]
        serial = 10_001 + i
        weight_draw = float(rng.random())
        hazmat_draw = float(rng.random())
        returnable_draw = float(rng.random())
        if kind == "standard":
            category = _CATEGORIES[int(category_index)]
            generated.append(_Sku(
                f"{category.code}-{serial}", kind, category.code,
                round(category.min_kg + (category.max_kg - category.min_kg) * weight_draw, 3),
                hazmat=hazmat_draw < category.hazmat_share, returnable=returnable_draw < 0.95))
        elif kind == "made_to_order":
            generated.append(_Sku(f"MTO-{serial}", kind, "", round(0.5 + 19.5 * weight_draw, 3),
                                  hazmat=False, returnable=False))
        elif kind == "digital":
            generated.append(_Sku(f"DGT-{serial}", kind, "", 0.0, hazmat=False,
                                  returnable=False))
        else:
            generated.append(_Sku(f"GFC-{serial}", kind, "", 0.05, hazmat=False,
                                  returnable=False))
    return fixed + sorted(generated, key=lambda sku: sku.sku)


# --- stock and supply ------------------------------------------------------------------------


def _qty(rng: np.random.Generator, low: int, high: int) -> int:
    """Uniform integer in [low, high]."""
    return int(rng.integers(low, high + 1))


def _make_inventory(rng: np.random.Generator, nodes: list[_Node], skus: list[_Sku]
                    ) -> list[tuple[str, str, str, int]]:
    rows: list[tuple[str, str, str, int]] = []
    categories = {category.code: category for category in _CATEGORIES}
    dc_ids = [node.node_id for node in nodes if node.kind == "dc"]
    for sku in skus:
        if sku.kind in ("digital", "made_to_order"):
            continue  # never stocked: issued electronically or built per order
        draws = rng.random((len(nodes), 5))
        for node, draw in zip(nodes, draws, strict=True):
            carry, qty_draw, damaged, in_transit, quarantine = (float(x) for x in draw)
            qty = -1  # no position
            if node.kind == "digital" or (node.kind == "vendor" and not node.categories):
                continue
            if sku.sku == PREORDER_SKU:
                # Set up at the first DCs ahead of launch: a position, nothing sellable yet.
                if node.node_id in dc_ids[:2]:
                    rows.append((sku.sku, node.node_id, "sellable", 0))
                continue
            if sku.kind == "gift_card":
                if "gift_card" in node.capabilities and node.kind in ("dc", "store"):
                    qty = (int(200 + 1800 * qty_draw) if node.kind == "dc"
                           else int(10 + 40 * qty_draw))
            elif sku.hazmat and "hazmat" not in node.capabilities:
                # Stores still sell hazmat items over the counter (pickup), never ship them.
                if node.kind == "store" and sku.sku != HAZMAT_SKU and carry < 0.08:
                    qty = int(1 + 6 * qty_draw)
            elif node.kind == "dc":
                if sku.sku in (TSHIRT_SKU, HAZMAT_SKU):
                    qty = 300 + int(600 * qty_draw)
                elif carry < 0.85:
                    qty = int(10 + 790 * qty_draw) if qty_draw >= 0.04 else 0  # 0: stocked out
            elif node.kind == "store":
                if sku.sku == TSHIRT_SKU:
                    if node.first_in_metro or carry < 0.7:
                        qty = 3 + int(10 * qty_draw)
                elif sku.sku != HAZMAT_SKU and carry < categories[sku.category].store_carry:
                    qty = int(1 + 12 * qty_draw)
            elif sku.category in node.categories and carry < 0.5:
                qty = 20 + int(380 * qty_draw)  # a vendor's own assortment
            if qty < 0:
                continue
            rows.append((sku.sku, node.node_id, "sellable", qty))
            # Each draw below its threshold adds a position; the draw, rescaled to [0, 1),
            # then sizes it, so no extra draws are needed.
            if damaged < 0.03:
                rows.append((sku.sku, node.node_id, "damaged", 1 + int(5 * damaged / 0.03)))
            if node.kind in ("dc", "store") and in_transit < 0.04:
                low, span = (10, 110) if node.kind == "dc" else (2, 10)
                rows.append((sku.sku, node.node_id, "in_transit",
                             low + int(span * in_transit / 0.04)))
            if "returns" in node.capabilities and quarantine < 0.015:
                rows.append((sku.sku, node.node_id, "quarantine",
                             1 + int(6 * quarantine / 0.015)))
    return rows


def _make_supply(rng: np.random.Generator, nodes: list[_Node], skus: list[_Sku]
                 ) -> list[tuple[str, str, int, dt.date]]:
    rows: list[tuple[str, str, int, dt.date]] = []
    dcs = [node for node in nodes if node.kind == "dc" and node.enabled]
    stores = [node for node in nodes if node.kind == "store" and node.enabled]
    for sku in skus:
        if sku.kind in ("digital", "made_to_order"):
            continue
        po_draw, transfer_draw = (float(x) for x in rng.random(2))
        dc = dcs[int(rng.integers(0, len(dcs)))]
        store = stores[int(rng.integers(0, len(stores)))]
        po_qty, po_days = 10 * _qty(rng, 5, 150), _qty(rng, 3, 45)
        transfer_qty, transfer_days = _qty(rng, 2, 24), _qty(rng, 1, 7)
        if sku.sku == PREORDER_SKU:
            # Launch: two POs at the first DCs, 2 and 5 weeks out (inside the 10-40 day window).
            rows.append((sku.sku, dcs[0].node_id, 150, REFERENCE_DATE + dt.timedelta(days=14)))
            rows.append((sku.sku, dcs[1].node_id, 400, REFERENCE_DATE + dt.timedelta(days=35)))
            continue
        if sku.sku == TSHIRT_SKU:
            rows.append((sku.sku, dcs[0].node_id, 1200, REFERENCE_DATE + dt.timedelta(days=10)))
            continue
        if sku.hazmat and "hazmat" not in dc.capabilities:
            continue
        if sku.kind == "gift_card" and "gift_card" not in dc.capabilities:
            continue
        if po_draw < 0.12:
            rows.append((sku.sku, dc.node_id, po_qty, REFERENCE_DATE + dt.timedelta(days=po_days)))
        if transfer_draw < 0.03 and not sku.hazmat and sku.kind == "standard":
            rows.append((sku.sku, store.node_id, transfer_qty,
                         REFERENCE_DATE + dt.timedelta(days=transfer_days)))
    return rows


# --- files -----------------------------------------------------------------------------------


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _write(path: Path, text: str) -> None:
    # Bytes, not text mode: no platform newline translation.
    path.write_bytes(text.encode("utf-8"))


def _attribution() -> str:
    version = metadata.version("zipcodes")
    return f"""\
# Attribution

Generated by `omniroute.sim.demo_network.write_demo_network`; do not edit by hand.

Node coordinates and the 3-digit ZIP prefix centroids in `postal.csv` are derived from the
US ZIP code data embedded in the [`zipcodes`](https://github.com/seanpianka/zipcodes) Python
package (version {version}, MIT License, by Sean Pianka). That package assembles its data from
unitedstateszipcodes.org (base records), [GeoNames](https://www.geonames.org/) (coordinates,
licensed under Creative Commons Attribution 4.0) and the USPS ZIP Locale Detail list (active
delivery ZIP codes). Prefix centroids are arithmetic means of the active, non-military ZIP
codes with known coordinates in each prefix.

Metro-area populations used to place stores are rounded 2020 US Census figures. Node names,
the catalog, stock, supply, costs and capacities are synthetic.
"""


def write_demo_network(directory: Path, *, nodes: int, skus: int, seed: int) -> None:
    """Write a network of `nodes` nodes and `skus` SKUs into `directory` (created if missing).

    Deterministic: the same arguments (and the same `zipcodes` data) give byte-identical files.
    """
    if nodes < MIN_NODES:
        raise ValueError(f"nodes must be at least {MIN_NODES}, got {nodes}")
    if skus < len(SEED_SKUS):
        raise ValueError(f"skus must be at least {len(SEED_SKUS)} (the seed SKUs), got {skus}")
    rng = np.random.default_rng(seed)
    node_list = _make_nodes(rng, nodes)
    sku_list = _make_skus(rng, skus)
    inventory = _make_inventory(rng, node_list, sku_list)
    supply = _make_supply(rng, node_list, sku_list)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / "nodes.csv", _csv_text(
        ("node_id", "kind", "postal_code", "lat", "lon", "priority", "capabilities", "channels",
         "daily_capacity_units", "handling_cost", "pick_cost", "processing_days", "enabled"),
        ((n.node_id, n.kind, n.postal_code, f"{n.lat:.4f}", f"{n.lon:.4f}", n.priority,
          "|".join(n.capabilities), "|".join(n.channels), n.daily_capacity_units,
          f"{n.handling_cost:.2f}", f"{n.pick_cost:.2f}", n.processing_days, _flag(n.enabled))
         for n in node_list)))
    _write(directory / "skus.csv", _csv_text(
        ("sku", "kind", "weight_kg", "hazmat", "returnable"),
        ((s.sku, s.kind, f"{s.weight_kg:.3f}", _flag(s.hazmat), _flag(s.returnable))
         for s in sku_list)))
    _write(directory / "inventory.csv", _csv_text(
        ("sku", "node_id", "disposition", "qty"), inventory))
    _write(directory / "supply.csv", _csv_text(
        ("sku", "node_id", "qty", "available_date"),
        ((sku, node_id, qty, day.isoformat()) for sku, node_id, qty, day in supply)))
    _write(directory / "postal.csv", _csv_text(
        ("postal_code", "lat", "lon"),
        ((prefix, f"{lat:.4f}", f"{lon:.4f}") for prefix, lat, lon in postal_prefix_centroids())))
    _write(directory / "rules.toml", RULES_TOML)
    _write(directory / "ATTRIBUTION.md", _attribution())


def regenerate_embedded() -> Path:
    """Rewrite the embedded network from `EMBEDDED`; returns its directory."""
    directory = embedded_network_dir()
    write_demo_network(directory, nodes=EMBEDDED.nodes, skus=EMBEDDED.skus, seed=EMBEDDED.seed)
    return directory


RULES_TOML = """\
# Carrier model and routing rulesets of the omniroute demo network.
# Money is USD per shipment / per kg; distances are great-circle km; days are calendar days.
currency = "USD"

[carrier]
service_levels = ["ground", "two_day", "next_day"]

# Zones follow the US carriers' distance bands measured from the origin ZIP3 to the destination
# ZIP3 (the USPS zone chart: zone 1 up to 50 miles, 2 up to 150, 3 up to 300, 4 up to 600,
# 5 up to 1000, 6 up to 1400, 7 up to 1800, 8 beyond), converted at 1 mile = 1.609344 km.
# Upper edges are inclusive. The last band is open-ended so every destination has a zone.
zones = [
  { zone = 1, max_km = 80.5 },
  { zone = 2, max_km = 241.4 },
  { zone = 3, max_km = 482.8 },
  { zone = 4, max_km = 965.6 },
  { zone = 5, max_km = 1609.3 },
  { zone = 6, max_km = 2253.1 },
  { zone = 7, max_km = 2896.8 },
  { zone = 8, max_km = inf },
]

# Business days in transit per zone. Ground follows the published ground time-in-transit maps
# (1 day locally, rising to 5 days coast to coast); the air services are guaranteed
# nationwide at a fixed number of days regardless of zone.
[carrier.transit_days]
ground = [1, 1, 2, 3, 3, 4, 5, 5]
two_day = [2, 2, 2, 2, 2, 2, 2, 2]
next_day = [1, 1, 1, 1, 1, 1, 1, 1]

# Most days from order release to delivery (processing_days + transit) a node may take.
# Ground: a DC (0-1 processing days) or store (1 day) reaches every contiguous-US zone in
# time; two-day and next-day need a same- or next-day release.
[carrier.promise_days]
ground = 6
two_day = 3
next_day = 2

# Rate cards: cost = base[zone] + per_kg[zone] * shipment kg. Both grow with zone as on the
# carriers' published daily rates: ground roughly 10-15 USD for a light parcel, 2nd-day air
# roughly two to three times ground, next-day air four to six times ground.
[carrier.rates.ground]
base = [9.80, 10.20, 10.75, 11.40, 12.10, 12.85, 13.60, 14.40]
per_kg = [0.90, 1.05, 1.25, 1.55, 1.90, 2.30, 2.70, 3.10]

[carrier.rates.two_day]
base = [22.50, 24.00, 26.50, 29.00, 31.50, 34.00, 36.50, 39.00]
per_kg = [3.00, 3.40, 3.90, 4.50, 5.20, 5.90, 6.60, 7.40]

[carrier.rates.next_day]
base = [38.00, 42.00, 47.00, 53.00, 59.00, 65.00, 71.00, 77.00]
per_kg = [5.50, 6.20, 7.00, 8.00, 9.20, 10.40, 11.60, 12.80]

# Pure cost: minimise ship + handling + penalties, nothing else.
[rulesets.default]
version = 1
# A second parcel costs the customer experience something beyond its price: about a quarter
# of a ground label.
split_penalty = 3.0
# An unfilled unit is a lost sale: worth more than any single ground shipment.
unfilled_penalty = 50.0
max_shipments = 3
ship_from_store = true
pickup_ship_to_store = true

[rulesets.default.weights]
cost = 1.0
distance_per_km = 0.0
priority = 0.0
capacity_balance = 0.0

# Marketplace orders carry the marketplace's own SLA and fees: fulfil them from DCs and
# vendors, never from store shelves.
[rulesets.default.channel_node_kinds]
web = ["dc", "store", "vendor", "digital"]
app = ["dc", "store", "vendor", "digital"]
marketplace = ["dc", "vendor", "digital"]
"*" = ["dc", "store", "vendor", "digital"]

# Units held back from ATP: stores keep a unit or two for walk-in shoppers (and to absorb
# shrink the POS has not seen yet); marketplaces penalise cancellations, so they get a buffer.
[rulesets.default.safety_stock."*"]
dc = 0
store = 2
vendor = 0

[rulesets.default.safety_stock.marketplace]
dc = 5
store = 3
vendor = 2

# Same costs, but stores only serve pickup and the node priority breaks near-ties towards DCs.
[rulesets.stores_last]
version = 1
split_penalty = 3.0
unfilled_penalty = 50.0
max_shipments = 3
ship_from_store = false
pickup_ship_to_store = true

[rulesets.stores_last.weights]
cost = 1.0
distance_per_km = 0.0
priority = 0.5
capacity_balance = 0.0

[rulesets.stores_last.channel_node_kinds]
web = ["dc", "store", "vendor", "digital"]
app = ["dc", "store", "vendor", "digital"]
marketplace = ["dc", "vendor", "digital"]
"*" = ["dc", "store", "vendor", "digital"]

[rulesets.stores_last.safety_stock."*"]
dc = 0
store = 2
vendor = 0

[rulesets.stores_last.safety_stock.marketplace]
dc = 5
store = 3
vendor = 2

# Default ruleset per sales channel; '*' serves channels not named here.
[channels]
web = "default"
app = "default"
marketplace = "default"
"*" = "default"
"""
