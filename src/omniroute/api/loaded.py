"""What the router serves, available once loading and kernel compilation are done.

Servicers are registered before the server starts (grpc cannot add registered handlers later),
so they hold this slot and answer UNAVAILABLE until it is filled.
"""

from __future__ import annotations

import threading

from omniroute.config import Network
from omniroute.engine import Engine
from omniroute.errors import Unavailable


class Loaded:
    """A write-once slot for the engine and the network it was built from."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._engine: Engine | None = None
        self._network: Network | None = None

    def fill(self, engine: Engine, network: Network) -> None:
        self._engine, self._network = engine, network
        self._ready.set()

    def _check(self) -> None:
        if not self._ready.is_set():
            raise Unavailable("the router is still loading its network and compiling kernels; "
                              "wait for the health service to report SERVING")

    @property
    def engine(self) -> Engine:
        self._check()
        assert self._engine is not None
        return self._engine

    @property
    def network(self) -> Network:
        self._check()
        assert self._network is not None
        return self._network
