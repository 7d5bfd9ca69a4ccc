"""The benchmark-only omniroute.v1.Echo servicer: Router-shaped calls that skip the engine.

Registered only with `omniroute serve --bench-echo`. It pays what every Router call pays
(HTTP/2, the thread pool, the error interceptor, protobuf parsing of the request and
serialization of a response of realistic size) and nothing else, so the ratio of a Router
figure to its Echo twin, measured in one run, isolates omniroute's own cost.
"""

from __future__ import annotations

import grpc

from omniroute.v1 import bench_pb2_grpc, router_pb2, types_pb2


def canned_response() -> router_pb2.RouteResponse:
    """A decision of typical size: three lines in two shipments, every cost term set."""
    response = router_pb2.RouteResponse(
        order_id="", status=types_pb2.ROUTE_STATUS_ROUTED, currency="USD",
        inventory_version=1, ruleset="default", ruleset_version=1, optimal=True,
        lower_bound=31.87)
    for node_id, lines, zone, km, kg, ship, handling in (
            ("DC-NJ-EDISON", (("1", "TSHIRT-BLK-M", 2), ("2", "MUG-WHT-11OZ", 1)), 3, 312.4,
             1.35, 12.44, 4.02),
            ("STORE-CHI-01", (("3", "HOODIE-GRY-L", 1),), 1, 14.9, 0.8, 10.52, 2.89)):
        response.shipments.add(
            node_id=node_id, fulfillment=types_pb2.FULFILLMENT_SHIP, destination="customer",
            lines=[router_pb2.ShipmentLine(line_id=i, sku=s, qty=q) for i, s, q in lines],
            zone=zone, distance_km=km, transit_days=2, processing_days=1, weight_kg=kg,
            ship_cost=ship, handling_cost=handling)
    response.cost.CopyFrom(router_pb2.CostTotals(
        ship_cost=22.96, handling_cost=6.91, split_penalty=3.0, unfilled_penalty=0.0,
        other_terms=0.0, total=32.87))
    return response


class EchoServicer(bench_pb2_grpc.EchoServicer):
    """Echo and EchoBatch: parse the request, answer a canned response."""

    def __init__(self) -> None:
        self._response = canned_response()
        # One serialized batch result; n of them concatenated parse as a batch of n (repeated
        # fields concatenate on the wire), which keeps the servicer's own Python work constant
        # per call instead of per order, as in RouteBatch's single engine call.
        self._result_bytes = router_pb2.RouteBatchResponse(
            results=[router_pb2.RouteBatchResult(response=self._response)]).SerializeToString()

    def Echo(self, request: router_pb2.RouteRequest, context: grpc.ServicerContext
             ) -> router_pb2.RouteResponse:
        response = router_pb2.RouteResponse()
        response.CopyFrom(self._response)
        response.order_id = request.order_id
        return response

    def EchoBatch(self, request: router_pb2.RouteBatchRequest, context: grpc.ServicerContext
                  ) -> router_pb2.RouteBatchResponse:
        return router_pb2.RouteBatchResponse.FromString(self._result_bytes * len(request.orders))
