"""The catalog: string ids <-> dense array indices for SKUs, nodes, channels and postal areas.

Owner: the sync sidecar (issue 4) registers new SKUs; today it is built once at load. Indices are
never reused or reordered, so an index held by a reservation stays valid.
"""

from __future__ import annotations

from collections.abc import Iterable

# Bit 63 of a node's channel mask stands for "any channel no node names": only nodes serving
# '*' have it, so an order on such a channel can still use them.
OTHER_CHANNEL_BIT = 63
ALL_CHANNELS_MASK = (1 << 64) - 1


class Catalog:
    """Id <-> index maps; lookups give -1 for an unknown id (callers decide if that is an error)."""

    def __init__(self, sku_ids: Iterable[str], node_ids: Iterable[str],
                 channels: Iterable[str], postal_codes: Iterable[str]) -> None:
        self.sku_ids: list[str] = list(sku_ids)
        self.sku_index: dict[str, int] = {sku: i for i, sku in enumerate(self.sku_ids)}
        self.node_ids: list[str] = list(node_ids)
        self.node_index: dict[str, int] = {node: i for i, node in enumerate(self.node_ids)}
        named = sorted({c for c in channels if c != "*"})
        if len(named) > OTHER_CHANNEL_BIT:
            raise ValueError(f"at most {OTHER_CHANNEL_BIT} named channels are supported")
        self.channel_bit: dict[str, int] = {channel: i for i, channel in enumerate(named)}
        self.postal_codes: list[str] = list(postal_codes)
        self.postal_index: dict[str, int] = {code: i for i, code in enumerate(self.postal_codes)}
        # Prefix lookup needs only the lengths that exist, longest first.
        self.postal_lengths: list[int] = sorted({len(c) for c in self.postal_codes}, reverse=True)

    def channel_mask_bit(self, channel: str) -> int:
        """The bit an order on `channel` needs in a node's channel mask."""
        return 1 << self.channel_bit.get(channel, OTHER_CHANNEL_BIT)

    def node_channel_mask(self, channels: Iterable[str]) -> int:
        """A node's mask: every bit for '*', else the bits of its named channels."""
        mask = 0
        for channel in channels:
            if channel == "*":
                return ALL_CHANNELS_MASK
            mask |= 1 << self.channel_bit[channel]
        return mask

    def resolve_postal(self, postal_code: str) -> int:
        """Exact match, else the longest known code that is a prefix; -1 when nothing matches."""
        exact = self.postal_index.get(postal_code)
        if exact is not None:
            return exact
        for length in self.postal_lengths:
            if length < len(postal_code):
                found = self.postal_index.get(postal_code[:length])
                if found is not None:
                    return found
        return -1
