"""`omniroute serve`: supervise the router workers and the sync sidecar as OS processes.

This process loads the network and compiles the kernels once, then forks `--workers` router
processes that share the port (SO_REUSEPORT). The sidecar is a child process of its own. The
supervisor restarts any child that dies, and every child dies with the supervisor
(PR_SET_PDEATHSIG), so nothing is left orphaned even when `serve` is killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from omniroute.heap import freeze_long_lived

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


class WorkerPool:
    """Router workers forked from this process once kernels are compiled; restarts the dead.

    Forking is safe here because this process has created no gRPC object (grpc's fork rule)
    and compiled code survives fork, so a worker serves at once instead of compiling for 30 s.
    """

    def __init__(self, count: int, start_worker: Callable[[int], None],
                 stop: threading.Event) -> None:
        self._count = count
        self._start_worker = start_worker
        self._stop = stop
        self._pids: dict[int, int] = {}
        self._restarts: list[float] = []

    @property
    def pids(self) -> list[int]:
        return list(self._pids)

    def start(self) -> None:
        for slot in range(self._count):
            self._fork(slot)

    def _fork(self, slot: int) -> None:
        # Frozen before the fork, the heap a worker inherits stays out of its collections,
        # whose writes to object headers would copy every page of it into the worker.
        freeze_long_lived()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                self._start_worker(slot)
            except BaseException:
                log.exception("router worker %d failed", slot)
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        self._pids[pid] = slot
        log.info("router worker %d started, pid %d", slot, pid)

    def reap(self) -> None:
        """Collect exited workers and fork replacements (called from the main thread)."""
        # Each worker by its pid: waitpid(-1) could reap the sidecar, which its Popen reaps.
        for pid in list(self._pids):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done == 0:
                continue
            slot = self._pids.pop(pid)
            _mark_metrics_dead(pid)
            if self._stop.is_set():
                continue
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < _RESTART_WINDOW_S]
            if len(self._restarts) >= _MAX_RESTARTS * self._count:
                log.error("router workers keep dying; shutting down")
                self._stop.set()
                return
            log.error("router worker %d (pid %d) exited with status %d; restarting", slot, pid,
                      status)
            self._restarts.append(now)
            self._fork(slot)

    def stop(self, timeout_s: float = 15.0) -> None:
        for pid in self._pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while self._pids and time.monotonic() < deadline:
            for pid in list(self._pids):
                try:
                    done, _status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    self._pids.pop(pid)
            time.sleep(0.05)
        for pid in self._pids:
            log.error("router worker pid %d ignored SIGTERM; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._pids.clear()


def _metrics_dir(state_dir: Path) -> Path:
    return state_dir / "metrics"


def _mark_metrics_dead(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve(*, network_dir: Path, state_dir: Path, host: str, port: int, sync_port: int,
          metrics_port: int, bench_echo: bool = False, workers: int = 0,
          default_hold_s: float = 900.0) -> int:
    """Run until SIGINT/SIGTERM; return the process exit code. `workers` 0 means one per core."""
    stop = threading.Event()
    install_stop_handlers(stop)
    state_dir.mkdir(parents=True, exist_ok=True)
    # The cores this process may run on (a container's CPU set), not the machine's.
    workers = workers or len(os.sched_getaffinity(0)) or 1
    if workers > 1 and port == 0:
        raise ValueError("--port 0 cannot be shared by several workers; name a port")
    # Workers are processes, so their metrics meet in files (prometheus_client's multiprocess
    # mode); it is chosen when prometheus_client is first imported, hence before any import.
    metrics = _metrics_dir(state_dir)
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    from omniroute.api.server import prepare_router

    if metrics_port:
        from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        ProcessCollector(registry=registry)
        start_http_server(metrics_port, addr=host, registry=registry)
        log.info("Prometheus metrics on http://%s:%d/metrics", host, metrics_port)
    sidecar = SidecarSupervisor(host=host, port=sync_port, state_dir=state_dir, stop=stop,
                                network_dir=network_dir)
    sidecar.start()
    try:
        prepared = prepare_router(network_dir)
    except Exception:
        log.exception("router failed to load")
        sidecar.stop()
        return 1
    bind = f"{host}:{port}"
    supervisor = os.getpid()

    def start_worker(slot: int) -> None:
        from omniroute.api.server import run_worker
        from omniroute.sync.sidecar import die_with_parent

        worker_stop = threading.Event()
        install_stop_handlers(worker_stop)
        die_with_parent(supervisor)
        run_worker(prepare=lambda: prepared, bind=bind, stop=worker_stop, state_dir=state_dir,
                   bench_echo=bench_echo, sync_target=f"{host}:{sync_port}",
                   default_hold_s=default_hold_s)

    pool = WorkerPool(workers, start_worker, stop)
    pool.start()
    # The main thread only waits and reaps, so signal handlers run promptly.
    while not stop.wait(0.25):
        pool.reap()
    pool.stop()
    sidecar.stop()
    return 0
