import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omniroute.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeltaKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELTA_KIND_UNSPECIFIED: _ClassVar[DeltaKind]
    DELTA_KIND_ADJUST: _ClassVar[DeltaKind]
    DELTA_KIND_SET: _ClassVar[DeltaKind]

class SupplyAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUPPLY_ACTION_UNSPECIFIED: _ClassVar[SupplyAction]
    SUPPLY_ACTION_ADD: _ClassVar[SupplyAction]
    SUPPLY_ACTION_CANCEL: _ClassVar[SupplyAction]

class AckStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_STATUS_UNSPECIFIED: _ClassVar[AckStatus]
    ACK_STATUS_APPLIED: _ClassVar[AckStatus]
    ACK_STATUS_DUPLICATE: _ClassVar[AckStatus]
    ACK_STATUS_REJECTED: _ClassVar[AckStatus]
DELTA_KIND_UNSPECIFIED: DeltaKind
DELTA_KIND_ADJUST: DeltaKind
DELTA_KIND_SET: DeltaKind
SUPPLY_ACTION_UNSPECIFIED: SupplyAction
SUPPLY_ACTION_ADD: SupplyAction
SUPPLY_ACTION_CANCEL: SupplyAction
ACK_STATUS_UNSPECIFIED: AckStatus
ACK_STATUS_APPLIED: AckStatus
ACK_STATUS_DUPLICATE: AckStatus
ACK_STATUS_REJECTED: AckStatus

class InventoryDelta(_message.Message):
    __slots__ = ("sku", "node_id", "disposition", "kind", "qty", "event_time")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    sku: str
    node_id: str
    disposition: _types_pb2.Disposition
    kind: DeltaKind
    qty: int
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, sku: _Optional[str] = ..., node_id: _Optional[str] = ..., disposition: _Optional[_Union[_types_pb2.Disposition, str]] = ..., kind: _Optional[_Union[DeltaKind, str]] = ..., qty: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SupplyDelta(_message.Message):
    __slots__ = ("sku", "node_id", "action", "qty", "available_date", "event_time")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_DATE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    sku: str
    node_id: str
    action: SupplyAction
    qty: int
    available_date: str
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, sku: _Optional[str] = ..., node_id: _Optional[str] = ..., action: _Optional[_Union[SupplyAction, str]] = ..., qty: _Optional[int] = ..., available_date: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InventoryDeltaColumns(_message.Message):
    __slots__ = ("skus", "nodes", "sku_ref", "node_ref", "disposition", "kind", "qty", "event_time_unix_ns")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    SKU_REF_FIELD_NUMBER: _ClassVar[int]
    NODE_REF_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    skus: IdTable
    nodes: IdTable
    sku_ref: _containers.RepeatedScalarFieldContainer[int]
    node_ref: _containers.RepeatedScalarFieldContainer[int]
    disposition: _containers.RepeatedScalarFieldContainer[_types_pb2.Disposition]
    kind: _containers.RepeatedScalarFieldContainer[DeltaKind]
    qty: _containers.RepeatedScalarFieldContainer[int]
    event_time_unix_ns: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, skus: _Optional[_Union[IdTable, _Mapping]] = ..., nodes: _Optional[_Union[IdTable, _Mapping]] = ..., sku_ref: _Optional[_Iterable[int]] = ..., node_ref: _Optional[_Iterable[int]] = ..., disposition: _Optional[_Iterable[_Union[_types_pb2.Disposition, str]]] = ..., kind: _Optional[_Iterable[_Union[DeltaKind, str]]] = ..., qty: _Optional[_Iterable[int]] = ..., event_time_unix_ns: _Optional[_Iterable[int]] = ...) -> None: ...

class IdTable(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeltaBatch(_message.Message):
    __slots__ = ("source_id", "sequence", "deltas", "supply", "columns")
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DELTAS_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    source_id: str
    sequence: int
    deltas: _containers.RepeatedCompositeFieldContainer[InventoryDelta]
    supply: _containers.RepeatedCompositeFieldContainer[SupplyDelta]
    columns: InventoryDeltaColumns
    def __init__(self, source_id: _Optional[str] = ..., sequence: _Optional[int] = ..., deltas: _Optional[_Iterable[_Union[InventoryDelta, _Mapping]]] = ..., supply: _Optional[_Iterable[_Union[SupplyDelta, _Mapping]]] = ..., columns: _Optional[_Union[InventoryDeltaColumns, _Mapping]] = ...) -> None: ...

class DeltaError(_message.Message):
    __slots__ = ("index", "supply", "field", "reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    supply: bool
    field: str
    reason: str
    def __init__(self, index: _Optional[int] = ..., supply: _Optional[bool] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeltaAck(_message.Message):
    __slots__ = ("source_id", "sequence", "status", "errors", "inventory_version")
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    source_id: str
    sequence: int
    status: AckStatus
    errors: _containers.RepeatedCompositeFieldContainer[DeltaError]
    inventory_version: int
    def __init__(self, source_id: _Optional[str] = ..., sequence: _Optional[int] = ..., status: _Optional[_Union[AckStatus, str]] = ..., errors: _Optional[_Iterable[_Union[DeltaError, _Mapping]]] = ..., inventory_version: _Optional[int] = ...) -> None: ...

class GetSyncStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SourceStatus(_message.Message):
    __slots__ = ("source_id", "last_sequence", "last_applied_at", "lag_ms")
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    LAG_MS_FIELD_NUMBER: _ClassVar[int]
    source_id: str
    last_sequence: int
    last_applied_at: _timestamp_pb2.Timestamp
    lag_ms: float
    def __init__(self, source_id: _Optional[str] = ..., last_sequence: _Optional[int] = ..., last_applied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lag_ms: _Optional[float] = ...) -> None: ...

class SyncStatus(_message.Message):
    __slots__ = ("sources", "inventory_version", "sku_count", "node_count", "batches_applied", "deltas_applied", "last_snapshot_at")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    SKU_COUNT_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    BATCHES_APPLIED_FIELD_NUMBER: _ClassVar[int]
    DELTAS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAST_SNAPSHOT_AT_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[SourceStatus]
    inventory_version: int
    sku_count: int
    node_count: int
    batches_applied: int
    deltas_applied: int
    last_snapshot_at: _timestamp_pb2.Timestamp
    def __init__(self, sources: _Optional[_Iterable[_Union[SourceStatus, _Mapping]]] = ..., inventory_version: _Optional[int] = ..., sku_count: _Optional[int] = ..., node_count: _Optional[int] = ..., batches_applied: _Optional[int] = ..., deltas_applied: _Optional[int] = ..., last_snapshot_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
