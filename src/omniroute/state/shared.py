"""Live inventory shared between processes: memory-mapped files in `<state>/live/`.

One writer (the sync sidecar) and any number of readers (router worker processes). Layout:

`live/header` (4096 bytes, little-endian int64 words, never resized or replaced):

    word 0  magic                    word 4  inventory version (of the published state)
    word 1  layout version           word 5  sku_count (catalog entries published)
    word 2  generation               word 6  batches applied
    word 3  seqlock (odd = writing)  word 7  deltas applied
    word 8  writer pid

`live/data-<generation>` holds every array, each 64-byte aligned, sized with headroom:

    a 64-byte prologue: magic, generation, sku_capacity, node_count, dispositions, supply_slots
    on_hand      int32 [disposition, sku_capacity, node]    units (same axes as
                                                            `state.store.Inventory.on_hand`)
    stocked      uint64 [sku_capacity, ceil(node / 64)]     stocked-node bitmap of sellable
                                                            on-hand (`state.stocked`)
    supply_node  int32 [sku_capacity, supply_slots]         node index of a future-supply slot
    supply_day   int32 [sku_capacity, supply_slots]         days since 1970-01-01
    supply_qty   int64 [sku_capacity, supply_slots]         units; 0 = empty slot
    sku_ids      uint8 [sku_capacity, ID_BYTES]             UTF-8 SKU id, NUL padded
    node_ids     uint8 [node_count, ID_BYTES]               UTF-8 node id, NUL padded

Growth without stopping service: when the catalog outgrows `sku_capacity` (or a SKU outgrows
its supply slots) the writer builds `data-<generation + 1>` with doubled capacity, copies the
live contents, then bumps the header's generation. Readers compare the generation on
`refresh()` and remap; the previous data file stays on disk (and mapped pages stay valid after
unlink on Linux) until the generation after that, so a reader never maps a half-built file.

Torn reads: every cell is an aligned int32/int64, written with one store on x86-64, so no
value is ever torn. A batch touches many cells; readers that need all of a batch or none of it
use `read_consistent`, a seqlock: the writer makes word 3 odd while it writes and even after.
Publication order within a batch is ids, then cells (each on-hand cell before its stocked
bit), then `sku_count`, then version, so a SKU resolvable through the catalog always has its
stock in place.

Ownership: the sync sidecar writes everything here; everyone else maps it read-only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import mmap
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from omniroute.errors import FailedPrecondition
from omniroute.state.stocked import U64, mark_stocked, stocked_bits, stocked_words
from omniroute.state.store import DISPOSITIONS, SELLABLE, Supply

MAGIC = 0x4F4D4E494C495645  # "OMNILIVE"
LAYOUT_VERSION = 2  # 2: the stocked-node bitmap
HEADER_BYTES = 4096
ID_BYTES = 128  # config's Identifier allows at most 128 characters
_PROLOGUE_BYTES = 64
_ALIGN = 64
EPOCH = dt.date(1970, 1, 1)

(W_MAGIC, W_LAYOUT, W_GENERATION, W_SEQLOCK, W_VERSION, W_SKU_COUNT, W_BATCHES, W_DELTAS,
 W_PID) = range(9)

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
T = TypeVar("T")


def live_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "live"


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01 (the unit of `supply_day`)."""
    return (date - EPOCH).days


