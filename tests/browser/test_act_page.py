"""The act page in a real browser: from the action e-mail's link, pledge two letters and
confirm them per official and channel, in English, Russian and Arabic (right to left): the
action is written in English, and the campaigner translated it into Russian and Arabic
through the API; copy an official's address; without JavaScript, no copy button that
cannot work."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from campaign.demo import ua_135_10 as seed
from tests.browser.accessibility import assert_accessible
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product, unique_email
from tests.browser.supporters import confirmed_supporter, words
from tests.seed_translations import seed_translation

READERS = {  # locale: country, timezone, direction, the action's title as they read it
    "en": ("GB", "Europe/London", "ltr", seed.TITLE),
    "ru": ("RU", "Europe/Moscow", "ltr", seed_translation("ru")["title"]),
    "ar": ("EG", "Africa/Cairo", "rtl", seed_translation("ar")["title"]),
}
MINISTER, PROSECUTOR = "Minister of Internal Affairs", "General Prosecutor"


def act_page(page: Page, product: Product, locale: str) -> dict[str, Any]:
    """A supporter reading `locale` opens, from the action e-mail's link, the page of a
    freshly launched action written in English and translated into Russian and Arabic;
    returns the action."""
    email = unique_email(f"act-{locale}")
    country, timezone, _, _ = READERS[locale]
    confirmed_supporter(page, product, email, locale, country, timezone)
    action = product.launch_seed_action(
        translations={language: seed_translation(language) for language in ("ru", "ar")})
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
    expect(page.get_by_role("heading", level=1)).to_have_text(READERS[locale][3])
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
