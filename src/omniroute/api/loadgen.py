"""`omniroute loadgen`: a gRPC load generator for the router and the sync sidecar.

Two modes:

- **closed loop** (max throughput): each process keeps `concurrency` calls in flight and sends
  the next as soon as one returns; latency is call start to call end.
- **open loop** (fixed arrival rate): calls are due at fixed intervals whatever the server
  does, and latency is measured from the *intended* send time, so a stalled server shows up
  as latency instead of as fewer samples (no coordinated omission).

Every Router target is measured next to its twin on the benchmark-only Echo service of the
same server (`serve --bench-echo`), with the same payloads, processes and channels, in the
same run: `route` and `availability` against `Echo`, `batch` and `stream` against
`EchoBatch`. Each figure is printed with its ratio to the twin, which is what compares across
noisy machines. StreamDeltas goes to the sidecar, a different server with no echo, so it has
no ratio.

Requests are built once from the same network files the server loads (the embedded demo by
default) and sent pre-serialized, so the client spends its CPU on gRPC, not on protobuf
construction; the client still shares the machine with the server, which the report says.
Loads are bounded in calls and seconds and may only target loopback addresses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import multiprocessing
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import numpy.typing as npt

from omniroute.api.convert import order_to_proto
from omniroute.config import Network, load_network
from omniroute.sim.orders import order_stream
from omniroute.v1 import admin_pb2, router_pb2, sync_pb2, types_pb2

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
RPCS = ("route", "reserve", "batch", "stream", "availability", "deltas")
RESERVE_HOLD_S = 2
"""Hold of the `reserve` target's reservations: short, so expiry hands the stock back and a
long run measures reserving, not an inventory that ran dry."""
"""Targets, in the order they run."""

_ROUTE = "/omniroute.v1.Router/Route"
_ROUTE_BATCH = "/omniroute.v1.Router/RouteBatch"
_ROUTE_STREAM = "/omniroute.v1.Router/RouteStream"
_AVAILABILITY = "/omniroute.v1.Router/GetAvailability"
_ECHO = "/omniroute.v1.Echo/Echo"
_ECHO_BATCH = "/omniroute.v1.Echo/EchoBatch"
_DESCRIBE = "/omniroute.v1.Admin/DescribeNetwork"
_DELTAS = "/omniroute.v1.InventorySync/StreamDeltas"

_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
_CALL_TIMEOUT_S = 30.0
_START_LEAD_S = 0.3
"""Head start the parent gives the workers, so every process starts its clock together."""
_CHANNEL_OPTIONS = [
    # Without a local pool, channels with equal arguments share one TCP connection.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.max_send_message_length", 64 << 20),
    ("grpc.max_receive_message_length", 64 << 20),
]


class LoadgenError(Exception):
    """A load that cannot run as asked (bad target, server without the needed service)."""


@dataclasses.dataclass(frozen=True)
class Phase:
    """One measured load: one method at one server, one mode."""

    name: str
    """Label in the report, e.g. 'route' or 'echo (route)'."""
    target: str
    method: str
    streaming: bool
    """Bidi stream (one response per request message) instead of unary."""
    items_per_call: int
    """Orders (or deltas) per message: throughput is also reported in items/s."""
    item: str
    """What an item is: 'orders', 'deltas', 'calls'."""
    mode: str
    """'closed' or 'open'."""
    rate: float
    """Open loop: calls per second over all processes."""
    duration_s: float
    max_calls: int
    concurrency: int
    """Closed loop: calls in flight per process."""
    streams: int
    """Streaming targets: open streams per process, one message in flight on each."""
    processes: int
    channels: int
    """Channels (TCP connections) per process."""
    twin: str = ""
    """Name of the Echo phase this one is compared with."""
    check: str = ""
    """How to check responses: 'route', 'batch', 'deltas' or '' (status code only)."""


@dataclasses.dataclass
class WorkerResult:
    latencies_s: npt.NDArray[np.float64]
    errors: dict[str, int]
    ok_calls: int
    items: int
    started: float
    finished: float


def steal_seconds(proc_stat: str) -> float:
    """CPU time the hypervisor gave to others, summed over CPUs, from `/proc/stat`'s text.

    On a shared VM it explains tails that no server can: seen here, open-loop runs with no
    steal had Route and echo p99 of 2-4 ms, and runs with 0.1-0.3 s of it had echo p99 of
    20-86 ms.
    """
    fields = proc_stat.split("\n", 1)[0].split()
    if len(fields) < 9 or fields[0] != "cpu":
        raise ValueError(f"not /proc/stat's aggregate cpu line: {proc_stat[:80]!r}")
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def _steal_now() -> float | None:
    """`steal_seconds` of this host now; None where there is no /proc/stat (not Linux)."""
    try:
        return steal_seconds(Path("/proc/stat").read_text())
    except FileNotFoundError:
        return None


@dataclasses.dataclass
class PhaseResult:
    phase: Phase
    latencies_s: npt.NDArray[np.float64]
    errors: dict[str, int]
    ok_calls: int
    items: int
    wall_s: float
    steal_s: float | None
    """CPU steal on this host during the phase (`steal_seconds`); None if not measurable."""

    @property
    def calls_per_s(self) -> float:
        return self.ok_calls / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def items_per_s(self) -> float:
        return self.items / self.wall_s if self.wall_s > 0 else 0.0

    def percentiles_ms(self) -> dict[float, float]:
        if self.latencies_s.size == 0:
            return dict.fromkeys(PERCENTILES, float("nan"))
        values = np.percentile(self.latencies_s, PERCENTILES) * 1e3
        return dict(zip(PERCENTILES, (float(v) for v in values), strict=True))

    def summary(self, twin: PhaseResult | None) -> dict[str, Any]:
        """Plain data for JSON: counts, rates, percentiles (ms), errors, ratios to the twin."""
        pct = self.percentiles_ms()
        out: dict[str, Any] = {
            "name": self.phase.name, "method": self.phase.method, "mode": self.phase.mode,
            "rate": self.phase.rate, "processes": self.phase.processes,
            "channels": self.phase.channels, "concurrency": self.phase.concurrency,
            "streams": self.phase.streams,
            "items_per_call": self.phase.items_per_call, "item": self.phase.item,
            "ok_calls": self.ok_calls, "items": self.items, "wall_s": self.wall_s,
            "calls_per_s": self.calls_per_s, "items_per_s": self.items_per_s,
            "errors": dict(self.errors),
            "steal_ms": None if self.steal_s is None else self.steal_s * 1e3,
            **{f"p{p:g}_ms": v for p, v in pct.items()},
            "twin": self.phase.twin,
        }
        if twin is not None and twin.items_per_s > 0:
            twin_pct = twin.percentiles_ms()
            out["throughput_ratio"] = self.items_per_s / twin.items_per_s
            for p in PERCENTILES:
                out[f"p{p:g}_ratio"] = pct[p] / twin_pct[p] if twin_pct[p] > 0 else float("nan")
        return out


# --- target checks and payloads ----------------------------------------------------------


def check_loopback(target: str) -> None:
    """Refuse anything but a loopback address: this tool must not load other machines."""
    host = target.rsplit(":", 1)[0].strip("[]") if ":" in target else target
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as error:
        raise LoadgenError(f"cannot resolve {host!r}: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_loopback:
            raise LoadgenError(f"{target} is not a loopback address; loadgen only loads "
                               "servers on this machine")


def _identity(raw: bytes) -> bytes:
    return raw


def describe(target: str) -> admin_pb2.NetworkDescription:
    """What the router serves (to check the local network files match it)."""
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            _DESCRIBE, request_serializer=admin_pb2.DescribeNetworkRequest.SerializeToString,
            response_deserializer=admin_pb2.NetworkDescription.FromString)
        reply: admin_pb2.NetworkDescription = call(admin_pb2.DescribeNetworkRequest(),
                                                   timeout=10.0)
        return reply


def has_echo(target: str) -> bool:
    """True when the server answers Echo (it runs with --bench-echo)."""
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(_ECHO, request_serializer=_identity,
                                   response_deserializer=_identity)
        try:
            call(router_pb2.RouteRequest(order_id="probe").SerializeToString(), timeout=10.0)
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.UNIMPLEMENTED:
                return False
            raise
    return True


@dataclasses.dataclass(frozen=True)
class Payloads:
    """Pre-serialized requests, cycled through by every worker."""

    route: list[bytes]
    reserve: list[bytes]
    """The `route` orders with `reserve` and a hold of `RESERVE_HOLD_S`."""
    batch: list[bytes]
    availability: list[bytes]
    deltas_plus: bytes
    """The `deltas` field of a DeltaBatch: +1 sellable on `delta_batch` cells."""
    deltas_minus: bytes
    """The same cells, -1: batches alternate so the load leaves on-hand as it found it."""


def build_payloads(network: Network, *, orders: int, batch_size: int, delta_batch: int,
                   seed: int) -> Payloads:
    stream = order_stream(network, orders, seed=seed, prefix="lg")
    requests = [order_to_proto(order) for order in stream]
    route = [r.SerializeToString() for r in requests]
    reserve = []
    for r in requests:
        held = router_pb2.RouteRequest()
        held.CopyFrom(r)
        held.reserve = True
        held.hold.seconds = RESERVE_HOLD_S
        reserve.append(held.SerializeToString())
    batch = []
    for start in range(0, len(requests), batch_size):
        chunk = requests[start:start + batch_size]
        if len(chunk) < batch_size:  # keep every batch the same size
            chunk = (chunk + requests)[:batch_size]
        batch.append(router_pb2.RouteBatchRequest(orders=chunk).SerializeToString())
    rng = np.random.default_rng(seed)
    availability = []
    for order in stream[:max(1, orders // 4)]:
        skus = [line.sku for line in order.lines][:3]
        availability.append(router_pb2.GetAvailabilityRequest(
            skus=skus, channel=order.channel).SerializeToString())
    sku_ids = [row.sku for row in network.skus]
    node_ids = [row.node_id for row in network.nodes if row.kind.value != "digital"]
    cells = zip(rng.integers(0, len(sku_ids), delta_batch).tolist(),
                rng.integers(0, len(node_ids), delta_batch).tolist(), strict=True)
    plus = sync_pb2.DeltaBatch()
    minus = sync_pb2.DeltaBatch()
    for s, n in cells:
        for message, qty in ((plus, 1), (minus, -1)):
            message.deltas.add(sku=sku_ids[s], node_id=node_ids[n],
                               disposition=types_pb2.DISPOSITION_SELLABLE,
                               kind=sync_pb2.DELTA_KIND_ADJUST, qty=qty)
    return Payloads(route=route, reserve=reserve, batch=batch, availability=availability,
                    deltas_plus=plus.SerializeToString(),
                    deltas_minus=minus.SerializeToString())


# --- the worker process --------------------------------------------------------------------


def _checker(kind: str) -> Callable[[bytes, Counter[str]], None]:
    """Counts application-level failures that arrive with status OK."""

    def route(raw: bytes, errors: Counter[str]) -> None:
        if router_pb2.RouteResponse.FromString(raw).status == 0:
            errors["NO_STATUS"] += 1

    def reserve(raw: bytes, errors: Counter[str]) -> None:
        response = router_pb2.RouteResponse.FromString(raw)
        if response.status == 0:
            errors["NO_STATUS"] += 1
        elif not response.reservation_id:
            # Not a failure (nothing was allocated, so nothing held), but worth seeing: the
            # share of calls that took the critical section is what the figure measures.
            errors["NOTHING_HELD"] += 1

    def batch(raw: bytes, errors: Counter[str]) -> None:
        for result in router_pb2.RouteBatchResponse.FromString(raw).results:
            if result.error_code:
                errors[f"ORDER_{_CODE_NAMES.get(result.error_code, result.error_code)}"] += 1

    def deltas(raw: bytes, errors: Counter[str]) -> None:
        ack = sync_pb2.DeltaAck.FromString(raw)
        if ack.status != sync_pb2.ACK_STATUS_APPLIED:
            errors[f"ACK_{sync_pb2.AckStatus.Name(ack.status)}"] += 1

    def nothing(raw: bytes, errors: Counter[str]) -> None:
        del raw, errors

    return {"route": route, "reserve": reserve, "batch": batch, "deltas": deltas}.get(
        kind, nothing)


def _status_name(error: BaseException) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return str(error.code().name)
    if isinstance(error, TimeoutError):
        return "DEADLINE_EXCEEDED"
    return type(error).__name__


class _Worker:
    """One process's share of a phase, on its own channels and event loop."""

    def __init__(self, phase: Phase, payloads: list[bytes], index: int, start_at: float,
                 deltas: tuple[bytes, bytes] | None) -> None:
        self.phase = phase
        self.payloads = payloads
        self.index = index
        self.start_at = start_at
        self.deltas = deltas
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.items = 0
        self.check = _checker(phase.check)
        share, extra = divmod(phase.max_calls, phase.processes)
        self.budget = share + (1 if index < extra else 0)

    async def run(self) -> WorkerResult:
        phase = self.phase
        channels = [grpc.aio.insecure_channel(phase.target, options=[
            *_CHANNEL_OPTIONS, ("omniroute.loadgen.channel", c)]) for c in range(phase.channels)]
        try:
            for channel in channels:
                await asyncio.wait_for(channel.channel_ready(), 10.0)
            if phase.streaming:
                calls: list[Any] = [c.stream_stream(phase.method, request_serializer=_identity,
                                                    response_deserializer=_identity)
                                    for c in channels]
            else:
                calls = [c.unary_unary(phase.method, request_serializer=_identity,
                                       response_deserializer=_identity) for c in channels]
                for call in calls:  # connection set-up and first-call costs stay out of it
                    await call(self.payloads[0], timeout=_CALL_TIMEOUT_S)
            delay = self.start_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            started = time.perf_counter()
            if phase.streaming:
                await asyncio.gather(*(self._stream(calls[t % len(calls)], t, started)
                                       for t in range(phase.streams)))
            elif phase.mode == "open":
                await self._open_loop(calls, started)
            else:
                await asyncio.gather(*(self._closed(calls[t % len(calls)], t, started)
                                       for t in range(phase.concurrency)))
            finished = time.perf_counter()
        finally:
            for channel in channels:
                await channel.close(None)
        return WorkerResult(np.array(self.latencies, dtype=np.float64), dict(self.errors),
                            len(self.latencies), self.items, started, finished)

    def _take(self) -> bool:
        if self.budget <= 0:
            return False
        self.budget -= 1
        return True

    async def _unary(self, call: Any, payload: bytes, since: float, sample: bool) -> None:
        try:
            raw = await call(payload, timeout=_CALL_TIMEOUT_S)
        except (TimeoutError, grpc.aio.AioRpcError) as error:
            self.errors[_status_name(error)] += 1
            return
        self.latencies.append(time.perf_counter() - since)
        self.items += self.phase.items_per_call
        if sample:
            self.check(raw, self.errors)

    async def _closed(self, call: Any, task: int, started: float) -> None:
        deadline = started + self.phase.duration_s
        n = len(self.payloads)
        i = task * 7919 + self.index * 104729
        while time.perf_counter() < deadline and self._take():
            i += 1
            await self._unary(call, self.payloads[i % n], time.perf_counter(), i % 8 == 0)

    async def _open_loop(self, calls: list[Any], started: float) -> None:
        phase = self.phase
        rate = phase.rate / phase.processes
        interval = 1.0 / rate
        count = min(self.budget, int(phase.duration_s * rate))
        # Processes interleave their arrivals instead of firing together.
        first = started + interval * self.index / phase.processes
        pending: set[asyncio.Task[None]] = set()
        n = len(self.payloads)
        for i in range(count):
            intended = first + i * interval
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._unary(
                calls[i % len(calls)], self.payloads[(i + self.index * 104729) % n], intended,
                i % 8 == 0))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)

    async def _stream(self, call: Any, task: int, started: float) -> None:
        """One bidi stream with one message in flight: latency is message to its response."""
        deadline = started + self.phase.duration_s
        stream = call(timeout=self.phase.duration_s + _CALL_TIMEOUT_S)
        source = f"loadgen-{os.getpid()}-{task}-{time.time_ns()}"
        n = len(self.payloads)
        sequence = 0
        try:
            while time.perf_counter() < deadline and self._take():
                sequence += 1
                if self.deltas is not None:
                    payload = self._delta_batch(source, sequence)
                else:
                    payload = self.payloads[(sequence + task * 7919) % n]
                since = time.perf_counter()
                await stream.write(payload)
                raw = await stream.read()
                if raw is grpc.aio.EOF:  # type: ignore[attr-defined]
                    self.errors["EOF"] += 1
                    return
                self.latencies.append(time.perf_counter() - since)
                self.items += self.phase.items_per_call
                self.check(raw, self.errors)
            if self.deltas is not None and sequence % 2 == 1:
                # Undo the last +1 batch, untimed, so the load nets to zero.
                await stream.write(self._delta_batch(source, sequence + 1))
                await stream.read()
            await stream.done_writing()
            code = await stream.code()
            if code != grpc.StatusCode.OK:
                self.errors[code.name] += 1
        except (TimeoutError, grpc.aio.AioRpcError) as error:
            self.errors[_status_name(error)] += 1

    def _delta_batch(self, source: str, sequence: int) -> bytes:
        assert self.deltas is not None
        plus, minus = self.deltas
        # A serialized header message followed by the serialized deltas parses as one
        # DeltaBatch (protobuf merges concatenated messages), so no per-message rebuild.
        head = sync_pb2.DeltaBatch(source_id=source, sequence=sequence).SerializeToString()
        return head + (plus if sequence % 2 == 1 else minus)


