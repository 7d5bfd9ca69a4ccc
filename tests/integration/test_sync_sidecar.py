"""Black-box tests of the real sidecar process (`python -m omniroute sidecar`) over gRPC."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from server_process import free_port, health_status

from omniroute.state.shared import SharedInventory
from omniroute.v1 import sync_pb2, sync_pb2_grpc, types_pb2

SELLABLE = types_pb2.DISPOSITION_SELLABLE
ADJUST, SET = sync_pb2.DELTA_KIND_ADJUST, sync_pb2.DELTA_KIND_SET
APPLIED, DUPLICATE, REJECTED = (sync_pb2.ACK_STATUS_APPLIED, sync_pb2.ACK_STATUS_DUPLICATE,
                                sync_pb2.ACK_STATUS_REJECTED)


@dataclass
class Sidecar:
    process: subprocess.Popen[bytes]
    target: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_sidecar(state: Path, timeout_s: float = 30.0) -> Sidecar:
    port = free_port()
    log_path = state.parent / f"sidecar-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "omniroute", "sidecar", "--state", str(state),
             "--port", str(port)], stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    sidecar = Sidecar(process, f"127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sidecar exited with {process.returncode}:\n{sidecar.log()}")
        if health_status(sidecar.target) == health_pb2.HealthCheckResponse.SERVING:
            return sidecar
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"sidecar not SERVING after {timeout_s} s:\n{sidecar.log()}")


def stop_sidecar(sidecar: Sidecar) -> None:
    if sidecar.process.poll() is None:
        sidecar.process.send_signal(signal.SIGTERM)
        sidecar.process.wait(20)
    assert sidecar.process.returncode in (0, -signal.SIGTERM, -signal.SIGKILL)


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[Sidecar]:
    running = start_sidecar(tmp_path / "state")
    yield running
    stop_sidecar(running)


def stream(target: str, batches: list[sync_pb2.DeltaBatch]) -> list[sync_pb2.DeltaAck]:
    with grpc.insecure_channel(target) as channel:
        stub = sync_pb2_grpc.InventorySyncStub(channel)
        return list(stub.StreamDeltas(iter(batches), timeout=30))


def status(target: str) -> sync_pb2.SyncStatus:
    with grpc.insecure_channel(target) as channel:
        reply: sync_pb2.SyncStatus = sync_pb2_grpc.InventorySyncStub(channel).GetSyncStatus(
            sync_pb2.GetSyncStatusRequest(), timeout=10)
        return reply


def batch(source: str, seq: int, *rows: tuple[str, str, int, int]) -> sync_pb2.DeltaBatch:
    out = sync_pb2.DeltaBatch(source_id=source, sequence=seq)
    for sku, node, kind, qty in rows:
        delta = out.deltas.add(sku=sku, node_id=node, disposition=SELLABLE, kind=kind, qty=qty)
        delta.event_time.GetCurrentTime()
    return out


def columns_batch(source: str, seq: int, *rows: tuple[str, str, int, int]
                  ) -> sync_pb2.DeltaBatch:
    """The same batch as `batch`, in the columnar form (each id once, refs per delta)."""
    out = sync_pb2.DeltaBatch(source_id=source, sequence=seq)
    columns = out.columns
    skus: dict[str, int] = {}
    nodes: dict[str, int] = {}
    now_ns = time.time_ns()
    for sku, node, kind, qty in rows:
        columns.sku_ref.append(skus.setdefault(sku, len(skus)))
        columns.node_ref.append(nodes.setdefault(node, len(nodes)))
        columns.disposition.append(SELLABLE)
        columns.kind.append(kind)
        columns.qty.append(qty)
        columns.event_time_unix_ns.append(now_ns)
    columns.skus.ids.extend(skus)
    columns.nodes.ids.extend(nodes)
    return out


def test_stream_retry_status_and_rejects(sidecar: Sidecar) -> None:
    reader = SharedInventory.open(sidecar.log_path.parent / "state")
    node = reader.node_ids[0]
    sku = reader.sku_ids()[0]
    start = int(reader.on_hand[0, 0, 0])
    batches = [batch("wms", 1, (sku, node, ADJUST, 3)),
               batch("wms", 2, ("NEW-ON-STREAM", node, SET, 9)),
               batch("wms", 4, (sku, node, ADJUST, 1))]  # gap: accepted
    acks = stream(sidecar.target, batches)
    assert [(a.sequence, a.status) for a in acks] == [(1, APPLIED), (2, APPLIED), (4, APPLIED)]
    assert [a.inventory_version for a in acks] == [1, 2, 3]
    # Visible as soon as acked, new SKU included.
    assert int(reader.on_hand[0, 0, 0]) == start + 4
    assert reader.on_hand[0, reader.sku_index("NEW-ON-STREAM"), 0] == 9
    # Reconnect and resend everything (a feed that lost its acks): applied once.
    again = stream(sidecar.target, [*batches, batch("wms", 3, (sku, node, ADJUST, 100))])
    assert [a.status for a in again] == [DUPLICATE] * 4
    assert int(reader.on_hand[0, 0, 0]) == start + 4
    bad = stream(sidecar.target, [batch("wms", 5, (sku, "NOWHERE", ADJUST, 1),
                                        (sku, node, ADJUST, -(10**6)))])
    assert bad[0].status == REJECTED
    assert [(e.index, e.field) for e in bad[0].errors] == [(0, "node_id"), (1, "qty")]
    assert "NOWHERE" in bad[0].errors[0].reason
    # The columnar form: same semantics, errors indexed by row.
    acks = stream(sidecar.target, [
        columns_batch("pos", 1, (sku, node, ADJUST, 2), ("NEW-COLUMNAR", node, SET, 4)),
        columns_batch("pos", 1, (sku, node, ADJUST, 2)),
        columns_batch("pos", 2, (sku, node, ADJUST, 1), (sku, "NOWHERE", ADJUST, 1),
                      (sku, node, ADJUST, -(10**6)))])
    assert [a.status for a in acks] == [APPLIED, DUPLICATE, REJECTED]
    assert [(e.index, e.field) for e in acks[2].errors] == [(1, "node_id"), (2, "qty")]
    assert int(reader.on_hand[0, 0, 0]) == start + 6
    assert reader.on_hand[0, reader.sku_index("NEW-COLUMNAR"), 0] == 4
    reply = status(sidecar.target)
    assert [(s.source_id, s.last_sequence) for s in reply.sources] == [("pos", 1), ("wms", 4)]
    assert reply.inventory_version == 4
    assert reply.batches_applied == 4
    assert reply.deltas_applied == 5
    assert reply.sku_count == len(reader.sku_ids())
    assert reply.node_count == len(reader.node_ids)
    assert reply.sources[0].lag_ms >= 0
    assert reply.last_snapshot_at.seconds > 0
    reader.close()


# -- crash test -------------------------------------------------------------------------------


@dataclass
class Feed:
    """A deterministic feed whose expected effect is known for every prefix of batches."""

    skus: list[str]
    nodes: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(4))
    batches: list[sync_pb2.DeltaBatch] = field(default_factory=list)
    effects: list[tuple[list[str], list[str], list[int]]] = field(default_factory=list)

    def get(self, seq: int) -> sync_pb2.DeltaBatch:
        while len(self.batches) < seq:
            n = len(self.batches) + 1
            skus = [self.rng.choice(self.skus) for _ in range(300)]
            if n % 7 == 0:
                skus[-1] = f"CRASH-NEW-{n}"  # registered on first sight
            nodes = [self.rng.choice(self.nodes) for _ in skus]
            qty = [self.rng.randint(1, 5) for _ in skus]
            make = batch if n % 2 else columns_batch  # both forms of the contract
            self.batches.append(make("crash-feed", n, *zip(skus, nodes, [ADJUST] * len(skus),
                                                           qty, strict=True)))
            self.effects.append((skus, nodes, qty))
        return self.batches[seq - 1]

    def expected(self, base: dict[tuple[str, str], int], upto: int) -> dict[tuple[str, str], int]:
        totals = dict(base)
        for skus, nodes, qty in self.effects[:upto]:
            for key in zip(skus, nodes, strict=True):
                totals[key] = totals.get(key, 0)
            for sku, node, q in zip(skus, nodes, qty, strict=True):
                totals[sku, node] += q
        return totals


def observed(reader: SharedInventory, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out = {}
    for sku, node in keys:
        idx = reader.sku_index(sku)
        out[sku, node] = -1 if idx < 0 else int(
            reader.on_hand[0, idx, reader.node_ids.index(node)])
    return out


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_acked(tmp_path: Path) -> None:
    state = tmp_path / "state"
    rng = random.Random(11)
    sidecar = start_sidecar(state)
    reader = SharedInventory.open(state)
    skus, nodes = reader.sku_ids()[:30], reader.node_ids[:10]
    base = {(s, n): int(reader.on_hand[0, reader.sku_index(s), reader.node_ids.index(n)])
            for s in skus for n in nodes}
    feed = Feed(skus, nodes)
    acked = 0  # highest sequence acknowledged (acks arrive in order on one stream)
    kills = 0
    duplicates_seen = 0
    while kills < 22:
        applied = next((s.last_sequence for s in status(sidecar.target).sources), 0)
        assert applied >= acked, f"acked batch {acked} lost; state has {applied}"
        reader.refresh()
        keys = sorted(feed.expected(base, applied))
        assert observed(reader, keys) == feed.expected(base, applied)
        # Resend from the first unacknowledged batch: those the sidecar applied before it died
        # come back DUPLICATE, the rest APPLIED; then keep feeding new ones.
        first = acked + 1
        killer = threading.Timer(rng.uniform(0.05, 0.6),
                                 lambda p=sidecar.process: p.send_signal(signal.SIGKILL))
        killer.start()
        try:
            with grpc.insecure_channel(sidecar.target) as channel:
                stub = sync_pb2_grpc.InventorySyncStub(channel)
                requests = (feed.get(seq) for seq in range(first, first + 400))
                for ack in stub.StreamDeltas(requests, timeout=30):
                    assert ack.sequence == acked + 1
                    if ack.sequence <= applied:
                        assert ack.status == DUPLICATE
                        duplicates_seen += 1
                    else:
                        assert ack.status == APPLIED, ack
                    acked = ack.sequence
        except grpc.RpcError as error:  # the kill broke the stream
            code = error.code()
        else:
            code = grpc.StatusCode.OK
        assert code in (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE,
                        grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.UNKNOWN)
        killer.join()
        sidecar.process.wait(10)
        if sidecar.process.returncode == -signal.SIGKILL:
            kills += 1
        sidecar = start_sidecar(state)
    applied = next(s.last_sequence for s in status(sidecar.target).sources)
    assert applied >= acked
    reader.refresh()
    expected = feed.expected(base, applied)
    assert observed(reader, sorted(expected)) == expected
    assert acked > 50
    stop_sidecar(sidecar)
    reader.close()
    print(f"{kills} kills, {acked} batches acked, {duplicates_seen} resent duplicates")


# A sidecar process whose fdatasync fails with EIO: the real CLI, with one function replaced.
_BROKEN_DISK = """
import errno, os, sys
def fdatasync(fd):
    raise OSError(errno.EIO, "injected I/O error")
