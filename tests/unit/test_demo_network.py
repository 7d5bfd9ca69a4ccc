"""The demo network generator, the embedded network it produced, and the example orders."""

from __future__ import annotations

import datetime as dt
import math
import re
from importlib import metadata
from pathlib import Path

import pytest

from omniroute.config import (
    EARTH_RADIUS_KM,
    Capability,
    Disposition,
    Network,
    NodeKind,
    NodeRow,
    SkuKind,
    load_network,
)
from omniroute.engine.model import Fulfillment
from omniroute.sim import (
    EMBEDDED,
    EXAMPLES,
    PICKUP_STORE_ID,
    REFERENCE_DATE,
    SEED_SKUS,
    embedded_network_dir,
    seed_order,
    write_demo_network,
)
from omniroute.sim.demo_network import FILES

LARGE = {"nodes": 300, "skus": 2000, "seed": 11}


@pytest.fixture(scope="module")
def embedded() -> Network:
    return load_network(embedded_network_dir())


@pytest.fixture(scope="module")
def large_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("large")
    write_demo_network(directory, **LARGE)
    return directory


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def _node(network: Network, node_id: str) -> NodeRow:
    return next(node for node in network.nodes if node.node_id == node_id)


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _transit_days(network: Network, node: NodeRow, postal_code: str, level: str) -> int:
    """Transit days from a node to a ZIP per docs/routing.md (longest postal prefix match)."""
    areas = {area.postal_code: area for area in network.postal}
    area = next(areas[postal_code[:n]] for n in range(len(postal_code), 0, -1)
                if postal_code[:n] in areas)
    distance = _haversine_km(node.lat, node.lon, area.lat, area.lon)
    carrier = network.rules.carrier
    band = next(i for i, zone in enumerate(carrier.zones) if zone.max_km >= distance)
    return carrier.transit_days[level][band]


# --- the embedded network never drifts from the generator ------------------------------------


def test_embedded_network_is_what_the_generator_writes(tmp_path: Path) -> None:
    write_demo_network(tmp_path, nodes=EMBEDDED.nodes, skus=EMBEDDED.skus, seed=EMBEDDED.seed)
    attribution = (embedded_network_dir() / "ATTRIBUTION.md").read_text(encoding="utf-8")
    recorded = re.search(r"version ([^,\s]+)", attribution)
    installed = metadata.version("zipcodes")
    hint = ("regenerate it: omniroute demo-network src/omniroute/sim/demo_network "
            f"--nodes {EMBEDDED.nodes} --skus {EMBEDDED.skus} --seed {EMBEDDED.seed}")
    assert recorded is not None
    assert recorded.group(1) == installed, (
        f"the embedded network was built from zipcodes {recorded.group(1)}, "
        f"zipcodes {installed} is installed; {hint}")
    assert _files(tmp_path) == _files(embedded_network_dir()), f"embedded network drifted; {hint}"


def test_generator_writes_exactly_its_files(tmp_path: Path) -> None:
    write_demo_network(tmp_path / "new", nodes=12, skus=10, seed=0)
    assert sorted(path.name for path in (tmp_path / "new").iterdir()) == sorted(FILES)


# --- what the embedded network contains ------------------------------------------------------


def test_embedded_network_loads(embedded: Network) -> None:
    assert len(embedded.nodes) == EMBEDDED.nodes
    assert len(embedded.skus) == EMBEDDED.skus
    assert embedded.rules.currency == "USD"
    assert set(embedded.rules.rulesets) == {"default", "stores_last"}


def test_every_node_kind_and_exactly_one_digital_node(embedded: Network) -> None:
    kinds = [node.kind for node in embedded.nodes]
    assert set(kinds) == set(NodeKind)
    assert kinds.count(NodeKind.DIGITAL) == 1
    assert 3 <= kinds.count(NodeKind.DC) < kinds.count(NodeKind.STORE)
    digital = next(node for node in embedded.nodes if node.kind is NodeKind.DIGITAL)
    assert Capability.SHIP not in digital.capabilities


def test_dcs_are_spread_across_regions(embedded: Network) -> None:
    dcs = [node for node in embedded.nodes if node.kind is NodeKind.DC]
    assert max(node.lon for node in dcs) - min(node.lon for node in dcs) > 40.0


def test_every_sku_kind_and_the_seed_skus(embedded: Network) -> None:
    skus = {sku.sku: sku for sku in embedded.skus}
    assert {sku.kind for sku in embedded.skus} == set(SkuKind)
    assert set(SEED_SKUS) <= set(skus)
    assert skus["TSHIRT-BLK-M"].kind is SkuKind.STANDARD
    assert skus["EGIFT-50"].kind is SkuKind.DIGITAL
    assert skus["GIFTCARD-50"].kind is SkuKind.GIFT_CARD
    assert skus["CUSTOM-JACKET"].kind is SkuKind.MADE_TO_ORDER
    assert skus["PREORDER-CONSOLE"].kind is SkuKind.STANDARD
    assert skus["HAZ-LITHIUM-BATT"].hazmat
    assert 0 < sum(sku.hazmat for sku in embedded.skus) < len(skus) * 0.1


