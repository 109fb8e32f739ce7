"""`make demo`'s settings (localdev/demo.py DEMO_SETTINGS): the order loop and price sync on for the
demo tenant only, applied by `make run` where local.settings.json keeps the example's value; the
example itself (what tests start from) keeps every flow off."""

from __future__ import annotations

from localdev.demo import DEMO_SETTINGS, DEMO_TENANT, sandbox_order, with_demo_settings
from localdev.stack import example_values
from shared.settings import load_settings
from shared.tenants import TENANTS


def test_the_demo_turns_the_flows_on_for_its_tenant_only_and_a_changed_value_wins() -> None:
    example = example_values()
    assert all(example[name] in ("false", "off") for name in DEMO_SETTINGS)  # tests start with them off
    merged = with_demo_settings(example, example)
    settings = load_settings(merged)
    loop = settings.loop(DEMO_TENANT)
    assert loop.documents and loop.cancellations and loop.returns_desk and loop.seller_delivery == "shipping-type"
    for tenant in TENANTS:
        if tenant != DEMO_TENANT:
            other = settings.loop(tenant)
            assert not (other.documents or other.cancellations or other.returns_desk)
    name = f"MARKETPLACE_SELLER_DELIVERY_{DEMO_TENANT.upper()}"
    mine = with_demo_settings({**example, name: "all-dropshipping"}, example)
    assert mine[name] == "all-dropshipping"  # changed by hand in local.settings.json: kept


def test_the_demo_picks_sandbox_orders_with_the_items_it_needs() -> None:
    for start in range(100, 110):
        for items in (1, 2, 3):
            order_id = sandbox_order(start, items)
            assert start <= order_id < start + 3 and 1 + order_id % 3 == items
