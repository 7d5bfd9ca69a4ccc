"""Plain domain types of a routing request and decision (no protobuf, no numba).

`api/` translates protobuf to and from these; the engine and its slow twin in the tests both
speak them, so the two can be compared field by field.

Every type is `gc=False`: they hold only scalars, strings, enums, dates and tuples of each
other, so they cannot form reference cycles, and a batch of decisions (a dozen objects per
order) otherwise triggers cyclic-GC passes over the whole heap (the 100k-SKU catalog included)
that measured as often as one batch in three, doubling its mean time.
"""

from __future__ import annotations

import datetime as dt
import enum

import msgspec


class Fulfillment(enum.IntEnum):
    """How the customer receives a line."""

    SHIP = 1
    """Shipped from a node to the ship-to address."""
    PICKUP = 2
    """Collected at `store_id` from that store's stock (or shipped there if the ruleset allows)."""
    SHIP_TO_STORE = 3
    """Shipped from any node to `store_id`, collected there."""
    DIGITAL = 4
    """Delivered electronically by the digital node; never ships, never touches stock."""


class SplitPolicy(enum.IntEnum):
    """How an order may be divided between nodes."""

    ALLOW_SPLIT = 1
    """Any number of shipments up to max_shipments; partial fills allowed."""
    SHIP_COMPLETE = 2
    """Every shipped unit from one node in one shipment, or nothing."""
    FILL_OR_KILL = 3
    """Every unit, from up to max_shipments nodes, or nothing."""


class Status(enum.IntEnum):
    """Outcome of routing one order."""

    ROUTED = 1
    """Every unit allocated now."""
    PARTIAL = 2
    """Some units allocated, the rest unfulfilled with reasons."""
    BACKORDERED = 3
    """Every unit allocated or promised against future supply, at least one on backorder."""
    UNROUTABLE = 4
    """Nothing allocated."""


class Reason(enum.IntEnum):
    """Why units were left unfulfilled, or why a candidate node lost."""

    OUT_OF_STOCK = 1
    NO_ELIGIBLE_NODE = 2
    SLA_UNMET = 3
    CAPACITY = 4
    UNKNOWN_SKU = 5
    POLICY = 6


class OrderLine(msgspec.Struct, frozen=True, gc=False):
    """One line of an order."""

    line_id: str
    sku: str
    qty: int
    fulfillment: Fulfillment = Fulfillment.SHIP
    store_id: str = ""
    """The store for PICKUP and SHIP_TO_STORE lines."""


class ShipTo(msgspec.Struct, frozen=True, gc=False):
    """Destination: a postal code, or an explicit point (which wins when given)."""

    postal_code: str = ""
    lat: float | None = None
    lon: float | None = None


class Order(msgspec.Struct, frozen=True, gc=False):
    """One order to route."""

    order_id: str
    channel: str
    ship_to: ShipTo
    service_level: str
    lines: tuple[OrderLine, ...]
    ruleset: str = ""
    """Ruleset name; empty means the channel's default."""
    split_policy: SplitPolicy = SplitPolicy.ALLOW_SPLIT
    max_shipments: int = 0
    """0 means the ruleset's default; otherwise at most the ruleset's default."""
    allow_backorder: bool = False
    explain: bool = False


class ShipmentLine(msgspec.Struct, frozen=True, gc=False):
    line_id: str
    sku: str
    qty: int


class Shipment(msgspec.Struct, frozen=True, gc=False):
    """The units one node sends (or hands over) for this order, with every cost term."""

    node_id: str
    fulfillment: Fulfillment
    lines: tuple[ShipmentLine, ...]
    destination: str
    """'customer', 'store:<id>' or 'digital'."""
    zone: int
    distance_km: float
    transit_days: int
    processing_days: int
    weight_kg: float
    ship_cost: float
    handling_cost: float
    ship_date_offset_days: int = 0
    """Days from today until the node can release it (future supply, made-to-order lead time)."""


class Backorder(msgspec.Struct, frozen=True, gc=False):
    """Units promised against future supply at a node from a date."""

    line_id: str
    sku: str
    qty: int
    node_id: str
    available_date: dt.date


class Unfilled(msgspec.Struct, frozen=True, gc=False):
    line_id: str
    sku: str
    qty: int
    reason: Reason


class CostTotals(msgspec.Struct, frozen=True, gc=False):
    """Order cost, term by term; `total` is their sum (DESIGN section 3)."""

    ship_cost: float
    handling_cost: float
    split_penalty: float
    unfilled_penalty: float
    other_terms: float
    total: float


class Candidate(msgspec.Struct, frozen=True, gc=False):
    """An explain entry: one node's standing for this order."""

    node_id: str
    eligible: bool
    chosen: bool
    score: float
    ship_cost: float
    handling_cost: float
    distance_km: float
    zone: int
    transit_days: int
    atp_units: int
    """Units of the order's SKUs this node could supply."""
    reason: Reason | None
    """For an ineligible node, the rule that excluded it."""
    detail: str
    """Human-readable: why it lost (rule or cost difference) or why it won."""


class Decision(msgspec.Struct, frozen=True, gc=False):
    """Everything the engine decided for one order."""

    order_id: str
    status: Status
    shipments: tuple[Shipment, ...]
    backorders: tuple[Backorder, ...]
    unfilled: tuple[Unfilled, ...]
    cost: CostTotals
    ruleset: str
    ruleset_version: int
    inventory_version: int
    optimal: bool
    """True when the allocation is proven optimal (exact search), False for the heuristic."""
    lower_bound: float
    """A proven lower bound on the total cost (equal to it when optimal)."""
    candidates: tuple[Candidate, ...] = ()
