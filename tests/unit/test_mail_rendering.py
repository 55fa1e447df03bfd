"""Campaign e-mails carry the whole action (targets, asks, languages, deadline, stop notice),
each wholly in one of the shipped languages, with the text and HTML parts saying the same."""

from __future__ import annotations

import re
from typing import Any

import pytest
from babel.messages.pofile import read_po

from campaign.demo import ua_135_10 as seed
from campaign.domain.codec import to_plain
from campaign.domain.mailing import MailingKind
from campaign.infra import i18n
from campaign.mail.message import substitute
from campaign.mail.rendering import (
    SLOTS,
    SUBJECTS,
    Rendered,
    Slot,
    fallback_name,
    languages_phrase,
    reader_deadline,
    render,
)
from tests.mail_reading import html_language, html_text

ACTION = to_plain(seed.CONTENT)
KINDS: tuple[MailingKind, ...] = tuple(SUBJECTS)
DATE_ONLY = {**ACTION, "deadline": {"on": "2027-01-20", "timezone": "Asia/Bishkek"}}
MANAGE_PAGE = "https://ua.example.org/manage?lang=en"
WITH_A_TIME = {**ACTION, "deadline": {"on": "2027-01-20", "timezone": "Asia/Bishkek",
                                      "time": "17:00:00"}}
TRICKY: dict[Slot, str] = {
    "name": "Ann & <Bob> \"O'Neil\"", "unsubscribe_url": "https://x.example/u?a=1&b=2",
    "confirm_url": "https://x.example/c?t=<t>", "manage_url": "https://x.example/m?a=1&b=2",
    "pledge_url": "https://x.example/p?a=1&b=2",
    "deadline_local": "20 January 2027, 12:00 (Central European Standard Time)",
}


def context(kind: MailingKind, action: dict[str, Any] | None = None) -> dict[str, Any]:
    """What composing hands `render` for `kind`, with the seed UA 135/10 as the action."""
    if kind in ("signup_confirmation", "manage_link"):
        return {}
    return {"action": action or ACTION, "manage_page": MANAGE_PAGE,
            "update_number": seed.UPDATE_NUMBER,
            "close_reason": "released", "close_note": "Released on 14 March",
            "development": {"summary": seed.SUPREME_COURT_HEARING.summary,
                            "occurred": seed.SUPREME_COURT_HEARING.occurred}}


def as_read(mail: Rendered, values: dict[Slot, str] = TRICKY) -> tuple[str, str]:
    """The text and HTML parts one recipient receives."""
    found = mail.substitutions(values)
    return substitute(mail.text, found), substitute(mail.html, found)


def without_keys(mail: Rendered) -> str:
    """The text with this rendering's random keys made comparable with another's."""
    return mail.text.replace(mail.placeholders.nonce, "nonce")


def english_chrome(locale: str) -> list[str]:
    """The English words of every message `locale` translates differently: the pieces of
    each message id between its placeholders, long enough not to be a word of the content."""
    path = i18n.TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "mail.po"
    with path.open("rb") as file:
        catalogue = read_po(file, locale=locale, domain="mail")
    pieces = (piece.strip() for message in catalogue if message.id and message.id != message.string
              for piece in re.split(r"%\(\w+\)s", str(message.id)))
    return [piece for piece in pieces if len(piece) >= 10]


# The whole action, in English


def test_the_action_email_shows_every_target_with_salutation_address_fax_and_email() -> None:
    mail = render("action_launched", "en", {"action": ACTION, "manage_page": MANAGE_PAGE})

    for target in seed.TARGETS:
        assert target.name in mail.text and target.fax in mail.text
        assert all(line in mail.text for line in target.address_lines)
    assert "Salutation: Dear Minister" in mail.text
    assert "Email: pressa@mail.mvd.kg" in mail.text
    assert mail.text.index("And copies to:") < mail.text.index("Roza Otunbaeva")
    assert all(ask in mail.text for ask in seed.ASKS)
    assert "in Russian, Kyrgyz, English or your own language" in mail.text
    assert "diplomatic representatives" in mail.text
    assert mail.subject == "URGENT ACTION 135/10: HUMAN RIGHTS DEFENDER JAILED FOR LIFE"


def test_the_stop_notice_says_to_stop_and_why() -> None:
    mail = render("action_closed", "en", {"action": ACTION, "manage_page": MANAGE_PAGE,
                                           "close_reason": "released",
                                           "close_note": "Released on 14 March"})

    assert "Please STOP sending appeals" in mail.text
    assert "Why: released — Released on 14 March" in mail.text
    assert mail.subject.startswith("STOP ACTION 135/10")


# Placeholders and encoding


