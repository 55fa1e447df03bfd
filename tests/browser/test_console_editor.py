"""S3: the action editor in the browser: draft, translate, launch, update, preview, test
send, stop — with the console alone."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from playwright.sync_api import Page, expect

from campaign.demo import ua_135_10 as seed
from campaign.demo import ua_135_10_ru as ru
from campaign.infra.clock import utc_now
from tests.browser.accessibility import assert_accessible
from tests.browser.action_editor import fill_official, translate_into_russian
from tests.browser.console import signed_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product, unique_email
from tests.browser.supporters import confirmed_supporter, words
from tests.seed_translations import seed_translation

CAMPAIGNER_EMAIL = "campaigner.editor@example.org"


@pytest.fixture
def console(page: Page, product: Product) -> Page:
    """A page signed in as a campaigner whose token has an address of its own."""
    return signed_in(page, product, "campaigner", CAMPAIGNER_EMAIL)


def test_a_draft_in_two_languages_with_two_officials_launches_once_both_are_ready(
    console: Page, product: Product,
) -> None:
    page = console
    page.goto(product.url(f"/console/cases/{seed.CASE_ID}/actions/new"))
    page.get_by_label("UA number").fill("135/10")
    page.get_by_label("Index number").fill(seed.CONTENT.index_number)
    page.get_by_label("Country (ISO code)", exact=True).fill("KG")
    page.get_by_label("Title", exact=True).fill(seed.CONTENT.title)
    page.get_by_label("Summary", exact=True).fill(seed.CONTENT.summary)
    page.get_by_label("Background", exact=True).fill(seed.CONTENT.body)
    page.get_by_label("Ask 1").fill(seed.ASKS[1])
    page.get_by_label("Timezone (IANA, e.g. Asia/Bishkek)").fill(seed.TIMEZONE)
    fill_official(page, 1, "Zarylbek Rysaliev", "Minister of Internal Affairs",
                  "Dear Minister", "Frunze Street, 469\nBishkek 720040", "pressa@mail.mvd.kg")
    page.get_by_test_id("add-target").click()  # the page comes back with a second official
    expect(page.get_by_test_id("target-1")).to_be_visible()
    expect(page.get_by_label("Official 1 name")).to_have_value("Zarylbek Rysaliev")
    fill_official(page, 2, "Aida Salyanova", "General Prosecutor", "Dear General Prosecutor",
                  "Kievskaya Street, 116\nBishkek 720040", "info@prokuror.kg")
    assert_accessible(page)
    page.get_by_test_id("save-draft").click()

    expect(page.get_by_test_id("status")).to_have_text("draft")
    expect(page.get_by_test_id("version-status-en")).to_have_text("ready")
    translate_into_russian(page)
    expect(page.get_by_test_id("version-status-ru")).to_have_text("ready")
    page.get_by_label("Background", exact=True).fill(seed.CONTENT.body + "\n\nA correction.")
    page.get_by_test_id("save-draft").click()  # the Russian text no longer says all of it

    expect(page.get_by_test_id("version-status-ru")).to_have_text("outdated")
    expect(page.get_by_test_id("launch")).to_be_disabled()
    page.get_by_test_id("translate-ru").first.click()
    page.get_by_label("Background", exact=True).fill(ru.BODY + "\n\nИсправление.")
    page.get_by_test_id("save-translation").click()
    expect(page.get_by_test_id("version-status-ru")).to_have_text("ready")
    expect(page.get_by_test_id("launch")).to_be_enabled()
    screenshot_for_docs(page, "console-editor")
    page.get_by_test_id("launch").click()

    expect(page.get_by_test_id("status")).to_have_text("live")
    expect(page.get_by_test_id("done")).to_contain_text("Launched")


def test_update_one_with_a_new_deadline_shows_in_the_header(
    console: Page, product: Product,
) -> None:
    action_id = product.launch_seed_action()["action_id"]
    later = (utc_now() + timedelta(days=45)).date().isoformat()
    console.goto(product.url(f"/console/actions/{action_id}/edit"))
    expect(console.get_by_test_id("update-number")).to_have_count(0)
    assert_accessible(console)

    console.get_by_label("Summary (what is new)").fill("The appeal hearing was moved.")
    console.get_by_label("Last day appeals are wanted").fill(later)
    console.get_by_test_id("publish-update").click()

    expect(console.get_by_test_id("update-number")).to_have_text("Update 1")
    expect(console.get_by_test_id("deadline")).to_contain_text(later)
    expect(console.get_by_test_id("publish-update")).to_have_text("Publish update 2")


def test_a_stop_shows_what_it_cancels_before_it_happens_and_closes_the_act_page(
    console: Page, product: Product,
) -> None:
    reader = console.context.new_page()
    email = unique_email("stop")
    confirmed_supporter(reader, product, email)
    action_id = product.launch_seed_action()["action_id"]
    reader.goto(product.outbox.wait_for(to=email, kind="action_launched",
                                        action_id=action_id).link(f"/act/{action_id}"))
    say = partial(words, "en")
    reader.get_by_label(say("How many letters will you write?")).fill("1")
    reader.get_by_role("button", name=say("Pledge to write")).click()
    expect(reader.get_by_role("status").first).to_have_text(
        say("Thank you: your pledge is recorded."))

    page = console
    page.goto(product.url(f"/console/actions/{action_id}/edit"))
    page.get_by_test_id("stop-link").click()
    page.get_by_test_id("stop-next").click()  # no reason chosen: refused, asked again
    expect(page.get_by_test_id("stop-form")).to_be_visible()
    page.get_by_label("Why appeals are no longer wanted").select_option("released")
    page.get_by_test_id("stop-next").click()

    pledges = int(page.get_by_test_id("cancel-pledges").inner_text())
    assert pledges > 0
    expect(page.get_by_test_id("status")).to_have_count(0)  # nothing stopped yet
    assert_accessible(page)
    page.get_by_test_id("stop-confirm").click()

    expect(page.get_by_test_id("status")).to_have_text("closed")
    reader.reload()
    expect(reader.get_by_text(say("This action was stopped: please do not send appeals."))
           ).to_be_visible()
    expect(reader.get_by_label(say("How many letters will you write?"))).to_have_count(0)


def test_the_preview_in_russian_shows_the_russian_text_on_the_chosen_clock_and_a_test_send(
    console: Page, product: Product,
) -> None:
    on = (utc_now() + timedelta(days=30)).date().isoformat()
    action_id = product.draft_seed_action(
        {"ru": seed_translation("ru")},
        deadline={"on": on, "timezone": seed.TIMEZONE, "time": "17:00"})
    console.goto(product.url(f"/console/actions/{action_id}/edit"))
    console.get_by_test_id("preview-link").click()

    console.get_by_label("Supporter's language").select_option("ru")
    console.get_by_label("Supporter's timezone").select_option("Europe/Moscow")
    console.get_by_test_id("show-preview").click()
    console.wait_for_load_state("load")

    expect(console.get_by_test_id("preview-subject")).to_contain_text(ru.TITLE)
    text = console.get_by_test_id("preview-text")
    expect(text).to_contain_text(ru.ASKS[0])
    expect(text).to_contain_text("14:00")  # 17:00 in Bishkek is 14:00 in Moscow
    framed = console.frame_locator("[data-testid=preview-html]")
    expect(framed.locator("body")).to_contain_text(ru.TITLE)
    assert_accessible(console)
    screenshot_for_docs(console, "console-preview-ru")

    send = console.get_by_test_id("test-send")
    send.scroll_into_view_if_needed()  # below a long e-mail: clicked unscrolled, it was lost
    send.click()
    expect(console.get_by_test_id("test-sent")).to_contain_text(CAMPAIGNER_EMAIL)
    sent = product.outbox.wait_for(to=CAMPAIGNER_EMAIL, subject_contains=ru.TITLE)
    assert sent.subject.startswith("[TEST] ")
    assert sent.addresses("To") == [CAMPAIGNER_EMAIL]
    assert "14:00" in sent.text and f"/act/{action_id}?token=preview-only" in sent.text
