# Kernels are typed by their numba signatures (and helpers by their callers), not annotations.
# mypy: disable-error-code="no-untyped-def"
# Kernels take arrays positionally (STYLE habit 2); `a == X or a == Y` chains and plain loops
# compile to plain branches, where `in` on a tuple and a generator `all` compile worse.
# ruff: noqa: PLR0917, PLR1714, SIM110, PLR0911
"""Kernels that read RouteRequest bytes and write RouteResponse bytes (protobuf wire format).

Why hand-written: on a dry-run Route the Python translation (protobuf -> Order -> kernel arrays,
kernel arrays -> Decision -> protobuf) measured 32 of 47 us per call, the routing kernel 7.
These kernels do the same translation in compiled code for the common request; anything they
do not handle exactly as the Python path does (explain, reserve, a bad field, a non-ASCII
string, an unknown field) makes them decline the order, and the caller takes the Python path,
which stays the reference (tests compare the two responses field by field).

Field numbers are omniroute/v1/router.proto's and types.proto's; `tests/unit/test_wire.py`
checks every one against the generated descriptors.

String ids are looked up in open-addressing hash tables built by `build_table`: `keys` holds
every id's bytes back to back, `key_off` their offsets, `slots` an index or -1 per slot.
"""

from __future__ import annotations

import numpy as np
from numba import carray, types  # type: ignore[attr-defined]

from omniroute.engine import _kernels as kern
from omniroute.engine._numba import (
    address_as,
    helper,
    i64,
    i64_1,
    inline,
    kernel,
    prefetch,
    u8_1,
    view1,
    view2,
)

u8_1_ro = types.Array(types.uint8, 1, "C", readonly=True)
"""A request buffer: `np.frombuffer` of the bytes gRPC hands over is read-only."""

# Wire types.
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# Outcome of decoding one order.
DECODED = 0
DECLINED = 1
"""Take the Python path for this order (it may be valid: explain, reserve, ...)."""
NO_ROOM = 2
"""The caller's scratch arrays are too small for the message: grow them and call again."""

# Columns of the per-order span table `spans[order, col]` (byte offsets into the request).
SP_ORDER_ID, SP_ORDER_ID_END, SP_MSG, SP_MSG_END, SP_RULESET_ROW = range(5)
N_SP = 5
# Columns of the per-line span table.
LS_ID, LS_ID_END, LS_SKU, LS_SKU_END = range(4)
N_LS = 4

# Destination strings of api.convert's shipments, as byte tuples a kernel can iterate.
_CUSTOMER = tuple(b"customer")
_DIGITAL = tuple(b"digital")
_STORE = tuple(b"store:")

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@inline
def _hash(buf, lo, hi):
    h = _FNV_OFFSET
    for k in range(lo, hi):
        h = (h ^ np.uint64(buf[k])) * _FNV_PRIME
    return h


@kernel(types.void, u8_1, i64_1, i64_1)
def build_table(keys, key_off, slots):
    """Fill `slots` (a power-of-two size above the key count, all -1) with each key's index."""
    mask = np.uint64(len(slots) - 1)
    for i in range(len(key_off) - 1):
        s = _hash(keys, key_off[i], key_off[i + 1]) & mask
        while slots[s] >= 0:
            s = (s + np.uint64(1)) & mask
        slots[s] = i


@inline
def _slot(buf, lo, hi, slots):
    """The slot where a search for the key buf[lo:hi] starts."""
    return np.int64(_hash(buf, lo, hi) & np.uint64(len(slots) - 1))


@inline
def _lookup_from(buf, lo, hi, keys, key_off, slots, s):
    """Index of the key equal to buf[lo:hi], searched from its slot `s`, or -1."""
    mask = np.int64(len(slots) - 1)
    n = hi - lo
    while True:
        i = slots[s]
        if i < 0:
            return -1
        k0 = key_off[i]
        if key_off[i + 1] - k0 == n:
            same = True
            for k in range(n):
                if keys[k0 + k] != buf[lo + k]:
                    same = False
                    break
            if same:
                return i
        s = (s + 1) & mask


@inline
def _lookup(buf, lo, hi, keys, key_off, slots):
    """Index of the key equal to buf[lo:hi], or -1."""
    return _lookup_from(buf, lo, hi, keys, key_off, slots, _slot(buf, lo, hi, slots))