def test_placeholders_are_left_for_each_recipient_with_a_key_per_part() -> None:
    mail = render("action_launched", "en", {"action": WITH_A_TIME, "manage_page": MANAGE_PAGE})
    keys = mail.placeholders

    for slot in ("name", "deadline_local", "pledge_url", "unsubscribe_url"):
        assert keys.text_key(slot) in mail.text and keys.text_key(slot) not in mail.html
        assert keys.html_key(slot) in mail.html and keys.html_key(slot) not in mail.text


def test_each_rendering_draws_keys_nobody_can_spell_in_advance() -> None:
    first, second = (render("signup_confirmation", "en", {}) for _ in range(2))

    assert first.placeholders.text_key("name") != second.placeholders.text_key("name")
    assert len(first.placeholders.nonce) == 32  # 128 random bits, in hex
    assert "-name-" not in substitute(first.text, first.substitutions({"name": "x"}))


def test_a_value_goes_in_as_it_is_for_text_and_escaped_for_html() -> None:
    mail = render("signup_confirmation", "en", {})
    values = mail.substitutions({"name": "<b>Ann & Bob</b>", "confirm_url": "https://x/?a=1&b=2"})

    assert "Dear <b>Ann & Bob</b>," in substitute(mail.text, values)
    html = substitute(mail.html, values)
    assert "Dear &lt;b&gt;Ann &amp; Bob&lt;/b&gt;," in html
    assert "https://x/?a=1&amp;b=2" in html and "<b>" not in html


def test_campaigner_text_spelling_a_placeholder_stays_as_written() -> None:
    action = {**ACTION, "title": "-name- -pledge_url- -deadline_local- -unsubscribe_url-"}
    mail = render("action_launched", "en", {"action": action, "manage_page": MANAGE_PAGE})
    values = mail.substitutions({"name": "Ann", "pledge_url": "https://x/p",
                                 "deadline_local": "soon", "unsubscribe_url": "https://x/u"})

    for part in (mail.subject, substitute(mail.text, values), substitute(mail.html, values)):
        assert "-name- -pledge_url- -deadline_local- -unsubscribe_url-" in part


def test_a_title_with_line_breaks_or_control_characters_makes_a_one_line_subject() -> None:
    action = {**ACTION, "title": "JAILED\r\nBcc: all@evil.example\x00\u2028\tFOR LIFE"}

    mail = render("action_launched", "en", {"action": action, "manage_page": MANAGE_PAGE})

    assert mail.subject == "URGENT ACTION 135/10: JAILED Bcc: all@evil.example FOR LIFE"


def test_the_html_body_escapes_what_the_action_says() -> None:
    action = {**ACTION, "summary": "<script>alert(1)</script>"}

    mail = render("action_launched", "en", {"action": action, "manage_page": MANAGE_PAGE})

    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html


# One language per e-mail, the text and HTML parts alike


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", [DATE_ONLY, WITH_A_TIME], ids=["date-only", "with-a-time"])
def test_the_html_part_says_what_the_text_part_says_and_declares_its_language(
    kind: MailingKind, locale: str, action: dict[str, Any],
) -> None:
    mail = render(kind, locale, context(kind, action))

    text, html = as_read(mail)

    assert html_text(html) == text
    assert html_language(html) == (locale, i18n.direction(locale))
    assert mail.locale == locale


