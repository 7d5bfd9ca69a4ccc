"""The sync sidecar process: the single writer of on-hand, supply and the catalog.

It runs as its own OS process beside the router (started by `omniroute serve`) with its own
gRPC server, health service and reflection.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from pathlib import Path

from omniroute.rpc import Server
from omniroute.sync.servicer import SERVICE_NAME, InventorySyncServicer
from omniroute.v1 import sync_pb2_grpc

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGTERM this process when its parent dies, so a killed `serve` (even by
    SIGKILL) leaves no orphan sidecar behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own shutdown still applies
        log.warning("PR_SET_PDEATHSIG unavailable; relying on the supervisor to stop the sidecar")
    # The parent may have died before prctl took effect: then we were re-parented already.
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)


def run_sidecar(*, bind: str, state_dir: Path, stop: threading.Event) -> None:
    """Serve InventorySync until `stop` is set."""
    state_dir.mkdir(parents=True, exist_ok=True)
    server = Server(
        bind=bind,
        service_names=(SERVICE_NAME,),
        register=(lambda s: sync_pb2_grpc.add_InventorySyncServicer_to_server(
            InventorySyncServicer(), s),),
        max_workers=8,
    )
    server.start()
    server.mark_serving()
    log.info("sidecar SERVING on port %d, state in %s", server.port, state_dir)
    stop.wait()
    server.stop()
