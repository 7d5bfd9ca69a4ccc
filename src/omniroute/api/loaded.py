"""What the router serves, available once loading and kernel compilation are done.

Servicers are registered before the server starts (grpc cannot add registered handlers later),
so they hold this slot and answer UNAVAILABLE until it is filled.
"""

from __future__ import annotations

import threading

from omniroute.config import Network
from omniroute.engine import Engine
from omniroute.engine.reserving import ConfirmSink, Reservations
from omniroute.errors import FailedPrecondition, Unavailable
from omniroute.state.live import LiveState


class Loaded:
    """A write-once slot for the engine and the network it was built from."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._engine: Engine | None = None
        self._network: Network | None = None
        self._live: LiveState | None = None
        self._reservations: Reservations | None = None
        self._sink: ConfirmSink | None = None
        self._swap_lock = threading.Lock()
        self._swapped = -1

    def fill(self, engine: Engine, network: Network, live: LiveState | None = None, *,
             reservations: Reservations | None = None, sink: ConfirmSink | None = None
             ) -> None:
        self._engine, self._network, self._live = engine, network, live
        self._reservations, self._sink = reservations, sink
        self._ready.set()

    @property
    def reservations(self) -> Reservations:
        """Reservations and admin changes; they need the router's journal (`--state`)."""
        self._check()
        if self._reservations is None:
            raise FailedPrecondition("this router has no state directory, so it cannot "
                                     "reserve or change node settings; start it with --state")
        return self._reservations

    @property
    def confirm_sink(self) -> ConfirmSink:
        self._check()
        if self._sink is None:
            raise FailedPrecondition("this router has no sync sidecar to drop on-hand through")
        return self._sink

    def _check(self) -> None:
        if not self._ready.is_set():
            raise Unavailable("the router is still loading its network and compiling kernels; "
                              "wait for the health service to report SERVING")

    @property
    def engine(self) -> Engine:
        """The engine, switched to the newest live inventory the sidecar has published."""
        self._check()
        engine = self._engine
        assert engine is not None
        if self._live is not None:
            number, state = self._live.current_numbered()
            if state is not engine.state:
                # Innermost lock, nothing else taken under it: the newest build wins even
                # when a slower thread asks to swap in the one before.
                with self._swap_lock:
                    if number > self._swapped:
                        engine.use_state(state)
                        self._swapped = number
        return engine

    @property
    def network(self) -> Network:
        self._check()
        assert self._network is not None
        return self._network
