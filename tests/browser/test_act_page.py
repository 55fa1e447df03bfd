"""The act page in a real browser: from the action e-mail's link, pledge two letters and
confirm them per official and channel, in English, Russian and Arabic (right to left);
copy an official's address; without JavaScript, no copy button that cannot work."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product, unique_email
from tests.browser.supporters import confirmed_supporter, words, written_in

READERS = {  # locale: country, timezone, direction
    "en": ("GB", "Europe/London", "ltr"),
    "ru": ("RU", "Europe/Moscow", "ltr"),
    "ar": ("EG", "Africa/Cairo", "rtl"),
}
MINISTER, PROSECUTOR = "Minister of Internal Affairs", "General Prosecutor"


def act_page(page: Page, product: Product, locale: str) -> dict[str, Any]:
    """A supporter reading `locale` opens the page of a freshly launched action written in
    it, from the action e-mail's link; returns the action."""
    email = unique_email(f"act-{locale}")
    country, timezone, _ = READERS[locale]
    confirmed_supporter(page, product, email, locale, country, timezone)
    action = product.launch_seed_action()
    written_in(product, action, locale)
    launched = product.outbox.wait_for(to=email, kind="action_launched",
                                       action_id=action["action_id"])
    page.goto(launched.link(f"/act/{action['action_id']}"))
    return action


@pytest.mark.parametrize("locale", READERS)
def test_a_supporter_pledges_and_confirms_two_letters_in_their_language(
    page: Page, product: Product, context: BrowserContext, locale: str,
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    act_page(page, product, locale)
    say = partial(words, locale)

    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("html")).to_have_attribute("dir", READERS[locale][2])
    assert_accessible(page)
    page.get_by_label(say("How many letters will you write?")).fill("2")
    page.get_by_role("button", name=say("Pledge to write")).click()
    expect(page.get_by_role("status").first).to_have_text(
        say("Thank you: your pledge is recorded."))

    for official, channel in ((MINISTER, "by e-mail"), (PROSECUTOR, "by fax")):
        section = page.get_by_role("region", name=official)
        section.get_by_label(say("How")).select_option(label=say(channel))
        section.get_by_role("button", name=say("Confirm this letter")).click()
        expect(page.get_by_role("status").first).to_have_text(
            say("Thank you: your letter is counted."))

    expect(page.get_by_text(say("Letters confirmed: %(confirmed)s of %(promised)s",
                                confirmed="2", promised="2"))).to_be_visible()
    minister = page.get_by_role("region", name=MINISTER)
    minister.get_by_role("button", name=say("Copy address")).click()
    expect(minister.get_by_role("status")).to_have_text(say("Address copied"))
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.splitlines()[0] == "Zarylbek Rysaliev" and "Frunze Street, 469" in copied
    assert_accessible(page)
    screenshot_for_docs(page, f"act-{locale}")


def test_without_javascript_the_page_works_and_shows_no_copy_button(
    browser: Browser, product: Product, base_url: str,
) -> None:
    scripted = browser.new_context(base_url=base_url)
    plain = browser.new_context(base_url=base_url, java_script_enabled=False)
    try:
        page = scripted.new_page()
        act_page(page, product, "en")
        without = plain.new_page()
        without.goto(page.url)

        expect(without.get_by_role("button", name="Copy address")).to_have_count(0)
        without.get_by_label("How many letters will you write?").fill("1")
        without.get_by_role("button", name="Pledge to write").click()
        expect(without.get_by_role("status").first).to_have_text(
            "Thank you: your pledge is recorded.")
        expect(page.get_by_role("button", name="Copy address")).to_have_count(3)
    finally:
        scripted.close()
        plain.close()
