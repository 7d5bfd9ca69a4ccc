"""Run the real `omniroute serve` as a subprocess on free ports, for black-box tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Numba compiles every kernel before SERVING; on a loaded 2-core CI machine that can take a while.
SERVING_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def health_status(target: str, service: str = "") -> int | None:
    """The health status of `service` at `target`, or None while unreachable."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1.0)
        except grpc.RpcError:
            return None
        status: int = reply.status
        return status


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may contain spaces, so split
        # after its closing parenthesis.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    router: str
    sync: str
    metrics_port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


DEFAULT_WORKERS = 2


def role_of(pid: int) -> str:
    """'sidecar' for the sync sidecar, 'worker' for a router worker (forked from serve)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    return "sidecar" if b"sidecar" in cmdline else "worker"


def children_by_role(pid: int, role: str) -> list[int]:
    return [child for child in child_pids(pid) if role_of(child) == role]


def start_server(tmp: Path, *extra: str, port: int | None = None,
                 state: Path | None = None) -> RunningServer:
    """Start `omniroute serve` (with `DEFAULT_WORKERS` workers unless `extra` says
    `--workers`) and wait until the sidecar and every worker serve."""
    if "--workers" not in extra:
        extra = (*extra, "--workers", str(DEFAULT_WORKERS))
    workers = int(extra[extra.index("--workers") + 1])
    port = port or free_port()
    sync_port, metrics_port = free_port(), free_port()
    log_path = tmp / f"serve-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "omniroute", "serve", "--port", str(port),
             "--sync-port", str(sync_port), "--metrics-port", str(metrics_port),
             "--state", str(state or tmp / "state"), *extra],
            stdout=log_file, stderr=subprocess.STDOUT, env=env)
    server = RunningServer(process, f"127.0.0.1:{port}", f"127.0.0.1:{sync_port}",
                           metrics_port, log_path)
    deadline = time.monotonic() + SERVING_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{server.log()}")
        if (health_status(server.router) == health_pb2.HealthCheckResponse.SERVING
                and health_status(server.sync) == health_pb2.HealthCheckResponse.SERVING
                and server.log().count("router SERVING") >= workers):
            return server
        time.sleep(0.2)
    stop_server(server)
    pytest.fail(f"server not SERVING after {SERVING_TIMEOUT_S} s:\n{server.log()}")


def stop_server(server: RunningServer, timeout_s: float = 30.0) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
            pytest.fail(f"server ignored SIGTERM:\n{server.log()}")
    return server.process.returncode
