"""The omniroute.v1.Router servicer: translate protobuf, call the engine, translate back."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from omniroute.api.convert import (
    availability_to_proto,
    decision_to_proto,
    fill_route_response,
    hold_seconds_from_proto,
    order_from_proto,
    reservation_to_proto,
    return_candidates_to_proto,
    set_reservation,
    ship_to_from_proto,
)
from omniroute.api.loaded import Loaded
from omniroute.api.metrics import orders_routed, route_seconds
from omniroute.engine import Engine, WireRouter
from omniroute.engine.model import Decision, Order
from omniroute.engine.region import nodes_within
from omniroute.engine.reserving import Reserved
from omniroute.engine.returns import route_return
from omniroute.errors import InvalidArgument, OmnirouteError
from omniroute.rpc import status_of
from omniroute.v1 import router_pb2, router_pb2_grpc


class RouterServicer(router_pb2_grpc.RouterServicer):
    """Stateless translation layer over the loaded Engine."""

    def __init__(self, loaded: Loaded) -> None:
        self._loaded = loaded
        self._wire: WireRouter | None = None

    def _wire_router(self) -> WireRouter:
        """The compiled bytes path over the engine (its `engine` read swaps in live state)."""
        engine = self._engine
        wire = self._wire
        if wire is None:
            wire = self._wire = WireRouter(engine)
        return wire

    # Route, RouteBatch and RouteStream are registered on bytes (`add_router_to_server`): the
    # compiled path reads and writes protobuf itself; what it declines takes the methods below.

    def route_raw(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        started = time.perf_counter()
        routed = self._wire_router().route(request)
        if routed is not None:
            route_seconds("Route").observe(time.perf_counter() - started)
            orders_routed(routed[1]).inc()
            return routed[0]
        message = _parse(router_pb2.RouteRequest, request, "request")
        return self.Route(message, context).SerializeToString()

    def route_batch_raw(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        started = time.perf_counter()
        wired = self._wire_router().route_batch(request)
        if wired is None:
            message = _parse(router_pb2.RouteBatchRequest, request, "request")
            return self._route_batch(message, context).SerializeToString()
        route_seconds("RouteBatch").observe(time.perf_counter() - started)
        for status, count in wired.status_counts.items():
            orders_routed(status).inc(count)
        if not wired.declined:
            return wired.encoded
        # The declined orders (reserve, explain, invalid ones) as one Python batch, their
        # results spliced back into request order.
        declined = router_pb2.RouteBatchRequest()
        for slot in wired.declined:
            lo, hi = wired.spans[slot]
            try:
                declined.orders.add().MergeFromString(request[lo:hi])
            except DecodeError:
                raise InvalidArgument(f"orders[{slot}]", "is not a valid RouteRequest") from None
        results = self._route_batch(declined, context, client_slots=wired.declined).results
        python = {slot: results[k].SerializeToString()
                  for k, slot in enumerate(wired.declined)}
        off, encoded = wired.result_off, wired.encoded
        parts: list[bytes] = []
        for slot in range(len(wired.spans)):
            result = python.get(slot)
            if result is None:
                parts.append(encoded[off[slot]:off[slot + 1]])
            else:  # RouteBatchResponse.results (field 1, length-delimited)
                parts += (b"\x0a", _varint(len(result)), result)
        return b"".join(parts)

    def route_stream_raw(self, request_iterator: Iterator[bytes],
                         context: grpc.ServicerContext) -> Iterator[bytes]:
        for request in request_iterator:
            yield self.route_batch_raw(request, context)

    @property
    def _engine(self) -> Engine:
        return self._loaded.engine

    @property
    def _currency(self) -> str:
        return self._loaded.network.rules.currency

    def Route(self, request: router_pb2.RouteRequest, context: grpc.ServicerContext
              ) -> router_pb2.RouteResponse:
        order = order_from_proto(request)
        if request.reserve:
            hold_s = hold_seconds_from_proto(request)
            started = time.perf_counter()
            try:
                reserved = self._loaded.reservations.reserve(order, hold_s=hold_s)
            finally:  # failed calls are timed too
                route_seconds("RouteReserve").observe(time.perf_counter() - started)
            orders_routed(reserved.decision.status.name).inc()
            response = decision_to_proto(reserved.decision, currency=self._currency)
            set_reservation(response, reserved)
            return response
        started = time.perf_counter()
        try:
            decision = self._engine.route(order)
        finally:  # failed calls are timed too
            route_seconds("Route").observe(time.perf_counter() - started)
        orders_routed(decision.status.name).inc()
        return decision_to_proto(decision, currency=self._currency)

    def RouteBatch(self, request: router_pb2.RouteBatchRequest, context: grpc.ServicerContext
                   ) -> router_pb2.RouteBatchResponse:
        return self._route_batch(request, context)

    def RouteStream(self, request_iterator: Iterator[router_pb2.RouteBatchRequest],
                    context: grpc.ServicerContext) -> Iterator[router_pb2.RouteBatchResponse]:
        for request in request_iterator:
            yield self._route_batch(request, context)

    def _route_batch(self, request: router_pb2.RouteBatchRequest,
                     context: grpc.ServicerContext, client_slots: Sequence[int] | None = None
                     ) -> router_pb2.RouteBatchResponse:
        """`client_slots`: each order's index in the client's batch, when `request` holds some of
        its orders (errors name the client's index)."""
        # A bad order fails alone: its slot carries the status, the rest are routed in one
        # engine call.
        rejected: dict[int, OmnirouteError] = {}
        orders: list[Order] = []
        slots: list[int] = []
        holds: list[float | None] = []
        for i, item in enumerate(request.orders):
            try:
                orders.append(order_from_proto(item))
                holds.append(hold_seconds_from_proto(item))
                slots.append(i)
            except OmnirouteError as error:
                rejected[i] = error
        started = time.perf_counter()
        try:
            decisions = self._route_all(orders)
        finally:  # failed calls are timed too
            route_seconds("RouteBatch").observe(time.perf_counter() - started)
        # Orders that reserve go through the hold book together (one critical section, one
        # fsync); their batch dry runs are the first attempts, re-routed only if an earlier
        # order of the batch (or another worker) took their units.
        reserving = [k for k, slot in enumerate(slots) if request.orders[slot].reserve
                     and not isinstance(decisions[k], OmnirouteError)]
        outcomes: list[Decision | Reserved | OmnirouteError] = list(decisions)
        if reserving:
            held = self._loaded.reservations.reserve_many(
                [(orders[k], holds[k], _decision(decisions[k])) for k in reserving])
            for k, reserved in zip(reserving, held, strict=True):
                outcomes[k] = reserved
        by_slot = dict(zip(slots, outcomes, strict=True))
        # Results are written in place, in request order: a built result appended to the
        # response would be copied, and each copy costs as much as building it.
        batch = router_pb2.RouteBatchResponse()
        results = batch.results
        currency = self._currency
        routed: Counter[str] = Counter()
        for slot in range(len(request.orders)):
            result = results.add()
            outcome = by_slot[slot] if slot in by_slot else rejected[slot]
            if isinstance(outcome, OmnirouteError):
                where = slot if client_slots is None else client_slots[slot]
                _set_error(result, outcome, prefix=f"orders[{where}].")
                continue
            decision = outcome.decision if isinstance(outcome, Reserved) else outcome
            routed[decision.status.name] += 1
            fill_route_response(result.response, decision, currency=currency)
            if isinstance(outcome, Reserved):
                set_reservation(result.response, outcome)
        for status, count in routed.items():
            orders_routed(status).inc(count)
        return batch

    def _route_all(self, orders: list[Order]) -> list[Decision | OmnirouteError]:
        """One engine call for the batch; only if some order is invalid, route them one by one
        so each bad order gets its own status and the good ones are still routed."""
        try:
            return list(self._engine.route_batch(orders))
        except OmnirouteError:
            pass
        outcomes: list[Decision | OmnirouteError] = []
        for order in orders:
            try:
                outcomes.append(self._engine.route(order))
            except OmnirouteError as error:
                outcomes.append(error)
        return outcomes

    def Release(self, request: router_pb2.ReleaseRequest, context: grpc.ServicerContext
                ) -> router_pb2.ReleaseResponse:
        view = self._loaded.reservations.release(_reservation_id(request.reservation_id),
                                                 list(request.line_ids))
        return router_pb2.ReleaseResponse(reservation=reservation_to_proto(view))

    def Confirm(self, request: router_pb2.ConfirmRequest, context: grpc.ServicerContext
                ) -> router_pb2.ConfirmResponse:
        view = self._loaded.reservations.confirm(_reservation_id(request.reservation_id),
                                                 list(request.line_ids),
                                                 self._loaded.confirm_sink)
        return router_pb2.ConfirmResponse(reservation=reservation_to_proto(view))

    def RouteReturn(self, request: router_pb2.RouteReturnRequest,
                    context: grpc.ServicerContext) -> router_pb2.RouteReturnResponse:
        candidates = route_return(
            self._engine.state, sku=request.sku, qty=request.qty,
            origin=ship_to_from_proto(getattr(request, "from"), "from"),
            channel=request.channel, service_level=request.service_level,
            explain=request.explain)
        return router_pb2.RouteReturnResponse(
            return_id=request.return_id, currency=self._currency,
            candidates=return_candidates_to_proto(candidates))

    def GetAvailability(self, request: router_pb2.GetAvailabilityRequest,
                        context: grpc.ServicerContext) -> router_pb2.GetAvailabilityResponse:
        if not request.skus:
            raise InvalidArgument("skus", "at least one SKU is required")
        engine = self._engine
        node_ids: tuple[str, ...] = ()
        if request.WhichOneof("scope") == "nodes":
            node_ids = tuple(request.nodes.node_ids)
        elif request.WhichOneof("scope") == "region":
            region = request.region
            node_ids = tuple(nodes_within(
                engine.state, ship_to_from_proto(region.center, "region.center"),
                region.radius_km))
            if not node_ids:
                return router_pb2.GetAvailabilityResponse(
                    skus=[router_pb2.SkuAvailability(sku=sku, known=sku in
                                                     engine.state.catalog.sku_index)
                          for sku in request.skus],
                    inventory_version=engine.inventory_version)
        items = engine.availability(list(request.skus), channel=request.channel,
                                    node_ids=node_ids)
        return availability_to_proto(items, inventory_version=engine.inventory_version)


class _Capture:
    """Stands in for a server to receive the generated registration's method handlers."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, Any] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass

    def add_registered_method_handlers(self, service: str, handlers: Any) -> None:
        self.service, self.handlers = service, dict(handlers)


def add_router_to_server(servicer: RouterServicer, server: grpc.Server) -> None:
    """Register the Router service with Route, RouteBatch and RouteStream on bytes (no
    protobuf parsing or serializing by grpc for them), every other method as generated."""
    capture = _Capture()
    router_pb2_grpc.add_RouterServicer_to_server(servicer, capture)  # type: ignore[no-untyped-call]
    handlers = capture.handlers
    handlers["Route"] = grpc.unary_unary_rpc_method_handler(servicer.route_raw)
    handlers["RouteBatch"] = grpc.unary_unary_rpc_method_handler(servicer.route_batch_raw)
    handlers["RouteStream"] = grpc.stream_stream_rpc_method_handler(servicer.route_stream_raw)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(capture.service, handlers),))
    server.add_registered_method_handlers(capture.service, handlers)  # type: ignore[attr-defined]


def _parse(kind: Any, raw: bytes, field: str) -> Any:
    try:
        return kind.FromString(raw)
    except DecodeError:
        raise InvalidArgument(field, f"is not a valid {kind.DESCRIPTOR.name}") from None


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _decision(outcome: Decision | OmnirouteError) -> Decision:
    assert not isinstance(outcome, OmnirouteError)
    return outcome


def _reservation_id(value: str) -> str:
    if not value:
        raise InvalidArgument("reservation_id", "must not be empty")
    return value


def _set_error(result: router_pb2.RouteBatchResult, error: OmnirouteError, *,
               prefix: str) -> None:
    result.error_code = status_of(error).value[0]
    result.error_message = prefix + str(error)
