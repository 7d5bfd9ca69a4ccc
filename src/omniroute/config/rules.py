"""`rules.toml`: the carrier model (zones, rates, transit, promises) and the routing rulesets.

Decoded once with msgspec into frozen Structs that reject unknown fields, then checked for the
cross-references msgspec cannot see (a table per zone band, rulesets that exist). Every error
names `rules.toml` and the dotted field path.
"""

from __future__ import annotations

import math
import re
import typing
from pathlib import Path
from typing import Annotated, Any

import msgspec

from omniroute.errors import NetworkFileError

# Half the Earth's circumference on the DESIGN's sphere: no two points are farther apart, so the
# last zone band must reach at least this far or some destinations would have no zone.
EARTH_RADIUS_KM = 6371.0088
MAX_DISTANCE_KM = math.pi * EARTH_RADIUS_KM

ANY = "*"
"""Key meaning 'every channel (or service level) not listed by name'."""

NonNegFloat = Annotated[float, msgspec.Meta(ge=0.0)]
# Money and weights must be finite: `inf` would poison every sum it enters.
Finite = Annotated[float, msgspec.Meta(ge=0.0, le=1e9)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
PosInt = Annotated[int, msgspec.Meta(ge=1)]
NODE_KINDS = ("dc", "store", "vendor", "digital")


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class ZoneBand(_Strict, frozen=True, forbid_unknown_fields=True):
    """A carrier zone: destinations up to `max_km` (inclusive) beyond the previous band."""

    zone: PosInt
    """Carrier zone number as printed on rate cards."""
    max_km: NonNegFloat
    """Upper edge of the band in km, inclusive; `inf` allowed on the last band."""


class RateTable(_Strict, frozen=True, forbid_unknown_fields=True):
    """Ship cost per zone band: `base + per_kg * shipment weight`."""

    base: list[Finite]
    """Money per shipment, one value per zone band in band order."""
    per_kg: list[Finite]
    """Money per kg of shipment weight, one value per zone band."""


class Carrier(_Strict, frozen=True, forbid_unknown_fields=True):
    """The carrier model shared by every ruleset."""

    zones: list[ZoneBand]
    """Zone bands in increasing distance."""
    service_levels: list[str]
    """Names of the delivery promises offered (e.g. ground, two_day, next_day)."""
    transit_days: dict[str, list[NonNegInt]]
    """Per service level, transit days per zone band."""
    promise_days: dict[str, NonNegInt]
    """Per service level, the most days from release to delivery (processing + transit)."""
    rates: dict[str, RateTable]
    """Per service level a rate table; key '*' serves every level without its own table."""


class Weights(_Strict, frozen=True, forbid_unknown_fields=True):
    """Objective weights. A pure-cost ruleset has cost=1 and every other weight 0."""

    cost: Finite
    """Multiplier on money (ship cost + handling + penalties)."""
    distance_per_km: Finite
    """Score per km of each shipment's distance."""
    priority: Finite
    """Score per point of the shipping node's priority (lower priority numbers win)."""
    capacity_balance: Finite
    """Score times the fraction of the node's remaining daily capacity an order would consume."""


class Ruleset(_Strict, frozen=True, forbid_unknown_fields=True):
    """How one channel or brand wants orders routed."""

    version: PosInt
    """Version number reported on every decision made with this ruleset."""
    weights: Weights
    """Objective weights."""
    split_penalty: Finite
    """Money per shipment beyond the first."""
    unfilled_penalty: Finite
    """Money per unit left unfilled: trades 'fill more' against 'ship cheaper'."""
    max_shipments: PosInt
    """Default bound on shipments per order (a request may lower it)."""
    ship_from_store: bool
    """Whether store stock may ship to customers (otherwise stores serve pickup only)."""
    pickup_ship_to_store: bool
    """When a pickup store is short, whether another node may ship the units to that store."""
    channel_node_kinds: dict[str, list[str]]
    """Per channel ('*' for the rest), the node kinds it may fulfil from."""
    safety_stock: dict[str, dict[str, NonNegInt]]
    """Per channel ('*' for the rest), per node kind, units held back from ATP."""


class Rules(_Strict, frozen=True, forbid_unknown_fields=True):
    """The whole `rules.toml`."""

    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    """ISO 4217 code of the money unit used by every cost (float, in whole currency units)."""
    carrier: Carrier
    """Carrier zones, rates, transit and promises."""
    rulesets: dict[str, Ruleset]
    """Rulesets by name."""
    channels: dict[str, str]
    """Default ruleset per channel; '*' for channels not listed."""


def _fail(field: str, message: str) -> NetworkFileError:
    return NetworkFileError("rules.toml", message, field=field)


def validate_rules(rules: Rules) -> None:
    """Check what msgspec cannot: per-band table sizes, ordering, names that must exist."""
    carrier = rules.carrier
    bands = len(carrier.zones)
    if bands == 0:
        raise _fail("carrier.zones", "at least one zone band is required")
    previous = -1.0
    for i, band in enumerate(carrier.zones):
        if band.max_km <= previous:
            raise _fail(f"carrier.zones[{i}].max_km", "bands must increase in distance")
        previous = band.max_km
    if carrier.zones[-1].max_km < MAX_DISTANCE_KM:
        raise _fail(f"carrier.zones[{bands - 1}].max_km",
                    f"the last band must reach {MAX_DISTANCE_KM:.0f} km (or inf) so every "
                    "destination has a zone")
    levels = carrier.service_levels
    if not levels or len(set(levels)) != len(levels):
        raise _fail("carrier.service_levels", "a non-empty list of distinct names is required")
    for level in levels:
        days = carrier.transit_days.get(level)
        if days is None:
            raise _fail(f"carrier.transit_days.{level}", "missing for a listed service level")
        if len(days) != bands:
            raise _fail(f"carrier.transit_days.{level}",
                        f"expected {bands} values (one per zone band), got {len(days)}")
        if level not in carrier.promise_days:
            raise _fail(f"carrier.promise_days.{level}", "missing for a listed service level")
        if level not in carrier.rates and ANY not in carrier.rates:
            raise _fail(f"carrier.rates.{level}", "no rate table for this level and no '*' table")
    for table_name, mapping in (("transit_days", carrier.transit_days),
                                ("promise_days", carrier.promise_days)):
        for level in mapping:
            if level not in levels:
                raise _fail(f"carrier.{table_name}.{level}", "not a listed service level")
    for level, table in carrier.rates.items():
        if level != ANY and level not in levels:
            raise _fail(f"carrier.rates.{level}", "not a listed service level")
        for column in ("base", "per_kg"):
            values = getattr(table, column)
            if len(values) != bands:
                raise _fail(f"carrier.rates.{level}.{column}",
                            f"expected {bands} values (one per zone band), got {len(values)}")
    if not rules.rulesets:
        raise _fail("rulesets", "at least one ruleset is required")
    for name, ruleset in rules.rulesets.items():
        problem = ruleset_problem(ruleset)
        if problem is not None:
            raise _fail(f"rulesets.{name}.{problem[0]}", problem[1])
    if not rules.channels:
        raise _fail("channels", "at least one channel (or '*') needs a default ruleset")
    for channel, name in rules.channels.items():
        if name not in rules.rulesets:
            raise _fail(f"channels.{channel}", f"unknown ruleset {name!r}")


def ruleset_problem(ruleset: Ruleset) -> tuple[str, str] | None:
    """(field within the ruleset, message) of the first name msgspec cannot check, or None."""
    for channel, kinds in ruleset.channel_node_kinds.items():
        for kind in kinds:
            if kind not in NODE_KINDS:
                return (f"channel_node_kinds.{channel}",
                        f"unknown node kind {kind!r}; expected one of {NODE_KINDS}")
    for channel, by_kind in ruleset.safety_stock.items():
        for kind in by_kind:
            if kind not in NODE_KINDS:
                return (f"safety_stock.{channel}.{kind}",
                        f"unknown node kind; expected one of {NODE_KINDS}")
    return None


def _locate(raw: object, tp: Any, path: str) -> str:
    """Dotted path of the innermost part of `raw` that does not convert to `tp`.

    msgspec writes a dict key as `[...]` in its error paths (`rulesets[...].weights`), which
    would not say which ruleset or channel is wrong; re-validating part by part finds the key.
    """
    if typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    children: list[tuple[str, object, Any]] = []
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and isinstance(raw, dict):
        hints = typing.get_type_hints(tp, include_extras=True)
        children = [(f"{path}.{name}".lstrip("."), raw[name], hints[name])
                    for name in tp.__struct_fields__ if name in raw]
    elif typing.get_origin(tp) is dict and isinstance(raw, dict):
        value_type = typing.get_args(tp)[1]
        children = [(f"{path}.{key}", value, value_type) for key, value in raw.items()]
    elif typing.get_origin(tp) is list and isinstance(raw, list):
        item_type = typing.get_args(tp)[0]
        children = [(f"{path}[{i}]", value, item_type) for i, value in enumerate(raw)]
    for child_path, value, child_type in children:
        try:
            msgspec.convert(value, child_type)
        except msgspec.ValidationError:
            return _locate(value, child_type, child_path)
    return path


_NAMED_FIELD = re.compile(r"^Object (?:contains unknown|missing required) field `([^`]+)`")
_TOML_LINE = re.compile(r"at line (\d+)")


_T = typing.TypeVar("_T", bound=msgspec.Struct)


def _decode_toml(data: bytes, tp: type[_T], file: str) -> _T:
    """Strict decode; an error names `file` and the dotted field (or the TOML line)."""
    try:
        return msgspec.toml.decode(data, type=tp)
    except msgspec.ValidationError as error:
        text = str(error)
        path = _locate(msgspec.toml.decode(data), tp, "")
        named = _NAMED_FIELD.match(text)
        if named:
            path = f"{path}.{named.group(1)}".lstrip(".")
        raise NetworkFileError(file, text.split(" - at `", maxsplit=1)[0].replace("`", "'"),
                               field=path or None) from None
    except msgspec.DecodeError as error:
        at_line = _TOML_LINE.search(str(error))
        raise NetworkFileError(file, f"not valid TOML: {error}",
                               line=int(at_line.group(1)) if at_line else None) from None


def decode_rules(data: bytes) -> Rules:
    """Decode and validate rules from TOML bytes (a file, or an admin request's payload)."""
    rules = _decode_toml(data, Rules, "rules.toml")
    validate_rules(rules)
    return rules


def decode_ruleset(data: bytes, *, file: str) -> Ruleset:
    """Decode and check one ruleset's body (the `[rulesets.NAME]` table without its header)."""
    ruleset = _decode_toml(data, Ruleset, file)
    problem = ruleset_problem(ruleset)
    if problem is not None:
        raise NetworkFileError(file, problem[1], field=problem[0])
    return ruleset


def load_rules(path: Path) -> Rules:
    """Load `rules.toml` from a network directory."""
    if not path.is_file():
        raise NetworkFileError(path.name, "file is missing")
    return decode_rules(path.read_bytes())
