"""`omniroute bench quality`: a day of orders routed by omniroute, by baselines, and optimally.

A generated network (`write_demo_network`), a realistic day of orders (`sim/orders.py`), and
four routings of every order, all priced with the one cost model of docs/routing.md
(`sim/baselines.price`): omniroute's in-process `Engine` and the three baselines of
`sim/baselines.py`; plus the per-order MILP optimum (`sim/milp.py`) on a sample.

Orders are routed independently against the start-of-day stock (dry runs, as RouteBatch
does): reservations, which would let one order's allocation deplete the next one's stock,
arrive with issue 5. Per-order routing against the same stock is also what makes "cost at
most every baseline's" a property of the router rather than of the order sequence.

The report is figures only (it asserts nothing): `quality.md`, `quality.json` and PNG plots in
the results directory, and rich tables on the terminal.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from omniroute.config import load_network
from omniroute.engine import Engine
from omniroute.sim.baselines import BASELINES, Outcome, PricingContext, price
from omniroute.sim.demo_network import REFERENCE_DATE, write_demo_network
from omniroute.sim.orders import order_stream

OMNIROUTE = "omniroute"
MILP = "MILP optimum"


@dataclasses.dataclass(frozen=True)
class QualitySpec:
    nodes: int = 300
    skus: int = 2_000
    orders: int = 5_000
    milp_sample: int = 200
    seed: int = 11
    """Seed of the network and of the order stream."""


@dataclasses.dataclass(frozen=True)
class MethodStats:
    """What one method did over a set of orders."""

    orders: int
    total_cost: float
    shipments_per_order: float
    """Mean shipments over orders that ship anything."""
    split_rate: float
    """Share of orders with two or more shipments."""
    mean_distance_km: float
    """Mean node-to-customer distance per shipment."""
    promise_hit_rate: float
    """Share of orders whose every unit ships now within its promise."""
    unfilled_units: int

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> MethodStats:
        shipping = [o.shipments for o in outcomes if o.shipments]
        distances = [d for o in outcomes for d in o.distance_km]
        return cls(
            orders=len(outcomes), total_cost=float(sum(o.cost for o in outcomes)),
            shipments_per_order=float(np.mean(shipping)) if shipping else 0.0,
            split_rate=float(np.mean([o.shipments > 1 for o in outcomes])),
            mean_distance_km=float(np.mean(distances)) if distances else 0.0,
            promise_hit_rate=float(np.mean([o.on_promise for o in outcomes])),
            unfilled_units=sum(o.unfilled_units for o in outcomes))


@dataclasses.dataclass(frozen=True)
class QualityReport:
    spec: QualitySpec
    day: dict[str, MethodStats]
    """Every order, by method (omniroute and baselines)."""
    sample: dict[str, MethodStats]
    """The MILP sample, by method (the MILP included)."""
    sample_gaps: list[float]
    """Per sampled order: omniroute cost / optimum - 1."""
    day_costs: dict[str, list[float]]
    """Per order cost by method (for the plots)."""
    pricing_check_max_abs: float
    """Largest |engine cost - our pricing of the engine's allocation| (should be ~0)."""
    timings_s: dict[str, float]

    def sample_gap(self) -> float:
        """Omniroute's total cost over the sample relative to the optimum's, minus 1."""
        opt = self.sample[MILP].total_cost
        return self.sample[OMNIROUTE].total_cost / opt - 1.0 if opt else 0.0


