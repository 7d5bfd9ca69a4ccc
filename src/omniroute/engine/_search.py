# Kernels are typed by their numba signatures (and helpers by their callers), not annotations.
# mypy: disable-error-code="no-untyped-def"
# Kernels take arrays and scalars positionally (STYLE habit 2); numba compiles `a == X or a == Y`
# chains to plain branches, so they stay as written.
# ruff: noqa: PLR0917, PLR1714, SIM110
"""The allocation search for one shipped group, on an abstract candidate problem.

Given candidate nodes c (already eligible for the group), SKU slots s with demand d[s], usable
units a[s, c] (ATP capped at demand), per-unit cost cvar[s, c], a per-node fixed cost F[c]
(everything a used node pays once), node capacity capc[c], the per-unit unfilled penalty Pu and
the per-extra-shipment penalty Sp, choose a node set S with |S| <= K minimising

    sum_{c in S} F[c] + Sp * (|S| - 1) + T(S)

where T(S) is the min-cost transportation of demand onto S under a and capc with unfilled units
at Pu (all costs already multiplied by their ruleset weights). This is the fixed-charge form of
the objective in docs/routing.md.

- T(S) is solved exactly: separably per SKU when no capacity of S can bind, else by a small
  min-cost flow (successive shortest paths, Bellman-Ford on the residual graph).
- Exact search (small orders): every single node first, then depth-first search over node sets
  in order of increasing F with a bound that is monotone along each level (so a failing bound
  ends the whole level), identical-node symmetry breaking, and dominance reduction: a node
  dominated (F, every cvar, every a and capacity no better) by at least K kept nodes can be
  dropped, since any plan using it can swap it for a dominator the plan does not use.
- Heuristic (always run first when a pair could beat the best single node, as the exact
  search's incumbent; the answer for large orders or when the exact search exceeds its
  budget): greedy addition, then drop, 1-swap and ruin-and-recreate (drop two, refill) moves,
  from each of the best few single nodes. Its lower bound is the capacity-free relaxation
  min over m of (m smallest F) + Sp (m - 1) + best-case T for m nodes.
"""

from __future__ import annotations

import numpy as np

from omniroute.engine._numba import (
    f64,
    f64_1,
    f64_2,
    helper,
    i64,
    i64_1,
    i64_2,
    inline,
    kernel,
    lowest_set_bit,
    void,
)

EPS = 1e-9
# Exact search is attempted for groups with at most this many distinct SKUs...
EXACT_MAX_SKUS = 12
# ...and stops (falling back to the heuristic's answer and bound) after this many node sets.
EXACT_BUDGET_SETS = 20000
# Dominance checks compare a node with at most this many kept nodes (a bound on the work; fewer
# comparisons only keep more nodes, never drop a needed one).
DOMINANCE_WINDOW = 64
# The heuristic starts from each of this many best single nodes.
HEURISTIC_STARTS = 6
# Single-SKU candidates are reduced per unit count x up to this many units (see
# `_prune_single_sku`); a SKU with more demand keeps all of its single-SKU candidates.
PRUNE_MAX_UNITS = 16
# Candidate lists up to this long are sorted by insertion (see `_sort_by_key`).
INSERTION_SORT_MAX = 96
INF = np.inf


@helper
def _transport(sel, m, d, a, cvar, capc, pu, x):
    """Min cost of serving demand d from candidate nodes sel[:m]; x[s, j] gets the units."""
    k = d.shape[0]
    for s in range(k):
        for j in range(m):
            x[s, j] = 0
    binding = False
    for j in range(m):
        c = sel[j]
        tot = 0
        for s in range(k):
            tot += a[s, c]
        if tot > capc[c]:
            binding = True
            break
    cost = 0.0
    if not binding:
        # No capacity can bind: each SKU independently takes its cheapest units first.
        for s in range(k):
            rem = d[s]
            while rem > 0:
                best_j = -1
                best_c = pu
                for j in range(m):
                    c = sel[j]
                    if x[s, j] == 0 and a[s, c] > 0 and cvar[s, c] < best_c:
                        best_c = cvar[s, c]
                        best_j = j
                if best_j < 0:
                    break
                q = min(rem, a[s, sel[best_j]])
                x[s, best_j] = q
                cost += q * best_c
                rem -= q
            cost += rem * pu
        return cost
    return _min_cost_flow(sel, m, d, a, cvar, capc, pu, x)


