# Kernels are typed by their numba signatures (and helpers by their callers), not annotations.
# mypy: disable-error-code="no-untyped-def"
# Kernels take arrays and scalars positionally (STYLE habit 2); numba compiles `a == X or a == Y`
# chains to plain branches, so they stay as written.
# ruff: noqa: PLR0917, PLR1714, SIM109, PLR0911
"""Routing kernels: eligibility, per-order routing of every group, batch entry point.

Kernels take arrays and scalars only and write into preallocated outputs (STYLE habit 2); the
wrapper in `router.py` validates ids and shapes and builds `Decision` objects from the outputs.
The semantics are docs/routing.md; the allocation search itself is `_search._solve`.

Codes shared with the wrapper (see the constants below): eligibility rules 1..7 (0 = eligible),
`Reason` values, line groups, fulfilment values, split policies, record kinds, destinations.
"""

from __future__ import annotations

import math

import numpy as np

from omniroute.engine._numba import (
    f64,
    f64_1,
    f64_2,
    helper,
    i8_1,
    i8_2,
    i32_1,
    i32_2,
    i32_3,
    i64,
    i64_1,
    i64_2,
    inline,
    kernel,
    lowest_set_bit,
    prefetch,
    u8_1,
    u8_2,
    u64_2,
    view1,
    view2,
    view3,
    void,
)
from omniroute.engine._search import (
    PRUNE_MAX_UNITS,
    _clear_single_ranks,
    _rank_single,
    _solve,
    _sparse_single_node,
)

EARTH_RADIUS_KM = 6371.0088
# An "unfilled" price that dominates every real cost: SHIP_COMPLETE and FILL_OR_KILL groups
# first maximise fill, then minimise cost (exact in float64 while real costs stay below 1e6).
BIG_PENALTY = 1e9

# Node kinds / SKU kinds / capability bits (mirrors omniroute.state).
KIND_STORE = 1
SKU_DIGITAL = 1
SKU_GIFT_CARD = 2
SKU_MADE_TO_ORDER = 3
CAP_SHIP = 1
CAP_PICKUP = 2
CAP_SHIP_TO_STORE = 4
CAP_MADE_TO_ORDER = 16
CAP_GIFT_CARD = 32
CAP_HAZMAT = 64

# Reason values (mirrors engine.model.Reason).
OUT_OF_STOCK = 1
NO_ELIGIBLE_NODE = 2
SLA_UNMET = 3
CAPACITY = 4
UNKNOWN_SKU = 5
POLICY = 6

# Line groups (docs/routing.md "Groups").
G_DIGITAL = 0
G_PICKUP = 1
G_CUSTOMER = 2
G_STS = 3
G_UNKNOWN_SHIPPED = 4
"""An unknown SKU on a SHIP or SHIP_TO_STORE line (SHIP_COMPLETE cannot ship it)."""
G_UNKNOWN_OTHER = 5

# Fulfilment values (mirrors engine.model.Fulfillment).
F_SHIP = 1
F_PICKUP = 2
F_STS = 3
F_DIGITAL = 4

ALLOW_SPLIT = 1
SHIP_COMPLETE = 2
FILL_OR_KILL = 3

# Columns of the per-order parameter matrix.
P_W_COST = 0
P_W_DISTANCE = 1
P_W_PRIORITY = 2
P_W_CAPACITY = 3
P_SPLIT = 4
P_UNFILLED = 5
P_SHIP_FROM_STORE = 6
P_PICKUP_STS = 7
N_PARAMS = 8

# Columns of the per-order cost output.
C_SHIP = 0
C_HANDLING = 1
C_SPLIT = 2
C_UNFILLED = 3
C_OTHER = 4
C_TOTAL = 5
N_COSTS = 6

# Records: [line, node, qty, kind, aux]; aux = shipment row (NOW), day (BACKORDER), reason.
R_NOW = 0
R_BACKORDER = 1
R_UNFILLED = 2
# Shipment integer columns and float columns.
S_NODE, S_DEST, S_FULFILLMENT, S_ZONE_IDX, S_TRANSIT, S_UNITS, S_OFFSET_DAYS = range(7)
SF_DISTANCE, SF_WEIGHT, SF_SHIP, SF_HANDLING = range(4)
DEST_CUSTOMER = -1
DEST_DIGITAL = -2

ROUTE_OK = 0
ROUTE_OUT_OF_SPACE = 1

PREFETCH_FIRST = 24
"""Queued stock cells of an order asked for at once before its scan (the first SKU's, in part):
about as many misses as the CPU keeps in flight."""


@inline
def _haversine(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    # Same operations in the same order as state.geo.haversine_km (the load-time table).
    lat1 = math.radians(lat1_deg)
    lat2 = math.radians(lat2_deg)
    dlat = lat2 - lat1
    dlon = math.radians(lon2_deg) - math.radians(lon1_deg)
    a = math.sin(dlat * 0.5) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon * 0.5) ** 2
    a = min(max(a, 0.0), 1.0)
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@inline
def _zone_of(distance_km, band_max_km):
    z = 0
    last = band_max_km.shape[0] - 1
    while z < last and band_max_km[z] < distance_km:
        z += 1
    return z


@kernel(void, f64, f64, f64_1, f64_1, f64_1, f64_1, i8_1)
def destination_row(lat_deg, lon_deg, node_lat, node_lon, band_max_km, out_km,
                    out_zone_idx):
    """Distance (km) and zone band from every node to one point (an explicit ship-to, a store)."""
    for n in range(node_lat.shape[0]):
        dist = _haversine(node_lat[n], node_lon[n], lat_deg, lon_deg)
        out_km[n] = dist
        out_zone_idx[n] = _zone_of(dist, band_max_km)


@inline
def _passes_1_to_4(n, sku, channel_bit, kind_allowed, ship_from_store, node_kind, node_caps,
                   node_channels, node_enabled, sku_kind, sku_hazmat):
    """First failing rule among 1-4 for shipping `sku` from node n (0 when all pass)."""
    if node_enabled[n] == 0:
        return 1
    if kind_allowed[node_kind[n]] == 0 or (node_channels[n] >> channel_bit) & 1 == 0:
        return 2
    if node_kind[n] == KIND_STORE and ship_from_store == 0:
        return 3
    caps = node_caps[n]
    if caps & CAP_SHIP == 0:
        return 4
    kind = sku_kind[sku]
    if kind == SKU_GIFT_CARD and caps & CAP_GIFT_CARD == 0:
        return 4
    if kind == SKU_MADE_TO_ORDER and caps & CAP_MADE_TO_ORDER == 0:
        return 4
    if sku_hazmat[sku] != 0 and caps & CAP_HAZMAT == 0:
        return 4
    return 0


@helper
def _eligibility(slot_sku, slot_row, atp, cap_left, zone_row, level, channel_bit, kind_allowed,
                 ship_from_store, node_kind, node_caps, node_channels, node_processing,
                 node_enabled, sku_kind, sku_hazmat, transit, promise, out_rule):
    """out_rule[g, n] = first rule (1..7) node n fails for group slot g, 0 when eligible.

    The rules are written out here rather than calling `_passes_1_to_4` per node: a helper
    taking arrays inside this loop measured 70 ns per call (array reference counting that
    numba could not prune), 40x the rules themselves.
    """
    k = slot_row.shape[0]
    limit = promise[level]
    for n in range(node_kind.shape[0]):
        node_rule = 0
        caps = node_caps[n]
        if node_enabled[n] == 0:
            node_rule = 1
        elif kind_allowed[node_kind[n]] == 0 or (node_channels[n] >> channel_bit) & 1 == 0:
            node_rule = 2
        elif node_kind[n] == KIND_STORE and ship_from_store == 0:
            node_rule = 3
        elif caps & CAP_SHIP == 0:
            node_rule = 4
        days_mto = transit[level, zone_row[n]]
        days = days_mto + node_processing[n]
        for g in range(k):
            rule = node_rule
            if rule == 0:
                sku = slot_sku[g]
                kind = sku_kind[sku]
                mto = kind == SKU_MADE_TO_ORDER
                if ((kind == SKU_GIFT_CARD and caps & CAP_GIFT_CARD == 0)
                        or (mto and caps & CAP_MADE_TO_ORDER == 0)
                        or (sku_hazmat[sku] != 0 and caps & CAP_HAZMAT == 0)):
                    rule = 4
                elif (days_mto if mto else days) > limit:
                    rule = 5
                elif cap_left[n] <= 0:
                    rule = 6
                elif not mto and atp[slot_row[g], n] <= 0:
                    rule = 7
            out_rule[g, n] = rule


@kernel(void, i64_1, i64_2, i64_1, i8_1, i64, i64, u8_1, i64, i8_1, i64_1, i64_1, i64_1,
        u8_1, i8_1, u8_1, i64_2, i64_1, i8_2)
