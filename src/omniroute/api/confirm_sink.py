"""Confirm's on-hand drops, sent to the sync sidecar (the only writer of on-hand) over its own
`InventorySync.StreamDeltas`, as the feed `omniroute-router` numbered by confirm sequence.

The sidecar's rules make this safe to repeat: a sequence it already applied comes back as a
duplicate, so a confirm re-sent after a crash drops on-hand once.
"""

from __future__ import annotations

import grpc

from omniroute.engine.reserving import OnHandDrop
from omniroute.errors import Unavailable
from omniroute.v1 import sync_pb2, sync_pb2_grpc, types_pb2

SOURCE_ID = "omniroute-router"
_TIMEOUT_S = 10.0


class SidecarConfirmSink:
    """A `ConfirmSink` over a channel to the sidecar; one blocking round trip per batch."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._channel: grpc.Channel | None = None

    def _stub(self) -> sync_pb2_grpc.InventorySyncStub:
        if self._channel is None:
            self._channel = grpc.insecure_channel(self._target)
        return sync_pb2_grpc.InventorySyncStub(self._channel)  # type: ignore[no-untyped-call]

    def __call__(self, sequence: int, drops: list[OnHandDrop]) -> str:
        batch = sync_pb2.DeltaBatch(source_id=SOURCE_ID, sequence=sequence, deltas=[
            sync_pb2.InventoryDelta(sku=d.sku, node_id=d.node_id,
                                    disposition=types_pb2.DISPOSITION_SELLABLE,
                                    kind=sync_pb2.DELTA_KIND_ADJUST, qty=-d.qty)
            for d in drops])
        try:
            acks = list(self._stub().StreamDeltas(iter([batch]), timeout=_TIMEOUT_S))
        except grpc.RpcError as error:
            raise Unavailable(f"the sync sidecar at {self._target} did not take confirm "
                              f"{sequence} ({error.code().name}); the confirm is recorded and "
                              "will be sent again: retry Confirm") from None
        if len(acks) != 1:
            raise Unavailable(f"the sync sidecar answered confirm {sequence} with {len(acks)} "
                              "acks; retry Confirm")
        ack = acks[0]
        if ack.status in (sync_pb2.ACK_STATUS_APPLIED, sync_pb2.ACK_STATUS_DUPLICATE):
            return ""
        return "; ".join(f"deltas[{e.index}].{e.field}: {e.reason}" for e in ack.errors) or \
            sync_pb2.AckStatus.Name(ack.status)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
