"""Just enough of the protobuf wire format to read packed columns into NumPy arrays.

Why hand-written (STYLE: libraries first): the protobuf runtime has no columnar access. Its
Python objects cost ~2 us per delta (an object per row, a Python int per field), which capped
the sidecar's durable ingest below its target; `InventoryDeltaColumns` exists so that the
sidecar can read each packed column as one byte run. This module finds those byte runs and
decodes them vectorised; everything else (strings, the odd encoding) is left to the protobuf
runtime by the caller. It knows no schema: field numbers come from the caller (the servicer,
which takes them from the generated descriptors).

Rules of the encoding that matter here (protobuf "Encoding" spec):

- A message is a sequence of (tag varint = field << 3 | wire type, value). Fields may come in
  any order and repeat; unknown fields must be skipped.
- A packed repeated scalar is one LEN record holding the values back to back; a parser must
  also accept it split into several LEN records, and unpacked (one record per value), and
  concatenate everything in order. The byte run of an unpacked VARINT, I32 or I64 value is
  exactly its packed form, so every case reduces to "concatenate the runs".
- A non-repeated embedded message that occurs several times is merged, which is the same as
  parsing the concatenation of its bodies.

Anything this reader does not handle (groups, a known field with an unexpected wire type,
truncation) raises `WireError`; the caller then falls back to the protobuf runtime, which
either parses the message properly or reports why it is malformed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

VARINT, I64_WIRE, LEN, I32_WIRE = 0, 1, 2, 5
_MAX_VARINT_BYTES = 10
# Records one `scan` reads before handing the message to the runtime (~0.3 ms of Python).
MAX_FIELDS = 1024


class WireError(ValueError):
    """Bytes this reader does not handle (the protobuf runtime may still)."""


class Span(NamedTuple):
    """Where a value's bytes lie in the scanned buffer: `buf[start:end]`."""

    wire_type: int
    start: int
    end: int


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, position after it) of the varint at `pos`; for tags and lengths."""
    value = 0
    shift = 0
    while True:
        if pos >= end or shift >= 7 * _MAX_VARINT_BYTES:
            raise WireError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def scan(buf: bytes, start: int = 0, end: int | None = None, *,
         stop_at: Collection[int] = (), max_fields: int = MAX_FIELDS
         ) -> dict[int, list[Span]] | None:
    """The fields of the message in `buf[start:end]`: field number -> spans, in order.

    Returns None as soon as a field in `stop_at` appears (the caller wants another path for
    messages with that field, and should not pay for scanning the rest). More than
    `max_fields` records raise WireError: this loop is Python, so a message of many tiny
    records (legal, e.g. unpacked columns) is left to the runtime's C parser."""
    end = len(buf) if end is None else end
    fields: dict[int, list[Span]] = {}
    pos = start
    count = 0
    while pos < end:
        count += 1
        if count > max_fields:
            raise WireError(f"more than {max_fields} records")
        tag, pos = _varint(buf, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0")
        if number in stop_at:
            return None
        if wire_type == VARINT:
            value_start = pos
            _, pos = _varint(buf, pos, end)
        elif wire_type == LEN:
            length, value_start = _varint(buf, pos, end)
            pos = value_start + length
        elif wire_type == I64_WIRE:
            value_start, pos = pos, pos + 8
        elif wire_type == I32_WIRE:
            value_start, pos = pos, pos + 4
        else:
            raise WireError(f"wire type {wire_type} (groups are not read here)")
        if pos > end:
            raise WireError("truncated field")
        fields.setdefault(number, []).append(Span(wire_type, value_start, pos))
    return fields


def last_varint(buf: bytes, spans: list[Span] | None) -> int:
    """A singular varint field (the last occurrence wins); 0 when absent."""
    if not spans:
        return 0
    span = spans[-1]
    if span.wire_type != VARINT:
        raise WireError("expected a varint")
    # A 10-byte varint can carry 70 bits; a uint64 field keeps the low 64, as in the runtime.
    return _varint(buf, span.start, span.end)[0] & 0xFFFF_FFFF_FFFF_FFFF


def last_string(buf: bytes, spans: list[Span] | None) -> str:
    """A singular string field (the last occurrence wins); "" when absent."""
    if not spans:
        return ""
    span = spans[-1]
    if span.wire_type != LEN:
        raise WireError("expected a length-delimited field")
    try:
        return buf[span.start:span.end].decode()
    except UnicodeDecodeError as error:
        raise WireError("string field is not UTF-8") from error


def joined(buf: bytes, spans: list[Span] | None, wire_types: Collection[int]) -> bytes:
    """The concatenated bytes of every span, after checking their wire types."""
    if not spans:
        return b""
    if any(s.wire_type not in wire_types for s in spans):
        raise WireError("unexpected wire type for a known field")
    if len(spans) == 1:
        return buf[spans[0].start:spans[0].end]
    return b"".join(buf[s.start:s.end] for s in spans)


def packed_varints(buf: bytes, spans: list[Span] | None) -> U64:
    """A repeated varint field (packed, split or unpacked) as raw uint64 values."""
    return decode_varints(joined(buf, spans, (LEN, VARINT)))


def packed_sfixed64(buf: bytes, spans: list[Span] | None) -> I64:
    """A repeated sfixed64 field (packed, split or unpacked) as int64 values."""
    data = joined(buf, spans, (LEN, I64_WIRE))
    if len(data) % 8:
        raise WireError("packed fixed64 field is not a multiple of 8 bytes")
    return np.frombuffer(data, dtype="<i8").astype(np.int64)


def packed_fixed32(buf: bytes, spans: list[Span] | None) -> I64:
    """A repeated fixed32 field (packed, split or unpacked) as int64 values."""
    data = joined(buf, spans, (LEN, I32_WIRE))
    if len(data) % 4:
        raise WireError("packed fixed32 field is not a multiple of 4 bytes")
    return np.frombuffer(data, dtype="<u4").astype(np.int64)


def decode_varints(data: bytes) -> U64:
    """Back-to-back varints -> uint64 values, vectorised (no Python loop per value)."""
    b = np.frombuffer(data, dtype=np.uint8)
    if b.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if b[-1] >= 0x80:
        raise WireError("truncated varint in a packed field")
    more = b >= 0x80
    if not more.any():
        # Every value below 128: the enum columns of any sane batch.
        return b.astype(np.uint64)
    last = np.flatnonzero(~more)
    first = np.empty_like(last)
    first[0] = 0
    first[1:] = last[:-1] + 1
    lengths = last - first + 1
    if int(lengths.max()) > _MAX_VARINT_BYTES:
        raise WireError("overlong varint in a packed field")
    # Byte k of a varint carries bits 7k..7k+6; the 10th byte's excess bits fall off the top
    # of the uint64, as they do in the protobuf runtime.
    k = np.arange(b.size, dtype=np.int64) - np.repeat(first, lengths)
    groups = (b & 0x7F).astype(np.uint64) << (7 * k).astype(np.uint64)
    return np.bitwise_or.reduceat(groups, first)


def as_int32(values: U64) -> I64:
    """int32/enum values, truncated to 32 bits as the protobuf runtime reads them."""
    return values.astype(np.uint32).view(np.int32).astype(np.int64)
