"""S4, the live action dashboard, in a real browser: the header, the charts and their tables
agree; a letter a supporter confirms elsewhere appears without reloading; the countdown
turns urgent under 48 hours."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from campaign.infra.clock import utc_now
from tests.browser.accessibility import assert_accessible
from tests.browser.console import CATCH_UP_MS, signed_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Api, Product, unique_email
from tests.browser.supporters import confirmed_supporter

TWO_OFFICIALS = ["minister-interior", "general-prosecutor"]
MINISTER = "Minister of Internal Affairs"


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def supporters_with_links(page: Page, product: Product, count: int) -> tuple[str, list[str]]:
    """`count` confirmed supporters and a fresh action launched to them; the action's id
    and each supporter's link to it (the act page's URL from the action e-mail)."""
    emails = [unique_email(f"dashboard-{n}") for n in range(count)]
    for email in emails:
        confirmed_supporter(page, product, email)
    action_id = product.launch_seed_action()["action_id"]
    links = [product.outbox.wait_for(to=email, kind="action_launched", action_id=action_id)
             .link(f"/act/{action_id}") for email in emails]
    return action_id, links


def as_supporter(product: Product, link: str) -> Api:
    """The API as the supporter behind an action e-mail's link may call it."""
    api = Api(product.base_url)
    api.headers["Authorization"] = f"Supporter {parse_qs(urlsplit(link).query)['token'][0]}"
    return api


def pledge(api: Api, action_id: str, targets: list[str]) -> tuple[str, str]:
    made = api.post(f"/api/v1/actions/{action_id}/pledges",
                    json={"target_ids": targets, "letters_promised": len(targets)})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body["pledge_id"], made.headers["ETag"]


def letter(api: Api, pledge_id: str, etag: str, target_id: str, channel: str) -> str:
    sent = api.post(f"/api/v1/pledges/{pledge_id}/letters", headers={"If-Match": etag},
                    json={"target_id": target_id, "channel": channel,
                          "sent_on": utc_now().date().isoformat()})
    assert sent.status_code == 201, sent.text
    return str(sent.headers["ETag"])


def seed_five_pledges_and_three_letters(page: Page, product: Product) -> tuple[str, list[str]]:
    """Five supporters pledge to two officials each; three letters are confirmed."""
    action_id, links = supporters_with_links(page, product, 5)
    channels = iter(["post", "email", "fax"])
    for n, link in enumerate(links):
        api = as_supporter(product, link)
        pledge_id, etag = pledge(api, action_id, TWO_OFFICIALS)
        for target in TWO_OFFICIALS[: 2 if n == 0 else 1 if n == 1 else 0]:
            etag = letter(api, pledge_id, etag, target, next(channels))
    return action_id, links


def bars_and_cells(page: Page, chart: str, table: str) -> tuple[dict[Any, int], dict[Any, int]]:
    bars = page.eval_on_selector_all(
        f"[data-testid={chart}] [data-testid=bar-row] rect",
        "rects => rects.map(r => [r.closest('g').dataset.name, r.dataset.series,"
        " Number(r.dataset.value)])")
    rows = page.eval_on_selector_all(
        f"[data-testid={table}] [data-testid=split-row]",
        "rows => rows.map(r => [r.dataset.name,"
        " r.querySelector('[data-testid=letters-pledged]').textContent,"
        " r.querySelector('[data-testid=letters-confirmed]').textContent])")
    cells = {(name, series): number(value) for name, pledged, confirmed in rows
             for series, value in (("pledged", pledged), ("confirmed", confirmed))}
    return {(name, series): value for name, series, value in bars}, cells


def test_the_header_the_charts_and_the_tables_show_the_same_letters(
    page: Page, product: Product,
) -> None:
    signed_in(page, product, "viewer")
    action_id, _ = seed_five_pledges_and_three_letters(page, product)

    page.goto(product.url(f"/console/actions/{action_id}"))
    expect(page.get_by_test_id("metric-letters-confirmed-value")).to_have_text(
        "3", timeout=CATCH_UP_MS)
    page.reload()  # the first view may have come before the projection counted everything

    expect(page.get_by_test_id("metric-supporters-value")).to_have_text("5")
    expect(page.get_by_test_id("metric-letters-pledged-value")).to_have_text("10")
    expect(page.get_by_test_id("metric-confirmation-rate-value")).to_have_text("30 %")
    officials = page.get_by_test_id("officials-table").get_by_test_id("split-row")
    pledged = [number(t) for t in officials.get_by_test_id("letters-pledged").all_inner_texts()]
    confirmed = [number(t) for t in
                 officials.get_by_test_id("letters-confirmed").all_inner_texts()]
    assert (sum(pledged), sum(confirmed)) == (10, 3)
    for chart, table in (("officials-chart", "officials-table"),
                         ("countries-chart", "countries-table"),
                         ("languages-chart", "languages-table")):
        bars, cells = bars_and_cells(page, chart, table)
        assert bars == cells, chart
    points = page.eval_on_selector_all("[data-testid=series-confirmed] circle",
                                       "cs => cs.map(c => Number(c.dataset.value))")
    to_date = [number(t) for t in page.get_by_test_id("confirmed-to-date").all_inner_texts()]
    assert points == to_date and to_date[-1] == 3
    expect(page.get_by_test_id("marker-launched")).to_have_count(1)
    expect(page.get_by_test_id("marker-deadline")).to_have_count(1)
    expect(page.get_by_test_id("edit-action")).to_have_count(0)  # a viewer edits nothing
    assert_accessible(page)
    screenshot_for_docs(page, "console-dashboard")


