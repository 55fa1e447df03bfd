"""Campaign e-mails carry the whole action: targets, asks, languages, deadline, stop notice."""

from __future__ import annotations

from datetime import UTC, datetime

from campaign.demo import ua_135_10 as seed
from campaign.domain.codec import to_plain
from campaign.mail.message import substitute
from campaign.mail.rendering import deadline_for, languages_phrase, render

ACTION = to_plain(seed.CONTENT)


def test_the_action_email_shows_every_target_with_salutation_address_fax_and_email() -> None:
    mail = render("action_launched", "en", {"action": ACTION})

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


def test_placeholders_are_left_for_each_recipient_with_a_key_per_part() -> None:
    mail = render("action_launched", "en", {"action": ACTION})
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
    mail = render("action_launched", "en", {"action": action})
    values = mail.substitutions({"name": "Ann", "pledge_url": "https://x/p",
                                 "deadline_local": "soon", "unsubscribe_url": "https://x/u"})

    for part in (mail.subject, substitute(mail.text, values), substitute(mail.html, values)):
        assert "-name- -pledge_url- -deadline_local- -unsubscribe_url-" in part


def test_a_title_with_line_breaks_or_control_characters_makes_a_one_line_subject() -> None:
    action = {**ACTION, "title": "JAILED\r\nBcc: all@evil.example\x00\u2028\tFOR LIFE"}

    mail = render("action_launched", "en", {"action": action})

    assert mail.subject == "URGENT ACTION 135/10: JAILED Bcc: all@evil.example FOR LIFE"


def test_a_locale_without_its_own_template_falls_back_to_its_language_then_english() -> None:
    russian = render("action_launched", "ru-KG", {"action": ACTION})
    french = render("action_launched", "fr", {"action": ACTION})

    assert russian.text.startswith("Здравствуйте")
    assert french.text.startswith(f"Dear {french.placeholders.text_key('name')},")


def test_the_stop_notice_says_to_stop_and_why() -> None:
    mail = render("action_closed", "en", {"action": ACTION, "close_reason": "released",
                                           "close_note": "Released on 14 March"})

    assert "Please STOP sending appeals" in mail.text
    assert "released — Released on 14 March" in mail.text
    assert mail.subject.startswith("STOP ACTION 135/10")


def test_the_html_body_escapes_what_the_action_says() -> None:
    action = {**ACTION, "summary": "<script>alert(1)</script>"}

    mail = render("action_launched", "en", {"action": action})

    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html


def test_the_deadline_is_shown_in_the_readers_own_timezone() -> None:
    ends = seed.DEADLINE.ends_at()

    assert ends == datetime(2010, 10, 27, 18, tzinfo=UTC)
    assert deadline_for(ends, "Europe/London") == "27 October 2010, 19:00 (Europe/London)"
    assert deadline_for(ends, "Asia/Bishkek") == "28 October 2010, 00:00 (Asia/Bishkek)"
    assert languages_phrase(["en"], False) == "English"
