"""From a section's website to a confirmed letter, without ever seeing the API.

A section's page on another origin frames `/join` in its language; a supporter signs up
there, confirms from the e-mail's link, receives the action a campaigner launched (through
the API, as campaigners do) in their language, opens its page from the e-mail, pledges and
confirms two letters; the action's stats count them and the language the supporter reads.
The action is UA 135/10 written in English with Russian and Arabic translations: a Russian
and an Arabic reader (right to left) receive those; a Kyrgyz reader, for whom there is no
translation, receives the action wholly in English, which the stats report as missing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect

from campaign.demo import ua_135_10 as seed
from campaign.infra import i18n
from tests.browser.accessibility import assert_accessible
from tests.browser.another_origin import another_origin
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.outbox import Email
from tests.browser.product import Api, Product, unique_email
from tests.browser.supporters import words
from tests.seed_translations import seed_translation

TRANSLATED_INTO = ("ru", "ar")
VIEWPORT = {"width": 1000, "height": 1250}
"""Tall enough for the section's page and its frame: a whole-page screenshot taller than
the window leaves parts of a frame from another site unpainted."""
LETTERS = (("Minister of Internal Affairs", "by e-mail"), ("General Prosecutor", "by fax"))


@dataclass(frozen=True)
class Reader:
    locale: str
    """The language the supporter chose; the pages before the action are in it."""
    reads: str
    """The language they receive the action in: theirs if it was translated into it."""
    name: str
    country: str
    timezone: str
    direction: str


def case_of(reader: Reader, browser_locale: str) -> Any:
    """`reader` as a test case, in a browser set to their timezone and language."""
    return pytest.param(reader, id=reader.locale, marks=pytest.mark.browser_context_args(
        timezone_id=reader.timezone, locale=browser_locale, viewport=VIEWPORT))


READERS = [
    case_of(Reader("ru", "ru", "Ольга Петрова", "RU", "Europe/Moscow", "ltr"), "ru-RU"),
    case_of(Reader("ar", "ar", "ليلى حسن", "EG", "Africa/Cairo", "rtl"), "ar-EG"),
    case_of(Reader("ky", "en", "Айгерим Садыкова", "KG", "Asia/Bishkek", "ltr"), "ky-KG"),
]


def pages(locale: str, message: str) -> str:
    """`message` as the pages say it in `locale`."""
    return words(locale, message)


def mail(locale: str, message: str) -> str:
    """`message` as the e-mails say it in `locale` (the `mail` catalogue, compiled)."""
    return i18n.translations(locale, "mail").gettext(message)


def text_in(language: str) -> dict[str, Any]:
    """The action's title, summary, body, asks and additional information in `language`."""
    if language == "en":
        return {"title": seed.TITLE, "summary": seed.SUMMARY, "body": seed.BODY,
                "asks": list(seed.ASKS), "additional_information": seed.ADDITIONAL_INFORMATION}
    return seed_translation(language)


def section_page(join_url: str) -> str:
    """A section's page with the sign-up form framed, as docs/embedding.md shows it."""
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Bishkek group</title></head><body><main><h1>Act with us</h1>"
            f'<iframe src="{join_url}" title="Sign up for urgent actions" width="640" '
            'height="1150"></iframe></main></body></html>')


def stats(api: Api, action_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/actions/{action_id}/stats")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stats_once_counted(api: Api, action_id: str, letters: int,
                       timeout: float = 30) -> dict[str, Any]:
    """The action's stats once they count `letters` (the clock counts letters within a
    second of their confirmation)."""
    deadline = time.monotonic() + timeout
    while (body := stats(api, action_id))["letters"] != letters:
        assert time.monotonic() < deadline, f"stats count {body['letters']} letters: {body}"
        time.sleep(0.2)
    return body


def plus_one(counts: dict[str, int], key: str) -> dict[str, int]:
    return {**counts, key: counts.get(key, 0) + 1}