def test_a_letter_confirmed_on_the_act_page_appears_without_reloading(
    page: Page, product: Product, browser: Browser, base_url: str,
) -> None:
    signed_in(page, product, "viewer")
    action_id, links = seed_five_pledges_and_three_letters(page, product)
    page.goto(product.url(f"/console/actions/{action_id}"))
    confirmed = page.get_by_test_id("metric-letters-confirmed-value")
    expect(confirmed).to_have_text("3", timeout=CATCH_UP_MS)
    stamp = page.get_by_test_id("freshness-time").get_attribute("datetime")
    page.evaluate("window.notReloaded = true")

    supporter = browser.new_context(base_url=base_url)
    try:
        act = supporter.new_page()
        act.goto(links[2])  # pledged to two officials, confirmed nothing yet
        section = act.get_by_role("region", name=MINISTER)
        section.get_by_label("How").select_option(label="by e-mail")
        section.get_by_role("button", name="Confirm this letter").click()
        expect(act.get_by_role("status").first).to_have_text(
            "Thank you: your letter is counted.")
    finally:
        supporter.close()

    expect(confirmed).to_have_text("4", timeout=CATCH_UP_MS)
    assert page.evaluate("window.notReloaded") is True
    assert page.get_by_test_id("freshness-time").get_attribute("datetime") > str(stamp)
    expect(page.get_by_test_id("channels-table").locator("[data-name=email]")
           .get_by_test_id("letters-confirmed")).to_have_text("2")

    page.get_by_test_id("auto-refresh").uncheck()
    stopped = page.get_by_test_id("freshness-time").get_attribute("datetime")
    page.wait_for_timeout(4_000)
    assert page.get_by_test_id("freshness-time").get_attribute("datetime") == stopped


def test_a_deadline_less_than_48_hours_away_counts_down_in_hours_and_looks_urgent(
    page: Page, product: Product,
) -> None:
    signed_in(page, product, "campaigner")
    soon = (utc_now() + timedelta(hours=30)).replace(second=0, microsecond=0)
    local = soon.astimezone(ZoneInfo("Asia/Bishkek"))
    action_id = product.launch(product.draft_seed_action(deadline={
        "on": local.date().isoformat(), "time": local.strftime("%H:%M"),
        "timezone": "Asia/Bishkek"}))["action_id"]
    calm = product.launch_seed_action()["action_id"]

    page.goto(product.url(f"/console/actions/{action_id}"))

    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^(29|30) h \d+ min$"))
    expect(page.get_by_test_id("metric-deadline")).to_have_class(re.compile(r"\burgent\b"))
    expect(page.get_by_test_id("deadline-local")).to_contain_text(
        f"{local:%H:%M} in Asia/Bishkek")
    expect(page.get_by_test_id("marker-deadline")).to_have_attribute(
        "data-x", soon.isoformat())
    expect(page.get_by_test_id("edit-action")).to_have_attribute(
        "href", f"/console/actions/{action_id}/edit")

    later = local + timedelta(days=3)
    url = f"/api/v1/actions/{action_id}"
    extended = product.campaigner.post(f"{url}/updates", headers={
        "If-Match": product.campaigner.get(url).headers["ETag"]}, json={
        "number": 6, "deadline": {"on": later.date().isoformat(),
                                  "time": later.strftime("%H:%M"), "timezone": "Asia/Bishkek"}})
    assert extended.status_code == 201, extended.status_code
    # Without reloading: the next poll moves the deadline's marker and calms the countdown.
    expect(page.get_by_test_id("marker-deadline")).to_have_attribute(
        "data-x", (soon + timedelta(days=3)).isoformat(), timeout=CATCH_UP_MS)
    expect(page.get_by_test_id("marker-updated")).to_have_attribute("data-label", "Update 6")
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^4 d \d+ h$"))
    expect(page.get_by_test_id("metric-deadline")).not_to_have_class(re.compile(r"\burgent\b"))
    page.goto(product.url(f"/console/actions/{calm}"))
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^\d+ d \d+ h$"))
    expect(page.get_by_test_id("metric-deadline")).not_to_have_class(re.compile(r"\burgent\b"))
