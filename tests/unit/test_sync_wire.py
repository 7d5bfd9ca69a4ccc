"""The sidecar's columnar batch reader (`sync.wire` + `servicer.decode_batch`) against the
protobuf runtime, its slow twin: same columns for every encoding the protobuf rules allow."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniroute.errors import InvalidArgument
from omniroute.sync import wire
from omniroute.sync.ledger import DeltaColumns, Ledger, Rejected, empty_supply
from omniroute.sync.servicer import batch_columns, columns_of, decode_batch
from omniroute.v1 import sync_pb2

INT64 = st.integers(-(2**63), 2**63 - 1)
ID = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def fixed32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def sfixed64(value: int) -> bytes:
    return value.to_bytes(8, "little", signed=True)


def same(a: DeltaColumns, b: DeltaColumns) -> None:
    assert a.sku_ids == b.sku_ids
    assert a.node_ids == b.node_ids
    for name in ("sku_ref", "node_ref", "disposition", "kind", "qty", "event_ns"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == np.int64, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@st.composite
def column_messages(draw: st.DrawFn) -> sync_pb2.InventoryDeltaColumns:
    n = draw(st.integers(0, 40))
    message = sync_pb2.InventoryDeltaColumns()
    message.skus.ids.extend(draw(st.lists(ID, max_size=5)))
    message.nodes.ids.extend(draw(st.lists(ID, max_size=5)))
    message.sku_ref.extend(draw(st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n)))
    message.node_ref.extend(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)))
    # Enums are open in proto3: any int32 is kept (and rejected later by the ledger).
    message.disposition.extend(draw(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=n,
                                             max_size=n)))
    message.kind.extend(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    message.qty.extend(draw(st.lists(INT64, min_size=n, max_size=n)))
    if draw(st.booleans()):
        message.event_time_unix_ns.extend(draw(st.lists(INT64, min_size=n, max_size=n)))
    return message


@settings(max_examples=200, deadline=None)
@given(column_messages(), st.text(max_size=8), st.integers(0, 2**64 - 1))
def test_fast_reader_matches_runtime(columns: sync_pb2.InventoryDeltaColumns, source: str,
                                     sequence: int) -> None:
    raw = sync_pb2.DeltaBatch(source_id=source, sequence=sequence,
                              columns=columns).SerializeToString()
    fast = decode_batch(raw)
    twin, twin_ns = columns_of(sync_pb2.DeltaBatch.FromString(raw).columns)
    assert (fast.source_id, fast.sequence) == (source, sequence)
    same(fast.deltas, twin)
    assert fast.event_ns == twin_ns
    assert fast.event_ns == max([0, *columns.event_time_unix_ns])


@settings(max_examples=100, deadline=None)
@given(column_messages(), st.integers(0, 3))
def test_unpacked_split_and_merged_encodings(columns: sync_pb2.InventoryDeltaColumns,
                                             cut: int) -> None:
    """Every encoding a conforming writer may produce: unpacked values, a packed column split
    in two records, `columns` and `IdTable` sent as several merged occurrences."""
    body = bytearray()
    body += tag(1, 2) + varint(len(b := columns.skus.SerializeToString())) + b
    refs = list(columns.sku_ref)
    for value in refs[:cut]:  # unpacked
        body += tag(3, 5) + fixed32(value)
    packed = b"".join(fixed32(v) for v in refs[cut:])
    body += tag(3, 2) + varint(len(packed)) + packed
    for value in list(columns.disposition)[:cut]:  # unpacked varints
        body += tag(5, 0) + varint(value)
    for number, values, enc in ((4, columns.node_ref, fixed32),
                                (5, columns.disposition[cut:], varint),
                                (6, columns.kind, varint), (7, columns.qty, sfixed64)):
        half = len(values) // 2
        for part in (values[:half], values[half:]):  # split packed records
            data = b"".join(enc(v) for v in part)
            body += tag(number, 2) + varint(len(data)) + data
    for value in columns.event_time_unix_ns:  # unpacked sfixed64
        body += tag(8, 1) + sfixed64(value)
    body += tag(99, 0) + varint(7)  # an unknown field, skipped
    # `nodes` at the end and in two occurrences (merged: ids concatenate).
    ids = list(columns.nodes.ids)
    for part in (ids[:1], ids[1:]):
        table = sync_pb2.IdTable(ids=part).SerializeToString()
        body += tag(2, 2) + varint(len(table)) + table
    # `columns` itself in two occurrences is not splittable at an arbitrary byte, so send the
    # whole body, then an empty occurrence (merging with nothing).
    raw = (tag(5, 2) + varint(len(body)) + bytes(body) + tag(5, 2) + varint(0)
           + tag(2, 0) + varint(5))
    fast = decode_batch(raw)
    runtime = sync_pb2.DeltaBatch.FromString(raw)
    twin, twin_ns = columns_of(runtime.columns)
    same(fast.deltas, twin)
    assert fast.event_ns == twin_ns
    assert fast.sequence == runtime.sequence == 5


def test_rows_and_supply_take_the_runtime_path() -> None:
    batch = sync_pb2.DeltaBatch(source_id="wms", sequence=3)
    row = batch.deltas.add(sku="A", node_id="N1", disposition=1, kind=1, qty=-2)
    row.event_time.FromNanoseconds(5_000)
    batch.supply.add(sku="B", node_id="N2", action=1, qty=4, available_date="2027-01-02")
    batch.columns.skus.ids.append("C")
    batch.columns.nodes.ids.append("N3")
    batch.columns.sku_ref.append(0)
    batch.columns.node_ref.append(0)
    batch.columns.disposition.append(2)
    batch.columns.kind.append(2)
    batch.columns.qty.append(7)
    decoded = decode_batch(batch.SerializeToString())
    deltas = decoded.deltas
    # Rows first, then columns; the tables are concatenated and refs shifted.
    assert [deltas.sku_ids[r] for r in deltas.sku_ref] == ["A", "C"]
    assert [deltas.node_ids[r] for r in deltas.node_ref] == ["N1", "N3"]
    assert deltas.qty.tolist() == [-2, 7]
    assert deltas.kind.tolist() == [1, 2]
    assert len(deltas.event_ns) == 0  # the row part has no per-row times; columns none either
    assert decoded.event_ns == 5_000
    assert decoded.supply.sku == ["B"]
    assert (decoded.source_id, decoded.sequence) == ("wms", 3)
    assert batch_columns(batch)[0].sku_ids == deltas.sku_ids


def test_bad_columns_stay_bad_next_to_rows() -> None:
    """Rows plus `columns` whose time column has the wrong length: still rejected whole."""
    batch = sync_pb2.DeltaBatch(source_id="s", sequence=1)
    batch.deltas.add(sku="K", node_id="N", disposition=1, kind=1, qty=1)
    batch.deltas.add(sku="K", node_id="N", disposition=1, kind=1, qty=1)
    c = batch.columns
    c.skus.ids.append("K")
    c.nodes.ids.append("N")
    c.sku_ref.append(0)
    c.node_ref.append(0)
    c.disposition.append(1)
    c.kind.append(1)
    c.qty.append(1)
    c.event_time_unix_ns.extend([1, 2])  # two times for its one row
    deltas = decode_batch(batch.SerializeToString()).deltas
    ledger = Ledger(node_ids=["N"], sku_ids=["K"], on_hand=np.zeros((6, 2, 1), np.int32),
                    supply={})
    outcome = ledger.ingest("s", 1, deltas, empty_supply(), event_ns=0, now_ns=0)
    assert isinstance(outcome, Rejected)
    assert [(e.index, e.field) for e in outcome.errors] == [(-1, "columns")]
    # Also when the columns part has no rows at all, only stray times.
    for field in ("sku_ref", "node_ref", "disposition", "kind", "qty"):
        c.ClearField(field)
    deltas = decode_batch(batch.SerializeToString()).deltas
    outcome = ledger.ingest("s", 1, deltas, empty_supply(), event_ns=0, now_ns=0)
    assert isinstance(outcome, Rejected)


def test_not_a_batch_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        decode_batch(b"\x0a\x05ab")  # source_id longer than the message
    with pytest.raises(InvalidArgument):
        decode_batch(tag(1, 2) + varint(2) + b"\xff\xfe")  # source_id not UTF-8
    with pytest.raises(InvalidArgument):
        decode_batch(tag(5, 2) + varint(2) + tag(3, 2) + varint(1))  # truncated inside columns
    # A wire type the fast reader does not take: the runtime decides (here: a valid batch
    # with an unknown group... which upb rejects as unterminated).
    with pytest.raises(InvalidArgument):
        decode_batch(tag(9, 3))


def test_many_tiny_records_go_to_the_runtime() -> None:
    """A fully unpacked large batch is legal; it is read by the runtime, with equal result."""
    n = 3 * wire.MAX_FIELDS
    body = sync_pb2.IdTable(ids=["K"]).SerializeToString()
    columns = bytearray(tag(1, 2) + varint(len(body)) + body)
    columns += tag(2, 2) + varint(len(body)) + body
    for _ in range(n):
        columns += tag(3, 5) + fixed32(0) + tag(4, 5) + fixed32(0) + tag(5, 0) + varint(1)
        columns += tag(6, 0) + varint(1) + tag(7, 1) + sfixed64(-1)
    raw = tag(5, 2) + varint(len(columns)) + bytes(columns)
    with pytest.raises(wire.WireError):
        wire.scan(raw, len(raw) - len(columns), len(raw))
    decoded = decode_batch(raw)
    assert decoded.deltas.size == n
    assert decoded.deltas.qty.tolist() == [-1] * n


def test_decode_varints_edges() -> None:
    values = [0, 1, 127, 128, 300, 2**32 - 1, 2**63, 2**64 - 1]
    data = b"".join(varint(v) for v in values)
    assert wire.decode_varints(data).tolist() == values
    assert wire.as_int32(wire.decode_varints(varint(-1) + varint(2**32 + 5))).tolist() == [-1, 5]
    overlong = tag(2, 0) + b"\xff" * 9 + b"\x7f"  # 70 bits of sequence
    assert decode_batch(overlong).sequence == sync_pb2.DeltaBatch.FromString(overlong).sequence
    with pytest.raises(wire.WireError):
        wire.decode_varints(b"\x80")  # truncated
    with pytest.raises(wire.WireError):
        wire.decode_varints(b"\xff" * 10 + b"\x01")  # 11 bytes