def eligibility_rules(slot_sku, atp, cap_left, zone_row, level, channel_bit, kind_allowed,
                      ship_from_store, node_kind, node_caps, node_channels, node_processing,
                      node_enabled, sku_kind, sku_hazmat, transit, promise,
                      out_rule):
    """Eligibility of every node for each SKU of a shipped group (explain and tests)."""
    slot_row = np.arange(slot_sku.shape[0])
    _eligibility(slot_sku, slot_row, atp, cap_left, zone_row, level, channel_bit, kind_allowed,
                 ship_from_store, node_kind, node_caps, node_channels, node_processing,
                 node_enabled, sku_kind, sku_hazmat, transit, promise, out_rule)


@inline
def _reason_from_rules(rule, g):
    """Unfilled reason for group slot g: the furthest any node got through rules 1..7."""
    furthest = 0
    for n in range(rule.shape[1]):
        r = rule[g, n]
        reached = 8 if r == 0 else r
        furthest = max(furthest, reached)
    if furthest <= 4:
        return NO_ELIGIBLE_NODE
    if furthest == 5:
        return SLA_UNMET
    if furthest == 6:
        return CAPACITY
    if furthest == 7:
        return OUT_OF_STOCK
    return POLICY


@inline
def _supply_cover(sku, n, need, sup_offsets, sup_node, sup_day, sup_qty, promised, shift):
    """(units coverable up to `need` from n's not-yet-promised supply, day when they are).

    `promised[r + shift]` is what this order already promised of supply row r (the order's
    rows are packed into a small local array: see `route_orders`).
    """
    got = 0
    day = 0
    for r in range(sup_offsets[sku], sup_offsets[sku + 1]):
        # Supply dated before today is overdue, not promisable (it is not on hand either).
        if sup_node[r] == n and sup_day[r] >= 0:
            free = sup_qty[r] - promised[r + shift]
            if free > 0:
                got += free
                day = sup_day[r]
                if got >= need:
                    return need, day
    return got, day


@inline
def _promise_supply(sku, n, qty, sup_offsets, sup_node, sup_day, sup_qty, promised, shift):
    for r in range(sup_offsets[sku], sup_offsets[sku + 1]):
        if qty <= 0:
            return
        if sup_node[r] == n and sup_day[r] >= 0:
            take = min(qty, sup_qty[r] - promised[r + shift])
            if take > 0:
                promised[r + shift] += take
                qty -= take


@inline
def _atp_at(sku, s, n, on_hand, reserved, safety, node_kind, used_slot, used_node, used_qty,
            n_used):
    """ATP of slot s (SKU `sku`) at node n now: the state's ATP less what this order took.

    Read per use instead of a dense [slot, node] copy per order: most nodes hold none of a SKU,
    and the copy (five 1,000-node rows) cost more than routing a single-node order. The order's
    takings are the short list `used_*` (one row per allocation of stock).
    """
    v = _atp_now(on_hand[0, sku, n], reserved[sku, n], safety[node_kind[n]])
    if n_used > 0:
        v = _less_taken(v, s, n, used_slot, used_node, used_qty, n_used)
    return v


@inline
def _atp_now(sellable, reserved, safety):
    """ATP of one cell from its scalars. The candidate scan calls this and `_less_taken`
    itself: `_atp_at`'s seven array arguments cost an atomic reference count each per call,
    and it runs for every stocked node of every line."""
    return max(0, np.int64(sellable) - reserved - safety)


@inline
def _less_taken(v, s, n, used_slot, used_node, used_qty, n_used):
    """`v` less what this order already took of slot s at node n (the list `used_*`)."""
    for u in range(n_used):
        if used_slot[u] == s and used_node[u] == n:
            v -= used_qty[u]
    return max(0, v)


@inline
def _ship_money(n, level, zone_idx, weight_kg, units, base_cost, per_kg, node_handling,
                node_pick):
    return (base_cost[level, zone_idx] + per_kg[level, zone_idx] * weight_kg
            + node_handling[n] + node_pick[n] * units)


@inline
def _fixed_cost(n, w_cost, base_cost_z, w_dist, km_row, w_priority, node_handling,
                node_priority):
    """What using node n costs a group once (weighted): its shipment's base rate and handling,
    distance and priority terms."""
    # A zero weight skips its term's read (the cold distance row of the postal table);
    # 0.0 * a finite value adds exactly 0.0 anyway.
    return (w_cost * (base_cost_z + node_handling[n])
            + (w_dist * km_row[n] if w_dist != 0.0 else 0.0)
            + w_priority * node_priority[n])


@inline
def _unit_cost(w_cost, per_kg_z, weight_kg, pick, w_balance, cap_left_n):
    """What each unit of a SKU (of `weight_kg`) shipped from a node costs (weighted).

    Scalars only: with the node arrays as arguments the inlined call measured 30 cycles per
    pair more than its body (reference counting numba kept).
    """
    cost = w_cost * (per_kg_z * weight_kg + pick)
    if w_balance != 0.0:
        cost += w_balance / cap_left_n
    return cost


@inline
def _grown(arr, n_used, size):
    """A larger copy of arr keeping its first n_used entries."""
    out = np.empty(size, arr.dtype)
    out[:n_used] = arr[:n_used]
    return out


@inline
def _prefetch_sku_rows(ln_sku, i0, i1, stocked_flat, n_words, sku_kind, sku_weight, sku_hazmat,
                       sup_offsets):
    """Ask for what lines i0..i1 read first per SKU: its stocked-node bitmap row and its own
    columns (kind, weight, hazmat, supply offsets), one cold line each."""
    for i in range(i0, i1):
        sku = ln_sku[i]
        if sku >= 0:
            for off in range(0, n_words, 8):
                prefetch(stocked_flat, sku * n_words + off)
            prefetch(sku_kind, sku)
            prefetch(sku_weight, sku)
            prefetch(sku_hazmat, sku)
            prefetch(sup_offsets, sku)


@inline
def _queue_stock_lines(ln_sku, i0, i1, stocked, n_nodes, sell_addr, res_addr, queue):
    """List (in `queue`, returns how many) cells of lines i0..i1 whose sellable and reserved
    lines hold a stocked node, for `_prefetch_next` to ask for a few at a time (their bitmap
    rows should be loaded or on the way). Whole rows were twice the lines. One cell per 16
    nodes with any stocked (64 bytes of int32), and the group's last cell too when the row
    does not start on a line (1,000 nodes: every other SKU's), so both lines it spans come."""
    n_words = stocked.shape[1]
    n = np.int64(0)
    cap = queue.shape[0]
    for i in range(i0, i1):
        sku = ln_sku[i]
        if sku < 0:
            continue
        row = sku * n_nodes
        last = row + n_nodes - 1
        straddles = (np.int64(1) if ((sell_addr + 4 * row) | (res_addr + 4 * row)) & 63 != 0
                     else np.int64(0))
        for w in range(n_words):
            if n + 8 > cap:  # a word adds at most 8 (the queue only paces prefetches)
                break
            word = stocked[sku, w]
            # Branch-free: whether a 16-node cell holds a stocked node follows the data (about
            # every other store cell), so each cell is written and kept by adding its flag.
            for j in range(4):
                has = (np.int64(1) if (word >> np.uint64(16 * j)) & np.uint64(0xFFFF) != 0
                       else np.int64(0))
                cell = row + w * 64 + 16 * j
                queue[n] = cell
                n += has
                queue[n] = min(cell + 15, last)
                n += has & straddles
    return n


@inline
def _prefetch_next(queue, head, end, sellable_flat, reserved_flat):
    """Ask for queued cells head..end (both arrays); returns the new head. Called a little at a
    time from the scan: a burst of a few hundred prefetches, as one order's stock lines are,
    mostly went unserved (measured here: 175 lines asked for at once arrived no sooner than
    without asking; paced, they did), as the CPU has only a couple of dozen misses in flight."""
    for q in range(head, end):
        prefetch(sellable_flat, queue[q])
        prefetch(reserved_flat, queue[q])
    return end


@inline
def _add_entry(ent_line, ent_node, ent_qty, ent_dest, ent_ful, ent_denom, n_ent, i, n, q, dest,
               ful, denom):
    ent_line[n_ent] = i
    ent_node[n_ent] = n
    ent_qty[n_ent] = q
    ent_dest[n_ent] = dest
    ent_ful[n_ent] = ful
    ent_denom[n_ent] = denom
    return n_ent + 1


@inline
def _add_record(rec, n_rec, line, node, qty, kind, aux):
    rec[n_rec, 0] = line
    rec[n_rec, 1] = node
    rec[n_rec, 2] = qty
    rec[n_rec, 3] = kind
    rec[n_rec, 4] = aux
    return n_rec + 1


