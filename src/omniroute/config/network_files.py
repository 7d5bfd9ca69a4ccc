"""Row schemas of the network files (DESIGN section 2) and the loader that validates them.

Each CSV row is read with the stdlib `csv` module and validated by msgspec against a frozen,
strict Struct; the first bad value stops the load with the file, line and field named. Cross-file
references (an inventory row naming an unknown node) are checked here too, so everything past
`load_network` can trust its input.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, ClassVar, TypeVar

import msgspec

from omniroute.config.rules import Rules, load_rules
from omniroute.errors import NetworkFileError

NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
# Finite upper bounds keep `inf` out of cost arithmetic (msgspec already rejects NaN here).
NonNegFloat = Annotated[float, msgspec.Meta(ge=0.0, le=1e9)]
Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
PostalCode = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]+$")]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[^\s|,]+$")]


class NodeKind(enum.StrEnum):
    """What a fulfillment node is; rulesets decide which kinds each channel may use."""

    DC = "dc"
    STORE = "store"
    VENDOR = "vendor"
    DIGITAL = "digital"


class Capability(enum.StrEnum):
    """What a node can do for a line."""

    SHIP = "ship"
    PICKUP = "pickup"
    SHIP_TO_STORE = "ship_to_store"
    RETURNS = "returns"
    MADE_TO_ORDER = "made_to_order"
    GIFT_CARD = "gift_card"
    HAZMAT = "hazmat"


class SkuKind(enum.StrEnum):
    """How a SKU is fulfilled: from stock, electronically, as a card, or built per order."""

    STANDARD = "standard"
    DIGITAL = "digital"
    GIFT_CARD = "gift_card"
    MADE_TO_ORDER = "made_to_order"


class Disposition(enum.StrEnum):
    """Condition of on-hand units. Only sellable units are ever promised."""

    SELLABLE = "sellable"
    DAMAGED = "damaged"
    IN_TRANSIT = "in_transit"
    QUARANTINE = "quarantine"


class _Row(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Columns holding '|'-separated lists; split before validation.
    list_columns: ClassVar[frozenset[str]] = frozenset()


class NodeRow(_Row, frozen=True, forbid_unknown_fields=True):
    """One fulfillment node (`nodes.csv`)."""

    list_columns: ClassVar[frozenset[str]] = frozenset({"capabilities", "channels"})

    node_id: Identifier
    """Unique id of the node."""
    kind: NodeKind
    """dc, store, vendor or digital."""
    postal_code: str
    """The node's postal code (informational; distances use lat/lon)."""
    lat: Latitude
    """Latitude in degrees."""
    lon: Longitude
    """Longitude in degrees."""
    priority: NonNegInt
    """Business preference; lower is preferred (a scoring term, zero weight in pure cost)."""
    capabilities: list[Capability]
    """What the node can do, '|'-separated in the file."""
    channels: list[str]
    """Sales channels it serves: ['*'] for every channel, else the channel names."""
    daily_capacity_units: NonNegInt
    """Units the node can release per day (pick and pack, or build for made-to-order)."""
    handling_cost: NonNegFloat
    """Money per shipment leaving this node."""
    pick_cost: NonNegFloat
    """Money per unit picked at this node."""
    processing_days: NonNegInt
    """Days from order release to hand-over to the carrier (lead time for made-to-order)."""
    enabled: bool
    """Disabled nodes are never used."""


class SkuRow(_Row, frozen=True, forbid_unknown_fields=True):
    """One product (`skus.csv`)."""

    sku: Identifier
    """Unique SKU id."""
    kind: SkuKind
    """standard, digital, gift_card or made_to_order."""
    weight_kg: NonNegFloat
    """Shipping weight of one unit in kilograms."""
    hazmat: bool
    """Hazardous material: only hazmat-capable nodes may ship it."""
    returnable: bool
    """Whether a returned unit may be restocked."""


class InventoryRow(_Row, frozen=True, forbid_unknown_fields=True):
    """One stock position (`inventory.csv`): units of a SKU at a node in one disposition."""

    sku: Identifier
    """SKU id (must be in skus.csv)."""
    node_id: Identifier
    """Node id (must be in nodes.csv)."""
    disposition: Disposition
    """sellable, damaged, in_transit or quarantine."""
    qty: NonNegInt
    """Units on hand."""


class SupplyRow(_Row, frozen=True, forbid_unknown_fields=True):
    """Future supply (`supply.csv`): a purchase order or transfer landing at a node on a date."""

    sku: Identifier
    """SKU id (must be in skus.csv)."""
    node_id: Identifier
    """Receiving node id (must be in nodes.csv)."""
    qty: Annotated[int, msgspec.Meta(gt=0)]
    """Units expected."""
    available_date: dt.date
    """ISO date from which the units can be promised."""


class PostalRow(_Row, frozen=True, forbid_unknown_fields=True):
    """A postal area centroid (`postal.csv`): a full postal code or a prefix of one."""

    postal_code: PostalCode
    """Postal code or prefix (the demo uses US 3-digit ZIP prefixes)."""
    lat: Latitude
    """Latitude of the centroid in degrees."""
    lon: Longitude
    """Longitude of the centroid in degrees."""


class Network(msgspec.Struct, frozen=True):
    """A whole validated network directory."""

    nodes: list[NodeRow]
    skus: list[SkuRow]
    inventory: list[InventoryRow]
    supply: list[SupplyRow]
    postal: list[PostalRow]
    rules: Rules


