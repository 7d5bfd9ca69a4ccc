"""The arrays themselves and `build_state`, which fills them from a validated `Network`.

Layout (first axis named first, STYLE "Names"):

- `NodeArrays`: one entry per node index.
- `SkuArrays`: one entry per SKU index.
- `Inventory.on_hand[disposition, sku, node]`, `Inventory.reserved[sku, node]`.
- `Supply`: future supply as CSR by SKU: rows `sku_offsets[s]:sku_offsets[s + 1]` sorted by
  (day, node), each row a (node_idx, day offset from `today`, qty).
- `PostalTable.distance_km[postal, node]` and `zone_idx[postal, node]`: destination-major so
  the row an order needs is contiguous. Transit days are `CarrierTables.transit_days[level,
  zone]`, a table of a few dozen entries: one lookup per node beats a [level, postal, node] copy.

Ownership (one writer per array; everyone else reads the current values on every call and never
caches anything derived from them, e.g. ATP):

- sync sidecar (issue 4): catalog, `Inventory.on_hand`, `Supply`, `version`.
- router reservations (issue 5): `Inventory.reserved`, `NodeArrays.capacity_used_today`.
- admin calls: `NodeArrays.enabled`, `NodeArrays.daily_capacity_units`.
- everything else is immutable after load.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omniroute.config import Capability, Network, NodeKind, Rules, SkuKind
from omniroute.config.network_files import Disposition
from omniroute.state.catalog import Catalog
from omniroute.state.geo import haversine_km, zone_index
from omniroute.state.stocked import U64, stocked_bits

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]

# Node kinds, SKU kinds and dispositions as small integers (the order is the enum's order).
NODE_KINDS: tuple[str, ...] = tuple(kind.value for kind in NodeKind)
KIND_DC, KIND_STORE, KIND_VENDOR, KIND_DIGITAL = range(4)
SKU_KINDS: tuple[str, ...] = tuple(kind.value for kind in SkuKind)
SKU_STANDARD, SKU_DIGITAL, SKU_GIFT_CARD, SKU_MADE_TO_ORDER = range(4)
DISPOSITIONS: tuple[str, ...] = tuple(d.value for d in Disposition)
SELLABLE = 0

# Capability bits of `NodeArrays.capability_mask`.
_CAPABILITY_ORDER = tuple(Capability)
(CAP_SHIP, CAP_PICKUP, CAP_SHIP_TO_STORE, CAP_RETURNS, CAP_MADE_TO_ORDER, CAP_GIFT_CARD,
 CAP_HAZMAT) = (1 << i for i in range(len(_CAPABILITY_ORDER)))
CAPABILITY_BIT: dict[Capability, int] = {c: 1 << i for i, c in enumerate(_CAPABILITY_ORDER)}


class NodeArrays(NamedTuple):
    """Per-node columns, indexed by node index."""

    kind: I8
    lat_deg: F64
    lon_deg: F64
    priority: I64
    capability_mask: I64
    """Bits CAP_*."""
    channel_mask: I64
    """Bit `Catalog.channel_bit[c]` set when the node serves channel c; -1 (all bits) for '*'."""
    daily_capacity_units: I64
    """Owner: admin calls."""
    capacity_used_today: I64
    """Owner: router reservations (issue 5), written from several worker processes."""
    handling_cost: F64
    """Money per shipment."""
    pick_cost: F64
    """Money per unit."""
    processing_days: I64
    enabled: U8
    """Owner: admin calls."""


class SkuArrays(NamedTuple):
    """Per-SKU columns, indexed by SKU index."""

    kind: I8
    weight_kg: F64
    hazmat: U8
    returnable: U8


class Inventory(NamedTuple):
    """Stock positions."""

    on_hand: I32
    """[disposition, sku, node] units. Owner: sync sidecar."""
    reserved: I32
    """[sku, node] units held by live reservations. Owner: router reservations."""
    stocked: U64
    """[sku, word] bitmap of the nodes with sellable on-hand (`state.stocked`). Owner: the
    writer of `on_hand`, in the same step."""

    @classmethod
    def of(cls, on_hand: I32, reserved: I32) -> Inventory:
        """An inventory whose stocked-node index is built from `on_hand`."""
        return cls(on_hand=on_hand, reserved=reserved, stocked=stocked_bits(on_hand[SELLABLE]))


class Supply(NamedTuple):
    """Future supply, CSR by SKU. Owner: sync sidecar."""

    sku_offsets: I64
    node_idx: I32
    day: I32
    """Days from `EngineState.today` until the units can be promised."""
    qty: I64


class PostalTable(NamedTuple):
    """Postal-area centroids and their precomputed node distances."""

    lat_deg: F64
    lon_deg: F64
    distance_km: F64
    """[postal, node] haversine km."""
    zone_idx: I8
    """[postal, node] index into the carrier's zone bands."""