@inline
def _add_arc(eu, ev, res, ecost, n_e, u, v, cap, cost):
    """Arc u->v at index n_e and its residual twin at n_e + 1 (so `e ^ 1` is the twin)."""
    eu[n_e] = u
    ev[n_e] = v
    res[n_e] = cap
    ecost[n_e] = cost
    eu[n_e + 1] = v
    ev[n_e + 1] = u
    res[n_e + 1] = 0
    ecost[n_e + 1] = -cost
    return n_e + 2


@helper
def _min_cost_flow(sel, m, d, a, cvar, capc, pu, x):
    """Successive shortest paths; vertices: 0 source, 1..k SKUs, k+1..k+m nodes, k+m+1 sink."""
    k = d.shape[0]
    n_v = k + m + 2
    sink = n_v - 1
    max_e = 2 * (k + k * m + k + m)
    eu = np.empty(max_e, np.int64)
    ev = np.empty(max_e, np.int64)
    res = np.empty(max_e, np.int64)
    ecost = np.empty(max_e, np.float64)
    n_e = 0
    for s in range(k):
        n_e = _add_arc(eu, ev, res, ecost, n_e, 0, 1 + s, d[s], 0.0)
        # Unfilled units go straight to the sink at the penalty.
        n_e = _add_arc(eu, ev, res, ecost, n_e, 1 + s, sink, d[s], pu)
    first_arc = n_e
    for s in range(k):
        for j in range(m):
            c = sel[j]
            n_e = _add_arc(eu, ev, res, ecost, n_e, 1 + s, 1 + k + j,
                           a[s, c] if cvar[s, c] < pu else 0, cvar[s, c])
    for j in range(m):
        n_e = _add_arc(eu, ev, res, ecost, n_e, 1 + k + j, sink, capc[sel[j]], 0.0)
    total = 0
    for s in range(k):
        total += d[s]
    dist = np.empty(n_v, np.float64)
    pred = np.empty(n_v, np.int64)
    sent = 0
    while sent < total:
        for v in range(n_v):
            dist[v] = INF
            pred[v] = -1
        dist[0] = 0.0
        for _ in range(n_v):
            changed = False
            for e in range(n_e):
                if res[e] > 0:
                    u = eu[e]
                    if dist[u] < INF:
                        nd = dist[u] + ecost[e]
                        if nd < dist[ev[e]] - 1e-12:
                            dist[ev[e]] = nd
                            pred[ev[e]] = e
                            changed = True
            if not changed:
                break
        if pred[sink] < 0:
            break
        push = total - sent
        v = sink
        while v != 0:
            e = pred[v]
            push = min(push, res[e])
            v = eu[e]
        v = sink
        while v != 0:
            e = pred[v]
            res[e] -= push
            res[e ^ 1] += push
            v = eu[e]
        sent += push
    # Recompute the cost from the flows: summing path lengths would accumulate rounding.
    cost = 0.0
    e = first_arc
    for s in range(k):
        left = d[s]
        for j in range(m):
            x[s, j] = res[e + 1]
            cost += x[s, j] * cvar[s, sel[j]]
            left -= x[s, j]
            e += 2
        cost += left * pu
    return cost


@inline
def _single_cost(c, d, a, cvar, capc, pu, order_buf):
    """T({c}): capacity binds on one node, so the cheapest units go first."""
    k = d.shape[0]
    total_d = 0
    tot = 0
    for s in range(k):
        total_d += d[s]
        tot += a[s, c]
    if tot == 0:
        return INF
    cost = 0.0
    if tot <= capc[c]:
        for s in range(k):
            cost += a[s, c] * cvar[s, c]
        return cost + (total_d - tot) * pu
    n = 0
    for s in range(k):
        if a[s, c] > 0:
            order_buf[n] = s
            n += 1
    for i in range(1, n):  # insertion sort by unit cost; n is the group's SKU count
        v = order_buf[i]
        j = i - 1
        while j >= 0 and cvar[order_buf[j], c] > cvar[v, c]:
            order_buf[j + 1] = order_buf[j]
            j -= 1
        order_buf[j + 1] = v
    room = capc[c]
    filled = 0
    for i in range(n):
        s = order_buf[i]
        q = min(a[s, c], room)
        cost += q * cvar[s, c]
        room -= q
        filled += q
        if room == 0:
            break
    return cost + (total_d - filled) * pu


@inline
def _set_bound(k, d, sa, sc, row, sufmax, sufmin, suffix, count, pu):
    """Lower bound on T of any set holding S (aggregates sa[row], sc[row]) plus `count` nodes
    of suffix `suffix` (`sufmax`, `sufmin`).

    Takes whole tables and row numbers: a row view per call is an atomic reference count
    each way, and branch and bound calls this twice per node it visits."""
    t = 0.0
    for s in range(k):
        fill = min(d[s], sa[row, s] + count * sufmax[suffix, s])
        cmin = min(sc[row, s], sufmin[suffix, s], pu)
        t += fill * cmin + (d[s] - fill) * pu
    return t