@pytest.mark.parametrize("reader", READERS)
def test_a_supporter_goes_from_a_sections_website_to_confirmed_letters_in_their_language(
    page: Page, product: Product, reader: Reader,
) -> None:
    locale, reads, shot = reader.locale, reader.reads, f"journey-{reader.locale}"
    email = unique_email(f"journey-{locale}")
    # A campaigner drafts the action and its translations; who would receive it, before:
    action_id = product.draft_seed_action(
        translations={language: seed_translation(language) for language in TRANSLATED_INTO})
    before = stats(product.campaigner, action_id)

    # On the section's website, in the frame: sign up in their language.
    with another_origin(section_page(product.url(f"/join?lang={locale}"))) as section:
        page.goto(section)
        frame = page.locator("iframe").element_handle().content_frame()
        assert isinstance(frame, Frame)
        expect(frame.locator("html")).to_have_attribute("lang", locale)
        expect(frame.locator("html")).to_have_attribute("dir", reader.direction)
        expect(frame.get_by_label(pages(locale, "Language of your e-mails"), exact=True)
               ).to_have_value(locale)
        expect(frame.get_by_label(pages(locale, "Your timezone"), exact=True)
               ).to_have_value(reader.timezone)  # the browser's, with JavaScript on
        frame.get_by_label(pages(locale, "E-mail address"), exact=True).fill(email)
        frame.get_by_label(pages(locale, "Your name"), exact=True).fill(reader.name)
        frame.get_by_label(pages(locale, "Country where you live"), exact=True
                           ).select_option(reader.country)
        frame.get_by_role("checkbox").check()
        assert_accessible(frame)
        screenshot_for_docs(page, f"{shot}-1-join")
        frame.get_by_role("button", name=pages(locale, "Sign up"), exact=True).click()
        expect(frame.get_by_role("heading", level=1)).to_have_text(
            pages(locale, "Check your inbox"))
        assert page.url == section
        assert_accessible(frame)
        screenshot_for_docs(page, f"{shot}-2-sent")

    # From the confirmation e-mail's link: confirm, in their language.
    page.goto(product.outbox.wait_for(to=email, kind="signup_confirmation").link("/confirm/"))
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("html")).to_have_attribute("dir", reader.direction)
    assert_accessible(page)
    page.get_by_role("button", name=pages(locale, "Yes, send me urgent actions")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        pages(locale, "Subscription confirmed"))
    assert_accessible(page)
    screenshot_for_docs(page, f"{shot}-3-confirmed")

    # The campaigner launches; the e-mail comes in the language the supporter reads.
    product.launch(action_id)
    launched = product.outbox.wait_for(to=email, kind="action_launched", action_id=action_id)
    text = text_in(reads)
    assert_one_language(launched, reads, reader.locale, text)
    mail_client = page.context.new_page()  # a blank page: no policy of ours applies to it
    mail_client.set_content(launched.html)
    expect(mail_client.locator("html")).to_have_attribute("lang", reads)
    expect(mail_client.locator("html")).to_have_attribute("dir", i18n.direction(reads))
    for written in (seed.MINISTER.fax, seed.PROSECUTOR.address_lines[0]):
        assert shown_left_to_right(mail_client, written), f"{written!r} shown out of order"
    assert_accessible(mail_client)
    screenshot_for_docs(mail_client, f"{shot}-4-email")
    mail_client.close()

    # Its link opens the act page in that language, officials as written.
    page.goto(launched.link(f"/act/{action_id}"))
    expect(page.locator("html")).to_have_attribute("lang", reads)
    expect(page.locator("html")).to_have_attribute("dir", i18n.direction(reads))
    expect(page.get_by_role("heading", level=1)).to_have_text(text["title"])
    expect(page.locator("ul.asks > li")).to_have_text(text["asks"])
    for target in seed.TARGETS:
        region = page.get_by_role("region", name=target.title, exact=False)
        address = region.locator("address").inner_text().splitlines()
        assert address == [target.name, target.title, *target.address_lines], address
        if target.email:
            expect(region.get_by_role("link", name=target.email)).to_be_visible()
    assert_accessible(page)

    # Pledge two letters, then confirm one to each of two officials, by two channels.
    say = partial(words, reads)
    page.get_by_label(say("How many letters will you write?")).fill("2")
    page.get_by_role("button", name=say("Pledge to write")).click()
    expect(page.get_by_role("status").first).to_have_text(
        say("Thank you: your pledge is recorded."))
    for official, channel in LETTERS:
        region = page.get_by_role("region", name=official)
        region.get_by_label(say("How")).select_option(label=say(channel))
        region.get_by_role("button", name=say("Confirm this letter")).click()
        expect(page.get_by_role("status").first).to_have_text(
            say("Thank you: your letter is counted."))
    expect(page.get_by_text(say("Letters confirmed: %(confirmed)s of %(promised)s",
                                confirmed=i18n.number(2, reads),
                                promised=i18n.number(2, reads)))).to_be_visible()
    assert_accessible(page)
    screenshot_for_docs(page, f"{shot}-5-act")

    # The stats count the letters, and the reader under the language they receive.
    after = stats_once_counted(product.campaigner, action_id, letters=2)
    letters = {t["target_id"]: t["letters"] for t in after["targets"]}
    assert letters == {"minister-interior": 1, "general-prosecutor": 1, "president": 0}
    assert after["pledges"] == 1 and after["pledges_by_status"] == {"fulfilled": 1}
    assert after["languages"] == plus_one(before["languages"], reads)
    missing = before["missing_translations"]
    assert after["missing_translations"] == (missing if reads == locale
                                             else plus_one(missing, locale))


