"""The omniroute.v1.Admin servicer. Mutating calls land with reservations (issue 5)."""

from __future__ import annotations

from collections import Counter

import grpc

from omniroute.api.loaded import Loaded
from omniroute.rpc import unimplemented
from omniroute.v1 import admin_pb2, admin_pb2_grpc

ADMIN_ISSUE = "journaled admin changes arrive with issue 5"


class AdminServicer(admin_pb2_grpc.AdminServicer):
    def __init__(self, loaded: Loaded) -> None:
        self._loaded = loaded

    def SetNodeEnabled(self, request: admin_pb2.SetNodeEnabledRequest,
                       context: grpc.ServicerContext) -> admin_pb2.NodeState:
        unimplemented(context, "SetNodeEnabled", ADMIN_ISSUE)
        raise AssertionError("unreachable")

    def SetNodeCapacity(self, request: admin_pb2.SetNodeCapacityRequest,
                        context: grpc.ServicerContext) -> admin_pb2.NodeState:
        unimplemented(context, "SetNodeCapacity", ADMIN_ISSUE)
        raise AssertionError("unreachable")

    def ActivateRuleset(self, request: admin_pb2.ActivateRulesetRequest,
                        context: grpc.ServicerContext) -> admin_pb2.ActivateRulesetResponse:
        unimplemented(context, "ActivateRuleset", ADMIN_ISSUE)
        raise AssertionError("unreachable")

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
        for name, ruleset in sorted(rules.rulesets.items()):
            description.rulesets.add(
                name=name, version=ruleset.version,
                default_for_channels=sorted(c for c, r in rules.channels.items() if r == name))
        if request.include_nodes:
            # Static attributes from the network files; operational ones (enabled, capacity)
            # from the live arrays, which admin calls and reservations own.
            live = state.nodes
            for i, node in enumerate(network.nodes):
                description.nodes.add(
                    node_id=node.node_id, kind=node.kind.value, enabled=bool(live.enabled[i]),
                    daily_capacity_units=int(live.daily_capacity_units[i]),
                    capacity_used_today=int(live.capacity_used_today[i]),
                    capabilities=[c.value for c in node.capabilities], channels=node.channels,
                    postal_code=node.postal_code, lat=node.lat, lon=node.lon,
                    priority=node.priority)
        return description
