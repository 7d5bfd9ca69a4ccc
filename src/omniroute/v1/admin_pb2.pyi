from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SetNodeEnabledRequest(_message.Message):
    __slots__ = ("node_id", "enabled", "reason")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    enabled: bool
    reason: str
    def __init__(self, node_id: _Optional[str] = ..., enabled: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class SetNodeCapacityRequest(_message.Message):
    __slots__ = ("node_id", "daily_capacity_units")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DAILY_CAPACITY_UNITS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    daily_capacity_units: int
    def __init__(self, node_id: _Optional[str] = ..., daily_capacity_units: _Optional[int] = ...) -> None: ...

class NodeState(_message.Message):
    __slots__ = ("node_id", "kind", "enabled", "daily_capacity_units", "capacity_used_today", "capabilities", "channels", "postal_code", "lat", "lon", "priority")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DAILY_CAPACITY_UNITS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_USED_TODAY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    kind: str
    enabled: bool
    daily_capacity_units: int
    capacity_used_today: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    channels: _containers.RepeatedScalarFieldContainer[str]
    postal_code: str
    lat: float
    lon: float
    priority: int
    def __init__(self, node_id: _Optional[str] = ..., kind: _Optional[str] = ..., enabled: _Optional[bool] = ..., daily_capacity_units: _Optional[int] = ..., capacity_used_today: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ..., channels: _Optional[_Iterable[str]] = ..., postal_code: _Optional[str] = ..., lat: _Optional[float] = ..., lon: _Optional[float] = ..., priority: _Optional[int] = ...) -> None: ...

class ActivateRulesetRequest(_message.Message):
    __slots__ = ("name", "toml")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOML_FIELD_NUMBER: _ClassVar[int]
    name: str
    toml: str
    def __init__(self, name: _Optional[str] = ..., toml: _Optional[str] = ...) -> None: ...

class ActivateRulesetResponse(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class DescribeNetworkRequest(_message.Message):
    __slots__ = ("include_nodes",)
    INCLUDE_NODES_FIELD_NUMBER: _ClassVar[int]
    include_nodes: bool
    def __init__(self, include_nodes: _Optional[bool] = ...) -> None: ...

class RulesetInfo(_message.Message):
    __slots__ = ("name", "version", "default_for_channels")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FOR_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    default_for_channels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., default_for_channels: _Optional[_Iterable[str]] = ...) -> None: ...

class NetworkDescription(_message.Message):
    __slots__ = ("node_count", "sku_count", "nodes_by_kind", "service_levels", "currency", "rulesets", "inventory_version", "nodes")
    class NodesByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKU_COUNT_FIELD_NUMBER: _ClassVar[int]
    NODES_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVELS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RULESETS_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_VERSION_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    node_count: int
    sku_count: int
    nodes_by_kind: _containers.ScalarMap[str, int]
    service_levels: _containers.RepeatedScalarFieldContainer[str]
    currency: str
    rulesets: _containers.RepeatedCompositeFieldContainer[RulesetInfo]
    inventory_version: int
    nodes: _containers.RepeatedCompositeFieldContainer[NodeState]
    def __init__(self, node_count: _Optional[int] = ..., sku_count: _Optional[int] = ..., nodes_by_kind: _Optional[_Mapping[str, int]] = ..., service_levels: _Optional[_Iterable[str]] = ..., currency: _Optional[str] = ..., rulesets: _Optional[_Iterable[_Union[RulesetInfo, _Mapping]]] = ..., inventory_version: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[NodeState, _Mapping]]] = ...) -> None: ...
