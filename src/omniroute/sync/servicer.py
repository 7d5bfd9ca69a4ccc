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

Decoding: StreamDeltas receives each batch as raw bytes (no generated deserializer) and
`decode_batch` reads it. A batch whose inventory deltas are all in `columns` (the fast form) is
read by `sync.wire`: the packed columns go straight into NumPy arrays, the id tables through
the protobuf runtime in one call each, with no Python object per delta. Any other batch (row
deltas, supply deltas, or an encoding `sync.wire` leaves alone) is parsed by the protobuf
runtime as before; `columns` decoded both ways are identical (tested), so the choice is only
about speed. Bytes that are not a DeltaBatch at all end the stream with INVALID_ARGUMENT: no
ack can name a batch whose source and sequence are unreadable.

Lag (`SourceStatus.lag_ms`): the newest event time of a batch. For `columns` every row's time
is read (a vectorised max); for row deltas only the first and last delta's (feeds send deltas
in event order; reading every timestamp message would cost a third of the ingest CPU).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import NamedTuple

import grpc
import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from omniroute.errors import InvalidArgument
from omniroute.sync import wire
from omniroute.sync.ingest import Ingestor, Pending
from omniroute.sync.ledger import (
    Applied,
    DeltaColumns,
    Duplicate,
    Rejected,
    SupplyColumns,
    concat_deltas,
    delta_rows,
    empty_deltas,
    empty_supply,
)
from omniroute.v1 import sync_pb2, sync_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = sync_pb2.DESCRIPTOR.services_by_name["InventorySync"].full_name


def _event_ns(*stamps: Timestamp) -> int:
    return max((t.seconds * 1_000_000_000 + t.nanos for t in stamps), default=0)


class DecodedBatch(NamedTuple):
    source_id: str
    sequence: int
    deltas: DeltaColumns
    supply: SupplyColumns
    event_ns: int
    """Newest event time in the batch (ns since the epoch), 0 when none."""


_BATCH = sync_pb2.DeltaBatch
_COLS = sync_pb2.InventoryDeltaColumns


def decode_batch(raw: bytes) -> DecodedBatch:
    """A serialized DeltaBatch as columns; InvalidArgument if it is not one."""
    try:
        fast = _decode_columnar(raw)
    except wire.WireError:
        fast = None  # an encoding the fast reader leaves to the runtime; not necessarily bad
    if fast is not None:
        return fast
    try:
        batch = _BATCH.FromString(raw)
    except DecodeError as error:
        raise InvalidArgument("StreamDeltas", f"a message is not a DeltaBatch ({error})"
                              ) from None
    deltas, supply, event_ns = batch_columns(batch)
    return DecodedBatch(batch.source_id, batch.sequence, deltas, supply, event_ns)


def _decode_columnar(raw: bytes) -> DecodedBatch | None:
    """The fast path: a batch without row or supply deltas; None for any other batch."""
    top = wire.scan(raw, stop_at=(_BATCH.DELTAS_FIELD_NUMBER, _BATCH.SUPPLY_FIELD_NUMBER))
    if top is None:
        return None
    source_id = wire.last_string(raw, top.get(_BATCH.SOURCE_ID_FIELD_NUMBER))
    sequence = wire.last_varint(raw, top.get(_BATCH.SEQUENCE_FIELD_NUMBER))
    spans = top.get(_BATCH.COLUMNS_FIELD_NUMBER)
    if not spans:
        return DecodedBatch(source_id, sequence, empty_deltas(), empty_supply(), 0)
    # A singular message field seen more than once is merged: the same as reading each
    # occurrence in turn and concatenating the repeated fields, which is what happens here.
    fields: dict[int, list[wire.Span]] = {}
    for span in spans:
        if span.wire_type != wire.LEN:
            raise wire.WireError("columns is not length-delimited")
        inner = wire.scan(raw, span.start, span.end)
        assert inner is not None  # no stop_at
        for number, found in inner.items():
            fields.setdefault(number, []).extend(found)
    deltas, event_ns = _columns_from_fields(raw, fields)
    return DecodedBatch(source_id, sequence, deltas, empty_supply(), event_ns)


def _id_table(raw: bytes, spans: list[wire.Span] | None) -> list[str]:
    # Merged occurrences of IdTable concatenate; the runtime parses (and checks the UTF-8 of)
    # every id in one C call.
    body = wire.joined(raw, spans, (wire.LEN,))
    if not body:
        return []
    try:
        return list(sync_pb2.IdTable.FromString(body).ids)
    except DecodeError as error:
        raise wire.WireError(str(error)) from None