def test_every_disposition(embedded: Network) -> None:
    assert {row.disposition for row in embedded.inventory} == set(Disposition)


def test_enabled_and_disabled_nodes(embedded: Network) -> None:
    assert {node.enabled for node in embedded.nodes} == {True, False}
    assert sum(not node.enabled for node in embedded.nodes) <= len(embedded.nodes) // 5


@pytest.mark.parametrize("capability", list(Capability))
def test_every_capability_at_some_enabled_node(embedded: Network, capability: Capability
                                               ) -> None:
    assert any(capability in node.capabilities and node.enabled for node in embedded.nodes)


def test_node_parameters_are_realistic(embedded: Network) -> None:
    for node in embedded.nodes:
        if node.kind is NodeKind.DC:
            assert node.daily_capacity_units >= 1000
            assert 1.5 <= node.handling_cost <= 3.0
            assert node.processing_days <= 1
        elif node.kind is NodeKind.STORE:
            assert node.daily_capacity_units <= 1000
            assert 4.0 <= node.handling_cost <= 7.0
            assert node.processing_days == 1
        if node.kind is not NodeKind.DIGITAL:
            assert 0.2 <= node.pick_cost <= 1.0
    dc_priority = max(node.priority for node in embedded.nodes if node.kind is NodeKind.DC)
    assert all(node.priority > dc_priority for node in embedded.nodes
               if node.kind is NodeKind.STORE)


def test_no_stock_rows_for_digital_or_made_to_order_skus(embedded: Network) -> None:
    unstocked = {sku.sku for sku in embedded.skus
                 if sku.kind in (SkuKind.DIGITAL, SkuKind.MADE_TO_ORDER)}
    assert not [row for row in embedded.inventory if row.sku in unstocked]
    assert not [row for row in embedded.supply if row.sku in unstocked]


def test_gift_cards_and_hazmat_stock_only_where_they_can_ship_or_be_sold(embedded: Network
                                                                          ) -> None:
    nodes = {node.node_id: node for node in embedded.nodes}
    gift_cards = {sku.sku for sku in embedded.skus if sku.kind is SkuKind.GIFT_CARD}
    for row in embedded.inventory:
        if row.sku in gift_cards:
            assert Capability.GIFT_CARD in nodes[row.node_id].capabilities
    hazmat_rows = [row for row in embedded.inventory if row.sku == "HAZ-LITHIUM-BATT"]
    assert hazmat_rows
    assert all(Capability.HAZMAT in nodes[row.node_id].capabilities for row in hazmat_rows)


def test_preorder_has_future_supply_and_nothing_sellable(embedded: Network) -> None:
    sellable = [row.qty for row in embedded.inventory
                if row.sku == "PREORDER-CONSOLE" and row.disposition is Disposition.SELLABLE]
    assert sum(sellable) == 0
    supply = [row for row in embedded.supply if row.sku == "PREORDER-CONSOLE"]
    assert supply
    for row in supply:
        assert _node(embedded, row.node_id).kind is NodeKind.DC
        assert 10 <= (row.available_date - REFERENCE_DATE).days <= 40


def test_supply_dates_are_relative_to_the_fixed_reference_date(embedded: Network) -> None:
    assert all(REFERENCE_DATE < row.available_date <= REFERENCE_DATE + dt.timedelta(days=60)
               for row in embedded.supply)


def test_postal_prefixes_cover_every_node_and_the_whole_country(embedded: Network) -> None:
    prefixes = {area.postal_code for area in embedded.postal}
    assert len(prefixes) > 850
    assert all(len(prefix) == 3 for prefix in prefixes)
    assert {node.postal_code[:3] for node in embedded.nodes} <= prefixes
    # Manhattan, Chicago, Los Angeles, Honolulu, Anchorage, San Juan.
    assert {"100", "606", "900", "968", "995", "009"} <= prefixes


def test_ground_promise_reaches_most_dc_and_store_nodes(embedded: Network) -> None:
    carrier = embedded.rules.carrier
    worst_ground = max(carrier.transit_days["ground"])
    stocking = [node for node in embedded.nodes if node.kind in (NodeKind.DC, NodeKind.STORE)]
    assert all(node.processing_days + worst_ground <= carrier.promise_days["ground"]
               for node in stocking)


# --- the example orders fit the embedded network ---------------------------------------------


def test_seed_order_is_the_design_scenario(embedded: Network) -> None:
    order = seed_order()
    assert (order.channel, order.service_level, order.allow_backorder) == ("web", "ground", True)
    by_sku = {line.sku: line for line in order.lines}
    assert by_sku["TSHIRT-BLK-M"].qty == 2
    assert by_sku["EGIFT-50"].fulfillment is Fulfillment.DIGITAL
    assert {by_sku[sku].fulfillment for sku in
            ("TSHIRT-BLK-M", "GIFTCARD-50", "CUSTOM-JACKET", "PREORDER-CONSOLE")} == {
                Fulfillment.SHIP}
    assert seed_order(order_id="x").order_id == "x"