def _run_worker(phase: Phase, payloads: list[bytes], index: int, start_at: float,
                deltas: tuple[bytes, bytes] | None) -> WorkerResult:
    return asyncio.run(_Worker(phase, payloads, index, start_at, deltas).run())


def _noop() -> int:
    return os.getpid()


# --- orchestration -------------------------------------------------------------------------


class LoadGenerator:
    """Runs phases on a pool of spawned worker processes (spawned, not forked: a forked gRPC
    client inherits the parent's channel state)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(max_workers=processes,
                                         mp_context=multiprocessing.get_context("spawn"))
        # Start every worker (and its imports) before the first timed phase.
        for future in [self._pool.submit(_noop) for _ in range(processes * 2)]:
            future.result()

    def close(self) -> None:
        self._pool.shutdown()

    def run(self, phase: Phase, payloads: list[bytes],
            deltas: tuple[bytes, bytes] | None = None) -> PhaseResult:
        start_at = time.perf_counter() + _START_LEAD_S
        steal_before = _steal_now()
        futures = [self._pool.submit(_run_worker, phase, payloads, i, start_at, deltas)
                   for i in range(phase.processes)]
        results = [f.result() for f in futures]
        steal_after = _steal_now()
        errors: Counter[str] = Counter()
        for r in results:
            errors.update(r.errors)
        wall = max(r.finished for r in results) - min(r.started for r in results)
        return PhaseResult(phase=phase,
                           latencies_s=np.concatenate([r.latencies_s for r in results]),
                           errors=dict(errors), ok_calls=sum(r.ok_calls for r in results),
                           items=sum(r.items for r in results), wall_s=wall,
                           steal_s=(None if steal_before is None or steal_after is None
                                    else steal_after - steal_before))


@dataclasses.dataclass(frozen=True)
class Settings:
    target: str
    sync_target: str
    rpcs: Sequence[str]
    mode: str
    """'closed', 'open' or 'both' (closed, then open at `rate` or half the closed rate)."""
    rate: float
    duration_s: float
    max_calls: int
    processes: int
    channels: int
    concurrency: int
    streams: int
    """Per process. A server holds one handler thread per open stream for the stream's life
    (the router's pool has 16), so more streams than threads measure queueing for a thread,
    not routing."""
    batch_size: int
    delta_batch: int
    orders: int
    seed: int
    data_dir: Path


def run_load(settings: Settings, *, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run every requested phase with its echo twin; return one summary dict per phase."""
    check_loopback(settings.target)
    if "deltas" in settings.rpcs:
        check_loopback(settings.sync_target)
    network = load_network(settings.data_dir)
    served = describe(settings.target)
    if (served.node_count, served.sku_count) != (len(network.nodes), len(network.skus)):
        log(f"warning: the server has {served.node_count} nodes and {served.sku_count} SKUs, "
            f"{settings.data_dir} has {len(network.nodes)} and {len(network.skus)}: pass the "
            "server's --data directory with --data")
    echo = has_echo(settings.target)
    if not echo:
        log("warning: no Echo service on the server (start it with --bench-echo): no ratios")
    payloads = build_payloads(network, orders=settings.orders, batch_size=settings.batch_size,
                              delta_batch=settings.delta_batch, seed=settings.seed)
    base: dict[str, Any] = {
        "duration_s": settings.duration_s, "max_calls": settings.max_calls,
        "concurrency": settings.concurrency, "streams": settings.streams,
        "processes": settings.processes,
        "channels": settings.channels}
    generator = LoadGenerator(settings.processes)
    summaries: list[dict[str, Any]] = []
    try:
        for rpc in (r for r in RPCS if r in settings.rpcs):
            summaries += _run_rpc(generator, settings, rpc, payloads, base=base, echo=echo,
                                  log=log)
    finally:
        generator.close()
    return summaries


def _run_rpc(generator: LoadGenerator, settings: Settings, rpc: str, payloads: Payloads, *,
             base: dict[str, Any], echo: bool, log: Callable[[str], None]
             ) -> list[dict[str, Any]]:
    b = settings.batch_size
    spec: dict[str, tuple[str, bool, int, str, list[bytes], str, str]] = {
        # rpc: (method, streaming, items per call, item, payloads, twin method, check)
        "route": (_ROUTE, False, 1, "orders", payloads.route, _ECHO, "route"),
        "reserve": (_ROUTE, False, 1, "orders", payloads.reserve, _ECHO, "reserve"),
        "batch": (_ROUTE_BATCH, False, b, "orders", payloads.batch, _ECHO_BATCH, "batch"),
        "stream": (_ROUTE_STREAM, True, b, "orders", payloads.batch, _ECHO_BATCH, "batch"),
        "availability": (_AVAILABILITY, False, 1, "calls", payloads.availability, _ECHO, ""),
        "deltas": (_DELTAS, True, settings.delta_batch, "deltas", [], "", "deltas"),
    }
    method, streaming, items, item, data, twin_method, check = spec[rpc]
    twin_data = payloads.route if twin_method == _ECHO else payloads.batch
    target = settings.sync_target if rpc == "deltas" else settings.target
    deltas = (payloads.deltas_plus, payloads.deltas_minus) if rpc == "deltas" else None
    modes = ["closed", "open"] if settings.mode == "both" else [settings.mode]
    if streaming:
        modes = ["closed"]  # one message in flight per stream: closed loop by construction
    out: list[dict[str, Any]] = []
    closed_rate = 0.0
    for mode in modes:
        rate = settings.rate
        if mode == "open" and rate <= 0:
            if closed_rate <= 0:
                raise LoadgenError("open loop needs --rate, or --mode both to use half the "
                                   "closed-loop rate")
            rate = closed_rate / 2
        suffix = "" if settings.mode != "both" or streaming else f" {mode}"
        twin: PhaseResult | None = None
        if echo and twin_method:
            twin_phase = Phase(name=f"echo ({rpc}{suffix})", target=settings.target,
                               method=twin_method, streaming=False,
                               items_per_call=items if item == "orders" else 1,
                               item=item if item == "orders" else "calls", mode=mode,
                               rate=rate, **base)
            log(f"running {twin_phase.name}: {mode} loop"
                + (f" at {rate:,.0f} calls/s" if mode == "open" else ""))
            twin = generator.run(twin_phase, twin_data)
            out.append(twin.summary(None))
        phase = Phase(name=f"{rpc}{suffix}", target=target, method=method, streaming=streaming,
                      items_per_call=items, item=item, mode=mode, rate=rate,
                      twin=twin.phase.name if twin else "", check=check, **base)
        log(f"running {phase.name}: {mode} loop"
            + (f" at {rate:,.0f} calls/s" if mode == "open" else ""))
        result = generator.run(phase, data, deltas)
        if mode == "closed":
            closed_rate = result.calls_per_s
        out.append(result.summary(twin))
    return out


def steal_text(steal_ms: float | None) -> str:
    """A summary's `steal_ms` for a table."""
    return "n/a" if steal_ms is None else f"{steal_ms:,.0f}"


def print_summaries(summaries: Sequence[dict[str, Any]]) -> None:
    """A rich table: throughput, percentiles and errors, each with its ratio to echo."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 200
    table = Table(title="omniroute loadgen (ratios are to the Echo twin of the same run)",
                  title_justify="left")
    for column in ("phase", "mode", "calls", "calls/s", "items/s", "x echo", "p50 ms",
                   "p90 ms", "p99 ms", "p99.9 ms", "p99 x echo", "steal ms", "errors"):
        table.add_column(column, justify="left" if column in {"phase", "mode", "errors"}
                         else "right")
    for s in summaries:
        # Open loop sends at the offered rate whatever the server does: only closed loop has a
        # throughput ceiling to compare with.
        ratio = s.get("throughput_ratio") if s["mode"] == "closed" else None
        p99_ratio = s.get("p99_ratio")
        rate = "" if s["mode"] == "closed" else f" @{s['rate']:,.0f}/s"
        table.add_row(
            s["name"], s["mode"] + rate, f"{s['ok_calls']:,}", f"{s['calls_per_s']:,.0f}",
            f"{s['items_per_s']:,.0f} {s['item']}", f"{ratio:.2f}" if ratio else "",
            f"{s['p50_ms']:.2f}", f"{s['p90_ms']:.2f}", f"{s['p99_ms']:.2f}",
            f"{s['p99.9_ms']:.2f}", f"{p99_ratio:.2f}" if p99_ratio else "",
            steal_text(s["steal_ms"]),
            ", ".join(f"{k} {v}" for k, v in sorted(s["errors"].items())) or "none")
    console.print(table)