@inline
def _in_set(c, sel, m):
    for j in range(m):
        if sel[j] == c:
            return True
    return False


@helper
def _local_search(sel, m_cur, cur, kept, d, a, cvar, fixed, capc, pu, sp, max_nodes, t_glob,
                  x, deep):
    """Improve the set sel[:m_cur] (cost cur) by additions, drops and swaps; (cost, size).

    `deep` adds ruin-and-recreate moves (drop two nodes, refill greedily); worth it only when no
    exact search follows to finish the job.
    """
    nk = kept.shape[0]
    cur_f = 0.0
    for j in range(m_cur):
        cur_f += fixed[sel[j]]
    improved = True
    passes = 0
    while improved and passes < 8:
        improved = False
        passes += 1
        # Best addition (candidates by increasing F: stop once F alone rules a node out).
        if m_cur < max_nodes:
            add = -1
            add_cost = cur
            for i in range(nk):
                c = kept[i]
                if _in_set(c, sel, m_cur):
                    continue
                base = cur_f + fixed[c] + sp * m_cur
                if base + t_glob >= add_cost - EPS:
                    break
                sel[m_cur] = c
                cost = base + _transport(sel, m_cur + 1, d, a, cvar, capc, pu, x)
                if cost < add_cost - EPS:
                    add_cost = cost
                    add = c
            if add >= 0:
                sel[m_cur] = add
                m_cur += 1
                cur = add_cost
                cur_f += fixed[add]
                improved = True
                continue
        # Drops.
        if m_cur > 1:
            for pos in range(m_cur):
                old = sel[pos]
                sel[pos] = sel[m_cur - 1]
                sel[m_cur - 1] = old
                cost = cur_f - fixed[old] + sp * (m_cur - 2) + _transport(
                    sel, m_cur - 1, d, a, cvar, capc, pu, x)
                if cost < cur - EPS:
                    cur = cost
                    cur_f -= fixed[old]
                    m_cur -= 1
                    improved = True
                    break
                sel[m_cur - 1] = sel[pos]
                sel[pos] = old
            if improved:
                continue
        # Best swap.
        best_pos = -1
        best_c = -1
        best_cost = cur
        for pos in range(m_cur):
            old = sel[pos]
            for i in range(nk):
                c = kept[i]
                if _in_set(c, sel, m_cur):
                    continue
                base = cur_f - fixed[old] + fixed[c] + sp * (m_cur - 1)
                if base + t_glob >= best_cost - EPS:
                    break
                sel[pos] = c
                cost = base + _transport(sel, m_cur, d, a, cvar, capc, pu, x)
                if cost < best_cost - EPS:
                    best_cost = cost
                    best_pos = pos
                    best_c = c
            sel[pos] = old
        if best_pos >= 0:
            cur_f += fixed[best_c] - fixed[sel[best_pos]]
            sel[best_pos] = best_c
            cur = best_cost
            improved = True
            continue
        # Ruin and recreate: drop two nodes, refill greedily (a 2-swap in disguise; the moves
        # above cannot trade two nodes that each cover half of what two others cover).
        if deep and m_cur >= 2:
            trial = np.empty(max_nodes, np.int64)
            for p1 in range(m_cur):
                for p2 in range(p1 + 1, m_cur):
                    mt = 0
                    tf = 0.0
                    for j in range(m_cur):
                        if j != p1 and j != p2:
                            trial[mt] = sel[j]
                            tf += fixed[sel[j]]
                            mt += 1
                    tcost = tf + sp * max(mt - 1, 0) + (_transport(trial, mt, d, a, cvar, capc,
                                                                   pu, x) if mt > 0 else
                                                        _empty_cost(d, pu))
                    while mt < max_nodes:
                        add = -1
                        add_cost = tcost
                        for i in range(nk):
                            c = kept[i]
                            if c == sel[p1] or c == sel[p2] or _in_set(c, trial, mt):
                                continue
                            base = tf + fixed[c] + sp * mt
                            if base + t_glob >= add_cost - EPS:
                                break
                            trial[mt] = c
                            cost = base + _transport(trial, mt + 1, d, a, cvar, capc, pu, x)
                            if cost < add_cost - EPS:
                                add_cost = cost
                                add = c
                        if add < 0:
                            break
                        trial[mt] = add
                        tf += fixed[add]
                        mt += 1
                        tcost = add_cost
                    if tcost < cur - EPS:
                        for j in range(mt):
                            sel[j] = trial[j]
                        m_cur = mt
                        cur = tcost
                        cur_f = tf
                        improved = True
                        break
                if improved:
                    break
    return cur, m_cur