@inline
def _resolve_skus(buf, first, end, line_spans, sku_keys, sku_off, sku_slots, sku_kind, lines):
    """Look up the SKUs of lines first..end and set their groups; False if a line's
    fulfilment does not fit its SKU (the order declines).

    Each line holds its SKU's hash slot and its fulfilment (set while its message was read).
    A lookup is three dependent reads (slot, key offsets, key bytes) into tables of megabytes
    that are mostly cold, and the SKU's kind a fourth; asked for a step at a time for all of
    an order's lines, its lines wait for each step together instead of one after another.
    """
    for j in range(first, end):  # the slots were asked for as the lines were read
        i = sku_slots[lines[kern.LN_SKU, j]]
        if i >= 0:
            prefetch(sku_off, i)
            prefetch(sku_kind, i)
    for j in range(first, end):
        i = sku_slots[lines[kern.LN_SKU, j]]
        if i >= 0 and sku_off[i] < len(sku_keys):
            prefetch(sku_keys, sku_off[i])
    for j in range(first, end):
        lo = line_spans[j, LS_SKU]
        hi = line_spans[j, LS_SKU_END]
        sku = _lookup_from(buf, lo, hi, sku_keys, sku_off, sku_slots, lines[kern.LN_SKU, j])
        ful = lines[kern.LN_GROUP, j]
        if sku < 0:
            if ful == kern.F_SHIP or ful == kern.F_STS:
                group = kern.G_UNKNOWN_SHIPPED
            else:
                group = kern.G_UNKNOWN_OTHER
        elif sku_kind[sku] == kern.SKU_DIGITAL:
            group = kern.G_DIGITAL
            lines[kern.LN_STORE, j] = -1
        elif ful == kern.F_DIGITAL:
            return False
        elif ful == kern.F_PICKUP:
            group = kern.G_PICKUP
        elif ful == kern.F_STS:
            group = kern.G_STS
        else:
            group = kern.G_CUSTOMER
        lines[kern.LN_SKU, j] = sku
        lines[kern.LN_GROUP, j] = group
    return True


