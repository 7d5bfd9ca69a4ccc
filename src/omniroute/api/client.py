"""A small gRPC client for the CLI: send example orders, read availability, print tables."""

from __future__ import annotations

import grpc
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from omniroute.api.convert import order_to_proto
from omniroute.sim.examples import EXAMPLES
from omniroute.v1 import router_pb2, router_pb2_grpc, types_pb2

_TIMEOUT_S = 10.0


def _stub(target: str) -> router_pb2_grpc.RouterStub:
    # Generated stubs are untyped (grpcio-tools writes no .pyi for *_pb2_grpc).
    return router_pb2_grpc.RouterStub(grpc.insecure_channel(target))  # type: ignore[no-untyped-call]


def route_example(target: str, example: str, *, explain: bool = False
                  ) -> router_pb2.RouteResponse:
    request = order_to_proto(EXAMPLES[example]())
    request.explain = explain
    try:
        response: router_pb2.RouteResponse = _stub(target).Route(request, timeout=_TIMEOUT_S)
    except grpc.RpcError as error:
        raise SystemExit(_describe(error, target)) from None
    return response


def get_availability(target: str, skus: list[str], *, channel: str, node_ids: list[str]
                     ) -> router_pb2.GetAvailabilityResponse:
    request = router_pb2.GetAvailabilityRequest(skus=skus, channel=channel)
    if node_ids:
        request.nodes.node_ids.extend(node_ids)
    try:
        response: router_pb2.GetAvailabilityResponse = _stub(target).GetAvailability(
            request, timeout=_TIMEOUT_S)
    except grpc.RpcError as error:
        raise SystemExit(_describe(error, target)) from None
    return response


def _describe(error: grpc.RpcError, target: str) -> str:
    code = error.code() if isinstance(error, grpc.Call) else None
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"no omniroute server at {target} ({details}); start one with `make run`"
    return f"{code.name if code else 'error'}: {details}"


def _enum_name(enum: object, value: int, prefix: str) -> str:
    name: str = enum.Name(value)  # type: ignore[attr-defined]
    return name.removeprefix(prefix)


def _console() -> Console:
    console = Console()
    if not console.is_terminal:  # piped or captured: don't squeeze tables into 80 columns
        console.width = 160
    return console


def print_route(response: router_pb2.RouteResponse, *, as_json: bool = False) -> None:
    console = _console()
    if as_json:
        console.print_json(json_format.MessageToJson(response))
        return
    status = _enum_name(types_pb2.RouteStatus, response.status, "ROUTE_STATUS_")
    quality = ("optimal" if response.optimal
               else f"heuristic, lower bound {response.lower_bound:.2f}")
    console.print(f"[bold]order {response.order_id}[/]: {status}  ruleset {response.ruleset} "
                  f"v{response.ruleset_version}, inventory v{response.inventory_version}, "
                  f"{quality}")
    table = Table(title="shipments", title_justify="left")
    for column in ("node", "how", "to", "lines", "zone", "km", "days", "kg", "ship", "handling"):
        table.add_column(column, justify="right" if column in
                         {"zone", "km", "days", "kg", "ship", "handling"} else "left")
    for shipment in response.shipments:
        table.add_row(
            shipment.node_id,
            _enum_name(types_pb2.Fulfillment, shipment.fulfillment, "FULFILLMENT_").lower(),
            shipment.destination,
            ", ".join(f"{line.line_id} {line.sku} x{line.qty}" for line in shipment.lines),
            str(shipment.zone), f"{shipment.distance_km:.0f}",
            f"{shipment.processing_days}+{shipment.transit_days}", f"{shipment.weight_kg:.2f}",
            f"{shipment.ship_cost:.2f}", f"{shipment.handling_cost:.2f}")
    console.print(table)
    if response.backorders:
        backorders = Table(title="backorders", title_justify="left")
        for column in ("line", "sku", "qty", "node", "available"):
            backorders.add_column(column)
        for b in response.backorders:
            backorders.add_row(b.line_id, b.sku, str(b.qty), b.node_id, b.available_date)
        console.print(backorders)
    if response.unfilled:
        unfilled = Table(title="unfilled", title_justify="left")
        for column in ("line", "sku", "qty", "reason"):
            unfilled.add_column(column)
        for u in response.unfilled:
            unfilled.add_row(u.line_id, u.sku, str(u.qty),
                             _enum_name(types_pb2.Reason, u.reason, "REASON_"))
        console.print(unfilled)
    cost = response.cost
    console.print(
        f"cost ({response.currency}): ship {cost.ship_cost:.2f} + handling "
        f"{cost.handling_cost:.2f} + split {cost.split_penalty:.2f} + unfilled "
        f"{cost.unfilled_penalty:.2f} + other {cost.other_terms:.2f} = [bold]{cost.total:.2f}[/]")
    if response.candidates:
        candidates = Table(title="candidates (explain)", title_justify="left")
        for column in ("node", "chosen", "score", "km", "zone", "atp", "why"):
            candidates.add_column(column)
        for c in response.candidates:
            candidates.add_row(c.node_id, "yes" if c.chosen else "", f"{c.score:.2f}",
                               f"{c.distance_km:.0f}", str(c.zone), str(c.atp_units), c.detail)
        console.print(candidates)


def print_availability(response: router_pb2.GetAvailabilityResponse) -> None:
    console = _console()
    for sku in response.skus:
        if not sku.known:
            console.print(f"[bold]{sku.sku}[/]: unknown SKU")
            continue
        table = Table(title=f"{sku.sku}: network ATP {sku.network_atp} "
                            f"(inventory v{response.inventory_version})", title_justify="left")
        for column in ("node", "atp", "sellable", "damaged", "in_transit", "quarantine",
                       "reserved", "safety"):
            table.add_column(column, justify="left" if column == "node" else "right")
        for node in sku.nodes:
            table.add_row(node.node_id, str(node.atp), str(node.sellable), str(node.damaged),
                          str(node.in_transit), str(node.quarantine), str(node.reserved),
                          str(node.safety_stock))
        console.print(table)
        for supply in sku.future_supply:
            console.print(f"  future supply: {supply.qty} at {supply.node_id} from "
                          f"{supply.available_date}")