@inline
def _empty_cost(d, pu):
    total = 0
    for s in range(d.shape[0]):
        total += d[s]
    return total * pu



@inline
def _sort_by_key(idx, n, keys, buf):
    """Stable in-place sort of idx[:n] by keys[idx[i]] (ties keep their order); buf[:n] is
    scratch for the keys.

    Insertion sort: after the single-SKU reduction a group keeps a few dozen candidates,
    already in index order and mostly in key order (DCs first); `np.argsort(kind="mergesort")`
    measured a tenth of the routing time here, mostly its allocations and generic merging.
    The keys move with the indices in `buf`, so the inner loop reads no key through an index.
    """
    for i in range(n):
        buf[i] = keys[idx[i]]
    for i in range(1, n):
        v = idx[i]
        kv = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > kv:
            idx[j + 1] = idx[j]
            buf[j + 1] = buf[j]
            j -= 1
        idx[j + 1] = v
        buf[j + 1] = kv


@inline
def _clear_single_ranks(d, kk, top_c, top_v):
    """Empty the per-(SKU, unit count) lists of `_rank_single` (kk = max_nodes entries each):
    no candidate, at an infinite cost, so any real cost goes before an empty entry."""
    for s in range(d.shape[0]):
        for t in range(min(d[s], PRUNE_MAX_UNITS) * kk):
            top_c[s, t] = -1
            top_v[s, t] = INF


@inline
def _rank_single(top_c, top_v, s, c, x_max, f, cv, kk):
    """Offer candidate c's units of SKU s to the lists of the `kk` cheapest for each unit
    count x < x_max (cost f + (x + 1) * cv). Candidates must be offered in candidate order:
    an equal cost keeps the earlier one."""
    for x in range(x_max):
        v = f + (x + 1) * cv
        last = x * kk + kk - 1
        # Strictly better than the list's last entry (an empty one is infinite); then shift
        # it into place.
        if v >= top_v[s, last]:
            continue
        pos = last
        while pos > x * kk and v < top_v[s, pos - 1]:
            top_c[s, pos] = top_c[s, pos - 1]
            top_v[s, pos] = top_v[s, pos - 1]
            pos -= 1
        top_c[s, pos] = c
        top_v[s, pos] = v


@inline
def _sparse_single_node(seen, n_seen, node_tot, node_var, node_fixed, cap_left, suma, cmin, d,
                        total_d, pu, sp, max_nodes):
    """The node whose one shipment is provably the group's optimum, from the group's sparse
    pairs alone; -1 when proving it needs `_solve` (or no single node beats shipping nothing).

    `seen[:n_seen]` are the nodes with at least one usable pair, `node_tot[n]` / `node_var[n]`
    their units and unit costs summed over the group's SKUs (the column sums `_solve` forms),
    `suma[s]` / `cmin[s]` each SKU's units and cheapest unit cost over all pairs. The test is
    `_solve`'s single-node test, on every pair rather than the single-SKU-reduced ones: the
    reduction never removes a cheapest single node, and over more candidates the pair bound
    (`f1 + f2 + sp + t_glob`) can only be lower, so when this proves a single node optimal the
    dense search would too. About half of the 5-line benchmark orders end here, before the
    reduction, the dense arrays and the search (about 10 us each).

    Ties: the cheapest node, lowest index first. The dense search scans in index order and
    keeps the first node more than EPS cheaper than the best so far, so within EPS of a tie
    the two may name different (equally cheap) nodes.
    """
    best = total_d * pu
    best_n = -1
    f1 = INF
    f2 = INF
    for i in range(n_seen):
        n = seen[i]
        f = node_fixed[n]
        if f < f1:
            f2 = f1
            f1 = f
        elif f < f2:
            f2 = f
        tot = node_tot[n]
        if tot > min(cap_left[n], total_d):
            return -1  # capacity binds: the node's cost needs `_single_cost`'s cheapest-first
        cost = f + node_var[n] + (total_d - tot) * pu
        if cost < best or (cost == best and best_n >= 0 and n < best_n):
            best = cost
            best_n = n
    if best_n < 0 or best >= total_d * pu - EPS:
        return -1
    if max_nodes >= 2 and n_seen >= 2:
        t_glob = 0.0
        for s in range(d.shape[0]):
            fill = min(d[s], suma[s])
            t_glob += fill * min(cmin[s], pu) + (d[s] - fill) * pu
        if f1 + f2 + sp + t_glob < best - EPS:
            return -1  # some pair might be cheaper
    return best_n


