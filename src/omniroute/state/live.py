"""Keep the router's `EngineState` in step with the sidecar's live inventory.

The sidecar is the one writer of on-hand, future supply and the catalog; it publishes them in
shared memory (`state.shared`). A router process builds its static state (nodes, postal and
carrier tables, rules) from the network files, then swaps in the shared arrays: `current()`
is called before each request and costs two integer reads when nothing changed.

With a `HoldBook` (the router's reservations, capacity and admin state, `state.holds`), its
arrays replace `reserved`, `capacity_used_today`, `daily_capacity_units` and `enabled`, its
activated rulesets replace those of rules.toml, and future supply already promised to
backorders is taken out of `supply`, so the kernels route on what is actually left.

SKUs the sidecar registered from deltas carry no attributes (the delta has none), so they are
routed as standard, non-hazmat, returnable SKUs of weight 0 kg until a catalog load gives
them attributes; this is logged once per SKU.
"""

from __future__ import annotations

import logging
import threading

import msgspec
import numpy as np

from omniroute.config.rules import decode_ruleset
from omniroute.errors import FailedPrecondition
from omniroute.state.catalog import Catalog
from omniroute.state.holds import HoldBook, RulesetActivated
from omniroute.state.shared import SharedInventory
from omniroute.state.store import SKU_STANDARD, EngineState, Inventory, SkuArrays, Supply

log = logging.getLogger(__name__)


