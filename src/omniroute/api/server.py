"""The router process: load the network, compile kernels, serve Router and Admin."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from omniroute.api.admin_servicer import AdminServicer
from omniroute.api.echo_servicer import EchoServicer
from omniroute.api.loaded import Loaded
from omniroute.api.router_servicer import RouterServicer
from omniroute.config import load_network
from omniroute.engine import Engine
from omniroute.errors import FailedPrecondition
from omniroute.rpc import Server
from omniroute.state.live import LiveState
from omniroute.state.shared import SharedInventory
from omniroute.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    bench_pb2,
    bench_pb2_grpc,
    router_pb2,
    router_pb2_grpc,
)

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    router_pb2.DESCRIPTOR.services_by_name["Router"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name,
)
ECHO_SERVICE_NAME = bench_pb2.DESCRIPTOR.services_by_name["Echo"].full_name
"""Benchmark-only service, registered only when asked for (`serve --bench-echo`)."""


def run_router(*, network_dir: Path, bind: str, stop: threading.Event,
               state_dir: Path | None = None, today: dt.date | None = None,
               bench_echo: bool = False) -> None:
    """Serve until `stop` is set. Health says SERVING only once the engine is warm and, with a
    `state_dir`, attached to the sidecar's live inventory.

    `bench_echo` also serves the benchmark-only Echo service (api/echo_servicer.py).
    """
    loaded = Loaded()
    register: list[Callable[[grpc.Server], None]] = [
        # The generated registration functions are untyped (grpcio-tools writes no .pyi).
        lambda s: router_pb2_grpc.add_RouterServicer_to_server(  # type: ignore[no-untyped-call]
            RouterServicer(loaded), s),
        lambda s: admin_pb2_grpc.add_AdminServicer_to_server(  # type: ignore[no-untyped-call]
            AdminServicer(loaded), s),
    ]
    names: tuple[str, ...] = SERVICE_NAMES
    if bench_echo:
        register.append(lambda s: bench_pb2_grpc.add_EchoServicer_to_server(  # type: ignore[no-untyped-call]
            EchoServicer(), s))
        names = (*names, ECHO_SERVICE_NAME)
    server = Server(bind=bind, service_names=names, register=register)
    server.start()
    log.info("router listening on port %d (NOT_SERVING while loading)", server.port)
    network = load_network(network_dir)
    engine = Engine.from_network(network, today=today or dt.date.today())
    engine.warm_up()
    live = None
    if state_dir is not None:
        live = LiveState(engine.state, wait_for_live_inventory(state_dir, stop))
        engine.use_state(live.current())
    loaded.fill(engine, network, live)
    server.mark_serving()
    log.info("router SERVING: %d nodes, %d SKUs from %s", len(network.nodes), len(network.skus),
             network_dir)
    stop.wait()
    server.stop()


# The sidecar creates the live inventory within a second or two of starting; a minute covers
# a recovery replaying a long journal tail on a slow disk.
_LIVE_WAIT_S = 60.0


def wait_for_live_inventory(state_dir: Path, stop: threading.Event) -> SharedInventory:
    """Map the sidecar's live inventory, waiting for the sidecar to publish it."""
    deadline = time.monotonic() + _LIVE_WAIT_S
    while True:
        try:
            return SharedInventory.open(state_dir, kernel_views=True)
        except FailedPrecondition:
            if time.monotonic() > deadline or stop.is_set():
                raise
        stop.wait(0.1)