def test_seed_order_lines_each_have_an_eligible_node(embedded: Network) -> None:
    order = seed_order()
    carrier = embedded.rules.carrier
    promise = carrier.promise_days[order.service_level]
    ruleset = embedded.rules.rulesets[embedded.rules.channels[order.channel]]

    def ships(node: NodeRow, *needs: Capability) -> bool:
        return (node.enabled and node.kind.value in ruleset.channel_node_kinds[order.channel]
                and ("*" in node.channels or order.channel in node.channels)
                and Capability.SHIP in node.capabilities
                and all(need in node.capabilities for need in needs))

    def transit(node: NodeRow) -> int:
        return _transit_days(embedded, node, order.ship_to.postal_code, order.service_level)

    sellable = {(row.sku, row.node_id): row.qty for row in embedded.inventory
                if row.disposition is Disposition.SELLABLE}
    for sku, needs in (("TSHIRT-BLK-M", ()), ("GIFTCARD-50", (Capability.GIFT_CARD,))):
        assert any(ships(node, *needs) and sellable.get((sku, node.node_id), 0) > 2
                   and node.processing_days + transit(node) <= promise
                   for node in embedded.nodes), sku
    # Made-to-order: lead time is quoted separately, only transit counts against the promise.
    makers = [node for node in embedded.nodes if ships(node, Capability.MADE_TO_ORDER)]
    assert makers
    assert any(transit(node) <= promise for node in makers)
    assert max(node.processing_days for node in makers) >= 3
    assert any(ships(node) for node in embedded.nodes
               if any(row.node_id == node.node_id for row in embedded.supply
                      if row.sku == "PREORDER-CONSOLE"))


def test_examples_name_only_known_skus_stores_and_postal_areas(embedded: Network) -> None:
    skus = {sku.sku for sku in embedded.skus}
    prefixes = {area.postal_code for area in embedded.postal}
    assert {"seed", "pickup"} <= set(EXAMPLES)
    for name, make in EXAMPLES.items():
        order = make()
        assert order.ship_to.postal_code[:3] in prefixes, name
        assert order.service_level in embedded.rules.carrier.service_levels, name
        for line in order.lines:
            assert line.sku in skus, (name, line)
            if line.fulfillment in (Fulfillment.PICKUP, Fulfillment.SHIP_TO_STORE):
                assert _node(embedded, line.store_id).kind is NodeKind.STORE


def test_pickup_store_can_serve_the_pickup_example(embedded: Network) -> None:
    store = _node(embedded, PICKUP_STORE_ID)
    assert store.enabled
    assert Capability.PICKUP in store.capabilities
    pickup = next(line for line in EXAMPLES["pickup"]().lines
                  if line.fulfillment is Fulfillment.PICKUP)
    assert pickup.store_id == PICKUP_STORE_ID
    on_hand = sum(row.qty for row in embedded.inventory if row.sku == pickup.sku
                  and row.node_id == PICKUP_STORE_ID
                  and row.disposition is Disposition.SELLABLE)
    safety = embedded.rules.rulesets["default"].safety_stock["*"]["store"]
    assert on_hand - safety >= pickup.qty


# --- generated networks of other sizes -------------------------------------------------------


def test_large_network_loads_and_keeps_every_feature(large_dir: Path) -> None:
    network = load_network(large_dir)
    assert len(network.nodes) == LARGE["nodes"]
    assert len(network.skus) == LARGE["skus"]
    assert {node.kind for node in network.nodes} == set(NodeKind)
    assert {sku.kind for sku in network.skus} == set(SkuKind)
    assert {row.disposition for row in network.inventory} == set(Disposition)
    assert len({node.node_id for node in network.nodes}) == LARGE["nodes"]


def test_generation_is_deterministic(large_dir: Path, tmp_path: Path) -> None:
    write_demo_network(tmp_path, **LARGE)
    assert _files(tmp_path) == _files(large_dir)


def test_seed_changes_the_network(tmp_path: Path) -> None:
    write_demo_network(tmp_path / "a", nodes=40, skus=100, seed=1)
    write_demo_network(tmp_path / "b", nodes=40, skus=100, seed=2)
    assert (tmp_path / "a" / "inventory.csv").read_bytes() != (
        tmp_path / "b" / "inventory.csv").read_bytes()
    # Geography and rules do not depend on the seed.
    for name in ("postal.csv", "rules.toml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_smallest_network_still_serves_the_seed_scenario(tmp_path: Path) -> None:
    write_demo_network(tmp_path, nodes=10, skus=6, seed=3)
    network = load_network(tmp_path)
    assert {sku.sku for sku in network.skus} == set(SEED_SKUS)
    assert {node.kind for node in network.nodes} == set(NodeKind)
    assert any(Capability.MADE_TO_ORDER in node.capabilities for node in network.nodes)
    assert any(row.sku == "PREORDER-CONSOLE" for row in network.supply)


@pytest.mark.parametrize(("nodes", "skus"), [(9, 100), (60, 5)])
def test_too_small_is_rejected(tmp_path: Path, nodes: int, skus: int) -> None:
    with pytest.raises(ValueError, match="at least"):
        write_demo_network(tmp_path, nodes=nodes, skus=skus, seed=0)