@inline
def _is_shipped(group, sts_demand):
    """Whether a line (or its pickup shortfall) belongs to a shipped group (3 or 4)."""
    return group == G_CUSTOMER or group == G_STS or (group == G_PICKUP and sts_demand > 0)


@inline
def _group_lines(dest, l0, n_l, ln_group, ln_store, ln_qty, sts_demand,
                 out):
    """A shipped group's lines in hand-out order: SHIP_TO_STORE lines before pickup shortfalls."""
    n = 0
    if dest == DEST_CUSTOMER:
        for i in range(n_l):
            if ln_group[l0 + i] == G_CUSTOMER:
                out[n] = i
                n += 1
        return n
    for want in (G_STS, G_PICKUP):
        for i in range(n_l):
            if ln_group[l0 + i] == want and sts_demand[i] > 0 and ln_store[l0 + i] == dest:
                out[n] = i
                n += 1
    return n


# Rows of the packed argument arrays (built once per state / per batch by the wrapper: a
# numba call pays per argument, and each small per-batch array costs the wrapper an allocation).
NF_LAT, NF_LON, NF_HANDLING, NF_PICK = range(4)
N_NODE_F = 4
NI_PRIORITY, NI_CAPS, NI_CHANNELS, NI_PROCESSING, NI_STORE_ROW, NI_SCAN = range(6)
N_NODE_I = 6
# `NI_SCAN` packs what the candidate scan tests of a node that never changes: capability bits
# (below SCAN_KIND_SHIFT), node kind, processing days. One read per pair instead of four
# arrays (capabilities, kind, the order's kind table, processing days).
SCAN_CAPS_MASK = 0xFF
SCAN_KIND_SHIFT = 8
SCAN_PROCESSING_SHIFT = 16
OI_POSTAL, OI_CHANNEL_BIT, OI_LEVEL, OI_POLICY, OI_MAX_SHIP, OI_BACKORDER = range(6)
N_ORD_I = 6
OF_LAT, OF_LON = range(2)
N_ORD_F = 2
LN_SKU, LN_QTY, LN_GROUP, LN_STORE = range(4)
N_LN = 4
# Rows of the per-order integer output ([row, order], n_orders + 1 columns: CSR offsets).
OUT_REC_OFF, OUT_SHP_OFF, OUT_STATUS, OUT_OPTIMAL = range(4)
N_OUT_I = 4
C_LOWER_BOUND = N_COSTS
"""Column of the per-order float output after the cost terms."""


@kernel(i64,
        # static node columns, node kind, mutable node columns
        f64_2, i64_2, i8_1, u8_1, i64_1, i64_1,
        # skus, inventory, supply
        i8_1, f64_1, u8_1, i32_3, i32_2, u64_2, i64_1, i32_1, i32_1, i64_1,
        # postal table, store table, carrier (bands + base + per_kg packed), digital node
        f64_2, i8_2, f64_2, i8_2, f64_2, i64_2, i64_1, i64,
        # orders, lines
        i64_1, i64_2, f64_2, f64_2, u8_2, i64_2, i64_2,
        # search knobs
        i64, i64,
        # outputs
        i64_2, i64_2, f64_2, i64_2, f64_2)