@inline
def _prune_single_sku(d, a, cvar, fixed, capc, max_nodes, n_sup, sup_sum, top_c, top_v):
    """Zero the column of every candidate that ships one SKU and can never be needed.

    A candidate c shipping only SKU s serves some x units of it in any plan, at
    fixed[c] + x * cvar[s, c]. If `max_nodes` other candidates (shipping s, and perhaps other
    SKUs too) each have at least x units of s and capacity x and cost no more for x units of s
    alone, one of them is outside the plan (which has at most max_nodes - 1 other nodes) and
    can take c's place, shipping those x units, at no extra cost. So every candidate is ranked
    for each SKU it ships, and a single-SKU candidate is kept only when it is among the
    `max_nodes` cheapest for some x (ties: lower index; `_rank_single`); the optimum is
    unchanged, and the candidate that takes a dropped one's place is itself kept (it is in
    that list). Stores in a large network mostly stock one SKU of an order, so this is most of
    the candidates, and it is linear where dominance is quadratic. Ranking the multi-SKU
    candidates too (DCs, cheap per unit) drops most stores: on the 5-line benchmark it took
    the router's kernel from 19.96 to 18.74 us per order. The router applies the same
    reduction to its sparse candidate pairs before it builds these dense arrays; here it
    makes `_solve` exact on any input.

    `n_sup[c]` is the number of SKUs c can ship and `sup_sum[c]` the sum of their slots (so
    the slot itself when there is one); pruned candidates get n_sup 0.
    """
    nc = a.shape[1]
    kk = max_nodes
    _clear_single_ranks(d, kk, top_c, top_v)
    for c in range(nc):
        if n_sup[c] == 0:
            continue
        for s in range(d.shape[0]):
            if a[s, c] > 0 and d[s] <= PRUNE_MAX_UNITS:
                _rank_single(top_c, top_v, s, c, min(a[s, c], capc[c], d[s]), fixed[c],
                             cvar[s, c], kk)
    # Kept single-SKU candidates are marked by a negative count, then everything else with one
    # prunable SKU is dropped.
    for s in range(d.shape[0]):
        for t in range(min(d[s], PRUNE_MAX_UNITS) * kk):
            c = top_c[s, t]
            if c >= 0:
                n_sup[c] = -1
    for c in range(nc):
        if n_sup[c] == 1 and d[sup_sum[c]] <= PRUNE_MAX_UNITS:
            a[sup_sum[c], c] = 0
            n_sup[c] = 0
        elif n_sup[c] == -1:
            n_sup[c] = 1


