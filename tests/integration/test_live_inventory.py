"""End to end through `omniroute serve`: a delta acked by the sidecar changes the next Route."""

from __future__ import annotations

import time

import grpc
import numpy as np
from server_process import RunningServer

from omniroute.v1 import router_pb2, router_pb2_grpc, sync_pb2, sync_pb2_grpc, types_pb2

NODE = "DC-IL-JOLIET"


def order(order_id: str, sku: str, qty: int) -> router_pb2.RouteRequest:
    return router_pb2.RouteRequest(
        order_id=order_id, channel="web", service_level="ground",
        ship_to=types_pb2.ShipTo(postal_code="60614"),
        lines=[router_pb2.OrderLine(line_id="1", sku=sku, qty=qty)])


def send(target: str, batch: sync_pb2.DeltaBatch) -> sync_pb2.DeltaAck:
    with grpc.insecure_channel(target) as channel:
        (ack,) = list(sync_pb2_grpc.InventorySyncStub(channel).StreamDeltas(iter([batch]),
                                                                             timeout=30))
    return ack


def set_sellable(source: str, sequence: int, sku: str, qty: int) -> sync_pb2.DeltaBatch:
    return sync_pb2.DeltaBatch(source_id=source, sequence=sequence, deltas=[
        sync_pb2.InventoryDelta(sku=sku, node_id=NODE,
                                disposition=types_pb2.DISPOSITION_SELLABLE,
                                kind=sync_pb2.DELTA_KIND_SET, qty=qty)])


def test_new_sku_from_a_delta_is_routable_without_restart(server: RunningServer) -> None:
    with grpc.insecure_channel(server.router) as channel:
        router = router_pb2_grpc.RouterStub(channel)
        before = router.Route(order("o-new-0", "BRAND-NEW-SKU", 3), timeout=30)
        assert before.status == types_pb2.ROUTE_STATUS_UNROUTABLE
        assert before.unfilled[0].reason == types_pb2.REASON_UNKNOWN_SKU

        ack = send(server.sync, set_sellable("wms-test", 1, "BRAND-NEW-SKU", 5))
        assert ack.status == sync_pb2.ACK_STATUS_APPLIED

        # The sidecar publishes before it acks, so the very next Route sees the units.
        after = router.Route(order("o-new-1", "BRAND-NEW-SKU", 3), timeout=30)
        assert after.status == types_pb2.ROUTE_STATUS_ROUTED
        assert [s.node_id for s in after.shipments] == [NODE]
        assert after.inventory_version >= ack.inventory_version
        availability = router.GetAvailability(router_pb2.GetAvailabilityRequest(
            skus=["BRAND-NEW-SKU"], channel="web"), timeout=30)
        assert availability.skus[0].network_atp == 5


def test_ack_to_route_freshness(server: RunningServer) -> None:
    """Each SET changes what Route can fill; measure ack -> first Route that reflects it."""
    latencies_ms = []
    with grpc.insecure_channel(server.router) as channel:
        router = router_pb2_grpc.RouterStub(channel)
        for i in range(1, 41):
            qty = 10 + i
            ack = send(server.sync, set_sellable("wms-fresh", i, "FRESH-SKU", qty))
            assert ack.status == sync_pb2.ACK_STATUS_APPLIED
            acked = time.perf_counter()
            while True:
                reply = router.Route(order(f"o-f-{i}", "FRESH-SKU", 10_000), timeout=30)
                filled = sum(line.qty for s in reply.shipments for line in s.lines)
                if filled == qty:
                    break
                assert time.perf_counter() - acked < 5, "delta not visible to Route in 5 s"
            latencies_ms.append((time.perf_counter() - acked) * 1e3)
    p50, p99 = np.percentile(latencies_ms, [50, 99])
    print(f"\nack -> visible in Route: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(includes one Route round trip)")
    assert max(latencies_ms) < 5_000
