"""The per-order optimum of the customer group, as a MILP (scipy `milp`, HiGHS).

Needs scipy (the `dev` extra). The same formulation as the test oracle (tests/oracle.py, which
recomputes eligibility on its own and stays the tests' independent judge); this one solves an
`OrderProblem` (sim/baselines.py), so the quality report prices the optimum, the baselines and
omniroute from one set of arrays. The quality test checks the two agree.

    min  sum_n F_n y_n + sum_{l,n} c_{l,n} x_{l,n} + P sum_l u_l  - w.cost * split_penalty
    s.t. sum_n x_{l,n} + u_l = qty_l;  sum_{l of sku s} x_{l,n} <= ATP[s, n];
         sum_l x_{l,n} <= remaining[n];  x_{l,n} <= ub_{l,n} y_n;  1 <= sum_n y_n <= K

F_n prices a used node (base rate, handling, split penalty, distance and priority terms),
c_{l,n} a unit (weight rate, pick, capacity balance), P an unfilled unit. "Ship nothing" is
compared separately, because the `- split_penalty` constant holds only when a node ships.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from omniroute.sim.baselines import I64, OrderProblem, price


def optimum(problem: OrderProblem, *, time_limit_s: float = 60.0) -> I64:
    """An optimal allocation x[line, node] (ALLOW_SPLIT; strict policies are not covered)."""
    if problem.strict:
        raise ValueError("the quality MILP covers ALLOW_SPLIT orders only")
    p = problem
    empty = np.zeros(p.eligible.shape, dtype=np.int64)
    pairs = [(int(li), int(n)) for li, n in zip(*np.nonzero(p.eligible), strict=True)]
    if not pairs:
        return empty
    nodes = sorted({n for _, n in pairs})
    n_x, n_y, n_u = len(pairs), len(nodes), p.n_lines
    y_of = {n: n_x + k for k, n in enumerate(nodes)}
    c = np.zeros(n_x + n_y + n_u)
    upper = np.zeros(n_x + n_y + n_u)
    for j, (li, n) in enumerate(pairs):
        c[j] = (p.w_cost * (p.per_kg[n] * p.weight_kg[li] + p.pick[n])
                + p.w_balance / p.remaining[n])
        stock = p.qty[li] if p.mto[li] else min(p.qty[li], p.atp[p.line_sku[li]][n])
        upper[j] = min(stock, p.remaining[n])
    for n, j in y_of.items():
        c[j] = (p.w_cost * (p.base[n] + p.handling[n] + p.split_penalty)
                + p.w_distance * p.distance_km[n] + p.w_priority * p.priority[n])
        upper[j] = 1
    for li in range(n_u):
        c[n_x + n_y + li] = p.w_cost * p.unfilled_penalty
        upper[n_x + n_y + li] = p.qty[li]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add_row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        for col, val in entries:
            rows.append(len(lo))
            cols.append(col)
            vals.append(val)
        lo.append(low)
        hi.append(high)

    for li in range(n_u):
        add_row([*((j, 1.0) for j, (lj, _) in enumerate(pairs) if lj == li),
                 (n_x + n_y + li, 1.0)], float(p.qty[li]), float(p.qty[li]))
    for n in nodes:
        at_node = [j for j, (_, m) in enumerate(pairs) if m == n]
        add_row([(j, 1.0) for j in at_node], 0.0, float(p.remaining[n]))
        by_sku: dict[str, list[int]] = {}
        for j in at_node:
            li = pairs[j][0]
            if not p.mto[li]:
                by_sku.setdefault(p.line_sku[li], []).append(j)
        for sku, js in by_sku.items():
            add_row([(j, 1.0) for j in js], 0.0, float(p.atp[sku][n]))
        for j in at_node:
            add_row([(j, 1.0), (y_of[n], -upper[j])], -np.inf, 0.0)
    add_row([(j, 1.0) for j in y_of.values()], 1.0, float(p.max_shipments))
    matrix = coo_array((vals, (rows, cols)), shape=(len(lo), len(c))).tocsr()
    integrality = np.ones(len(c))
    integrality[n_x + n_y:] = 0  # u is integral whenever x is
    result = milp(c, integrality=integrality, bounds=Bounds(np.zeros(len(c)), upper),
                  constraints=LinearConstraint(matrix, np.array(lo), np.array(hi)),
                  options={"mip_rel_gap": 1e-10, "time_limit": time_limit_s,
                           "presolve": True})
    if result.x is None or result.status != 0:
        raise RuntimeError(f"MILP not solved to optimality: {result.message}")
    x = empty.copy()
    solution = np.rint(result.x[:n_x]).astype(np.int64)
    for j, (li, n) in enumerate(pairs):
        x[li, n] = solution[j]
    return x if price(p, x).cost <= price(p, empty).cost else empty