@helper
def _solve(d, a, cvar, fixed, capc, pu, sp, max_nodes, exact_max_skus, budget, reduced,
           out_sel, out_x, info):
    """Solve one group; out_sel[:m] candidate indices, out_x[s, j]; info = m, cost, lb, optimal.

    `reduced` says the caller already applied the single-SKU reduction (`_prune_single_sku`)
    to these candidates, as the router does on its sparse pairs; it is idempotent, so a second
    pass would prune nothing more.

    `a` is overwritten (units capped at demand, useless and pruned candidates zeroed): the
    router builds it per group, and a private copy was one more large allocation per group.
    """
    k, nc = a.shape
    total_d = 0
    for s in range(k):
        total_d += d[s]
    # Working arrays are carved from one block per dtype: two dozen small allocations (each
    # a malloc, a reference-counted header and a free) measured about 2 us of a group.
    mn1 = max(max_nodes, 1)
    n_rank = PRUNE_MAX_UNITS * mn1
    wi = np.empty(4 * nc + 5 * k + 2 * mn1 + HEURISTIC_STARTS + 2 + k * (n_rank + mn1),
                  np.int64)
    wf = np.empty(2 * nc + k + k * n_rank, np.float64)
    n_sup = wi[0:nc]
    sup_sum = wi[nc:2 * nc]
    cand = wi[2 * nc:3 * nc]
    kept = wi[3 * nc:4 * nc]
    at = 4 * nc
    order_buf = wi[at:at + k + 1]
    suma = wi[at + k + 1:at + 2 * k + 1]
    maxa = wi[at + 2 * k + 1:at + 3 * k + 1]
    # Bit w of win_ships[s]: the w-th kept node of the dominance window ships SKU s.
    win_ships = wi[at + 3 * k + 1:at + 4 * k + 1]
    ci_sku = wi[at + 4 * k + 1:at + 5 * k + 1]
    at += 5 * k + 1
    best_sel = wi[at:at + mn1]
    sel = wi[at + mn1:at + 2 * mn1]
    starts = wi[at + 2 * mn1:at + 2 * mn1 + HEURISTIC_STARTS + 1]
    at += 2 * mn1 + HEURISTIC_STARTS + 1
    top_c = wi[at:at + k * n_rank].reshape((k, n_rank))
    at += k * n_rank
    x = wi[at:at + k * mn1].reshape((k, mn1))
    single_cost = wf[0:nc]
    cmin = wf[nc:nc + k]
    top_v = wf[nc + k:nc + k + k * n_rank].reshape((k, n_rank))
    sort_keys = wf[nc + k + k * n_rank:2 * nc + k + k * n_rank]
    # Rows outer, candidates inner and branch-free: this loop vectorises (a per-candidate
    # scan of its column with an early exit measured 2 us a group in mispredicted branches).
    n_sup[:] = 0
    sup_sum[:] = 0
    for s in range(k):
        ds = d[s]
        for c in range(nc):
            q = min(a[s, c], ds) if cvar[s, c] < pu else 0
            a[s, c] = q
            has = 1 if q > 0 else 0
            n_sup[c] += has
            sup_sum[c] += s * has
    if max_nodes >= 1 and not reduced:
        _prune_single_sku(d, a, cvar, fixed, capc, max_nodes, n_sup, sup_sum, top_c, top_v)
    best = total_d * pu
    best_m = 0
    # Single nodes first: the exact answer whenever one node covers the group cheaply.
    f1 = INF
    f2 = INF
    n_useful = 0
    for c in range(nc):
        if n_sup[c] == 0:  # useless: ships nothing the group needs
            continue
        n_useful += 1
        if fixed[c] < f1:
            f2 = f1
            f1 = fixed[c]
        elif fixed[c] < f2:
            f2 = fixed[c]
        # T({c}) written out (see _single_cost): array-taking helpers called per candidate
        # cost more in reference counting than this whole loop body.
        tot = 0
        var = 0.0
        for s in range(k):
            tot += a[s, c]
            var += a[s, c] * cvar[s, c]
        if tot <= capc[c]:
            cost = fixed[c] + var + (total_d - tot) * pu
        else:
            cost = fixed[c] + _single_cost(c, d, a, cvar, capc, pu, order_buf)
        if cost < best - EPS:
            best = cost
            best_m = 1
            best_sel[0] = c
    # Capacity-free best case per SKU over all candidates.
    suma[:] = 0
    maxa[:] = 0
    cmin[:] = INF
    # Branch-free (a is never negative): whether a candidate ships a SKU follows the data, and
    # as a branch it was mispredicted for about every other cell.
    for s in range(k):
        for c in range(nc):
            q = a[s, c]
            suma[s] += q
            maxa[s] = max(maxa[s], q)
            cmin[s] = min(cmin[s], cvar[s, c] if q > 0 else INF)
    t_glob = 0.0
    for s in range(k):
        fill = min(d[s], suma[s])
        t_glob += fill * min(cmin[s], pu) + (d[s] - fill) * pu
    optimal = True
    lower = best
    if max_nodes >= 2 and n_useful >= 2 and f1 + f2 + sp + t_glob < best - EPS:
        # Some pair might beat the best single node: reduce, then search. A set of two or more
        # nodes holding c costs at least fixed[c], the cheapest other fixed cost, one split
        # penalty and t_glob; a candidate for which that is no better than the best single
        # node is in no set the search could accept, so it is left out (of the sort, the
        # dominance test and the search).
        n = 0
        for c in range(nc):
            f_other = f2 if fixed[c] <= f1 else f1
            if n_sup[c] > 0 and fixed[c] + f_other + sp + t_glob < best - EPS:
                cand[n] = c
                n += 1
        if n <= INSERTION_SORT_MAX:
            _sort_by_key(cand, n, fixed, sort_keys)
        else:  # quadratic insertion would cost more than the generic sort's allocations
            keys = np.empty(n, np.float64)
            for i in range(n):
                keys[i] = fixed[cand[i]]
            cand = cand[np.argsort(keys, kind="mergesort")]
        # Dominance: a candidate is dropped when `max_nodes` kept nodes dominate it (no dearer
        # fixed cost, no less capacity, and for every SKU it ships at least its units at no
        # higher unit cost). Only the first DOMINANCE_WINDOW kept nodes are compared with. A
        # dominator ships every SKU the candidate ships, so the AND of those SKUs' window
        # bitmaps (`win_ships`) names the only kept nodes worth comparing, usually none or a
        # few. (Walking every kept node that ships one of its SKUs, with a test per node,
        # took 6 us of a two-node group: those branches follow the data.)
        win_ships[:] = 0
        nk = 0
        for i in range(n):
            ci = cand[i]
            maybe = np.int64(-1)  # every window slot
            n_ci = np.int64(0)  # ci's SKUs, listed once for the comparisons
            for s in range(k):  # branch-free: which SKUs a candidate ships follows the data
                ships = np.int64(1) if a[s, ci] > 0 else np.int64(0)
                maybe &= win_ships[s] | (ships - 1)
                ci_sku[n_ci] = s
                n_ci += ships
            dominators = 0
            while maybe != 0 and dominators < max_nodes:
                cj = kept[lowest_set_bit(maybe)]
                maybe &= maybe - 1
                dom = fixed[cj] <= fixed[ci] and capc[cj] >= capc[ci]
                for t in range(n_ci):
                    s = ci_sku[t]
                    if a[s, cj] < a[s, ci] or cvar[s, cj] > cvar[s, ci]:
                        dom = False
                        break
                if dom:
                    dominators += 1
            if dominators < max_nodes:
                if nk < DOMINANCE_WINDOW:
                    for t in range(n_ci):
                        win_ships[ci_sku[t]] |= np.int64(1) << nk
                kept[nk] = ci
                nk += 1
        kept = kept[:nk]
        # Capacity-free lower bound over any set size (valid for the reduced problem, whose
        # optimum equals the full one).
        relax = total_d * pu
        sum_f = 0.0
        for m in range(1, min(max_nodes, nk) + 1):
            sum_f += fixed[kept[m - 1]]
            t_m = 0.0
            for s in range(k):
                fill = min(d[s], suma[s], m * maxa[s])
                t_m += fill * min(cmin[s], pu) + (d[s] - fill) * pu
            relax = min(relax, sum_f + sp * (m - 1) + t_m)
        # Greedy addition then swap / drop moves, from each of the best few single nodes: a
        # good incumbent to prune with (and the answer when the exact search cannot finish).
        for i in range(nk):
            c = kept[i]
            tot = 0
            var = 0.0
            for s in range(k):
                tot += a[s, c]
                var += a[s, c] * cvar[s, c]
            if tot <= capc[c]:
                single_cost[i] = fixed[c] + var + (total_d - tot) * pu
            else:
                single_cost[i] = fixed[c] + _single_cost(c, d, a, cvar, capc, pu, order_buf)
        # The best few single nodes (stable: ties by kept order), by repeated selection.
        n_top = min(HEURISTIC_STARTS, nk)
        for r in range(n_top):
            pick = -1
            for i in range(nk):
                taken = False
                for q in range(r):
                    if starts[q] == i:
                        taken = True
                        break
                if not taken and (pick < 0 or single_cost[i] < single_cost[pick]):
                    pick = i
            starts[r] = pick
        # With an exact search to follow, one shallow start is enough to seed its pruning; the
        # deep multi-start search runs when there is no exact search or it ran out of budget.
        exact = k <= exact_max_skus
        for deep in (False, True):
            if deep:
                n_starts = HEURISTIC_STARTS if deep else 1
                for r in range(min(n_starts, nk)):
                    sel[0] = kept[starts[r]]
                    cur, m_cur = _local_search(sel, 1, single_cost[starts[r]], kept, d, a, cvar,
                                               fixed, capc, pu, sp, max_nodes, t_glob, x, deep)
                    if cur < best - EPS:
                        best = cur
                        best_m = m_cur
                        for j in range(m_cur):
                            best_sel[j] = sel[j]
            lower = min(relax, best)
            optimal = best <= lower + EPS
            if optimal:
                break
            if not deep and exact:
                optimal, best, best_m = _branch_and_bound(
                    kept, d, a, cvar, fixed, capc, pu, sp, max_nodes, budget, best, best_m,
                    best_sel, x)
                if optimal:
                    lower = best
                    break
                # Out of budget: the deep heuristic (next pass) gives the answer and its bound.
    m = best_m
    for j in range(m):
        out_sel[j] = best_sel[j]
    best_t = _transport(best_sel, m, d, a, cvar, capc, pu, out_x) if m > 0 else total_d * pu
    info[0] = m
    info[1] = best_t + sp * max(m - 1, 0)
    for j in range(m):
        info[1] += fixed[best_sel[j]]
    info[2] = min(lower, info[1])
    info[3] = 1.0 if optimal else 0.0


