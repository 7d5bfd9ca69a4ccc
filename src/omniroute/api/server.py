"""A router worker: load the network, compile kernels, serve Router and Admin.

`omniroute serve` prepares once (load, compile) and forks workers that each run `run_worker`
on the same port; tests run one worker in-process with `run_router`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import grpc

from omniroute.api.admin_servicer import AdminServicer
from omniroute.api.confirm_sink import SidecarConfirmSink
from omniroute.api.echo_servicer import EchoServicer
from omniroute.api.loaded import Loaded
from omniroute.api.router_servicer import RouterServicer, add_router_to_server
from omniroute.config import Network, load_network
from omniroute.engine import Engine
from omniroute.engine.reserving import ConfirmSink, Reservations
from omniroute.errors import FailedPrecondition, OmnirouteError
from omniroute.heap import freeze_long_lived
from omniroute.rpc import Server
from omniroute.state.holds import HoldBook
from omniroute.state.live import LiveState
from omniroute.state.shared import SharedInventory
from omniroute.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    bench_pb2,
    bench_pb2_grpc,
    router_pb2,
)

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    router_pb2.DESCRIPTOR.services_by_name["Router"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name,
)
ECHO_SERVICE_NAME = bench_pb2.DESCRIPTOR.services_by_name["Echo"].full_name
"""Benchmark-only service, registered only when asked for (`serve --bench-echo`)."""


DEFAULT_HOLD_S = 900.0
"""Hold time of a reservation whose request sets none: a checkout-and-payment window."""


class Prepared(NamedTuple):
    """What a router worker needs that is worth computing once, before forking workers."""

    network: Network
    engine: Engine


def prepare_router(network_dir: Path, *, today: dt.date | None = None) -> Prepared:
    """Load the network and compile every kernel. Creates no gRPC object, so a process may
    fork router workers after it (DESIGN section 7)."""
    network = load_network(network_dir)
    engine = Engine.from_network(network, today=today or dt.date.today())
    engine.warm_up()
    return Prepared(network, engine)


def run_router(*, network_dir: Path, bind: str, stop: threading.Event,
               state_dir: Path | None = None, today: dt.date | None = None,
               bench_echo: bool = False, sync_target: str = "",
               default_hold_s: float = DEFAULT_HOLD_S) -> None:
    """Load, compile and serve in this process until `stop` is set (one worker)."""
    run_worker(prepare=lambda: prepare_router(network_dir, today=today), bind=bind, stop=stop,
               state_dir=state_dir, bench_echo=bench_echo, sync_target=sync_target,
               default_hold_s=default_hold_s)


def run_worker(*, prepare: Callable[[], Prepared], bind: str, stop: threading.Event,
               state_dir: Path | None, bench_echo: bool = False, sync_target: str = "",
               default_hold_s: float = DEFAULT_HOLD_S) -> None:
    """Serve until `stop` is set. Health says SERVING only once the engine is warm and, with a
    `state_dir`, attached to the sidecar's live inventory and the router's hold book.

    `bench_echo` also serves the benchmark-only Echo service (api/echo_servicer.py).
    """
    loaded = Loaded()
    register: list[Callable[[grpc.Server], None]] = [
        # The generated registration functions are untyped (grpcio-tools writes no .pyi).
        lambda s: add_router_to_server(RouterServicer(loaded), s),
        lambda s: admin_pb2_grpc.add_AdminServicer_to_server(  # type: ignore[no-untyped-call]
            AdminServicer(loaded), s),
    ]
    names: tuple[str, ...] = SERVICE_NAMES
    if bench_echo:
        register.append(lambda s: bench_pb2_grpc.add_EchoServicer_to_server(  # type: ignore[no-untyped-call]
            EchoServicer(), s))
        names = (*names, ECHO_SERVICE_NAME)
    # SO_REUSEPORT: every worker binds the same port and the kernel spreads connections.
    server = Server(bind=bind, service_names=names, register=register,
                    options=[("grpc.so_reuseport", 1)])
    server.start()
    log.info("router listening on port %d (NOT_SERVING while loading)", server.port)
    network, engine = prepare()
    live = None
    reservations = None
    sink = None
    if state_dir is not None:
        shared = wait_for_live_inventory(state_dir, stop)
        base = engine.state
        book = HoldBook(state_dir, node_ids=list(base.catalog.node_ids),
                        node_lon=base.nodes.lon_deg, daily_capacity=base.nodes.daily_capacity_units,
                        enabled=base.nodes.enabled, sku_rows=shared.on_hand.shape[1])
        live = LiveState(base, shared, book)
        engine.use_state(live.current())
        reservations = Reservations(lambda: loaded.engine, book, default_hold_s=default_hold_s,
                                    new_id=lambda: uuid.uuid4().hex)
        if sync_target:
            sink = SidecarConfirmSink(sync_target)
    loaded.fill(engine, network, live, reservations=reservations, sink=sink)
    # What start-up built lives as long as the worker: out of the collector's full passes
    # (heap.py: a full collection was 79 ms on the demo network) before the first request.
    freeze_long_lived()
    server.mark_serving()
    log.info("router SERVING: %d nodes, %d SKUs", len(network.nodes), len(network.skus))
    housekeeping = None
    if reservations is not None:
        housekeeping = threading.Thread(target=_housekeep, args=(reservations, sink, stop),
                                        name="holds-housekeeping", daemon=True)
        housekeeping.start()
    stop.wait()
    server.stop()
    if housekeeping is not None:
        housekeeping.join(5)


_HOUSEKEEPING_S = 0.25


def _housekeep(reservations: Reservations, sink: ConfirmSink | None,
               stop: threading.Event) -> None:
    """Expire holds that ran out and re-send confirms a crash left unacknowledged."""
    while not stop.wait(_HOUSEKEEPING_S):
        try:
            reservations.expire_due()
            if sink is not None and reservations.book.pending_confirms():
                reservations.flush_confirms(sink)
        except OmnirouteError as error:
            log.warning("holds housekeeping: %s (will retry)", error)
        except Exception:
            # Expiry must not stop for good in this worker over one bad round.
            log.exception("holds housekeeping failed (will retry)")


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
