import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omniroute.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderLine(_message.Message):
    __slots__ = ("line_id", "sku", "qty", "fulfillment", "store_id")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    sku: str
    qty: int
    fulfillment: _types_pb2.Fulfillment
    store_id: str
    def __init__(self, line_id: _Optional[str] = ..., sku: _Optional[str] = ..., qty: _Optional[int] = ..., fulfillment: _Optional[_Union[_types_pb2.Fulfillment, str]] = ..., store_id: _Optional[str] = ...) -> None: ...

class RouteRequest(_message.Message):
    __slots__ = ("order_id", "channel", "ship_to", "service_level", "ruleset", "split_policy", "max_shipments", "allow_backorder", "reserve", "hold", "explain", "lines")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SHIP_TO_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RULESET_FIELD_NUMBER: _ClassVar[int]
    SPLIT_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_BACKORDER_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    channel: str
    ship_to: _types_pb2.ShipTo
    service_level: str
    ruleset: str
    split_policy: _types_pb2.SplitPolicy
    max_shipments: int
    allow_backorder: bool
    reserve: bool
    hold: _duration_pb2.Duration
    explain: bool
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    def __init__(self, order_id: _Optional[str] = ..., channel: _Optional[str] = ..., ship_to: _Optional[_Union[_types_pb2.ShipTo, _Mapping]] = ..., service_level: _Optional[str] = ..., ruleset: _Optional[str] = ..., split_policy: _Optional[_Union[_types_pb2.SplitPolicy, str]] = ..., max_shipments: _Optional[int] = ..., allow_backorder: _Optional[bool] = ..., reserve: _Optional[bool] = ..., hold: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., explain: _Optional[bool] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ...) -> None: ...