RowT = TypeVar("RowT", bound=_Row)

_BACKTICKED = re.compile(r"`([^`]+)`")
_PATH_FIELD = re.compile(r"at `\$\.([A-Za-z_][A-Za-z0-9_]*)")


def _field_of(error: msgspec.ValidationError) -> str | None:
    """Pull the column name out of a msgspec validation message."""
    text = str(error)
    at = _PATH_FIELD.search(text)
    if at:
        return at.group(1)
    if "missing required field" in text or "unknown field" in text:
        named = _BACKTICKED.search(text)
        return named.group(1) if named else None
    return None


def _clean(message: str) -> str:
    return message.split(" - at `", maxsplit=1)[0].replace("`", "'")


def read_rows(path: Path, row_type: type[RowT]) -> Iterator[tuple[int, RowT]]:
    """Yield (line number, validated row) from a CSV file with a header line."""
    name = path.name
    if not path.is_file():
        raise NetworkFileError(name, "file is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise NetworkFileError(name, "file is empty; a header line is required",
                                   line=1) from None
        header = [column.strip() for column in header]
        if len(set(header)) != len(header):
            raise NetworkFileError(name, "duplicate column in header", line=1)
        known = set(row_type.__struct_fields__)
        for column in header:
            if column not in known:
                raise NetworkFileError(name, "unknown column", line=1, field=column)
        for column in row_type.__struct_fields__:
            if column not in header:
                raise NetworkFileError(name, "required column is missing", line=1, field=column)
        for index, cells in enumerate(reader):
            line = index + 2
            if not cells:
                continue
            if len(cells) != len(header):
                raise NetworkFileError(
                    name, f"expected {len(header)} cells, found {len(cells)}", line=line)
            raw: dict[str, object] = {}
            for column, cell in zip(header, cells, strict=True):
                value = cell.strip()
                if column in row_type.list_columns:
                    raw[column] = [part.strip() for part in value.split("|")] if value else []
                else:
                    raw[column] = value
            try:
                row = msgspec.convert(raw, row_type, strict=False)
            except msgspec.ValidationError as error:
                raise NetworkFileError(
                    name, _clean(str(error)), line=line, field=_field_of(error)) from None
            yield line, row


def _unique(name: str, rows: list[tuple[int, RowT]], key: str) -> dict[str, RowT]:
    seen: dict[str, RowT] = {}
    for line, row in rows:
        value = getattr(row, key)
        if value in seen:
            raise NetworkFileError(name, f"duplicate {key} {value!r}", line=line, field=key)
        seen[value] = row
    return seen


def load_network(directory: Path) -> Network:
    """Load and validate every file of a network directory.

    Raises NetworkFileError on the first fault, naming file, line and field.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise NetworkFileError(str(directory), "network directory does not exist")
    rules = load_rules(directory / "rules.toml")

    node_rows = list(read_rows(directory / "nodes.csv", NodeRow))
    nodes = _unique("nodes.csv", node_rows, "node_id")
    for line, node in node_rows:
        if "*" in node.channels and len(node.channels) > 1:
            raise NetworkFileError("nodes.csv", "'*' cannot be combined with named channels",
                                   line=line, field="channels")
        if node.kind is NodeKind.DIGITAL and Capability.SHIP in node.capabilities:
            raise NetworkFileError("nodes.csv", "a digital node cannot ship physical goods",
                                   line=line, field="capabilities")
    digital = [node.node_id for node in nodes.values() if node.kind is NodeKind.DIGITAL]
    if len(digital) > 1:
        raise NetworkFileError("nodes.csv", f"at most one digital node is allowed, found {digital}",
                               field="kind")

    sku_rows = list(read_rows(directory / "skus.csv", SkuRow))
    skus = _unique("skus.csv", sku_rows, "sku")
    if digital == [] and any(sku.kind is SkuKind.DIGITAL for sku in skus.values()):
        raise NetworkFileError("nodes.csv",
                               "skus.csv has digital SKUs but no node has kind 'digital'",
                               field="kind")

    def check_refs(name: str, rows: list[tuple[int, InventoryRow]] | list[tuple[int, SupplyRow]]
                   ) -> None:
        for line, row in rows:
            if row.sku not in skus:
                raise NetworkFileError(name, f"unknown sku {row.sku!r}", line=line, field="sku")
            if row.node_id not in nodes:
                raise NetworkFileError(name, f"unknown node {row.node_id!r}", line=line,
                                       field="node_id")

    inventory_rows = list(read_rows(directory / "inventory.csv", InventoryRow))
    check_refs("inventory.csv", inventory_rows)
    positions: set[tuple[str, str, str]] = set()
    for line, inv in inventory_rows:
        key = (inv.sku, inv.node_id, inv.disposition.value)
        if key in positions:
            raise NetworkFileError("inventory.csv", f"duplicate position {key}", line=line)
        positions.add(key)
    supply_rows = list(read_rows(directory / "supply.csv", SupplyRow))
    check_refs("supply.csv", supply_rows)

    postal_rows = list(read_rows(directory / "postal.csv", PostalRow))
    _unique("postal.csv", postal_rows, "postal_code")
    if not postal_rows:
        raise NetworkFileError("postal.csv", "at least one postal area is required")

    return Network(
        nodes=[row for _, row in node_rows],
        skus=[row for _, row in sku_rows],
        inventory=[row for _, row in inventory_rows],
        supply=[row for _, row in supply_rows],
        postal=[row for _, row in postal_rows],
        rules=rules,
    )