@pytest.mark.parametrize("locale", [locale for locale in i18n.LOCALES if locale != "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_translated_email_has_no_english_words_of_its_own(kind: MailingKind,
                                                            locale: str) -> None:
    """The action's content may be English until it is translated; the e-mail's own words
    (greeting, headings, labels, links, subject) are the reader's."""
    mail = render(kind, locale, context(kind))
    english = render(kind, "en", context(kind))
    chrome = [piece for piece in english_chrome(locale) if piece in english.text + english.subject]

    left = [piece for piece in chrome if piece in mail.text + mail.subject]

    assert chrome and not left, f"{kind} in {locale} still says {left}"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_locales_launch_email_carries_the_whole_action(locale: str) -> None:
    mail = render("action_launched", locale, {"action": ACTION, "manage_page": MANAGE_PAGE})

    for part in (seed.SUMMARY, seed.BODY, seed.ADDITIONAL_INFORMATION, *seed.ASKS):
        assert part in mail.text
    for target in seed.TARGETS:
        assert target.name in mail.text and target.fax in mail.text


def test_an_email_to_a_language_not_shipped_is_wholly_english_and_says_so() -> None:
    for kind in KINDS:
        german = render(kind, "de", context(kind))
        english = render(kind, "en", context(kind))

        assert without_keys(german) == without_keys(english)
        assert german.subject == english.subject
        assert html_language(german.html) == ("en", "ltr")


def test_a_regional_tag_gets_its_language() -> None:
    mail = render("signup_confirmation", "ru-KG", {})

    assert mail.text.startswith("Здравствуйте,")
    assert html_language(mail.html) == ("ru", "ltr")


def test_arabic_is_written_right_to_left() -> None:
    mail = render("action_launched", "ar", {"action": ACTION, "manage_page": MANAGE_PAGE})

    assert html_language(mail.html) == ("ar", "rtl")
    assert mail.subject.startswith("تحرك عاجل 135/10")


def test_in_right_to_left_text_fax_numbers_and_latin_address_lines_read_as_written() -> None:
    arabic = render("action_launched", "ar", {"action": ACTION, "manage_page": MANAGE_PAGE})
    english = render("action_launched", "en", {"action": ACTION, "manage_page": MANAGE_PAGE})

    isolated = f"\u2066{seed.MINISTER.fax}\u2069"  # else shown "44 20 68 312 996+"
    assert isolated in arabic.text and isolated in arabic.html
    assert "\u2066" not in english.text  # nothing invisible where nothing needs it
    assert "unicode-bidi: plaintext" in arabic.html  # "72, Orozbekova Street" stays so


# Dates, deadlines, numbers and languages as the reader writes them


def test_a_russian_email_writes_dates_and_language_names_in_russian() -> None:
    launch = render("action_launched", "ru", {"action": ACTION, "manage_page": MANAGE_PAGE})
    news = render("case_development", "ru", context("case_development"))

    assert "НЕ ПОЗДНЕЕ 27 октября 2010\u202fг. АДРЕСАТАМ:" in launch.text
    assert "язык: русский, киргизский, английский или ваш родной язык" in launch.text
    assert "October" not in launch.text + news.text
    assert "Когда: 13 мая 2020\u202fг., 14:00" in news.text


def test_a_date_only_deadline_is_that_day_for_every_reader() -> None:
    english = render("action_launched", "en", {"action": DATE_ONLY, "manage_page": MANAGE_PAGE})
    russian = render("pledge_reminder", "ru", {"action": DATE_ONLY, "manage_page": MANAGE_PAGE})

    assert "PLEASE SEND APPEALS BY 20 January 2027 TO:" in english.text
    assert "не позднее 20 января 2027\u202fг." in russian.text
    for mail in (english, russian):
        assert mail.placeholders.text_key("deadline_local") not in mail.text
        assert "21 January" not in mail.text and "00:00" not in mail.text


def test_a_deadline_with_a_time_is_left_for_each_readers_clock() -> None:
    mail = render("case_development", "en", context("case_development", WITH_A_TIME))
    key = mail.placeholders.text_key("deadline_local")

    assert f"please send appeals before {key}." in mail.text
    assert reader_deadline(WITH_A_TIME, "Europe/Paris", "en") == (
        "20 January 2027, 12:00 (Central European Standard Time)")
    assert reader_deadline({**WITH_A_TIME, "deadline": {**WITH_A_TIME["deadline"],
                                                        "time": "17:00"}},
                           "Asia/Bishkek", "fr").startswith("20 janvier 2027, 17:00")


def test_the_update_number_and_the_appeal_languages_follow_the_reader() -> None:
    arabic = render("action_updated", "ar", context("action_updated"))
    kyrgyz = render("action_launched", "ky", {"action": ACTION, "manage_page": MANAGE_PAGE})

    assert arabic.subject.startswith("التحديث 5 للتحرك العاجل 135/10")
    assert "الروسية أو القيرغيزية أو الإنجليزية أو لغتك الخاصة" in arabic.text
    assert "орусча, кыргызча, англисче же өз тилиңизде" in kyrgyz.text
    assert languages_phrase(["en"], False) == "English"


def test_someone_without_a_name_is_greeted_in_the_emails_language() -> None:
    assert fallback_name("en") == "friend"
    assert fallback_name("ru") == "друг"
    assert fallback_name("de") == "friend"


def test_every_slot_a_template_uses_is_one_composing_fills() -> None:
    for kind in KINDS:
        mail = render(kind, "en", context(kind, WITH_A_TIME))
        used = {slot for slot in SLOTS if mail.placeholders.text_key(slot) in mail.text}
        assert "name" in used and used <= set(TRICKY)


@pytest.mark.parametrize("kind", ["action_launched", "action_updated", "action_closed",
                                  "case_development", "pledge_reminder"])
def test_every_campaign_email_says_where_to_change_choices_or_erase_data(
        kind: MailingKind) -> None:
    """The page that e-mails a short-lived manage link: the footer carries no token."""
    mail = render(kind, "ru", context(kind))
    text, html = as_read(mail)
    assert "Изменить язык или выбор акций" in text
    assert MANAGE_PAGE in text and MANAGE_PAGE in html