class LiveState:
    """An `EngineState` whose inventory, supply and catalog follow a `SharedInventory`."""

    def __init__(self, base: EngineState, shared: SharedInventory,
                 holds: HoldBook | None = None) -> None:
        if shared.node_ids != base.catalog.node_ids:
            raise FailedPrecondition(
                "the sidecar's live state has different nodes than the router's network; "
                "start both from the same --data and --state")
        base_skus = base.catalog.sku_ids
        if shared.sku_ids()[:len(base_skus)] != base_skus:
            raise FailedPrecondition(
                "the sidecar's SKU catalog does not start with the network's skus.csv in order")
        self._base = base
        self._shared = shared
        self._holds = holds
        # What the book's ledger said at the last refresh (copied under the book's lock).
        self._overlay: tuple[dict[tuple[int, int], int], dict[str, RulesetActivated]] = ({}, {})
        self._lock = threading.Lock()
        self._seen: tuple[int, ...] = (-1,)
        self._number = 0
        self._state = base
        self._reserved = base.inventory.reserved

    @property
    def shared(self) -> SharedInventory:
        return self._shared

    @property
    def holds(self) -> HoldBook | None:
        return self._holds

    def _key(self) -> tuple[int, ...]:
        shared = self._shared
        shared.refresh()
        holds = self._holds
        if holds is None:
            return (shared.generation, shared.version)
        return (shared.generation, shared.version, holds.generation, holds.admin_version,
                holds.supply_version)

    def current(self) -> EngineState:
        """The state to route the next request on; rebuilt only when the sidecar published or
        another worker changed promised supply or admin state."""
        return self.current_numbered()[1]

    def current_numbered(self) -> tuple[int, EngineState]:
        """`current()` with its build number, which only grows: a caller that swaps states
        in (Loaded) keeps the highest, so a slow thread never puts back an older state."""
        key = self._key()
        if key == self._seen:
            return self._number, self._state
        holds = self._holds
        if holds is not None:
            # Lock order is the hold book's locks, then ours (the reserve path holds the book
            # and asks for the current state), so the book is brought up to date first.
            holds.catch_up()
            holds.ensure_rows(self._shared.sku_count)
            overlay = holds.overlay()
        with self._lock:
            if key != self._seen:
                # `key` was read before the book was caught up and copied, so anything that
                # moved since shows up as a new key on the next call: never a stale overlay
                # recorded under a newer key.
                if holds is not None:
                    self._overlay = overlay
                self._state = self._shared.read_consistent(self._rebuild)
                self._seen = key
                self._number += 1
            return self._number, self._state

    def _rebuild(self, shared: SharedInventory) -> EngineState:
        base, state = self._base, self._state
        on_hand = shared.on_hand
        sku_ids = shared.sku_ids()
        catalog, skus = state.catalog, state.skus
        capacity = on_hand.shape[1]
        holds = self._holds
        if holds is not None and holds.reserved.shape[0] < len(sku_ids):
            # SKUs registered since `ensure_rows`: routable from the next refresh on.
            sku_ids = sku_ids[:holds.reserved.shape[0]]
        if len(sku_ids) != len(catalog.sku_ids):
            catalog, skus = self._grow_catalog(sku_ids)
        supply = shared.supply_csr(base.today, n_skus=len(sku_ids))
        if holds is not None:
            rules = base.rules
            promised, activated = self._overlay
            if activated:
                rulesets = dict(rules.rulesets)
                for name, record in activated.items():
                    rulesets[name] = decode_ruleset(record.toml.encode(), file=f"ruleset {name}")
                rules = msgspec.structs.replace(rules, rulesets=rulesets)
            nodes = base.nodes._replace(
                enabled=holds.enabled, daily_capacity_units=holds.daily_capacity,
                capacity_used_today=holds.capacity_used)
            return state._replace(
                catalog=catalog, skus=skus, nodes=nodes, rules=rules,
                inventory=Inventory(on_hand=on_hand, reserved=holds.reserved,
                                    stocked=shared.stocked),
                supply=_less_promised(supply, promised),
                version=np.array([shared.version], dtype=np.int64))
        if self._reserved.shape[0] != capacity:
            # Owner of `reserved` is the router; keep what it holds when the rows grow.
            grown = np.zeros((capacity, on_hand.shape[2]), dtype=np.int32)
            rows = min(capacity, self._reserved.shape[0])
            grown[:rows] = self._reserved[:rows]
            self._reserved = grown
        return state._replace(
            catalog=catalog,
            skus=skus,
            inventory=Inventory(on_hand=on_hand, reserved=self._reserved,
                                stocked=shared.stocked),
            supply=supply,
            version=np.array([shared.version], dtype=np.int64),
        )

    def _grow_catalog(self, sku_ids: list[str]) -> tuple[Catalog, SkuArrays]:
        base = self._base
        known = len(base.catalog.sku_ids)
        new = sku_ids[known:]
        previous = len(self._state.catalog.sku_ids)
        for sku in sku_ids[previous:]:
            log.info("SKU %s registered by the sidecar; routed as standard, 0 kg", sku)
        old = base.catalog
        catalog = Catalog(sku_ids, old.node_ids, (), old.postal_codes)
        # Channels are node attributes, not SKU ones: keep the base numbering exactly.
        catalog.channel_bit = old.channel_bit
        extra = len(new)
        skus = SkuArrays(
            kind=np.concatenate([base.skus.kind, np.full(extra, SKU_STANDARD, np.int8)]),
            weight_kg=np.concatenate([base.skus.weight_kg, np.zeros(extra)]),
            hazmat=np.concatenate([base.skus.hazmat, np.zeros(extra, np.uint8)]),
            returnable=np.concatenate([base.skus.returnable, np.ones(extra, np.uint8)]),
        )
        return catalog, skus


def _less_promised(supply: Supply, promised: dict[tuple[int, int], int]) -> Supply:
    """`supply` with units already promised to backorders taken from each node's earliest rows
    (rows are sorted by day within a SKU, so earliest first)."""
    if not promised:
        return supply
    qty = supply.qty.copy()
    for (sku, node), units in promised.items():
        left = units
        for row in range(int(supply.sku_offsets[sku]), int(supply.sku_offsets[sku + 1])):
            if left <= 0:
                break
            if supply.node_idx[row] == node:
                take = min(left, int(qty[row]))
                qty[row] -= take
                left -= take
    return supply._replace(qty=qty)
