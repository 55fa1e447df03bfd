"""The whole job with the console alone: a campaigner runs an urgent action of the seed's
case from a draft to its stop, while a supporter pledges and writes in another browser."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

from playwright.sync_api import Browser, Page, expect

from campaign.demo import ua_135_10 as seed
from campaign.demo import ua_135_10_ru as ru
from campaign.infra.clock import utc_now
from tests.browser.action_editor import fill_official, translate_into_russian
from tests.browser.console import CATCH_UP_MS, console_token, log_in
from tests.browser.product import Product, unique_email
from tests.browser.supporters import confirmed_supporter, words

CAMPAIGNER_EMAIL = "campaigner.journey@example.org"
MINISTER = "Minister of Internal Affairs"
PROSECUTOR = "General Prosecutor"


def draft_with_two_officials(page: Page) -> None:
    """The new-action form of the case, filled with the seed's text and two officials."""
    page.get_by_label("UA number").fill("135/10")
    page.get_by_label("Index number").fill(seed.CONTENT.index_number)
    page.get_by_label("Country (ISO code)", exact=True).fill("KG")
    page.get_by_label("Title", exact=True).fill(seed.CONTENT.title)
    page.get_by_label("Summary", exact=True).fill(seed.CONTENT.summary)
    page.get_by_label("Background", exact=True).fill(seed.CONTENT.body)
    page.get_by_label("Ask 1").fill(seed.ASKS[1])
    page.get_by_label("Timezone (IANA, e.g. Asia/Bishkek)").fill(seed.TIMEZONE)
    fill_official(page, 1, "Zarylbek Rysaliev", MINISTER, "Dear Minister",
             "Frunze Street, 469\nBishkek 720040", "pressa@mail.mvd.kg")
    page.get_by_test_id("add-target").click()
    fill_official(page, 2, "Aida Salyanova", PROSECUTOR, "Dear General Prosecutor",
             "Kievskaya Street, 116\nBishkek 720040", "info@prokuror.kg")
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("status")).to_have_text("draft")


def test_a_campaigner_runs_the_seeds_action_from_draft_to_stop_with_the_console_alone(
    page: Page, browser: Browser, product: Product, base_url: str,
) -> None:
    reader_email = unique_email("journey-reader")
    reader_context = browser.new_context(base_url=base_url)
    reader = reader_context.new_page()
    confirmed_supporter(reader, product, reader_email)

    # Sign in, find the case, start an action on it.
    _, token = console_token(product, "campaigner", CAMPAIGNER_EMAIL, name="Journey")
    log_in(page, product, token)
    page.get_by_role("link", name="Cases").click()
    page.get_by_test_id("filter-search").fill("Askarov")
    page.get_by_test_id("apply-filters").click()
    page.get_by_test_id("case-row").filter(has_text="Askarov").first \
        .get_by_test_id("open-case").click()
    page.get_by_test_id("new-action").click()

    # Draft with two officials, translate, preview in Russian, send a test to myself.
    draft_with_two_officials(page)
    action_id = page.url.split("/console/actions/")[1].split("/")[0]
    translate_into_russian(page)
    page.get_by_test_id("preview-link").click()
    page.get_by_label("Supporter's language").select_option("ru")
    page.get_by_label("Supporter's timezone").select_option("Asia/Bishkek")
    page.get_by_test_id("show-preview").click()
    expect(page.get_by_test_id("preview-subject")).to_contain_text(ru.TITLE)
    expect(page.frame_locator("[data-testid=preview-html]").locator("body")
           ).to_contain_text(ru.ASKS[1])
    send = page.get_by_test_id("test-send")
    send.scroll_into_view_if_needed()
    send.click()
    expect(page.get_by_test_id("test-sent")).to_contain_text(CAMPAIGNER_EMAIL)
    test = product.outbox.wait_for(to=CAMPAIGNER_EMAIL, subject_contains=ru.TITLE)
    assert test.subject.startswith("[TEST] ")

    # Launch, and watch the launch mailing's batches be accepted.
    page.get_by_test_id("back-to-action").click()
    page.get_by_test_id("launch").click()
    expect(page.get_by_test_id("status")).to_have_text("live")
    page.get_by_test_id("dashboard-link").click()
    dashboard_url = page.url
    page.get_by_test_id("mailings-link").click()
    status = page.get_by_test_id("mailing-status")
    for _ in range(40):  # planned on the next clock tick, then sent: a campaigner reloads
        if status.count() and status.first.inner_text() == "sent":
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.get_by_test_id("mailing-status").first).to_have_text("sent")
    expect(page.get_by_test_id("progress-batches").first).to_have_text(
        re.compile(r"^(\d+) / \1$"))

    # The supporter pledges and writes; the open dashboard shows it without reloading.
    page.goto(dashboard_url)
    confirmed = page.get_by_test_id("metric-letters-confirmed-value")
    expect(confirmed).to_have_text("0")
    page.evaluate("window.notReloaded = true")
    say = partial(words, "en")
    reader.goto(product.outbox.wait_for(to=reader_email, kind="action_launched",
                                        action_id=action_id).link(f"/act/{action_id}"))
    reader.get_by_label(say("How many letters will you write?")).fill("2")
    reader.get_by_role("button", name=say("Pledge to write")).click()
    minister = reader.get_by_role("region", name=MINISTER)
    minister.get_by_label("How").select_option(label="by e-mail")
    minister.get_by_role("button", name="Confirm this letter").click()
    expect(reader.get_by_role("status").first).to_have_text(
        "Thank you: your letter is counted.")
    expect(page.get_by_test_id("metric-supporters-value")).to_have_text("1", timeout=CATCH_UP_MS)
    expect(confirmed).to_have_text("1", timeout=CATCH_UP_MS)
    assert page.evaluate("window.notReloaded") is True

    # An update extends the deadline; the dashboard's deadline marker moves.
    before = page.get_by_test_id("marker-deadline").get_attribute("data-x")
    page.get_by_test_id("edit-action").click()
    later = (utc_now() + timedelta(days=60)).date().isoformat()
    page.get_by_label("Summary (what is new)").fill("The appeal hearing was postponed.")
    page.get_by_label("Last day appeals are wanted").fill(later)
    page.get_by_test_id("publish-update").click()
    expect(page.get_by_test_id("update-number")).to_have_text("Update 1")
    expect(page.get_by_test_id("deadline")).to_contain_text(later)
    page.get_by_test_id("dashboard-link").click()
    expect(page.get_by_test_id("marker-deadline")).not_to_have_attribute("data-x", str(before))
    expect(page.get_by_test_id("marker-deadline")).to_have_attribute(
        "data-x", re.compile(f"^{later}"))

    # Stop, after seeing what the stop cancels.
    page.get_by_test_id("edit-action").click()
    page.get_by_test_id("stop-link").click()
    page.get_by_label("Why appeals are no longer wanted").select_option("released")
    page.get_by_test_id("stop-next").click()
    assert int(page.get_by_test_id("cancel-pledges").inner_text()) == 1  # one letter still due
    expect(page.get_by_test_id("status")).to_have_count(0)
    page.get_by_test_id("stop-confirm").click()
    expect(page.get_by_test_id("status")).to_have_text("closed")
    page.get_by_test_id("dashboard-link").click()
    expect(page.get_by_test_id("metric-status")).to_contain_text("closed")
    reader.reload()
    expect(reader.get_by_label(say("How many letters will you write?"))).to_have_count(0)
    reader_context.close()
