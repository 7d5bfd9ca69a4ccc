"""The stocked-node bitmap (`state.stocked`) against its slow twin: a bit per node, read off
the sellable plane one cell at a time. Built from scratch, kept in step by `mark_stocked`, and
kept in step by the live writer through writes, bulk loads and growth."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.state.shared import SharedInventory, SharedInventoryWriter
from omniroute.state.stocked import mark_stocked, stocked_bits, stocked_words
from omniroute.state.store import DISPOSITIONS


def naive_bits(sellable: np.ndarray) -> set[tuple[int, int]]:
    """(sku, node) of every positive cell."""
    return {(s, n) for s in range(sellable.shape[0]) for n in range(sellable.shape[1])
            if sellable[s, n] > 0}


def bits_of(stocked: np.ndarray) -> set[tuple[int, int]]:
    """(sku, node) of every set bit; a bit past the last node is reported as is."""
    out = set()
    for s in range(stocked.shape[0]):
        for w in range(stocked.shape[1]):
            word = int(stocked[s, w])
            for b in range(64):
                if word >> b & 1:
                    out.add((s, 64 * w + b))
    return out


planes = st.tuples(st.integers(1, 6), st.integers(1, 150)).flatmap(
    lambda shape: st.lists(st.integers(-3, 3), min_size=shape[0] * shape[1],
                           max_size=shape[0] * shape[1]).map(
        lambda v: np.array(v, dtype=np.int32).reshape(shape)))


@given(planes)
def test_built_bits_are_the_positive_cells(sellable: np.ndarray) -> None:
    stocked = stocked_bits(sellable)
    assert stocked.dtype == np.uint64
    assert stocked.shape == (sellable.shape[0], stocked_words(sellable.shape[1]))
    assert bits_of(stocked) == naive_bits(sellable)


writes = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 129), st.integers(-2, 4)),
                  min_size=1, max_size=40)


@given(st.lists(writes, min_size=1, max_size=6))
def test_marked_bits_follow_every_write(batches: list[list[tuple[int, int, int]]]) -> None:
    sellable = np.zeros((4, 130), dtype=np.int32)
    stocked = stocked_bits(sellable)
    for batch in batches:
        sku, node, value = (np.array(c, dtype=np.int64) for c in zip(*batch, strict=True))
        sellable[sku, node] = value  # repeated cells: the last write wins, as in on-hand
        mark_stocked(stocked, sku, node, sellable[sku, node])
        assert bits_of(stocked) == naive_bits(sellable)


# Few cells, at the word edges, so that writes land on cells earlier writes made positive.
live_writes = st.lists(st.tuples(st.sampled_from([0, 0, 0, 1]), st.integers(0, 11),
                                 st.sampled_from([0, 3, 63, 64, 69]), st.integers(-1, 5)),
                       min_size=1, max_size=30)


@settings(max_examples=30, deadline=None)
@given(st.lists(live_writes, min_size=1, max_size=5), st.integers(0, 4))
def test_live_writer_keeps_the_bitmap_through_writes_and_growth(
        batches: list[list[tuple[int, int, int, int]]], grow_after: int) -> None:
    node_ids = [f"N{i}" for i in range(70)]
    with tempfile.TemporaryDirectory() as tmp:
        writer = SharedInventoryWriter.create(Path(tmp), node_ids=node_ids, sku_capacity=4)
        start = np.zeros((len(DISPOSITIONS), 4, 70), dtype=np.int32)
        start[0, 1, 3] = 2
        start[1, 2, 5] = 7  # damaged stock is not sellable: no bit
        writer.register_skus(0, [f"S{i}" for i in range(4)])
        writer.load_on_hand(start)
        for i, batch in enumerate(batches):
            if i == grow_after:
                writer.register_skus(4, [f"S{i}" for i in range(4, 12)])  # grows to 12 rows
            d, s, n, v = (np.array(c, dtype=np.int64) for c in zip(*batch, strict=True))
            s = s % writer.sku_count
            writer.set_on_hand(d, s, n, v.astype(np.int32))
            sellable = writer.data.on_hand[0]
            assert bits_of(writer.data.stocked) == naive_bits(sellable)
        reader = SharedInventory.open(Path(tmp))
        assert np.array_equal(reader.stocked, writer.data.stocked)
        assert bits_of(reader.stocked) == naive_bits(reader.on_hand[0])
        writer.close()