class CarrierTables(NamedTuple):
    """The carrier model as dense tables indexed by [service level, zone band]."""

    band_max_km: F64
    zone_number: I64
    transit_days: I64
    promise_days: I64
    base_cost: F64
    per_kg_cost: F64
    level_index: dict[str, int]


class EngineState(NamedTuple):
    """Everything the engine reads (views are shared; see the module docstring for owners)."""

    catalog: Catalog
    nodes: NodeArrays
    skus: SkuArrays
    inventory: Inventory
    supply: Supply
    postal: PostalTable
    carrier: CarrierTables
    rules: Rules
    today: dt.date
    version: I64
    """[0] = inventory version; bumped by whoever writes on-hand, supply or reservations."""
    digital_node_idx: int
    """Index of the network's digital node, -1 if it has none."""


def carrier_tables(rules: Rules) -> CarrierTables:
    """Dense [level, zone] tables from the rules (the '*' rate table fills levels without one)."""
    carrier = rules.carrier
    levels = list(carrier.service_levels)
    n_zones = len(carrier.zones)
    base = np.zeros((len(levels), n_zones))
    per_kg = np.zeros((len(levels), n_zones))
    transit = np.zeros((len(levels), n_zones), dtype=np.int64)
    promise = np.zeros(len(levels), dtype=np.int64)
    for i, level in enumerate(levels):
        table = carrier.rates.get(level) or carrier.rates["*"]
        base[i] = table.base
        per_kg[i] = table.per_kg
        transit[i] = carrier.transit_days[level]
        promise[i] = carrier.promise_days[level]
    return CarrierTables(
        band_max_km=np.array([band.max_km for band in carrier.zones], dtype=np.float64),
        zone_number=np.array([band.zone for band in carrier.zones], dtype=np.int64),
        transit_days=transit, promise_days=promise, base_cost=base, per_kg_cost=per_kg,
        level_index={level: i for i, level in enumerate(levels)})


def postal_table(lat_deg: F64, lon_deg: F64, nodes: NodeArrays,
                 carrier: CarrierTables) -> PostalTable:
    """Distances and zones from every postal centroid to every node, computed once at load."""
    distance = haversine_km(nodes.lat_deg[None, :], nodes.lon_deg[None, :],
                            lat_deg[:, None], lon_deg[:, None])
    return PostalTable(lat_deg=lat_deg, lon_deg=lon_deg, distance_km=np.ascontiguousarray(distance),
                       zone_idx=np.ascontiguousarray(zone_index(distance, carrier.band_max_km)))


def supply_csr(n_skus: int, sku_idx: I64, node_idx: I64, day: I64, qty: I64) -> Supply:
    """Sort supply rows by (sku, day, node) and index them by SKU."""
    order = np.lexsort((node_idx, day, sku_idx))
    offsets = np.zeros(n_skus + 1, dtype=np.int64)
    np.add.at(offsets, sku_idx + 1, 1)
    return Supply(sku_offsets=np.cumsum(offsets), node_idx=node_idx[order].astype(np.int32),
                  day=day[order].astype(np.int32), qty=qty[order].astype(np.int64))