@inline
def _varint(buf, pos, end):
    """(value, next position); next position -1 when the varint runs past `end`."""
    value = np.uint64(0)
    shift = np.uint64(0)
    while pos < end and shift < 64:
        b = buf[pos]
        pos += 1
        value |= np.uint64(b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += np.uint64(7)
    return value, -1


@inline
def _ascii(buf, lo, hi):
    for k in range(lo, hi):
        if buf[k] >= 0x80:
            return False
    return True


@inline
def _double(buf, pos):
    return buf[pos:pos + 8].view(np.float64)[0]


@helper
def split_batch(buf, lo, hi, msgs):
    """The RouteRequest spans of a RouteBatchRequest (`orders = 1`) into `msgs[i] = (lo, hi)`;
    the count, -1 on a malformed or unexpected field, -2 - count when `msgs` is too short."""
    n = 0
    pos = lo
    while pos < hi:
        tag, pos = _varint(buf, pos, hi)
        if pos < 0 or tag != np.uint64((1 << 3) | _LEN):
            return -1
        size, pos = _varint(buf, pos, hi)
        if pos < 0 or size > np.uint64(hi - pos):
            return -1
        if n < len(msgs):
            msgs[n, 0] = pos
            msgs[n, 1] = pos + np.int64(size)
        n += 1
        pos += np.int64(size)
    return n if n <= len(msgs) else -2 - n


@helper
def decode_orders(buf, msgs, sku_keys, sku_off, sku_slots, node_keys, node_off, node_slots,
                  postal_keys, postal_off, postal_slots, postal_lengths,
                  chan_keys, chan_off, chan_slots, rs_keys, rs_off, rs_slots,
                  level_keys, level_off, level_slots,
                  chan_bit, rs_row_of, rs_max_ship, sku_kind, node_kind,
                  status, spans, line_spans, line_off, ord_i, ord_f, lines):
    """Decode each RouteRequest `buf[msgs[o, 0]:msgs[o, 1]]` into the rows `route_orders`
    reads (`kern.OI_*`, `kern.OF_*`, `kern.LN_*`, CSR `line_off`), as `Preparer.prepare` and
    `api.convert.order_from_proto` would. `status[o]` is DECODED or DECLINED; a declined
    order has no lines in the CSR. Returns the line count, or -1 when the line arrays are too
    short (NO_ROOM)."""
    n_chan = len(chan_off) - 1
    n_line = 0
    line_off[0] = 0
    for o in range(len(msgs)):
        lo = msgs[o, 0]
        hi = msgs[o, 1]
        first = n_line
        ok = True
        oid_lo = oid_hi = ch_lo = ch_hi = lv_lo = lv_hi = rs_lo = rs_hi = 0
        pc_lo = pc_hi = 0
        has_point = False
        lat = lon = 0.0
        policy = np.int64(0)
        max_shipments = np.int64(0)
        backorder = 0
        seen_ship_to = False
        pos = lo
        while ok and pos < hi:
            tag, pos = _varint(buf, pos, hi)
            if pos < 0:
                ok = False
                break
            field = np.int64(tag >> np.uint64(3))
            wire = np.int64(tag & np.uint64(7))
            if wire == _LEN:
                size, pos = _varint(buf, pos, hi)
                if pos < 0 or size > np.uint64(hi - pos):
                    ok = False
                    break
                v_lo = pos
                v_hi = pos + np.int64(size)
                pos = v_hi
                if field == 1:
                    oid_lo, oid_hi = v_lo, v_hi
                elif field == 2:
                    ch_lo, ch_hi = v_lo, v_hi
                elif field == 4:
                    lv_lo, lv_hi = v_lo, v_hi
                elif field == 5:
                    rs_lo, rs_hi = v_lo, v_hi
                elif field == 3 and not seen_ship_to:  # a repeated ShipTo merges: decline
                    seen_ship_to = True
                    p = v_lo
                    while ok and p < v_hi:
                        t2, p = _varint(buf, p, v_hi)
                        if p < 0:
                            ok = False
                        elif t2 == np.uint64((1 << 3) | _LEN):
                            n2, p = _varint(buf, p, v_hi)
                            if p < 0 or n2 > np.uint64(v_hi - p):
                                ok = False
                            else:
                                pc_lo, pc_hi = p, p + np.int64(n2)
                                p = pc_hi
                        elif t2 == np.uint64((2 << 3) | _LEN) and not has_point:
                            n2, p = _varint(buf, p, v_hi)
                            if p < 0 or n2 > np.uint64(v_hi - p):
                                ok = False
                            else:
                                has_point = True
                                q = p
                                p = p + np.int64(n2)
                                while ok and q < p:
                                    t3, q = _varint(buf, q, p)
                                    if q < 0 or q + 8 > p:
                                        ok = False
                                    elif t3 == np.uint64((1 << 3) | _I64):
                                        lat = _double(buf, q)
                                        q += 8
                                    elif t3 == np.uint64((2 << 3) | _I64):
                                        lon = _double(buf, q)
                                        q += 8
                                    else:
                                        ok = False
                        else:
                            ok = False
                elif field == 12:
                    if n_line >= lines.shape[1]:
                        return -1
                    l_id_lo = l_id_hi = l_sku_lo = l_sku_hi = st_lo = st_hi = 0
                    qty = np.int64(0)
                    ful = np.int64(0)
                    p = v_lo
                    while ok and p < v_hi:
                        t2, p = _varint(buf, p, v_hi)
                        if p < 0:
                            ok = False
                            break
                        f2 = np.int64(t2 >> np.uint64(3))
                        w2 = np.int64(t2 & np.uint64(7))
                        if w2 == _LEN and (f2 == 1 or f2 == 2 or f2 == 5):
                            n2, p = _varint(buf, p, v_hi)
                            if p < 0 or n2 > np.uint64(v_hi - p):
                                ok = False
                                break
                            if f2 == 1:
                                l_id_lo, l_id_hi = p, p + np.int64(n2)
                            elif f2 == 2:
                                l_sku_lo, l_sku_hi = p, p + np.int64(n2)
                            else:
                                st_lo, st_hi = p, p + np.int64(n2)
                            p += np.int64(n2)
                        elif w2 == _VARINT and (f2 == 3 or f2 == 4):
                            v, p = _varint(buf, p, v_hi)
                            if p < 0:
                                ok = False
                            elif f2 == 3:
                                qty = np.int64(v)  # two's complement: negative stays negative
                            else:
                                ful = np.int64(v)
                        else:
                            ok = False
                    if not ok:
                        break
                    if (qty <= 0 or ful < 0 or ful > kern.F_DIGITAL or l_id_hi == l_id_lo
                            or not _ascii(buf, l_id_lo, l_id_hi)
                            or not _ascii(buf, l_sku_lo, l_sku_hi)):
                        ok = False
                        break
                    for j in range(first, n_line):  # duplicate line ids: Python names them
                        a0 = line_spans[j, LS_ID]
                        if line_spans[j, LS_ID_END] - a0 == l_id_hi - l_id_lo:
                            same = True
                            for k in range(l_id_hi - l_id_lo):
                                if buf[a0 + k] != buf[l_id_lo + k]:
                                    same = False
                                    break
                            if same:
                                ok = False
                    if not ok:
                        break
                    if ful == 0:
                        ful = np.int64(kern.F_SHIP)
                    store = -1
                    if ful == kern.F_PICKUP or ful == kern.F_STS:
                        store = _lookup(buf, st_lo, st_hi, node_keys, node_off, node_slots)
                        if store < 0 or node_kind[store] != kern.KIND_STORE:
                            ok = False
                            break
                    # The SKU is looked up once the whole message is read (`_resolve_skus`);
                    # until then the line holds its hash slot (asked for now) and fulfilment.
                    sku_slot = _slot(buf, l_sku_lo, l_sku_hi, sku_slots)
                    prefetch(sku_slots, sku_slot)
                    lines[kern.LN_SKU, n_line] = sku_slot
                    lines[kern.LN_GROUP, n_line] = ful
                    lines[kern.LN_QTY, n_line] = qty
                    lines[kern.LN_STORE, n_line] = store
                    line_spans[n_line, LS_ID] = l_id_lo
                    line_spans[n_line, LS_ID_END] = l_id_hi
                    line_spans[n_line, LS_SKU] = l_sku_lo
                    line_spans[n_line, LS_SKU_END] = l_sku_hi
                    n_line += 1
                else:
                    ok = False  # hold (10) and unknown fields: the Python path
            elif wire == _VARINT:
                v, pos = _varint(buf, pos, hi)
                if pos < 0:
                    ok = False
                elif field == 6:
                    policy = np.int64(v)
                elif field == 7:
                    max_shipments = np.int64(np.int32(v & np.uint64(0xFFFFFFFF)))
                elif field == 8:
                    backorder = 1 if v != 0 else 0
                elif (field == 9 or field == 11) and v == 0:
                    pass  # reserve / explain false
                else:
                    ok = False  # reserve, explain, unknown fields: the Python path
            else:
                ok = False
        if ok:
            ok = _resolve_skus(buf, first, n_line, line_spans, sku_keys, sku_off, sku_slots,
                               sku_kind, lines)
        if ok:
            ok = bool(oid_hi > oid_lo and ch_hi > ch_lo and n_line > first
                      and 0 <= policy <= kern.FILL_OR_KILL and max_shipments >= 0
                      and _ascii(buf, oid_lo, oid_hi) and _ascii(buf, ch_lo, ch_hi)
                      and _ascii(buf, rs_lo, rs_hi) and _ascii(buf, lv_lo, lv_hi))
        level = -1
        row = -1
        chan = -1
        if ok:
            level = _lookup(buf, lv_lo, lv_hi, level_keys, level_off, level_slots)
            chan = _lookup(buf, ch_lo, ch_hi, chan_keys, chan_off, chan_slots)
            rs = 0  # column 0: the channel's default ruleset
            if rs_hi > rs_lo:
                named = _lookup(buf, rs_lo, rs_hi, rs_keys, rs_off, rs_slots)
                rs = named + 1 if named >= 0 else -1
            if level < 0 or rs < 0:
                ok = False
            else:
                # A channel no table names resolves as every such channel: the last row.
                row = rs_row_of[chan if chan >= 0 else n_chan, rs]
                ok = row >= 0
        postal = 0
        if ok:
            needs_ship_to = False
            for j in range(first, n_line):
                if lines[kern.LN_GROUP, j] == kern.G_CUSTOMER:
                    needs_ship_to = True
            if has_point:
                ok = (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90.0
                      and abs(lon) <= 180.0)
                postal = -1
            elif pc_hi > pc_lo:
                # str.strip() in the Python path: any edge byte it could strip declines.
                ok = (_ascii(buf, pc_lo, pc_hi) and buf[pc_lo] > 0x20 and buf[pc_hi - 1] > 0x20)
                if ok:
                    postal = _lookup(buf, pc_lo, pc_hi, postal_keys, postal_off, postal_slots)
                    for length in postal_lengths:
                        if postal >= 0:
                            break
                        if length < pc_hi - pc_lo:
                            postal = _lookup(buf, pc_lo, pc_lo + length, postal_keys,
                                             postal_off, postal_slots)
                    ok = postal >= 0
            else:
                ok = not needs_ship_to
                lat = lon = 0.0
        if not ok:
            # No lines, and order rows the kernel can read safely (it routes the batch as
            # one; an order without lines allocates nothing).
            n_line = first
            status[o] = DECLINED
            line_off[o + 1] = n_line
            ord_i[kern.OI_POSTAL, o] = -1
            ord_i[kern.OI_CHANNEL_BIT, o] = 63
            ord_i[kern.OI_LEVEL, o] = 0
            ord_i[kern.OI_POLICY, o] = kern.ALLOW_SPLIT
            ord_i[kern.OI_MAX_SHIP, o] = 1
            ord_i[kern.OI_BACKORDER, o] = 0
            ord_f[kern.OF_LAT, o] = 0.0
            ord_f[kern.OF_LON, o] = 0.0
            continue
        cap = rs_max_ship[row]
        status[o] = DECODED
        spans[o, SP_ORDER_ID] = oid_lo
        spans[o, SP_ORDER_ID_END] = oid_hi
        spans[o, SP_MSG] = lo
        spans[o, SP_MSG_END] = hi
        spans[o, SP_RULESET_ROW] = row
        ord_i[kern.OI_POSTAL, o] = postal
        ord_i[kern.OI_CHANNEL_BIT, o] = chan_bit[chan if chan >= 0 else n_chan]
        ord_i[kern.OI_LEVEL, o] = level
        ord_i[kern.OI_POLICY, o] = policy if policy != 0 else kern.ALLOW_SPLIT
        ord_i[kern.OI_MAX_SHIP, o] = cap if max_shipments == 0 else min(max_shipments, cap)
        ord_i[kern.OI_BACKORDER, o] = backorder
        ord_f[kern.OF_LAT, o] = lat if has_point else 0.0
        ord_f[kern.OF_LON, o] = lon if has_point else 0.0
        line_off[o + 1] = n_line
    return n_line


# --- encoding ------------------------------------------------------------------------------


@inline
def _put_varint(out, pos, value):
    v = np.uint64(value)
    while v >= np.uint64(0x80):
        out[pos] = np.uint8((v & np.uint64(0x7F)) | np.uint64(0x80))
        v >>= np.uint64(7)
        pos += 1
    out[pos] = np.uint8(v)
    return pos + 1


@inline
def _put_int(out, pos, tag, value):
    """An int32/int64/enum/bool field; zero is the default and is not written (proto3)."""
    if value == 0:
        return pos
    out[pos] = tag
    return _put_varint(out, pos + 1, np.uint64(np.int64(value)))


@inline
def _put_double(out, pos, tag, value):
    if value == 0.0 and not np.signbit(value):  # +0.0 is the default; -0.0 is written
        return pos
    out[pos] = tag
    out[pos + 1:pos + 9].view(np.float64)[0] = value  # little-endian, as the wire format
    return pos + 9


@inline
def _put_bytes(out, pos, tag, src, lo, hi):
    if hi == lo:
        return pos
    out[pos] = tag
    pos = _put_varint(out, pos + 1, hi - lo)
    out[pos:pos + hi - lo] = src[lo:hi]
    return pos + hi - lo


@inline
def _close(out, mark, end):
    """Write the length of the sub-message `out[mark + 1:end]` at `mark`, where one byte was
    left for it; the new end (see `_close_reserved`)."""
    return _close_reserved(out, mark, 1, end)


@inline
def _close_reserved(out, mark, reserved, end):
    """Write the length of the sub-message `out[mark + reserved:end]` at `mark`, where
    `reserved` bytes were left for it, moving the body when its length takes more or fewer
    bytes (a varint has exactly one encoding on the wire here, as the Python path writes it);
    the new end."""
    n = end - mark - reserved
    size = 1
    v = n >> 7
    while v > 0:
        size += 1
        v >>= 7
    shift = size - reserved
    if shift > 0:
        for k in range(end - 1, mark + reserved - 1, -1):
            out[k + shift] = out[k]
    elif shift < 0:
        for k in range(mark + reserved, end):
            out[k + shift] = out[k]
    _put_varint(out, mark, n)
    return end + shift


@inline
def _civil(days):
    """(year, month, day) of a day count from 1970-01-01 (proleptic Gregorian)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


@inline
def _put_date(out, pos, tag, days):
    """An ISO 'YYYY-MM-DD' string field (years 1000-9999, as every promise date is)."""
    y, m, d = _civil(days)
    out[pos] = tag
    out[pos + 1] = 10
    for k, digit in enumerate((y // 1000, y // 100 % 10, y // 10 % 10, y % 10)):
        out[pos + 2 + k] = np.uint8(48 + digit)
    out[pos + 6] = 45
    out[pos + 7] = np.uint8(48 + m // 10)
    out[pos + 8] = np.uint8(48 + m % 10)
    out[pos + 9] = 45
    out[pos + 10] = np.uint8(48 + d // 10)
    out[pos + 11] = np.uint8(48 + d % 10)
    return pos + 12


@inline
def _put_record_line(out, pos, tag, buf, line_spans, line, qty):
    """The (line_id = 1, sku = 2, qty = 3) head shared by ShipmentLine, Backorder, Unfilled,
    opened as a sub-message with tag `tag`; returns (mark, position) for the caller to add
    its own fields and close."""
    out[pos] = tag
    mark = pos + 1
    pos = mark + 1
    pos = _put_bytes(out, pos, 0x0A, buf, line_spans[line, LS_ID], line_spans[line, LS_ID_END])
    pos = _put_bytes(out, pos, 0x12, buf, line_spans[line, LS_SKU],
                     line_spans[line, LS_SKU_END])
    pos = _put_int(out, pos, 0x18, qty)
    return mark, pos


@helper
def encode_responses(buf, status, spans, line_spans, line_off, rec, shp_i, shp_f, out_i, out_f,
                     node_keys, node_off, zone_number, processing,
                     rs_names, rs_name_off, rs_version, currency, inventory_version,
                     today_days, as_batch_result, out, res_off):
    """Write each decoded order's RouteResponse (as `api.convert.fill_route_response` would
    serialize its Decision) into `out`; order o's bytes are `out[res_off[o]:res_off[o + 1]]`,
    empty for a declined order. Returns the byte count, or -1 when `out` may be too short."""
    pos = 0
    n_orders = len(status)
    max_node = 0
    for n in range(len(node_off) - 1):
        max_node = max(max_node, node_off[n + 1] - node_off[n])
    for o in range(n_orders):
        res_off[o] = pos
        if status[o] != DECODED:
            continue
        r0 = out_i[kern.OUT_REC_OFF, o]
        r1 = out_i[kern.OUT_REC_OFF, o + 1]
        s0 = out_i[kern.OUT_SHP_OFF, o]
        s1 = out_i[kern.OUT_SHP_OFF, o + 1]
        row = spans[o, SP_RULESET_ROW]
        # Room for the worst case of this order, checked once (the writes do not check).
        widest = 0
        for j in range(line_off[o], line_off[o + 1]):
            widest = max(widest, line_spans[j, LS_ID_END] - line_spans[j, LS_ID]
                         + line_spans[j, LS_SKU_END] - line_spans[j, LS_SKU])
        need = (128 + spans[o, SP_ORDER_ID_END] - spans[o, SP_ORDER_ID] + len(currency)
                + rs_name_off[row + 1] - rs_name_off[row]
                + (s1 - s0) * (128 + 2 * max_node) + (r1 - r0) * (64 + max_node + widest))
        if pos + need > len(out):
            return -1
        outer = -1
        if as_batch_result:
            # Two bytes left for each length: a response is usually 128 bytes to 16 kB long
            # (a shipment and the cost terms alone pass 128), so neither close moves its body.
            out[pos] = 0x0A  # RouteBatchResponse.results
            outer = pos + 1
            out[pos + 3] = 0x0A  # RouteBatchResult.response
            mark = pos + 4
            pos = mark + 2
        else:
            mark = -1
        pos = _put_bytes(out, pos, 0x0A, buf, spans[o, SP_ORDER_ID], spans[o, SP_ORDER_ID_END])
        pos = _put_int(out, pos, 0x10, out_i[kern.OUT_STATUS, o])
        for t in range(s0, s1):
            node = shp_i[t, kern.S_NODE]
            dest = shp_i[t, kern.S_DEST]
            out[pos] = 0x1A  # shipments
            smark = pos + 1
            pos = smark + 1
            pos = _put_bytes(out, pos, 0x0A, node_keys, node_off[node], node_off[node + 1])
            pos = _put_int(out, pos, 0x10, shp_i[t, kern.S_FULFILLMENT])
            out[pos] = 0x1A  # destination
            if dest == kern.DEST_CUSTOMER:
                out[pos + 1] = 8
                for k, c in enumerate(_CUSTOMER):
                    out[pos + 2 + k] = c
                pos += 10
            elif dest == kern.DEST_DIGITAL:
                out[pos + 1] = 7
                for k, c in enumerate(_DIGITAL):
                    out[pos + 2 + k] = c
                pos += 9
            else:
                d0 = node_off[dest]
                d1 = node_off[dest + 1]
                pos = _put_varint(out, pos + 1, 6 + d1 - d0)
                for k, c in enumerate(_STORE):
                    out[pos + k] = c
                out[pos + 6:pos + 6 + d1 - d0] = node_keys[d0:d1]
                pos += 6 + d1 - d0
            for r in range(r0, r1):
                if rec[r, 3] == kern.R_NOW and rec[r, 4] == t:
                    lmark, pos = _put_record_line(out, pos, 0x22, buf, line_spans, rec[r, 0],
                                                  rec[r, 2])
                    pos = _close(out, lmark, pos)
            zone_idx = shp_i[t, kern.S_ZONE_IDX]
            pos = _put_int(out, pos, 0x28, zone_number[zone_idx] if zone_idx >= 0 else 0)
            pos = _put_double(out, pos, 0x31, shp_f[t, kern.SF_DISTANCE])
            pos = _put_int(out, pos, 0x38, shp_i[t, kern.S_TRANSIT])
            pos = _put_int(out, pos, 0x40, processing[node])
            pos = _put_double(out, pos, 0x49, shp_f[t, kern.SF_WEIGHT])
            pos = _put_double(out, pos, 0x51, shp_f[t, kern.SF_SHIP])
            pos = _put_double(out, pos, 0x59, shp_f[t, kern.SF_HANDLING])
            pos = _close(out, smark, pos)
        for r in range(r0, r1):
            if rec[r, 3] == kern.R_BACKORDER:
                bmark, pos = _put_record_line(out, pos, 0x22, buf, line_spans, rec[r, 0],
                                              rec[r, 2])
                node = rec[r, 1]
                pos = _put_bytes(out, pos, 0x22, node_keys, node_off[node], node_off[node + 1])
                pos = _put_date(out, pos, 0x2A, today_days + rec[r, 4])
                pos = _close(out, bmark, pos)
        for r in range(r0, r1):
            if rec[r, 3] == kern.R_UNFILLED:
                umark, pos = _put_record_line(out, pos, 0x2A, buf, line_spans, rec[r, 0],
                                              rec[r, 2])
                pos = _put_int(out, pos, 0x20, rec[r, 4])
                pos = _close(out, umark, pos)
        out[pos] = 0x32  # cost: always present (the Python path sets its fields)
        cmark = pos + 1
        pos = cmark + 1
        for k, tag in enumerate((0x09, 0x11, 0x19, 0x21, 0x29, 0x31)):
            pos = _put_double(out, pos, tag, out_f[o, k])
        pos = _close(out, cmark, pos)
        pos = _put_bytes(out, pos, 0x3A, currency, 0, len(currency))
        pos = _put_int(out, pos, 0x50, inventory_version)
        pos = _put_bytes(out, pos, 0x5A, rs_names, rs_name_off[row], rs_name_off[row + 1])
        pos = _put_int(out, pos, 0x60, rs_version[row])
        pos = _put_int(out, pos, 0x68, 1 if out_i[kern.OUT_OPTIMAL, o] != 0 else 0)
        pos = _put_double(out, pos, 0x71, out_f[o, kern.C_LOWER_BOUND])
        if as_batch_result:
            pos = _close_reserved(out, mark, 2, pos)
            pos = _close_reserved(out, outer, 2, pos)
    res_off[n_orders] = pos
    return pos


# --- the entry kernel ----------------------------------------------------------------------
# `route_wire` takes its arrays as two address tables (`_numba.address_table`).
# `STATE_SLOTS` / `SCRATCH_SLOTS` give each slot's dtype and rank; the wrapper
# (engine/wire.py) checks every array against them. The state table starts with
# `route_by_table`'s, which it is handed whole; `route_wire` names the later slots by number
# (from `ST_VERSION` on: tests/unit/test_wire.py checks the names are where it expects them).

STATE_SLOTS: tuple[tuple[str, type, int], ...] = (
    *kern.ROUTE_STATE_SLOTS,
    ("version", np.int64, 1),
    ("scalars", np.int64, 1),  # SC_* below
    # string tables
    ("sku_keys", np.uint8, 1), ("sku_off", np.int64, 1), ("sku_slots", np.int64, 1),
    ("node_keys", np.uint8, 1), ("node_off", np.int64, 1), ("node_slots", np.int64, 1),
    ("postal_keys", np.uint8, 1), ("postal_off", np.int64, 1), ("postal_slots", np.int64, 1),
    ("postal_lengths", np.int64, 1),
    ("chan_keys", np.uint8, 1), ("chan_off", np.int64, 1), ("chan_slots", np.int64, 1),
    ("rs_keys", np.uint8, 1), ("rs_off", np.int64, 1), ("rs_slots", np.int64, 1),
    ("level_keys", np.uint8, 1), ("level_off", np.int64, 1), ("level_slots", np.int64, 1),
    # resolved rulesets and response columns
    ("chan_bit", np.int64, 1), ("rs_row_of", np.int64, 2), ("rs_max_ship", np.int64, 1),
    ("rs_params", np.float64, 2), ("rs_kind_allowed", np.uint8, 2), ("rs_safety", np.int64, 2),
    ("zone_number", np.int64, 1), ("processing", np.int64, 1), ("rs_names", np.uint8, 1),
    ("rs_name_off", np.int64, 1), ("rs_version", np.int64, 1), ("currency", np.uint8, 1),
)
SCRATCH_SLOTS: tuple[tuple[str, type, int], ...] = (
    ("msgs", np.int64, 2), ("status", np.int64, 1), ("spans", np.int64, 2),
    ("line_spans", np.int64, 2), ("line_off", np.int64, 1), ("ord_i", np.int64, 2),
    ("ord_f", np.float64, 2), ("lines", np.int64, 2), ("params", np.float64, 2),
    ("kind_allowed", np.uint8, 2), ("safety", np.int64, 2), ("rec", np.int64, 2),
    ("shp_i", np.int64, 2), ("shp_f", np.float64, 2), ("out_i", np.int64, 2),
    ("out_f", np.float64, 2), ("encoded", np.uint8, 1), ("res_off", np.int64, 1),
    ("need", np.int64, 1),  # NEED_* below
)
ST_VERSION = 23
"""Slot of `version`, the first after `route_by_table`'s."""
# The state table's `scalars`.
SC_DIGITAL_NODE, SC_EXACT_MAX_SKUS, SC_EXACT_BUDGET, SC_TODAY_DAYS = range(4)
N_SCALARS = 4
# The scratch table's `need`: what `route_wire` needed when it returned NO_ROOM_CODE.
NEED_ORDERS, NEED_LINES, NEED_REC, NEED_SHP, NEED_BYTES = range(5)
INFO_ORDERS = 5
"""... and after a call that routed: how many orders the request held."""
N_NEED = 6

