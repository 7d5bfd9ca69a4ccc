"""Struct-of-arrays routing state: catalog, node and SKU arrays, inventory, supply, geography.

Everything the routing kernels read lives here as plain NumPy arrays (STYLE habit 5). Each
array has exactly one writer, named in a comment where it is declared.
"""

from omniroute.state.catalog import Catalog
from omniroute.state.geo import haversine_km, zone_index
from omniroute.state.store import (
    CAP_GIFT_CARD,
    CAP_HAZMAT,
    CAP_MADE_TO_ORDER,
    CAP_PICKUP,
    CAP_RETURNS,
    CAP_SHIP,
    CAP_SHIP_TO_STORE,
    DISPOSITIONS,
    KIND_DC,
    KIND_DIGITAL,
    KIND_STORE,
    KIND_VENDOR,
    NODE_KINDS,
    SKU_DIGITAL,
    SKU_GIFT_CARD,
    SKU_KINDS,
    SKU_MADE_TO_ORDER,
    SKU_STANDARD,
    CarrierTables,
    EngineState,
    Inventory,
    NodeArrays,
    PostalTable,
    SkuArrays,
    Supply,
    build_state,
)

__all__ = [
    "CAP_GIFT_CARD",
    "CAP_HAZMAT",
    "CAP_MADE_TO_ORDER",
    "CAP_PICKUP",
    "CAP_RETURNS",
    "CAP_SHIP",
    "CAP_SHIP_TO_STORE",
    "DISPOSITIONS",
    "KIND_DC",
    "KIND_DIGITAL",
    "KIND_STORE",
    "KIND_VENDOR",
    "NODE_KINDS",
    "SKU_DIGITAL",
    "SKU_GIFT_CARD",
    "SKU_KINDS",
    "SKU_MADE_TO_ORDER",
    "SKU_STANDARD",
    "CarrierTables",
    "Catalog",
    "EngineState",
    "Inventory",
    "NodeArrays",
    "PostalTable",
    "SkuArrays",
    "Supply",
    "build_state",
    "haversine_km",
    "zone_index",
]