class ShipmentLine(_message.Message):
    __slots__ = ("line_id", "sku", "qty")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    sku: str
    qty: int
    def __init__(self, line_id: _Optional[str] = ..., sku: _Optional[str] = ..., qty: _Optional[int] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("node_id", "fulfillment", "destination", "lines", "zone", "distance_km", "transit_days", "processing_days", "weight_kg", "ship_cost", "handling_cost")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    TRANSIT_DAYS_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_DAYS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_KG_FIELD_NUMBER: _ClassVar[int]
    SHIP_COST_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    fulfillment: _types_pb2.Fulfillment
    destination: str
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    zone: int
    distance_km: float
    transit_days: int
    processing_days: int
    weight_kg: float
    ship_cost: float
    handling_cost: float
    def __init__(self, node_id: _Optional[str] = ..., fulfillment: _Optional[_Union[_types_pb2.Fulfillment, str]] = ..., destination: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., zone: _Optional[int] = ..., distance_km: _Optional[float] = ..., transit_days: _Optional[int] = ..., processing_days: _Optional[int] = ..., weight_kg: _Optional[float] = ..., ship_cost: _Optional[float] = ..., handling_cost: _Optional[float] = ...) -> None: ...

class Backorder(_message.Message):
    __slots__ = ("line_id", "sku", "qty", "node_id", "available_date")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_DATE_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    sku: str
    qty: int
    node_id: str
    available_date: str
    def __init__(self, line_id: _Optional[str] = ..., sku: _Optional[str] = ..., qty: _Optional[int] = ..., node_id: _Optional[str] = ..., available_date: _Optional[str] = ...) -> None: ...

class Unfilled(_message.Message):
    __slots__ = ("line_id", "sku", "qty", "reason")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    sku: str
    qty: int
    reason: _types_pb2.Reason
    def __init__(self, line_id: _Optional[str] = ..., sku: _Optional[str] = ..., qty: _Optional[int] = ..., reason: _Optional[_Union[_types_pb2.Reason, str]] = ...) -> None: ...

class CostTotals(_message.Message):
    __slots__ = ("ship_cost", "handling_cost", "split_penalty", "unfilled_penalty", "other_terms", "total")
    SHIP_COST_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_FIELD_NUMBER: _ClassVar[int]
    SPLIT_PENALTY_FIELD_NUMBER: _ClassVar[int]
    UNFILLED_PENALTY_FIELD_NUMBER: _ClassVar[int]
    OTHER_TERMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ship_cost: float
    handling_cost: float
    split_penalty: float
    unfilled_penalty: float
    other_terms: float
    total: float
    def __init__(self, ship_cost: _Optional[float] = ..., handling_cost: _Optional[float] = ..., split_penalty: _Optional[float] = ..., unfilled_penalty: _Optional[float] = ..., other_terms: _Optional[float] = ..., total: _Optional[float] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("node_id", "eligible", "chosen", "score", "ship_cost", "handling_cost", "distance_km", "zone", "transit_days", "atp_units", "reason", "detail")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SHIP_COST_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    TRANSIT_DAYS_FIELD_NUMBER: _ClassVar[int]
    ATP_UNITS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    eligible: bool
    chosen: bool
    score: float
    ship_cost: float
    handling_cost: float
    distance_km: float
    zone: int
    transit_days: int
    atp_units: int
    reason: _types_pb2.Reason
    detail: str
    def __init__(self, node_id: _Optional[str] = ..., eligible: _Optional[bool] = ..., chosen: _Optional[bool] = ..., score: _Optional[float] = ..., ship_cost: _Optional[float] = ..., handling_cost: _Optional[float] = ..., distance_km: _Optional[float] = ..., zone: _Optional[int] = ..., transit_days: _Optional[int] = ..., atp_units: _Optional[int] = ..., reason: _Optional[_Union[_types_pb2.Reason, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class RouteResponse(_message.Message):
    __slots__ = ("order_id", "status", "shipments", "backorders", "unfilled", "cost", "currency", "reservation_id", "hold_expires_at", "inventory_version", "ruleset", "ruleset_version", "optimal", "lower_bound", "candidates")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    BACKORDERS_FIELD_NUMBER: _ClassVar[int]
    UNFILLED_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOLD_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    RULESET_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    OPTIMAL_FIELD_NUMBER: _ClassVar[int]
    LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: _types_pb2.RouteStatus
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    backorders: _containers.RepeatedCompositeFieldContainer[Backorder]
    unfilled: _containers.RepeatedCompositeFieldContainer[Unfilled]
    cost: CostTotals
    currency: str
    reservation_id: str
    hold_expires_at: _timestamp_pb2.Timestamp
    inventory_version: int
    ruleset: str
    ruleset_version: int
    optimal: bool
    lower_bound: float
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[_Union[_types_pb2.RouteStatus, str]] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ..., backorders: _Optional[_Iterable[_Union[Backorder, _Mapping]]] = ..., unfilled: _Optional[_Iterable[_Union[Unfilled, _Mapping]]] = ..., cost: _Optional[_Union[CostTotals, _Mapping]] = ..., currency: _Optional[str] = ..., reservation_id: _Optional[str] = ..., hold_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., inventory_version: _Optional[int] = ..., ruleset: _Optional[str] = ..., ruleset_version: _Optional[int] = ..., optimal: _Optional[bool] = ..., lower_bound: _Optional[float] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ...) -> None: ...

class RouteBatchRequest(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[RouteRequest]
    def __init__(self, orders: _Optional[_Iterable[_Union[RouteRequest, _Mapping]]] = ...) -> None: ...

class RouteBatchResult(_message.Message):
    __slots__ = ("response", "error_code", "error_message")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    response: RouteResponse
    error_code: int
    error_message: str
    def __init__(self, response: _Optional[_Union[RouteResponse, _Mapping]] = ..., error_code: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class RouteBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RouteBatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RouteBatchResult, _Mapping]]] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("reservation_id", "line_ids")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    line_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reservation_id: _Optional[str] = ..., line_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReservationState(_message.Message):
    __slots__ = ("reservation_id", "held_line_ids", "released_line_ids", "confirmed_line_ids")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    HELD_LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    RELEASED_LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    held_line_ids: _containers.RepeatedScalarFieldContainer[str]
    released_line_ids: _containers.RepeatedScalarFieldContainer[str]
    confirmed_line_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reservation_id: _Optional[str] = ..., held_line_ids: _Optional[_Iterable[str]] = ..., released_line_ids: _Optional[_Iterable[str]] = ..., confirmed_line_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: ReservationState
    def __init__(self, reservation: _Optional[_Union[ReservationState, _Mapping]] = ...) -> None: ...

class ConfirmRequest(_message.Message):
    __slots__ = ("reservation_id", "line_ids")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    line_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reservation_id: _Optional[str] = ..., line_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ConfirmResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: ReservationState
    def __init__(self, reservation: _Optional[_Union[ReservationState, _Mapping]] = ...) -> None: ...

class RouteReturnRequest(_message.Message):
    __slots__ = ("return_id", "sku", "qty", "channel", "explain", "service_level")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    sku: str
    qty: int
    channel: str
    explain: bool
    service_level: str
    def __init__(self, return_id: _Optional[str] = ..., sku: _Optional[str] = ..., qty: _Optional[int] = ..., channel: _Optional[str] = ..., explain: _Optional[bool] = ..., service_level: _Optional[str] = ..., **kwargs) -> None: ...

class ReturnCandidate(_message.Message):
    __slots__ = ("node_id", "rank", "ship_cost", "distance_km", "atp", "detail", "handling_cost", "zone")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SHIP_COST_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    ATP_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    rank: int
    ship_cost: float
    distance_km: float
    atp: int
    detail: str
    handling_cost: float
    zone: int
    def __init__(self, node_id: _Optional[str] = ..., rank: _Optional[int] = ..., ship_cost: _Optional[float] = ..., distance_km: _Optional[float] = ..., atp: _Optional[int] = ..., detail: _Optional[str] = ..., handling_cost: _Optional[float] = ..., zone: _Optional[int] = ...) -> None: ...

class RouteReturnResponse(_message.Message):
    __slots__ = ("return_id", "candidates", "currency")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    candidates: _containers.RepeatedCompositeFieldContainer[ReturnCandidate]
    currency: str
    def __init__(self, return_id: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[ReturnCandidate, _Mapping]]] = ..., currency: _Optional[str] = ...) -> None: ...

class Region(_message.Message):
    __slots__ = ("center", "radius_km")
    CENTER_FIELD_NUMBER: _ClassVar[int]
    RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    center: _types_pb2.ShipTo
    radius_km: float
    def __init__(self, center: _Optional[_Union[_types_pb2.ShipTo, _Mapping]] = ..., radius_km: _Optional[float] = ...) -> None: ...

class NodeList(_message.Message):
    __slots__ = ("node_ids",)
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    node_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAvailabilityRequest(_message.Message):
    __slots__ = ("skus", "channel", "nodes", "region")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    channel: str
    nodes: NodeList
    region: Region
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., channel: _Optional[str] = ..., nodes: _Optional[_Union[NodeList, _Mapping]] = ..., region: _Optional[_Union[Region, _Mapping]] = ...) -> None: ...

