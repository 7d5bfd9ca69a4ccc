"""Reservations through `omniroute serve` with several worker processes: never oversell under
concurrency, keep every acknowledged reservation across a SIGKILLed worker and a SIGKILLed
server, idempotent Release/Confirm, expiry, and admin changes seen by every worker."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from server_process import RunningServer, children_by_role, start_server, stop_server

from omniroute.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    router_pb2,
    router_pb2_grpc,
    sync_pb2,
    sync_pb2_grpc,
    types_pb2,
)

WORKERS = 4
CLIENTS = 32
ATTEMPTS_PER_PHASE = 2500
UNITS_PER_NODE = 20
STRESS_NODES = 5
SHIP_TOS = ["60614", "10001", "30301", "75201", "94103", "98101"]
HOLD_S = 3600
OWN_CONNECTION = [
    # grpc shares one connection among channels with equal options (its global subchannel
    # pool); each client needs its own so that SO_REUSEPORT spreads them over the workers.
    ("grpc.use_local_subchannel_pool", 1),
    # No transparent retries: a call whose worker died must surface as an error here, not be
    # re-sent silently (Route with reserve is not idempotent; docs/reservations.md).
    ("grpc.enable_retries", 0),
]


def send_batch(target: str, source: str, sequence: int,
               deltas: list[sync_pb2.InventoryDelta]) -> None:
    with grpc.insecure_channel(target) as channel:
        (ack,) = list(sync_pb2_grpc.InventorySyncStub(channel).StreamDeltas(
            iter([sync_pb2.DeltaBatch(source_id=source, sequence=sequence, deltas=deltas)]),
            timeout=30))
    assert ack.status == sync_pb2.ACK_STATUS_APPLIED, ack


def set_stock(sku: str, node_id: str, qty: int) -> sync_pb2.InventoryDelta:
    return sync_pb2.InventoryDelta(sku=sku, node_id=node_id,
                                   disposition=types_pb2.DISPOSITION_SELLABLE,
                                   kind=sync_pb2.DELTA_KIND_SET, qty=qty)


def order(order_id: str, sku: str, qty: int, ship_to: str = "60614", *,
          reserve: bool = True, hold_s: float = HOLD_S) -> router_pb2.RouteRequest:
    request = router_pb2.RouteRequest(
        order_id=order_id, channel="web", service_level="ground",
        ship_to=types_pb2.ShipTo(postal_code=ship_to), reserve=reserve,
        lines=[router_pb2.OrderLine(line_id="1", sku=sku, qty=qty)])
    if reserve:
        request.hold.seconds = int(hold_s)
        request.hold.nanos = int((hold_s - int(hold_s)) * 1e9)
    return request


def nodes(target: str) -> dict[str, admin_pb2.NodeState]:
    with grpc.insecure_channel(target) as channel:
        described = admin_pb2_grpc.AdminStub(channel).DescribeNetwork(
            admin_pb2.DescribeNetworkRequest(include_nodes=True), timeout=30)
    return {n.node_id: n for n in described.nodes}


def availability(target: str, sku: str) -> dict[str, router_pb2.NodeAvailability]:
    with grpc.insecure_channel(target) as channel:
        reply = router_pb2_grpc.RouterStub(channel).GetAvailability(
            router_pb2.GetAvailabilityRequest(skus=[sku], channel="web"), timeout=30)
    return {n.node_id: n for n in reply.skus[0].nodes}


def units_by_node(response: router_pb2.RouteResponse) -> Counter[str]:
    taken: Counter[str] = Counter()
    for shipment in response.shipments:
        taken[shipment.node_id] += sum(line.qty for line in shipment.lines)
    return taken


class Load:
    """CLIENTS threads, each with its own channel (so connections spread over the workers),
    sending `attempts` reserving orders for `sku`; records what each acknowledged."""

    def __init__(self, target: str, sku: str, attempts: int, seed: int) -> None:
        self.target, self.sku = target, sku
        self.next = iter(range(attempts))
        self.lock = threading.Lock()
        self.acked: dict[str, Counter[str]] = {}
        self.failed_units = 0
        self.errors: Counter[str] = Counter()
        self.done = 0
        self.rng = random.Random(seed)

    def _take(self) -> int | None:
        with self.lock:
            return next(self.next, None)

    def client(self) -> None:
        with grpc.insecure_channel(self.target, options=OWN_CONNECTION) as channel:
            stub = router_pb2_grpc.RouterStub(channel)
            while (n := self._take()) is not None:
                with self.lock:
                    qty = self.rng.randint(1, 3)
                    ship_to = self.rng.choice(SHIP_TOS)
                try:
                    reply = stub.Route(order(f"{self.sku}-{n}", self.sku, qty, ship_to),
                                       timeout=30)
                except grpc.RpcError as error:
                    with self.lock:
                        self.errors[error.code().name] += 1
                        # Maybe reserved before the connection broke: never acknowledged.
                        self.failed_units += qty
                    continue
                with self.lock:
                    self.done += 1
                    if reply.reservation_id:
                        assert reply.reservation_id not in self.acked
                        self.acked[reply.reservation_id] = units_by_node(reply)

    def run(self, during: threading.Event | None = None) -> None:
        threads = [threading.Thread(target=self.client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads)

    def total(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for taken in self.acked.values():
            total.update(taken)
        return total


def stock_sku(running: RunningServer, sku: str, source_seq: int, units: int) -> list[str]:
    dcs = sorted(n.node_id for n in nodes(running.router).values()
                 if n.kind == "dc" and n.enabled and "ship" in n.capabilities)[:STRESS_NODES]
    send_batch(running.sync, "stress-feed", source_seq,
               [set_stock(sku, node, units) for node in dcs])
    return dcs


def wait_for_workers(running: RunningServer, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(children_by_role(running.process.pid, "worker")) == count and \
                running.log().count("router SERVING") >= count + 1:
            return
        time.sleep(0.2)
    pytest.fail(f"worker not restarted:\n{running.log()}")


def test_concurrent_reservations_never_oversell_and_survive_kills(tmp_path: Path) -> None:
    state = tmp_path / "state"
    running = start_server(tmp_path, "--workers", str(WORKERS), state=state)
    try:
        # Phase 1: 100 units of a SKU no one else has, over 5 DCs; one DC's capacity binds.
        dcs = stock_sku(running, "STRESS-1", 1, UNITS_PER_NODE)
        before = nodes(running.router)
        tight = dcs[0]
        with grpc.insecure_channel(running.router) as channel:
            admin_pb2_grpc.AdminStub(channel).SetNodeCapacity(admin_pb2.SetNodeCapacityRequest(
                node_id=tight, daily_capacity_units=before[tight].capacity_used_today + 12),
                timeout=30)
        atp = {n: a.atp for n, a in availability(running.router, "STRESS-1").items()}
        assert sum(atp.values()) == STRESS_NODES * UNITS_PER_NODE
        load = Load(running.router, "STRESS-1", ATTEMPTS_PER_PHASE, seed=1)
        load.run()
        assert not load.errors, load.errors
        taken = load.total()
        after = availability(running.router, "STRESS-1")
        described = nodes(running.router)
        print(f"\nphase 1: {len(load.acked)} reservations of {ATTEMPTS_PER_PHASE} attempts "
              f"took {sum(taken.values())} of {sum(atp.values())} units: {dict(taken)}")
        for node in dcs:
            # Exact: the server holds precisely what it acknowledged, never more than it had.
            assert after[node].reserved == taken[node]
            assert taken[node] <= atp[node]
            used = described[node].capacity_used_today - before[node].capacity_used_today
            assert used == taken[node]
            assert described[node].capacity_used_today <= described[node].daily_capacity_units
        assert taken[tight] == 12  # capacity, not stock, stopped it
        # Every worker served some of it (prometheus_client's per-process metric files).
        served = {int(f.stem.split("_")[1]) for f in (state / "metrics").glob("counter_*.db")}
        assert set(children_by_role(running.process.pid, "worker")) <= served
        # Demand far exceeds supply, so every unit the rules allow is sold: no undersell.
        assert sum(taken.values()) == sum(atp.values()) - (atp[tight] - 12)

        # Phase 2: 1,000 units of another SKU, so reservations are still being taken when a
        # worker is SIGKILLed (after 100 answers); the supervisor restarts it.
        dcs2 = stock_sku(running, "STRESS-2", 2, 10 * UNITS_PER_NODE)
        atp2 = {n: a.atp for n, a in availability(running.router, "STRESS-2").items()}
        room = {n: s.daily_capacity_units - s.capacity_used_today
                for n, s in nodes(running.router).items()}
        load2 = Load(running.router, "STRESS-2", ATTEMPTS_PER_PHASE, seed=2)
        victim = children_by_role(running.process.pid, "worker")[1]

        def kill_mid_load() -> None:
            while load2.done < 100:
                time.sleep(0.005)
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_mid_load)
        killer.start()
        load2.run()
        killer.join(60)
        wait_for_workers(running, WORKERS)
        taken2 = load2.total()
        after2 = availability(running.router, "STRESS-2")
        print(f"phase 2: {len(load2.acked)} reservations, {sum(taken2.values())} units, "
              f"errors {dict(load2.errors)} (a worker was SIGKILLed)")
        assert set(load2.errors) <= {"UNAVAILABLE", "CANCELLED", "UNKNOWN", "INTERNAL"}
        assert load2.errors, "the killed worker had no calls in flight"
        described2 = nodes(running.router)
        for node in dcs2:
            assert described2[node].capacity_used_today <= described2[node].daily_capacity_units
        # Sold out despite the kill (DC-CA-ONTARIO's capacity went in phase 1).
        assert sum(a.reserved for a in after2.values()) == sum(
            min(atp2[n], room[n]) for n in dcs2)
        for node in dcs2:
            assert taken2[node] <= after2[node].reserved <= atp2[node]
        # A reservation committed by the killed worker but never answered may hold units too.
        assert sum(a.reserved for a in after2.values()) - sum(taken2.values()) <= \
            load2.failed_units
        held = {sku: {n: a.reserved for n, a in availability(running.router, sku).items()}
                for sku in ("STRESS-1", "STRESS-2")}
    finally:
        running.process.kill()  # SIGKILL the supervisor: workers and sidecar die with it
        running.process.wait()
    time.sleep(1)
    restarted = start_server(tmp_path, "--workers", str(WORKERS), state=state)
    try:
        for sku in ("STRESS-1", "STRESS-2"):
            assert {n: a.reserved for n, a in availability(restarted.router, sku).items()} == \
                held[sku]
        # Every acknowledged reservation is still there and held: releasing it works.
        with grpc.insecure_channel(restarted.router) as channel:
            stub = router_pb2_grpc.RouterStub(channel)
            for rid in [*load.acked, *load2.acked]:
                state_after = stub.Release(router_pb2.ReleaseRequest(reservation_id=rid),
                                           timeout=30).reservation
                assert list(state_after.released_line_ids) == ["1"]
                assert not state_after.held_line_ids
        left = availability(restarted.router, "STRESS-1")
        assert all(a.reserved == 0 for a in left.values())
    finally:
        stop_server(restarted)


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("reserve"), "--workers", "2")
    yield running
    stop_server(running)


def test_confirm_and_release_are_idempotent(workers: RunningServer) -> None:
    send_batch(workers.sync, "idem-feed", 1, [set_stock("IDEM-SKU", "DC-IL-JOLIET", 10)])
    with grpc.insecure_channel(workers.router) as channel:
        stub = router_pb2_grpc.RouterStub(channel)
        reply = stub.Route(order("idem-1", "IDEM-SKU", 3), timeout=30)
        assert reply.reservation_id
        assert units_by_node(reply) == {"DC-IL-JOLIET": 3}
        node = availability(workers.router, "IDEM-SKU")["DC-IL-JOLIET"]
        assert (node.sellable, node.reserved, node.atp) == (10, 3, 7)
        for _ in range(2):
            confirmed = stub.Confirm(router_pb2.ConfirmRequest(
                reservation_id=reply.reservation_id), timeout=30).reservation
            assert list(confirmed.confirmed_line_ids) == ["1"]
            node = availability(workers.router, "IDEM-SKU")["DC-IL-JOLIET"]
            # Shipped: on-hand and reserved dropped together, once.
            assert (node.sellable, node.reserved, node.atp) == (7, 0, 7)
        with pytest.raises(grpc.RpcError) as error:
            stub.Release(router_pb2.ReleaseRequest(reservation_id=reply.reservation_id,
                                                   line_ids=["1"]), timeout=30)
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "line_ids[0]" in error.value.details()

        second = stub.Route(order("idem-2", "IDEM-SKU", 2), timeout=30)
        for _ in range(2):
            released = stub.Release(router_pb2.ReleaseRequest(
                reservation_id=second.reservation_id), timeout=30).reservation
            assert list(released.released_line_ids) == ["1"]
            assert availability(workers.router, "IDEM-SKU")["DC-IL-JOLIET"].reserved == 0
        with pytest.raises(grpc.RpcError) as error:
            stub.Release(router_pb2.ReleaseRequest(reservation_id=second.reservation_id,
                                                   line_ids=["9"]), timeout=30)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert "line_ids[0]" in error.value.details()


def test_a_batch_reserves_in_order_without_overselling(workers: RunningServer) -> None:
    send_batch(workers.sync, "batch-feed", 1, [set_stock("BATCH-SKU", "DC-IL-JOLIET", 5)])
    # Every dry run of the batch sees all 5 units; reserving them in order must not.
    request = router_pb2.RouteBatchRequest(orders=[
        order(f"batch-{i}", "BATCH-SKU", 2) for i in range(3)])
    request.orders.append(order("batch-dry", "BATCH-SKU", 2, reserve=False))
    with grpc.insecure_channel(workers.router) as channel:
        reply = router_pb2_grpc.RouterStub(channel).RouteBatch(request, timeout=30)
    held = [r.response for r in reply.results[:3]]
    assert all(h.reservation_id for h in held)
    assert [sum(units_by_node(h).values()) for h in held] == [2, 2, 1]
    assert held[2].status == types_pb2.ROUTE_STATUS_PARTIAL
    assert not reply.results[3].response.reservation_id
    assert availability(workers.router, "BATCH-SKU")["DC-IL-JOLIET"].reserved == 5


def test_expired_holds_return_their_stock(workers: RunningServer) -> None:
    send_batch(workers.sync, "expiry-feed", 1, [set_stock("EXPIRY-SKU", "DC-IL-JOLIET", 4)])
    with grpc.insecure_channel(workers.router) as channel:
        stub = router_pb2_grpc.RouterStub(channel)
        reply = stub.Route(order("exp-1", "EXPIRY-SKU", 4, hold_s=3.0), timeout=30)
        assert reply.reservation_id
        assert reply.hold_expires_at.seconds > 0
        sold_out = stub.Route(order("exp-2", "EXPIRY-SKU", 1, reserve=False), timeout=30)
        if time.time() < reply.hold_expires_at.seconds:  # on a very slow machine it may be gone
            assert sold_out.status == types_pb2.ROUTE_STATUS_UNROUTABLE
        deadline = time.monotonic() + 10
        while availability(workers.router, "EXPIRY-SKU")["DC-IL-JOLIET"].reserved:
            assert time.monotonic() < deadline, "hold did not expire"
            time.sleep(0.1)
        again = stub.Route(order("exp-3", "EXPIRY-SKU", 4, reserve=False), timeout=30)
        assert again.status == types_pb2.ROUTE_STATUS_ROUTED
        state = stub.Release(router_pb2.ReleaseRequest(reservation_id=reply.reservation_id),
                             timeout=30).reservation
        assert list(state.released_line_ids) == ["1"]
        with pytest.raises(grpc.RpcError) as error:
            stub.Confirm(router_pb2.ConfirmRequest(reservation_id=reply.reservation_id,
                                                   line_ids=["1"]), timeout=30)
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION


RULESET_V2 = """
version = 2
split_penalty = 1.0
unfilled_penalty = 50.0
max_shipments = 3
ship_from_store = false
pickup_ship_to_store = true
[weights]
cost = 1.0
distance_per_km = 0.0
priority = 0.0
capacity_balance = 0.0
[channel_node_kinds]
"*" = ["dc", "vendor", "digital"]
[safety_stock."*"]
dc = 0
"""


def test_admin_changes_reach_every_worker(workers: RunningServer) -> None:
    send_batch(workers.sync, "admin-feed", 1, [set_stock("ADMIN-SKU", "DC-IL-JOLIET", 50),
                                               set_stock("ADMIN-SKU", "DC-NJ-EDISON", 50)])
    channels = [grpc.insecure_channel(workers.router, options=OWN_CONNECTION)
                for _ in range(12)]
    try:
        stubs = [router_pb2_grpc.RouterStub(c) for c in channels]
        first = {units_by_node(s.Route(order("adm-0", "ADMIN-SKU", 1, reserve=False),
                                       timeout=30)).most_common(1)[0][0] for s in stubs}
        assert first == {"DC-IL-JOLIET"}
        admin = admin_pb2_grpc.AdminStub(channels[0])
        state = admin.SetNodeEnabled(admin_pb2.SetNodeEnabledRequest(
            node_id="DC-IL-JOLIET", enabled=False, reason="test"), timeout=30)
        assert not state.enabled
        # Every connection (spread over both workers by SO_REUSEPORT) routes around it.
        for s in stubs:
            reply = s.Route(order("adm-1", "ADMIN-SKU", 1, reserve=False), timeout=30)
            assert set(units_by_node(reply)) == {"DC-NJ-EDISON"}
        with pytest.raises(grpc.RpcError) as error:
            admin.SetNodeCapacity(admin_pb2.SetNodeCapacityRequest(
                node_id="DC-IL-JOLIET", daily_capacity_units=-1), timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "daily_capacity_units" in error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            admin.SetNodeEnabled(admin_pb2.SetNodeEnabledRequest(node_id="NOPE"), timeout=30)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        admin.SetNodeEnabled(admin_pb2.SetNodeEnabledRequest(
            node_id="DC-IL-JOLIET", enabled=True), timeout=30)

        with pytest.raises(grpc.RpcError) as error:
            admin.ActivateRuleset(admin_pb2.ActivateRulesetRequest(
                name="default", toml=RULESET_V2.replace("cost = 1.0", "cost = -1.0")),
                timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "toml.weights.cost" in error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            admin.ActivateRuleset(admin_pb2.ActivateRulesetRequest(
                name="default", toml=RULESET_V2.replace("version = 2", "version = 1")),
                timeout=30)
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        activated = admin.ActivateRuleset(admin_pb2.ActivateRulesetRequest(
            name="default", toml=RULESET_V2), timeout=30)
        assert activated.version == 2
        for s in stubs:
            reply = s.Route(order("adm-2", "ADMIN-SKU", 1, reserve=False), timeout=30)
            assert (reply.ruleset, reply.ruleset_version) == ("default", 2)
    finally:
        for c in channels:
            c.close()


def test_route_return_ranks_capable_nodes(workers: RunningServer) -> None:
    request = router_pb2.RouteReturnRequest(return_id="ret-1", sku="TSHIRT-BLK-M", qty=1,
                                            channel="web", service_level="ground", explain=True)
    getattr(request, "from").postal_code = "60614"
    with grpc.insecure_channel(workers.router) as channel:
        stub = router_pb2_grpc.RouterStub(channel)
        reply = stub.RouteReturn(request, timeout=30)
        described = nodes(workers.router)
        ranks = [c.rank for c in reply.candidates]
        assert ranks == list(range(1, len(ranks) + 1))
        assert ranks
        for c in reply.candidates:
            assert "returns" in described[c.node_id].capabilities
            assert c.detail
        # Short nodes first, then by cost.
        keys = [(c.atp > 0, c.ship_cost + c.handling_cost) for c in reply.candidates]
        assert keys == sorted(keys)
        request.service_level = ""
        with pytest.raises(grpc.RpcError) as error:
            stub.RouteReturn(request, timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "service_level" in error.value.details()
