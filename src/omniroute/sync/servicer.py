"""The omniroute.v1.InventorySync servicer of the sidecar."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from omniroute.rpc import unimplemented
from omniroute.v1 import sync_pb2, sync_pb2_grpc

SYNC_ISSUE = "durable delta ingestion arrives with issue 4"
SERVICE_NAME = sync_pb2.DESCRIPTOR.services_by_name["InventorySync"].full_name


class InventorySyncServicer(sync_pb2_grpc.InventorySyncServicer):
    def StreamDeltas(self, request_iterator: Iterator[sync_pb2.DeltaBatch],
                     context: grpc.ServicerContext) -> Iterator[sync_pb2.DeltaAck]:
        unimplemented(context, "StreamDeltas", SYNC_ISSUE)
        yield from ()

    def GetSyncStatus(self, request: sync_pb2.GetSyncStatusRequest,
                      context: grpc.ServicerContext) -> sync_pb2.SyncStatus:
        unimplemented(context, "GetSyncStatus", SYNC_ISSUE)
        raise AssertionError("unreachable")