def build_state(network: Network, *, today: dt.date) -> EngineState:
    """Fill every array from a validated network (ids were cross-checked by `load_network`)."""
    channels: set[str] = set()
    for node in network.nodes:
        channels.update(node.channels)
    catalog = Catalog((s.sku for s in network.skus), (n.node_id for n in network.nodes),
                      channels, (p.postal_code for p in network.postal))
    n_nodes = len(network.nodes)

    def node_mask(channel_names: list[str]) -> int:
        mask = catalog.node_channel_mask(channel_names)
        return mask - (1 << 64) if mask >= 1 << 63 else mask

    nodes = NodeArrays(
        kind=np.array([NODE_KINDS.index(n.kind.value) for n in network.nodes], dtype=np.int8),
        lat_deg=np.array([n.lat for n in network.nodes], dtype=np.float64),
        lon_deg=np.array([n.lon for n in network.nodes], dtype=np.float64),
        priority=np.array([n.priority for n in network.nodes], dtype=np.int64),
        capability_mask=np.array([sum(CAPABILITY_BIT[c] for c in set(n.capabilities))
                                  for n in network.nodes], dtype=np.int64),
        channel_mask=np.array([node_mask(n.channels) for n in network.nodes], dtype=np.int64),
        daily_capacity_units=np.array([n.daily_capacity_units for n in network.nodes],
                                      dtype=np.int64),
        capacity_used_today=np.zeros(n_nodes, dtype=np.int64),
        handling_cost=np.array([n.handling_cost for n in network.nodes], dtype=np.float64),
        pick_cost=np.array([n.pick_cost for n in network.nodes], dtype=np.float64),
        processing_days=np.array([n.processing_days for n in network.nodes], dtype=np.int64),
        enabled=np.array([n.enabled for n in network.nodes], dtype=np.uint8),
    )
    skus = SkuArrays(
        kind=np.array([SKU_KINDS.index(s.kind.value) for s in network.skus], dtype=np.int8),
        weight_kg=np.array([s.weight_kg for s in network.skus], dtype=np.float64),
        hazmat=np.array([s.hazmat for s in network.skus], dtype=np.uint8),
        returnable=np.array([s.returnable for s in network.skus], dtype=np.uint8),
    )
    on_hand = np.zeros((len(DISPOSITIONS), len(network.skus), n_nodes), dtype=np.int32)
    for row in network.inventory:
        on_hand[DISPOSITIONS.index(row.disposition.value), catalog.sku_index[row.sku],
                catalog.node_index[row.node_id]] = row.qty
    inventory = Inventory.of(on_hand, np.zeros((len(network.skus), n_nodes), dtype=np.int32))
    supply = supply_csr(
        len(network.skus),
        np.array([catalog.sku_index[r.sku] for r in network.supply], dtype=np.int64),
        np.array([catalog.node_index[r.node_id] for r in network.supply], dtype=np.int64),
        np.array([(r.available_date - today).days for r in network.supply], dtype=np.int64),
        np.array([r.qty for r in network.supply], dtype=np.int64))
    carrier = carrier_tables(network.rules)
    postal = postal_table(np.array([p.lat for p in network.postal], dtype=np.float64),
                          np.array([p.lon for p in network.postal], dtype=np.float64),
                          nodes, carrier)
    digital = [i for i, n in enumerate(network.nodes) if n.kind is NodeKind.DIGITAL]
    return EngineState(catalog=catalog, nodes=nodes, skus=skus, inventory=inventory,
                       supply=supply, postal=postal, carrier=carrier, rules=network.rules,
                       today=today, version=np.zeros(1, dtype=np.int64),
                       digital_node_idx=digital[0] if digital else -1)
