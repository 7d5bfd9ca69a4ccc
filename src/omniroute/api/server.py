"""The router process: load the network, compile kernels, serve Router and Admin."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

from omniroute.api.admin_servicer import AdminServicer
from omniroute.api.loaded import Loaded
from omniroute.api.router_servicer import RouterServicer
from omniroute.config import load_network
from omniroute.engine import Engine
from omniroute.rpc import Server
from omniroute.v1 import admin_pb2, admin_pb2_grpc, router_pb2, router_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    router_pb2.DESCRIPTOR.services_by_name["Router"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["Admin"].full_name,
)


def run_router(*, network_dir: Path, bind: str, stop: threading.Event,
               today: dt.date | None = None) -> None:
    """Serve until `stop` is set. Health says SERVING only once the engine is warm."""
    loaded = Loaded()
    server = Server(bind=bind, service_names=SERVICE_NAMES, register=(
        # The generated registration functions are untyped (grpcio-tools writes no .pyi).
        lambda s: router_pb2_grpc.add_RouterServicer_to_server(  # type: ignore[no-untyped-call]
            RouterServicer(loaded), s),
        lambda s: admin_pb2_grpc.add_AdminServicer_to_server(  # type: ignore[no-untyped-call]
            AdminServicer(loaded), s),
    ))
    server.start()
    log.info("router listening on port %d (NOT_SERVING while loading)", server.port)
    network = load_network(network_dir)
    engine = Engine.from_network(network, today=today or dt.date.today())
    engine.warm_up()
    loaded.fill(engine, network)
    server.mark_serving()
    log.info("router SERVING: %d nodes, %d SKUs from %s", len(network.nodes), len(network.skus),
             network_dir)
    stop.wait()
    server.stop()