def route_orders(node_f, node_i, node_kind, node_enabled, node_daily_cap, node_cap_used,
                 sku_kind, sku_weight, sku_hazmat, on_hand, reserved, stocked,
                 sup_offsets, sup_node, sup_day, sup_qty,
                 postal_dist, postal_zone, store_dist, store_zone, car_f, transit, promise,
                 digital_node,
                 ord_line_off, ord_i, ord_f, ord_params, ord_kind_allowed, ord_safety, lines,
                 exact_max_skus, budget,
                 rec, shp_i, shp_f, out_i, out_f):
    """Route every order of a batch independently against the same state (no reservation).

    Static node, carrier, order and line columns come packed (rows `NF_*`, `NI_*`, `OI_*`,
    `OF_*`, `LN_*`; a numba call pays per argument); per-order outputs are `out_i` (rows
    `OUT_*`) and `out_f` (cost terms, then the lower bound).

    Orders are CSR over lines (`ord_line_off`). Writes records and shipments per order (CSR by
    `rec_off` / `shp_off`) and the per-order status, cost terms, lower bound and optimal flag.
    Returns ROUTE_OUT_OF_SPACE if the output arrays are too small (the wrapper sizes them).
    """
    node_lat = node_f[NF_LAT]
    node_lon = node_f[NF_LON]
    node_handling = node_f[NF_HANDLING]
    node_pick = node_f[NF_PICK]
    node_priority = node_i[NI_PRIORITY]
    node_caps = node_i[NI_CAPS]
    node_channels = node_i[NI_CHANNELS]
    node_processing = node_i[NI_PROCESSING]
    node_scan = node_i[NI_SCAN]
    n_levels = transit.shape[0]
    band_max = car_f[0]
    base_cost = car_f[1:1 + n_levels]
    per_kg = car_f[1 + n_levels:1 + 2 * n_levels]
    ord_postal = ord_i[OI_POSTAL]
    ord_channel_bit = ord_i[OI_CHANNEL_BIT]
    ord_level = ord_i[OI_LEVEL]
    ord_policy = ord_i[OI_POLICY]
    ord_max_ship = ord_i[OI_MAX_SHIP]
    ord_backorder = ord_i[OI_BACKORDER]
    ord_lat = ord_f[OF_LAT]
    ord_lon = ord_f[OF_LON]
    ln_sku = lines[LN_SKU]
    ln_qty = lines[LN_QTY]
    ln_group = lines[LN_GROUP]
    ln_store = lines[LN_STORE]
    rec_off = out_i[OUT_REC_OFF]
    shp_off = out_i[OUT_SHP_OFF]
    ord_status = out_i[OUT_STATUS]
    ord_optimal = out_i[OUT_OPTIMAL]
    n_nodes = node_kind.shape[0]
    n_orders = ord_line_off.shape[0] - 1
    # Per-order scratch is sized for the batch's largest order and sliced per order:
    # allocating two dozen small arrays per order measured a few us of each order.
    max_l = 1
    max_ms = 1
    for o in range(n_orders):
        max_l = max(max_l, ord_line_off[o + 1] - ord_line_off[o])
        max_ms = max(max_ms, ord_max_ship[o])
    max_ent_all = max_l * (max_ms + 2) + 2
    n_rank = PRUNE_MAX_UNITS * max(max_ms, 1)
    n_dense = min(max_l, 8) * n_nodes
    n_words = stocked.shape[1]  # (n_nodes + 63) // 64, checked by the engine
    # All scratch is carved from one allocation, viewed as int64, float64 and int8 parts:
    # four dozen separate arrays measured about 1.6 us of a one-order call, the fifteen blocks
    # they became another 1.8 us, and four blocks (one per dtype, two small arrays) still
    # cost about 0.1 us each.
    n_blk_i = (8 * n_nodes + (n_nodes + 1) + 6 * n_nodes + n_dense + 2 * (max_ms + 1)
               + max_l * n_rank + max_l * (max_ms + 1) + 16 * (max_l + 1) + 9 * max_ent_all
               + n_words + 2 * n_nodes + 1)
    n_blk_f = (4 * n_nodes + 2 * n_nodes + n_dense + max_l * n_rank + 4 + (max_l + 1)
               + 2 * max_ent_all)
    blk = np.empty(n_blk_i + n_blk_f + (n_nodes + 7) // 8, np.int64)
    blk_i = blk[:n_blk_i]
    blk_f = blk[n_blk_i:n_blk_i + n_blk_f].view(np.float64)
    at_i = 0
    at_f = 0
    node_rows_i = blk_i[at_i:at_i + 8 * n_nodes].reshape((8, n_nodes))
    at_i += 8 * n_nodes
    node_rows_f = blk_f[at_f:at_f + 4 * n_nodes].reshape((4, n_nodes))
    at_f += 4 * n_nodes
    cust_km = node_rows_f[0]
    node_fixed = node_rows_f[1]
    sc_fixed = node_rows_f[2]
    node_var = node_rows_f[3]  # a group's unit costs summed per node (see `_sparse_single_node`)
    cust_zone = blk[n_blk_i + n_blk_f:].view(np.int8)[:n_nodes]
    # Row of a store in `store_dist` / `store_zone`: every store that can receive shipments has
    # one, and only such stores are destinations of shipped groups (the group loop fills
    # nothing for the others, so backorders never reach them either).
    node_store_row = node_i[NI_STORE_ROW]
    # Remaining capacity as of this call; each order restores the nodes it used (see the end
    # of the order loop), so orders stay independent without a 1,000-node refill per order.
    cap_left = node_rows_i[0]
    for n in range(n_nodes):
        cap_left[n] = max(0, node_daily_cap[n] - node_cap_used[n])
    # Candidate index of a node while one group is built (-1 elsewhere; reset after each use).
    cand_of = node_rows_i[1]
    cand_of[:] = -1
    cand_buf = node_rows_i[2]
    cand_flag = node_rows_i[3]
    cand_flag[:] = 0
    cand_cnt = node_rows_i[4]  # the group's SKUs a node can ship (0 between uses)
    cand_cnt[:] = 0
    hit = node_rows_i[5]
    hit_u = hit.view(np.uint64)
    stocked_flat = stocked.reshape(-1)
    sellable_flat = on_hand[0].reshape(-1)
    reserved_flat = reserved.reshape(-1)
    # A group's candidates as bits (zero between uses).
    cand_bits = blk_i[at_i:at_i + n_words].view(np.uint64)
    cand_bits[:] = 0
    at_i += n_words
    # The order's stock lines to prefetch (`_queue_stock_lines`); pf_head..pf_n still due.
    pf_queue = blk_i[at_i:at_i + 2 * n_nodes]
    at_i += 2 * n_nodes
    sell_addr = np.int64(sellable_flat.ctypes.data)  # (uintp + int64 would be a float)
    res_addr = np.int64(reserved_flat.ctypes.data)
    sc_capc = node_rows_i[6]
    node_tot = node_rows_i[7]  # a group's usable units per node
    # A group's nodes with a usable pair, in order of first pair; one spare entry, as the
    # scan writes a pair's node past the list before it knows whether the node is new.
    seen = blk_i[at_i:at_i + n_nodes + 1]
    at_i += n_nodes + 1
    # (slot, node) pairs of a group: a few per stocked node of each SKU (grown when needed).
    pair_n = blk_i[at_i:at_i + 2 * n_nodes]
    pair_v = blk_i[at_i + 2 * n_nodes:at_i + 4 * n_nodes]
    pair_g = blk_i[at_i + 4 * n_nodes:at_i + 6 * n_nodes]
    at_i += 6 * n_nodes
    pair_cv = blk_f[at_f:at_f + 2 * n_nodes]
    at_f += 2 * n_nodes
    sc_a = blk_i[at_i:at_i + n_dense]  # replaced by a larger array when a group needs more
    at_i += n_dense
    sc_cvar = blk_f[at_f:at_f + n_dense]
    at_f += n_dense
    sc_sel = blk_i[at_i:at_i + max_ms + 1]
    sc_sel_order = blk_i[at_i + max_ms + 1:at_i + 2 * (max_ms + 1)]
    at_i += 2 * (max_ms + 1)
    top_c = blk_i[at_i:at_i + max_l * n_rank].reshape((max_l, n_rank))
    at_i += max_l * n_rank
    sc_x = blk_i[at_i:at_i + max_l * (max_ms + 1)]
    at_i += max_l * (max_ms + 1)
    top_v = blk_f[at_f:at_f + max_l * n_rank].reshape((max_l, n_rank))
    at_f += max_l * n_rank
    sc_info = blk_f[at_f:at_f + 4]
    at_f += 4
    line_rows = blk_i[at_i:at_i + 16 * (max_l + 1)].reshape((16, max_l + 1))
    at_i += 16 * (max_l + 1)
    sc_cmin = blk_f[at_f:at_f + max_l + 1]
    at_f += max_l + 1
    sc_slot_of_line = line_rows[0]
    sc_slot_sku = line_rows[1]
    sc_demand = line_rows[2]
    sc_unfilled = line_rows[3]
    sc_reason = line_rows[4]
    sc_sts_demand = line_rows[5]
    sc_grp_dest = line_rows[6]
    sc_gl_order = line_rows[7]
    sc_g_slot = line_rows[8]
    sc_g_d = line_rows[9]
    sc_g_sku = line_rows[10]
    sc_backordered = line_rows[11]
    sc_bo_node = line_rows[12]
    sc_bo_day = line_rows[13]
    sc_shift = line_rows[14]
    sc_suma = line_rows[15]
    ent_rows = blk_i[at_i:at_i + 9 * max_ent_all].reshape((9, max_ent_all))
    sc_used_slot = ent_rows[0]
    sc_used_node = ent_rows[1]
    sc_used_qty = ent_rows[2]
    sc_ent_line = ent_rows[3]
    sc_ent_node = ent_rows[4]
    sc_ent_qty = ent_rows[5]
    sc_ent_dest = ent_rows[6]
    sc_ent_ful = ent_rows[7]
    sc_ent_shp = ent_rows[8]
    ent_rows_f = blk_f[at_f:at_f + 2 * max_ent_all].reshape((2, max_ent_all))
    sc_ent_denom = ent_rows_f[0]
    sc_shp_denom = ent_rows_f[1]
    # Nothing has asked for the first orders' SKU rows yet (a one-order call is all cold).
    for o in range(min(n_orders, 2)):
        _prefetch_sku_rows(ln_sku, ord_line_off[o], ord_line_off[o + 1], stocked_flat, n_words,
                           sku_kind, sku_weight, sku_hazmat, sup_offsets)
    no_promises = blk_i[n_blk_i - 1:n_blk_i]  # `promised` of an order allowing no backorder
    no_promises[0] = 0
    n_rec = 0
    n_shp = 0
    rec_off[0] = 0
    shp_off[0] = 0
    for o in range(n_orders):
        l0 = ord_line_off[o]
        n_l = ord_line_off[o + 1] - l0
        # Start loading what orders read: the SKU rows of the order after next, and this
        # order's stock lines (its bitmap rows were asked for two orders ago), the first few
        # now and then one per node its scan tests, so each SKU's lines arrive while the one
        # before it is scanned. Asked for in one burst an order ahead, as they used to be,
        # they mostly arrived no sooner than unasked ones (measured: a burst of 175 lines
        # gained nothing, the same lines paced did). The first orders' SKU rows were asked
        # for before the loop.
        if o + 2 < n_orders:
            _prefetch_sku_rows(ln_sku, ord_line_off[o + 2], ord_line_off[o + 3], stocked_flat,
                               n_words, sku_kind, sku_weight, sku_hazmat, sup_offsets)
        pf_n = _queue_stock_lines(ln_sku, l0, l0 + n_l, stocked, n_nodes, sell_addr, res_addr,
                                  pf_queue)
        pf_head = _prefetch_next(pf_queue, 0, min(pf_n, PREFETCH_FIRST), sellable_flat,
                                 reserved_flat)
        level = ord_level[o]
        policy = ord_policy[o]
        params = ord_params[o]
        w_cost = params[P_W_COST]
        unfilled_money = params[P_UNFILLED]
        max_nodes = 1 if policy == SHIP_COMPLETE else ord_max_ship[o]
        pu = BIG_PENALTY if policy != ALLOW_SPLIT else w_cost * unfilled_money
        sp = w_cost * params[P_SPLIT]
        channel_bit = ord_channel_bit[o]
        kind_allowed = ord_kind_allowed[o]
        sfs = 1 if params[P_SHIP_FROM_STORE] != 0.0 else 0
        # The node kinds the scan may use, as bits: the channel's, less stores without
        # ship-from-store.
        kinds_ok = 0
        for kd in range(kind_allowed.shape[0]):
            if kind_allowed[kd] != 0 and not (kd == KIND_STORE and sfs == 0):
                kinds_ok |= 1 << kd
        # Distinct known SKUs of the order ("slots"); ATP is per slot and shared by its lines.
        for i in range(n_l):  # one loop for every line-sized scratch that starts filled
            sc_slot_of_line[i] = -1
            sc_demand[i] = 0
            sc_unfilled[i] = 0
            sc_reason[i] = 0
            sc_sts_demand[i] = 0
            sc_backordered[i] = 0
            sc_bo_node[i] = -1
            sc_bo_day[i] = 0
        slot_of_line = sc_slot_of_line[:n_l]
        slot_sku = sc_slot_sku[:n_l]
        k = 0
        for i in range(n_l):
            sku = ln_sku[l0 + i]
            if sku < 0:
                continue
            found = -1
            for s in range(k):
                if slot_sku[s] == sku:
                    found = s
            if found < 0:
                slot_sku[k] = sku
                found = k
                k += 1
            slot_of_line[i] = found
        safety = ord_safety[o]
        # Supply rows of the order's SKUs, packed: slot s's row r is promised[r + shift[s]].
        # (A batch-wide array over all supply rows would have to be zeroed per call.)
        # Only backorders read it (both places test `ord_backorder`), so an order that allows
        # none skips the allocation (retail-mix batch 10.9 -> 10.4 us per order).
        shift = sc_shift
        promised = no_promises
        if ord_backorder[o] != 0:
            n_prom = 0
            for s in range(k):
                shift[s] = n_prom - sup_offsets[slot_sku[s]]
                n_prom += sup_offsets[slot_sku[s] + 1] - sup_offsets[slot_sku[s]]
            promised = np.zeros(max(n_prom, 1), np.int64)
        # Stock this order took so far (see `_atp_at`): one row per allocation of stock.
        max_used = n_l * (max(max_nodes, 1) + 2) + 2
        used_slot = sc_used_slot[:max_used]
        used_node = sc_used_node[:max_used]
        used_qty = sc_used_qty[:max_used]
        n_used = 0
        # Destination row for the customer group: the postal table row, or computed once.
        if ord_postal[o] >= 0:
            cust_km_v = postal_dist[ord_postal[o]]
            cust_zone_v = postal_zone[ord_postal[o]]
        else:
            destination_row(ord_lat[o], ord_lon[o], node_lat, node_lon, band_max, cust_km,
                            cust_zone)
            cust_km_v = cust_km
            cust_zone_v = cust_zone
        # Per-line outcome scratch.
        demand = sc_demand[:n_l]  # units the current group still has to place
        unfilled = sc_unfilled[:n_l]
        reason = sc_reason[:n_l]
        sts_demand = sc_sts_demand[:n_l]
        max_ent = n_l * (max(max_nodes, 1) + 2) + 2
        ent_line = sc_ent_line[:max_ent]
        ent_node = sc_ent_node[:max_ent]
        ent_qty = sc_ent_qty[:max_ent]
        ent_dest = sc_ent_dest[:max_ent]
        ent_ful = sc_ent_ful[:max_ent]
        # Remaining capacity of the node when its group started (capacity_balance divides by it).
        ent_denom = sc_ent_denom[:max_ent]
        n_ent = 0
        gap = 0.0
        all_optimal = True
        group_failed = False
        shipped_unfilled = False

        # Unknown SKUs, then 1. digital: the digital node, no stock, its capacity.
        for i in range(n_l):
            grp = ln_group[l0 + i]
            if grp == G_UNKNOWN_SHIPPED or grp == G_UNKNOWN_OTHER:
                unfilled[i] = ln_qty[l0 + i]
                reason[i] = UNKNOWN_SKU
                if grp == G_UNKNOWN_SHIPPED:
                    shipped_unfilled = True
            elif grp == G_DIGITAL:
                q = ln_qty[l0 + i]
                dn = digital_node
                if dn < 0 or node_enabled[dn] == 0 or (node_channels[dn] >> channel_bit) & 1 == 0:
                    unfilled[i] = q
                    reason[i] = NO_ELIGIBLE_NODE
                    continue
                take = min(q, cap_left[dn])
                if take > 0:
                    cap_left[dn] -= take
                    n_ent = _add_entry(ent_line, ent_node, ent_qty, ent_dest, ent_ful, ent_denom,
                                       n_ent, i, dn, take, DEST_DIGITAL, F_DIGITAL, 1.0)
                if take < q:
                    unfilled[i] = q - take
                    reason[i] = CAPACITY

        # 2. Pickup: the named store's ATP and capacity; shortfall ships to it when allowed.
        for i in range(n_l):
            if ln_group[l0 + i] != G_PICKUP:
                continue
            st = ln_store[l0 + i]
            s = slot_of_line[i]
            q = ln_qty[l0 + i]
            if (node_caps[st] & CAP_PICKUP == 0 or node_enabled[st] == 0
                    or (node_channels[st] >> channel_bit) & 1 == 0):
                unfilled[i] = q
                reason[i] = NO_ELIGIBLE_NODE
                continue
            mto = sku_kind[slot_sku[s]] == SKU_MADE_TO_ORDER
            stock = q if mto else _atp_at(slot_sku[s], s, st, on_hand, reserved, safety,
                                          node_kind, used_slot, used_node, used_qty, n_used)
            take = max(0, min(q, stock, cap_left[st]))
            if take > 0:
                if not mto:
                    used_slot[n_used] = s
                    used_node[n_used] = st
                    used_qty[n_used] = take
                    n_used += 1
                cap_left[st] -= take
                n_ent = _add_entry(ent_line, ent_node, ent_qty, ent_dest, ent_ful, ent_denom,
                                   n_ent, i, st, take, st, F_PICKUP, 1.0)
            short = q - take
            if short > 0:
                if params[P_PICKUP_STS] != 0.0 and node_caps[st] & CAP_SHIP_TO_STORE != 0:
                    sts_demand[i] = short
                else:
                    unfilled[i] = short
                    reason[i] = CAPACITY if cap_left[st] <= 0 else OUT_OF_STOCK
        for i in range(n_l):
            if ln_group[l0 + i] == G_STS:
                sts_demand[i] = ln_qty[l0 + i]
        n_ent_pre = n_ent  # entries of groups 1 and 2
        n_used_pre = n_used

        # Shipped groups: the customer, then stores named by SHIP_TO_STORE lines, then stores
        # reached only by pickup shortfalls, each in order of first appearance.
        grp_dest = sc_grp_dest[:n_l + 1]
        n_grp = 0
        for i in range(n_l):
            if ln_group[l0 + i] == G_CUSTOMER:
                grp_dest[0] = DEST_CUSTOMER
                n_grp = 1
                break
        for want in (G_STS, G_PICKUP):
            for i in range(n_l):
                if ln_group[l0 + i] == want and sts_demand[i] > 0:
                    st = ln_store[l0 + i]
                    known = False
                    for gi in range(n_grp):
                        if grp_dest[gi] == st:
                            known = True
                    if not known:
                        grp_dest[n_grp] = st
                        n_grp += 1
        gl_order = sc_gl_order[:n_l]
        g_slot = sc_g_slot[:n_l]
        g_d = sc_g_d[:n_l]
        g_sku = sc_g_sku[:n_l]
        sel_order = sc_sel_order
        for gi in range(n_grp):
            dest = grp_dest[gi]
            n_go = _group_lines(dest, l0, n_l, ln_group, ln_store, ln_qty, sts_demand, gl_order)
            for t in range(n_go):
                i = gl_order[t]
                demand[i] = ln_qty[l0 + i] if dest == DEST_CUSTOMER else sts_demand[i]
            if dest == DEST_CUSTOMER:
                km_row = cust_km_v
                zone_row = cust_zone_v
                ful = F_SHIP
            else:
                if (node_caps[dest] & CAP_SHIP_TO_STORE == 0 or node_enabled[dest] == 0
                        or (node_channels[dest] >> channel_bit) & 1 == 0):
                    # A store that cannot receive shipments fills nothing.
                    for t in range(n_go):
                        i = gl_order[t]
                        unfilled[i] += demand[i]
                        reason[i] = NO_ELIGIBLE_NODE
                        demand[i] = 0
                    shipped_unfilled = True
                    continue
                # The store's row of the load-time table (it can receive: tested above).
                km_row = store_dist[node_store_row[dest]]
                zone_row = store_zone[node_store_row[dest]]
                ful = F_STS
            # Group slots (distinct SKUs) and their pooled demand.
            kg = 0
            for t in range(n_go):
                i = gl_order[t]
                s = slot_of_line[i]
                found = -1
                for g in range(kg):
                    if g_slot[g] == s:
                        found = g
                if found < 0:
                    g_slot[kg] = s
                    g_sku[kg] = slot_sku[s]
                    g_d[kg] = 0
                    found = kg
                    kg += 1
                g_d[found] += demand[i]
            gs = g_slot[:kg]
            gsku = g_sku[:kg]
            gd = g_d[:kg]
            # Eligible (slot, node) pairs. Only nodes holding sellable stock of the SKU can
            # have ATP, so a scan of the SKU's on-hand row (contiguous int32) picks them and
            # the rules run for those alone; made-to-order SKUs (no stock check) scan every
            # node. Rule numbers (for reasons and explain) come from `_eligibility`, only when
            # some units stay unfilled.
            limit = promise[level]
            total_units = 0
            for g in range(kg):
                total_units += gd[g]
            w_dist = params[P_W_DISTANCE]
            w_balance = params[P_W_CAPACITY]
            w_priority = params[P_W_PRIORITY]
            n_pair = 0
            n_seen = 0
            g_suma = sc_suma[:kg]
            g_cmin = sc_cmin[:kg]
            for g in range(kg):
                g_suma[g] = 0
                g_cmin[g] = np.inf
                sku = gsku[g]
                kind = sku_kind[sku]
                mto = kind == SKU_MADE_TO_ORDER
                need = CAP_SHIP
                if kind == SKU_GIFT_CARD:
                    need |= CAP_GIFT_CARD
                if mto:
                    need |= CAP_MADE_TO_ORDER
                if sku_hazmat[sku] != 0:
                    need |= CAP_HAZMAT
                row = gs[g]
                weight = sku_weight[sku]
                # Nodes to test, in index order: branch-free compaction of the stocked ones.
                n_hit = 0
                if mto:
                    for n in range(n_nodes):
                        hit[n] = n
                    n_hit = n_nodes
                else:
                    # The stocked-node bitmap lists them in index order (`state.stocked`).
                    for w in range(stocked.shape[1]):
                        word = stocked[sku, w]
                        while word != 0:
                            hit[n_hit] = w * 64 + lowest_set_bit(word)
                            n_hit += 1
                            word &= word - np.uint64(1)
                if n_pair + n_hit > pair_n.shape[0]:
                    # Grown (kept) only for groups with many stocked nodes: a [SKU x node]
                    # allocation per group measured page faults on every order.
                    grow = max(2 * pair_n.shape[0], n_pair + n_hit)
                    pair_n = _grown(pair_n, n_pair, grow)
                    pair_v = _grown(pair_v, n_pair, grow)
                    pair_g = _grown(pair_g, n_pair, grow)
                    pair_cv = _grown(pair_cv, n_pair, grow)
                for t in range(n_hit):
                    if pf_head < pf_n:  # one more queued cell per node tested
                        pf_head = _prefetch_next(pf_queue, pf_head, pf_head + 1, sellable_flat,
                                                 reserved_flat)
                    n = hit[t]
                    # Unsigned copies index without numba's negative-index fix-up (a compare
                    # and a select per access, which nothing here can need).
                    nu = hit_u[t]
                    scan_w = node_scan[nu]
                    if cap_left[nu] <= 0 or scan_w & need != need:
                        continue
                    # Rules 1-3 (what the ship capability test above leaves of them).
                    kind_n = (scan_w >> SCAN_KIND_SHIFT) & 0xFF
                    if (node_enabled[nu] == 0 or (kinds_ok >> kind_n) & 1 == 0
                            or (node_channels[nu] >> channel_bit) & 1 == 0):
                        continue
                    zu = np.uint64(zone_row[nu])
                    days = transit[level, zu]
                    if not mto:
                        days += scan_w >> SCAN_PROCESSING_SHIFT
                    if days > limit:
                        continue
                    if mto:
                        q = gd[g]
                    else:
                        q = _atp_now(on_hand[0, sku, nu], reserved[sku, nu], safety[kind_n])
                        if n_used > 0:
                            q = _less_taken(q, row, n, used_slot, used_node, used_qty, n_used)
                        q = min(q, gd[g])
                        if q <= 0:
                            continue
                    # The pair's unit cost in the same pass (a second pass over the pairs
                    # re-read each node's zone and columns: a tenth of the kernel). A pair
                    # never worth shipping is dropped (`_solve` would zero it).
                    cv = _unit_cost(w_cost, per_kg[level, zu], weight, node_pick[nu], w_balance,
                                    cap_left[nu])
                    if cv >= pu:
                        continue
                    # Branch-free: whether the group has seen the node follows the data.
                    fresh = cand_cnt[nu] == 0
                    f_n = _fixed_cost(nu, w_cost, base_cost[level, zu], w_dist, km_row,
                                      w_priority, node_handling, node_priority)
                    node_fixed[nu] = f_n if fresh else node_fixed[nu]
                    node_tot[nu] = q if fresh else node_tot[nu] + q
                    node_var[nu] = q * cv if fresh else node_var[nu] + q * cv
                    seen[n_seen] = n
                    n_seen += 1 if fresh else 0
                    cand_cnt[nu] += 1
                    g_suma[g] += q
                    g_cmin[g] = min(g_cmin[g], cv)
                    pair_g[n_pair] = g
                    pair_n[n_pair] = n
                    pair_v[n_pair] = q
                    pair_cv[n_pair] = cv
                    n_pair += 1
            sel = sc_sel
            x = sc_x[:kg * max(max_nodes, 1)].reshape((kg, max(max_nodes, 1)))
            single = _sparse_single_node(seen, n_seen, node_tot, node_var, node_fixed, cap_left,
                                         g_suma, g_cmin, gd, total_units, pu, sp, max_nodes)
            if single >= 0:
                # Proven optimal from the pairs: its units per SKU are its pairs' units.
                for t in range(n_seen):
                    cand_cnt[seen[t]] = 0
                cand = cand_buf[:1]
                cand[0] = single
                sel[0] = 0
                for g in range(kg):
                    x[g, 0] = 0
                for t in range(n_pair):
                    if pair_n[t] == single:
                        x[pair_g[t], 0] = pair_v[t]
                m = np.int64(1)
            else:
                # `_solve`'s single-SKU reduction (`_prune_single_sku`), on the sparse pairs: most
                # candidates are stores shipping one SKU of the group, and dropping them here
                # spares building and searching their dense columns. Every pair is ranked (a
                # node shipping several SKUs can take a dropped store's place too); pairs are
                # offered in node order per SKU, as `_solve` would offer its candidates.
                kk = max(max_nodes, 1)
                _clear_single_ranks(gd, kk, top_c, top_v)
                for t in range(n_pair):
                    n = pair_n[t]
                    nu = np.uint64(n)  # (unsigned: see the scan)
                    gu = np.uint64(pair_g[t])
                    if gd[gu] <= PRUNE_MAX_UNITS:
                        _rank_single(top_c, top_v, gu, n,
                                     min(pair_v[t], cap_left[nu], total_units, gd[gu]),
                                     node_fixed[nu], pair_cv[t], kk)
                for g in range(kg):
                    for t in range(min(gd[g], PRUNE_MAX_UNITS) * kk):
                        if top_c[g, t] >= 0:
                            cand_flag[top_c[g, t]] = 1
                # Candidates by node index (the search breaks ties by candidate order): set as bits
                # of a node bitmap and read back in order, which sorts them for free (`np.sort`
                # of the list measured 4% of the kernel).
                for t in range(n_pair):  # branch-free: which pairs go follows the data
                    nu = np.uint64(pair_n[t])
                    g = pair_g[t]
                    pruned = ((cand_cnt[nu] == 1) & (gd[np.uint64(g)] <= PRUNE_MAX_UNITS)
                              & (cand_flag[nu] == 0))
                    keep = np.uint64(0) if pruned else np.uint64(1)
                    pair_g[t] = -1 if pruned else g
                    cand_bits[nu >> np.uint64(6)] |= keep << (nu & np.uint64(63))
                    # Reset for the next group as we go: a node with one pair is done with it,
                    # and one with several only needs its bit, which a count of 0 still sets.
                    cand_cnt[nu] = 0
                    cand_flag[nu] = 0
                n_cand = 0
                for w in range(n_words):
                    word = cand_bits[w]
                    cand_bits[w] = 0
                    while word != 0:
                        cand_buf[n_cand] = w * 64 + lowest_set_bit(word)
                        n_cand += 1
                        word &= word - np.uint64(1)
                # Read until this group is handed out, before the next scan.
                cand = cand_buf[:n_cand]
                for c in range(n_cand):
                    cand_of[cand[c]] = c
                # The group's dense arrays are carved from per-call scratch: per group they were a
                # dozen allocations, the two largest past malloc's small-size caches.
                if sc_a.shape[0] < kg * n_cand:
                    sc_a = np.empty(kg * n_cand, np.int64)
                    sc_cvar = np.empty(kg * n_cand, np.float64)
                fixed = sc_fixed[:n_cand]
                capc = sc_capc[:n_cand]
                cvar = sc_cvar[:kg * n_cand].reshape((kg, n_cand))
                a = sc_a[:kg * n_cand].reshape((kg, n_cand))
                for g in range(kg):
                    for c in range(n_cand):
                        a[g, c] = 0
                for c in range(n_cand):
                    n = cand[c]
                    fixed[c] = node_fixed[n]
                    capc[c] = min(cap_left[n], total_units)
                    for g in range(kg):
                        cvar[g, c] = _unit_cost(w_cost, per_kg[level, zone_row[n]],
                                                sku_weight[gsku[g]], node_pick[n], w_balance,
                                                cap_left[n])
                for t in range(n_pair):
                    if pair_g[t] >= 0:
                        a[pair_g[t], cand_of[pair_n[t]]] = pair_v[t]
                for c in range(n_cand):
                    cand_of[cand[c]] = -1
                # `_solve` writes sel[:m], x[:, :m] and info in full; `a` it overwrites.
                info = sc_info
                _solve(gd, a, cvar, fixed, capc, pu, sp, max_nodes, exact_max_skus, budget, True,
                       sel, x, info)
                m = np.int64(info[0])
                if info[3] == 0.0:
                    all_optimal = False
                    gap += info[1] - info[2]
            placed = 0
            for j in range(m):
                for g in range(kg):
                    placed += x[g, j]
            if policy != ALLOW_SPLIT and placed < total_units:
                # All or nothing. SHIP_COMPLETE may still backorder the shipped part from the
                # untouched state; FILL_OR_KILL keeps its most-filling attempt so the units it
                # could not place get their real reasons.
                group_failed = True
                if policy == SHIP_COMPLETE:
                    m = np.int64(0)
            # Hand each node's units to the group's lines in order, nodes by index.
            for j in range(m):
                sel_order[j] = j
            for j in range(1, m):
                v = sel_order[j]
                jj = j - 1
                while jj >= 0 and cand[sel[sel_order[jj]]] > cand[sel[v]]:
                    sel_order[jj + 1] = sel_order[jj]
                    jj -= 1
                sel_order[jj + 1] = v
            for jo in range(m):
                j = sel_order[jo]
                n = cand[sel[j]]
                denom = np.float64(cap_left[n])
                for g in range(kg):
                    q = x[g, j]
                    if q == 0:
                        continue
                    if sku_kind[gsku[g]] != SKU_MADE_TO_ORDER:
                        used_slot[n_used] = gs[g]
                        used_node[n_used] = n
                        used_qty[n_used] = q
                        n_used += 1
                    cap_left[n] -= q
                    for t in range(n_go):
                        if q == 0:
                            break
                        i = gl_order[t]
                        if demand[i] > 0 and slot_of_line[i] == gs[g]:
                            take = min(q, demand[i])
                            demand[i] -= take
                            q -= take
                            n_ent = _add_entry(ent_line, ent_node, ent_qty, ent_dest, ent_ful,
                                               ent_denom, n_ent, i, n, take, dest, ful, denom)
            leftover = False
            for t in range(n_go):
                if demand[gl_order[t]] > 0:
                    leftover = True
            if leftover:
                rule = np.empty((kg, n_nodes), np.int8)
                atp_g = np.empty((kg, n_nodes), np.int64)
                for g in range(kg):
                    for n in range(n_nodes):
                        atp_g[g, n] = _atp_at(gsku[g], gs[g], n, on_hand, reserved, safety,
                                              node_kind, used_slot, used_node, used_qty, n_used)
                _eligibility(gsku, np.arange(kg), atp_g, cap_left, zone_row, level, channel_bit,
                             kind_allowed, sfs, node_kind, node_caps, node_channels,
                             node_processing, node_enabled, sku_kind, sku_hazmat, transit,
                             promise, rule)
                for t in range(n_go):
                    i = gl_order[t]
                    if demand[i] > 0:
                        for g in range(kg):
                            if gs[g] == slot_of_line[i]:
                                reason[i] = _reason_from_rules(rule, g)
                        unfilled[i] += demand[i]
                        demand[i] = 0

        n_touch = n_ent  # entries whose nodes' capacity this order used (restored below)
        backordered = sc_backordered[:n_l]
        bo_node = sc_bo_node[:n_l]
        bo_day = sc_bo_day[:n_l]
        killed = False
        any_unfilled = False
        for i in range(n_l):
            if unfilled[i] > 0:
                any_unfilled = True
        if policy == SHIP_COMPLETE and (group_failed or shipped_unfilled):
            rescued = False
            if ord_backorder[o] != 0 and not shipped_unfilled and n_grp > 0:
                # Back to the state after groups 1 and 2: the whole shipped part is decided
                # as one backorder at one node.
                for e in range(n_ent_pre, n_ent):
                    cap_left[ent_node[e]] += ent_qty[e]
                n_ent = n_ent_pre
                n_used = n_used_pre
                best_n = -1
                best_day = 0
                best_cost = np.inf
                for n in range(n_nodes):
                    ok = True
                    for i in range(n_l):
                        if _is_shipped(ln_group[l0 + i], sts_demand[i]) and _passes_1_to_4(
                                n, ln_sku[l0 + i], channel_bit, kind_allowed, sfs, node_kind,
                                node_caps, node_channels, node_enabled, sku_kind,
                                sku_hazmat) != 0:
                            ok = False
                            break
                    if not ok:
                        continue
                    day = -1
                    for g in range(k):
                        if sku_kind[slot_sku[g]] == SKU_MADE_TO_ORDER:
                            continue
                        need = 0
                        for i in range(n_l):
                            if slot_of_line[i] == g and _is_shipped(ln_group[l0 + i],
                                                                    sts_demand[i]):
                                need += (ln_qty[l0 + i] if ln_group[l0 + i] == G_CUSTOMER
                                         else sts_demand[i])
                        need -= _atp_at(slot_sku[g], g, n, on_hand, reserved, safety, node_kind,
                                        used_slot, used_node, used_qty, n_used)
                        if need <= 0:
                            continue
                        got, d_day = _supply_cover(slot_sku[g], n, need, sup_offsets, sup_node,
                                                   sup_day, sup_qty, promised, shift[g])
                        if got < need:
                            ok = False
                            break
                        day = max(day, d_day)
                    # Stock alone covering it all means SLA or capacity failed: supply won't help.
                    if not ok or day < 0:
                        continue
                    cost = 0.0
                    for gi in range(n_grp):
                        dest = grp_dest[gi]
                        weight = 0.0
                        units = 0
                        for i in range(n_l):
                            if not _is_shipped(ln_group[l0 + i], sts_demand[i]):
                                continue
                            if dest == DEST_CUSTOMER:
                                if ln_group[l0 + i] != G_CUSTOMER:
                                    continue
                                q = ln_qty[l0 + i]
                            else:
                                if ln_group[l0 + i] == G_CUSTOMER or ln_store[l0 + i] != dest:
                                    continue
                                q = sts_demand[i]
                            weight += sku_weight[ln_sku[l0 + i]] * q
                            units += q
                        if dest == DEST_CUSTOMER:
                            z = np.int64(cust_zone_v[n])
                        else:
                            z = np.int64(store_zone[node_store_row[dest], n])
                        cost += _ship_money(n, level, z, weight, units, base_cost, per_kg,
                                            node_handling, node_pick)
                    if best_n < 0 or day < best_day or (day == best_day
                                                        and cost < best_cost - 1e-9):
                        best_n = n
                        best_day = day
                        best_cost = cost
                if best_n >= 0:
                    rescued = True
                    for i in range(n_l):
                        if _is_shipped(ln_group[l0 + i], sts_demand[i]):
                            backordered[i] = (ln_qty[l0 + i] if ln_group[l0 + i] == G_CUSTOMER
                                              else sts_demand[i])
                            bo_node[i] = best_n
                            bo_day[i] = best_day
                            unfilled[i] = 0
            if not rescued:
                killed = True
        elif policy == FILL_OR_KILL and any_unfilled:
            killed = True
        elif policy == ALLOW_SPLIT and ord_backorder[o] != 0:
            # Backorders / preorders of OUT_OF_STOCK units against future supply, group by
            # group, line by line.
            for gi in range(n_grp):
                dest = grp_dest[gi]
                n_go = _group_lines(dest, l0, n_l, ln_group, ln_store, ln_qty, sts_demand,
                                    gl_order)
                for t in range(n_go):
                    i = gl_order[t]
                    if unfilled[i] == 0 or reason[i] != OUT_OF_STOCK:
                        continue
                    sku = ln_sku[l0 + i]
                    need = unfilled[i]
                    best_n = -1
                    best_got = 0
                    best_day = 0
                    best_cost = np.inf
                    for n in range(n_nodes):
                        if _passes_1_to_4(n, sku, channel_bit, kind_allowed, sfs, node_kind,
                                          node_caps, node_channels, node_enabled, sku_kind,
                                          sku_hazmat) != 0:
                            continue
                        got, day = _supply_cover(sku, n, need, sup_offsets, sup_node, sup_day,
                                                 sup_qty, promised, shift[slot_of_line[i]])
                        if got == 0:
                            continue
                        if dest == DEST_CUSTOMER:
                            z = np.int64(cust_zone_v[n])
                        else:
                            z = np.int64(store_zone[node_store_row[dest], n])
                        cost = _ship_money(n, level, z, sku_weight[sku] * got, got, base_cost,
                                           per_kg, node_handling, node_pick)
                        # Most units first (full cover), then earliest, cheaper, lower index.
                        if (best_n < 0 or got > best_got
                                or (got == best_got and (day < best_day or (
                                    day == best_day and cost < best_cost - 1e-9)))):
                            best_n = n
                            best_got = got
                            best_day = day
                            best_cost = cost
                    if best_n >= 0:
                        _promise_supply(sku, best_n, best_got, sup_offsets, sup_node, sup_day,
                                        sup_qty, promised, shift[slot_of_line[i]])
                        backordered[i] = best_got
                        bo_node[i] = best_n
                        bo_day[i] = best_day
                        unfilled[i] -= best_got
        # Capacity back to the call's values for the next order (orders are independent).
        for e in range(n_touch):
            n = ent_node[e]
            cap_left[n] = max(0, node_daily_cap[n] - node_cap_used[n])

        # Outputs: shipments (entries merged per node, destination and fulfilment), records.
        if killed:
            n_ent = 0
        need_rec = n_l * 3 + n_ent
        if n_rec + need_rec > rec.shape[0] or n_shp + n_ent > shp_i.shape[0]:
            return ROUTE_OUT_OF_SPACE
        ship_money = 0.0
        handling_money = 0.0
        other = 0.0
        first_shp = n_shp
        ent_shp = sc_ent_shp
        shp_denom = sc_shp_denom
        for e in range(n_ent):
            found = -1
            for t in range(first_shp, n_shp):
                if (shp_i[t, S_NODE] == ent_node[e] and shp_i[t, S_DEST] == ent_dest[e]
                        and shp_i[t, S_FULFILLMENT] == ent_ful[e]):
                    found = t
            if found < 0:
                found = n_shp
                n_shp += 1
                shp_i[found, S_NODE] = ent_node[e]
                shp_i[found, S_DEST] = ent_dest[e]
                shp_i[found, S_FULFILLMENT] = ent_ful[e]
                shp_i[found, S_ZONE_IDX] = -1
                shp_i[found, S_TRANSIT] = 0
                shp_i[found, S_UNITS] = 0
                shp_i[found, S_OFFSET_DAYS] = 0
                shp_f[found, SF_DISTANCE] = 0.0
                shp_f[found, SF_WEIGHT] = 0.0
                shp_denom[found - first_shp] = ent_denom[e]
            ent_shp[e] = found
            sku = ln_sku[l0 + ent_line[e]]
            shp_i[found, S_UNITS] += ent_qty[e]
            shp_f[found, SF_WEIGHT] += sku_weight[sku] * ent_qty[e]
            if sku_kind[sku] == SKU_MADE_TO_ORDER:
                shp_i[found, S_OFFSET_DAYS] = node_processing[ent_node[e]]
        n_split = 0
        for t in range(first_shp, n_shp):
            n = shp_i[t, S_NODE]
            units = shp_i[t, S_UNITS]
            ful = shp_i[t, S_FULFILLMENT]
            handling = node_handling[n] + node_pick[n] * units
            ship = 0.0
            if ful == F_SHIP or ful == F_STS:
                dest = shp_i[t, S_DEST]
                if dest == DEST_CUSTOMER:
                    dist = cust_km_v[n]
                    z = np.int64(cust_zone_v[n])
                else:
                    dist = store_dist[node_store_row[dest], n]
                    z = np.int64(store_zone[node_store_row[dest], n])
                ship = base_cost[level, z] + per_kg[level, z] * shp_f[t, SF_WEIGHT]
                shp_i[t, S_ZONE_IDX] = z
                shp_i[t, S_TRANSIT] = transit[level, z]
                shp_f[t, SF_DISTANCE] = dist
                other += (params[P_W_DISTANCE] * dist + params[P_W_PRIORITY] * node_priority[n]
                          + params[P_W_CAPACITY] * units / shp_denom[t - first_shp])
                # One shipment per shipped group is free; each further one pays the penalty.
                for t2 in range(first_shp, t):
                    if shp_i[t2, S_DEST] == dest and shp_i[t2, S_FULFILLMENT] == ful:
                        n_split += 1
                        break
            shp_f[t, SF_SHIP] = ship
            shp_f[t, SF_HANDLING] = handling
            ship_money += ship
            handling_money += handling
        for e in range(n_ent):
            n_rec = _add_record(rec, n_rec, l0 + ent_line[e], ent_node[e], ent_qty[e], R_NOW,
                                ent_shp[e])
        allocated = 0
        for e in range(n_ent):
            allocated += ent_qty[e]
        n_unfilled = 0
        n_backordered = 0
        for i in range(n_l):
            q_line = ln_qty[l0 + i]
            if killed:
                grp = ln_group[l0 + i]
                if grp == G_UNKNOWN_SHIPPED or grp == G_UNKNOWN_OTHER:
                    n_rec = _add_record(rec, n_rec, l0 + i, -1, q_line, R_UNFILLED, UNKNOWN_SKU)
                else:
                    rest = q_line
                    if policy == FILL_OR_KILL and unfilled[i] > 0:
                        n_rec = _add_record(rec, n_rec, l0 + i, -1, unfilled[i], R_UNFILLED,
                                            reason[i])
                        rest -= unfilled[i]
                    if rest > 0:
                        n_rec = _add_record(rec, n_rec, l0 + i, -1, rest, R_UNFILLED, POLICY)
                n_unfilled += q_line
                continue
            if backordered[i] > 0:
                n_rec = _add_record(rec, n_rec, l0 + i, bo_node[i], backordered[i], R_BACKORDER,
                                    bo_day[i])
                n_backordered += backordered[i]
            if unfilled[i] > 0:
                n_rec = _add_record(rec, n_rec, l0 + i, -1, unfilled[i], R_UNFILLED, reason[i])
                n_unfilled += unfilled[i]
        rec_off[o + 1] = n_rec
        shp_off[o + 1] = n_shp
        cost = out_f[o]
        cost[C_SHIP] = ship_money
        cost[C_HANDLING] = handling_money
        cost[C_SPLIT] = params[P_SPLIT] * n_split
        cost[C_UNFILLED] = unfilled_money * n_unfilled
        cost[C_OTHER] = other
        cost[C_TOTAL] = w_cost * (ship_money + handling_money + cost[C_SPLIT]
                                  + cost[C_UNFILLED]) + other
        if n_unfilled == 0 and n_backordered == 0:
            ord_status[o] = 1
        elif n_unfilled == 0:
            ord_status[o] = 3
        elif allocated + n_backordered > 0:
            ord_status[o] = 2
        else:
            ord_status[o] = 4
        ord_optimal[o] = 1 if all_optimal else 0
        if all_optimal:
            cost[C_LOWER_BOUND] = cost[C_TOTAL]
        elif killed:
            cost[C_LOWER_BOUND] = 0.0
        else:
            cost[C_LOWER_BOUND] = max(0.0, cost[C_TOTAL] - gap)
    return ROUTE_OK


ROUTE_STATE_SLOTS: tuple[tuple[str, type, int], ...] = (
    ("node_f", np.float64, 2), ("node_i", np.int64, 2), ("node_kind", np.int8, 1),
    ("node_enabled", np.uint8, 1), ("node_daily_cap", np.int64, 1),
    ("node_cap_used", np.int64, 1), ("sku_kind", np.int8, 1), ("sku_weight", np.float64, 1),
    ("sku_hazmat", np.uint8, 1), ("on_hand", np.int32, 3), ("reserved", np.int32, 2),
    ("stocked", np.uint64, 2), ("sup_offsets", np.int64, 1), ("sup_node", np.int32, 1),
    ("sup_day", np.int32, 1), ("sup_qty", np.int64, 1), ("postal_dist", np.float64, 2),
    ("postal_zone", np.int8, 2), ("store_dist", np.float64, 2), ("store_zone", np.int8, 2),
    ("car_f", np.float64, 2), ("transit", np.int64, 2), ("promise", np.int64, 1),
)
"""`route_orders`' state arguments, in its order, as the slots of `route_by_table`'s address
table (`_numba.address_table`); a longer table (the wire path's) starts with these."""


@kernel(i64, i64_1, i64,
        i64_1, i64_2, f64_2, f64_2, u8_2, i64_2, i64_2,
        i64, i64,
        i64_2, i64_2, f64_2, i64_2, f64_2)
def route_by_table(state, digital_node,
                   ord_line_off, ord_i, ord_f, ord_params, ord_kind_allowed, ord_safety, lines,
                   exact_max_skus, budget,
                   rec, shp_i, shp_f, out_i, out_f):
    """`route_orders` with its state arrays given as one address table (`ROUTE_STATE_SLOTS`):
    numba's dispatcher pays per argument, and 23 arrays were a twentieth of a one-order call
    (measured 20.3 -> 19.3 us)."""
    return route_orders(
        view2(state, 0, np.float64), view2(state, 1, np.int64), view1(state, 2, np.int8),
        view1(state, 3, np.uint8), view1(state, 4, np.int64), view1(state, 5, np.int64),
        view1(state, 6, np.int8), view1(state, 7, np.float64), view1(state, 8, np.uint8),
        view3(state, 9, np.int32), view2(state, 10, np.int32), view2(state, 11, np.uint64),
        view1(state, 12, np.int64), view1(state, 13, np.int32), view1(state, 14, np.int32),
        view1(state, 15, np.int64), view2(state, 16, np.float64), view2(state, 17, np.int8),
        view2(state, 18, np.float64), view2(state, 19, np.int8), view2(state, 20, np.float64),
        view2(state, 21, np.int64), view1(state, 22, np.int64), digital_node,
        ord_line_off, ord_i, ord_f, ord_params, ord_kind_allowed, ord_safety, lines,
        exact_max_skus, budget, rec, shp_i, shp_f, out_i, out_f)
