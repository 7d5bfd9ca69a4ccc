"""`omniroute bench quality` on a small network: the report is written, omniroute costs no
more than any baseline, and is within 0.5% of the MILP optimum on the sample.

The engine compiles its kernels once here (about half a minute on a loaded 2-core machine);
everything else takes a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from oracle import oracle_route

from omniroute.config import load_network
from omniroute.sim import REFERENCE_DATE, write_demo_network
from omniroute.sim.baselines import BASELINES, PricingContext, price
from omniroute.sim.milp import optimum
from omniroute.sim.orders import order_stream
from omniroute.sim.quality import (
    MILP,
    OMNIROUTE,
    QualityReport,
    QualitySpec,
    run_quality,
    write_report,
)

SPEC = QualitySpec(nodes=60, skus=300, orders=200, milp_sample=20, seed=5)


@pytest.fixture(scope="module")
def network_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("quality-network")
    write_demo_network(directory, nodes=SPEC.nodes, skus=SPEC.skus, seed=SPEC.seed)
    return directory


@pytest.fixture(scope="module")
def report(network_dir: Path) -> QualityReport:
    return run_quality(SPEC, network_dir=network_dir, log=lambda _: None)


def test_report_files_are_written(report: QualityReport, tmp_path: Path) -> None:
    written = write_report(report, tmp_path / "results")
    names = {p.name for p in written}
    assert names == {"quality.md", "quality.json", "quality_methods.png", "quality_gaps.png"}
    for path in written:
        assert path.stat().st_size > 0
    assert (tmp_path / "results" / "quality_methods.png").read_bytes()[:4] == b"\x89PNG"
    text = (tmp_path / "results" / "quality.md").read_text()
    for name in (OMNIROUTE, MILP, *BASELINES):
        assert name in text


def test_omniroute_costs_no_more_than_any_baseline(report: QualityReport) -> None:
    assert set(report.day) == {OMNIROUTE, *BASELINES}
    assert report.day[OMNIROUTE].orders == SPEC.orders
    for stats in (report.day, report.sample):
        mine = stats[OMNIROUTE].total_cost
        for name in BASELINES:
            assert mine <= stats[name].total_cost + 1e-6, name


def test_omniroute_within_half_a_percent_of_the_optimum(report: QualityReport) -> None:
    assert report.sample[MILP].orders == SPEC.milp_sample
    assert report.sample_gap() <= 0.005
    # Nothing beats the optimum: that would mean a broken constraint somewhere.
    assert min(report.sample_gaps) >= -1e-9
    # The report prices omniroute's allocations exactly as the engine did.
    assert report.pricing_check_max_abs < 1e-6


def test_report_milp_agrees_with_the_test_oracle(network_dir: Path) -> None:
    """sim/milp.py shares its arrays with the baselines; tests/oracle.py recomputes
    eligibility on its own. Their optima must agree."""
    network = load_network(network_dir)
    context = PricingContext(network)
    for order in order_stream(network, 12, seed=99):
        problem = context.problem(order)
        mine = price(problem, optimum(problem)).cost
        theirs = oracle_route(network, order, today=REFERENCE_DATE).objective
        assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-9), order