def _align(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


class _Layout:
    """Byte offsets of each array in a data file of the given dimensions."""

    def __init__(self, sku_capacity: int, node_count: int, dispositions: int,
                 supply_slots: int) -> None:
        self.sku_capacity = sku_capacity
        self.node_count = node_count
        self.dispositions = dispositions
        self.supply_slots = supply_slots
        offset = _PROLOGUE_BYTES
        self.shapes: dict[str, tuple[int, tuple[int, ...], type[np.generic]]] = {}
        for name, shape, dtype in (
            ("on_hand", (dispositions, sku_capacity, node_count), np.int32),
            ("stocked", (sku_capacity, stocked_words(node_count)), np.uint64),
            ("supply_node", (sku_capacity, supply_slots), np.int32),
            ("supply_day", (sku_capacity, supply_slots), np.int32),
            ("supply_qty", (sku_capacity, supply_slots), np.int64),
            ("sku_ids", (sku_capacity, ID_BYTES), np.uint8),
            ("node_ids", (node_count, ID_BYTES), np.uint8),
        ):
            self.shapes[name] = (offset, shape, dtype)
            offset = _align(offset + int(np.prod(shape)) * np.dtype(dtype).itemsize)
        self.size = offset


class _Mapped:
    """One mapped data file and NumPy views into it."""

    def __init__(self, path: Path, *, writable: bool) -> None:
        with path.open("r+b" if writable else "rb") as handle:
            self.mm = mmap.mmap(handle.fileno(), 0,
                                access=mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ)
        prologue = np.frombuffer(self.mm, dtype=np.int64, count=8)
        if int(prologue[0]) != MAGIC:
            raise FailedPrecondition(f"{path} is not an omniroute live data file")
        self.generation = int(prologue[1])
        self.layout = _Layout(int(prologue[2]), int(prologue[3]), int(prologue[4]),
                              int(prologue[5]))
        views: dict[str, npt.NDArray[np.generic]] = {}
        for name, (offset, shape, dtype) in self.layout.shapes.items():
            views[name] = np.frombuffer(self.mm, dtype=dtype, count=int(np.prod(shape)),
                                        offset=offset).reshape(shape)
        self.on_hand: I32 = views["on_hand"]  # type: ignore[assignment]
        self.stocked: U64 = views["stocked"]  # type: ignore[assignment]
        self.supply_node: I32 = views["supply_node"]  # type: ignore[assignment]
        self.supply_day: I32 = views["supply_day"]  # type: ignore[assignment]
        self.supply_qty: I64 = views["supply_qty"]  # type: ignore[assignment]
        self.sku_ids: U8 = views["sku_ids"]  # type: ignore[assignment]
        self.node_ids: U8 = views["node_ids"]  # type: ignore[assignment]

    def close(self) -> None:
        # Views may still be referenced elsewhere; the mapping is released when they die.
        with contextlib.suppress(BufferError):
            self.mm.close()


def _encode_id(text: str) -> bytes:
    raw = text.encode()
    if not raw or len(raw) > ID_BYTES:
        raise ValueError(f"id {text!r} must be 1 to {ID_BYTES} bytes of UTF-8")
    return raw


def _decode_ids(rows: U8) -> list[str]:
    return [bytes(row).rstrip(b"\0").decode() for row in rows]


def _data_path(directory: Path, generation: int) -> Path:
    return directory / f"data-{generation:08d}"


class SharedInventoryWriter:
    """The sidecar's handle: builds generations and publishes changes under the seqlock.

    Not thread-safe: exactly one thread of one process (the sidecar's publisher) calls it.
    The live files are a cache of the durable state (snapshot + journal), rebuilt on every
    sidecar start, so nothing here is fsynced for durability.
    """

    def __init__(self, directory: Path, header_mm: mmap.mmap, data: _Mapped) -> None:
        self.directory = directory
        self._header_mm = header_mm
        self.header: I64 = np.frombuffer(header_mm, dtype=np.int64)
        self.data = data
        self.sku_count = 0
        # (sku, node, day) -> slot, and the free slots of each SKU's row.
        self._slot: dict[tuple[int, int, int], int] = {}
        self._free: dict[int, list[int]] = {}

    @classmethod
    def create(cls, state_dir: Path, *, node_ids: list[str], sku_capacity: int,
               supply_slots: int = 8) -> SharedInventoryWriter:
        """Start a new generation (after the previous writer's last one) with empty arrays."""
        directory = live_dir(state_dir)
        directory.mkdir(parents=True, exist_ok=True)
        header_path = directory / "header"
        if not header_path.exists() or header_path.stat().st_size != HEADER_BYTES:
            tmp = directory / "header.tmp"
            tmp.write_bytes(b"\0" * HEADER_BYTES)
            os.replace(tmp, header_path)
        with header_path.open("r+b") as handle:
            header_mm = mmap.mmap(handle.fileno(), HEADER_BYTES, access=mmap.ACCESS_WRITE)
        header = np.frombuffer(header_mm, dtype=np.int64)
        generation = int(header[W_GENERATION]) + 1 if int(header[W_MAGIC]) == MAGIC else 1
        data = cls._new_data(directory, generation, node_ids, sku_capacity, supply_slots)
        writer = cls(directory, header_mm, data)
        header[W_SEQLOCK] += 1 if int(header[W_SEQLOCK]) % 2 == 0 else 0
        header[W_LAYOUT] = LAYOUT_VERSION
        header[W_SKU_COUNT] = 0
        header[W_VERSION] = 0
        header[W_BATCHES] = 0
        header[W_DELTAS] = 0
        header[W_PID] = os.getpid()
        header[W_GENERATION] = generation
        header[W_MAGIC] = MAGIC
        header[W_SEQLOCK] += 1
        writer._drop_old(generation)
        return writer

    @staticmethod
    def _new_data(directory: Path, generation: int, node_ids: list[str], sku_capacity: int,
                  supply_slots: int) -> _Mapped:
        layout = _Layout(sku_capacity, len(node_ids), len(DISPOSITIONS), supply_slots)
        path = _data_path(directory, generation)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            handle.truncate(layout.size)  # sparse: zero pages cost nothing until written
            prologue = np.array([MAGIC, generation, sku_capacity, len(node_ids),
                                 len(DISPOSITIONS), supply_slots, 0, 0], dtype=np.int64)
            handle.write(prologue.tobytes())
        os.replace(tmp, path)
        data = _Mapped(path, writable=True)
        for i, node_id in enumerate(node_ids):
            raw = _encode_id(node_id)
            data.node_ids[i, :len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        return data

    def _drop_old(self, generation: int) -> None:
        # Keep the previous generation: a reader may have read the old number just now.
        for path in self.directory.glob("data-*"):
            try:
                number = int(path.name.split("-", 1)[1].split(".")[0])
            except ValueError:
                continue
            if number < generation - 1 or (number > generation):
                path.unlink(missing_ok=True)

    # -- publication (call inside `writing()`) --------------------------------------------

    def begin(self) -> None:
        self.header[W_SEQLOCK] += 1

    def end(self, *, version: int, batches: int, deltas: int) -> None:
        self.header[W_SKU_COUNT] = self.sku_count
        self.header[W_BATCHES] = batches
        self.header[W_DELTAS] = deltas
        self.header[W_VERSION] = version
        self.header[W_SEQLOCK] += 1

    def register_skus(self, first_idx: int, sku_ids: list[str]) -> None:
        """Write catalog entries `first_idx...`; they become visible at `end()`."""
        if first_idx != self.sku_count:
            raise ValueError(f"catalog entries must be appended at {self.sku_count}, "
                             f"not {first_idx}")
        needed = first_idx + len(sku_ids)
        if needed > self.data.layout.sku_capacity:
            self._grow(sku_capacity=max(needed, 2 * self.data.layout.sku_capacity))
        for i, sku in enumerate(sku_ids):
            raw = _encode_id(sku)
            self.data.sku_ids[first_idx + i, :len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        self.sku_count = needed

    def set_on_hand(self, disposition_idx: npt.NDArray[np.integer],
                    sku_idx: npt.NDArray[np.integer], node_idx: npt.NDArray[np.integer],
                    values: I32) -> None:
        on_hand = self.data.on_hand
        on_hand[disposition_idx, sku_idx, node_idx] = values
        sellable = np.asarray(disposition_idx) == SELLABLE
        if sellable.any():
            sku_s = np.asarray(sku_idx)[sellable]
            node_s = np.asarray(node_idx)[sellable]
            # Read back: a cell written twice in the batch holds its last value.
            mark_stocked(self.data.stocked, sku_s, node_s, on_hand[SELLABLE, sku_s, node_s])

    def load_on_hand(self, on_hand: I32) -> None:
        """Bulk copy of [disposition, sku, node] for SKUs 0..n-1 (start-up)."""
        n = on_hand.shape[1]
        self.data.on_hand[:, :n, :] = on_hand
        self.data.stocked[:n] = stocked_bits(on_hand[SELLABLE])

    def set_supply(self, sku_idx: int, node_idx: int, day: int, qty: int) -> None:
        """Set the future supply of (sku, node, day) to `qty` units (0 removes it)."""
        key = (sku_idx, node_idx, day)
        slot = self._slot.get(key)
        if slot is None:
            if qty == 0:
                return
            free = self._free.get(sku_idx)
            if free is None:
                free = self._free[sku_idx] = list(range(self.data.layout.supply_slots - 1, -1,
                                                        -1))
            if not free:
                self._grow(supply_slots=2 * self.data.layout.supply_slots)
                free = self._free[sku_idx]
            slot = free.pop()
            self._slot[key] = slot
            # Node and day first, quantity last: a slot is live only once its qty is > 0.
            self.data.supply_node[sku_idx, slot] = node_idx
            self.data.supply_day[sku_idx, slot] = day
        self.data.supply_qty[sku_idx, slot] = qty
        if qty == 0:
            del self._slot[key]
            self._free.setdefault(sku_idx, []).append(slot)

    def _grow(self, *, sku_capacity: int | None = None, supply_slots: int | None = None) -> None:
        old = self.data
        layout = old.layout
        new_cap = sku_capacity or layout.sku_capacity
        new_slots = supply_slots or layout.supply_slots
        generation = int(self.header[W_GENERATION]) + 1
        node_ids = _decode_ids(old.node_ids)
        data = self._new_data(self.directory, generation, node_ids, new_cap, new_slots)
        n = layout.sku_capacity
        data.on_hand[:, :n, :] = old.on_hand
        data.stocked[:n] = old.stocked
        data.supply_node[:n, :layout.supply_slots] = old.supply_node
        data.supply_day[:n, :layout.supply_slots] = old.supply_day
        data.supply_qty[:n, :layout.supply_slots] = old.supply_qty
        data.sku_ids[:n] = old.sku_ids
        if new_slots != layout.supply_slots:
            added = list(range(new_slots - 1, layout.supply_slots - 1, -1))
            for sku, free in self._free.items():
                self._free[sku] = added + free
        self.data = data
        # A reader that sees the new generation maps a complete file.
        self.header[W_GENERATION] = generation
        old.close()
        self._drop_old(generation)

    def close(self) -> None:
        self.data.close()
        del self.header
        self._header_mm.close()


class SharedInventory:
    """A read-only view of the live inventory for a router worker (any process).

    Arrays have the axes of `state.store.Inventory.on_hand` with `sku_capacity` rows: entries
    at or beyond `sku_count` are zero. Call `refresh()` (cheap: one integer compare) before
    using views in a new request; it remaps when the writer has grown the arrays.
    """

    def __init__(self, directory: Path, header_mm: mmap.mmap, *,
                 kernel_views: bool = False) -> None:
        self.directory = directory
        self._kernel_views = kernel_views
        self._header_mm = header_mm
        self.header: I64 = np.frombuffer(header_mm, dtype=np.int64)
        self._data: _Mapped | None = None
        self._sku_ids: list[str] = []
        self._sku_index: dict[str, int] = {}
        self._node_ids: list[str] = []
        self.refresh()

    @classmethod
    def open(cls, state_dir: Path, *, kernel_views: bool = False) -> SharedInventory:
        """Map the live state of `state_dir`; FailedPrecondition until a sidecar created it.

        `kernel_views` maps the data writable (MAP_SHARED, PROT_WRITE) although the reader never
        writes: Numba kernels compiled with explicit signatures take mutable arrays only, and a
        read-only view would not match them. The sidecar stays the one writer by convention.
        """
        directory = live_dir(state_dir)
        try:
            with (directory / "header").open("rb") as handle:
                header_mm = mmap.mmap(handle.fileno(), HEADER_BYTES, access=mmap.ACCESS_READ)
        except (FileNotFoundError, ValueError) as error:
            raise FailedPrecondition(f"no live inventory in {directory}: {error}") from None
        if int(np.frombuffer(header_mm, dtype=np.int64, count=1)[0]) != MAGIC:
            header_mm.close()
            raise FailedPrecondition(f"no live inventory in {directory} yet")
        return cls(directory, header_mm, kernel_views=kernel_views)

    def refresh(self) -> bool:
        """Remap if the writer moved to a new generation; True when it did."""
        generation = int(self.header[W_GENERATION])
        if self._data is not None and self._data.generation == generation:
            return False
        for _ in range(100):
            try:
                data = _Mapped(_data_path(self.directory, generation),
                               writable=self._kernel_views)
                break
            except FileNotFoundError:
                # Grown (or restarted) twice since we read the number: read it again.
                generation = int(self.header[W_GENERATION])
        else:
            raise FailedPrecondition(f"cannot map live data generation {generation}")
        if self._data is not None:
            self._data.close()
        self._data = data
        self._node_ids = _decode_ids(data.node_ids)
        # A restarted writer rebuilds the catalog in the same order (indices are never reused),
        # but re-read it lazily rather than trust that.
        self._sku_ids, self._sku_index = [], {}
        return True

    @property
    def _mapped(self) -> _Mapped:
        assert self._data is not None
        return self._data

    @property
    def generation(self) -> int:
        return self._mapped.generation

    @property
    def version(self) -> int:
        """Inventory version of the published state (bumped once per applied batch)."""
        return int(self.header[W_VERSION])

    @property
    def sku_count(self) -> int:
        return int(self.header[W_SKU_COUNT])

    @property
    def batches_applied(self) -> int:
        return int(self.header[W_BATCHES])

    @property
    def deltas_applied(self) -> int:
        return int(self.header[W_DELTAS])

    @property
    def on_hand(self) -> I32:
        """[disposition, sku_capacity, node] int32, read-only, C-contiguous."""
        return self._mapped.on_hand

    @property
    def stocked(self) -> U64:
        """[sku_capacity, word] stocked-node bitmap of sellable on-hand (`state.stocked`)."""
        return self._mapped.stocked

    @property
    def supply_node(self) -> I32:
        return self._mapped.supply_node

    @property
    def supply_day(self) -> I32:
        return self._mapped.supply_day

    @property
    def supply_qty(self) -> I64:
        return self._mapped.supply_qty

    @property
    def node_ids(self) -> list[str]:
        return self._node_ids

    def sku_ids(self) -> list[str]:
        """Every registered SKU id, by index."""
        self._sync_catalog()
        return self._sku_ids

    def sku_index(self, sku: str) -> int:
        """The index of `sku`, -1 if it is not registered (yet)."""
        found = self._sku_index.get(sku)
        if found is None:
            self._sync_catalog()
            found = self._sku_index.get(sku, -1)
        return found

    def _sync_catalog(self) -> None:
        self.refresh()
        count = self.sku_count
        known = len(self._sku_ids)
        if count > known:
            new = _decode_ids(self._mapped.sku_ids[known:count])
            for i, sku in enumerate(new):
                self._sku_index[sku] = known + i
            self._sku_ids.extend(new)

    def read_consistent(self, read: Callable[[SharedInventory], T]) -> T:
        """Run `read` until it ran while no batch was being published (seqlock)."""
        while True:
            before = int(self.header[W_SEQLOCK])
            if before % 2 == 0:
                self.refresh()
                result = read(self)
                if int(self.header[W_SEQLOCK]) == before:
                    return result
            os.sched_yield()

    def supply_rows(self, sku_idx: int) -> tuple[I32, I32, I64]:
        """(node_idx, day since 1970, qty) of the SKU's future supply, sorted by (day, node)."""
        data = self._mapped
        qty = data.supply_qty[sku_idx]
        live = np.flatnonzero(qty > 0)
        node, day = data.supply_node[sku_idx, live], data.supply_day[sku_idx, live]
        units = qty[live]
        order = np.lexsort((node, day))
        return node[order], day[order], units[order]

    def supply_csr(self, today: dt.date, n_skus: int | None = None) -> Supply:
        """Future supply in the engine's CSR form (`state.store.Supply`), days from `today`."""
        data = self._mapped
        n = self.sku_count if n_skus is None else n_skus
        qty = data.supply_qty[:n]
        sku_idx, slot = np.nonzero(qty > 0)
        node = data.supply_node[sku_idx, slot].astype(np.int64)
        day = data.supply_day[sku_idx, slot].astype(np.int64) - day_number(today)
        order = np.lexsort((node, day, sku_idx))
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.add.at(offsets, sku_idx + 1, 1)
        return Supply(sku_offsets=np.cumsum(offsets), node_idx=node[order].astype(np.int32),
                      day=day[order].astype(np.int32), qty=qty[sku_idx, slot][order])

    def close(self) -> None:
        if self._data is not None:
            self._data.close()
            self._data = None
        del self.header
        with contextlib.suppress(BufferError):
            self._header_mm.close()
