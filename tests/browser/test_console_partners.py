"""S6 in the browser: a partner's failing and recovering deliveries, the failures view and a
redelivery, and a signing secret rotated, shown once and used by the next delivery.

The partner's endpoint is a local receiver (tests/fakes/partner_receiver.py) that verifies
every request with the `standardwebhooks` library, as a partner's own code would; the
product runs with WEBHOOK_ALLOW_PRIVATE so it may deliver to loopback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from playwright.sync_api import Locator, Page, expect

from campaign.demo import ua_135_10 as seed
from tests.browser.accessibility import assert_accessible
from tests.browser.console import signed_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product
from tests.fakes.partner_receiver import Answer, PartnerReceiver

T = TypeVar("T")
WAIT = 30.0


@dataclass
class Partner:
    """A partner registered at a local receiver."""

    partner_id: str
    name: str
    receiver: PartnerReceiver
    signing_secret: str

    def page(self, product: Product) -> str:
        return product.url(f"/console/partners/{self.partner_id}")


@pytest.fixture
def partner(product: Product) -> Iterator[Partner]:
    """A partner following launches of the seed's case, at a receiver of its own; its
    webhooks are switched off afterwards, so later tests' launches do not knock on a
    closed port."""
    with PartnerReceiver() as receiver:
        name = f"Bir Duino {uuid4().hex[:6]}"
        created = product.admin.post("/api/v1/partners", json={
            "name": name, "contact_email": "info@birduino.example.org",
            "webhook_url": receiver.url, "case_ids": [seed.CASE_ID],
            "event_types": ["action.launched"]})
        assert created.status_code == 201, created.text
        body = created.json()
        receiver.secrets = [body["signing_secret"]]
        yield Partner(body["partner_id"], name, receiver, body["signing_secret"])
        product.admin.post(f"/api/v1/partners/{body['partner_id']}/disable")


@pytest.fixture
def admin_page(page: Page, product: Product) -> Page:
    """A page signed in to the console as an admin, who manages partners."""
    return signed_in(page, product, "admin")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """The first truthy answer of `probe`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def delivery_row(page: Page, testid: str = "delivery-row") -> Locator:
    return page.get_by_test_id(testid).first


def attempts_shown(row: Locator) -> list[tuple[str, str]]:
    items = row.get_by_test_id("attempt")
    return [(items.nth(i).get_attribute("data-attempt") or "",
             items.nth(i).get_attribute("data-status-code") or "")
            for i in range(items.count())]


def reload_until(page: Page, done: Callable[[], Any], what: str) -> None:
    """Reload `page` until `done()` holds (deliveries happen in the product's workers)."""
    def check() -> bool:
        page.reload()
        return bool(done())
    eventually(check, what)


def test_two_failures_then_a_success_show_as_attempts_one_to_three_with_their_codes(
    admin_page: Page, product: Product, partner: Partner,
) -> None:
    partner.receiver.fail_next(2, status=500)
    product.launch_seed_action()
    # The first attempt at once, the second five seconds later (the retry schedule).
    eventually(lambda: len(partner.receiver.requests()) >= 2, "two failed attempts")
    page = admin_page
    page.goto(partner.page(product))

    row = delivery_row(page)
    reload_until(page, lambda: attempts_shown(delivery_row(page)) == [("1", "500"), ("2", "500")],
                 "both failures in the log")
    expect(row.get_by_test_id("delivery-status")).to_have_text("pending")
    expect(row.get_by_test_id("next-retry").locator("time")).to_have_count(1)
    expect(page.get_by_test_id("health-sparkline").locator("circle.alarm")).not_to_have_count(0)
    expect(page.get_by_test_id("last-failure")).to_contain_text("500")
    row.get_by_test_id("redeliver").click()  # rather than wait five minutes for the next retry
    expect(page.get_by_test_id("notice")).to_contain_text("queued again")

    reload_until(page, lambda: delivery_row(page).get_attribute("data-status") == "succeeded",
                 "the third attempt to succeed")
    assert attempts_shown(delivery_row(page)) == [("1", "500"), ("2", "500"), ("3", "200")]
    assert [r.answered for r in partner.receiver.requests()] == [500, 500, 200]
    assert all(r.verified for r in partner.receiver.requests())
    page.goto(product.url("/console/partners"))
    listed = page.locator(f'[data-testid="partner-row"][data-partner-id="{partner.partner_id}"]')
    expect(listed.get_by_test_id("attempts-24h")).to_have_text("3")
    expect(listed.get_by_test_id("success-rate")).to_have_text("33 %")
    expect(listed.get_by_test_id("health-sparkline").locator("circle.alarm")).to_have_count(1)
    assert_accessible(page)
    screenshot_for_docs(page, "console-partners")


def test_a_permanently_failing_endpoint_lands_under_failures_and_a_redelivery_clears_it(
    admin_page: Page, product: Product, partner: Partner,
) -> None:
    # 410 Gone: the endpoint is gone for good; the delivery fails and webhooks stop.
    partner.receiver.answer_always(Answer(410, body=b"this endpoint was removed"))
    product.launch_seed_action()
    eventually(lambda: partner.receiver.requests(), "the failed attempt")
    page = admin_page
    page.goto(partner.page(product))
    reload_until(page, lambda: page.get_by_test_id("failure-row").count() == 1,
                 "the delivery under Failures")
    failure = delivery_row(page, "failure-row")
    expect(failure.get_by_test_id("delivery-status")).to_have_text("failed")
    assert attempts_shown(failure) == [("1", "410")]
    expect(page.get_by_test_id("endpoint-status")).to_contain_text("disabled (gone)")
    expect(page.get_by_test_id("failed-deliveries")).to_have_text("1")
    assert_accessible(page)
    screenshot_for_docs(page, "console-partner")

    partner.receiver.answer_always(Answer(200))  # the partner fixed its endpoint
    page.get_by_test_id("enable").click()
    expect(page.get_by_test_id("endpoint-status")).to_have_text("enabled")
    delivery_row(page, "failure-row").get_by_test_id("redeliver").click()
    expect(page.get_by_test_id("notice")).to_contain_text("queued again")

    # A redelivery rearms the delivery (off the failures list) before its attempt is made.
    reload_until(page, lambda: delivery_row(page).get_attribute("data-status") == "succeeded",
                 "the redelivery to succeed")
    expect(page.get_by_test_id("no-failures")).to_have_count(1)
    assert attempts_shown(delivery_row(page)) == [("1", "410"), ("2", "200")]
    expect(page.get_by_test_id("backlog")).to_have_text("0")
    expect(page.get_by_test_id("failed-deliveries")).to_have_text("0")


def test_a_rotated_secret_is_shown_once_masked_on_reload_and_signs_the_next_delivery(
    admin_page: Page, product: Product, partner: Partner,
) -> None:
    page = admin_page
    page.goto(partner.page(product))
    page.get_by_label("Old secret keeps verifying for (hours)").fill("1")
    page.get_by_test_id("rotate-secret").click()

    shown = page.get_by_test_id("new-secret")
    expect(shown).to_be_visible()
    secret = shown.inner_text().strip()
    assert secret.startswith("whsec_") and secret != partner.signing_secret
    page.reload()
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    expect(page.get_by_test_id("secret-masked")).to_have_count(2)
    assert secret not in page.content()

    partner.receiver.secrets = [secret]  # the partner now knows only the new secret
    product.launch_seed_action()
    verified = eventually(partner.receiver.deliveries, "a delivery the new secret verifies")
    assert verified[0].verified_by == (0,)
    assert verified[0].payload["type"] == "action.launched"
