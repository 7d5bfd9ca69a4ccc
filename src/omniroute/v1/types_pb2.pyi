from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Fulfillment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FULFILLMENT_UNSPECIFIED: _ClassVar[Fulfillment]
    FULFILLMENT_SHIP: _ClassVar[Fulfillment]
    FULFILLMENT_PICKUP: _ClassVar[Fulfillment]
    FULFILLMENT_SHIP_TO_STORE: _ClassVar[Fulfillment]
    FULFILLMENT_DIGITAL: _ClassVar[Fulfillment]

class SplitPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPLIT_POLICY_UNSPECIFIED: _ClassVar[SplitPolicy]
    SPLIT_POLICY_ALLOW_SPLIT: _ClassVar[SplitPolicy]
    SPLIT_POLICY_SHIP_COMPLETE: _ClassVar[SplitPolicy]
    SPLIT_POLICY_FILL_OR_KILL: _ClassVar[SplitPolicy]

class RouteStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTE_STATUS_UNSPECIFIED: _ClassVar[RouteStatus]
    ROUTE_STATUS_ROUTED: _ClassVar[RouteStatus]
    ROUTE_STATUS_PARTIAL: _ClassVar[RouteStatus]
    ROUTE_STATUS_BACKORDERED: _ClassVar[RouteStatus]
    ROUTE_STATUS_UNROUTABLE: _ClassVar[RouteStatus]

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_UNSPECIFIED: _ClassVar[Reason]
    REASON_OUT_OF_STOCK: _ClassVar[Reason]
    REASON_NO_ELIGIBLE_NODE: _ClassVar[Reason]
    REASON_SLA_UNMET: _ClassVar[Reason]
    REASON_CAPACITY: _ClassVar[Reason]
    REASON_UNKNOWN_SKU: _ClassVar[Reason]
    REASON_POLICY: _ClassVar[Reason]

class Disposition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPOSITION_UNSPECIFIED: _ClassVar[Disposition]
    DISPOSITION_SELLABLE: _ClassVar[Disposition]
    DISPOSITION_DAMAGED: _ClassVar[Disposition]
    DISPOSITION_IN_TRANSIT: _ClassVar[Disposition]
    DISPOSITION_QUARANTINE: _ClassVar[Disposition]
FULFILLMENT_UNSPECIFIED: Fulfillment
FULFILLMENT_SHIP: Fulfillment
FULFILLMENT_PICKUP: Fulfillment
FULFILLMENT_SHIP_TO_STORE: Fulfillment
FULFILLMENT_DIGITAL: Fulfillment
SPLIT_POLICY_UNSPECIFIED: SplitPolicy
SPLIT_POLICY_ALLOW_SPLIT: SplitPolicy
SPLIT_POLICY_SHIP_COMPLETE: SplitPolicy
SPLIT_POLICY_FILL_OR_KILL: SplitPolicy
ROUTE_STATUS_UNSPECIFIED: RouteStatus
ROUTE_STATUS_ROUTED: RouteStatus
ROUTE_STATUS_PARTIAL: RouteStatus
ROUTE_STATUS_BACKORDERED: RouteStatus
ROUTE_STATUS_UNROUTABLE: RouteStatus
REASON_UNSPECIFIED: Reason
REASON_OUT_OF_STOCK: Reason
REASON_NO_ELIGIBLE_NODE: Reason
REASON_SLA_UNMET: Reason
REASON_CAPACITY: Reason
REASON_UNKNOWN_SKU: Reason
REASON_POLICY: Reason
DISPOSITION_UNSPECIFIED: Disposition
DISPOSITION_SELLABLE: Disposition
DISPOSITION_DAMAGED: Disposition
DISPOSITION_IN_TRANSIT: Disposition
DISPOSITION_QUARANTINE: Disposition

class GeoPoint(_message.Message):
    __slots__ = ("lat", "lon")
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    lat: float
    lon: float
    def __init__(self, lat: _Optional[float] = ..., lon: _Optional[float] = ...) -> None: ...

class ShipTo(_message.Message):
    __slots__ = ("postal_code", "point")
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    postal_code: str
    point: GeoPoint
    def __init__(self, postal_code: _Optional[str] = ..., point: _Optional[_Union[GeoPoint, _Mapping]] = ...) -> None: ...
