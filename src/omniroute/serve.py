"""`omniroute serve`: supervise the router and the sync sidecar as separate OS processes.

The router runs in this process; the sidecar is a child process that the supervisor restarts
if it dies, and that dies with the supervisor (PR_SET_PDEATHSIG), so nothing is left orphaned
even when `serve` is killed with SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

# A sidecar that keeps dying is a configuration fault, not a blip: give up after this many
# restarts inside the window rather than spin.
_MAX_RESTARTS = 5
_RESTART_WINDOW_S = 60.0


class SidecarSupervisor:
    """Starts the sidecar, restarts it when it crashes, stops it on shutdown."""

    def __init__(self, *, host: str, port: int, state_dir: Path, stop: threading.Event,
                 network_dir: Path | None = None) -> None:
        self._argv = [sys.executable, "-m", "omniroute", "sidecar", "--host", host,
                      "--port", str(port), "--state", str(state_dir),
                      "--parent-pid", str(os.getpid())]
        if network_dir is not None:
            self._argv += ["--data", str(network_dir)]
        self._stop = stop
        self._process: subprocess.Popen[bytes] | None = None
        self._restarts: list[float] = []
        self._thread = threading.Thread(target=self._watch, name="sidecar-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        self._process = subprocess.Popen(self._argv)
        log.info("sidecar started, pid %d", self._process.pid)

    def _watch(self) -> None:
        while not self._stop.is_set():
            process = self._process
            if process is not None and process.poll() is not None and not self._stop.is_set():
                now = time.monotonic()
                self._restarts = [t for t in self._restarts if now - t < _RESTART_WINDOW_S]
                if len(self._restarts) >= _MAX_RESTARTS:
                    log.error("sidecar died %d times in %.0f s; shutting down", _MAX_RESTARTS,
                              _RESTART_WINDOW_S)
                    self._stop.set()
                    return
                log.error("sidecar exited with code %s; restarting", process.returncode)
                self._restarts.append(now)
                self._spawn()
            self._stop.wait(0.2)

    def stop(self, timeout_s: float = 10.0) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.error("sidecar ignored SIGTERM for %.0f s; killing it", timeout_s)
            process.kill()
            process.wait()


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGINT and SIGTERM ask for an orderly stop of everything."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def serve(*, network_dir: Path, state_dir: Path, host: str, port: int, sync_port: int,
          metrics_port: int, bench_echo: bool = False) -> int:
    """Run until SIGINT/SIGTERM; return the process exit code."""
    stop = threading.Event()
    install_stop_handlers(stop)
    state_dir.mkdir(parents=True, exist_ok=True)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=host)
        log.info("Prometheus metrics on http://%s:%d/metrics", host, metrics_port)
    sidecar = SidecarSupervisor(host=host, port=sync_port, state_dir=state_dir, stop=stop,
                                network_dir=network_dir)
    sidecar.start()
    router_error: BaseException | None = None
    router = threading.Thread(
        target=_run_router_thread,
        kwargs={"network_dir": network_dir, "state_dir": state_dir, "bind": f"{host}:{port}",
                "stop": stop, "bench_echo": bench_echo},
        name="router", daemon=True)

    def _record(args: threading.ExceptHookArgs) -> None:
        nonlocal router_error
        router_error = args.exc_value
        log.error("router failed: %s", args.exc_value)
        stop.set()

    threading.excepthook = _record
    router.start()
    # The main thread only waits, so signal handlers run promptly.
    while not stop.wait(0.25):
        pass
    router.join(30)
    sidecar.stop()
    return 1 if router_error is not None else 0


def _run_router_thread(*, network_dir: Path, state_dir: Path, bind: str,
                       stop: threading.Event, bench_echo: bool) -> None:
    from omniroute.api.server import run_router

    run_router(network_dir=network_dir, state_dir=state_dir, bind=bind, stop=stop,
               bench_echo=bench_echo)