class SupplyEntry(_message.Message):
    __slots__ = ("node_id", "available_date", "qty")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_DATE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    available_date: str
    qty: int
    def __init__(self, node_id: _Optional[str] = ..., available_date: _Optional[str] = ..., qty: _Optional[int] = ...) -> None: ...

class NodeAvailability(_message.Message):
    __slots__ = ("node_id", "atp", "sellable", "damaged", "in_transit", "quarantine", "reserved", "safety_stock")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ATP_FIELD_NUMBER: _ClassVar[int]
    SELLABLE_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_FIELD_NUMBER: _ClassVar[int]
    IN_TRANSIT_FIELD_NUMBER: _ClassVar[int]
    QUARANTINE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    atp: int
    sellable: int
    damaged: int
    in_transit: int
    quarantine: int
    reserved: int
    safety_stock: int
    def __init__(self, node_id: _Optional[str] = ..., atp: _Optional[int] = ..., sellable: _Optional[int] = ..., damaged: _Optional[int] = ..., in_transit: _Optional[int] = ..., quarantine: _Optional[int] = ..., reserved: _Optional[int] = ..., safety_stock: _Optional[int] = ...) -> None: ...

class SkuAvailability(_message.Message):
    __slots__ = ("sku", "known", "network_atp", "nodes", "future_supply")
    SKU_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ATP_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    FUTURE_SUPPLY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    known: bool
    network_atp: int
    nodes: _containers.RepeatedCompositeFieldContainer[NodeAvailability]
    future_supply: _containers.RepeatedCompositeFieldContainer[SupplyEntry]
    def __init__(self, sku: _Optional[str] = ..., known: _Optional[bool] = ..., network_atp: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[NodeAvailability, _Mapping]]] = ..., future_supply: _Optional[_Iterable[_Union[SupplyEntry, _Mapping]]] = ...) -> None: ...

class GetAvailabilityResponse(_message.Message):
    __slots__ = ("skus", "inventory_version")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedCompositeFieldContainer[SkuAvailability]
    inventory_version: int
    def __init__(self, skus: _Optional[_Iterable[_Union[SkuAvailability, _Mapping]]] = ..., inventory_version: _Optional[int] = ...) -> None: ...