def shown_left_to_right(page: Page, written: str) -> bool:
    """True when `written` (an official's fax number, an address line) is shown on the page
    as it is written: its first word left of its last, on one line, whatever the direction
    of the text around it (in right-to-left text "+996 312 68 20 44" can read
    "44 20 68 312 996+", and "72, Orozbekova Street" "Orozbekova Street ,72")."""
    first, last = written.split()[0], written.split()[-1]
    placed: list[dict[str, float]] | None = page.evaluate("""([written, first, last]) => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, at = node.data.indexOf(written);
            if (at < 0) continue;
            const box = (start, length) => {
                const range = document.createRange();
                range.setStart(node, start);
                range.setEnd(node, start + length);
                const rect = range.getBoundingClientRect();
                return {left: rect.left, top: rect.top};
            };
            return [box(at, first.length), box(at + written.length - last.length, last.length)];
        }
        return null;
    }""", [written, first, last])
    assert placed is not None, f"{written!r} is not on the page"
    return placed[0]["top"] == placed[1]["top"] and placed[0]["left"] < placed[1]["left"]


def assert_one_language(launched: Email, reads: str, locale: str, text: dict[str, Any]) -> None:
    """The launch e-mail is wholly in `reads`: subject, text and HTML, content and chrome;
    none of it in the supporter's `locale` when the action was not translated into it."""
    subject = mail(reads, "URGENT ACTION %(ua)s: %(title)s") % {
        "ua": seed.UA_NUMBER, "title": text["title"]}
    assert launched.subject == subject
    assert f'<html lang="{reads}" dir="{i18n.direction(reads)}">' in launched.html
    chrome = [mail(reads, m) for m in ("ADDITIONAL INFORMATION",
                                       "You receive this because you subscribed to urgent "
                                       "actions.")]
    content = [text["title"], text["summary"], *text["body"].split("\n\n"), *text["asks"],
               *text["additional_information"].split("\n\n")]
    written = [*(line for target in seed.TARGETS for line in target.address_lines),
               seed.MINISTER.salutation]  # officials stay as written
    for part in (launched.text, launched.html):
        for expected in (*chrome, *content, *written):
            assert expected in part, f"{expected!r} not in the {reads} e-mail:\n{part}"
    if locale != reads:
        for message in ("ADDITIONAL INFORMATION",
                        "You receive this because you subscribed to urgent actions."):
            assert mail(locale, message) not in launched.text + launched.html