os.fdatasync = fdatasync
from omniroute.cli import main
main(["sidecar", "--state", sys.argv[1], "--port", sys.argv[2]])
"""


def test_failed_fsync_exits_the_sidecar_nonzero(tmp_path: Path) -> None:
    from omniroute.sync.sidecar import EXIT_JOURNAL_FAILED

    state = tmp_path / "state"
    port = free_port()
    target = f"127.0.0.1:{port}"
    log_path = tmp_path / "broken.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-c", _BROKEN_DISK, str(state), str(port)],
                                   stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while health_status(target) != health_pb2.HealthCheckResponse.SERVING:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        reader = SharedInventory.open(state)
        sku, node = reader.sku_ids()[0], reader.node_ids[0]
        before = int(reader.on_hand[0, 0, 0])
        with pytest.raises(grpc.RpcError) as failure:
            stream(target, [batch("disk", 1, (sku, node, ADJUST, 1))])
        # Not acked; the feed is told to retry (after the restart).
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE, failure.value
        assert process.wait(30) == EXIT_JOURNAL_FAILED, log_path.read_text()
        assert "journal write or fsync failed" in log_path.read_text()
        # Never published, since never durable.
        assert int(reader.on_hand[0, 0, 0]) == before
        reader.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # A healthy restart recovers what is on disk; the resent batch then applies exactly once
    # (or is a duplicate, had the failed write reached the disk after all).
    sidecar = start_sidecar(state)
    try:
        (ack,) = stream(sidecar.target, [batch("disk", 1, (sku, node, ADJUST, 1))])
        assert ack.status in (APPLIED, DUPLICATE)
        reader = SharedInventory.open(state)
        assert int(reader.on_hand[0, 0, 0]) == before + 1
        reader.close()
    finally:
        stop_sidecar(sidecar)
