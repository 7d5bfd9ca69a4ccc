"""Reservations over the routing engine: route, check under the lock, commit; release, confirm,
expire; admin changes. The arrays and the journal are `state.holds`; this module decides.

The reserve path (DESIGN section 6): route on the state as it is (no lock), then take the
cross-process critical section and check the chosen units against the *current* on-hand,
reservations, capacity and promised supply. If another worker took them meanwhile, re-route
inside the critical section, where nothing but the sidecar can move under us; only a burst of
sidecar deltas can make that fail again, and after `MAX_ATTEMPTS` the call is ABORTED rather
than spinning. The record is fsynced before the caller answers.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, Protocol

from omniroute.config.rules import Ruleset, decode_ruleset
from omniroute.engine._prepare import RulesetParams, resolve_ruleset
from omniroute.engine.model import Decision, Order
from omniroute.engine.router import Engine
from omniroute.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NetworkFileError,
    NotFound,
    OmnirouteError,
)
from omniroute.state import SKU_GIFT_CARD, SKU_STANDARD
from omniroute.state.holds import (
    BUILD,
    CONFIRMED,
    CONFIRMING,
    HELD,
    RELEASED,
    STOCK,
    SUPPLY,
    Check,
    ConfirmDone,
    ConfirmStart,
    HoldBook,
    HoldLine,
    NodeCapacity,
    NodeEnabled,
    Release,
    Reservation,
    Reserve,
    RulesetActivated,
)
from omniroute.state.shared import day_number
from omniroute.state.store import EngineState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_RULESET_VERSION = 2**32 - 1
MAX_HOLD_S = 30 * 86_400.0
"""Longest hold a request may ask for: a month is past any checkout or payment window."""


class ReservationView(NamedTuple):
    reservation_id: str
    held: list[str]
    released: list[str]
    confirmed: list[str]


class Reserved(NamedTuple):
    decision: Decision
    reservation_id: str
    """Empty when nothing was allocated (nothing to hold)."""
    expires_at: float
    """Seconds since the epoch; 0 without a time limit."""


class OnHandDrop(NamedTuple):
    sku: str
    node_id: str
    qty: int


class ConfirmSink(Protocol):
    """Sends a confirm's on-hand drops to the sidecar, the only writer of on-hand.

    Returns "" once the sidecar has them durably (applied, or a duplicate of an earlier send),
    or the sidecar's reason when it rejected them. Raises `Unavailable` if it cannot be reached.
    """

    def __call__(self, sequence: int, drops: list[OnHandDrop]) -> str: ...


def hold_lines(state: EngineState, decision: Decision) -> list[HoldLine]:
    """What a decision takes: stock and capacity now, future supply for its backorders."""
    catalog, kinds = state.catalog, state.skus.kind
    lines: list[HoldLine] = []
    for shipment in decision.shipments:
        node = catalog.node_index[shipment.node_id]
        for line in shipment.lines:
            sku = catalog.sku_index[line.sku]
            stocked = int(kinds[sku]) in (SKU_STANDARD, SKU_GIFT_CARD)
            lines.append(HoldLine(line.line_id, sku, node, line.qty, STOCK if stocked else BUILD))
    for back in decision.backorders:
        lines.append(HoldLine(back.line_id, catalog.sku_index[back.sku],
                              catalog.node_index[back.node_id], back.qty, SUPPLY,
                              day_number(back.available_date)))
    return lines


def check_hold(state: EngineState, book: HoldBook, channel: str, ruleset: str,
               lines: list[HoldLine]) -> Check | None:
    """None when `lines` fit the current ATP, capacity and supply; else what does not."""
    rs = _resolved(state, ruleset, channel)
    node_kind = state.nodes.kind
    sellable = state.inventory.on_hand[0]
    reserved = book.reserved
    stock: dict[tuple[int, int], int] = defaultdict(int)
    supply: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    units: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.kind == SUPPLY:
            supply[(line.sku_idx, line.node_idx)].append((line.day, line.qty))
            continue
        units[line.node_idx] += line.qty
        if line.kind == STOCK:
            stock[(line.sku_idx, line.node_idx)] += line.qty
    node_ids, sku_ids = state.catalog.node_ids, state.catalog.sku_ids
    for (sku, node), qty in stock.items():
        if sku >= sellable.shape[0] or sku >= reserved.shape[0]:
            return Check("sku", f"{sku_ids[sku]} is not in the live arrays yet")
        atp = int(sellable[sku, node]) - int(reserved[sku, node]) - int(
            rs.safety_stock[node_kind[node]])
        if atp < qty:
            return Check("lines", f"{sku_ids[sku]} at {node_ids[node]}: ATP {atp} < {qty}")
    enabled, daily, used = book.enabled, book.daily_capacity, book.capacity_used
    for node, qty in units.items():
        if not enabled[node]:
            return Check("lines", f"{node_ids[node]} was disabled")
        left = int(daily[node]) - int(used[node])
        if left < qty:
            return Check("lines", f"{node_ids[node]}: capacity left {left} < {qty}")
    sup = state.supply
    today = day_number(state.today)
    for (sku, node), wants in supply.items():
        lo, hi = int(sup.sku_offsets[sku]), int(sup.sku_offsets[sku + 1])
        rows = slice(lo, hi)
        mine = sup.node_idx[rows] == node
        days, qty = sup.day[rows][mine] + today, sup.qty[rows][mine]
        # Each promise by its own date: everything promised up to a date must have landed by
        # then. `state.supply` already has earlier promises taken out (state.live).
        needed = 0
        for day, want in sorted(wants):
            needed += want
            have = int(qty[days <= day].sum())
            if have < needed:
                return Check("lines", f"{sku_ids[sku]} at {node_ids[node]}: supply by day "
                             f"{day} is {have} < {needed}")
    return None


_RESOLVED: dict[tuple[int, str, str], tuple[Ruleset, RulesetParams]] = {}


def _resolved(state: EngineState, name: str, channel: str) -> RulesetParams:
    """`resolve_ruleset`, memoised per rules object (an activated ruleset is a new one)."""
    ruleset = state.rules.rulesets[name]
    key = (id(state.rules), name, channel)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is ruleset:
        return hit[1]
    if len(_RESOLVED) > 1024:  # channels are few; this only bounds a pathological caller
        _RESOLVED.clear()
    params = resolve_ruleset(name, ruleset, channel)
    _RESOLVED[key] = (ruleset, params)
    return params


def _hold_seconds(hold_s: float | None, default_s: float) -> float:
    if hold_s is None:
        return default_s
    if not (math.isfinite(hold_s) and 0.0 < hold_s <= MAX_HOLD_S):
        raise InvalidArgument("hold", f"must be > 0 and at most {MAX_HOLD_S:.0f} s, got {hold_s}")
    return hold_s


class Reservations:
    """Reserve, release, confirm, expire and admin, for one worker process.

    `engine` returns the engine switched to the newest state (live inventory plus this book);
    it is called again inside the critical section so the re-route sees what the check saw.
    """

    def __init__(self, engine: Callable[[], Engine], book: HoldBook, *,
                 default_hold_s: float, new_id: Callable[[], str]) -> None:
        self._engine = engine
        self._book = book
        self._default_hold_s = default_hold_s
        self._new_id = new_id

    @property
    def book(self) -> HoldBook:
        return self._book

    # -- reserve ------------------------------------------------------------------------------

    def reserve(self, order: Order, *, hold_s: float | None = None,
                decision: Decision | None = None) -> Reserved:
        """Route `order` and hold what it takes. `decision`, when given, is a dry run of it
        (from a batch) used as the first attempt."""
        (outcome,) = self.reserve_many([(order, hold_s, decision)])
        if isinstance(outcome, OmnirouteError):
            raise outcome
        return outcome

    def reserve_many(self, items: Sequence[tuple[Order, float | None, Decision | None]]
                     ) -> list[Reserved | OmnirouteError]:
        """`reserve` for each (order, hold, dry-run decision or None), in order, in one pass
        through the critical section and one wait for the journal: a batch pays one fsync,
        not one per order. Each order succeeds or fails on its own."""
        prepared: list[tuple[Order, float, Decision] | OmnirouteError] = []
        for order, hold_s, decision in items:
            try:
                hold = _hold_seconds(hold_s, self._default_hold_s)
                prepared.append((order, hold, decision or self._engine().route(order)))
            except OmnirouteError as error:
                prepared.append(error)
        book = self._book
        results: list[Reserved | OmnirouteError] = []
        end = 0
        with book.locked():
            for item in prepared:
                if isinstance(item, OmnirouteError):
                    results.append(item)
                    continue
                try:
                    reserved, item_end = self._reserve_locked(*item)
                except OmnirouteError as error:
                    results.append(error)
                    continue
                results.append(reserved)
                end = max(end, item_end)
        if end:
            book.wait_durable(end)
        return results

    def _reserve_locked(self, order: Order, hold: float, decision: Decision
                        ) -> tuple[Reserved, int]:
        book = self._book
        fresh = False  # routed inside the critical section
        for _attempt in range(MAX_ATTEMPTS + 1):
            engine = self._engine()
            state = engine.state
            lines = hold_lines(state, decision)
            if lines:
                problem = check_hold(state, book, order.channel, decision.ruleset, lines)
                if problem is None:
                    now = book.now()
                    expires = now + hold if hold > 0 else 0.0
                    rid = self._new_id()
                    end = book.commit(Reserve(rid, order.order_id, now, expires, lines))
                    return Reserved(decision, rid, expires), end
                log.debug("order %s: re-routing (%s)", order.order_id, problem.message)
            elif fresh:
                return Reserved(decision, "", 0.0), 0
            # Nothing allocated on a stale read (e.g. yesterday's capacity) deserves one look
            # at the current numbers too.
            decision = engine.route(order)
            fresh = True
        raise Aborted(f"inventory for order {order.order_id!r} kept changing during "
                      f"{MAX_ATTEMPTS} attempts; retry")

    # -- release, confirm, expire -------------------------------------------------------------

    def _lines_of(self, res: Reservation, line_ids: list[str]) -> list[str]:
        for i, line_id in enumerate(line_ids):
            if line_id not in res.status:
                raise NotFound(f"line_ids[{i}]", f"reservation "
                               f"{res.record.reservation_id!r} has no line {line_id!r}")
        return line_ids or list(res.status)

    def release(self, reservation_id: str, line_ids: Iterable[str] = ()) -> ReservationView:
        explicit = list(line_ids)
        book = self._book
        end = 0
        with book.locked():
            res = book.reservation(reservation_id)
            wanted = self._lines_of(res, explicit)
            for i, line_id in enumerate(explicit):
                if res.status[line_id] in (CONFIRMING, CONFIRMED):
                    raise FailedPrecondition(
                        f"line_ids[{i}]: line {line_id!r} is confirmed shipped; it cannot be "
                        "released")
            todo = [lid for lid in wanted if res.status[lid] == HELD]
            if todo:
                end = book.commit(Release(reservation_id, todo, book.now(), False))
            view = _view(res)
        book.wait_durable(max(end, self._applied_end()))
        return view

    def confirm(self, reservation_id: str, line_ids: Iterable[str], sink: ConfirmSink
                ) -> ReservationView:
        """Mark lines shipped: their units leave `reserved` and on-hand together.

        Only stock lines drop on-hand. A backordered line's confirm ends its supply promise;
        the supply's receipt and shipment reach on-hand through the feeds, as any receipt does.
        Each line is its own sidecar batch, so a drop the sidecar refuses (on-hand already
        lower) leaves the other lines' drops standing.
        """
        explicit = list(line_ids)
        book = self._book
        with book.locked():
            res = book.reservation(reservation_id)
            wanted = self._lines_of(res, explicit)
            for i, line_id in enumerate(explicit):
                if res.status[line_id] == RELEASED:
                    raise FailedPrecondition(
                        f"line_ids[{i}]: line {line_id!r} was released (by request or expiry); "
                        "route the order again")
            if not explicit and all(st == RELEASED for st in res.status.values()):
                raise FailedPrecondition(
                    f"reservation_id: {reservation_id!r} was released (by request or expiry); "
                    "route the order again")
            for line_id in wanted:
                if res.status[line_id] == HELD:
                    book.commit(ConfirmStart(reservation_id, [line_id], book.now(),
                                             book.next_confirm_seq()))
        self.flush_confirms(sink)
        with book.locked():
            view = _view(book.reservation(reservation_id))
        book.wait_durable(self._applied_end())
        return view

    def flush_confirms(self, sink: ConfirmSink) -> int:
        """Send every confirm not yet acknowledged by the sidecar, in sequence order.

        The sidecar takes a batch at or below a source's last sequence as a duplicate, so
        sequences must arrive in order: one process at a time sends (`sending_confirms`), all
        that are pending, lowest first. Sequences are handed out and journaled together inside
        the critical section, so the pending set is always a prefix-closed run. Each intent is
        on disk before its drop is sent: after a power loss the router never reuses a sequence
        the sidecar already applied.
        """
        book = self._book
        done = 0
        with book.sending_confirms():
            book.catch_up()
            book.wait_durable(self._applied_end())
            for seq, rid, line_ids in book.pending_confirms():
                res = book.reservation(rid)
                wanted = set(line_ids)
                sku_ids = self._engine().state.catalog.sku_ids
                drops = [OnHandDrop(sku_ids[line.sku_idx], book.node_ids[line.node_idx], line.qty)
                         for line in res.record.lines
                         if line.line_id in wanted and line.kind == STOCK]
                note = sink(seq, drops) if drops else ""
                if note:
                    log.warning("confirm %d of %s: the sidecar did not drop on-hand (%s); the "
                                "line is confirmed all the same", seq, rid, note)
                with book.locked():
                    end = book.commit(ConfirmDone(seq, book.now(), note))
                done += 1
            if done:
                book.wait_durable(end)
        return done

    def expire_due(self) -> int:
        """Release the held lines of every reservation whose hold has run out."""
        book = self._book
        book.catch_up()
        book.roll_days_if_due()
        if not book.due_expiries(book.now()):
            return 0
        end = 0
        count = 0
        with book.locked():
            now = book.now()
            for rid in book.due_expiries(now):
                res = book.ledger.reservations[rid]
                held = [lid for lid, st in res.status.items() if st == HELD]
                end = book.commit(Release(rid, held, now, True))
                count += 1
        book.wait_durable(end)
        return count

    def _applied_end(self) -> int:
        return self._book.applied_end()

    # -- admin --------------------------------------------------------------------------------

    def _node(self, node_id: str) -> int:
        idx = self._engine().state.catalog.node_index.get(node_id)
        if idx is None:
            raise NotFound("node_id", f"unknown node {node_id!r}")
        return idx

    def set_node_enabled(self, node_id: str, enabled: bool, reason: str) -> int:
        node = self._node(node_id)
        book = self._book
        with book.locked():
            end = book.commit(NodeEnabled(node, enabled, reason, book.now()))
        book.wait_durable(end)
        return node

    def set_node_capacity(self, node_id: str, units: int) -> int:
        if units < 0:
            raise InvalidArgument("daily_capacity_units", f"must be >= 0, got {units}")
        node = self._node(node_id)
        book = self._book
        with book.locked():
            end = book.commit(NodeCapacity(node, units, book.now()))
        book.wait_durable(end)
        return node

    def activate_ruleset(self, name: str, toml: str) -> Ruleset:
        if not name.strip():
            raise InvalidArgument("name", "must not be empty")
        ruleset = parse_ruleset(toml)
        book = self._book
        with book.locked():
            # The ledger, caught up inside the section, is the truth for activated versions.
            activated = book.ledger.rulesets.get(name)
            base = self._engine().state.rules.rulesets.get(name)
            active = activated.version if activated is not None else (
                base.version if base is not None else 0)
            if ruleset.version <= active:
                raise FailedPrecondition(
                    f"toml.version: {ruleset.version} must exceed the active version "
                    f"{active} of ruleset {name!r}")
            end = book.commit(RulesetActivated(name, ruleset.version, toml, book.now()))
        book.wait_durable(end)
        return ruleset


def parse_ruleset(toml: str) -> Ruleset:
    """A ruleset body as `[rulesets.NAME]` holds it; a bad one names the field."""
    try:
        ruleset = decode_ruleset(toml.encode(), file="toml")
    except NetworkFileError as error:
        field = f"toml.{error.field}" if error.field else "toml"
        where = f" (line {error.line})" if error.line else ""
        raise InvalidArgument(field, error.message + where) from None
    if ruleset.version > MAX_RULESET_VERSION:
        # Responses carry it as uint32: a larger one could never be answered, nor replaced.
        raise InvalidArgument("toml.version", f"must be at most {MAX_RULESET_VERSION}")
    return ruleset


def _view(res: Reservation) -> ReservationView:
    by: dict[str, list[str]] = {HELD: [], RELEASED: [], CONFIRMED: []}
    for line_id, status in res.status.items():
        by[CONFIRMED if status == CONFIRMING else status].append(line_id)
    return ReservationView(res.record.reservation_id, by[HELD], by[RELEASED], by[CONFIRMED])