def run_quality(spec: QualitySpec, *, network_dir: Path | None = None,
                log: Callable[[str], None] = print) -> QualityReport:
    """Generate (or load) the network, route the day four ways and solve the sample."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="omniroute-quality-") as scratch:
        directory = network_dir
        if directory is None:
            directory = Path(scratch)
            log(f"generating a {spec.nodes}-node x {spec.skus}-SKU demo network")
            write_demo_network(directory, nodes=spec.nodes, skus=spec.skus, seed=spec.seed)
        network = load_network(directory)
    timings["network"] = time.perf_counter() - t0
    orders = order_stream(network, spec.orders, seed=spec.seed, prefix="day")
    t0 = time.perf_counter()
    engine = Engine.from_network(network, today=REFERENCE_DATE)
    log("compiling the routing kernels")
    engine.warm_up()
    timings["engine load + compile"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    decisions = []
    for start in range(0, len(orders), 1_000):
        decisions += engine.route_batch(orders[start:start + 1_000])
    timings["omniroute (in-process batch)"] = time.perf_counter() - t0
    context = PricingContext(network)
    outcomes: dict[str, list[Outcome]] = {OMNIROUTE: [], **{name: [] for name in BASELINES}}
    worst = 0.0
    t0 = time.perf_counter()
    problems = [context.problem(order) for order in orders]
    for problem, decision in zip(problems, decisions, strict=True):
        mine = price(problem, context.allocation_of(problem, decision))
        worst = max(worst, abs(mine.cost - decision.cost.total))
        outcomes[OMNIROUTE].append(dataclasses.replace(mine, cost=decision.cost.total))
        for name, method in BASELINES.items():
            outcomes[name].append(price(problem, method(problem)))
    timings["baselines"] = time.perf_counter() - t0
    sample_idx = _sample(len(orders), spec.milp_sample, spec.seed)
    log(f"solving the MILP optimum of {len(sample_idx)} sampled orders")
    t0 = time.perf_counter()
    from omniroute.sim.milp import optimum

    sample: dict[str, list[Outcome]] = {name: [outcomes[name][i] for i in sample_idx]
                                        for name in outcomes}
    sample[MILP] = [price(problems[i], optimum(problems[i])) for i in sample_idx]
    timings["MILP sample"] = time.perf_counter() - t0
    gaps = [mine.cost / best.cost - 1.0 if best.cost else 0.0
            for mine, best in zip(sample[OMNIROUTE], sample[MILP], strict=True)]
    return QualityReport(
        spec=spec, day={name: MethodStats.of(o) for name, o in outcomes.items()},
        sample={name: MethodStats.of(o) for name, o in sample.items()}, sample_gaps=gaps,
        day_costs={name: [o.cost for o in found] for name, found in outcomes.items()},
        pricing_check_max_abs=worst, timings_s=timings)


def _sample(n: int, k: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(n, size=min(n, k), replace=False))


# --- output ----------------------------------------------------------------------------------

_COLUMNS = ("method", "total cost", "vs omniroute", "shipments/order", "split rate",
            "mean km", "on promise", "unfilled units")


def _rows(stats: dict[str, MethodStats]) -> list[list[str]]:
    mine = stats[OMNIROUTE].total_cost
    return [[name, f"{s.total_cost:,.2f}",
             f"{(s.total_cost / mine - 1) * 100:+.2f}%" if mine else "",
             f"{s.shipments_per_order:.3f}", f"{s.split_rate:.1%}",
             f"{s.mean_distance_km:,.0f}", f"{s.promise_hit_rate:.1%}", f"{s.unfilled_units:,}"]
            for name, s in stats.items()]


def markdown(report: QualityReport, plots: Sequence[str]) -> str:
    spec = report.spec
    lines = [
        "## Routing quality",
        "",
        f"A day of {spec.orders:,} orders (1-5 lines, ALLOW_SPLIT) on a generated "
        f"{spec.nodes}-node x {spec.skus:,}-SKU network (seed {spec.seed}), each order routed "
        "against start-of-day stock, every method priced with the cost model of "
        "docs/routing.md. Lower cost is better; 'on promise' is the share of orders whose "
        "every unit ships now within its promise.",
        "",
        "### The day",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
        *("| " + " | ".join(row) + " |" for row in _rows(report.day)),
        "",
        f"### MILP sample ({report.sample[MILP].orders} orders)",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
        *("| " + " | ".join(row) + " |" for row in _rows(report.sample)),
        "",
        f"omniroute vs optimum on the sample: total {report.sample_gap():+.4%}; per order "
        f"mean {np.mean(report.sample_gaps):+.4%}, worst {max(report.sample_gaps):+.4%}, "
        f"{sum(g > 1e-9 for g in report.sample_gaps)} orders above the optimum. Pricing check "
        f"(engine cost vs this report's pricing of its allocation): max |diff| "
        f"{report.pricing_check_max_abs:.2e}.",
        "",
        "Timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings_s.items()) + ".",
        "",
        *(f"![{Path(p).stem}]({Path(p).name})" for p in plots),
        "",
    ]
    return "\n".join(lines)


def to_json(report: QualityReport) -> dict[str, Any]:
    return {
        "spec": dataclasses.asdict(report.spec),
        "day": {k: dataclasses.asdict(v) for k, v in report.day.items()},
        "sample": {k: dataclasses.asdict(v) for k, v in report.sample.items()},
        "sample_gap": report.sample_gap(),
        "sample_gap_mean": float(np.mean(report.sample_gaps)),
        "sample_gap_worst": float(max(report.sample_gaps)),
        "pricing_check_max_abs": report.pricing_check_max_abs,
        "timings_s": report.timings_s,
    }


def plot(report: QualityReport, out_dir: Path) -> list[Path]:
    """PNG plots (matplotlib, Agg): cost by method, shipments and distance, gaps to optimum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report.day)
    colors = ["#1f6feb", "#8b949e", "#d29922", "#a371f7", "#2da44e"]
    paths: list[Path] = []

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    stats = [report.day[n] for n in names]
    axes[0].bar(names, [s.total_cost for s in stats], color=colors[:len(names)])
    axes[0].set_title("total cost of the day (lower is better)")
    axes[1].bar(names, [s.shipments_per_order for s in stats], color=colors[:len(names)])
    axes[1].set_title("shipments per order")
    axes[2].bar(names, [s.mean_distance_km for s in stats], color=colors[:len(names)])
    axes[2].set_title("mean distance per shipment (km)")
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    paths.append(out_dir / "quality_methods.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    mine = np.array(report.day_costs[OMNIROUTE])
    for name, color in zip(names[1:], colors[1:], strict=False):
        extra = np.sort(np.array(report.day_costs[name]) - mine)
        axes[0].plot(np.linspace(0, 100, len(extra)), extra, label=name, color=color)
    axes[0].set_xlabel("percentile of orders")
    axes[0].set_ylabel("baseline cost - omniroute cost per order")
    axes[0].set_title("extra cost per order over omniroute")
    axes[0].legend()
    axes[1].hist(np.array(report.sample_gaps) * 100, bins=30, color=colors[0])
    axes[1].set_xlabel("omniroute cost above the MILP optimum (%)")
    axes[1].set_ylabel("orders")
    axes[1].set_title(f"gap to optimum, {len(report.sample_gaps)} sampled orders")
    fig.tight_layout()
    paths.append(out_dir / "quality_gaps.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def write_report(report: QualityReport, out_dir: Path) -> list[Path]:
    """quality.md, quality.json and the plots; returns every file written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = plot(report, out_dir)
    md = out_dir / "quality.md"
    md.write_text(markdown(report, [str(p) for p in plots]))
    js = out_dir / "quality.json"
    js.write_text(json.dumps(to_json(report), indent=2))
    return [md, js, *plots]


def print_report(report: QualityReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 160
    for title, stats in (("the day", report.day),
                         (f"MILP sample ({report.sample[MILP].orders} orders)", report.sample)):
        table = Table(title=f"routing quality: {title}", title_justify="left")
        for column in _COLUMNS:
            table.add_column(column, justify="left" if column == "method" else "right")
        for row in _rows(stats):
            table.add_row(*row)
        console.print(table)
    console.print(f"omniroute vs optimum on the sample: {report.sample_gap():+.4%} "
                  f"(worst order {max(report.sample_gaps):+.4%})")

