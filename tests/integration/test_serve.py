"""Black-box: the real server process, over gRPC, as a user would run it."""

from __future__ import annotations

import os
import signal
import time
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from server_process import (
    DEFAULT_WORKERS,
    RunningServer,
    child_pids,
    children_by_role,
    health_status,
    pid_alive,
    start_server,
    stop_server,
)

from omniroute.api.convert import order_to_proto
from omniroute.sim.examples import seed_order
from omniroute.v1 import admin_pb2, admin_pb2_grpc, router_pb2, router_pb2_grpc, types_pb2


def listed_services(target: str) -> set[str]:
    with grpc.insecure_channel(target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        return {s.name for reply in replies for s in reply.list_services_response.service}


def test_reflection_lists_every_service_on_its_port(server: RunningServer) -> None:
    assert listed_services(server.router) >= {
        "omniroute.v1.Router", "omniroute.v1.Admin", "grpc.health.v1.Health"}
    assert "omniroute.v1.InventorySync" not in listed_services(server.router)
    assert listed_services(server.sync) >= {"omniroute.v1.InventorySync", "grpc.health.v1.Health"}
    assert health_status(server.router, "omniroute.v1.Router") == (
        health_pb2.HealthCheckResponse.SERVING)


def test_routes_the_seed_order(server: RunningServer) -> None:
    order = seed_order()
    with grpc.insecure_channel(server.router) as channel:
        response = router_pb2_grpc.RouterStub(channel).Route(order_to_proto(order), timeout=30)
    assert response.order_id == order.order_id
    assert response.currency == "USD"
    by_line = {}
    for shipment in response.shipments:
        for line in shipment.lines:
            by_line[line.line_id] = shipment
    skus = {line.line_id: line.sku for line in order.lines}
    digital = next(lid for lid, sku in skus.items() if sku == "EGIFT-50")
    assert by_line[digital].fulfillment == types_pb2.FULFILLMENT_DIGITAL
    assert by_line[digital].ship_cost == 0.0
    preorder = next(lid for lid, sku in skus.items() if sku == "PREORDER-CONSOLE")
    assert [b.line_id for b in response.backorders] == [preorder]
    assert response.status == types_pb2.ROUTE_STATUS_BACKORDERED
    shipped = {lid for lid in skus if lid != preorder}
    assert set(by_line) == shipped
    # The cost terms add up, so anyone can recompute the total.
    cost = response.cost
    assert cost.ship_cost == pytest.approx(sum(s.ship_cost for s in response.shipments))
    assert cost.handling_cost == pytest.approx(sum(s.handling_cost for s in response.shipments))
    assert cost.total == pytest.approx(cost.ship_cost + cost.handling_cost + cost.split_penalty
                                       + cost.unfilled_penalty + cost.other_terms)


def test_bad_input_names_the_field(server: RunningServer) -> None:
    request = order_to_proto(seed_order())
    request.lines[0].qty = -1
    with grpc.insecure_channel(server.router) as channel, pytest.raises(grpc.RpcError) as error:
        router_pb2_grpc.RouterStub(channel).Route(request, timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "lines[0].qty" in error.value.details()


def test_reservation_rpcs_name_bad_fields(server: RunningServer) -> None:
    with grpc.insecure_channel(server.router) as channel:
        stub = router_pb2_grpc.RouterStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            stub.Release(router_pb2.ReleaseRequest(reservation_id=""), timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "reservation_id" in error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            stub.Confirm(router_pb2.ConfirmRequest(reservation_id="no-such"), timeout=10)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert "reservation_id" in error.value.details()
        request = order_to_proto(seed_order())
        request.reserve = True
        request.hold.seconds = -5
        with pytest.raises(grpc.RpcError) as error:
            stub.Route(request, timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "hold" in error.value.details()


def test_availability_and_describe(server: RunningServer) -> None:
    with grpc.insecure_channel(server.router) as channel:
        availability = router_pb2_grpc.RouterStub(channel).GetAvailability(
            router_pb2.GetAvailabilityRequest(skus=["TSHIRT-BLK-M", "NO-SUCH-SKU"],
                                              channel="web"), timeout=10)
        description = admin_pb2_grpc.AdminStub(channel).DescribeNetwork(
            admin_pb2.DescribeNetworkRequest(include_nodes=True), timeout=10)
    shirt, unknown = availability.skus
    assert shirt.known
    assert shirt.network_atp > 0
    assert shirt.network_atp <= sum(node.atp for node in shirt.nodes)
    assert not unknown.known
    assert description.node_count == len(description.nodes) > 0
    assert set(description.nodes_by_kind) == {"dc", "store", "vendor", "digital"}


def test_metrics_endpoint(server: RunningServer) -> None:
    def routed_count() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics",
                                    timeout=5) as reply:
            text = reply.read().decode()
        assert "process_cpu_seconds_total" in text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith('omniroute_route_seconds_count{rpc="Route"}'))

    before = routed_count()
    with grpc.insecure_channel(server.router) as channel:
        stub = router_pb2_grpc.RouterStub(channel)
        for k in range(3):
            stub.Route(order_to_proto(seed_order(order_id=f"metrics-{k}")), timeout=30)
    # Every worker's timings are summed (prometheus_client's multiprocess files).
    assert routed_count() == before + 3


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_everything(tmp_path, stop_signal: signal.Signals) -> None:
    running = start_server(tmp_path)
    children = child_pids(running.process.pid)
    assert len(children_by_role(running.process.pid, "sidecar")) == 1
    assert len(children_by_role(running.process.pid, "worker")) == DEFAULT_WORKERS
    running.process.send_signal(stop_signal)
    assert running.process.wait(30) == 0, running.log()
    deadline = time.monotonic() + 10
    while any(pid_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pid_alive(pid) for pid in children), "a child outlived the server"


def test_sidecar_dies_with_a_killed_server_and_is_restarted_when_it_crashes(tmp_path) -> None:
    running = start_server(tmp_path)
    (sidecar,) = children_by_role(running.process.pid, "sidecar")
    # A crashed sidecar is restarted by the supervisor and serves again.
    os.kill(sidecar, signal.SIGKILL)
    deadline = time.monotonic() + 60
    restarted: list[int] = []
    while time.monotonic() < deadline:
        restarted = [p for p in children_by_role(running.process.pid, "sidecar")
                     if p != sidecar and pid_alive(p)]
        if restarted and health_status(running.sync) == health_pb2.HealthCheckResponse.SERVING:
            break
        time.sleep(0.2)
    assert restarted, running.log()
    # SIGKILL of the supervisor itself leaves no orphan: every child gets PR_SET_PDEATHSIG.
    workers = children_by_role(running.process.pid, "worker")
    assert len(workers) == DEFAULT_WORKERS
    running.process.kill()
    running.process.wait()
    deadline = time.monotonic() + 15
    while any(pid_alive(p) for p in [restarted[0], *workers]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(restarted[0]), "sidecar orphaned after SIGKILL of the server"
    assert not any(pid_alive(p) for p in workers), (
        f"worker orphaned after SIGKILL of the server:\n{running.log()}")
    stop_server(running)


def test_availability_by_region(server: RunningServer) -> None:
    def query(radius_km: float) -> router_pb2.GetAvailabilityResponse:
        request = router_pb2.GetAvailabilityRequest(skus=["TSHIRT-BLK-M"], channel="web")
        request.region.center.postal_code = "60614"
        request.region.radius_km = radius_km
        with grpc.insecure_channel(server.router) as channel:
            reply: router_pb2.GetAvailabilityResponse = router_pb2_grpc.RouterStub(
                channel).GetAvailability(request, timeout=10)
        return reply

    chicago = {node.node_id for node in query(80.0).skus[0].nodes}
    assert chicago
    assert all("CHI" in node_id or "IL" in node_id for node_id in chicago), chicago
    everywhere = query(20_000.0).skus[0]
    assert chicago < {node.node_id for node in everywhere.nodes}
    assert query(0.001).skus[0].network_atp == 0
    with pytest.raises(grpc.RpcError) as error:
        query(-1.0)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "region.radius_km" in error.value.details()
