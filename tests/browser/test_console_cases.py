"""S1 cases list and S2 case timeline, in the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.cases_world import launch_on, new_tag, open_case, partner_reports
from tests.browser.console import signed_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product


@pytest.fixture
def console(page: Page, product: Product) -> Page:
    """A page signed in to the console as a campaigner."""
    return signed_in(page, product, "campaigner")


def search(page: Page, product: Product, words: str) -> None:
    page.goto(product.url("/console/cases"))
    page.get_by_test_id("filter-search").fill(words)
    page.get_by_test_id("apply-filters").click()


def test_cases_come_soonest_deadline_first_and_the_one_within_48_hours_is_flagged(
    console: Page, product: Product
) -> None:
    tag = new_tag()
    later, soon, middle = (open_case(product, f"{word} {tag}")
                           for word in ("Later", "Soon", "Middle"))
    launch_on(product, later, days=30)
    launch_on(product, soon, days=1)
    launch_on(product, middle, days=10)

    search(console, product, tag)

    rows = console.get_by_test_id("case-row")
    expect(rows).to_have_count(3)
    assert [rows.nth(n).get_attribute("data-case-id") for n in range(3)] == [
        soon, middle, later]
    expect(rows.nth(0).get_by_test_id("deadline-badge")).to_be_visible()
    expect(rows.nth(1).get_by_test_id("deadline-badge")).to_have_count(0)
    expect(rows.nth(2).get_by_test_id("deadline-badge")).to_have_count(0)
    expect(rows.nth(0).get_by_test_id("case-sparkline").locator("circle")).to_have_count(14)
    expect(rows.nth(0).get_by_test_id("case-actions")).to_contain_text("launched")
    assert_accessible(console)
    screenshot_for_docs(console, "console-cases")


def test_the_pending_filter_leaves_the_case_a_partner_reported_on_counted_as_its_timeline(
    console: Page, product: Product
) -> None:
    tag = new_tag()
    quiet, reported, other = (open_case(product, f"{word} {tag}")
                              for word in ("Quiet", "Reported", "Other"))
    launch_on(product, other, days=20)
    partner_reports(product, reported, "A Supreme Court hearing is set for 1 December.")

    search(console, product, tag)
    expect(console.get_by_test_id("case-row")).to_have_count(3)
    console.get_by_test_id("filter-pending").check()
    console.get_by_test_id("apply-filters").click()

    (row,) = [console.get_by_test_id("case-row")]
    expect(row).to_have_count(1)
    assert row.get_attribute("data-case-id") == reported
    expect(row.get_by_test_id("case-pending")).to_have_text("1")
    row.get_by_test_id("open-case").click()
    expect(console.get_by_test_id("case-subject")).to_have_text(f"Reported {tag}")
    expect(console.get_by_test_id("case-pending")).to_have_text("1")
    expect(console.locator("[data-testid=timeline-entry][data-kind=development_recorded]")
           ).to_have_count(1)
    assert quiet != other


def test_a_campaigner_approves_one_development_and_rejects_another_on_the_timeline(
    console: Page, product: Product
) -> None:
    tag = new_tag()
    case_id = open_case(product, f"Timeline {tag}")
    launch_on(product, case_id, days=12)
    hearing, rumour = partner_reports(product, case_id, "Hearing set for 1 December.",
                                      "An unconfirmed rumour of a transfer.")
    campaigner_token = product.campaigner.get("/api/v1/cases").status_code  # still valid
    assert campaigner_token == 200

    console.goto(product.url(f"/console/cases/{case_id}"))
    entry = console.locator(f"[data-kind=development_recorded][data-development-id={hearing}]")
    expect(entry.get_by_test_id("development-status")).to_have_text("awaiting approval")
    assert_accessible(console)
    entry.get_by_test_id("approve-development").click()

    approved = console.locator(
        f"[data-kind=development_recorded][data-development-id={hearing}]")
    expect(approved.get_by_test_id("development-status")).to_have_text(
        re.compile(r"^approved by console campaigner \w+ \(token:[0-9a-f]{8}\)$"))
    expect(console.locator(f"[data-kind=development_approved][data-development-id={hearing}]")
           ).to_have_count(1)
    other = console.locator(f"[data-kind=development_recorded][data-development-id={rumour}]")
    other.get_by_test_id("reject-reason").fill("Not confirmed by a second source.")
    other.get_by_test_id("reject-development").click()

    rejected = console.locator(f"[data-kind=development_rejected][data-development-id={rumour}]")
    expect(rejected).to_contain_text("Not confirmed by a second source.")
    expect(rejected.get_by_test_id("entry-actor")).to_contain_text("token:")
    expect(console.get_by_test_id("case-pending")).to_have_text("0")
    kinds = console.get_by_test_id("timeline-entry").evaluate_all(
        "nodes => nodes.map(n => n.dataset.kind)")
    assert kinds[:2] == ["development_rejected", "development_approved"]
    assert kinds[-1] == "case_opened" and "action_launched" in kinds
    expect(console.get_by_test_id("case-letters-strip").locator("circle")).to_have_count(14)
    expect(console.get_by_test_id("new-action")).to_have_attribute(
        "href", f"/console/cases/{case_id}/actions/new")
    screenshot_for_docs(console, "console-case-timeline")
