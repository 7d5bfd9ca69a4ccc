"""The stocked-node index: which nodes hold sellable stock of each SKU, as a bitmap.

`stocked[sku, word]` is a uint64 whose bit `b` stands for node `64 * word + b`: set exactly
when `on_hand[SELLABLE, sku, node] > 0`. It is derived data with the same single writer as
on-hand (the sync sidecar, or whoever builds an in-process state), kept in step on every
write, never rebuilt by readers.

Why it exists: a typical SKU is stocked at a few percent of the nodes, and the routing kernel
used to find them by scanning the whole 1,000-node on-hand row of every line (about half of
the candidate search for a warm 5-line order). Sixteen words per SKU list them instead.

Readers race the writer the way they race on-hand itself: the writer stores the cell, then
its bit, so a reader may briefly see a set bit over a cell that went to 0 (it re-reads the
cell and finds no ATP) or a new positive cell whose bit is not set yet (as if the delta had
not arrived). Either way it routes on a state that existed moments ago.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]


def stocked_words(node_count: int) -> int:
    """Words per SKU row: one bit per node, rounded up to whole 64-bit words."""
    return (node_count + 63) // 64


def stocked_bits(sellable: npt.NDArray[np.integer]) -> U64:
    """The index of a [sku, node] sellable plane, built from scratch."""
    n_skus, n_nodes = sellable.shape
    words = stocked_words(n_nodes)
    padded = np.zeros((n_skus, words * 64), dtype=bool)
    padded[:, :n_nodes] = sellable > 0
    # Little bit order puts node 8k + j at bit j of byte k; eight bytes read as one
    # little-endian uint64 put it at bit 8k + j of the word.
    packed = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def mark_stocked(stocked: U64, sku_idx: npt.NDArray[np.integer],
                 node_idx: npt.NDArray[np.integer], sellable_now: npt.NDArray[np.integer]
                 ) -> None:
    """Bring the bits of cells (sku_idx[i], node_idx[i]) in line with their new sellable
    values `sellable_now[i]` (the values in on-hand after the write: a cell written twice in
    one batch appears with its final value both times)."""
    sku_idx = np.asarray(sku_idx, dtype=np.int64)
    node_idx = np.asarray(node_idx, dtype=np.int64)
    word = node_idx >> 6
    bit = np.left_shift(np.uint64(1), (node_idx & 63).astype(np.uint64))
    positive = np.asarray(sellable_now) > 0
    # `.at` applies repeated (sku, word) pairs one after another instead of last-wins.
    np.bitwise_or.at(stocked, (sku_idx[positive], word[positive]), bit[positive])
    np.bitwise_and.at(stocked, (sku_idx[~positive], word[~positive]), ~bit[~positive])