DECLINED_CODE = -1
"""The order (or the batch's framing) needs the Python path."""
NO_ROOM_CODE = -2
"""A scratch array is too small; `need` says how big each must be."""


@kernel(i64, u8_1_ro, i64_1, i64_1, i64)
def route_wire(buf, st, sc, batch):
    """Route the serialized RouteRequest `buf` (`batch` 0) or RouteBatchRequest (`batch` 1)
    and write the serialized RouteResponse (or each RouteBatchResult, tagged as a
    RouteBatchResponse field) to the scratch `encoded`; returns its size, DECLINED_CODE or
    NO_ROOM_CODE. Batch order o's result is `encoded[res_off[o]:res_off[o + 1]]`, empty when
    its `status` is DECLINED."""
    msgs = view2(sc, 0, np.int64)
    status = view1(sc, 1, np.int64)
    spans = view2(sc, 2, np.int64)
    line_spans = view2(sc, 3, np.int64)
    ord_i = view2(sc, 5, np.int64)
    ord_f = view2(sc, 6, np.float64)
    lines = view2(sc, 7, np.int64)
    params = view2(sc, 8, np.float64)
    kind_allowed = view2(sc, 9, np.uint8)
    safety = view2(sc, 10, np.int64)
    rec = view2(sc, 11, np.int64)
    shp_i = view2(sc, 12, np.int64)
    shp_f = view2(sc, 13, np.float64)
    out_i = view2(sc, 14, np.int64)
    out_f = view2(sc, 15, np.float64)
    encoded = view1(sc, 16, np.uint8)
    res_off = view1(sc, 17, np.int64)
    need = view1(sc, 18, np.int64)
    cap_orders = len(status)
    if batch:
        n = split_batch(buf, 0, len(buf), msgs)
        if n == -1:
            return DECLINED_CODE
        if n < -1:
            need[NEED_ORDERS] = -2 - n
            need[NEED_LINES] = lines.shape[1]
            need[NEED_REC] = rec.shape[0]
            need[NEED_SHP] = shp_i.shape[0]
            need[NEED_BYTES] = len(encoded)
            return NO_ROOM_CODE
    else:
        msgs[0, 0] = 0
        msgs[0, 1] = len(buf)
        n = 1
    # An exact-length CSR: route_orders counts orders by it.
    line_off = carray(address_as(sc[4 * 4], np.int64), (n + 1,))
    scalars = view1(st, 24, np.int64)
    n_lines = decode_orders(
        buf, msgs[:n], view1(st, 25, np.uint8), view1(st, 26, np.int64), view1(st, 27, np.int64),
        view1(st, 28, np.uint8), view1(st, 29, np.int64), view1(st, 30, np.int64),
        view1(st, 31, np.uint8), view1(st, 32, np.int64), view1(st, 33, np.int64),
        view1(st, 34, np.int64),
        view1(st, 35, np.uint8), view1(st, 36, np.int64), view1(st, 37, np.int64),
        view1(st, 38, np.uint8), view1(st, 39, np.int64), view1(st, 40, np.int64),
        view1(st, 41, np.uint8), view1(st, 42, np.int64), view1(st, 43, np.int64),
        view1(st, 44, np.int64), view2(st, 45, np.int64), view1(st, 46, np.int64),
        view1(st, 6, np.int8), view1(st, 2, np.int8),
        status[:n], spans[:n], line_spans, line_off, ord_i, ord_f, lines)
    if n_lines < 0:
        need[NEED_ORDERS] = cap_orders
        need[NEED_LINES] = 2 * lines.shape[1]
        need[NEED_REC] = rec.shape[0]
        need[NEED_SHP] = shp_i.shape[0]
        need[NEED_BYTES] = len(encoded)
        return NO_ROOM_CODE
    any_decoded = False
    max_nodes = 1
    rs_params = view2(st, 47, np.float64)
    rs_kind = view2(st, 48, np.uint8)
    rs_safety = view2(st, 49, np.int64)
    for o in range(n):
        row = 0
        if status[o] == DECODED:
            any_decoded = True
            row = spans[o, SP_RULESET_ROW]
            max_nodes = max(max_nodes, ord_i[kern.OI_MAX_SHIP, o])
        params[o] = rs_params[row]
        kind_allowed[o] = rs_kind[row]
        safety[o] = rs_safety[row]
    if not any_decoded and not batch:
        return DECLINED_CODE
    n_rec = n_lines * 3 + n_lines * (max_nodes + 1) + 4  # Engine._run's bound
    n_shp = n_lines * (max_nodes + 1) + 4
    if rec.shape[0] < n_rec or shp_i.shape[0] < n_shp:
        need[NEED_ORDERS] = cap_orders
        need[NEED_LINES] = lines.shape[1]
        need[NEED_REC] = max(n_rec, rec.shape[0])
        need[NEED_SHP] = max(n_shp, shp_i.shape[0])
        need[NEED_BYTES] = len(encoded)
        return NO_ROOM_CODE
    if any_decoded:
        code = kern.route_by_table(
            st, scalars[SC_DIGITAL_NODE], line_off, ord_i, ord_f, params, kind_allowed, safety,
            lines, scalars[SC_EXACT_MAX_SKUS], scalars[SC_EXACT_BUDGET],
            rec, shp_i, shp_f, out_i, out_f)
        if code != kern.ROUTE_OK:  # sized from a bound, so this is defensive
            need[NEED_ORDERS] = cap_orders
            need[NEED_LINES] = lines.shape[1]
            need[NEED_REC] = 2 * rec.shape[0]
            need[NEED_SHP] = 2 * shp_i.shape[0]
            need[NEED_BYTES] = len(encoded)
            return NO_ROOM_CODE
    size = encode_responses(
        buf, status[:n], spans[:n], line_spans, line_off, rec, shp_i, shp_f, out_i, out_f,
        view1(st, 28, np.uint8), view1(st, 29, np.int64), view1(st, 50, np.int64),
        view1(st, 51, np.int64), view1(st, 52, np.uint8), view1(st, 53, np.int64),
        view1(st, 54, np.int64), view1(st, 55, np.uint8), view1(st, 23, np.int64)[0],
        scalars[SC_TODAY_DAYS], batch, encoded, res_off[:n + 1])
    need[INFO_ORDERS] = n
    if size < 0:
        need[NEED_ORDERS] = cap_orders
        need[NEED_LINES] = lines.shape[1]
        need[NEED_REC] = rec.shape[0]
        need[NEED_SHP] = shp_i.shape[0]
        need[NEED_BYTES] = 2 * len(encoded)
        return NO_ROOM_CODE
    return size


@kernel(i64, u8_1_ro, i64_1, i64_1, holds_gil=True)
def route_wire_unary(buf, st, sc):
    """`route_wire` of one RouteRequest, holding the GIL for the call (`_numba.FLAGS` says
    why); a caller in compiled code runs `route_wire`'s code without crossing the GIL.
    (`np.int64(0)`, not `0`: a literal would compile a second `route_wire` for Literal[int].)"""
    return route_wire(buf, st, sc, np.int64(0))


@kernel(i64, u8_1, u8_1, i64_1, i64_1, serving=False)
def find(key, keys, key_off, slots):
    """Index of `key` in a `build_table` table, or -1 (tests compare it with a dict)."""
    return _lookup(key, 0, len(key), keys, key_off, slots)
