"""The omniroute.v1.InventorySync servicer of the sidecar: protobuf <-> `Ingestor` only.

Batch semantics (dedup, gaps and order, all-or-nothing) are those of `sync.ledger`, briefly:
`sequence <= last` of the source is a DUPLICATE (acked, not reapplied); any higher sequence is
applied (gaps allowed); a batch with a bad delta is REJECTED whole, its ack naming each bad
delta's index, field and reason (at most `ledger.MAX_ERRORS`); `source_id` empty or
`sequence` 0 rejects the batch with index -1.

StreamDeltas is pipelined: a reader thread validates and applies each batch as it arrives and
queues it on the journal, while the handler thread sends the acks in arrival order, each once
the fsync that covers it has happened. One stream therefore keeps many batches in flight and
they share fsyncs (group commit); several streams share them too.

Lag (`SourceStatus.lag_ms`): the newest `event_time` of a batch is taken from its first and
last delta (feeds send deltas in event order; reading every timestamp would cost a third of
the ingest CPU).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator

import grpc
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from omniroute.sync.ingest import Ingestor, Pending
from omniroute.sync.ledger import (
    Applied,
    DeltaColumns,
    Duplicate,
    Rejected,
    SupplyColumns,
    empty_supply,
)
from omniroute.v1 import sync_pb2, sync_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = sync_pb2.DESCRIPTOR.services_by_name["InventorySync"].full_name


def _event_ns(*stamps: Timestamp) -> int:
    return max((t.seconds * 1_000_000_000 + t.nanos for t in stamps), default=0)


def batch_columns(batch: sync_pb2.DeltaBatch) -> tuple[DeltaColumns, SupplyColumns, int]:
    """Columns of a batch, and the newest event time (ns) of its first and last deltas."""
    deltas = batch.deltas
    rows = [(d.sku, d.node_id, d.disposition, d.kind, d.qty) for d in deltas]
    stamps: list[Timestamp] = []
    if rows:
        skus, nodes, disp, kind, qty = zip(*rows, strict=True)
        n = len(rows)
        columns = DeltaColumns(list(skus), list(nodes),
                               np.fromiter(disp, dtype=np.int64, count=n),
                               np.fromiter(kind, dtype=np.int64, count=n),
                               np.fromiter(qty, dtype=np.int64, count=n))
        stamps += [deltas[0].event_time, deltas[n - 1].event_time]
    else:
        z = np.zeros(0, dtype=np.int64)
        columns = DeltaColumns([], [], z, z, z)
    supply = batch.supply
    if supply:
        srows = [(s.sku, s.node_id, s.action, s.qty, s.available_date) for s in supply]
        ssku, snode, action, sqty, date = zip(*srows, strict=True)
        m = len(srows)
        supply_columns = SupplyColumns(list(ssku), list(snode),
                                       np.fromiter(action, dtype=np.int64, count=m),
                                       np.fromiter(sqty, dtype=np.int64, count=m), list(date))
        stamps += [supply[0].event_time, supply[m - 1].event_time]
    else:
        supply_columns = empty_supply()
    return columns, supply_columns, _event_ns(*stamps)


class InventorySyncServicer(sync_pb2_grpc.InventorySyncServicer):
    def __init__(self, ingestor: Ingestor) -> None:
        self._ingestor = ingestor

    def _ack(self, batch: sync_pb2.DeltaBatch, pending: Pending) -> sync_pb2.DeltaAck:
        outcome = pending.outcome
        ack = sync_pb2.DeltaAck(source_id=batch.source_id, sequence=batch.sequence)
        if isinstance(outcome, Applied):
            ack.status = sync_pb2.ACK_STATUS_APPLIED
            ack.inventory_version = outcome.lsn
        elif isinstance(outcome, Duplicate):
            ack.status = sync_pb2.ACK_STATUS_DUPLICATE
            ack.inventory_version = self._ingestor.journal.durable_lsn
        else:
            assert isinstance(outcome, Rejected)
            ack.status = sync_pb2.ACK_STATUS_REJECTED
            ack.inventory_version = self._ingestor.journal.durable_lsn
            for error in outcome.errors:
                ack.errors.add(index=error.index, supply=error.supply, field=error.field,
                               reason=error.reason)
        return ack

    def StreamDeltas(self, request_iterator: Iterator[sync_pb2.DeltaBatch],
                     context: grpc.ServicerContext) -> Iterator[sync_pb2.DeltaAck]:
        pending: queue.SimpleQueue[tuple[sync_pb2.DeltaBatch, Pending] | BaseException | None] = (
            queue.SimpleQueue())
        ingestor = self._ingestor

        def read() -> None:
            try:
                for batch in request_iterator:
                    deltas, supply, event_ns = batch_columns(batch)
                    pending.put((batch, ingestor.submit(batch.source_id, batch.sequence, deltas,
                                                        supply, event_ns=event_ns)))
            except grpc.RpcError:
                pass  # the client went away: nothing more to ack
            except BaseException as error:
                pending.put(error)
            finally:
                pending.put(None)

        reader = threading.Thread(target=read, name="stream-reader", daemon=True)
        reader.start()
        while True:
            item = pending.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            batch, submitted = item
            ingestor.wait(submitted)
            yield self._ack(batch, submitted)

    def GetSyncStatus(self, request: sync_pb2.GetSyncStatusRequest,
                      context: grpc.ServicerContext) -> sync_pb2.SyncStatus:
        view = self._ingestor.status()
        reply = sync_pb2.SyncStatus(
            inventory_version=view.version, sku_count=view.sku_count,
            node_count=view.node_count, batches_applied=view.batches_applied,
            deltas_applied=view.deltas_applied)
        if view.last_snapshot_ns:
            reply.last_snapshot_at.FromNanoseconds(view.last_snapshot_ns)
        for source in view.sources:
            status = reply.sources.add(source_id=source.source_id,
                                       last_sequence=source.sequence, lag_ms=source.lag_ms)
            status.last_applied_at.FromNanoseconds(source.applied_at_ns)
        return reply