@helper
def _branch_and_bound(kept, d, a, cvar, fixed, capc, pu, sp, max_nodes, budget, best, best_m,
                      best_sel, x):
    """Depth-first search over node sets of size 2..K; returns (complete, best, best_m)."""
    k = d.shape[0]
    nk = kept.shape[0]
    # One block per dtype, carved (as in `_solve`).
    mn1 = max_nodes + 1
    wi = np.zeros((nk + 1) * k + mn1 * k + 4 * mn1, np.int64)
    wf = np.full((nk + 1) * k + mn1 * k + mn1, INF)
    # Suffix aggregates in search order: the most a later node can add, the cheapest it can be.
    sufmax = wi[0:(nk + 1) * k].reshape((nk + 1, k))
    sufmin = wf[0:(nk + 1) * k].reshape((nk + 1, k))
    for i in range(nk - 1, -1, -1):
        c = kept[i]
        for s in range(k):
            sufmax[i, s] = max(sufmax[i + 1, s], a[s, c])
            sufmin[i, s] = min(sufmin[i + 1, s], cvar[s, c]) if a[s, c] > 0 else sufmin[i + 1, s]
    at = (nk + 1) * k
    sa = wi[at:at + mn1 * k].reshape((mn1, k))
    sc = wf[at:at + mn1 * k].reshape((mn1, k))
    sf = wf[at + mn1 * k:at + mn1 * k + mn1]
    sf[:] = 0.0
    at += mn1 * k
    pos = wi[at:at + mn1]
    start = wi[at + mn1:at + 2 * mn1]
    chosen = wi[at + 2 * mn1:at + 3 * mn1]
    sel = wi[at + 3 * mn1:at + 4 * mn1]
    evaluated = 0
    depth = 0
    while depth >= 0:
        i = pos[depth]
        if i >= nk:
            depth -= 1
            continue
        pos[depth] = i + 1
        if i > start[depth]:
            # Symmetry: a node identical to the previous one at this level adds nothing new.
            ci = kept[i]
            cp = kept[i - 1]
            same = fixed[ci] == fixed[cp] and capc[ci] == capc[cp]
            if same:
                for s in range(k):
                    if a[s, ci] != a[s, cp] or (a[s, ci] > 0 and cvar[s, ci] != cvar[s, cp]):
                        same = False
                        break
            if same:
                continue
        c = kept[i]
        bound = sf[depth] + fixed[c] + sp * depth + _set_bound(
            k, d, sa, sc, depth, sufmax, sufmin, i, max_nodes - depth, pu)
        if bound >= best - EPS:
            depth -= 1  # the bound only grows along a level: no later node here can do better
            continue
        chosen[depth] = c
        # The set's aggregates (row depth + 1 exists up to max_nodes): they extend it below and
        # bound it here.
        for s in range(k):
            sa[depth + 1, s] = sa[depth, s] + a[s, c]
            sc[depth + 1, s] = min(sc[depth, s], cvar[s, c]) if a[s, c] > 0 else sc[depth, s]
        if depth >= 1:
            evaluated += 1
            if evaluated > budget:
                return False, best, best_m
            # The set's own capacity-free bound (no suffix nodes) first: it rejects most sets
            # for a fraction of an exact transport.
            own = sf[depth] + fixed[c] + sp * depth + _set_bound(
                k, d, sa, sc, depth + 1, sufmax, sufmin, nk, 0, pu)
            cost = INF
            if own < best - EPS:
                for j in range(depth + 1):
                    sel[j] = chosen[j]
                cost = sf[depth] + fixed[c] + sp * depth + _transport(
                    sel, depth + 1, d, a, cvar, capc, pu, x)
            if cost < best - EPS:
                best = cost
                best_m = depth + 1
                for j in range(depth + 1):
                    best_sel[j] = chosen[j]
        if depth + 1 < max_nodes:
            sf[depth + 1] = sf[depth] + fixed[c]
            start[depth + 1] = i + 1
            pos[depth + 1] = i + 1
            depth += 1
    return True, best, best_m


@kernel(void, i64_1, i64_2, f64_2, f64_1, i64_1, f64, f64, i64, i64, i64, i64_1, i64_2,
        f64_1, serving=False)
def solve_group(d, a, cvar, fixed, capc, pu, sp, max_nodes, exact_max_skus, budget,
                out_sel, out_x, info):
    """Entry point of `_solve` for tests and tools (the router calls `_solve` itself, on
    candidates it has already reduced)."""
    _solve(d, a.copy(), cvar, fixed, capc, pu, sp, max_nodes, exact_max_skus, budget, False,
           out_sel, out_x, info)


@kernel(f64, i64_1, i64, i64_1, i64_2, f64_2, i64_1, f64, i64_2, serving=False)
def transport(sel, m, d, a, cvar, capc, pu, x):
    """Entry point of the exact inner problem T(S) for its slow-twin test."""
    return _transport(sel, m, d, a, cvar, capc, pu, x)
