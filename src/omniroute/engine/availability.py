"""Enterprise availability (GetAvailability): network and per-node ATP, dispositions, supply."""

from __future__ import annotations

import datetime as dt

import msgspec


class NodeAvailability(msgspec.Struct, frozen=True):
    """One node's position in one SKU."""

    node_id: str
    atp: int
    """Available to promise for the channel: sellable - reserved - safety stock, floored at 0."""
    sellable: int
    damaged: int
    in_transit: int
    quarantine: int
    reserved: int
    safety_stock: int


class FutureSupply(msgspec.Struct, frozen=True):
    """Units expected at a node from a date."""

    node_id: str
    available_date: dt.date
    qty: int


class SkuAvailability(msgspec.Struct, frozen=True):
    """Availability of one SKU for a channel."""

    sku: str
    known: bool
    """False for a SKU the catalog does not have (not an error)."""
    network_atp: int = 0
    """ATP summed over enabled nodes whose kind the channel may use and that serve it."""
    nodes: tuple[NodeAvailability, ...] = ()
    supply: tuple[FutureSupply, ...] = ()
