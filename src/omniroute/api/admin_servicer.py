"""The omniroute.v1.Admin servicer. Mutating calls are journaled by the router's hold book
(`state.holds`) before they answer, and every worker sees them on its next request."""

from __future__ import annotations

from collections import Counter

import grpc

from omniroute.api.loaded import Loaded
from omniroute.errors import InvalidArgument
from omniroute.v1 import admin_pb2, admin_pb2_grpc


class AdminServicer(admin_pb2_grpc.AdminServicer):
    def __init__(self, loaded: Loaded) -> None:
        self._loaded = loaded

    def SetNodeEnabled(self, request: admin_pb2.SetNodeEnabledRequest,
                       context: grpc.ServicerContext) -> admin_pb2.NodeState:
        node = self._loaded.reservations.set_node_enabled(
            _node_id(request.node_id), request.enabled, request.reason)
        return self._node_state(node)

    def SetNodeCapacity(self, request: admin_pb2.SetNodeCapacityRequest,
                        context: grpc.ServicerContext) -> admin_pb2.NodeState:
        node = self._loaded.reservations.set_node_capacity(
            _node_id(request.node_id), request.daily_capacity_units)
        return self._node_state(node)

    def ActivateRuleset(self, request: admin_pb2.ActivateRulesetRequest,
                        context: grpc.ServicerContext) -> admin_pb2.ActivateRulesetResponse:
        ruleset = self._loaded.reservations.activate_ruleset(request.name, request.toml)
        return admin_pb2.ActivateRulesetResponse(name=request.name, version=ruleset.version)

    def _node_state(self, node: int) -> admin_pb2.NodeState:
        spec = self._loaded.network.nodes[node]
        live = self._loaded.engine.state.nodes
        return admin_pb2.NodeState(
            node_id=spec.node_id, kind=spec.kind.value, enabled=bool(live.enabled[node]),
            daily_capacity_units=int(live.daily_capacity_units[node]),
            capacity_used_today=int(live.capacity_used_today[node]),
            capabilities=[c.value for c in spec.capabilities], channels=spec.channels,
            postal_code=spec.postal_code, lat=spec.lat, lon=spec.lon, priority=spec.priority)

    def DescribeNetwork(self, request: admin_pb2.DescribeNetworkRequest,
                        context: grpc.ServicerContext) -> admin_pb2.NetworkDescription:
        network = self._loaded.network
        engine = self._loaded.engine
        state = engine.state
        rules = network.rules
        description = admin_pb2.NetworkDescription(
            node_count=len(state.catalog.node_ids),
            sku_count=len(state.catalog.sku_ids),
            nodes_by_kind=Counter(node.kind.value for node in network.nodes),
            service_levels=rules.carrier.service_levels,
            currency=rules.currency,
            inventory_version=engine.inventory_version,
        )
        for name, ruleset in sorted(state.rules.rulesets.items()):
            description.rulesets.add(
                name=name, version=ruleset.version,
                default_for_channels=sorted(c for c, r in rules.channels.items() if r == name))
        if request.include_nodes:
            # Static attributes from the network files; operational ones (enabled, capacity)
            # from the live arrays, which admin calls and reservations own.
            for i in range(len(network.nodes)):
                description.nodes.append(self._node_state(i))
        return description


def _node_id(value: str) -> str:
    if not value:
        raise InvalidArgument("node_id", "must not be empty")
    return value