def _columns_from_fields(raw: bytes, fields: dict[int, list[wire.Span]]
                         ) -> tuple[DeltaColumns, int]:
    get = fields.get
    deltas = DeltaColumns(
        sku_ids=_id_table(raw, get(_COLS.SKUS_FIELD_NUMBER)),
        sku_ref=wire.packed_fixed32(raw, get(_COLS.SKU_REF_FIELD_NUMBER)),
        node_ids=_id_table(raw, get(_COLS.NODES_FIELD_NUMBER)),
        node_ref=wire.packed_fixed32(raw, get(_COLS.NODE_REF_FIELD_NUMBER)),
        disposition=wire.as_int32(wire.packed_varints(raw,
                                                      get(_COLS.DISPOSITION_FIELD_NUMBER))),
        kind=wire.as_int32(wire.packed_varints(raw, get(_COLS.KIND_FIELD_NUMBER))),
        qty=wire.packed_sfixed64(raw, get(_COLS.QTY_FIELD_NUMBER)),
        event_ns=wire.packed_sfixed64(raw, get(_COLS.EVENT_TIME_UNIX_NS_FIELD_NUMBER)))
    return deltas, _newest(deltas.event_ns)


def _newest(times: npt.NDArray[np.int64]) -> int:
    # A column of the wrong length is rejected by the ledger; its max is then harmless.
    return max(int(times.max()), 0) if len(times) else 0


def columns_of(message: sync_pb2.InventoryDeltaColumns) -> tuple[DeltaColumns, int]:
    """The slow twin of the fast reader, through the protobuf runtime's objects."""
    def ints(values: object) -> npt.NDArray[np.int64]:
        return np.array(list(values), dtype=np.int64)  # type: ignore[call-overload]

    deltas = DeltaColumns(
        sku_ids=list(message.skus.ids), sku_ref=ints(message.sku_ref),
        node_ids=list(message.nodes.ids), node_ref=ints(message.node_ref),
        disposition=ints(message.disposition), kind=ints(message.kind), qty=ints(message.qty),
        event_ns=ints(message.event_time_unix_ns))
    return deltas, _newest(deltas.event_ns)


def batch_columns(batch: sync_pb2.DeltaBatch) -> tuple[DeltaColumns, SupplyColumns, int]:
    """Columns of a batch parsed by the runtime; the newest event time (ns) of its first and
    last row deltas and of every `columns` row."""
    deltas = batch.deltas
    rows = [(d.sku, d.node_id, d.disposition, d.kind, d.qty) for d in deltas]
    stamps: list[Timestamp] = []
    if rows:
        skus, nodes, disp, kind, qty = zip(*rows, strict=True)
        n = len(rows)
        columns = delta_rows(list(skus), list(nodes),
                             np.fromiter(disp, dtype=np.int64, count=n),
                             np.fromiter(kind, dtype=np.int64, count=n),
                             np.fromiter(qty, dtype=np.int64, count=n))
        stamps += [deltas[0].event_time, deltas[n - 1].event_time]
    else:
        columns = empty_deltas()
    columns_ns = 0
    if batch.HasField("columns"):
        extra, columns_ns = columns_of(batch.columns)
        columns = concat_deltas(columns, extra)
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
    return columns, supply_columns, max(_event_ns(*stamps), columns_ns)


class InventorySyncServicer(sync_pb2_grpc.InventorySyncServicer):
    def __init__(self, ingestor: Ingestor) -> None:
        self._ingestor = ingestor

    def _ack(self, batch: DecodedBatch, pending: Pending) -> sync_pb2.DeltaAck:
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

    def StreamDeltas(self, request_iterator: Iterator[bytes],
                     context: grpc.ServicerContext) -> Iterator[sync_pb2.DeltaAck]:
        """Requests arrive as serialized DeltaBatch bytes (see `add_to_server`)."""
        pending: queue.SimpleQueue[tuple[DecodedBatch, Pending] | BaseException | None] = (
            queue.SimpleQueue())
        ingestor = self._ingestor

        def read() -> None:
            try:
                for raw in request_iterator:
                    batch = decode_batch(raw)
                    pending.put((batch, ingestor.submit(batch.source_id, batch.sequence,
                                                        batch.deltas, batch.supply,
                                                        event_ns=batch.event_ns)))
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


def add_to_server(servicer: InventorySyncServicer, server: grpc.Server) -> None:
    """Register the service like the generated `add_InventorySyncServicer_to_server`, except
    that StreamDeltas gets its requests as bytes, for `decode_batch` to read."""
    handlers = {
        "StreamDeltas": grpc.stream_stream_rpc_method_handler(
            servicer.StreamDeltas, request_deserializer=None,
            response_serializer=sync_pb2.DeltaAck.SerializeToString),
        "GetSyncStatus": grpc.unary_unary_rpc_method_handler(
            servicer.GetSyncStatus,
            request_deserializer=sync_pb2.GetSyncStatusRequest.FromString,
            response_serializer=sync_pb2.SyncStatus.SerializeToString),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME,
                                                                          handlers),))
    # The registered-method fast path of grpcio >= 1.62, as the generated code uses it.
    server.add_registered_method_handlers(SERVICE_NAME, handlers)  # type: ignore[attr-defined]
