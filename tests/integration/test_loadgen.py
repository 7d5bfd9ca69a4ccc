"""`omniroute loadgen` against a real `serve --bench-echo`: closed and open loop, ~1 s each.

Checks the report's shape (percentiles, ratios to the Echo twin, no errors), not its figures:
figures come from `make bench` on a quiet machine.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from server_process import RunningServer, start_server, stop_server

from omniroute.api.loadgen import steal_seconds


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("serve-echo"), "--bench-echo")
    yield running
    stop_server(running)


def listed_services(target: str) -> set[str]:
    with grpc.insecure_channel(target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        return {s.name for reply in replies for s in reply.list_services_response.service}


def test_echo_is_listed_in_reflection_when_asked_for(echo_server: RunningServer) -> None:
    assert "omniroute.v1.Echo" in listed_services(echo_server.router)


def loadgen(server: RunningServer, out: Path, *args: str) -> dict[str, dict[str, object]]:
    completed = subprocess.run(
        [sys.executable, "-m", "omniroute", "loadgen", "--target", server.router,
         "--sync-target", server.sync, "--processes", "1", "--channels", "2",
         "--concurrency", "4", "--orders", "300", "--batch-size", "20", "--delta-batch", "50",
         "--json", str(out), *args],
        capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "p99.9 ms" in completed.stdout  # the table was printed
    return {phase["name"]: phase for phase in json.loads(out.read_text())["phases"]}


def assert_measured(phase: dict[str, object]) -> None:
    assert phase["errors"] == {}, phase
    steal = phase["steal_ms"]  # this suite runs on Linux, which reports it
    assert isinstance(steal, float)
    assert steal >= 0
    assert isinstance(phase["ok_calls"], int)
    assert phase["ok_calls"] > 0
    for p in ("p50", "p90", "p99", "p99.9"):
        value = phase[f"{p}_ms"]
        assert isinstance(value, float), (p, phase)
        assert math.isfinite(value), (p, phase)
        assert value > 0, (p, phase)


def test_closed_then_open_loop_route_with_echo_ratios(echo_server: RunningServer,
                                                      tmp_path: Path) -> None:
    phases = loadgen(echo_server, tmp_path / "route.json", "--rpc", "route", "--mode", "both",
                     "--duration", "1")
    assert set(phases) == {"echo (route closed)", "route closed", "echo (route open)",
                           "route open"}
    for phase in phases.values():
        assert_measured(phase)
    for name in ("route closed", "route open"):
        ratio = phases[name]["throughput_ratio"]
        assert isinstance(ratio, float)
        assert ratio > 0
        assert isinstance(phases[name]["p99_ratio"], float)
    # Open loop runs at half the closed-loop rate, and keeps it (within scheduling slack).
    closed = phases["route closed"]["calls_per_s"]
    opened = phases["route open"]
    assert isinstance(closed, float)
    assert isinstance(opened["rate"], float)
    assert opened["rate"] == pytest.approx(closed / 2)
    assert opened["calls_per_s"] == pytest.approx(opened["rate"], rel=0.25)


def test_batch_stream_availability_and_deltas(echo_server: RunningServer,
                                              tmp_path: Path) -> None:
    phases = loadgen(echo_server, tmp_path / "all.json", "--rpc", "batch", "--rpc", "stream",
                     "--rpc", "availability", "--rpc", "deltas", "--duration", "0.5")
    assert set(phases) == {"echo (batch)", "batch", "echo (stream)", "stream",
                           "echo (availability)", "availability", "deltas"}
    for phase in phases.values():
        assert_measured(phase)
    assert phases["batch"]["items"] == 20 * phases["batch"]["ok_calls"]  # type: ignore[operator]
    assert "throughput_ratio" in phases["stream"]
    assert "throughput_ratio" not in phases["deltas"]  # another server: no echo twin


def test_reserve_beside_dry_run_route(echo_server: RunningServer, tmp_path: Path) -> None:
    phases = loadgen(echo_server, tmp_path / "reserve.json", "--rpc", "route", "--rpc",
                     "reserve", "--duration", "0.5")
    assert {"route", "reserve", "echo (reserve)"} <= set(phases)
    reserve = phases["reserve"]
    errors = reserve["errors"]
    assert isinstance(errors, dict)
    assert set(errors) <= {"NOTHING_HELD"}
    # Most demo orders allocate something, so most calls took the critical section.
    assert errors.get("NOTHING_HELD", 0) < reserve["ok_calls"] / 2  # type: ignore[operator]
    assert_measured({**reserve, "errors": {}})
    assert isinstance(reserve["throughput_ratio"], float)


def test_refuses_non_loopback_targets(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "omniroute", "loadgen", "--target", "192.0.2.1:50051"],
        capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode != 0
    assert "loopback" in completed.stderr


def test_steal_is_read_from_the_aggregate_cpu_line() -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    stat = f"cpu  100 0 50 9000 3 0 1 {2 * ticks} 0 0\ncpu0 50 0 25 4500 1 0 0 {ticks} 0 0\n"
    assert steal_seconds(stat) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="aggregate cpu line"):
        steal_seconds("cpu0 50 0 25 4500 1 0 0 7 0 0\n")
