"""Example orders for the embedded demo network; `seed` is the DESIGN section 5 scenario."""

from __future__ import annotations

from collections.abc import Callable

from omniroute.engine.model import Fulfillment, Order, OrderLine, ShipTo, SplitPolicy
from omniroute.sim.demo_network import (
    CUSTOM_SKU,
    EGIFT_SKU,
    GIFTCARD_SKU,
    HAZMAT_SKU,
    PREORDER_SKU,
    TSHIRT_SKU,
)

SEED_SHIP_TO = "60614"
"""Lincoln Park, Chicago: a real ZIP whose prefix (606) is in the demo's postal.csv."""

PICKUP_STORE_ID = "STORE-CHI-01"
"""A pickup-capable, enabled store of the embedded network that stocks TSHIRT-BLK-M."""


def seed_order(*, order_id: str = "seed-1") -> Order:
    """In-stock, digital, gift-card, made-to-order and preorder lines in one order.

    Expected routing (docs/routing.md): the e-gift card to the digital node; the T-shirts,
    the physical card and the custom jacket to the cheapest capable nodes, merged where one
    node serves several lines; the console backordered against its first PO.
    """
    return Order(
        order_id=order_id,
        channel="web",
        ship_to=ShipTo(postal_code=SEED_SHIP_TO),
        service_level="ground",
        split_policy=SplitPolicy.ALLOW_SPLIT,
        allow_backorder=True,
        lines=(
            OrderLine(line_id="1", sku=TSHIRT_SKU, qty=2),
            OrderLine(line_id="2", sku=EGIFT_SKU, qty=1, fulfillment=Fulfillment.DIGITAL),
            OrderLine(line_id="3", sku=GIFTCARD_SKU, qty=1),
            OrderLine(line_id="4", sku=CUSTOM_SKU, qty=1),
            OrderLine(line_id="5", sku=PREORDER_SKU, qty=1),
        ),
    )


def pickup_order(*, order_id: str = "pickup-1") -> Order:
    """Buy online, pick up in store, plus one shipped line (hazmat: only some DCs may ship it)."""
    return Order(
        order_id=order_id,
        channel="web",
        ship_to=ShipTo(postal_code=SEED_SHIP_TO),
        service_level="ground",
        lines=(
            OrderLine(line_id="1", sku=TSHIRT_SKU, qty=1, fulfillment=Fulfillment.PICKUP,
                      store_id=PICKUP_STORE_ID),
            OrderLine(line_id="2", sku=HAZMAT_SKU, qty=2),
        ),
    )


def two_day_order(*, order_id: str = "two-day-1") -> Order:
    """A two-day order to Dallas that must ship complete from one node."""
    return Order(
        order_id=order_id,
        channel="app",
        ship_to=ShipTo(postal_code="75204"),
        service_level="two_day",
        split_policy=SplitPolicy.SHIP_COMPLETE,
        lines=(
            OrderLine(line_id="1", sku=TSHIRT_SKU, qty=3),
            OrderLine(line_id="2", sku=HAZMAT_SKU, qty=1),
        ),
    )


EXAMPLES: dict[str, Callable[[], Order]] = {
    "seed": seed_order,
    "pickup": pickup_order,
    "two_day": two_day_order,
}
"""Example orders by name, for the CLI and the docs."""
